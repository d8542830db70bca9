/*
 * omrest_json.h -- small helpers over yajl's tree and generator used by the metadata-rest sink
 * (and by om-sim): member lookup, parsing a length-delimited text, and writing a parsed value
 * back through a generator.
 */
#ifndef HOST_OMREST_JSON_H
#define HOST_OMREST_JSON_H

#include <stddef.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

/* The member `key` of object `obj`, or NULL (also when obj is not an object). Borrowed. */
yajl_val host_json_get(yajl_val obj, const char *key);

/* The string member `key` of `obj`, or NULL when absent or not a string. Borrowed. */
const char *host_json_str(yajl_val obj, const char *key);

/* The deepest nesting host_json_parse accepts: far beyond any OpenMetadata answer or entity. */
#define HOST_JSON_MAX_DEPTH 256

/* Parses len bytes of text (not NUL-terminated). Returns the tree (free with yajl_tree_free)
 * or NULL with a message in err; text nested deeper than HOST_JSON_MAX_DEPTH is refused
 * before parsing ("nested deeper than 256 levels"). */
yajl_val host_json_parse(const char *text, size_t len, char *err, size_t err_size);

/* Writes v through g; numbers keep their original text. Returns yajl_gen_status_ok or the
 * generator's error. */
yajl_gen_status host_json_gen_value(yajl_gen g, yajl_val v);

/* Writes a NUL-terminated string. */
yajl_gen_status host_json_gen_str(yajl_gen g, const char *s);

/* Copies the generator's output into a malloc'd NUL-terminated string (NULL on OOM). */
char *host_json_gen_take(yajl_gen g);

#endif
