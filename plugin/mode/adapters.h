/*
 * adapters.h -- where each Mode data source adapter puts its tables in OpenMetadata: the
 * database service type, the database and default schema a table without them lives in, and
 * the SQL dialect its queries are read in. The table is in adapters.c and docs/mode.md
 * ("Warehouses"); each row is tested in tests/unit/test_mode_adapters.c.
 *
 * Why a table: Mode's data source object names things the way its JDBC driver does, not the
 * way OpenMetadata does. BigQuery's `database` is the literal "default" and the project is in
 * `host` (DataHub's mode.py _get_platform_and_dbname); MySQL's `database` is what OpenMetadata
 * calls a schema, its database being "default". Read naively, lineage names a database that
 * matches nothing in the catalog.
 */
#ifndef MODE_ADAPTERS_H
#define MODE_ADAPTERS_H

/* Where OpenMetadata's database name comes from in Mode's data source object. */
enum mode_db_from {
  MODE_DB_FROM_DATABASE, /* `database` */
  MODE_DB_FROM_HOST,     /* `host` (BigQuery's project), else `bigquery_project_id`, else a
                            `database` other than "default" */
  MODE_DB_LITERAL        /* always `literal`; Mode's `database` is then the default schema */
};

struct mode_adapter {
  const char *adapter;      /* Mode's `adapter`, e.g. "jdbc:bigquery" (compared ignoring case) */
  const char *service_type; /* OpenMetadata's databaseServiceType, e.g. "BigQuery" */
  const char *dialect;      /* plugin/sql dialect name (sql_dialect_from_name) */
  enum mode_db_from database_from;
  const char *literal; /* MODE_DB_LITERAL: OpenMetadata's name of the database */
};

/* The row of adapter, or NULL when the adapter is not in the table (its `database` is then
 * taken as the database, and the dialect is guessed from the adapter's name). */
const struct mode_adapter *mode_adapter_find(const char *adapter);

/* Every row, for the docs and the tests: *n gets the count. */
const struct mode_adapter *mode_adapter_table(unsigned *n);

/* Places a data source: the database and default schema of the tables its queries name
 * without them. Inputs are the data source's members (any may be NULL). Each output is a
 * malloc'd string owned by the caller, or NULL when unknown. Returns 0, or -1 on OOM. */
int mode_adapter_place(const char *adapter, const char *database, const char *host,
                       const char *bigquery_project_id, char **db_out, char **schema_out);

#endif
