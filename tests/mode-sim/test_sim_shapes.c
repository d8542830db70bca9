/*
 * mode-sim serves what Mode serves: endpoint by endpoint, the generated bodies carry the same
 * keys (recursively) as the recorded responses in tests/fixtures/mode-api-samples, and --fixtures
 * serves those recordings byte for byte.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_sim_helpers.h"

static struct test_server srv;
static yajl_val truth;

static char *sample_path(const char *rel) {
  return test_path("%s/mode-api-samples/%s", test_fixtures_dir(), rel);
}

static void start_generated(void) {
  char *dir = test_tmpdir();
  char *gt = test_path("%s/truth.json", dir);
  const char *args[] = {
      "--seed",         "7", "--spaces", "4", "--reports-per-space", "40", "--rate-limit", "off",
      "--ground-truth", gt,  NULL};
  sim_start(&srv, args);
  truth = sim_load_json(gt);
  test_rmtree(dir);
  free(gt);
  free(dir);
}

static void stop(void) {
  test_server_stop(&srv);
  yajl_tree_free(truth);
  truth = NULL;
}

/* v1 charts have the pre-vega shape; the recordings hold only v2 charts. */
static int skip_v1_chart(yajl_val v) {
  const char *path[] = {"view_version", NULL};
  yajl_val ver = yajl_tree_get(v, path, yajl_t_number);
  return ver && YAJL_GET_INTEGER(ver) == 1;
}

static void assert_keys_like(const char *sample_rel, const char *url) {
  char *p = sample_path(sample_rel);
  yajl_val sample = sim_load_json(p);
  yajl_val got = sim_get_json(&srv, url);
  char where[1024];
  int rc = sim_same_keys(sample, got, skip_v1_chart, where, sizeof where);
  ck_assert_msg(rc == 0, "%s vs %s: %s", url, sample_rel, where);
  yajl_tree_free(sample);
  yajl_tree_free(got);
  free(p);
}

/* The first report (is_dataset as asked) with charts, or any when charts is 0. */
static yajl_val find_report(const char *list, int with_charts) {
  const char *path[] = {list, NULL};
  yajl_val arr = yajl_tree_get(truth, path, yajl_t_array);
  ck_assert_ptr_nonnull(arr);
  for (size_t i = 0; i < arr->u.array.len; i++) {
    yajl_val r = arr->u.array.values[i];
    const char *cc[] = {"chart_count", NULL};
    if (!with_charts || YAJL_GET_INTEGER(yajl_tree_get(r, cc, yajl_t_number)) > 0)
      return r;
  }
  ck_abort_msg("no report in the ground truth");
  return NULL;
}

static const char *tok(yajl_val v, const char *key) {
  const char *path[] = {key, NULL};
  const char *s = sim_str(v, path);
  ck_assert_ptr_nonnull(s);
  return s;
}

START_TEST(account_endpoints_have_recorded_keys) {
  assert_keys_like("setup/verify.json", "/api/verify");
  assert_keys_like("setup/user.json", "/api/account");
  const char *users[] = {"users", NULL};
  yajl_val u = yajl_tree_get(truth, users, yajl_t_array)->u.array.values[0];
  char *url = test_path("/api/%s", tok(u, "username"));
  assert_keys_like("setup/user.json", url);
  free(url);
  assert_keys_like("setup/data_sources.json", "/api/acme/data_sources");
  assert_keys_like("setup/definitions.json", "/api/acme/definitions");
}
END_TEST

START_TEST(listings_have_recorded_keys) {
  assert_keys_like("setup/spaces.json", "/api/acme/spaces?filter=all");
  assert_keys_like("setup/spaces.json", "/api/acme/collections?filter=custom");
  yajl_val r = find_report("reports", 1);
  char *url = test_path("/api/acme/spaces/%s/reports", tok(r, "space_token"));
  assert_keys_like("setup/reports_75737b70402e.json", url);
  free(url);
  url = test_path("/api/acme/spaces/%s/datasets", tok(r, "space_token"));
  assert_keys_like("setup/datasets_75737b70402e.json", url);
  free(url);
  url = test_path("/api/acme/spaces/%s/reports?page=99", tok(r, "space_token"));
  assert_keys_like("setup/reports_157933cc1168.json", url); /* the empty page */
  free(url);
}
END_TEST

