/*
 * lineage.c -- query text to table FQNs (see lineage.h).
 */
#include "config.h"

#include "lineage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "entities.h"
#include "plugin/sql/sql_lineage.h"
#include "util.h"

/* A dbServicePrefixes entry split into its parts ("svc.db.schema"). */
struct prefix_parts {
  char buf[512];
  const char *service, *database, *schema;
};

static void split_prefix(const char *prefix, struct prefix_parts *p) {
  snprintf(p->buf, sizeof p->buf, "%s", prefix);
  p->service = p->buf;
  p->database = p->schema = NULL;
  char *dot = strchr(p->buf, '.');
  if (dot) {
    *dot = '\0';
    p->database = dot + 1;
    dot = strchr(dot + 1, '.');
    if (dot) {
      *dot = '\0';
      p->schema = dot + 1;
    }
  }
  if (p->database && *p->database == '\0')
    p->database = NULL;
  if (p->schema && *p->schema == '\0')
    p->schema = NULL;
}

/* Picks the prefix that fits: one naming ds's database, else the only one given. */
static int pick_prefix(const struct mode_config *cfg, const struct mode_data_source *ds,
                       struct prefix_parts *out) {
  const char *db = ds ? ds->database : NULL;
  if (db)
    for (size_t i = 0; i < cfg->n_db_service_prefixes; i++) {
      split_prefix(cfg->db_service_prefixes[i], out);
      if (out->database && strcasecmp(out->database, db) == 0)
        return 1;
    }
  if (cfg->n_db_service_prefixes == 1) {
    split_prefix(cfg->db_service_prefixes[0], out);
    return 1;
  }
  return 0;
}

static int add_table(struct mode_lineage *l, const char *service, const char *database,
                     const char *schema, const char *name) {
  struct mode_lineage_table *t = realloc(l->tables, (l->n_tables + 1) * sizeof *t);
  if (t == NULL)
    return -1;
  l->tables = t;
  t = &l->tables[l->n_tables];
  memset(t, 0, sizeof *t);
  t->service = mode_strdup(service);
  t->database = mode_strdup(database);
  t->schema = mode_strdup(schema);
  t->name = mode_strdup(name);
  const char *parts[4] = {service, database, schema, name};
  t->fqn = mode_fqn(parts, 4);
  l->n_tables++;
  if (t->fqn == NULL || t->name == NULL)
    return -1;
  /* The same table may be written two ways (t and s.t with an unknown default schema): keep
   * one record per FQN. */
  for (size_t i = 0; i + 1 < l->n_tables; i++)
    if (strcmp(l->tables[i].fqn, t->fqn) == 0) {
      free(t->service), free(t->database), free(t->schema), free(t->name), free(t->fqn);
      l->n_tables--;
      break;
    }
  return 0;
}

/* `project.dataset.table` quoted as one identifier (BigQuery's habit, also seen in queries
 * on other databases) arrives as a single name holding dots: split it into its parts. A real
 * table name containing a dot is far rarer than this. Returns 1 when *out was filled (its
 * strings point into *buf, which the caller frees). */
static int split_whole_path(const struct sql_table *t, struct sql_table *out, char **buf) {
  if (t->catalog || t->schema || t->name == NULL || strchr(t->name, '.') == NULL)
    return 0;
  *buf = strdup(t->name);
  if (*buf == NULL)
    return 0;
  char *parts[3] = {NULL, NULL, NULL};
  int n = 0;
  for (char *p = *buf, *dot; n < 3; p = dot + 1) {
    dot = strchr(p, '.');
    parts[n++] = p;
    if (dot == NULL)
      break;
    *dot = '\0';
  }
  /* Empty parts or more than three: not a path, keep the name as it is. */
  int ok = n >= 2 && n <= 3 && strchr(parts[n - 1], '.') == NULL;
  for (int k = 0; ok && k < n; k++)
    ok = *parts[k] != '\0';
  if (!ok) {
    free(*buf);
    *buf = NULL;
    return 0;
  }
  out->catalog = n == 3 ? parts[0] : NULL;
  out->schema = parts[n - 2];
  out->name = parts[n - 1];
  return 1;
}

int mode_lineage_of(const struct mode_config *cfg, const struct sql_definitions *defs,
                    const struct mode_data_source *ds, const char *raw,
                    const struct sql_cancel *cancel, struct mode_lineage *out, char *err,
                    size_t errlen) {
  struct sql_lineage *sl = NULL;
  size_t sql_len = 0;
  int rc = -1;
  memset(out, 0, sizeof *out);
  if (raw == NULL)
    raw = "";
  if (sql_render_template_cancellable(raw, strlen(raw), defs, cancel, &out->sql, &sql_len, err,
                                      errlen) != SQL_OK)
    goto out;
  enum sql_dialect dialect = SQL_DIALECT_ANSI;
  if (ds && ds->adapter)
    sql_dialect_from_name(ds->adapter, &dialect);
  if (sql_extract_tables_cancellable(out->sql, sql_len, dialect, cancel, &sl, err, errlen) !=
      SQL_OK)
    goto out;
  const char *service = ds ? mode_config_mapped_service(cfg, ds->name, ds->token, ds->id) : NULL;
  struct prefix_parts prefix;
  int have_prefix = 0;
  if (service == NULL && (have_prefix = pick_prefix(cfg, ds, &prefix)))
    service = prefix.service;
  if (service == NULL && cfg->n_db_service_names == 1)
    service = cfg->db_service_names[0];
  for (size_t i = 0; i < sl->n_sources; i++) {
    const struct sql_table *t = &sl->sources[i];
    struct sql_table whole_path;
    char *split = NULL;
    if (split_whole_path(t, &whole_path, &split))
      t = &whole_path;
    const char *database = t->catalog;
    const char *schema = t->schema;
    if (database == NULL && have_prefix)
      database = prefix.database;
    if (database == NULL && ds)
      database = ds->database;
    if (schema == NULL && have_prefix && t->catalog == NULL)
      schema = prefix.schema;
    if (schema == NULL && ds && t->catalog == NULL)
      schema = ds->schema; /* MySQL, Athena: Mode's `database` is a schema (adapters.h) */
    int added = add_table(out, service, database, schema, t->name);
    free(split);
    if (added != 0) {
      snprintf(err, errlen, "out of memory");
      goto out;
    }
  }
  rc = 0;
out:
  sql_lineage_free(&sl);
  if (rc != 0)
    mode_lineage_clear(out);
  return rc;
}

void mode_lineage_clear(struct mode_lineage *l) {
  if (l == NULL)
    return;
  for (size_t i = 0; i < l->n_tables; i++) {
    free(l->tables[i].service);
    free(l->tables[i].database);
    free(l->tables[i].schema);
    free(l->tables[i].name);
    free(l->tables[i].fqn);
  }
  free(l->tables);
  free(l->sql);
  memset(l, 0, sizeof *l);
}

char *mode_lineage_sql_excerpt(const char *sql, size_t max) {
  static const char mark[] = "\n-- (truncated)";
  size_t len = strlen(sql);
  if (len <= max)
    return strdup(sql);
  size_t keep = max > sizeof mark - 1 ? max - (sizeof mark - 1) : 0;
  while (keep > 0 && ((unsigned char)sql[keep] & 0xC0) == 0x80)
    keep--; /* never split a character: yajl would refuse the record */
  char *out = malloc(keep + sizeof mark);
  if (out == NULL)
    return NULL;
  memcpy(out, sql, keep);
  memcpy(out + keep, mark, sizeof mark);
  return out;
}
