/*
 * test_mode_columns.c -- issue 10 items 2 and 3 in the Mode connector: a query's result columns
 * reach its data model (name, dataType UNKNOWN unless a cast tells, ordinalPosition), and each
 * table -> data model lineage record carries lineageDetails.columnsLineage with full column
 * FQNs, per /work/notes/colrecord.md (docs/entities.md): only that table's columns, entries
 * without from-columns left out, none on edges into a dashboard. Also the cast type mapping
 * and the table index mapping when two SQL names give one table FQN.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assemble.h"
#include "conf.h"
#include "entities.h"
#include "lineage.h"
#include "testutil.h"

static struct mode_config config(const char *src) {
  struct mode_config c;
  char err[512];
  const char *conn = "{\"accessToken\":\"t\",\"accessTokenPassword\":\"s\",\"workspaceName\":\"w\"}";
  ck_assert_msg(mode_config_parse(conn, strlen(conn), src, strlen(src), &c, NULL, NULL, err,
                                  sizeof err) == 0,
                "%s", err);
  return c;
}

/* ---- lineage.c --------------------------------------------------------------------------- */

START_TEST(lineage_gives_columns_with_table_indexes) {
  /* `t` and `s.t` are one table under the prefix's schema s: one table, both columns on it. */
  struct mode_config c = config("{\"lineageInformation\":{\"dbServicePrefixes\":[\"svc.db.s\"]}}");
  struct mode_lineage l;
  char err[256];
  const char *sql = "SELECT x.a, y.b AS bee, CAST(x.c AS VARCHAR(20)) AS c, x.a, z.d "
                    "FROM t x JOIN s.t y ON x.id = y.id JOIN other z ON true";
  ck_assert_int_eq(mode_lineage_of(&c, NULL, NULL, sql, NULL, &l, err, sizeof err), 0);
  ck_assert_uint_eq(l.n_tables, 2);
  ck_assert_str_eq(l.tables[0].fqn, "svc.db.s.t");
  ck_assert_str_eq(l.tables[1].fqn, "svc.db.s.other");
  ck_assert_uint_eq(l.n_columns, 4); /* the repeated `a` is merged into the first */
  ck_assert_str_eq(l.columns[0].name, "a");
  ck_assert_str_eq(l.columns[0].data_type, "UNKNOWN");
  ck_assert_uint_eq(l.columns[0].n_sources, 1);
  ck_assert_uint_eq(l.columns[0].sources[0].table, 0);
  ck_assert_str_eq(l.columns[1].name, "bee");
  ck_assert_uint_eq(l.columns[1].sources[0].table, 0); /* s.t is t */
  ck_assert_str_eq(l.columns[1].sources[0].column, "b");
  ck_assert_str_eq(l.columns[2].data_type, "VARCHAR");
  ck_assert_int_eq(l.columns[2].data_length, 20);
  ck_assert_str_eq(l.columns[2].data_type_display, "varchar(20)");
  ck_assert_str_eq(l.columns[3].name, "d");
  ck_assert_uint_eq(l.columns[3].sources[0].table, 1);
  mode_lineage_clear(&l);
  ck_assert_uint_eq(l.n_columns, 0);
  mode_config_free(&c);
}
END_TEST

static const struct {
  const char *cast, *type;
  int length;
} types[] = {
    {NULL, "UNKNOWN", 0},
    {"DECIMAL(10,2)", "DECIMAL", 0},
    {"NUMBER(38,0)", "NUMBER", 0},
    {"INT64", "BIGINT", 0},
    {"FLOAT64", "DOUBLE", 0},
    {"DOUBLE PRECISION", "DOUBLE", 0},
    {"VARCHAR(255)", "VARCHAR", 255},
    {"VARCHAR", "STRING", 0}, /* no length: OpenMetadata wants one with VARCHAR */
    {"VARCHAR(MAX)", "STRING", 0},
    {"CHARACTER VARYING(8)", "VARCHAR", 8},
    {"CHAR(2)", "CHAR", 2},
    {"VARBINARY", "BYTES", 0},
    {"TEXT", "TEXT", 0},
    {"DATE", "DATE", 0},
    {"TIMESTAMP WITH TIME ZONE", "TIMESTAMPZ", 0},
    {"TIMESTAMP_NTZ", "TIMESTAMP", 0},
    {"TIMESTAMPTZ", "TIMESTAMPZ", 0},
    {"BOOL", "BOOLEAN", 0},
    {"JSONB", "JSON", 0},
    {"VARIANT", "VARIANT", 0},
    {"MY_DOMAIN", "UNKNOWN", 0},
};

