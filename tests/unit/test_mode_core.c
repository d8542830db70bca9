/*
 * test_mode_core.c -- the Mode connector's parts: HAL extraction from the recorded bodies fed
 * in small pieces, the pager's end-of-listing rules, chart type mapping, FQNs, entity shapes,
 * the rate limiter's arithmetic, the retry policy, owners and table lineage naming.
 */
#include "config.h"

#include <etl/plugin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "assemble.h"
#include "conf.h"
#include "entities.h"
#include "fetch.h"
#include "hal.h"
#include "incremental.h"
#include "lineage.h"
#include "owners.h"
#include "pager.h"
#include "plugin/sql/sql_lineage.h"
#include "ratelimit.h"
#include "retry.h"
#include "testutil.h"
#include "util.h"

/* ---- assemble ---------------------------------------------------------------------------- */

struct collected {
  int dashboards, charts, models;
};

static void collect(void *ctx, struct mode_entity *e) {
  struct collected *c = ctx;
  ck_assert_ptr_nonnull(e);
  c->dashboards += strcmp(e->kind, "dashboard") == 0;
  c->charts += strcmp(e->kind, "chart") == 0;
  c->models += strcmp(e->kind, "dashboardDataModel") == 0;
  mode_entity_free(e);
}

/* A report whose queries or charts failed to come (after retries) must not produce a dashboard
 * with short chart/data model lists: the catalog would overwrite the complete one with it. */
START_TEST(incomplete_report_gives_no_dashboard) {
  static const char conn[] = "{\"accessToken\":\"t\",\"accessTokenPassword\":\"s\","
                             "\"workspaceName\":\"acme\"}";
  static const char src[] = "{\"includeDataModels\":true}";
  struct mode_config cfg;
  char err[256];
  ck_assert_msg(mode_config_parse(conn, strlen(conn), src, strlen(src), &cfg, NULL, NULL, err,
                                  sizeof err) == 0,
                "%s", err);
  struct mode_owners owners = {0};
  struct collected got = {0};
  struct mode_assembler a = {.cfg = &cfg,
                             .ectx = {"mode_svc", "https://app.mode.com", "acme", 1},
                             .owners = &owners,
                             .today = "2026-01-01",
                             .ctx = &got,
                             .emit = collect};
  struct mode_query q = {.token = "q1", .name = "Query 1", .raw_query = "SELECT 1"};
  struct mode_chart ch = {.token = "c1", .title = "Chart", .type = "bar"};
  struct mode_report r = {.token = "r1",
                          .name = "R",
                          .space_name = "S",
                          .view_count = -1,
                          .chart_count = 2,
                          .queries = &q,
                          .n_queries = 1,
                          .charts = &ch,
                          .n_charts = 1};
  mode_assemble(&a, &r);
  ck_assert_int_eq(got.dashboards, 1); /* complete: the dashboard */
  r.token = "r2", q.token = "q2", ch.token = "c2";
  r.charts_lost = 1;
  mode_assemble(&a, &r);
  ck_assert_int_eq(got.dashboards, 1); /* a chart listing failed: no dashboard */
  ck_assert_int_eq(got.charts, 2);     /* what did come is still delivered */
  r.token = "r3", r.charts_lost = 0, r.queries_lost = 1, r.n_queries = 0, r.n_charts = 0;
  mode_assemble(&a, &r);
  ck_assert_int_eq(got.dashboards, 1); /* its queries failed: no dashboard */
  mode_assembler_clear(&a);
  mode_config_free(&cfg);
}
END_TEST

/* ---- hal -------------------------------------------------------------------------------- */

static char *sample(const char *name) {
  char *path = test_path("%s/mode-api-samples/setup/%s", test_fixtures_dir(), name);
  char *text = test_read_file(path, NULL);
  ck_assert_msg(text != NULL, "cannot read %s", path);
  free(path);
  return text;
}

/* Feeds text in pieces of `chunk` bytes, as curl's write callback would. */
static struct mode_hal_parser *feed(const struct mode_hal_spec *spec, const char *text,
                                    size_t chunk, int *rc) {
  struct mode_hal_parser *p = mode_hal_parser_new(spec, 1 << 20);
  ck_assert_ptr_nonnull(p);
  size_t len = strlen(text);
  *rc = 0;
  for (size_t off = 0; off < len && *rc == 0; off += chunk)
    *rc = mode_hal_feed(p, text + off, len - off < chunk ? len - off : chunk);
  if (*rc == 0)
    *rc = mode_hal_finish(p);
  return p;
}

/* Mode's Discovery API: the list is the root's own ("/reports"), beside `pagination` and
 * `_links`, whose paging fields come out as the envelope record whatever the key order. */
