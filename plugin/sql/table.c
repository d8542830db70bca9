/*
 * table.c -- the results: tables as written, de-duplicated in order of first appearance, and
 * the small public helpers around them (dotted names, dialect names, freeing).
 *
 * De-duplication compares the parts ASCII case-insensitively (warehouses fold unquoted names,
 * and one query writing `tab_b` and `TAB_B` reads one table); an open-addressing index keeps
 * it linear however many tables a text names.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sql_internal.h"

static unsigned char lower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static uint32_t hash_part(uint32_t h, const char *s) {
  if (s)
    for (; *s; s++)
      h = (h ^ lower((unsigned char)*s)) * 16777619u;
  return (h ^ '.') * 16777619u;
}

static uint32_t hash_table(const struct sql_table *t) {
  uint32_t h = 2166136261u;
  h = hash_part(h, t->catalog);
  h = hash_part(h, t->schema);
  return hash_part(h, t->name);
}

static bool part_eq(const char *a, const char *b) {
  if (!a || !b)
    return a == b;
  return strcasecmp(a, b) == 0;
}

static bool table_eq(const struct sql_table *a, const struct sql_table *b) {
  return part_eq(a->catalog, b->catalog) && part_eq(a->schema, b->schema) &&
         part_eq(a->name, b->name);
}

void sql_table_clear(struct sql_table *t) {
  free(t->catalog);
  free(t->schema);
  free(t->name);
  t->catalog = t->schema = t->name = NULL;
}

static int rehash(struct sql_table_set *set, size_t n_slots) {
  uint32_t *slots = calloc(n_slots, sizeof *slots);
  if (!slots)
    return SQL_ERR_NOMEM;
  for (size_t i = 0; i < set->n; i++) {
    size_t k = hash_table(&set->items[i]) & (n_slots - 1);
    while (slots[k])
      k = (k + 1) & (n_slots - 1);
    slots[k] = (uint32_t)(i + 1);
  }
  free(set->slots);
  set->slots = slots;
  set->n_slots = n_slots;
  return SQL_OK;
}

int sql_table_set_add(struct sql_table_set *set, struct sql_table *t) {
  int rc;
  if ((set->n + 1) * 2 > set->n_slots) {
    rc = rehash(set, set->n_slots ? set->n_slots * 2 : 16);
    if (rc)
      goto fail;
  }
  size_t k = hash_table(t) & (set->n_slots - 1);
  while (set->slots[k]) {
    if (table_eq(&set->items[set->slots[k] - 1], t)) {
      sql_table_clear(t);
      return SQL_OK;
    }
    k = (k + 1) & (set->n_slots - 1);
  }
  if (set->n == set->cap) {
    size_t cap = set->cap ? set->cap * 2 : 8;
    struct sql_table *p = realloc(set->items, cap * sizeof *p);
    if (!p) {
      rc = SQL_ERR_NOMEM;
      goto fail;
    }
    set->items = p;
    set->cap = cap;
  }
  set->items[set->n] = *t;
  set->slots[k] = (uint32_t)(++set->n);
  memset(t, 0, sizeof *t);
  return SQL_OK;
fail:
  sql_table_clear(t);
  return rc;
}

void sql_table_set_free(struct sql_table_set *set) {
  for (size_t i = 0; i < set->n; i++)
    sql_table_clear(&set->items[i]);
  free(set->items);
  free(set->slots);
  memset(set, 0, sizeof *set);
}

void sql_lineage_free(struct sql_lineage **lineage) {
  if (!lineage || !*lineage)
    return;
  struct sql_lineage *l = *lineage;
  for (size_t i = 0; i < l->n_sources; i++)
    sql_table_clear(&l->sources[i]);
  for (size_t i = 0; i < l->n_targets; i++)
    sql_table_clear(&l->targets[i]);
  sql_columns_free(l->columns, l->n_columns);
  free(l->sources);
  free(l->targets);
  free(l);
  *lineage = NULL;
}

char *sql_table_dotted(const struct sql_table *table) {
  const char *parts[3] = {table->catalog, table->schema, table->name};
  size_t len = 1;
  for (int i = 0; i < 3; i++)
    if (parts[i])
      len += strlen(parts[i]) + 1;
  char *out = malloc(len);
  if (!out)
    return NULL;
  out[0] = '\0';
  bool first = true;
  for (int i = 0; i < 3; i++) {
    if (!parts[i])
      continue;
    if (!first)
      strcat(out, ".");
    strcat(out, parts[i]);
    first = false;
  }
  return out;
}

int sql_dialect_from_name(const char *name, enum sql_dialect *out) {
  static const struct {
    const char *name;
    enum sql_dialect d;
  } names[] = {
      {"ansi", SQL_DIALECT_ANSI},
      {"generic", SQL_DIALECT_ANSI},
      {"postgres", SQL_DIALECT_POSTGRES},
      {"postgresql", SQL_DIALECT_POSTGRES},
      {"redshift", SQL_DIALECT_REDSHIFT},
      {"snowflake", SQL_DIALECT_SNOWFLAKE},
      {"bigquery", SQL_DIALECT_BIGQUERY},
      {"mysql", SQL_DIALECT_MYSQL},
      {"mariadb", SQL_DIALECT_MYSQL},
      {"tsql", SQL_DIALECT_TSQL},
      {"mssql", SQL_DIALECT_TSQL},
      {"sqlserver", SQL_DIALECT_TSQL},
      {"databricks", SQL_DIALECT_DATABRICKS},
      {"spark", SQL_DIALECT_DATABRICKS},
      {"sparksql", SQL_DIALECT_DATABRICKS},
      {"hive", SQL_DIALECT_HIVE},
      {"trino", SQL_DIALECT_TRINO},
      {"presto", SQL_DIALECT_TRINO},
      {"athena", SQL_DIALECT_TRINO},
      {"oracle", SQL_DIALECT_ORACLE},
      {"sqlite", SQL_DIALECT_SQLITE},
  };
  *out = SQL_DIALECT_ANSI;
  if (!name)
    return SQL_ERR_SYNTAX;
  /* Mode adapters: "jdbc:snowflake", "jdbc:postgresql", ... */
  if (strncasecmp(name, "jdbc:", 5) == 0)
    name += 5;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (strcasecmp(name, names[i].name) == 0) {
      *out = names[i].d;
      return SQL_OK;
    }
  }
  /* Adapter names with a suffix, e.g. "jdbc:sqlserver" or "databricks_sql". */
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    size_t n = strlen(names[i].name);
    if (n >= 4 && strncasecmp(name, names[i].name, n) == 0) {
      *out = names[i].d;
      return SQL_OK;
    }
  }
  return SQL_ERR_SYNTAX;
}
