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

struct mode_lineage {
  char *sql;                         /* owned: the rendered SQL */
  struct mode_lineage_table *tables; /* owned */
  size_t n_tables;
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
