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

/* Adds a table (once per FQN); *index gets its place in l->tables. */
static int add_table(struct mode_lineage *l, const char *service, const char *database,
                     const char *schema, const char *name, size_t *index) {
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
  *index = l->n_tables - 1;
  if (t->fqn == NULL || t->name == NULL)
    return -1;
  /* The same table may be written two ways (t and s.t with an unknown default schema): keep
   * one record per FQN. */
  for (size_t i = 0; i + 1 < l->n_tables; i++)
    if (strcmp(l->tables[i].fqn, t->fqn) == 0) {
      free(t->service), free(t->database), free(t->schema), free(t->name), free(t->fqn);
      l->n_tables--;
      *index = i;
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

/* Cast types by their first word (upper case) and OpenMetadata's dataType for each. */
static const struct {
  const char *word, *type;
} type_words[] = {
    {"ARRAY", "ARRAY"},         {"BIGINT", "BIGINT"},       {"BINARY", "BINARY"},
    {"BIT", "BIT"},             {"BOOL", "BOOLEAN"},        {"BOOLEAN", "BOOLEAN"},
    {"BYTEA", "BYTEA"},         {"BYTEINT", "BYTEINT"},     {"BYTES", "BYTES"},
    {"CHAR", "CHAR"},           {"CHARACTER", "CHAR"},      {"DATE", "DATE"},
    {"DATETIME", "DATETIME"},   {"DEC", "DECIMAL"},         {"DECIMAL", "DECIMAL"},
    {"DOUBLE", "DOUBLE"},       {"FLOAT", "FLOAT"},         {"FLOAT4", "FLOAT"},
    {"FLOAT64", "DOUBLE"},      {"FLOAT8", "DOUBLE"},       {"GEOGRAPHY", "GEOGRAPHY"},
    {"GEOMETRY", "GEOMETRY"},   {"INT", "INT"},             {"INT2", "SMALLINT"},
    {"INT4", "INT"},            {"INT64", "BIGINT"},        {"INT8", "BIGINT"},
    {"INTEGER", "INT"},         {"INTERVAL", "INTERVAL"},   {"JSON", "JSON"},
    {"JSONB", "JSON"},          {"MAP", "MAP"},             {"MONEY", "MONEY"},
    {"NCHAR", "CHAR"},          {"NUMBER", "NUMBER"},       {"NUMERIC", "NUMERIC"},
    {"NVARCHAR", "VARCHAR"},    {"OBJECT", "STRUCT"},       {"REAL", "FLOAT"},
    {"SMALLINT", "SMALLINT"},   {"STRING", "STRING"},       {"STRUCT", "STRUCT"},
    {"SUPER", "SUPER"},         {"TEXT", "TEXT"},           {"TIME", "TIME"},
    {"TIMESTAMP", "TIMESTAMP"}, {"TIMESTAMPTZ", "TIMESTAMPZ"}, {"TIMESTAMP_LTZ", "TIMESTAMPZ"},
    {"TIMESTAMP_NTZ", "TIMESTAMP"}, {"TIMESTAMP_TZ", "TIMESTAMPZ"}, {"TINYINT", "TINYINT"},
    {"UUID", "UUID"},           {"VARBINARY", "VARBINARY"}, {"VARCHAR", "VARCHAR"},
    {"VARCHAR2", "VARCHAR"},    {"VARIANT", "VARIANT"},     {"XML", "XML"},
};

const char *mode_lineage_data_type(const char *cast, int *length) {
  char word[32];
  size_t n = 0;
  *length = 0;
  if (cast == NULL)
    return "UNKNOWN";
  while (cast[n] && n < sizeof word - 1 && cast[n] != '(' && cast[n] != ' ') {
    word[n] = (char)((cast[n] >= 'a' && cast[n] <= 'z') ? cast[n] - 'a' + 'A' : cast[n]);
    n++;
  }
  word[n] = '\0';
  const char *type = "UNKNOWN";
  for (size_t i = 0; i < sizeof type_words / sizeof type_words[0]; i++)
    if (strcmp(type_words[i].word, word) == 0)
      type = type_words[i].type;
  if (strcmp(type, "TIMESTAMP") == 0 && strstr(cast, "WITH TIME ZONE"))
    type = "TIMESTAMPZ";
  if (strcmp(type, "CHAR") == 0 && strstr(cast, "VARYING"))
    type = "VARCHAR"; /* CHARACTER VARYING(n) */
  int sized = strcmp(type, "CHAR") == 0 || strcmp(type, "VARCHAR") == 0 ||
              strcmp(type, "BINARY") == 0 || strcmp(type, "VARBINARY") == 0;
  if (sized) {
    const char *paren = strchr(cast, '(');
    long v = paren ? strtol(paren + 1, NULL, 10) : 0;
    if (v > 0 && v < 0x7fffffff)
      *length = (int)v;
    else /* no length (or MAX): OpenMetadata wants one with these types */
      type = strcmp(type, "CHAR") == 0 || strcmp(type, "VARCHAR") == 0 ? "STRING" : "BYTES";
  }
  return type;
}

static int source_cmp(const void *x, const void *y) {
  const struct mode_lineage_column_source *a = x, *b = y;
  if (a->table != b->table)
    return a->table < b->table ? -1 : 1;
  return strcmp(a->column, b->column);
}

static uint32_t name_hash(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

/* The result columns of sl into out (whose tables map[i] is sl->sources[i]): one entry per
 * name but `*`, a repeated name merged into its first entry (found through a hash index, so a query
 * of 100k columns stays linear), each entry's sources sorted by table and unique. */
static int add_columns(struct mode_lineage *out, const struct sql_lineage *sl, const size_t *map) {
  size_t n_slots = 16;
  int rc = -1;
  while (n_slots < 2 * sl->n_columns)
    n_slots *= 2;
  size_t *slots = calloc(n_slots, sizeof *slots); /* column index + 1, 0 empty */
  out->columns = calloc(sl->n_columns ? sl->n_columns : 1, sizeof *out->columns);
  if (slots == NULL || out->columns == NULL)
    goto out;
  for (size_t i = 0; i < sl->n_columns; i++) {
    const struct sql_column *c = &sl->columns[i];
    struct mode_lineage_column *d = NULL;
    /* `*` over a table whose columns are unknown is no column a catalog can show, nor one a
     * column lineage may name (OpenMetadata refuses an edge with a column FQN it cannot find):
     * left out; the table's edge does not depend on it (docs/mode.md). */
    if (strcmp(c->name, "*") == 0)
      continue;
    size_t h = name_hash(c->name) & (n_slots - 1);
    for (; slots[h] && d == NULL; h = (h + 1) & (n_slots - 1))
      if (strcmp(out->columns[slots[h] - 1].name, c->name) == 0)
        d = &out->columns[slots[h] - 1];
    if (d == NULL) {
      slots[h] = out->n_columns + 1;
      d = &out->columns[out->n_columns++];
      d->name = strdup(c->name);
      d->data_type = mode_lineage_data_type(c->data_type, &d->data_length);
      d->data_type_display = c->data_type ? strdup(c->data_type) : NULL;
      if (d->name == NULL || (c->data_type && d->data_type_display == NULL))
        goto out;
      for (char *p = d->data_type_display; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
          *p = (char)(*p - 'A' + 'a');
    }
    struct mode_lineage_column_source *v =
        realloc(d->sources, (d->n_sources + c->n_sources + 1) * sizeof *v);
    if (v == NULL)
      goto out;
    d->sources = v;
    for (size_t k = 0; k < c->n_sources; k++) {
      if ((v[d->n_sources].column = strdup(c->sources[k].column)) == NULL)
        goto out;
      v[d->n_sources++].table = map[c->sources[k].table];
    }
  }
  /* Two SQL tables may be one FQN (t and s.t), and merged names bring more sources. */
  for (size_t i = 0; i < out->n_columns; i++) {
    struct mode_lineage_column *d = &out->columns[i];
    if (d->n_sources < 2)
      continue;
    qsort(d->sources, d->n_sources, sizeof *d->sources, source_cmp);
    size_t o = 1;
    for (size_t k = 1; k < d->n_sources; k++) {
      if (source_cmp(&d->sources[k], &d->sources[o - 1]) == 0)
        free(d->sources[k].column);
      else
        d->sources[o++] = d->sources[k];
    }
    d->n_sources = o;
  }
  rc = 0;
out:
  free(slots);
  return rc;
}

int mode_lineage_of(const struct mode_config *cfg, const struct sql_definitions *defs,
                    const struct mode_data_source *ds, const char *raw,
                    const struct sql_cancel *cancel, struct mode_lineage *out, char *err,
                    size_t errlen) {
  struct sql_lineage *sl = NULL;
  size_t sql_len = 0, *map = NULL;
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
  struct sql_extract_options opts = {.columns = 1, .cancel = cancel};
  if (sql_extract_lineage(out->sql, sql_len, dialect, &opts, &sl, err, errlen) != SQL_OK)
    goto out;
  if ((map = calloc(sl->n_sources ? sl->n_sources : 1, sizeof *map)) == NULL) {
    snprintf(err, errlen, "out of memory");
    goto out;
  }
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
    int added = add_table(out, service, database, schema, t->name, &map[i]);
    free(split);
    if (added != 0) {
      snprintf(err, errlen, "out of memory");
      goto out;
    }
  }
  if (add_columns(out, sl, map) != 0) {
    snprintf(err, errlen, "out of memory");
    goto out;
  }
  rc = 0;
out:
  free(map);
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
  for (size_t i = 0; i < l->n_columns; i++) {
    for (size_t k = 0; k < l->columns[i].n_sources; k++)
      free(l->columns[i].sources[k].column);
    free(l->columns[i].sources);
    free(l->columns[i].name);
    free(l->columns[i].data_type_display);
  }
  free(l->columns);
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
