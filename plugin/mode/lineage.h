/*
 * lineage.h -- the tables one Mode query reads, as OpenMetadata table FQNs: Liquid and
 * `{{ @definition }}` references are rendered first (plugin/sql), the tables are extracted
 * in the data source's dialect, and each is placed under a database service:
 *   service  = dataSourceServiceMap[data source], else the one dbServicePrefixes entry that
 *              fits the data source's database, else the only dbServiceNames entry, else unknown;
 *   database = the SQL's catalog, else the prefix's database, else the data source's database
 *              (BigQuery: its project), else unknown;
 *   schema   = the SQL's schema, else the prefix's schema, else the data source's default
 *              schema (MySQL, Athena: adapters.h), else unknown;
 * an unknown part is NULL (and "*" in the FQN), so a sink resolves it by search, not guess.
 */
#ifndef MODE_LINEAGE_H
#define MODE_LINEAGE_H

#include <stddef.h>

#include "conf.h"
#include "model.h"

struct sql_cancel;
struct sql_definitions;

struct mode_lineage_table {
  char *service, *database, *schema, *name; /* owned; NULL = unknown */
  char *fqn;                                /* owned */
};

/* A table column one result column reads. */
struct mode_lineage_column_source {
  size_t table; /* index into the lineage's tables[] */
  char *column; /* owned; as the SQL names it (lower-cased unless quoted), "*" for every column */
};

/* One column of the query's result (plugin/sql's column lineage, docs/sql-lineage.md);
 * columns of the same name are merged into the first, so names are unique. */
struct mode_lineage_column {
  char *name;              /* owned */
  const char *data_type;   /* static: OpenMetadata's dataType, "UNKNOWN" unless a cast tells */
  char *data_type_display; /* owned: the cast's type as written (lower case), or NULL */
  int data_length;         /* CHAR/VARCHAR/BINARY/VARBINARY(n): n; else 0 */
  struct mode_lineage_column_source *sources; /* owned */
  size_t n_sources;
};

struct mode_lineage {
  char *sql;                         /* owned: the rendered SQL */
  struct mode_lineage_table *tables; /* owned */
  size_t n_tables;
  struct mode_lineage_column *columns; /* owned; the result's columns in order */
  size_t n_columns;
};

/* Computes the lineage of raw (Mode query text). ds may be NULL (unknown data source), defs
 * may be NULL, cancel may be NULL (never: otherwise rendering and extraction stop within
 * milliseconds once it says so, and the call fails with "cancelled"). Returns 0 and fills *out
 * (free with mode_lineage_clear), or -1 with a reason in err (SQL not understood, a definition
 * cycle, cancelled, OOM). */
int mode_lineage_of(const struct mode_config *cfg, const struct sql_definitions *defs,
                    const struct mode_data_source *ds, const char *raw,
                    const struct sql_cancel *cancel, struct mode_lineage *out, char *err,
                    size_t errlen);
void mode_lineage_clear(struct mode_lineage *l);

/* OpenMetadata's dataType for a cast's type text ("DECIMAL(10,2)" -> "DECIMAL", "TEXT" ->
 * "TEXT", "INT64" -> "BIGINT", unknown -> "UNKNOWN"); *length gets n of CHAR/VARCHAR/BINARY/
 * VARBINARY(n), else 0. A character or binary type without a length maps to STRING / BYTES,
 * since OpenMetadata wants a dataLength with CHAR, VARCHAR, BINARY and VARBINARY. */
const char *mode_lineage_data_type(const char *cast, int *length);

/* lineageDetails.sqlQuery is informational. Repeated whole on every edge of a query it made
 * the output grow with tables x SQL size (issue 14: 0.1 MB of SQL gave 472 MB), so an edge
 * carries at most MODE_LINEAGE_SQL_MAX bytes of it and a query's edges together at most
 * MODE_LINEAGE_SQL_BUDGET; an edge into a data model carries none (the model's `sql` holds
 * the query once). */
#define MODE_LINEAGE_SQL_MAX 4096
#define MODE_LINEAGE_SQL_BUDGET 16384

/* The first max bytes of sql at most, cut at a UTF-8 character boundary and marked
 * "-- (truncated)" when cut. Returns a malloc'd string (caller frees), or NULL on OOM. */
char *mode_lineage_sql_excerpt(const char *sql, size_t max);

#endif
