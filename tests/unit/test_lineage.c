/*
 * test_lineage.c -- `etlhost lineage`'s library (lineage.h): reading a catalog the sqlite sink
 * wrote, picking a view (focus, upstream/downstream, depth, fan-out cap, deleted, columns) and
 * drawing it as DOT and SVG with the agreed ids; and the errors for files that are not a
 * catalog and for a focus the catalog does not have.
 *
 * The catalog (two sources, "ws" and "ws2"):
 *   wh.db.s.orders  (id, amount) --> ws.model.m1 (order_id, total) --> ws.d1 <-- ws.c1 [order_id]
 *   wh.db.s.customers (id)       -/                                      ^  <-- ws.c2 [total]
 *   wh.db.s.orders (amount)      --> ws.model.m2 (revenue) ------------/   <-- ws.c3 [revenue]
 *   wh2.db2.s.events             --> ws.model.m3 --> ws.d2
 *   wh.db.s.orders               --> ws.model.m4 (deleted) --> ws.d3 (deleted)
 *   wh.db.s.wide                 --> ws.model.w00..w29 --> ws.dw
 *   wh.db.s.orders (id)          --> ws2.model.x --> ws2.d1
 */
#include "config.h"

#include "lineage.h"
#include "lineage_graph.h"
#include "sink.h"
#include "sink_testlib.h"

#include <stdint.h>
#include <unistd.h>

static char *catalog;
static struct host_lineage_graph *graph;

static void put(const struct host_sink_ops *ops, void *sink, const char *source, const char *kind,
                const char *id, const char *json) {
  struct host_record rec = {source, kind, id, json, strlen(json)};
  bool rejected = false;
  ck_assert_int_eq(ops->write(sink, &rec, &rejected), ETL_OK);
  ck_assert(!rejected);
}

static void put_entity(const struct host_sink_ops *ops, void *sink, const char *service,
                       const char *kind, const char *name, const char *extra) {
  char json[1024];
  snprintf(json, sizeof json,
           "{\"data\": {\"name\": \"%s\", \"displayName\": \"%s title\", \"service\": \"%s\"%s}}",
           name, name, service, extra ? extra : "");
  put(ops, sink, service, kind, name, json);
}

/* A lineage row; cols is the columnsLineage JSON array or NULL. */
static void put_lineage(const struct host_sink_ops *ops, void *sink, const char *source,
                        const char *ft, const char *ff, const char *tt, const char *tf,
                        const char *cols) {
  char json[2048], id[512], from_table[512] = "";
  if (strcmp(ft, "table") == 0) {
    char svc[64], db[64], schema[64], name[64];
    ck_assert_int_eq(sscanf(ff, "%63[^.].%63[^.].%63[^.].%63s", svc, db, schema, name), 4);
    snprintf(from_table, sizeof from_table,
             ", \"fromTable\": {\"service\": \"%s\", \"database\": \"%s\", \"schema\": \"%s\","
             " \"name\": \"%s\"}",
             svc, db, schema, name);
  }
  char details[1200];
  snprintf(details, sizeof details, "{\"source\": \"DashboardLineage\"%s%s}",
           cols ? ", \"columnsLineage\": " : "", cols ? cols : "");
  snprintf(json, sizeof json,
           "{\"data\": {\"fromEntity\": {\"type\": \"%s\", \"fullyQualifiedName\": \"%s\"},"
           " \"toEntity\": {\"type\": \"%s\", \"fullyQualifiedName\": \"%s\"},"
           " \"lineageDetails\": %s}%s}",
           ft, ff, tt, tf, details, from_table);
  snprintf(id, sizeof id, "%s -> %s", ff, tf);
  put(ops, sink, source, "lineage", id, json);
}

