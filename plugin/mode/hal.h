/*
 * hal.h -- a streaming extractor for Mode's HAL+JSON bodies. Bytes are fed as curl delivers
 * them into yajl's callback parser; only the requested fields of each item are kept, so a
 * 5 MB chart body costs a few strings, not 5 MB. Knows JSON paths, not what a report is.
 *
 * Paths are dotted keys relative to one item, "[]" marking array elements:
 *   "token", "view_vegas.title", "_links.share.href", "imported_datasets[].token".
 * "**" stands for one or more keys or "[]" in between: "view_vegas.**.formula" is every
 * `formula` anywhere under `view_vegas` (each value stored, in document order).
 * A spec with list "reports" yields one record per element of `_embedded.reports[]`; a spec
 * with list NULL yields one record for the root object.
 */
#ifndef MODE_HAL_H
#define MODE_HAL_H

#include <stddef.h>

struct mode_hal_spec {
  /* Name under _embedded, or NULL for the root object. A name written "/name" is the root's
   * own `name` list (Mode's Discovery API envelope), whose paging fields are kept apart: see
   * mode_hal_take_envelope. */
  const char *list;
  const char *const *fields; /* item-relative paths */
  size_t n_fields;
};

/* The fields of the envelope record of a "/name" list, in this order. */
enum { MODE_HAL_ENV_NEXT, MODE_HAL_ENV_PAGES, MODE_HAL_ENV_N };
extern const char *const mode_hal_envelope[MODE_HAL_ENV_N]; /* "_links.next_page.href", ... */

/* One field's values: strings as unescaped text, numbers as written, booleans as
 * "true"/"false"; JSON null is not stored. Usually one value; several for "[]" paths. */
struct mode_hal_value {
  char **v; /* owned */
  size_t n;
  int had_nul; /* a string held \u0000: stored with U+FFFD instead, never cut short */
};

/* One extracted item: fields[i] answers spec->fields[i]. */
struct mode_hal_record {
  struct mode_hal_value *fields; /* owned, n_fields long */
  size_t n_fields;
};

struct mode_hal_parser;

/* Creates a parser for spec (which must outlive it); values longer than max_value bytes make
 * the body malformed. Returns NULL on OOM. */
struct mode_hal_parser *mode_hal_parser_new(const struct mode_hal_spec *spec, size_t max_value);
/* Feeds bytes. Returns 0, or -1 once the body is known to be malformed (see error). */
int mode_hal_feed(struct mode_hal_parser *p, const char *buf, size_t len);
/* Ends the body. Returns 0 when the whole body was valid JSON of the expected shape, -1
 * otherwise. For a list spec the shape is: a JSON object whose `_embedded`, when present, is
 * an object whose `<list>`, when present, is an array. A list that is null, a string, a
 * number or an object is a malformed body, never an empty listing. An element of the list
 * that is not an object yields a record with no fields (so the caller sees an item without
 * a token, not nothing). */
int mode_hal_finish(struct mode_hal_parser *p);
/* A one-line reason when feed/finish failed; never NULL. */
const char *mode_hal_error(const struct mode_hal_parser *p);
/* Whether `_embedded.<list>` was present as an array (list specs only). */
int mode_hal_list_seen(const struct mode_hal_parser *p);
/* Moves the records out (caller owns them; free with mode_hal_records_free). */
void mode_hal_take(struct mode_hal_parser *p, struct mode_hal_record **records, size_t *n);
/* Moves the envelope record out: the mode_hal_envelope values of a "/name" list, owned by the caller (free with
 * mode_hal_records_free(rec, 1)); NULL when the spec has none or on OOM. */
struct mode_hal_record *mode_hal_take_envelope(struct mode_hal_parser *p);
void mode_hal_parser_free(struct mode_hal_parser **p);

/* First value of field i, or NULL when absent/null. */
const char *mode_hal_get(const struct mode_hal_record *r, size_t i);
void mode_hal_records_free(struct mode_hal_record *records, size_t n);

#endif
