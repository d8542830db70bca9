/*
 * fuzz_sql.c -- libFuzzer target over the whole pipeline: the first byte picks the dialect,
 * the rest is a Mode query template, rendered (with one definition, so references expand)
 * and extracted; the raw bytes are also extracted directly. Not built by default; the clang
 * command line is in docs/sql-lineage.md. Any crash, hang or sanitizer report is a bug.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sql_lineage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  enum sql_dialect d = (enum sql_dialect)(data[0] % (SQL_DIALECT_SQLITE + 1));
  const char *text = (const char *)data + 1;
  size_t len = size - 1;
  char err[256];
  struct sql_lineage *l = NULL;

  if (sql_extract_tables(text, len, d, &l, err, sizeof err) == SQL_OK) {
    for (size_t i = 0; i < l->n_sources; i++)
      free(sql_table_dotted(&l->sources[i]));
  }
  sql_lineage_free(&l);

  struct sql_definitions *defs = sql_definitions_new();
  const char *body = "SELECT * FROM {{ @inner as i }} JOIN base_t ON true";
  sql_definitions_add(defs, "d", body, strlen(body));
  sql_definitions_add(defs, "inner", "SELECT 1 FROM leaf\\n", 19);
  char *sql = NULL;
  size_t sql_len = 0;
  if (sql_render_template(text, len, defs, &sql, &sql_len, err, sizeof err) == SQL_OK) {
    sql_extract_tables(sql, sql_len, d, &l, err, sizeof err);
    sql_lineage_free(&l);
    free(sql);
  }
  sql_definitions_free(&defs);
  return 0;
}
