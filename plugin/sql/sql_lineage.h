/*
 * sql_lineage.h -- table-level lineage of SQL text, and the Mode templating (Liquid and
 * `{{ @definition }}` references) that must be rendered before it. A small library for plugins:
 * no dependency beyond libc, no global state, every call reentrant.
 *
 * Typical use (what the Mode connector does for each query):
 *
 *   sql_render_template(raw, len, defs, &sql, &sql_len, err, sizeof err);
 *   sql_extract_tables(sql, sql_len, SQL_DIALECT_SNOWFLAKE, &lineage, err, sizeof err);
 *   ... lineage->sources[i].schema, .name ...
 *   sql_lineage_free(&lineage); free(sql);
 */
#ifndef SQL_LINEAGE_H
#define SQL_LINEAGE_H

#include <stddef.h>

#define SQL_OK 0
#define SQL_ERR_SYNTAX (-1) /* the text is not SQL we can read (message in err) */
#define SQL_ERR_NOMEM (-2)
#define SQL_ERR_LIMIT (-3)  /* input beyond a built-in bound (nesting depth, size) */
#define SQL_ERR_CYCLE (-4)  /* definitions reference each other in a cycle */
#define SQL_ERR_CANCELLED (-5) /* the caller's cancel callback asked to stop */

enum sql_dialect {
  SQL_DIALECT_ANSI = 0,
  SQL_DIALECT_POSTGRES,
  SQL_DIALECT_REDSHIFT,
  SQL_DIALECT_SNOWFLAKE,
  SQL_DIALECT_BIGQUERY,
  SQL_DIALECT_MYSQL,
  SQL_DIALECT_TSQL,
  SQL_DIALECT_DATABRICKS, /* also Spark SQL */
  SQL_DIALECT_HIVE,
  SQL_DIALECT_TRINO,      /* also Presto, Athena */
  SQL_DIALECT_ORACLE,
  SQL_DIALECT_SQLITE
};

/* Maps a dialect name ("snowflake", "bigquery", "postgres"/"postgresql", "redshift", "mysql",
 * "tsql"/"mssql"/"sqlserver", "databricks"/"spark"/"sparksql", "hive", "trino"/"presto"/
 * "athena", "oracle", "sqlite", "ansi"/"generic"), or a Mode data source adapter name
 * ("jdbc:snowflake", "bigquery", "postgres", ...), case-insensitively. Returns SQL_OK, or
 * SQL_ERR_SYNTAX for an unknown name (*out is then SQL_DIALECT_ANSI). */
int sql_dialect_from_name(const char *name, enum sql_dialect *out);

/* One table as written in the SQL, unquoted. Absent parts are NULL: `t` has only name,
 * `s.t` schema and name, `db.s.t` (BigQuery `project.dataset.table`) all three. */
struct sql_table {
  char *catalog; /* database / project / catalog */
  char *schema;  /* schema / dataset */
  char *name;
};

/* One base-table column a result column is computed from. */
struct sql_column_source {
  size_t table; /* index into the lineage's sources[] */
  char *column; /* lower-cased unless quoted (then as written, unquoted); "*" for every column */
};

/* One column of a statement's result (see sql_extract_lineage). */
struct sql_column {
  char *name;      /* as the database names it: alias, else a plain reference's column, else
                      the expression's text; "*" for every column of an unknown table */
  char *data_type; /* the type of a top-level CAST / `::` (upper-case, as written), else NULL */
  struct sql_column_source *sources; /* sorted by "<table>.<column>", unique; owned */
  size_t n_sources;
};

/* What one text reads and writes, de-duplicated, in order of first appearance. */
struct sql_lineage {
  struct sql_table *sources;
  size_t n_sources;
  struct sql_table *targets;
  size_t n_targets;
  /* Filled only by sql_extract_lineage with columns asked for: the result columns of the last
   * statement that returns rows or writes a target, in order. */
  struct sql_column *columns;
  size_t n_columns;
  /* SQL_OK, or why columns are missing although the tables are there (SQL_ERR_LIMIT: the
   * text is beyond the column analysis' work bound). */
  int columns_status;
};

/* Extracts the tables read and written by sql (len bytes, NUL not required; may hold several
 * statements separated by ';'). Identifiers keep their case as written, unquoted; callers
 * that compare names case-insensitively lower-case them. On success stores a new lineage in
 * *out (owned by the caller, free with sql_lineage_free). On failure returns a negative status
 * and writes a one-line reason naming the position into err (errlen bytes, may be 0). Never
 * crashes or hangs on any bytes; time and memory are linear in len. */
int sql_extract_tables(const char *sql, size_t len, enum sql_dialect dialect,
                       struct sql_lineage **out, char *err, size_t errlen);

