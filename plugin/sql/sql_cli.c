/*
 * etl-sql-lineage -- prints the tables a SQL text (with Mode templating) reads and writes:
 *
 *   etl-sql-lineage [--dialect D] [--definitions FILE] [--columns [--schema FILE]] [FILE...]
 *
 * Reads each FILE (standard input when none), renders Mode's Liquid and `{{ @definition }}`
 * references (definitions from the JSON body of Mode's /definitions endpoint), extracts the
 * tables and prints one JSON object {"sources": [...], "targets": [...]} for all inputs, each
 * table as its dotted name without quotes. With --columns it adds "columns": [{"name": N,
 * "sources": ["<table>.<column>", ...]}, ...], the result columns of the last input that has
 * any (docs/sql-lineage.md). Exit status: 0 success, 1 input that cannot be read as SQL
 * (message on stderr naming the file and position), 2 usage or I/O errors.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl_gen.h>
#include <yajl_tree.h>

#include "sql_internal.h"

#define EXIT_SQL 1
#define EXIT_USAGE 2
#define MAX_FILE ((size_t)256 << 20)

static void usage(FILE *f) {
  fputs(
      "usage: etl-sql-lineage [--dialect NAME] [--definitions FILE] [--columns [--schema FILE]]\n"
      "                       [FILE...]\n"
      "  Prints {\"sources\": [...], \"targets\": [...]} for the SQL in FILEs (stdin if none).\n"
      "  --dialect NAME      ansi (default), postgres, redshift, snowflake, bigquery, mysql,\n"
      "                      tsql, databricks, spark, hive, trino, presto, athena, oracle,\n"
      "                      sqlite, or a Mode adapter name such as jdbc:postgresql;\n"
      "                      any other name is read as ansi, with a warning\n"
      "  --definitions FILE  JSON body of Mode's /definitions endpoint, for {{ @name as alias }}\n"
      "  --columns           also print \"columns\": [{\"name\", \"sources\"}] (column lineage)\n"
      "  --schema FILE       JSON {\"<table>\": [\"col\", ...]}: known columns for * and bare names\n",
      f);
}

/* Reads a whole stream; returns a malloc'd buffer (NUL-terminated) or NULL with errno. */
static char *read_stream(FILE *f, size_t *len) {
  size_t cap = 65536, n = 0;
  char *buf = malloc(cap);
  if (!buf)
    return NULL;
  for (;;) {
    if (n + 1 >= cap) {
      if (cap >= MAX_FILE) {
        free(buf);
        errno = EFBIG;
        return NULL;
      }
      char *p = realloc(buf, cap * 2);
      if (!p) {
        free(buf);
        return NULL;
      }
      buf = p;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n - 1, f);
    n += got;
    if (got == 0) {
      if (ferror(f)) {
        free(buf);
        errno = EIO;
        return NULL;
      }
      break;
    }
  }
  buf[n] = '\0';
  *len = n;
  return buf;
}

static char *read_path(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  char *text = read_stream(f, len);
  int saved = errno;
  fclose(f);
  errno = saved;
  return text;
}