static void write_source(const struct host_sink_ops *ops, void *sink, const char *source) {
  ck_assert_int_eq(ops->begin_source(sink, source, "jsonl"), ETL_OK);
  put(ops, sink, source, "dashboardService", source,
      "{\"data\": {\"name\": \"ws\", \"serviceType\": \"Mode\"}}");
  if (strcmp(source, "ws2") == 0) {
    put_entity(ops, sink, "ws2", "dashboardDataModel", "x", ", \"columns\": [{\"name\": \"oid\"}]");
    put_entity(ops, sink, "ws2", "dashboard", "d1", ", \"dataModels\": [\"ws2.model.x\"]");
    put_lineage(ops, sink, "ws2", "table", "wh.db.s.orders", "dashboardDataModel", "ws2.model.x",
                "[{\"fromColumns\": [\"wh.db.s.orders.id\"], \"toColumn\": \"ws2.model.x.oid\"}]");
    put_lineage(ops, sink, "ws2", "dashboardDataModel", "ws2.model.x", "dashboard", "ws2.d1", NULL);
    goto end;
  }
  put_entity(ops, sink, "ws", "dashboardDataModel", "m1",
             ", \"columns\": [{\"name\": \"order_id\"}, {\"name\": \"total\"}]");
  put_entity(ops, sink, "ws", "dashboardDataModel", "m2",
             ", \"columns\": [{\"name\": \"revenue\"}]");
  put_entity(ops, sink, "ws", "dashboardDataModel", "m3", NULL);
  put_entity(ops, sink, "ws", "dashboardDataModel", "m4", NULL);
  put_entity(ops, sink, "ws", "chart", "c1", "}, \"query\": {\"fields\": [\"order_id\"]");
  put_entity(ops, sink, "ws", "chart", "c2", "}, \"query\": {\"fields\": [\"TOTAL\"]");
  put_entity(ops, sink, "ws", "chart", "c3", "}, \"query\": {\"fields\": [\"revenue\"]");
  put_entity(ops, sink, "ws", "dashboard", "d1",
             ", \"charts\": [\"ws.c1\", \"ws.c2\", \"ws.c3\"],"
             " \"dataModels\": [\"ws.model.m1\", \"ws.model.m2\"]");
  put_entity(ops, sink, "ws", "dashboard", "d2", ", \"dataModels\": [\"ws.model.m3\"]");
  put_entity(ops, sink, "ws", "dashboard", "d3", ", \"dataModels\": [\"ws.model.m4\"]");
  put_lineage(
      ops, sink, "ws", "table", "wh.db.s.orders", "dashboardDataModel", "ws.model.m1",
      "[{\"fromColumns\": [\"wh.db.s.orders.id\"], \"toColumn\": \"ws.model.m1.order_id\"},"
      " {\"fromColumns\": [\"wh.db.s.orders.amount\"], \"toColumn\": \"ws.model.m1.total\"}]");
  put_lineage(
      ops, sink, "ws", "table", "wh.db.s.customers", "dashboardDataModel", "ws.model.m1",
      "[{\"fromColumns\": [\"wh.db.s.customers.id\"], \"toColumn\": \"ws.model.m1.order_id\"}]");
  put_lineage(
      ops, sink, "ws", "table", "wh.db.s.orders", "dashboardDataModel", "ws.model.m2",
      "[{\"fromColumns\": [\"wh.db.s.orders.amount\"], \"toColumn\": \"ws.model.m2.revenue\"}]");
  put_lineage(ops, sink, "ws", "table", "wh2.db2.s.events", "dashboardDataModel", "ws.model.m3",
              NULL);
  put_lineage(ops, sink, "ws", "table", "wh.db.s.orders", "dashboardDataModel", "ws.model.m4",
              NULL);
  put_lineage(ops, sink, "ws", "dashboardDataModel", "ws.model.m1", "dashboard", "ws.d1", NULL);
  put_lineage(ops, sink, "ws", "dashboardDataModel", "ws.model.m2", "dashboard", "ws.d1", NULL);
  put_lineage(ops, sink, "ws", "dashboardDataModel", "ws.model.m3", "dashboard", "ws.d2", NULL);
  put_lineage(ops, sink, "ws", "dashboardDataModel", "ws.model.m4", "dashboard", "ws.d3", NULL);
  put_lineage(ops, sink, "ws", "dashboardDataModel", "ws.model.m1", "chart", "ws.c1", NULL);
  put_lineage(ops, sink, "ws", "dashboardDataModel", "ws.model.m1", "chart", "ws.c2", NULL);
  put_lineage(ops, sink, "ws", "dashboardDataModel", "ws.model.m2", "chart", "ws.c3", NULL);
  put_entity(ops, sink, "ws", "dashboard", "dw", NULL);
  for (int i = 0; i < 30; i++) {
    char name[16], fqn[32];
    snprintf(name, sizeof name, "w%02d", i);
    snprintf(fqn, sizeof fqn, "ws.model.w%02d", i);
    put_entity(ops, sink, "ws", "dashboardDataModel", name, NULL);
    put_lineage(ops, sink, "ws", "table", "wh.db.s.wide", "dashboardDataModel", fqn, NULL);
    put_lineage(ops, sink, "ws", "dashboardDataModel", fqn, "dashboard", "ws.dw", NULL);
  }
end:
  ck_assert_int_eq(ops->commit(sink), ETL_OK);
  struct host_source_outcome o = {.complete = false, .run_id = 1, .source_config_json = "{}"};
  ck_assert_int_eq(ops->end_source(sink, source, &o), ETL_OK);
}