START_TEST(reports_queries_charts_have_recorded_keys) {
  yajl_val r = find_report("reports", 1);
  const char *qs[] = {"queries", NULL};
  yajl_val q = yajl_tree_get(r, qs, yajl_t_array)->u.array.values[0];
  char *url = test_path("/api/acme/reports/%s/queries", tok(r, "token"));
  assert_keys_like("setup/queries.json", url);
  free(url);
  /* charts of every query of the first reports: v2 charts must match the recording */
  const char *rs[] = {"reports", NULL};
  yajl_val all = yajl_tree_get(truth, rs, yajl_t_array);
  for (size_t i = 0; i < all->u.array.len && i < 20; i++) {
    yajl_val rep = all->u.array.values[i];
    yajl_val rq = yajl_tree_get(rep, qs, yajl_t_array);
    for (size_t k = 0; k < rq->u.array.len; k++) {
      url = test_path("/api/acme/reports/%s/queries/%s/charts", tok(rep, "token"),
                      tok(rq->u.array.values[k], "token"));
      assert_keys_like("setup/charts.json", url);
      free(url);
    }
  }
  (void)q;
  yajl_val d = find_report("datasets", 0);
  url = test_path("/api/acme/reports/%s", tok(d, "token"));
  assert_keys_like("setup/dataset_24f66e1701b6.json", url);
  free(url);
  url = test_path("/api/acme/reports/%s/queries", tok(d, "token"));
  assert_keys_like("setup/dataset_queries_24f66e1701b6.json", url);
  free(url);
}
END_TEST

/* Runs and query runs have no recording: check the keys the connector reads. */
START_TEST(query_runs_carry_rendered_source) {
  yajl_val r = find_report("reports", 0);
  char *url = test_path("/api/acme/reports/%s/runs", tok(r, "token"));
  yajl_val runs = sim_get_json(&srv, url);
  free(url);
  const char *first[] = {"_embedded", "report_runs", NULL};
  yajl_val arr = yajl_tree_get(runs, first, yajl_t_array);
  ck_assert_ptr_nonnull(arr);
  ck_assert_uint_eq(arr->u.array.len, 1);
  const char *qr_href[] = {"_links", "query_runs", "href", NULL};
  const char *href = sim_str(arr->u.array.values[0], qr_href);
  ck_assert_ptr_nonnull(href);
  yajl_val qruns = sim_get_json(&srv, href);
  const char *list[] = {"_embedded", "query_runs", NULL};
  yajl_val qa = yajl_tree_get(qruns, list, yajl_t_array);
  ck_assert_ptr_nonnull(qa);
  ck_assert_uint_gt(qa->u.array.len, 0);
  const char *src[] = {"rendered_source", NULL}, *raw[] = {"raw_source", NULL};
  const char *rendered = sim_str(qa->u.array.values[0], src);
  ck_assert_ptr_nonnull(rendered);
  ck_assert_ptr_nonnull(sim_str(qa->u.array.values[0], raw));
  ck_assert_msg(!strstr(rendered, "{%") && !strstr(rendered, "{{"), "not rendered: %s", rendered);
  yajl_tree_free(qruns);
  yajl_tree_free(runs);
}
END_TEST

/* ---- fixtures ---- */

static void check_fixture(const char *url, const char *rel) {
  char *p = sample_path(rel);
  size_t len = 0;
  char *want = test_read_file(p, &len);
  ck_assert_msg(want != NULL, "cannot read %s", p);
  struct sim_http h;
  sim_get(&srv, url, &h);
  ck_assert_msg(h.status == 200, "GET %s: HTTP %ld", url, h.status);
  ck_assert_msg(h.len == len && memcmp(h.body, want, len) == 0, "GET %s differs from %s", url, rel);
  sim_http_free(&h);
  free(want);
  free(p);
}