/* Loads {"_embedded": {"definitions": [{"name", "source"}, ...]}} (or a bare array). */
static int load_definitions(const char *path, struct sql_definitions **out) {
  size_t len;
  char errbuf[256] = "";
  char *text = read_path(path, &len);
  int rc = EXIT_USAGE;
  yajl_val root = NULL;
  struct sql_definitions *defs = NULL;
  if (!text) {
    fprintf(stderr, "etl-sql-lineage: %s: %s\n", path, strerror(errno));
    return EXIT_USAGE;
  }
  root = yajl_tree_parse(text, errbuf, sizeof errbuf);
  if (!root) {
    fprintf(stderr, "etl-sql-lineage: %s: not JSON: %s\n", path, errbuf);
    goto out;
  }
  const char *where[] = {"_embedded", "definitions", NULL};
  yajl_val list = YAJL_IS_ARRAY(root) ? root : yajl_tree_get(root, where, yajl_t_array);
  if (!list) {
    fprintf(stderr, "etl-sql-lineage: %s: no _embedded.definitions array\n", path);
    goto out;
  }
  defs = sql_definitions_new();
  if (!defs)
    goto out;
  for (size_t i = 0; i < YAJL_GET_ARRAY(list)->len; i++) {
    yajl_val d = YAJL_GET_ARRAY(list)->values[i];
    const char *pn[] = {"name", NULL}, *ps[] = {"source", NULL};
    yajl_val name = yajl_tree_get(d, pn, yajl_t_string);
    yajl_val src = yajl_tree_get(d, ps, yajl_t_string);
    if (!name || !src) {
      fprintf(stderr, "etl-sql-lineage: %s: definition %zu has no name or source, skipped\n", path,
              i);
      continue;
    }
    const char *body = YAJL_GET_STRING(src);
    if (sql_definitions_add(defs, YAJL_GET_STRING(name), body, strlen(body)) != SQL_OK) {
      fprintf(stderr, "etl-sql-lineage: out of memory\n");
      goto out;
    }
  }
  *out = defs;
  defs = NULL;
  rc = 0;
out:
  sql_definitions_free(&defs);
  yajl_tree_free(root);
  free(text);
  return rc;
}

/* Loads {"<table>": ["col", ...], ...}. */
static int load_schema(const char *path, struct sql_schema **out) {
  size_t len;
  char errbuf[256] = "";
  char *text = read_path(path, &len);
  int rc = EXIT_USAGE;
  yajl_val root = NULL;
  struct sql_schema *schema = NULL;
  if (!text) {
    fprintf(stderr, "etl-sql-lineage: %s: %s\n", path, strerror(errno));
    return EXIT_USAGE;
  }
  root = yajl_tree_parse(text, errbuf, sizeof errbuf);
  if (!root || !YAJL_IS_OBJECT(root)) {
    fprintf(stderr, "etl-sql-lineage: %s: not a JSON object of tables: %s\n", path, errbuf);
    goto out;
  }
  if (!(schema = sql_schema_new()))
    goto nomem;
  for (size_t i = 0; i < YAJL_GET_OBJECT(root)->len; i++) {
    const char *table = YAJL_GET_OBJECT(root)->keys[i];
    yajl_val cols = YAJL_GET_OBJECT(root)->values[i];
    if (!YAJL_IS_ARRAY(cols)) {
      fprintf(stderr, "etl-sql-lineage: %s: table '%s': not an array of column names\n", path,
              table);
      goto out;
    }
    for (size_t k = 0; k < YAJL_GET_ARRAY(cols)->len; k++) {
      const char *c = YAJL_GET_STRING(YAJL_GET_ARRAY(cols)->values[k]);
      if (!c) {
        fprintf(stderr, "etl-sql-lineage: %s: table '%s': column %zu is not a string\n", path,
                table, k);
        goto out;
      }
      if (sql_schema_add(schema, table, c) != SQL_OK)
        goto nomem;
    }
  }
  *out = schema;
  schema = NULL;
  rc = 0;
  goto out;
nomem:
  fprintf(stderr, "etl-sql-lineage: out of memory\n");
out:
  sql_schema_free(&schema);
  yajl_tree_free(root);
  free(text);
  return rc;
}

/* The columns to print: one entry's name and its sources as "<table>.<column>" texts. */
struct out_column {
  char *name;     /* owned */
  char **sources; /* owned */
  size_t n;
};

struct out_columns {
  struct out_column *items; /* owned */
  size_t n;
  bool asked;
};

static void out_columns_clear(struct out_columns *oc) {
  for (size_t i = 0; i < oc->n; i++) {
    for (size_t k = 0; k < oc->items[i].n; k++)
      free(oc->items[i].sources[k]);
    free(oc->items[i].sources);
    free(oc->items[i].name);
  }
  free(oc->items);
  oc->items = NULL;
  oc->n = 0;
}

