/*
 * test_mode_adapters.c -- each row of the adapter table (plugin/mode/adapters.c, docs/mode.md
 * "Warehouses"): a data source object as Mode sends it gives the documented OpenMetadata
 * service type, database and default schema, and its queries are read in the documented
 * dialect; lineage then names a table without a database under the right one.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "adapters.h"
#include "conf.h"
#include "lineage.h"
#include "model.h"
#include "plugin/sql/sql_lineage.h"
#include "testutil.h"

/* The expectations are written out here, not read from the table: they are what docs/mode.md
 * promises. */
static const struct {
  const char *adapter, *database, *host, *project; /* the data source as Mode sends it */
  const char *service_type;                        /* NULL: not in the table */
  const char *om_database, *om_schema;             /* NULL: unknown */
  enum sql_dialect dialect;
  const char *fqn; /* lineage of `SELECT * FROM orders` */
} rows[] = {
    {"jdbc:postgresql", "dvdrental", "10.0.12.4", NULL, "Postgres", "dvdrental", NULL,
     SQL_DIALECT_POSTGRES, "*.dvdrental.*.orders"},
    {"jdbc:redshift", "dev", "acme.redshift.amazonaws.com", NULL, "Redshift", "dev", NULL,
     SQL_DIALECT_REDSHIFT, "*.dev.*.orders"},
    {"jdbc:snowflake", "ANALYTICS", "acme.snowflakecomputing.com", NULL, "Snowflake", "ANALYTICS",
     NULL, SQL_DIALECT_SNOWFLAKE, "*.ANALYTICS.*.orders"},
    /* BigQuery: `database` is "default" and the project is `host` (DataHub's tests). */
    {"jdbc:bigquery", "default", "analytics-prod", NULL, "BigQuery", "analytics-prod", NULL,
     SQL_DIALECT_BIGQUERY, "*.analytics-prod.*.orders"},
    {"JDBC:BigQuery", "default", NULL, "proj-2", "BigQuery", "proj-2", NULL, SQL_DIALECT_BIGQUERY,
     "*.proj-2.*.orders"},
    {"jdbc:bigquery", "default", "", NULL, "BigQuery", NULL, NULL, SQL_DIALECT_BIGQUERY,
     "*.*.*.orders"},
    {"bigquery", "default", "analytics-prod", NULL, "BigQuery", "analytics-prod", NULL,
     SQL_DIALECT_BIGQUERY, "*.analytics-prod.*.orders"},
    {"jdbc:databricks", "main", "acme.cloud.databricks.com", NULL, "Databricks", "main", NULL,
     SQL_DIALECT_DATABRICKS, "*.main.*.orders"},
    {"jdbc:presto", "hive", "presto.acme", NULL, "Presto", "hive", NULL, SQL_DIALECT_TRINO,
     "*.hive.*.orders"},
    {"jdbc:trino", "iceberg", "trino.acme", NULL, "Trino", "iceberg", NULL, SQL_DIALECT_TRINO,
     "*.iceberg.*.orders"},
    /* MySQL: OpenMetadata's database is "default", Mode's `database` is the schema. */
    {"jdbc:mysql", "shop", "10.0.3.9", NULL, "Mysql", "default", "shop", SQL_DIALECT_MYSQL,
     "*.default.shop.orders"},
    {"jdbc:mariadb", "shop", "10.0.3.9", NULL, "MariaDB", "default", "shop", SQL_DIALECT_MYSQL,
     "*.default.shop.orders"},
    {"jdbc:sqlserver", "Reporting", "10.0.7.2", NULL, "Mssql", "Reporting", NULL, SQL_DIALECT_TSQL,
     "*.Reporting.*.orders"},
    {"jdbc:athena", "weblogs", "athena.us-east-1.amazonaws.com", NULL, "Athena", "awsdatacatalog",
     "weblogs", SQL_DIALECT_TRINO, "*.awsdatacatalog.weblogs.orders"},
    /* Not in the table: `database` as it is, the dialect from the name. */
    {"jdbc:vertica", "vdb", "10.0.0.1", NULL, NULL, "vdb", NULL, SQL_DIALECT_ANSI,
     "*.vdb.*.orders"},
};

