/*
 * fuzz_sql.c -- libFuzzer target over the whole pipeline: the first byte picks the dialect and
 * when a cancel callback says stop, the rest is a Mode query template (SQL with Liquid and
 * definition references). It is extracted directly, with column lineage (a small schema, and
 * the same cancel callback), rendered for lineage (with two
 * definitions, so references expand) and extracted again, rendered as a preview, and rendered
 * once more with a callback that cancels after a few questions, which must give
 * SQL_ERR_CANCELLED or a result, never anything else. Built by `make fuzz-smoke` (needs
 * clang; see docs/fuzzing.md). Any crash, hang or sanitizer report is a bug.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sql_lineage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cancel_after(void *ctx) {
  int *left = ctx;
  return --*left < 0;
}

static void extract(const char *sql, size_t len, enum sql_dialect d) {
  char err[256];
  struct sql_lineage *l = NULL;
  if (sql_extract_tables(sql, len, d, &l, err, sizeof err) == SQL_OK) {
    for (size_t i = 0; i < l->n_sources; i++)
      free(sql_table_dotted(&l->sources[i]));
    for (size_t i = 0; i < l->n_targets; i++)
      free(sql_table_dotted(&l->targets[i]));
  }
  sql_lineage_free(&l);
}

/* Column lineage: every source index is inside sources[], every string is there; a failed
 * call hands nothing out. */
static void extract_columns(const char *sql, size_t len, enum sql_dialect d, int questions) {
  char err[256];
  struct sql_lineage *l = NULL;
  struct sql_schema *schema = sql_schema_new();
  sql_schema_add(schema, "t", "a");
  sql_schema_add(schema, "t", "b");
  struct sql_cancel cancel = {.cancelled = cancel_after, .ctx = &questions};
  struct sql_extract_options opts = {.columns = 1, .schema = schema, .cancel = &cancel};
  if (sql_extract_lineage(sql, len, d, &opts, &l, err, sizeof err) == SQL_OK) {
    for (size_t i = 0; i < l->n_columns; i++) {
      if (!l->columns[i].name)
        abort();
      for (size_t k = 0; k < l->columns[i].n_sources; k++)
        if (l->columns[i].sources[k].table >= l->n_sources || !l->columns[i].sources[k].column)
          abort();
    }
  } else if (l) {
    abort();
  }
  sql_lineage_free(&l);
  sql_schema_free(&schema);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  enum sql_dialect d = (enum sql_dialect)(data[0] % (SQL_DIALECT_SQLITE + 1));
  int questions = data[0] >> 4;
  const char *text = (const char *)data + 1;
  size_t len = size - 1;
  char err[256];

  extract(text, len, d);
  extract_columns(text, len, d, questions);

  struct sql_definitions *defs = sql_definitions_new();
  const char *body = "SELECT * FROM {{ @inner as i }} JOIN base_t ON true";
  sql_definitions_add(defs, "d", body, strlen(body));
  sql_definitions_add(defs, "inner", "SELECT 1 FROM leaf\\n", 19);
  char *sql = NULL;
  size_t sql_len = 0;
  if (sql_render_template(text, len, defs, &sql, &sql_len, err, sizeof err) == SQL_OK) {
    extract(sql, sql_len, d);
    extract_columns(sql, sql_len, d, 1 << 30);
    free(sql);
  }
  sql = NULL;
  if (sql_render_preview(text, len, defs, &sql, &sql_len, err, sizeof err) == SQL_OK)
    free(sql);
  sql = NULL;
  struct sql_cancel cancel = {.cancelled = cancel_after, .ctx = &questions};
  int rc = sql_render_template_cancellable(text, len, defs, &cancel, &sql, &sql_len, err,
                                           sizeof err);
  if (rc == SQL_OK)
    free(sql);
  else if (sql)
    abort(); /* a failed call hands nothing out */
  sql_definitions_free(&defs);
  return 0;
}