/* Replaces oc by the lineage's columns (when it has any). */
static int keep_columns(struct out_columns *oc, const struct sql_lineage *l) {
  if (!l->n_columns)
    return SQL_OK;
  out_columns_clear(oc);
  oc->items = calloc(l->n_columns, sizeof *oc->items);
  if (!oc->items)
    return SQL_ERR_NOMEM;
  oc->n = l->n_columns;
  for (size_t i = 0; i < l->n_columns; i++) {
    const struct sql_column *c = &l->columns[i];
    struct out_column *o = &oc->items[i];
    o->name = strdup(c->name);
    o->sources = calloc(c->n_sources ? c->n_sources : 1, sizeof *o->sources);
    if (!o->name || !o->sources)
      return SQL_ERR_NOMEM;
    for (size_t k = 0; k < c->n_sources; k++) {
      char *t = sql_table_dotted(&l->sources[c->sources[k].table]);
      size_t len = t ? strlen(t) + strlen(c->sources[k].column) + 2 : 0;
      o->sources[k] = t ? malloc(len) : NULL;
      if (o->sources[k])
        snprintf(o->sources[k], len, "%s.%s", t, c->sources[k].column);
      free(t);
      if (!o->sources[k])
        return SQL_ERR_NOMEM;
      o->n++;
    }
  }
  return SQL_OK;
}

static int add_all(struct sql_table_set *set, const struct sql_table *tables, size_t n) {
  for (size_t i = 0; i < n; i++) {
    struct sql_table t = {0};
    const struct sql_table *s = &tables[i];
    t.catalog = s->catalog ? strdup(s->catalog) : NULL;
    t.schema = s->schema ? strdup(s->schema) : NULL;
    t.name = strdup(s->name);
    if (!t.name || (s->catalog && !t.catalog) || (s->schema && !t.schema)) {
      sql_table_clear(&t);
      return SQL_ERR_NOMEM;
    }
    if (sql_table_set_add(set, &t))
      return SQL_ERR_NOMEM;
  }
  return SQL_OK;
}

/* Renders and extracts one input, adding its tables to the sets. */
static int process(const char *label, const char *text, size_t len, enum sql_dialect d,
                   const struct sql_definitions *defs, const struct sql_schema *schema,
                   struct sql_table_set *src, struct sql_table_set *dst,
                   struct out_columns *oc) {
  struct sql_extract_options opts = {.columns = oc->asked, .schema = schema};
  char err[512];
  char *sql = NULL;
  size_t sql_len = 0;
  struct sql_lineage *l = NULL;
  int rc = sql_render_template(text, len, defs, &sql, &sql_len, err, sizeof err);
  if (!rc)
    rc = sql_extract_lineage(sql, sql_len, d, &opts, &l, err, sizeof err);
  if (!rc && l->columns_status)
    fprintf(stderr, "etl-sql-lineage: %s: columns left out: beyond the analysis' work bound\n",
            label);
  if (!rc && (add_all(src, l->sources, l->n_sources) || add_all(dst, l->targets, l->n_targets) ||
              keep_columns(oc, l))) {
    rc = SQL_ERR_NOMEM;
    snprintf(err, sizeof err, "out of memory");
  }
  if (rc)
    fprintf(stderr, "etl-sql-lineage: %s: %s\n", label, err);
  sql_lineage_free(&l);
  free(sql);
  return rc;
}

static void gen_tables(yajl_gen g, const char *key, const struct sql_table_set *set) {
  yajl_gen_string(g, (const unsigned char *)key, strlen(key));
  yajl_gen_array_open(g);
  for (size_t i = 0; i < set->n; i++) {
    char *dotted = sql_table_dotted(&set->items[i]);
    if (dotted)
      yajl_gen_string(g, (const unsigned char *)dotted, strlen(dotted));
    free(dotted);
  }
  yajl_gen_array_close(g);
}