static void assert_str_or_null(const char *got, const char *want, const char *what) {
  if (want == NULL)
    ck_assert_msg(got == NULL, "%s: %s, want unknown", what, got);
  else
    ck_assert_msg(got && strcmp(got, want) == 0, "%s: %s, want %s", what, got ? got : "unknown",
                  want);
}

START_TEST(each_adapter_row) {
  const char *adapter = rows[_i].adapter;
  const struct mode_adapter *a = mode_adapter_find(adapter);
  assert_str_or_null(a ? a->service_type : NULL, rows[_i].service_type, adapter);
  enum sql_dialect d;
  sql_dialect_from_name(adapter, &d);
  ck_assert_msg(d == rows[_i].dialect, "%s: dialect %d, want %d", adapter, d, rows[_i].dialect);
  if (a) {
    enum sql_dialect row_d;
    ck_assert_int_eq(sql_dialect_from_name(a->dialect, &row_d), SQL_OK);
    ck_assert_msg(row_d == d, "%s: the table says %s, the reader uses %d", adapter, a->dialect, d);
  }
  char *db = NULL, *schema = NULL;
  ck_assert_int_eq(
      mode_adapter_place(adapter, rows[_i].database, rows[_i].host, rows[_i].project, &db, &schema),
      0);
  assert_str_or_null(db, rows[_i].om_database, "database");
  assert_str_or_null(schema, rows[_i].om_schema, "schema");

  /* Lineage of a table named without database or schema lands where the row says. */
  struct mode_data_source ds = {"1", "tok", "Warehouse", (char *)adapter, db, schema};
  struct mode_config c;
  char err[512];
  const char *conn =
      "{\"accessToken\":\"t\",\"accessTokenPassword\":\"s\",\"workspaceName\":\"w\"}";
  ck_assert_int_eq(mode_config_parse(conn, strlen(conn), NULL, 0, &c, NULL, NULL, err, sizeof err),
                   0);
  struct mode_lineage l;
  ck_assert_int_eq(
      mode_lineage_of(&c, NULL, &ds, "SELECT * FROM orders", NULL, &l, err, sizeof err), 0);
  ck_assert_uint_eq(l.n_tables, 1);
  ck_assert_str_eq(l.tables[0].fqn, rows[_i].fqn);
  mode_lineage_clear(&l);
  /* A schema the SQL names wins over the default schema. */
  ck_assert_int_eq(
      mode_lineage_of(&c, NULL, &ds, "SELECT * FROM sales.orders", NULL, &l, err, sizeof err), 0);
  ck_assert_ptr_nonnull(l.tables[0].schema);
  ck_assert_str_eq(l.tables[0].schema, "sales");
  mode_lineage_clear(&l);
  mode_config_free(&c);
  free(db), free(schema);
}
END_TEST

/* Every row of the table is one of the cases above. */
START_TEST(every_row_is_tested) {
  unsigned n;
  const struct mode_adapter *t = mode_adapter_table(&n);
  for (unsigned i = 0; i < n; i++) {
    int seen = 0;
    for (size_t k = 0; k < sizeof rows / sizeof rows[0] && !seen; k++)
      seen = rows[k].service_type && strcmp(rows[k].adapter, t[i].adapter) == 0;
    ck_assert_msg(seen, "adapter %s has no case in this test", t[i].adapter);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("mode_adapters");
  TCase *tc = tcase_create("adapters");
  tcase_add_loop_test(tc, each_adapter_row, 0, (int)(sizeof rows / sizeof rows[0]));
  tcase_add_test(tc, every_row_is_tested);
  suite_add_tcase(s, tc);
  return test_run_suite(s);
}