/* How a caller stops a long call (a plugin whose run was interrupted): the library calls
 * cancelled(ctx) from the calling thread every few thousand tokens, tags or nodes, and when it
 * returns non-zero, the call frees what it built and returns SQL_ERR_CANCELLED within
 * milliseconds. The callback typically reads an atomic flag that another thread sets. */
struct sql_cancel {
  int (*cancelled)(void *ctx);
  void *ctx; /* the caller's; passed back untouched */
};

/* sql_extract_tables, stopped early when cancel says so (cancel may be NULL: never). */
int sql_extract_tables_cancellable(const char *sql, size_t len, enum sql_dialect dialect,
                                   const struct sql_cancel *cancel, struct sql_lineage **out,
                                   char *err, size_t errlen);

/* ---- column lineage ------------------------------------------------------------------- */

/* Known columns of tables, for `*` and unqualified names (etl-sql-lineage --schema). */
struct sql_schema;

struct sql_schema *sql_schema_new(void);

/* Adds a column to a table. `table` is the dotted name as sql_table_dotted writes it (matched
 * ASCII case-insensitively), `column` as the database names it (matched case-insensitively).
 * Both are copied; columns keep the order they were added in. SQL_OK or SQL_ERR_NOMEM. */
int sql_schema_add(struct sql_schema *schema, const char *table, const char *column);

/* Releases the schema; NULL-safe; sets *schema to NULL. */
void sql_schema_free(struct sql_schema **schema);

struct sql_extract_options {
  int columns;                     /* non-zero: fill the lineage's columns too */
  const struct sql_schema *schema; /* NULL: no table's columns are known */
  const struct sql_cancel *cancel; /* NULL: never cancelled */
};

/* sql_extract_tables_cancellable, plus column lineage when opts->columns is set (opts may be
 * NULL: tables only). The columns describe the result of the last statement that returns rows
 * or writes a target; statements of the same kind and target before it (the variants a Liquid
 * template renders into, see sql_render_template) are merged into it by position. Same
 * ownership, errors and bounds as sql_extract_tables; docs/sql-lineage.md has the rules. */
int sql_extract_lineage(const char *sql, size_t len, enum sql_dialect dialect,
                        const struct sql_extract_options *opts, struct sql_lineage **out,
                        char *err, size_t errlen);

/* Releases a lineage; NULL-safe; sets *lineage to NULL. */
void sql_lineage_free(struct sql_lineage **lineage);

/* Formats a table as its dotted name without quotes ("db.s.t"). Returns a malloc'd string
 * owned by the caller, or NULL on OOM. */
char *sql_table_dotted(const struct sql_table *table);

/* ---- Mode templating ----------------------------------------------------------------- */

/* A workspace's definitions: name -> SQL body. Owned by whoever created it. */
struct sql_definitions;

struct sql_definitions *sql_definitions_new(void);

/* Adds (or replaces) a definition. `name` is as Mode lists it (with or without a leading
 * '@'); `body` is the definition's SQL, len bytes, in which the two-character sequences "\n",
 * "\t" and "\r" are read as line breaks and tabs, as Mode's recorded bodies carry them.
 * Both are copied. Returns SQL_OK or SQL_ERR_NOMEM. */
int sql_definitions_add(struct sql_definitions *defs, const char *name, const char *body,
                        size_t len);

/* Releases the definitions; NULL-safe; sets *defs to NULL. */
void sql_definitions_free(struct sql_definitions **defs);

/* Renders Mode's templating into plain SQL: `{% form %}...{% endform %}` removed and its
 * fields' defaults bound as variables; `{{ var }}` and filters rendered; `{% if %}`,
 * `{% case %}`, `{% for %}` and friends rendered so that the tables of every branch appear;
 * `{{ @name as alias }}` replaced by `(definition SQL) AS alias` when defs has it (recursively,
 * cycles are an error), else by a placeholder that is never taken for a table. defs may be
 * NULL. On success stores malloc'd text in *out (NUL-terminated, caller frees) and its length
 * in *out_len. Errors as sql_extract_tables. */
int sql_render_template(const char *text, size_t len, const struct sql_definitions *defs,
                        char **out, size_t *out_len, char *err, size_t errlen);

/* sql_render_template, stopped early when cancel says so (cancel may be NULL: never). */
int sql_render_template_cancellable(const char *text, size_t len,
                                    const struct sql_definitions *defs,
                                    const struct sql_cancel *cancel, char **out, size_t *out_len,
                                    char *err, size_t errlen);

/* Like sql_render_template, but renders one plausible query for people to read: each
 * conditional's first branch, form defaults bound, definitions expanded. Not for lineage (the
 * tables of other branches are missing). Same ownership and errors. (Added declaration.) */
int sql_render_preview(const char *text, size_t len, const struct sql_definitions *defs, char **out,
                       size_t *out_len, char *err, size_t errlen);

#endif
