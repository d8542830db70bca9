/*
 * adapters.c -- the warehouse of each Mode adapter (see adapters.h and docs/mode.md).
 */
#include "config.h"

#include "adapters.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One row per adapter Mode's data source objects name (DataHub's mode.py
 * _get_datahub_friendly_platform lists the same adapters). The service types are
 * OpenMetadata's databaseServiceType enum (entity/services/databaseService.json). Databases:
 *   - BigQuery: Mode's `database` is "default", the project is `host` (mode.py
 *     _get_platform_and_dbname: "on bigquery we want to change the database if its default");
 *   - MySQL, MariaDB: OpenMetadata has no database level there and names it "default"; the
 *     MySQL database Mode names in `database` is OpenMetadata's schema;
 *   - Athena: OpenMetadata's database is the data catalog ("awsdatacatalog", Athena's own
 *     catalog); the Glue database Mode names in `database` is the schema. */
static const struct mode_adapter adapters[] = {
    {"jdbc:postgresql", "Postgres", "postgres", MODE_DB_FROM_DATABASE, NULL},
    {"jdbc:redshift", "Redshift", "redshift", MODE_DB_FROM_DATABASE, NULL},
    {"jdbc:snowflake", "Snowflake", "snowflake", MODE_DB_FROM_DATABASE, NULL},
    {"jdbc:bigquery", "BigQuery", "bigquery", MODE_DB_FROM_HOST, NULL},
    {"jdbc:databricks", "Databricks", "databricks", MODE_DB_FROM_DATABASE, NULL},
    {"jdbc:presto", "Presto", "trino", MODE_DB_FROM_DATABASE, NULL},
    {"jdbc:trino", "Trino", "trino", MODE_DB_FROM_DATABASE, NULL},
    {"jdbc:mysql", "Mysql", "mysql", MODE_DB_LITERAL, "default"},
    {"jdbc:mariadb", "MariaDB", "mysql", MODE_DB_LITERAL, "default"},
    {"jdbc:sqlserver", "Mssql", "tsql", MODE_DB_FROM_DATABASE, NULL},
    {"jdbc:athena", "Athena", "trino", MODE_DB_LITERAL, "awsdatacatalog"},
};

const struct mode_adapter *mode_adapter_table(unsigned *n) {
  *n = (unsigned)(sizeof adapters / sizeof adapters[0]);
  return adapters;
}

/* "jdbc:bigquery" and "bigquery" name the same adapter (older data sources say the latter). */
static const char *bare(const char *adapter) {
  return strncasecmp(adapter, "jdbc:", 5) == 0 ? adapter + 5 : adapter;
}

const struct mode_adapter *mode_adapter_find(const char *adapter) {
  if (adapter == NULL)
    return NULL;
  for (size_t i = 0; i < sizeof adapters / sizeof adapters[0]; i++)
    if (strcasecmp(bare(adapters[i].adapter), bare(adapter)) == 0)
      return &adapters[i];
  return NULL;
}

static int given(const char *s) {
  return s != NULL && *s != '\0';
}

/* A copy of s, or NULL when s is NULL or empty; sets *oom when the copy fails. */
static char *copy(const char *s, int *oom) {
  if (!given(s))
    return NULL;
  char *c = strdup(s);
  *oom |= c == NULL;
  return c;
}

int mode_adapter_place(const char *adapter, const char *database, const char *host,
                       const char *bigquery_project_id, char **db_out, char **schema_out) {
  const struct mode_adapter *a = mode_adapter_find(adapter);
  int oom = 0;
  *db_out = *schema_out = NULL;
  switch (a ? a->database_from : MODE_DB_FROM_DATABASE) {
  case MODE_DB_FROM_DATABASE:
    *db_out = copy(database, &oom);
    break;
  case MODE_DB_FROM_HOST:
    if (given(host))
      *db_out = copy(host, &oom);
    else if (given(bigquery_project_id))
      *db_out = copy(bigquery_project_id, &oom);
    else if (given(database) && strcasecmp(database, "default") != 0)
      *db_out = copy(database, &oom);
    break;
  case MODE_DB_LITERAL:
    *db_out = copy(a->literal, &oom);
    *schema_out = copy(database, &oom);
    break;
  }
  if (oom) {
    free(*db_out), free(*schema_out);
    *db_out = *schema_out = NULL;
    return -1;
  }
  return 0;
}
