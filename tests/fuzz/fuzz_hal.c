/*
 * fuzz_hal.c -- libFuzzer target for the Mode connector's HAL+JSON reader (plugin/mode/hal.c):
 * the bytes are a response body, fed in pieces as curl would hand them over. The first byte
 * picks the spec (a listing of reports, of queries, or one root object) and the second the
 * piece size, so chunk boundaries fall everywhere, including inside strings and escapes.
 * Every record taken out is read back. Any crash, leak or sanitizer report is a bug.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "plugin/mode/hal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const report_fields[] = {"token", "name", "_links.share.href",
                                            "imported_datasets[].token", "query_count"};
static const char *const query_fields[] = {"token", "raw_query", "data_source_id",
                                           "_links.creator.href"};
static const struct mode_hal_spec specs[] = {
    {.list = "reports", .fields = report_fields, .n_fields = 5},
    {.list = "queries", .fields = query_fields, .n_fields = 4},
    {.list = NULL, .fields = report_fields, .n_fields = 5},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2)
    return 0;
  const struct mode_hal_spec *spec = &specs[data[0] % 3];
  size_t piece = (size_t)data[1] % 64 + 1;
  const char *body = (const char *)data + 2;
  size_t len = size - 2;
  /* A small value cap, so the "value too long" path is reached too. */
  struct mode_hal_parser *p = mode_hal_parser_new(spec, data[1] & 0x80 ? 64 : 1 << 20);
  if (!p)
    return 0;
  int rc = 0;
  for (size_t off = 0; off < len && rc == 0; off += piece)
    rc = mode_hal_feed(p, body + off, len - off < piece ? len - off : piece);
  if (rc == 0)
    rc = mode_hal_finish(p);
  (void)strlen(mode_hal_error(p));
  (void)mode_hal_list_seen(p);
  struct mode_hal_record *records = NULL;
  size_t n = 0;
  mode_hal_take(p, &records, &n);
  for (size_t r = 0; r < n; r++)
    for (size_t f = 0; f < records[r].n_fields; f++) {
      const char *v = mode_hal_get(&records[r], f);
      if (v)
        (void)strlen(v);
    }
  mode_hal_records_free(records, n);
  mode_hal_parser_free(&p);
  return 0;
}