static void sql(const char *path, const char *statement) {
  sqlite3 *db = NULL;
  ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
  char *err = NULL;
  int rc = sqlite3_exec(db, statement, NULL, NULL, &err);
  ck_assert_msg(rc == SQLITE_OK, "%s: %s", statement, err ? err : "?");
  sqlite3_close(db);
}

static void build_catalog(void) {
  const struct host_sink_ops *ops = host_sink_find("sqlite");
  char config[1024];
  void *sink = NULL;
  snprintf(config, sizeof config, "{\"path\": \"%s\"}", catalog);
  ck_assert_int_eq(ops->create(config, "{}", t_log, &sink), ETL_OK);
  write_source(ops, sink, "ws");
  write_source(ops, sink, "ws2");
  ops->destroy(&sink);
  /* What a complete run's sweep does to entities a source no longer has. */
  sql(catalog, "UPDATE entities SET deleted = 1 WHERE (kind = 'dashboardDataModel' AND id = 'm4')"
               " OR (kind = 'dashboard' AND id = 'd3') OR (kind = 'lineage' AND id LIKE '%m4%')");
}

static void setup(void) {
  t_setup();
  catalog = test_path("%s/catalog.db", t_dir);
  build_catalog();
  ck_assert_int_eq(host_lineage_load(catalog, t_log, &graph), 0);
}

static void teardown(void) {
  host_lineage_free(&graph);
  free(catalog);
  t_teardown();
}