START_TEST(cast_types_map_to_openmetadata) {
  int length = -1;
  const char *t = mode_lineage_data_type(types[_i].cast, &length);
  ck_assert_msg(strcmp(t, types[_i].type) == 0, "%s: %s, want %s",
                types[_i].cast ? types[_i].cast : "(none)", t, types[_i].type);
  ck_assert_int_eq(length, types[_i].length);
}
END_TEST

/* ---- entities.c -------------------------------------------------------------------------- */

START_TEST(datamodel_record_lists_columns) {
  struct mode_entity_ctx ctx = {"mode_svc", "https://app.mode.com", "acme", 0};
  struct mode_model_column cols[] = {{"id", NULL, NULL, 0}, {"amt", "DECIMAL", "decimal(10,2)", 0},
                                     {"code", "VARCHAR", "varchar(3)", 3}};
  struct mode_entity *e =
      mode_entity_datamodel_columns(&ctx, "q1", "Query 1", "SELECT 1", "Coll", cols, 3);
  ck_assert_ptr_nonnull(e);
  ck_assert_ptr_nonnull(strstr(
      e->json, "\"columns\":[{\"name\":\"id\",\"dataType\":\"UNKNOWN\",\"ordinalPosition\":1},"
               "{\"name\":\"amt\",\"dataType\":\"DECIMAL\",\"dataTypeDisplay\":\"decimal(10,2)\","
               "\"ordinalPosition\":2},{\"name\":\"code\",\"dataType\":\"VARCHAR\","
               "\"dataTypeDisplay\":\"varchar(3)\",\"dataLength\":3,\"ordinalPosition\":3}]"));
  mode_entity_free(e);
  /* The old builder still gives an empty list. */
  e = mode_entity_datamodel(&ctx, "q2", NULL, "SELECT 1", "Coll");
  ck_assert_ptr_nonnull(strstr(e->json, "\"columns\":[]"));
  mode_entity_free(e);
}
END_TEST

/* ---- assemble.c: the records of a report --------------------------------------------------- */

struct records {
  char *json[64]; /* owned */
  const char *kind[64];
  size_t n;
};

static void keep(void *ctx, struct mode_entity *e) {
  struct records *r = ctx;
  ck_assert_ptr_nonnull(e);
  ck_assert_uint_lt(r->n, 64);
  r->kind[r->n] = e->kind;
  r->json[r->n++] = strdup(e->json);
  mode_entity_free(e);
}

/* The record of that kind whose JSON holds `needle`, or NULL. */
static const char *find(const struct records *r, const char *kind, const char *needle) {
  for (size_t i = 0; i < r->n; i++)
    if (strcmp(r->kind[i], kind) == 0 && strstr(r->json[i], needle))
      return r->json[i];
  return NULL;
}

static void records_free(struct records *r) {
  for (size_t i = 0; i < r->n; i++)
    free(r->json[i]);
}

static void assemble(struct mode_report *rep, const char *src, struct records *got) {
  struct mode_config cfg = config(src);
  struct mode_owners owners = {0};
  struct mode_assembler a = {.cfg = &cfg,
                             .ectx = {"mode_svc", "https://app.mode.com", "acme", 0},
                             .owners = &owners,
                             .today = "2026-01-01",
                             .ctx = got,
                             .emit = keep};
  mode_assemble(&a, rep);
  mode_assembler_clear(&a);
  mode_config_free(&cfg);
}