START_TEST(hal_batch_list_at_root_with_envelope) {
  static const char *const f[] = {"token", "name"};
  static const struct mode_hal_spec spec = {"/reports", f, 2};
  const char *body =
      "{\"_links\":{\"next_page\":{\"href\":\"/batch/acme/reports?page=2&per_page=2\"},"
      "\"prev_page\":{\"href\":\"/batch/acme/reports?page=0\"}},"
      "\"reports\":[{\"token\":\"a1\",\"name\":\"A\",\"_links\":{\"next_page\":{\"href\":\"x\"}}},"
      "{\"token\":\"b2\",\"name\":null}],"
      "\"pagination\":{\"page\":1,\"per_page\":2,\"total_pages\":3,\"total_count\":5},"
      "\"_embedded\":{\"reports\":[{\"token\":\"zz\"}]}}";
  for (size_t chunk = 1; chunk <= strlen(body); chunk += chunk < 8 ? 1 : 37) {
    int rc;
    struct mode_hal_parser *p = feed(&spec, body, chunk, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert(mode_hal_list_seen(p));
    struct mode_hal_record *recs;
    size_t n;
    mode_hal_take(p, &recs, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(mode_hal_get(&recs[0], 0), "a1");
    ck_assert_str_eq(mode_hal_get(&recs[0], 1), "A");
    ck_assert_str_eq(mode_hal_get(&recs[1], 0), "b2");
    ck_assert_ptr_null(mode_hal_get(&recs[1], 1));
    struct mode_hal_record *env = mode_hal_take_envelope(p);
    ck_assert_ptr_nonnull(env);
    ck_assert_str_eq(mode_hal_get(env, MODE_HAL_ENV_NEXT), "/batch/acme/reports?page=2&per_page=2");
    ck_assert_str_eq(mode_hal_get(env, MODE_HAL_ENV_PAGES), "3");
    mode_hal_records_free(env, 1);
    mode_hal_records_free(recs, n);
    mode_hal_parser_free(&p);
  }
  /* The last page: no next_page; a root list that is not an array is malformed. */
  int rc;
  struct mode_hal_parser *p = feed(&spec, "{\"reports\":[],\"_links\":{}}", 4, &rc);
  ck_assert_int_eq(rc, 0);
  struct mode_hal_record *env = mode_hal_take_envelope(p);
  ck_assert_ptr_null(mode_hal_get(env, MODE_HAL_ENV_NEXT));
  mode_hal_records_free(env, 1);
  mode_hal_parser_free(&p);
  p = feed(&spec, "{\"reports\":{\"token\":\"a\"}}", 64, &rc);
  ck_assert_int_eq(rc, -1);
  mode_hal_parser_free(&p);
}
END_TEST

static const char *const report_fields[] = {
    "token", "name", "chart_count", "_links.creator.href", "imported_datasets[].token", "archived"};
static const struct mode_hal_spec reports_spec = {"reports", report_fields, 6};

START_TEST(hal_extracts_report_fields_in_any_chunking) {
  static const size_t chunks[] = {1, 7, 4096};
  char *text = sample("reports_75737b70402e.json");
  for (size_t k = 0; k < 3; k++) {
    int rc;
    struct mode_hal_parser *p = feed(&reports_spec, text, chunks[k], &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(mode_hal_list_seen(p), 1);
    struct mode_hal_record *recs;
    size_t n;
    mode_hal_take(p, &recs, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(mode_hal_get(&recs[0], 0), "9d2da37fa91e");
    ck_assert_str_eq(mode_hal_get(&recs[0], 1), "Report 1");
    ck_assert_str_eq(mode_hal_get(&recs[0], 2), "1");
    ck_assert_str_eq(mode_hal_get(&recs[0], 3), "/api/modeuser");
    ck_assert_uint_eq(recs[0].fields[4].n, 1);
    ck_assert_str_eq(recs[0].fields[4].v[0], "24f66e1701b6");
    ck_assert_str_eq(mode_hal_get(&recs[0], 5), "false");
    mode_hal_records_free(recs, n);
    mode_hal_parser_free(&p);
    ck_assert_ptr_null(p);
  }
  free(text);
}
END_TEST

START_TEST(hal_nested_chart_fields) {
  static const char *const f[] = {"token", "view_vegas.title", "view_vegas.chartType",
                                  "_links.report_viz_web.href", "view.selectedChart"};
  static const struct mode_hal_spec spec = {"charts", f, 5};
  char *text = sample("charts.json");
  int rc;
  struct mode_hal_parser *p = feed(&spec, text, 13, &rc);
  ck_assert_int_eq(rc, 0);
  struct mode_hal_record *recs;
  size_t n;
  mode_hal_take(p, &recs, &n);
  ck_assert_uint_eq(n, 1);
  ck_assert_str_eq(mode_hal_get(&recs[0], 0), "f622b9ee725b");
  ck_assert_str_eq(mode_hal_get(&recs[0], 1), "Customer Staff Table");
  ck_assert_str_eq(mode_hal_get(&recs[0], 2), "table");
  ck_assert_str_eq(mode_hal_get(&recs[0], 3), "/acryltest/reports/9d2da37fa91e/viz/f622b9ee725b");
  ck_assert_ptr_null(mode_hal_get(&recs[0], 4));
  mode_hal_records_free(recs, n);
  mode_hal_parser_free(&p);
  free(text);
}
END_TEST

/* "a.**.b": every b below a, at any depth, in document order; not a.b itself, nothing outside
 * a, nothing under a key that only ends in b. */
START_TEST(hal_wildcard_paths) {
  static const char *const f[] = {"view_vegas.**.formula", "view.**.columns[]"};
  static const struct mode_hal_spec spec = {"charts", f, 2};
  static const char body[] =
      "{\"_embedded\":{\"charts\":[{\"view_vegas\":{\"formula\":\"[top]\","
      "\"encoding\":{\"x\":[{\"formula\":\"[a]\"}],\"marks\":{\"text\":{\"values\":"
      "[{\"formula\":\"SUM([b])\"}]}},\"myformula\":\"[no]\"}},\"formula\":\"[out]\","
      "\"view\":{\"y\":{\"columns\":[\"c1\",\"c2\"]}}}]}}";
  int rc;
  struct mode_hal_parser *p = feed(&spec, body, 5, &rc);
  ck_assert_int_eq(rc, 0);
  struct mode_hal_record *recs;
  size_t n;
  mode_hal_take(p, &recs, &n);
  ck_assert_uint_eq(n, 1);
  ck_assert_uint_eq(recs[0].fields[0].n, 2);
  ck_assert_str_eq(recs[0].fields[0].v[0], "[a]");
  ck_assert_str_eq(recs[0].fields[0].v[1], "SUM([b])");
  ck_assert_uint_eq(recs[0].fields[1].n, 2);
  ck_assert_str_eq(recs[0].fields[1].v[1], "c2");
  mode_hal_records_free(recs, n);
  mode_hal_parser_free(&p);
}
END_TEST

START_TEST(hal_root_object_and_nulls) {
  static const char *const f[] = {"username", "email", "name"};
  static const struct mode_hal_spec spec = {NULL, f, 3};
  int rc;
  struct mode_hal_parser *p =
      feed(&spec, "{\"username\":\"u\",\"email\":null,\"name\":\"N\\u00e9\",\"x\":{\"name\":1}}", 3,
           &rc);
  ck_assert_int_eq(rc, 0);
  struct mode_hal_record *recs;
  size_t n;
  mode_hal_take(p, &recs, &n);
  ck_assert_uint_eq(n, 1);
  ck_assert_str_eq(mode_hal_get(&recs[0], 0), "u");
  ck_assert_ptr_null(mode_hal_get(&recs[0], 1));
  ck_assert_str_eq(mode_hal_get(&recs[0], 2), "N\xc3\xa9");
  mode_hal_records_free(recs, n);
  mode_hal_parser_free(&p);
}
END_TEST

static const struct {
  const char *body;
  int rc, list_seen;
  size_t n;
} hal_cases[] = {
    {"{", -1, 0, 0},                                               /* DataHub's malformed body */
    {"{\"_embedded\":{\"reports\":[{\"token\":\"a\"},", -1, 1, 0}, /* truncated */
    {"{\"_links\":{\"self\":{\"href\":\"\"}},\"_embedded\":{}}", 0, 0, 0}, /* no list at all */
    {"{\"_embedded\":{\"reports\":[]}}", 0, 1, 0},
    {"{\"_embedded\":{\"reports\":[{\"token\":\"a\"},{\"token\":\"b\"}]}}", 0, 1, 2},
    /* A body or list of the wrong shape is malformed, never the end of a listing. */
    {"[1,2,3]", -1, 0, 0},
    {"\"reports\"", -1, 0, 0},
    {"{\"_embedded\":null}", -1, 0, 0},
    {"{\"_embedded\":[]}", -1, 0, 0},
    {"{\"_embedded\":{\"reports\":null}}", -1, 0, 0},
    {"{\"_embedded\":{\"reports\":\"none\"}}", -1, 0, 0},
    {"{\"_embedded\":{\"reports\":7}}", -1, 0, 0},
    {"{\"_embedded\":{\"reports\":{}}}", -1, 0, 0},
    {"{\"_embedded\":{\"reports\":{\"token\":\"a\"}}}", -1, 0, 0},
    /* Elements that are not objects: records without fields (items without a token). */
    {"{\"_embedded\":{\"reports\":[42,{\"token\":\"a\"},null,\"x\",[1]]}}", 0, 1, 5},
    /* Other lists, and other keys, may hold anything. */
    {"{\"_embedded\":{\"spaces\":null,\"reports\":[]},\"x\":null}", 0, 1, 0},
    {"{\"_embedded\":{\"reports\":[{\"token\":\"a\"}]}} trailing", -1, 1, 1},
    {"<html>502 Bad Gateway</html>", -1, 0, 0},
};

START_TEST(hal_malformed_and_edge_bodies) {
  int rc;
  struct mode_hal_parser *p = feed(&reports_spec, hal_cases[_i].body, 5, &rc);
  ck_assert_int_eq(rc, hal_cases[_i].rc);
  if (rc != 0)
    ck_assert_str_ne(mode_hal_error(p), "no error");
  else {
    ck_assert_int_eq(mode_hal_list_seen(p), hal_cases[_i].list_seen);
    struct mode_hal_record *recs;
    size_t n;
    mode_hal_take(p, &recs, &n);
    ck_assert_uint_eq(n, hal_cases[_i].n);
    mode_hal_records_free(recs, n);
  }
  mode_hal_parser_free(&p);
}
END_TEST

START_TEST(hal_value_cap) {
  static const char *const f[] = {"raw_query"};
  static const struct mode_hal_spec spec = {"queries", f, 1};
  struct mode_hal_parser *p = mode_hal_parser_new(&spec, 8);
  const char *body = "{\"_embedded\":{\"queries\":[{\"raw_query\":\"SELECT * FROM big\"}]}}";
  int rc = mode_hal_feed(p, body, strlen(body));
  if (rc == 0)
    rc = mode_hal_finish(p);
  ck_assert_int_eq(rc, -1);
  ck_assert_ptr_nonnull(strstr(mode_hal_error(p), "size limit"));
  mode_hal_parser_free(&p);
}
END_TEST

/* A long string is read in time linear in its size, whatever the pieces it arrives in: yajl
 * lexes an unfinished token again from its start on each call, so hal.c must not hand it
 * 16 KB at a time (issue 14: 64 MB took about 100 s). With 1 KB pieces the old reader needs
 * minutes for 16 MB and runs into the TCase timeout; the check itself is the parsed value. */
static const size_t long_string_pieces[] = {16384, 1024};

START_TEST(hal_long_string_in_small_pieces) {
  static const char *const f[] = {"raw_query"};
  static const struct mode_hal_spec spec = {NULL, f, 1};
  const size_t n = (size_t)16 << 20, piece = long_string_pieces[_i];
  char *body = malloc(n + 64);
  ck_assert_ptr_nonnull(body);
  size_t o = (size_t)sprintf(body, "{\"id\": 7, \"raw_query\": \"");
  for (size_t i = 0; i < n; i++)
    body[o + i] = (char)('a' + i % 26);
  o += n;
  /* An escape right at the end, so the string does not end at the first quote byte seen. */
  o += (size_t)sprintf(body + o, "\\\"x\"}");
  struct mode_hal_parser *p = mode_hal_parser_new(&spec, (size_t)64 << 20);
  ck_assert_ptr_nonnull(p);
  int rc = 0;
  for (size_t off = 0; off < o && rc == 0; off += piece)
    rc = mode_hal_feed(p, body + off, o - off < piece ? o - off : piece);
  if (rc == 0)
    rc = mode_hal_finish(p);
  ck_assert_msg(rc == 0, "%s", mode_hal_error(p));
  struct mode_hal_record *r = NULL;
  size_t nr = 0;
  mode_hal_take(p, &r, &nr);
  ck_assert_uint_eq(nr, 1);
  const char *v = mode_hal_get(&r[0], 0);
  ck_assert_ptr_nonnull(v);
  ck_assert_uint_eq(strlen(v), n + 2);
  ck_assert_int_eq(memcmp(v, body + o - n - 5, n), 0);
  ck_assert_str_eq(v + n, "\"x");
  mode_hal_records_free(r, nr);
  mode_hal_parser_free(&p);
  free(body);
}
END_TEST

/* ---- pager ------------------------------------------------------------------------------ */

static enum mode_page_verdict page(struct mode_pager *pg, const char *const *tokens, size_t n,
                                   int seen, int *fresh) {
  return mode_pager_page(pg, tokens, n, seen, fresh);
}

START_TEST(pager_a_short_page_is_not_the_end) {
  struct mode_pager pg;
  int fresh[30];
  ck_assert_int_eq(mode_pager_init(&pg, "http://h/api/w/spaces/s/reports", 30, 100), 0);
  char *url = mode_pager_url(&pg);
  ck_assert_str_eq(url, "http://h/api/w/spaces/s/reports?per_page=30&page=1");
  free(url);
  const char *p1[] = {"a", "b"};
  ck_assert_int_eq(page(&pg, p1, 2, 1, fresh), MODE_PAGE_MORE); /* 2 < 30, still go on */
  url = mode_pager_url(&pg);
  ck_assert_str_eq(url, "http://h/api/w/spaces/s/reports?per_page=30&page=2");
  free(url);
  const char *p2[] = {"b", "c"};
  ck_assert_int_eq(page(&pg, p2, 2, 1, fresh), MODE_PAGE_MORE);
  ck_assert_int_eq(fresh[0], 0); /* b was seen on page 1 */
  ck_assert_int_eq(fresh[1], 1);
  ck_assert_int_eq(page(&pg, NULL, 0, 1, fresh), MODE_PAGE_EMPTY);
  mode_pager_free(&pg);
}
END_TEST

START_TEST(pager_ends_on_repeat_missing_and_cap) {
  struct mode_pager pg;
  int fresh[4];
  const char *p1[] = {"a", "b"};
  ck_assert_int_eq(mode_pager_init(&pg, "http://h/x?filter=all", 30, 3), 0);
  char *url = mode_pager_url(&pg);
  ck_assert_str_eq(url, "http://h/x?filter=all&per_page=30&page=1");
  free(url);
  ck_assert_int_eq(page(&pg, p1, 2, 1, fresh), MODE_PAGE_MORE);
  ck_assert_int_eq(page(&pg, p1, 2, 1, fresh), MODE_PAGE_REPEATED); /* ignores page= */
  mode_pager_free(&pg);

  ck_assert_int_eq(mode_pager_init(&pg, "http://h/x", 30, 3), 0);
  ck_assert_int_eq(page(&pg, NULL, 0, 0, fresh), MODE_PAGE_MISSING); /* 204 or no list */
  mode_pager_free(&pg);

  ck_assert_int_eq(mode_pager_init(&pg, "http://h/x", 1, 2), 0);
  const char *a[] = {"a"}, *b[] = {"b"};
  ck_assert_int_eq(page(&pg, a, 1, 1, fresh), MODE_PAGE_MORE);
  ck_assert_int_eq(page(&pg, b, 1, 1, fresh), MODE_PAGE_CAPPED);
  mode_pager_free(&pg);
}
END_TEST

/* ---- naming ------------------------------------------------------------------------------ */

static const struct {
  const char *mode, *om;
} chart_cases[] = {
    {"table", "Table"},         {"pivotTable", "Table"}, {"bar", "Bar"},
    {"hStackedBar100", "Bar"},  {"line", "Line"},        {"area", "Area"},
    {"totalArea", "Area"},      {"pie", "Pie"},          {"donut", "Pie"},
    {"scatter", "Scatter"},     {"bigValue", "Text"},    {"bigNumber", "Text"},
    {"histogram", "Histogram"}, {"boxPlot", "BoxPlot"},  {"heatmap", "Heatmap"},
    {"TABLE", "Table"},         {"linePlusBar", "Bar"},  {"vegas", "Other"},
    {"somethingNew", "Other"},  {NULL, "Other"},
};

START_TEST(chart_types_map_to_openmetadata) {
  ck_assert_str_eq(mode_chart_type(chart_cases[_i].mode), chart_cases[_i].om);
}
END_TEST

START_TEST(fqn_quotes_dotted_parts_and_stars_unknowns) {
  const char *a[] = {"mode_svc", "9d2da37fa91e"};
  char *f = mode_fqn(a, 2);
  ck_assert_str_eq(f, "mode_svc.9d2da37fa91e");
  free(f);
  const char *b[] = {"svc", NULL, "public", "orders"};
  f = mode_fqn(b, 4);
  ck_assert_str_eq(f, "svc.*.public.orders");
  free(f);
  const char *c[] = {"my.svc", "analytics-prod", "web", "page.views"};
  f = mode_fqn(c, 4);
  ck_assert_str_eq(f, "\"my.svc\".analytics-prod.web.\"page.views\"");
  free(f);
}
END_TEST

static yajl_val parse_entity(const struct mode_entity *e) {
  char err[128];
  char *copy = strndup(e->json, e->json_len);
  yajl_val v = yajl_tree_parse(copy, err, sizeof err);
  free(copy);
  ck_assert_msg(v != NULL, "entity JSON invalid: %s", err);
  return v;
}

static const char *str_at(yajl_val v, const char *a, const char *b, const char *c) {
  const char *path[] = {a, b, c, NULL};
  yajl_val s = yajl_tree_get(v, path, yajl_t_string);
  return s ? YAJL_GET_STRING(s) : NULL;
}

START_TEST(entities_have_the_documented_shapes) {
  struct mode_entity_ctx ctx = {"mode_svc", "https://app.mode.com", "acme", 1};
  struct mode_report r = {.token = "9d2da37fa91e",
                          .name = "Report 1",
                          .space_name = "Coll",
                          .share_href = "/acme/reports/9d2da37fa91e",
                          .view_count = 6};
  struct mode_chart ch = {
      .token = "f622b9ee725b", .title = NULL, .type = "hBar", .query_name = "Q\xff"};
  struct mode_user u = {"modeuser", "Jawad", NULL};
  struct mode_entity *e = mode_entity_chart(&ctx, &r, &ch, &u, "6e26a9f3d4e2", NULL);
  ck_assert_ptr_nonnull(e);
  ck_assert_str_eq(e->kind, "chart");
  yajl_val v = parse_entity(e);
  ck_assert_str_eq(str_at(v, "data", "chartType", NULL), "Bar");
  ck_assert_str_eq(str_at(v, "data", "displayName", NULL), "Q\xef\xbf\xbd (Bar chart)");
  ck_assert_str_eq(str_at(v, "data", "sourceUrl", NULL),
                   "https://app.mode.com/acme/reports/9d2da37fa91e/viz/f622b9ee725b");
  const char *owners[] = {"owners", NULL};
  yajl_val o = yajl_tree_get(v, owners, yajl_t_array);
  ck_assert_ptr_nonnull(o);
  ck_assert_str_eq(str_at(YAJL_GET_ARRAY(o)->values[0], "name", NULL, NULL), "modeuser");
  yajl_tree_free(v);
  mode_entity_free(e);

  e = mode_entity_datamodel(&ctx, "6e26a9f3d4e2", "Customer and staff", "SELECT 1", "Coll");
  v = parse_entity(e);
  ck_assert_str_eq(str_at(v, "data", "dataModelType", NULL), "ModeDataModel");
  const char *cols[] = {"data", "columns", NULL};
  ck_assert_ptr_nonnull(yajl_tree_get(v, cols, yajl_t_array));
  yajl_tree_free(v);
  mode_entity_free(e);

  struct mode_table_end t = {NULL, "dvdrental", NULL, "customer"};
  e = mode_entity_lineage("table", "*.dvdrental.*.customer", "dashboardDataModel", "mode_svc.q",
                          "SELECT", &t);
  ck_assert_str_eq(e->id, "*.dvdrental.*.customer -> mode_svc.q");
  v = parse_entity(e);
  ck_assert_str_eq(str_at(v, "data", "lineageDetails", "source"), "DashboardLineage");
  const char *svc[] = {"fromTable", "service", NULL};
  ck_assert(YAJL_IS_NULL(yajl_tree_get(v, svc, yajl_t_any)));
  yajl_tree_free(v);
  mode_entity_free(e);

  e = mode_entity_usage(&ctx, "9d2da37fa91e", 6, "2024-05-01");
  v = parse_entity(e);
  ck_assert_str_eq(str_at(v, "entity", "fullyQualifiedName", NULL), "mode_svc.9d2da37fa91e");
  yajl_tree_free(v);
  mode_entity_free(e);
}
END_TEST

/* ---- rate limit and retry ---------------------------------------------------------------- */

START_TEST(ratelimit_paces_at_the_rate) {
  struct mode_ratelimit rl;
  mode_ratelimit_init(&rl, 4.0, 1, 100.0);
  ck_assert(mode_ratelimit_delay(&rl, 100.0) == 0);
  mode_ratelimit_take(&rl, 100.0);
  ck_assert(fabs(mode_ratelimit_delay(&rl, 100.0) - 0.25) < 1e-9);
  ck_assert(fabs(mode_ratelimit_delay(&rl, 100.1) - 0.15) < 1e-9);
  ck_assert(mode_ratelimit_delay(&rl, 100.25) < 1e-9);
  /* No burst beyond capacity after idling. */
  mode_ratelimit_take(&rl, 200.0);
  ck_assert(mode_ratelimit_delay(&rl, 200.0) > 0.2);
  /* At most burst + 10 * rate requests in any 10 s: 41 with 4/s, 39 with 3.8/s. */
  mode_ratelimit_init(&rl, 3.8, 1, 0);
  int n = 0;
  for (double t = 0; t < 10.0; t += 0.001)
    if (mode_ratelimit_delay(&rl, t) == 0) {
      mode_ratelimit_take(&rl, t);
      n++;
    }
  ck_assert_int_le(n, 39);
  ck_assert_int_ge(n, 37);
}
END_TEST

START_TEST(ratelimit_obeys_the_server) {
  struct mode_ratelimit rl;
  mode_ratelimit_init(&rl, 0, 1, 0); /* unlimited */
  ck_assert(mode_ratelimit_delay(&rl, 0) == 0);
  mode_ratelimit_pause(&rl, 0, 7);
  ck_assert(fabs(mode_ratelimit_delay(&rl, 1) - 6) < 1e-9);
  mode_ratelimit_observe(&rl, 10, 1700000000.0, 0, 1700000005.0, NULL); /* Unix reset time */
  ck_assert(fabs(mode_ratelimit_delay(&rl, 10) - 5) < 1e-6);
  mode_ratelimit_observe(&rl, 20, 0, 3, 30, NULL); /* quota left: no pause */
  ck_assert(mode_ratelimit_delay(&rl, 20) == 0);
  ck_assert(mode_ratelimit_parse_retry_after("12", 0) == 12);
  ck_assert(mode_ratelimit_parse_retry_after("soon", 0) < 0);
  ck_assert(mode_ratelimit_parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", 1445412480.0) == 10);
}
END_TEST

START_TEST(retry_backoff_and_budget) {
  ck_assert(mode_retry_transient(429, 0));
  ck_assert(mode_retry_transient(503, 0));
  ck_assert(!mode_retry_transient(404, 0));
  ck_assert(!mode_retry_transient(401, 0));
  ck_assert(mode_retry_transient(0, 56 /* CURLE_RECV_ERROR */));
  ck_assert(mode_retry_transient(0, 28 /* CURLE_OPERATION_TIMEDOUT */));
  ck_assert(!mode_retry_transient(0, 6 /* CURLE_COULDNT_RESOLVE_HOST */));
  struct mode_retry_policy p = {.max_attempts = 4, .base = 1, .cap = 3, .budget = 100, .rng = 7};
  for (int i = 0; i < 50; i++) {
    double d1 = mode_retry_next(&p, 1, -1, 0), d3 = mode_retry_next(&p, 3, -1, 0);
    ck_assert(d1 >= 0 && d1 <= 1);
    ck_assert(d3 >= 0 && d3 <= 3);
    p.budget = 100;
  }
  ck_assert(mode_retry_next(&p, 4, -1, 0) < 0);   /* attempts exhausted */
  ck_assert(mode_retry_next(&p, 1, 20, 0) == 20); /* Retry-After wins */
  p.budget = 0;
  ck_assert(mode_retry_next(&p, 1, -1, 0) < 0); /* run budget spent */
}
END_TEST

/* ---- every wait is bounded and visible (issue 14, item 6) ---------------------------------- */

START_TEST(server_pauses_are_capped) {
  struct mode_ratelimit rl;
  mode_ratelimit_init(&rl, 0, 1, 0);
  ck_assert(rl.max_pause == 300); /* maxRetryAfterSeconds' default */
  ck_assert(fabs(mode_ratelimit_pause(&rl, 0, 3600) - 300) < 1e-9);
  ck_assert(fabs(mode_ratelimit_delay(&rl, 0) - 300) < 1e-9);
  /* The same request again adds nothing new: nothing to say a second time. */
  ck_assert(fabs(mode_ratelimit_pause(&rl, 1, 3600) - 1) < 1e-9);
  double asked = 0;
  rl.max_pause = 20;
  rl.paused_until = 0;
  ck_assert(fabs(mode_ratelimit_observe(&rl, 10, 1700000000.0, 0, 1700003600.0, &asked) - 20) <
            1e-6);
  ck_assert(fabs(asked - 3600) < 1e-6);
  ck_assert(fabs(mode_ratelimit_delay(&rl, 10) - 20) < 1e-6);
}
END_TEST

START_TEST(retries_cap_retry_after_and_keep_the_deadline) {
  struct mode_retry_policy p = {.max_attempts = 5,
                                .base = 0.5,
                                .cap = 2,
                                .budget = 100,
                                .rng = 3,
                                .max_server_delay = 300,
                                .deadline = 600};
  ck_assert(mode_retry_next(&p, 1, 3600, 0) == 300);
  ck_assert(mode_retry_next(&p, 1, 20, 0) == 20);
  /* A retry that would start after the deadline is not made, and says why. */
  long budget = p.budget;
  ck_assert(mode_retry_next(&p, 1, 300, 400) == MODE_RETRY_PAST_DEADLINE);
  ck_assert(mode_retry_next(&p, 2, -1, 600) == MODE_RETRY_PAST_DEADLINE);
  ck_assert(mode_retry_next(&p, 5, -1, 0) == MODE_RETRY_GIVE_UP);
  ck_assert_int_eq(p.budget, budget); /* a retry not made spends no budget */
  double d = mode_retry_next(&p, 1, -1, 599); /* backoff < 0.5 s: still inside the deadline */
  ck_assert(d >= 0 && d < 0.5);
  ck_assert_int_eq(p.budget, budget - 1);
}
END_TEST

/* Servers for the fetch tests: python3 scripts on an ephemeral 127.0.0.1 port. */
static const char silent_server_py[] = /* accepts and never answers */
    "import socket\n"
    "s = socket.socket()\n"
    "s.bind(('127.0.0.1', 0))\n"
    "s.listen(64)\n"
    "print('listening on http://127.0.0.1:%d' % s.getsockname()[1], flush=True)\n"
    "held = []\n"
    "while True:\n"
    "    held.append(s.accept()[0])\n";

static const char retry_after_server_py[] = /* 429 with Retry-After: 3600, always */
    "import http.server\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        body = b'{\"id\":\"rate_limited\",\"message\":\"slow down\"}'\n"
    "        self.send_response(429)\n"
    "        self.send_header('Retry-After', '3600')\n"
    "        self.send_header('Content-Length', str(len(body)))\n"
    "        self.end_headers()\n"
    "        self.wfile.write(body)\n"
    "    def log_message(self, *a):\n"
    "        pass\n"
    "s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)\n"
    "print('listening on http://127.0.0.1:%d' % s.server_address[1], flush=True)\n"
    "s.serve_forever()\n";

struct waits {
  struct test_server srv;
  char *dir;
  int done, retries_told, pauses_told;
  struct mode_fetch_result res;
  char told[4096];
};

static void waits_start(struct waits *w, const char *script) {
  memset(w, 0, sizeof *w);
  w->dir = test_tmpdir();
  char *path = test_path("%s/server.py", w->dir);
  ck_assert_int_eq(test_write_file(path, script), 0);
  char *py = getenv("PYTHON3") && *getenv("PYTHON3") ? getenv("PYTHON3") : "/usr/bin/python3";
  char *argv[] = {py, path, NULL};
  ck_assert_int_eq(test_server_start(&w->srv, argv), 0);
  free(path);
}

static void waits_stop(struct waits *w) {
  test_server_stop(&w->srv);
  test_rmtree(w->dir);
  free(w->dir);
}

static void waits_notice(void *ctx, int severity, const char *message) {
  struct waits *w = ctx;
  w->retries_told += severity == ETL_SEV_INFO && strncmp(message, "retry ", 6) == 0;
  w->pauses_told += severity == ETL_SEV_WARNING;
  size_t used = strlen(w->told);
  snprintf(w->told + used, sizeof w->told - used, "%s\n", message);
}

static void waits_done(void *owner, void *arg, struct mode_fetch_result *res) {
  (void)arg;
  struct waits *w = owner;
  w->done = 1;
  w->res = *res;
  w->res.records = NULL;
  w->res.n_records = 0;
}

static const struct mode_hal_spec waits_spec = {NULL, NULL, 0};

/* Fetch options of these tests: one transfer at a time, short backoffs. */
static struct mode_fetch_opts waits_opts(long low_speed_seconds, int max_attempts,
                                         double max_server_delay, double deadline) {
  return (struct mode_fetch_opts){
      .http = {.connect_timeout_ms = 5000,
               .timeout_ms = 30000,
               .low_speed_seconds = low_speed_seconds},
      .concurrency = 1,
      .retry = {.max_attempts = max_attempts,
                .base = 0.1,
                .cap = 0.2,
                .budget = 1000,
                .rng = 1,
                .max_server_delay = max_server_delay,
                .deadline = deadline}};
}

/* Runs one GET of the test server through the fetch layer; returns the seconds it took. */
static double waits_get(struct waits *w, struct mode_fetch_opts *fo) {
  fo->notice = waits_notice;
  fo->notice_ctx = w;
  struct mode_fetch *f = mode_fetch_new(fo);
  ck_assert_ptr_nonnull(f);
  char *url = test_path("%s/api/verify", w->srv.base_url);
  ck_assert_int_eq(mode_fetch_get(f, url, &waits_spec, MODE_FETCH_URGENT, waits_done, w, NULL), 0);
  double t0 = mode_now();
  while (!w->done && mode_now() - t0 < 60)
    ck_assert_int_ge(mode_fetch_step(f, 100), 0);
  mode_fetch_free(&f, NULL);
  free(url);
  return mode_now() - t0;
}

/* A server that accepts and never answers: each attempt ends after lowSpeedSeconds, each retry
 * is told, and the request gives up, instead of 7 x requestTimeoutSeconds in silence. */
START_TEST(a_silent_server_costs_low_speed_seconds_per_attempt) {
  struct waits w;
  waits_start(&w, silent_server_py);
  struct mode_fetch_opts fo = waits_opts(1, 3, 300, 600);
  double took = waits_get(&w, &fo);
  ck_assert_msg(w.done && took < 8, "took %.1f s", took);
  ck_assert(!w.res.ok);
  ck_assert_int_eq(w.res.attempts, 3);
  ck_assert_msg(strstr(w.res.detail, "sent no data for 1 s") != NULL, "%s", w.res.detail);
  ck_assert_msg(w.retries_told == 2, "%s", w.told);
  waits_stop(&w);
}
END_TEST

/* The request deadline ends the retries of a request, whatever maxRetries allows. */
START_TEST(the_request_deadline_stops_retries) {
  struct waits w;
  waits_start(&w, silent_server_py);
  struct mode_fetch_opts fo = waits_opts(1, 100, 300, 2.5);
  double took = waits_get(&w, &fo);
  ck_assert_msg(w.done && took < 6, "took %.1f s", took);
  ck_assert_int_le(w.res.attempts, 3);
  ck_assert_msg(strstr(w.res.detail, "requestDeadlineSeconds") != NULL, "%s", w.res.detail);
  waits_stop(&w);
}
END_TEST

/* 429 with Retry-After: 3600 is obeyed only up to maxRetryAfterSeconds, and the pause is told
 * once per new pause, naming what the server asked and the cap. */
START_TEST(retry_after_3600_is_capped_and_told) {
  struct waits w;
  waits_start(&w, retry_after_server_py);
  struct mode_fetch_opts fo = waits_opts(5, 2, 1, 600); /* maxRetryAfterSeconds 1 */
  double took = waits_get(&w, &fo);
  ck_assert_msg(w.done && took < 8, "took %.1f s", took);
  ck_assert_int_eq(w.res.status, 429);
  ck_assert_int_eq(w.res.attempts, 2);
  ck_assert_msg(w.pauses_told == 2, "%s", w.told); /* one per response: each began a pause */
  ck_assert_msg(strstr(w.told, "3600 s") && strstr(w.told, "maxRetryAfterSeconds"), "%s", w.told);
  ck_assert_msg(w.retries_told == 1, "%s", w.told);
  waits_stop(&w);
}
END_TEST

/* ---- owners and lineage ------------------------------------------------------------------- */

START_TEST(owners_usernames_and_cache) {
  char *u = mode_owners_username("/api/modeuser");
  ck_assert_str_eq(u, "modeuser");
  free(u);
  ck_assert_ptr_null(mode_owners_username("/api/"));
  ck_assert_ptr_null(mode_owners_username(NULL));
  struct mode_owners o = {0};
  ck_assert_ptr_nonnull(mode_owners_add(&o, "a"));
  ck_assert_int_eq(mode_owners_find(&o, "a")->state, MODE_USER_PENDING);
  mode_owners_resolve(&o, "a", "A", "a@x", 1);
  ck_assert_str_eq(mode_owners_find(&o, "a")->user.email, "a@x");
  ck_assert_ptr_null(mode_owners_find(&o, "b"));
  mode_owners_free(&o);
}
END_TEST

static struct mode_config lineage_config(const char *src) {
  struct mode_config c;
  char err[512];
  const char *conn = "{\"accessToken\":\"t\",\"accessTokenPassword\":\"s\",\"workspaceName\":\"w\","
                     "\"dataSourceServiceMap\":{\"Mapped\":\"pg_prod\"}}";
  ck_assert_int_eq(mode_config_parse(conn, strlen(conn), src, src ? strlen(src) : 0, &c, NULL, NULL,
                                     err, sizeof err),
                   0);
  return c;
}

START_TEST(lineage_names_tables_from_service_database_and_sql) {
  struct mode_data_source mapped = {"1", "tok", "Mapped", "jdbc:postgresql", "dvdrental", NULL};
  struct mode_data_source unmapped = {"2", "tok2", "Other", "jdbc:postgresql", "sales", NULL};
  struct mode_config c = lineage_config(NULL);
  struct mode_lineage l;
  char err[256];
  ck_assert_int_eq(mode_lineage_of(&c, NULL, &mapped,
                                   "SELECT * FROM public.orders o JOIN customer c ON o.id = c.id",
                                   NULL, &l, err, sizeof err),
                   0);
  ck_assert_uint_eq(l.n_tables, 2);
  ck_assert_str_eq(l.tables[0].fqn, "pg_prod.dvdrental.public.orders");
  ck_assert_str_eq(l.tables[1].fqn, "pg_prod.dvdrental.*.customer");
  ck_assert_ptr_null(l.tables[1].schema);
  mode_lineage_clear(&l);
  ck_assert_int_eq(
      mode_lineage_of(&c, NULL, &unmapped, "select 1 from other_db.s.t", NULL, &l, err, sizeof err), 0);
  ck_assert_uint_eq(l.n_tables, 1);
  ck_assert_str_eq(l.tables[0].fqn, "*.other_db.s.t");
  mode_lineage_clear(&l);
  ck_assert_int_eq(mode_lineage_of(&c, NULL, NULL, "select 1 from s.t", NULL, &l, err, sizeof err), 0);
  ck_assert_str_eq(l.tables[0].fqn, "*.*.s.t");
  mode_lineage_clear(&l);
  mode_config_free(&c);

  c = lineage_config(
      "{\"lineageInformation\":{\"dbServicePrefixes\":[\"a.sales\",\"b.dvdrental.pub\"]}}");
  ck_assert_int_eq(mode_lineage_of(&c, NULL, &unmapped, "select 1 from t", NULL, &l, err, sizeof err), 0);
  ck_assert_str_eq(l.tables[0].fqn, "a.sales.*.t");
  mode_lineage_clear(&l);
  struct mode_data_source dv = {"3", "tok3", "X", "jdbc:postgresql", "dvdrental", NULL};
  ck_assert_int_eq(mode_lineage_of(&c, NULL, &dv, "select 1 from t", NULL, &l, err, sizeof err), 0);
  ck_assert_str_eq(l.tables[0].fqn, "b.dvdrental.pub.t");
  mode_lineage_clear(&l);
  mode_config_free(&c);
}
END_TEST

struct dialect_seen {
  int lineage, warnings;
  char last[768];
};

static void count_lineage(void *ctx, struct mode_entity *e) {
  struct dialect_seen *z = ctx;
  ck_assert_ptr_nonnull(e);
  z->lineage += strcmp(e->kind, "lineage") == 0;
  mode_entity_free(e);
}

static void count_warnings(void *ctx, int severity, unsigned flags, const char *item,
                           const char *message) {
  struct dialect_seen *z = ctx;
  (void)flags;
  if (severity == ETL_SEV_WARNING) {
    z->warnings++;
    snprintf(z->last, sizeof z->last, "%s: %s", item ? item : "", message);
  }
}

/* A data source whose adapter we have no dialect for (teradata, dremio, ...) is read as ANSI:
 * its lineage is still there, with one warning per data source, not one per query. */
START_TEST(lineage_of_an_unknown_dialect_is_ansi_with_one_warning) {
  struct mode_config cfg = lineage_config("{\"includeDataModels\":false}");
  struct mode_data_source srcs[] = {{"7", "tok7", "Warehouse", "jdbc:teradata", "dw", NULL},
                                    {"8", "tok8", "Pg", "jdbc:postgresql", "db", NULL}};
  struct mode_owners owners = {0};
  struct dialect_seen z = {0};
  struct mode_assembler a = {.cfg = &cfg,
                             .ectx = {"mode_svc", "https://app.mode.com", "acme", 1},
                             .sources = srcs,
                             .n_sources = 2,
                             .sources_known = 1,
                             .owners = &owners,
                             .today = "2026-01-01",
                             .ctx = &z,
                             .emit = count_lineage,
                             .diag = count_warnings};
  struct mode_query q[] = {{"q1", "Q1", "SELECT * FROM s.orders", "7"},
                           {"q2", "Q2", "SELECT * FROM s.items", "7"},
                           {"q3", "Q3", "SELECT * FROM s.users", "8"}};
  struct mode_report r = {
      .token = "r1", .name = "R", .space_name = "S", .view_count = -1, .queries = q, .n_queries = 3};
  mode_assemble(&a, &r);
  ck_assert_int_ge(z.lineage, 3);
  ck_assert_int_eq(z.warnings, 1);
  ck_assert_msg(strstr(z.last, "Warehouse") && strstr(z.last, "jdbc:teradata") &&
                    strstr(z.last, "ANSI"),
                "%s", z.last);
  mode_assembler_clear(&a);
  mode_config_free(&cfg);
}
END_TEST

START_TEST(lineage_expands_nested_definitions) {
  struct mode_config c = lineage_config(NULL);
  struct sql_definitions *defs = sql_definitions_new();
  const char *d1 = "SELECT * FROM customer JOIN payment ON payment.customer_id = customer.id";
  const char *d2 = "SELECT x.*, staff_id\\nfrom {{ @inner_def as x }}\\nINNER JOIN rental\\n ON "
                   "rental.id = x.rental_id";
  ck_assert_int_eq(sql_definitions_add(defs, "inner_def", d1, strlen(d1)), SQL_OK);
  ck_assert_int_eq(sql_definitions_add(defs, "outer_def", d2, strlen(d2)), SQL_OK);
  struct mode_data_source ds = {"1", "tok", "Mapped", "jdbc:postgresql", "dvdrental", NULL};
  struct mode_lineage l;
  char err[256];
  ck_assert_int_eq(mode_lineage_of(&c, defs, &ds,
                                   "SELECT r.* FROM {{ @outer_def as r }} join staff on "
                                   "staff.staff_id = r.staff_id where id = {{ sel }}\n{% form %}\n"
                                   "sel:\n  type: text\n  default: 1\n{% endform %}",
                                   NULL, &l, err, sizeof err),
                   0);
  const char *want[] = {"customer", "payment", "rental", "staff"};
  for (size_t w = 0; w < 4; w++) {
    int found = 0;
    for (size_t i = 0; i < l.n_tables; i++)
      found |= strcmp(l.tables[i].name, want[w]) == 0;
    ck_assert_msg(found, "table %s missing", want[w]);
  }
  ck_assert_uint_eq(l.n_tables, 4);
  mode_lineage_clear(&l);
  sql_definitions_free(&defs);
  mode_config_free(&c);
}
END_TEST

/* The state an incremental run reads back: what it wrote round-trips; anything else is refused
 * with a reason (the plugin then warns and runs in full), never half-loaded. */
START_TEST(incremental_state_round_trips_and_refuses_bad_input) {
  struct mode_incr out = {0}, in = {0};
  char err[256];
  ck_assert_int_eq(mode_incr_begin(&out, "r2", "s2", NULL), 0);
  ck_assert_int_eq(mode_incr_add_id(&out, "dashboard", "r2"), 0);
  ck_assert_int_eq(mode_incr_add_id(&out, "chart", "c1"), 0);
  ck_assert_int_eq(mode_incr_add_id(&out, "chart", "c2"), 0);
  ck_assert_int_eq(mode_incr_add_id(&out, "usage", "r2"), 0); /* not recorded */
  ck_assert_int_eq(mode_incr_begin(&out, "r1", "s1", NULL), 0);
  struct mode_entity *st = mode_incr_state_entity(&out, "G");
  ck_assert_ptr_nonnull(st);
  ck_assert_str_eq(st->kind, "state");
  ck_assert_str_eq(st->json, "{\"version\":1,\"stamp\":\"G\",\"reports\":{\"r2\":{\"s\":\"s2\","
                             "\"e\":{\"dashboard\":[\"r2\"],\"chart\":[\"c1\",\"c2\"]}},"
                             "\"r1\":{\"s\":\"s1\",\"e\":{}}}}");
  ck_assert_int_eq(mode_incr_load(&in, st->json, st->json_len, err, sizeof err), 0);
  ck_assert_str_eq(in.prev_stamp, "G");
  const struct mode_incr_entry *e = mode_incr_find(&in, "r2");
  ck_assert_ptr_nonnull(e);
  ck_assert_str_eq(e->stamp, "s2");
  ck_assert_ptr_nonnull(mode_incr_find(&in, "r1"));
  ck_assert_ptr_null(mode_incr_find(&in, "r3"));
  const char *ids[] = {"c1", "c2"};
  struct mode_entity *r = mode_incr_retain_entity("r2", "chart", ids, 2);
  ck_assert_str_eq(r->kind, "retain");
  ck_assert_str_eq(r->id, "r2/chart");
  ck_assert_str_eq(r->json, "{\"data\":{\"kind\":\"chart\",\"ids\":[\"c1\",\"c2\"]}}");
  mode_entity_free(r);
  mode_entity_free(st);
  mode_incr_clear(&in);
  mode_incr_clear(&out);

  static const char *const bad[] = {
      "not json",
      "[]",
      "{\"version\":2,\"stamp\":\"G\",\"reports\":{}}",
      "{\"version\":1,\"reports\":{}}",
      "{\"version\":1,\"stamp\":\"G\",\"reports\":[]}",
      "{\"version\":1,\"stamp\":\"G\",\"reports\":{\"a\":{\"s\":\"x\",\"e\":{}},\"b\":{\"e\":{}}}}",
      "{\"version\":1,\"stamp\":\"G\",\"reports\":{\"a\":{\"s\":\"x\",\"e\":{\"what\":[\"1\"]}}}}",
      "{\"version\":1,\"stamp\":\"G\",\"reports\":{\"a\":{\"s\":\"x\",\"e\":{\"chart\":[3]}}}}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct mode_incr b = {0};
    err[0] = '\0';
    ck_assert_msg(mode_incr_load(&b, bad[i], strlen(bad[i]), err, sizeof err) == -1,
                  "accepted: %s", bad[i]);
    ck_assert_msg(err[0] != '\0', "no reason for: %s", bad[i]);
    ck_assert_ptr_null(b.prev);
    ck_assert_ptr_null(mode_incr_find(&b, "a"));
    mode_incr_clear(&b);
  }
  /* Secrets never reach the stamp: changing them keeps it, changing a setting changes it. */
  const char *c1 = "{\"accessToken\":\"a\",\"accessTokenPassword\":\"b\",\"workspaceName\":\"w\"}";
  const char *c2 = "{\"accessToken\":\"x\",\"accessTokenPassword\":\"y\",\"workspaceName\":\"w\"}";
  const char *c3 = "{\"accessToken\":\"a\",\"accessTokenPassword\":\"b\",\"workspaceName\":\"v\"}";
  uint64_t h1 = mode_incr_hash_config(MODE_INCR_HASH_INIT, c1, strlen(c1));
  ck_assert(h1 == mode_incr_hash_config(MODE_INCR_HASH_INIT, c2, strlen(c2)));
  ck_assert(h1 != mode_incr_hash_config(MODE_INCR_HASH_INIT, c3, strlen(c3)));
}
END_TEST

/* ---- hostile input (issue 14) ------------------------------------------------------------ */

struct sized {
  size_t bytes, lineage, with_sql, model_sql;
};

static void measure(void *ctx, struct mode_entity *e) {
  struct sized *z = ctx;
  ck_assert_ptr_nonnull(e);
  z->bytes += e->json_len;
  if (strcmp(e->kind, "lineage") == 0) {
    z->lineage++;
    z->with_sql += strstr(e->json, "\"sqlQuery\"") != NULL;
    /* An edge into a data model never repeats the SQL its model holds. */
    if (strstr(e->json, "\"toEntity\":{\"type\":\"dashboardDataModel\""))
      z->model_sql += strstr(e->json, "\"sqlQuery\"") != NULL;
  }
  mode_entity_free(e);
}

/* A query of n_tables distinct tables, padded with a comment to about `size` bytes. */
static char *wide_query(size_t n_tables, size_t size) {
  struct mode_buf b = {0};
  ck_assert_int_eq(mode_buf_append(&b, "SELECT 1 FROM t0", 16), 0);
  for (size_t i = 1; i < n_tables; i++) {
    char part[48];
    int n = snprintf(part, sizeof part, " JOIN t%zu ON t%zu.k = t0.k", i, i);
    ck_assert_int_eq(mode_buf_append(&b, part, (size_t)n), 0);
  }
  ck_assert_int_eq(mode_buf_append(&b, "\n-- ", 4), 0);
  while (b.len < size)
    ck_assert_int_eq(mode_buf_append(&b, "padding ", 8), 0);
  return b.data;
}

/* Lineage output is linear in the query: 0.1 MB of SQL reading 500 tables used to give 500
 * copies of the SQL (50 MB); now the SQL is on its data model once and the edges carry at most
 * an excerpt within a per-query budget. Both with and without data models. */
static int always_cancelled(void *ctx) {
  (*(int *)ctx)++;
  return 1;
}

/* An interrupted run stops a huge query's lineage at once instead of finishing it (issue 14:
 * SIGTERM waited 36 s for a 4 MB form): the crawl hands its stop check to the SQL library. */
START_TEST(lineage_stops_when_the_run_is_cancelled) {
  struct mode_config c = lineage_config(NULL);
  char err[256];
  size_t n = 4u << 20;
  char *raw = malloc(n + 64);
  ck_assert_ptr_nonnull(raw);
  strcpy(raw, "select * from t where a in (");
  size_t at = strlen(raw);
  while (at + 3 < n) {
    memcpy(raw + at, "1, ", 3);
    at += 3;
  }
  strcpy(raw + at, "1)");
  int asked = 0;
  struct sql_cancel cancel = {always_cancelled, &asked};
  struct mode_lineage l;
  ck_assert_int_eq(mode_lineage_of(&c, NULL, NULL, raw, &cancel, &l, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "cancelled"), "%s", err);
  ck_assert_int_eq(asked, 1);
  /* Without a stop request the same query gives its table. */
  ck_assert_int_eq(mode_lineage_of(&c, NULL, NULL, raw, NULL, &l, err, sizeof err), 0);
  ck_assert_uint_eq(l.n_tables, 1);
  mode_lineage_clear(&l);
  free(raw);
  mode_config_free(&c);
}
END_TEST

START_TEST(lineage_output_is_linear_in_the_query) {
  static const char *const srcs[] = {"{\"includeDataModels\":true}",
                                     "{\"includeDataModels\":false}"};
  char *sql = wide_query(500, 100000);
  size_t in = strlen(sql);
  for (size_t k = 0; k < 2; k++) {
    struct mode_config cfg = lineage_config(srcs[k]);
    struct mode_owners owners = {0};
    struct sized z = {0};
    struct mode_assembler a = {.cfg = &cfg,
                               .ectx = {"mode_svc", "https://app.mode.com", "acme", 1},
                               .owners = &owners,
                               .today = "2026-01-01",
                               .ctx = &z,
                               .emit = measure};
    struct mode_query q = {.token = "q1", .name = "Query 1", .raw_query = sql};
    struct mode_report r = {.token = "r1",
                            .name = "R",
                            .space_name = "S",
                            .view_count = -1,
                            .queries = &q,
                            .n_queries = 1};
    mode_assemble(&a, &r);
    ck_assert_uint_ge(z.lineage, 500);
    ck_assert_uint_eq(z.model_sql, 0);
    ck_assert_uint_le(z.with_sql, MODE_LINEAGE_SQL_BUDGET / 1024);
    /* The data model's SQL once, ~200 bytes of record per edge, and the budget. */
    ck_assert_msg(z.bytes <= 2 * in + 300 * z.lineage + MODE_LINEAGE_SQL_BUDGET,
                  "%zu bytes out for %zu in (%zu edges)", z.bytes, in, z.lineage);
    mode_assembler_clear(&a);
    mode_config_free(&cfg);
  }
  free(sql);
}
END_TEST

/* An excerpt is cut at a character boundary and marked; short SQL is kept whole. */
START_TEST(lineage_sql_excerpt_cuts_at_a_character) {
  char *e = mode_lineage_sql_excerpt("select 1", 4096);
  ck_assert_str_eq(e, "select 1");
  free(e);
  char big[64];
  memset(big, 'a', sizeof big);
  memcpy(big + 15, "\xC3\xA9\xC3\xA9\xC3\xA9", 6); /* éé é around the cut */
  big[63] = '\0';
  e = mode_lineage_sql_excerpt(big, 32);
  ck_assert_uint_le(strlen(e), 32);
  ck_assert_ptr_nonnull(strstr(e, "-- (truncated)"));
  size_t kept = (size_t)(strstr(e, "\n-- (truncated)") - e);
  ck_assert_msg(((unsigned char)big[kept] & 0xC0) != 0x80, "cut inside a character at %zu", kept);
  free(e);
}
END_TEST

/* \u0000 in a string is flagged and never cuts the value short (a cut token named another
 * report, which was then "not seen" and marked deleted). */
START_TEST(hal_nul_in_a_string_is_flagged_not_cut) {
  int rc;
  struct mode_hal_parser *p =
      feed(&reports_spec,
           "{\"_embedded\":{\"reports\":[{\"token\":\"\\u0000abc\",\"name\":\"n\\u0000m\"},"
           "{\"token\":\"abc\"}]}}",
           3, &rc);
  ck_assert_int_eq(rc, 0);
  struct mode_hal_record *recs;
  size_t n;
  mode_hal_take(p, &recs, &n);
  ck_assert_uint_eq(n, 2);
  ck_assert_int_eq(recs[0].fields[0].had_nul, 1);
  ck_assert_str_eq(mode_hal_get(&recs[0], 0), "\xEF\xBF\xBD"
                                              "abc");
  ck_assert_str_eq(mode_hal_get(&recs[0], 1), "n\xEF\xBF\xBDm");
  ck_assert_int_eq(recs[1].fields[0].had_nul, 0);
  ck_assert_str_eq(mode_hal_get(&recs[1], 0), "abc");
  mode_hal_records_free(recs, n);
  mode_hal_parser_free(&p);
}
END_TEST

/* Without maxPages a listing that brings new items on every page stops at a few hundred
 * pages (about 40 minutes at Mode's rate), not 10,000 (22 hours). */
START_TEST(pager_default_cap_is_bounded) {
  struct mode_config cfg = lineage_config(NULL);
  ck_assert_int_eq(cfg.max_pages, MODE_PAGER_MAX_PAGES);
  ck_assert_int_le(cfg.max_pages, 1000);
  struct mode_pager pg;
  ck_assert_int_eq(mode_pager_init(&pg, "http://x/l", 30, 0), 0);
  enum mode_page_verdict v = MODE_PAGE_MORE;
  int pages = 0;
  while (v == MODE_PAGE_MORE && pages < 20000) {
    char tok[32];
    const char *toks[1] = {tok};
    int fresh[1];
    snprintf(tok, sizeof tok, "r%d", pages++);
    v = mode_pager_page(&pg, toks, 1, 1, fresh);
  }
  ck_assert_int_eq(v, MODE_PAGE_CAPPED);
  ck_assert_int_eq(pages, MODE_PAGER_MAX_PAGES);
  mode_pager_free(&pg);
  mode_config_free(&cfg);
}
END_TEST

int main(void) {
  Suite *s = suite_create("mode_core");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, hal_extracts_report_fields_in_any_chunking);
  tcase_add_test(tc, hal_nested_chart_fields);
  tcase_add_test(tc, hal_wildcard_paths);
  tcase_add_test(tc, hal_root_object_and_nulls);
  tcase_add_test(tc, hal_batch_list_at_root_with_envelope);
  tcase_add_loop_test(tc, hal_malformed_and_edge_bodies, 0,
                      (int)(sizeof hal_cases / sizeof hal_cases[0]));
  tcase_add_test(tc, hal_value_cap);
  tcase_add_test(tc, pager_a_short_page_is_not_the_end);
  tcase_add_test(tc, pager_ends_on_repeat_missing_and_cap);
  tcase_add_loop_test(tc, chart_types_map_to_openmetadata, 0,
                      (int)(sizeof chart_cases / sizeof chart_cases[0]));
  tcase_add_test(tc, fqn_quotes_dotted_parts_and_stars_unknowns);
  tcase_add_test(tc, entities_have_the_documented_shapes);
  tcase_add_test(tc, ratelimit_paces_at_the_rate);
  tcase_add_test(tc, ratelimit_obeys_the_server);
  tcase_add_test(tc, retry_backoff_and_budget);
  tcase_add_test(tc, owners_usernames_and_cache);
  tcase_add_test(tc, lineage_names_tables_from_service_database_and_sql);
  tcase_add_test(tc, lineage_expands_nested_definitions);
  tcase_add_test(tc, lineage_of_an_unknown_dialect_is_ansi_with_one_warning);
  tcase_add_test(tc, incomplete_report_gives_no_dashboard);
  tcase_add_test(tc, incremental_state_round_trips_and_refuses_bad_input);
  suite_add_tcase(s, tc);
  TCase *waits = tcase_create("waits");
  tcase_set_timeout(waits, 60);
  tcase_add_test(waits, server_pauses_are_capped);
  tcase_add_test(waits, retries_cap_retry_after_and_keep_the_deadline);
  tcase_add_test(waits, a_silent_server_costs_low_speed_seconds_per_attempt);
  tcase_add_test(waits, the_request_deadline_stops_retries);
  tcase_add_test(waits, retry_after_3600_is_capped_and_told);
  suite_add_tcase(s, waits);
  TCase *hostile = tcase_create("hostile");
  tcase_set_timeout(hostile, 60);
  tcase_add_test(hostile, lineage_output_is_linear_in_the_query);
  tcase_add_test(hostile, lineage_stops_when_the_run_is_cancelled);
  tcase_add_test(hostile, lineage_sql_excerpt_cuts_at_a_character);
  tcase_add_test(hostile, hal_nul_in_a_string_is_flagged_not_cut);
  tcase_add_test(hostile, pager_default_cap_is_bounded);
  suite_add_tcase(s, hostile);
  TCase *scale = tcase_create("scale");
  tcase_set_timeout(scale, 30);
  tcase_add_loop_test(scale, hal_long_string_in_small_pieces, 0,
                      (int)(sizeof long_string_pieces / sizeof long_string_pieces[0]));
  suite_add_tcase(s, scale);
  return test_run_suite(s);
}