static bool on(const struct lg_selection *sel, const char *kind, const char *fqn) {
  size_t at = lg_find(graph, kind, fqn);
  ck_assert_msg(at != SIZE_MAX, "%s:%s is not in the graph", kind, fqn);
  return sel->node_on[at];
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The drawn node ids, sorted and joined by spaces ("more" marks excluded). */
static char *drawn(const struct lg_selection *sel) {
  const char **ids = calloc(graph->n_nodes + 1, sizeof *ids);
  size_t n = 0, len = 0;
  for (size_t i = 0; i < graph->n_nodes; i++)
    if (sel->node_on[i])
      ids[n++] = graph->nodes[i].id;
  qsort(ids, n, sizeof *ids, cmp_str);
  char *s = calloc(1, 1);
  for (size_t i = 0; i < n; i++) {
    size_t add = strlen(ids[i]) + (i > 0);
    s = realloc(s, len + add + 1);
    snprintf(s + len, add + 1, "%s%s", i > 0 ? " " : "", ids[i]);
    len += add;
  }
  free(ids);
  return s;
}

static void select_ok(struct host_lineage_view *v, struct lg_selection *sel) {
  ck_assert_int_eq(lg_select(graph, v, sel, t_log), 0);
}

#define ck_assert_drawn(view, expected)                                                            \
  do {                                                                                             \
    struct lg_selection sel_;                                                                      \
    select_ok((view), &sel_);                                                                      \
    char *got_ = drawn(&sel_);                                                                     \
    ck_assert_str_eq(got_, (expected));                                                            \
    free(got_);                                                                                    \
    lg_selection_free(&sel_);                                                                      \
  } while (0)

START_TEST(test_load_reads_nodes_edges_and_sources) {
  /* 4 tables, 4+30+1 data models, 3 charts, 4+1 dashboards: both sources merge on orders. */
  size_t kinds[4] = {0};
  for (size_t i = 0; i < graph->n_nodes; i++) {
    const char *k = graph->nodes[i].kind;
    kinds[strcmp(k, "table") == 0                ? 0
          : strcmp(k, "dashboardDataModel") == 0 ? 1
          : strcmp(k, "chart") == 0              ? 2
                                                 : 3]++;
  }
  ck_assert_uint_eq(kinds[0], 4);
  ck_assert_uint_eq(kinds[1], 35);
  ck_assert_uint_eq(kinds[2], 3);
  ck_assert_uint_eq(kinds[3], 5);
  const struct lg_node *orders = &graph->nodes[lg_find(graph, "table", "wh.db.s.orders")];
  ck_assert_str_eq(orders->label, "s.orders");
  ck_assert_str_eq(orders->group, "wh.db");
  ck_assert_uint_eq(orders->n_out, 4); /* m1, m2, m4, ws2's x */
  ck_assert(!orders->deleted);
  const struct lg_node *m1 = &graph->nodes[lg_find(graph, "dashboardDataModel", "ws.model.m1")];
  ck_assert_str_eq(m1->label, "m1 title");
  ck_assert_str_eq(m1->group_label, "ws (Mode workspace)");
  ck_assert(graph->nodes[lg_find(graph, "dashboardDataModel", "ws.model.m4")].deleted);
  ck_assert(lg_find(graph, "dashboard", "ws2.d1") != SIZE_MAX);
}
END_TEST

START_TEST(test_dashboard_upstream_and_by_id) {
  struct host_lineage_view v = {.focus = HOST_LINEAGE_FOCUS_DASHBOARD, .focus_name = "ws.d1"};
  const char *d1 = "chart:ws.c1 chart:ws.c2 chart:ws.c3 dashboard:ws.d1"
                   " dashboardDataModel:ws.model.m1 dashboardDataModel:ws.model.m2"
                   " table:wh.db.s.customers table:wh.db.s.orders";
  ck_assert_drawn(&v, d1);
  v.upstream = true;
  ck_assert_drawn(&v, d1);
  v.upstream = false;
  v.downstream = true; /* nothing reads a dashboard */
  ck_assert_drawn(&v, "dashboard:ws.d1");
  /* By id: "d2" names one dashboard; "d1" names one in each source. */
  struct host_lineage_view by_id = {.focus = HOST_LINEAGE_FOCUS_DASHBOARD, .focus_name = "d2"};
  ck_assert_drawn(&by_id, "dashboard:ws.d2 dashboardDataModel:ws.model.m3 table:wh2.db2.s.events");
  struct lg_selection sel;
  by_id.focus_name = "d1";
  ck_assert_int_eq(lg_select(graph, &by_id, &sel, t_log), -1);
  ck_assert_logged("dashboard id 'd1' names 'ws.d1' and 'ws2.d1' (several sources): give its FQN");
}
END_TEST

START_TEST(test_table_downstream_leaves_deleted_out) {
  struct host_lineage_view v = {
      .focus = HOST_LINEAGE_FOCUS_TABLE, .focus_name = "wh.db.s.orders", .downstream = true};
  const char *live = "chart:ws.c1 chart:ws.c2 chart:ws.c3 dashboard:ws.d1 dashboard:ws2.d1"
                     " dashboardDataModel:ws.model.m1 dashboardDataModel:ws.model.m2"
                     " dashboardDataModel:ws2.model.x table:wh.db.s.orders";
  ck_assert_drawn(&v, live);
  v.show_deleted = true;
  ck_assert_drawn(&v, "chart:ws.c1 chart:ws.c2 chart:ws.c3 dashboard:ws.d1 dashboard:ws.d3"
                      " dashboard:ws2.d1 dashboardDataModel:ws.model.m1"
                      " dashboardDataModel:ws.model.m2 dashboardDataModel:ws.model.m4"
                      " dashboardDataModel:ws2.model.x table:wh.db.s.orders");
  /* Upstream of a table: nothing feeds it in the catalog. */
  v.show_deleted = false;
  v.downstream = false;
  v.upstream = true;
  ck_assert_drawn(&v, "table:wh.db.s.orders");
}
END_TEST

START_TEST(test_depth_limits_and_marks_what_is_beyond) {
  struct host_lineage_view v = {
      .focus = HOST_LINEAGE_FOCUS_TABLE, .focus_name = "wh.db.s.orders", .depth = 1};
  struct lg_selection sel;
  select_ok(&v, &sel);
  char *got = drawn(&sel);
  ck_assert_str_eq(got, "dashboardDataModel:ws.model.m1 dashboardDataModel:ws.model.m2"
                        " dashboardDataModel:ws2.model.x table:wh.db.s.orders");
  free(got);
  /* The models are reached downstream, so their marks are downstream (customers, upstream of
   * m1, is not lineage of orders): m1 has c1, c2 and d1 beyond, m2 c3 and d1, x ws2.d1. */
  size_t charts = 0, dashboards = 0;
  for (size_t i = 0; i < sel.n_more; i++) {
    ck_assert(sel.more[i].by_depth);
    ck_assert_int_eq(sel.more[i].dir, LG_DOWN);
    if (strcmp(sel.more[i].kind, "chart") == 0)
      charts += sel.more[i].count;
    else if (strcmp(sel.more[i].kind, "dashboard") == 0)
      dashboards += sel.more[i].count;
  }
  ck_assert_uint_eq(charts, 3);
  ck_assert_uint_eq(dashboards, 3);  /* d1 from m1 and m2, ws2.d1 from x */
  ck_assert_uint_eq(sel.omitted, 5); /* distinct: c1 c2 c3 d1 ws2.d1 */
  lg_selection_free(&sel);
  v.depth = 2;
  ck_assert_drawn(&v, "chart:ws.c1 chart:ws.c2 chart:ws.c3 dashboard:ws.d1 dashboard:ws2.d1"
                      " dashboardDataModel:ws.model.m1 dashboardDataModel:ws.model.m2"
                      " dashboardDataModel:ws2.model.x table:wh.db.s.orders");
}
END_TEST

START_TEST(test_fanout_cap_collapses_the_rest) {
  struct host_lineage_view v = {
      .focus = HOST_LINEAGE_FOCUS_TABLE, .focus_name = "wh.db.s.wide", .max_fanout = 5};
  struct lg_selection sel;
  select_ok(&v, &sel);
  ck_assert(on(&sel, "dashboardDataModel", "ws.model.w00"));
  ck_assert(on(&sel, "dashboardDataModel", "ws.model.w04"));
  ck_assert(!on(&sel, "dashboardDataModel", "ws.model.w05"));
  ck_assert(on(&sel, "dashboard", "ws.dw"));
  ck_assert_uint_eq(sel.nodes, 7);
  ck_assert_uint_eq(sel.edges, 10);
  ck_assert_uint_eq(sel.n_more, 1); /* dw is reached downstream: its feeders are not marked */
  ck_assert_uint_eq(sel.omitted, 25);
  ck_assert_uint_eq(sel.more[0].count, 25);
  ck_assert(!sel.more[0].by_depth);
  lg_selection_free(&sel);
  /* The default cap is 25. */
  v.max_fanout = 0;
  select_ok(&v, &sel);
  ck_assert_uint_eq(sel.omitted, 5);
  lg_selection_free(&sel);
}
END_TEST

START_TEST(test_column_focus_follows_the_column) {
  struct host_lineage_view v = {.focus = HOST_LINEAGE_FOCUS_COLUMN,
                                .focus_name = "wh.db.s.orders.id"};
  ck_assert_drawn(&v, "chart:ws.c1 dashboard:ws.d1 dashboard:ws2.d1"
                      " dashboardDataModel:ws.model.m1 dashboardDataModel:ws2.model.x"
                      " table:wh.db.s.orders");
  v.focus_name = "wh.db.s.orders.AMOUNT"; /* column names ignore case, as the SQL does */
  ck_assert_drawn(&v, "chart:ws.c2 chart:ws.c3 dashboard:ws.d1 dashboardDataModel:ws.model.m1"
                      " dashboardDataModel:ws.model.m2 table:wh.db.s.orders");
  /* A data model's column: what feeds it, and the charts that show it. */
  v.focus_name = "ws.model.m1.order_id";
  ck_assert_drawn(&v, "chart:ws.c1 dashboard:ws.d1 dashboardDataModel:ws.model.m1"
                      " table:wh.db.s.customers table:wh.db.s.orders");
  struct lg_selection sel;
  v.focus_name = "wh.db.s.orders.nosuch";
  ck_assert_int_eq(lg_select(graph, &v, &sel, t_log), -1);
  ck_assert_logged("no column 'nosuch' of table 'wh.db.s.orders' in the catalog's column lineage");
}
END_TEST

START_TEST(test_unknown_focus_is_an_error) {
  struct host_lineage_view v = {.focus = HOST_LINEAGE_FOCUS_DASHBOARD, .focus_name = "nope"};
  char *out = NULL;
  size_t len = 0;
  ck_assert_int_eq(host_lineage_render(graph, &v, HOST_LINEAGE_SVG, &out, &len, NULL, t_log), -1);
  ck_assert_ptr_null(out);
  ck_assert_logged("no dashboard 'nope' in the catalog");
  ck_assert_int_eq(host_lineage_check_focus(graph, &v, t_log), -1);
  v.focus = HOST_LINEAGE_FOCUS_TABLE;
  v.focus_name = "wh.db.s.nope";
  ck_assert_int_eq(host_lineage_check_focus(graph, &v, t_log), -1);
  ck_assert_logged("no table 'wh.db.s.nope' in the catalog");
  v.focus = HOST_LINEAGE_FOCUS_DASHBOARD;
  v.focus_name = "ws.d3";
  ck_assert_int_eq(host_lineage_check_focus(graph, &v, t_log), -1);
  ck_assert_logged("dashboard 'ws.d3' is deleted in the catalog (--show-deleted draws it)");
  v.show_deleted = true;
  ck_assert_int_eq(host_lineage_check_focus(graph, &v, t_log), 0);
}
END_TEST

static char *render(const struct host_lineage_view *v, enum host_lineage_format f,
                    struct host_lineage_stats *stats) {
  char *out = NULL;
  size_t len = 0;
  ck_assert_int_eq(host_lineage_render(graph, v, f, &out, &len, stats, t_log), 0);
  ck_assert_ptr_nonnull(out);
  ck_assert_uint_eq(strlen(out), len);
  return out;
}

static size_t count(const char *hay, const char *needle) {
  size_t n = 0;
  for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
    n++;
  return n;
}

#define ck_assert_has(text, needle)                                                                \
  ck_assert_msg(strstr((text), (needle)) != NULL, "no %s in:\n%.3000s", (needle), (text))
#define ck_assert_lacks(text, needle)                                                              \
  ck_assert_msg(strstr((text), (needle)) == NULL, "%s in:\n%.3000s", (needle), (text))

START_TEST(test_svg_has_the_agreed_node_and_edge_ids) {
  struct host_lineage_view v = {.focus = HOST_LINEAGE_FOCUS_DASHBOARD, .focus_name = "ws.d1"};
  struct host_lineage_stats st;
  char *svg = render(&v, HOST_LINEAGE_SVG, &st);
  ck_assert_uint_eq(st.nodes, 8);
  ck_assert_uint_eq(st.edges, 11); /* 3 table->model, 2 model->d1, 3 model->chart, 3 chart->d1 */
  ck_assert_uint_eq(st.omitted_nodes, 0);
  ck_assert_uint_eq(count(svg, "class=\"node\""), 8);
  ck_assert_uint_eq(count(svg, "class=\"edge\""), 11);
  ck_assert_uint_eq(count(svg, "class=\"cluster\""), 2);
  const char *ids[] = {
      "<g id=\"dashboard:ws.d1\" class=\"node\">",
      "<g id=\"table:wh.db.s.orders\" class=\"node\">",
      "<g id=\"table:wh.db.s.customers\" class=\"node\">",
      "<g id=\"dashboardDataModel:ws.model.m1\" class=\"node\">",
      "<g id=\"chart:ws.c3\" class=\"node\">",
      "<g id=\"cluster:wh.db\" class=\"cluster\">",
      "<g id=\"cluster:ws\" class=\"cluster\">",
      /* Graphviz writes '-' and '>' of an attribute as character references. */
      "<g id=\"table:wh.db.s.orders&#45;&gt;dashboardDataModel:ws.model.m2\" class=\"edge\">",
      "<g id=\"dashboardDataModel:ws.model.m1&#45;&gt;dashboard:ws.d1\" class=\"edge\">",
      "<g id=\"dashboardDataModel:ws.model.m2&#45;&gt;chart:ws.c3\" class=\"edge\">",
      "<g id=\"chart:ws.c1&#45;&gt;dashboard:ws.d1\" class=\"edge\">",
      ">m1 title</text>",
  };
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
    ck_assert_has(svg, ids[i]);
  ck_assert_lacks(svg, "dashboard:ws.d2");
  ck_assert_lacks(svg, "ws2.");
  ck_assert_uint_eq(strncmp(svg, "<?xml", 5), 0);
  ck_assert_has(svg, "</svg>");
  free(svg);
}
END_TEST

START_TEST(test_dot_marks_deleted_and_collapsed) {
  struct host_lineage_view v = {.focus = HOST_LINEAGE_FOCUS_TABLE,
                                .focus_name = "wh.db.s.orders",
                                .show_deleted = true,
                                .downstream = true};
  char *dot = render(&v, HOST_LINEAGE_DOT, NULL);
  ck_assert_uint_eq(strncmp(dot, "digraph lineage {", 17), 0);
  ck_assert_has(dot, "\"dashboardDataModel:ws.model.m4\"\t[color=\"#9aa0a6\"");
  ck_assert_has(dot, "id=\"dashboardDataModel:ws.model.m4\"");
  ck_assert_has(dot, "label=\"m4 title\\n(deleted)\"");
  ck_assert_has(dot, "style=\"rounded,filled,dashed\"");
  ck_assert_has(dot, "id=\"table:wh.db.s.orders->dashboardDataModel:ws.model.m4\"");
  ck_assert_lacks(dot, "pos="); /* DOT is the graph, not a layout */
  free(dot);
  struct host_lineage_view cap = {.focus = HOST_LINEAGE_FOCUS_TABLE,
                                  .focus_name = "wh.db.s.wide",
                                  .max_fanout = 2,
                                  .log_omitted = true};
  struct host_lineage_stats st;
  t_mark_log();
  dot = render(&cap, HOST_LINEAGE_DOT, &st);
  ck_assert_has(dot, "id=\"more:down:table:wh.db.s.wide:dashboardDataModel\"");
  ck_assert_has(dot, "label=\"… and 28 more data models\"");
  ck_assert_has(dot, "id=\"table:wh.db.s.wide->more:down:table:wh.db.s.wide:dashboardDataModel\"");
  ck_assert_uint_eq(st.omitted_nodes, 28);
  ck_assert_logged_new("lineage: warning: table 'wh.db.s.wide': 28 data models downstream left out"
                       " (over the fan-out cap of 2)");
  free(dot);
}
END_TEST

static char *link_of(void *ctx, const char *kind, const char *fqn) {
  char *s = NULL;
  ck_assert_int_ge(asprintf(&s, "%s/%s/%s.html", (const char *)ctx, kind, fqn), 0);
  return s;
}

START_TEST(test_columns_and_links) {
  struct host_lineage_view v = {.focus = HOST_LINEAGE_FOCUS_DASHBOARD,
                                .focus_name = "ws.d1",
                                .columns = true,
                                .href = link_of,
                                .href_ctx = "site"};
  char *svg = render(&v, HOST_LINEAGE_SVG, NULL);
  const char *ids[] = {
      "<g id=\"column:wh.db.s.orders.id&#45;&gt;column:ws.model.m1.order_id\" class=\"edge\">",
      "<g id=\"column:wh.db.s.orders.amount&#45;&gt;column:ws.model.m1.total\" class=\"edge\">",
      "<g id=\"column:wh.db.s.customers.id&#45;&gt;column:ws.model.m1.order_id\" class=\"edge\">",
      "<g id=\"column:wh.db.s.orders.amount&#45;&gt;column:ws.model.m2.revenue\" class=\"edge\">",
      "id=\"a_column:ws.model.m1.total\"",
      "xlink:href=\"site/dashboard/ws.d1.html\"",
      "xlink:href=\"site/table/wh.db.s.orders.html\"",
  };
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
    ck_assert_has(svg, ids[i]);
  ck_assert_uint_eq(count(svg, "class=\"edge\""), 15); /* 11 entity edges, 4 column edges */
  free(svg);
}
END_TEST

START_TEST(test_whole_graph_and_png) {
  struct host_lineage_view v = {0};
  struct host_lineage_stats st;
  char *dot = render(&v, HOST_LINEAGE_DOT, &st);
  /* Everything live (4 tables, 34 models, 3 charts, 4 dashboards; deleted m4 and d3 left out)
   * but wide's models w25..w29, over the default cap and fed by nothing else. */
  ck_assert_uint_eq(st.nodes, 40);
  ck_assert_uint_eq(st.omitted_nodes, 5); /* wide's models w25..w29 over the default cap */
  ck_assert_lacks(dot, "ws.model.m4");
  free(dot);
  char *out = NULL;
  size_t len = 0;
  ck_assert_int_eq(host_lineage_render(graph, &v, HOST_LINEAGE_PNG, &out, &len, NULL, t_log), 0);
  ck_assert_uint_gt(len, 8);
  ck_assert_int_eq(memcmp(out, "\x89PNG\r\n\x1a\n", 8), 0);
  free(out);
}
END_TEST

/* Names are data: Graphviz's escapes (\\N), quotes, XML's characters and dotted names. */
START_TEST(test_names_are_escaped) {
  const struct host_sink_ops *ops = host_sink_find("sqlite");
  char config[1024];
  void *sink = NULL;
  snprintf(config, sizeof config, "{\"path\": \"%s\"}", catalog);
  ck_assert_int_eq(ops->create(config, "{}", t_log, &sink), ETL_OK);
  ck_assert_int_eq(ops->begin_source(sink, "odd", "jsonl"), ETL_OK);
  put(ops, sink, "odd", "dashboardDataModel", "a.b",
      "{\"data\": {\"name\": \"a.b\", \"displayName\": \"Rev <&> \\\"q\\\" \\\\N\","
      " \"service\": \"odd\", \"columns\": [{\"name\": \"we<ird\"}]}}");
  put_lineage(ops, sink, "odd", "table", "wh.db.s.orders", "dashboardDataModel",
              "odd.model.\\\"a.b\\\"", /* JSON-escaped: put_lineage pastes it as is */
              "[{\"fromColumns\": [\"wh.db.s.orders.id\"],"
              " \"toColumn\": \"odd.model.\\\"a.b\\\".we<ird\"}]");
  ck_assert_int_eq(ops->commit(sink), ETL_OK);
  ops->destroy(&sink);
  host_lineage_free(&graph);
  ck_assert_int_eq(host_lineage_load(catalog, t_log, &graph), 0);
  /* The data model's FQN quotes its dotted name, as OpenMetadata's quoteName does. */
  size_t m = lg_find(graph, "dashboardDataModel", "odd.model.\"a.b\"");
  ck_assert_uint_ne(m, SIZE_MAX);
  ck_assert_str_eq(graph->nodes[m].label, "Rev <&> \"q\" \\N");
  struct host_lineage_view v = {.focus = HOST_LINEAGE_FOCUS_COLUMN,
                                .focus_name = "odd.model.\"a.b\".we<ird"};
  char *dot = render(&v, HOST_LINEAGE_DOT, NULL);
  ck_assert_has(dot, "id=\"column:wh.db.s.orders.id->column:odd.model.\\\"a.b\\\".we<ird\"");
  free(dot);
  v.focus = HOST_LINEAGE_FOCUS_TABLE;
  v.focus_name = "wh.db.s.orders";
  dot = render(&v, HOST_LINEAGE_DOT, NULL);
  /* A backslash is doubled, so Graphviz draws "\N" rather than the node's name. */
  ck_assert_has(dot, "label=\"Rev <&> \\\"q\\\" \\\\N\"");
  free(dot);
  char *svg = render(&v, HOST_LINEAGE_SVG, NULL);
  ck_assert_has(svg, ">Rev &lt;&amp;&gt; &quot;q&quot; \\N</text>");
  ck_assert_has(svg, "<g id=\"dashboardDataModel:odd.model.&quot;a.b&quot;\" class=\"node\">");
  free(svg);
}
END_TEST

/* The same view gives the same bytes, whatever was drawn before in the process (the site draws
 * hundreds of pictures in one): Graphviz's default ids are string addresses, which ordered the
 * clusters by where malloc put their names. */
START_TEST(test_same_view_same_bytes) {
  struct host_lineage_view all = {.columns = true};
  struct host_lineage_view one = {.focus = HOST_LINEAGE_FOCUS_TABLE, .focus_name = "wh.db.s.wide"};
  char *first = render(&all, HOST_LINEAGE_SVG, NULL);
  for (int i = 0; i < 3; i++) {
    free(render(&one, HOST_LINEAGE_SVG, NULL));
    char *again = render(&all, HOST_LINEAGE_SVG, NULL);
    ck_assert_msg(strcmp(first, again) == 0, "render %d differs", i);
    free(again);
  }
  free(first);
}
END_TEST

static void expect_load_error(const char *path, const char *message) {
  struct host_lineage_graph *g = NULL;
  t_mark_log();
  ck_assert_int_eq(host_lineage_load(path, t_log, &g), -1);
  ck_assert_ptr_null(g);
  ck_assert_logged_new(message);
}

START_TEST(test_files_that_are_not_catalogs) {
  char *path = test_path("%s/other", t_dir);
  expect_load_error(path, "No such file or directory");
  ck_assert_int_eq(test_write_file(path, "name,value\nthis is a csv file\n"), 0);
  expect_load_error(path, "not an etlhost catalog: the file is not a SQLite database");
  free(path);
  path = test_path("%s/plain.db", t_dir);
  sql(path, "CREATE TABLE entities (x)");
  expect_load_error(path, "not an etlhost catalog (an SQLite file without etlhost's mark)");
  sql(catalog, "PRAGMA user_version = 2");
  expect_load_error(catalog, "schema version 2, this etlhost reads version 1; upgrade etlhost");
  sql(catalog, "PRAGMA user_version = 1");
  sql(catalog, "UPDATE entities SET json = '{\"data\": ' WHERE kind = 'chart' AND id = 'c2'");
  expect_load_error(catalog, "the JSON of row (source 'ws', kind 'chart', id 'c2') is not valid");
  /* Never created by reading. */
  char *none = test_path("%s/none.db", t_dir);
  expect_load_error(none, "No such file");
  ck_assert_int_ne(access(none, F_OK), 0);
  free(none);
  free(path);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("lineage");
  TCase *tc = tcase_create("lineage");
  tcase_set_timeout(tc, 60);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_load_reads_nodes_edges_and_sources);
  tcase_add_test(tc, test_dashboard_upstream_and_by_id);
  tcase_add_test(tc, test_table_downstream_leaves_deleted_out);
  tcase_add_test(tc, test_depth_limits_and_marks_what_is_beyond);
  tcase_add_test(tc, test_fanout_cap_collapses_the_rest);
  tcase_add_test(tc, test_column_focus_follows_the_column);
  tcase_add_test(tc, test_unknown_focus_is_an_error);
  tcase_add_test(tc, test_svg_has_the_agreed_node_and_edge_ids);
  tcase_add_test(tc, test_dot_marks_deleted_and_collapsed);
  tcase_add_test(tc, test_columns_and_links);
  tcase_add_test(tc, test_whole_graph_and_png);
  tcase_add_test(tc, test_files_that_are_not_catalogs);
  tcase_add_test(tc, test_names_are_escaped);
  tcase_add_test(tc, test_same_view_same_bytes);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return test_run_suite(suite());
}