static void gen_columns(yajl_gen g, const struct out_columns *oc) {
  yajl_gen_string(g, (const unsigned char *)"columns", 7);
  yajl_gen_array_open(g);
  for (size_t i = 0; i < oc->n; i++) {
    const struct out_column *c = &oc->items[i];
    yajl_gen_map_open(g);
    yajl_gen_string(g, (const unsigned char *)"name", 4);
    yajl_gen_string(g, (const unsigned char *)c->name, strlen(c->name));
    yajl_gen_string(g, (const unsigned char *)"sources", 7);
    yajl_gen_array_open(g);
    for (size_t k = 0; k < c->n; k++)
      yajl_gen_string(g, (const unsigned char *)c->sources[k], strlen(c->sources[k]));
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
  }
  yajl_gen_array_close(g);
}

static int print_json(const struct sql_table_set *src, const struct sql_table_set *dst,
                      const struct out_columns *oc) {
  yajl_gen g = yajl_gen_alloc(NULL);
  const unsigned char *buf;
  size_t len;
  if (!g)
    return EXIT_USAGE;
  yajl_gen_map_open(g);
  gen_tables(g, "sources", src);
  gen_tables(g, "targets", dst);
  if (oc->asked)
    gen_columns(g, oc);
  yajl_gen_map_close(g);
  yajl_gen_get_buf(g, &buf, &len);
  fwrite(buf, 1, len, stdout);
  fputc('\n', stdout);
  yajl_gen_free(g);
  return fflush(stdout) == 0 ? 0 : EXIT_USAGE;
}

int main(int argc, char **argv) {
  enum sql_dialect d = SQL_DIALECT_ANSI;
  struct sql_definitions *defs = NULL;
  struct sql_table_set src = {0}, dst = {0};
  struct sql_schema *schema = NULL;
  struct out_columns oc = {0};
  int status = 0, first_file = argc;

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return 0;
    } else if (strcmp(a, "--dialect") == 0 && i + 1 < argc) {
      /* A warehouse we have no rules for (teradata, dremio, ...) still speaks mostly ANSI:
       * its tables are worth more than a refusal. d is ANSI then. */
      if (sql_dialect_from_name(argv[++i], &d) != SQL_OK)
        fprintf(stderr, "etl-sql-lineage: unknown dialect '%s', reading the SQL as ansi\n",
                argv[i]);
    } else if (strcmp(a, "--definitions") == 0 && i + 1 < argc) {
      sql_definitions_free(&defs);
      if ((status = load_definitions(argv[++i], &defs)))
        goto out;
    } else if (strcmp(a, "--columns") == 0) {
      oc.asked = true;
    } else if (strcmp(a, "--schema") == 0 && i + 1 < argc) {
      sql_schema_free(&schema);
      if ((status = load_schema(argv[++i], &schema)))
        goto out;
    } else if (strcmp(a, "--") == 0) {
      first_file = i + 1;
      break;
    } else if (a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "etl-sql-lineage: unknown or incomplete option '%s'\n", a);
      usage(stderr);
      status = EXIT_USAGE;
      goto out;
    } else {
      first_file = i;
      break;
    }
  }
  if (first_file >= argc) {
    size_t len;
    char *text = read_stream(stdin, &len);
    if (!text) {
      fprintf(stderr, "etl-sql-lineage: standard input: %s\n", strerror(errno));
      status = EXIT_USAGE;
      goto out;
    }
    if (process("standard input", text, len, d, defs, schema, &src, &dst, &oc))
      status = EXIT_SQL;
    free(text);
  }
  for (int i = first_file; i < argc; i++) {
    size_t len;
    char *text = read_path(argv[i], &len);
    if (!text) {
      fprintf(stderr, "etl-sql-lineage: %s: %s\n", argv[i], strerror(errno));
      status = EXIT_USAGE;
      goto out;
    }
    if (process(argv[i], text, len, d, defs, schema, &src, &dst, &oc))
      status = EXIT_SQL;
    free(text);
  }
  if (status == 0)
    status = print_json(&src, &dst, &oc);
out:
  sql_table_set_free(&src);
  sql_table_set_free(&dst);
  sql_definitions_free(&defs);
  sql_schema_free(&schema);
  out_columns_clear(&oc);
  return status;
}