START_TEST(report_records_carry_columns_and_column_lineage) {
  struct mode_query q[] = {
      {.token = "q1",
       .name = "Orders",
       .raw_query = "SELECT o.id, c.name AS customer, o.amount * c.rate AS total "
                    "FROM sales.orders o JOIN crm.customers c ON o.cid = c.id"},
      {.token = "q2", .name = "Other", .raw_query = "SELECT * FROM sales.orders"}};
  struct mode_report rep = {.token = "r1", .name = "R", .space_name = "S", .view_count = -1,
                            .queries = q, .n_queries = 2};
  struct records got = {0};
  assemble(&rep, "{\"includeDataModels\":true,\"dataModelFilterPattern\":{\"excludes\":[\"Other\"]}}",
           &got);
  const char *model = find(&got, "dashboardDataModel", "\"name\":\"q1\"");
  ck_assert_ptr_nonnull(model);
  ck_assert_ptr_nonnull(strstr(model, "\"columns\":[{\"name\":\"id\",\"dataType\":\"UNKNOWN\","
                                      "\"ordinalPosition\":1},{\"name\":\"customer\",\"dataType\":"
                                      "\"UNKNOWN\",\"ordinalPosition\":2},{\"name\":\"total\","
                                      "\"dataType\":\"UNKNOWN\",\"ordinalPosition\":3}]"));
  /* Each table's edge lists only its own columns; `customer` reads no orders column. */
  const char *orders = find(&got, "lineage", "\"*.*.sales.orders\"},\"toEntity\":{\"type\":"
                                             "\"dashboardDataModel\"");
  ck_assert_ptr_nonnull(orders);
  ck_assert_ptr_nonnull(strstr(
      orders, "\"columnsLineage\":[{\"fromColumns\":[\"*.*.sales.orders.id\"],\"toColumn\":"
              "\"mode_svc.model.q1.id\"},{\"fromColumns\":[\"*.*.sales.orders.amount\"],"
              "\"toColumn\":\"mode_svc.model.q1.total\"}]"));
  const char *customers = find(&got, "lineage", "\"*.*.crm.customers\"},\"toEntity\"");
  ck_assert_ptr_nonnull(customers);
  ck_assert_ptr_nonnull(strstr(
      customers, "\"columnsLineage\":[{\"fromColumns\":[\"*.*.crm.customers.name\"],"
                 "\"toColumn\":\"mode_svc.model.q1.customer\"},{\"fromColumns\":"
                 "[\"*.*.crm.customers.rate\"],\"toColumn\":\"mode_svc.model.q1.total\"}]"));
  /* The model -> dashboard edge, and q2's table -> dashboard edge (its model is filtered out),
   * carry none. */
  const char *to_dash = find(&got, "lineage", "\"mode_svc.model.q1\"},\"toEntity\"");
  ck_assert_ptr_nonnull(to_dash);
  ck_assert_ptr_null(strstr(to_dash, "columnsLineage"));
  ck_assert_ptr_null(find(&got, "lineage", "\"toEntity\":{\"type\":\"dashboard\",\"fullyQualifiedName\":\"mode_svc.r1\"},\"lineageDetails\":{\"sqlQuery\":\"SELECT * FROM sales.orders\",\"source\":\"DashboardLineage\",\"columnsLineage"));
  ck_assert_ptr_nonnull(find(&got, "lineage", "\"sqlQuery\":\"SELECT * FROM sales.orders\""));
  records_free(&got);
}
END_TEST

/* `*` over a table whose columns are unknown names no column a catalog could show or a column
 * lineage could point at (OpenMetadata refuses a column FQN it cannot find, and the edge with
 * it): it is left out of `columns` and of columnsLineage, and the table -> model edge stays. */
