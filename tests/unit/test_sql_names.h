/*
 * test_sql_names.h -- what the SQL lineage suites compare: a list of tables as the sorted,
 * lower-cased, de-duplicated, comma-joined dotted names the shared corpus uses.
 */
#ifndef TEST_SQL_NAMES_H
#define TEST_SQL_NAMES_H

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/sql/sql_lineage.h"

static int test_sql_cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Returns a malloc'd "a,s.b,c.d.e" for tables[0..n). */
static char *test_sql_names(const struct sql_table *tables, size_t n) {
  char **names = calloc(n ? n : 1, sizeof *names);
  size_t len = 1;
  for (size_t i = 0; i < n; i++) {
    names[i] = sql_table_dotted(&tables[i]);
    for (char *c = names[i]; *c; c++)
      *c = (char)tolower((unsigned char)*c);
    len += strlen(names[i]) + 1;
  }
  qsort(names, n, sizeof *names, test_sql_cmp_str);
  char *out = calloc(1, len);
  for (size_t i = 0; i < n; i++) {
    if (!(i && strcmp(names[i], names[i - 1]) == 0)) {
      if (out[0])
        strcat(out, ",");
      strcat(out, names[i]);
    }
  }
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  return out;
}

#endif
