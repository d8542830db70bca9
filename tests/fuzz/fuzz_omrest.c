/*
 * fuzz_omrest.c -- libFuzzer target for the OpenMetadata response parser
 * (host-api/src/omrest_json.c): the bytes are a response body. It is parsed, walked the way
 * the metadata-rest sink reads answers (id, fullyQualifiedName, version, data[], paging.after,
 * code/message of an error), written back through a generator, and the output parsed again:
 * it must parse, because it came from a tree. Any crash, leak or sanitizer report is a bug.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host-api/src/omrest_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_entity(yajl_val v) {
  const char *keys[] = {"id", "name", "fullyQualifiedName", "version", "href", "after", "code",
                        "message"};
  for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
    const char *s = host_json_str(v, keys[k]);
    if (s)
      (void)strlen(s);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[256];
  yajl_val root = host_json_parse((const char *)data, size, err, sizeof err);
  if (!root) {
    (void)strlen(err);
    return 0;
  }
  read_entity(root);
  read_entity(host_json_get(root, "paging"));
  yajl_val list = host_json_get(root, "data");
  if (YAJL_IS_ARRAY(list))
    for (size_t i = 0; i < list->u.array.len; i++)
      read_entity(list->u.array.values[i]);

  yajl_gen g = yajl_gen_alloc(NULL);
  if (g && host_json_gen_value(g, root) == yajl_gen_status_ok) {
    char *text = host_json_gen_take(g);
    if (text) {
      yajl_val again = host_json_parse(text, strlen(text), err, sizeof err);
      if (!again)
        abort(); /* the generator wrote what the parser refuses */
      yajl_tree_free(again);
      free(text);
    }
  }
  if (g)
    yajl_gen_free(g);
  yajl_tree_free(root);
  return 0;
}