START_TEST(star_over_an_unknown_table_is_no_column) {
  struct mode_query q[] = {{.token = "q1", .raw_query = "SELECT * FROM t"},
                           {.token = "q2", .raw_query = "SELECT *, u.x FROM t, u"}};
  struct mode_report rep = {.token = "r1", .name = "R", .view_count = -1, .queries = q,
                            .n_queries = 2};
  struct records got = {0};
  assemble(&rep, "{\"includeDataModels\":true}", &got);
  const char *m1 = find(&got, "dashboardDataModel", "\"name\":\"q1\"");
  ck_assert_ptr_nonnull(m1);
  ck_assert_ptr_null(strstr(m1, "\"name\":\"*\""));
  const char *e1 = find(&got, "lineage", "\"*.*.*.t\"},\"toEntity\":{\"type\":"
                                         "\"dashboardDataModel\",\"fullyQualifiedName\":"
                                         "\"mode_svc.model.q1\"");
  ck_assert_ptr_nonnull(e1); /* the edge stays */
  ck_assert_ptr_null(strstr(e1, ".*\""));
  const char *m2 = find(&got, "dashboardDataModel", "\"name\":\"q2\"");
  ck_assert_ptr_nonnull(m2);
  ck_assert_ptr_nonnull(strstr(m2, "\"columns\":[{\"name\":\"x\",\"dataType\":\"UNKNOWN\","
                                   "\"ordinalPosition\":1}]"));
  ck_assert_ptr_nonnull(find(&got, "lineage", "\"columnsLineage\":[{\"fromColumns\":"
                                              "[\"*.*.*.u.x\"],\"toColumn\":"
                                              "\"mode_svc.model.q2.x\"}]"));
  ck_assert_ptr_nonnull(find(&got, "lineage", "\"*.*.*.t\"},\"toEntity\":{\"type\":"
                                              "\"dashboardDataModel\",\"fullyQualifiedName\":"
                                              "\"mode_svc.model.q2\""));
  ck_assert_ptr_null(find(&got, "lineage", "mode_svc.model.q2.*"));
  records_free(&got);
}
END_TEST

START_TEST(dataset_takes_its_last_query_columns) {
  struct mode_query q[] = {{.token = "d1", .raw_query = "SELECT a FROM t1"},
                           {.token = "d2", .raw_query = "SELECT b AS bee FROM t2"}};
  struct mode_report rep = {.token = "ds1", .name = "Dataset", .view_count = -1, .is_dataset = 1,
                            .queries = q, .n_queries = 2};
  struct records got = {0};
  assemble(&rep, "{\"includeDataModels\":true}", &got);
  ck_assert_ptr_nonnull(find(&got, "dashboardDataModel",
                             "\"columns\":[{\"name\":\"bee\",\"dataType\":\"UNKNOWN\","
                             "\"ordinalPosition\":1}]"));
  ck_assert_ptr_nonnull(find(&got, "lineage", "\"fromColumns\":[\"*.*.*.t2.b\"],\"toColumn\":"
                                              "\"mode_svc.model.ds1.bee\""));
  const char *t1 = find(&got, "lineage", "\"*.*.*.t1\"");
  ck_assert_ptr_nonnull(t1);
  ck_assert_ptr_null(strstr(t1, "columnsLineage")); /* not the dataset's result */
  records_free(&got);
}
END_TEST

int main(void) {
  Suite *s = suite_create("mode_columns");
  TCase *tc = tcase_create("columns");
  tcase_add_test(tc, lineage_gives_columns_with_table_indexes);
  tcase_add_loop_test(tc, cast_types_map_to_openmetadata, 0, (int)(sizeof types / sizeof types[0]));
  tcase_add_test(tc, datamodel_record_lists_columns);
  tcase_add_test(tc, report_records_carry_columns_and_column_lineage);
  tcase_add_test(tc, star_over_an_unknown_table_is_no_column);
  tcase_add_test(tc, dataset_takes_its_last_query_columns);
  suite_add_tcase(s, tc);
  return test_run_suite(s);
}