START_TEST(fixtures_are_served_byte_for_byte) {
  char *dir = test_path("%s/mode-api-samples", test_fixtures_dir());
  const char *args[] = {"--fixtures", dir, "--workspace", "acryl", "--rate-limit", "off", NULL};
  sim_start(&srv, args);
  static const char *const MAP[][2] = {
      {"/api/verify", "setup/verify.json"},
      {"/api/account", "setup/user.json"},
      {"/api/acryl/spaces?filter=all", "setup/spaces.json"},
      {"/api/acryl/collections?filter=custom&per_page=30&page=1", "setup/spaces.json"},
      {"/api/acryl/spaces/157933cc1168/reports", "setup/reports_157933cc1168.json"},
      {"/api/acryl/spaces/75737b70402e/reports?filter=all&per_page=30&page=1",
       "setup/reports_75737b70402e.json"},
      {"/api/modeuser", "setup/user.json"},
      {"/api/acryl/reports/9d2da37fa91e/queries", "setup/queries.json"},
      {"/api/acryl/reports/9d2da37fa91e/queries/6e26a9f3d4e2/charts", "setup/charts.json"},
      {"/api/acryl/data_sources", "setup/data_sources.json"},
      {"/api/acryl/definitions", "setup/definitions.json"},
      {"/api/acryl/spaces/75737b70402e/datasets", "setup/datasets_75737b70402e.json"},
      {"/api/acryl/reports/24f66e1701b6", "setup/dataset_24f66e1701b6.json"},
      {"/api/acryl/reports/24f66e1701b6/queries", "setup/dataset_queries_24f66e1701b6.json"},
  };
  for (size_t i = 0; i < sizeof MAP / sizeof MAP[0]; i++)
    check_fixture(MAP[i][0], MAP[i][1]);
  /* page 2 of a listing is Mode's empty terminal page */
  yajl_val page2 = sim_get_json(&srv, "/api/acryl/spaces/75737b70402e/reports?page=2");
  const char *list[] = {"_embedded", "reports", NULL};
  yajl_val arr = yajl_tree_get(page2, list, yajl_t_array);
  ck_assert_ptr_nonnull(arr);
  ck_assert_uint_eq(arr->u.array.len, 0);
  yajl_tree_free(page2);
  struct sim_http h;
  sim_get(&srv, "/api/acryl/reports/000000000000/queries", &h);
  ck_assert_int_eq(h.status, 404);
  ck_assert_ptr_nonnull(strstr(h.body, "\"not_found\""));
  sim_http_free(&h);
  sim_get(&srv, "/api/other/data_sources", &h);
  ck_assert_int_eq(h.status, 404);
  sim_http_free(&h);
  test_server_stop(&srv);
  free(dir);
}
END_TEST

START_TEST(fixtures_follow_the_workspace_name) {
  char *dir = test_path("%s/mode-api-samples", test_fixtures_dir());
  const char *args[] = {"--fixtures", dir, "--workspace", "elsewhere", NULL};
  sim_start(&srv, args);
  check_fixture("/api/elsewhere/data_sources", "setup/data_sources.json");
  test_server_stop(&srv);
  free(dir);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("mode-sim shapes");
  TCase *gen = tcase_create("generated");
  tcase_add_checked_fixture(gen, start_generated, stop);
  tcase_add_test(gen, account_endpoints_have_recorded_keys);
  tcase_add_test(gen, listings_have_recorded_keys);
  tcase_add_test(gen, reports_queries_charts_have_recorded_keys);
  tcase_add_test(gen, query_runs_carry_rendered_source);
  suite_add_tcase(s, gen);
  TCase *fx = tcase_create("fixtures");
  tcase_add_test(fx, fixtures_are_served_byte_for_byte);
  tcase_add_test(fx, fixtures_follow_the_workspace_name);
  suite_add_tcase(s, fx);
  return s;
}

int main(void) {
  /* The recordings are in the tree (tests/fixtures): a missing one fails, it is never skipped. */
  return test_run_suite(suite());
}
