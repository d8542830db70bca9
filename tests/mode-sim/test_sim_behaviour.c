/*
 * mode-sim behaves like Mode where connectors trip: paging across page boundaries, the rate
 * limit, auth, 404s, reproducible faults, and --mutate; and its ground truth agrees with what
 * it serves.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test_sim_helpers.h"

static const char *tok(yajl_val v, const char *key) {
  const char *path[] = {key, NULL};
  return sim_str(v, path);
}

static yajl_val arr_at(yajl_val v, const char *k1, const char *k2) {
  const char *path[] = {k1, k2, NULL};
  yajl_val a = yajl_tree_get(v, path, yajl_t_array);
  ck_assert_msg(a != NULL, "no array at %s.%s", k1, k2 ? k2 : "");
  return a;
}

/* Starts a generated workspace and loads its ground truth. */
static yajl_val start_with_truth(struct test_server *srv, const char *const *extra) {
  char *dir = test_tmpdir();
  char *gt = test_path("%s/truth.json", dir);
  const char *args[30] = {"--ground-truth", gt};
  size_t n = 2;
  for (size_t i = 0; extra[i] && n < 29; i++)
    args[n++] = extra[i];
  args[n] = NULL;
  sim_start(srv, args);
  yajl_val truth = sim_load_json(gt);
  test_rmtree(dir);
  free(gt);
  free(dir);
  return truth;
}

/* A token set: a sorted array of strings with counts. */
struct seen {
  char **tokens;
  int *count;
  size_t n, cap;
};

static void seen_add(struct seen *s, const char *t) {
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->tokens[i], t) == 0) {
      s->count[i]++;
      return;
    }
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 256;
    s->tokens = realloc(s->tokens, s->cap * sizeof *s->tokens);
    s->count = realloc(s->count, s->cap * sizeof *s->count);
  }
  s->tokens[s->n] = strdup(t);
  s->count[s->n++] = 1;
}

static int seen_count(const struct seen *s, const char *t) {
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->tokens[i], t) == 0)
      return s->count[i];
  return 0;
}

static void seen_free(struct seen *s) {
  for (size_t i = 0; i < s->n; i++)
    free(s->tokens[i]);
  free(s->tokens);
  free(s->count);
}

/* Pages path (which has a '?') until an empty page, adding each item's token. */
static size_t page_all(const struct test_server *srv, const char *path, const char *key,
                       struct seen *out) {
  size_t pages = 0;
  for (int page = 1; page < 100; page++) {
    char *url = test_path("%s&per_page=100&page=%d", path, page);
    yajl_val body = sim_get_json(srv, url);
    free(url);
    yajl_val items = arr_at(body, "_embedded", key);
    size_t n = items->u.array.len;
    ck_assert_uint_le(n, 30); /* per_page is capped at 30 */
    for (size_t i = 0; i < n; i++)
      seen_add(out, tok(items->u.array.values[i], "token"));
    yajl_tree_free(body);
    pages++;
    if (n == 0)
      return pages;
  }
  ck_abort_msg("%s: never an empty page", path);
  return pages;
}

START_TEST(paging_returns_every_report_once) {
  struct test_server srv;
  const char *extra[] = {"--seed",
                         "42",
                         "--spaces",
                         "50",
                         "--reports-per-space",
                         "100",
                         "--queries-per-report",
                         "1",
                         "--rate-limit",
                         "off",
                         NULL};
  yajl_val truth = start_with_truth(&srv, extra);
  struct seen spaces = {0}, reports = {0}, datasets = {0};
  page_all(&srv, "/api/acme/spaces?filter=all", "spaces", &spaces);
  yajl_val tspaces = arr_at(truth, "spaces", NULL);
  ck_assert_uint_eq(spaces.n, tspaces->u.array.len);
  for (size_t i = 0; i < spaces.n; i++) {
    ck_assert_int_eq(spaces.count[i], 1);
    char *p = test_path("/api/acme/spaces/%s/reports?filter=all", spaces.tokens[i]);
    page_all(&srv, p, "reports", &reports);
    free(p);
    p = test_path("/api/acme/spaces/%s/datasets?filter=all", spaces.tokens[i]);
    page_all(&srv, p, "reports", &datasets);
    free(p);
  }
  yajl_val treports = arr_at(truth, "reports", NULL);
  yajl_val tdatasets = arr_at(truth, "datasets", NULL);
  ck_assert_uint_ge(treports->u.array.len, 5000);
  ck_assert_uint_eq(reports.n, treports->u.array.len);
  ck_assert_uint_eq(datasets.n, tdatasets->u.array.len);
  for (size_t i = 0; i < treports->u.array.len; i++)
    ck_assert_int_eq(seen_count(&reports, tok(treports->u.array.values[i], "token")), 1);
  for (size_t i = 0; i < tdatasets->u.array.len; i++)
    ck_assert_int_eq(seen_count(&datasets, tok(tdatasets->u.array.values[i], "token")), 1);
  seen_free(&spaces);
  seen_free(&reports);
  seen_free(&datasets);
  yajl_tree_free(truth);
  test_server_stop(&srv);
}
END_TEST

/* What the truth says of a report is what the server says: chart_count, charts, queries. */
START_TEST(ground_truth_agrees_with_the_served_reports) {
  struct test_server srv;
  const char *extra[] = {"--seed",       "3",   "--spaces", "3", "--reports-per-space", "12",
                         "--rate-limit", "off", NULL};
  yajl_val truth = start_with_truth(&srv, extra);
  yajl_val treports = arr_at(truth, "reports", NULL);
  size_t without_charts = 0;
  for (size_t i = 0; i < treports->u.array.len; i++) {
    yajl_val t = treports->u.array.values[i];
    char *url = test_path("/api/acme/reports/%s", tok(t, "token"));
    yajl_val r = sim_get_json(&srv, url);
    free(url);
    const char *cc[] = {"chart_count", NULL};
    long long served = YAJL_GET_INTEGER(yajl_tree_get(r, cc, yajl_t_number));
    ck_assert_int_eq(served, YAJL_GET_INTEGER(yajl_tree_get(t, cc, yajl_t_number)));
    ck_assert_str_eq(tok(r, "name"), tok(t, "name"));
    ck_assert_str_eq(tok(r, "space_token"), tok(t, "space_token"));
    without_charts += served == 0;
    size_t charts = 0;
    yajl_val tq = arr_at(t, "queries", NULL);
    url = test_path("/api/acme/reports/%s/queries", tok(t, "token"));
    yajl_val qs = sim_get_json(&srv, url);
    free(url);
    yajl_val sq = arr_at(qs, "_embedded", "queries");
    ck_assert_uint_eq(sq->u.array.len, tq->u.array.len);
    for (size_t k = 0; k < sq->u.array.len; k++) {
      ck_assert_str_eq(tok(sq->u.array.values[k], "token"), tok(tq->u.array.values[k], "token"));
      url = test_path("/api/acme/reports/%s/queries/%s/charts", tok(t, "token"),
                      tok(sq->u.array.values[k], "token"));
      yajl_val ch = sim_get_json(&srv, url);
      free(url);
      charts += arr_at(ch, "_embedded", "charts")->u.array.len;
      yajl_tree_free(ch);
    }
    ck_assert_int_eq((long long)charts, served);
    ck_assert_uint_eq(charts, arr_at(t, "charts", NULL)->u.array.len);
    yajl_tree_free(qs);
    yajl_tree_free(r);
  }
  ck_assert_uint_gt(without_charts, 0);
  yajl_tree_free(truth);
  test_server_stop(&srv);
}
END_TEST

START_TEST(burst_past_the_bucket_gets_429_with_retry_after) {
  struct test_server srv;
  sim_start(&srv, NULL); /* Mode's default: 40 per 10 s */
  int limited = 0, ok = 0;
  for (int i = 0; i < 100; i++) {
    struct sim_http h;
    sim_get(&srv, "/api/verify", &h);
    ck_assert_str_eq(h.ratelimit_limit, "40");
    if (h.status == 429) {
      limited++;
      ck_assert_msg(atoi(h.retry_after) >= 1, "429 without Retry-After");
      ck_assert_ptr_nonnull(strstr(h.body, "\"id\""));
    } else {
      ck_assert_int_eq(h.status, 200);
      ok++;
    }
    sim_http_free(&h);
  }
  ck_assert_int_ge(ok, 40);
  ck_assert_int_ge(limited, 50);
  yajl_val stats = sim_get_json(&srv, "/__sim/stats");
  const char *rl[] = {"rate_limited", NULL}, *rq[] = {"requests", NULL};
  const char *st[] = {"status", "429", NULL};
  ck_assert_int_eq(YAJL_GET_INTEGER(yajl_tree_get(stats, rl, yajl_t_number)), limited);
  ck_assert_int_eq(YAJL_GET_INTEGER(yajl_tree_get(stats, st, yajl_t_number)), limited);
  ck_assert_int_eq(YAJL_GET_INTEGER(yajl_tree_get(stats, rq, yajl_t_number)), 100);
  const char *ep[] = {"endpoints", "/api/verify", NULL};
  ck_assert_int_eq(YAJL_GET_INTEGER(yajl_tree_get(stats, ep, yajl_t_number)), 100);
  yajl_tree_free(stats);
  test_server_stop(&srv);
}
END_TEST

START_TEST(wrong_credentials_get_401) {
  struct test_server srv;
  const char *args[] = {"--token", "tok", "--secret", "sec", NULL};
  sim_start(&srv, args);
  struct sim_http h;
  sim_get_as(&srv, "/api/verify", NULL, &h);
  ck_assert_int_eq(h.status, 401);
  ck_assert_ptr_nonnull(strstr(h.body, "\"unauthorized\""));
  sim_http_free(&h);
  sim_get_as(&srv, "/api/verify", "tok:wrong", &h);
  ck_assert_int_eq(h.status, 401);
  ck_assert_ptr_null(strstr(h.body, "sec"));
  sim_http_free(&h);
  sim_get_as(&srv, "/api/verify", "tok:sec", &h);
  ck_assert_int_eq(h.status, 200);
  sim_http_free(&h);
  test_server_stop(&srv);
}
END_TEST

START_TEST(unknown_things_get_404_with_modes_body) {
  struct test_server srv;
  const char *extra[] = {"--users", "10", "--rate-limit", "off", NULL};
  yajl_val truth = start_with_truth(&srv, extra);
  static const char *const PATHS[] = {"/api/nowhere/spaces", "/api/acme/reports/ffffffffffff",
                                      "/api/acme/spaces/ffffffffffff/reports", "/api/no.body",
                                      "/api/acme/unknown/thing"};
  for (size_t i = 0; i < sizeof PATHS / sizeof PATHS[0]; i++) {
    struct sim_http h;
    sim_get(&srv, PATHS[i], &h);
    ck_assert_msg(h.status == 404, "%s: HTTP %ld", PATHS[i], h.status);
    ck_assert_ptr_nonnull(strstr(h.body, "\"id\":\"not_found\""));
    ck_assert_ptr_nonnull(strstr(h.body, "\"message\""));
    sim_http_free(&h);
  }
  /* members who left: their user 404s, though reports name them as creator */
  yajl_val users = arr_at(truth, "users", NULL);
  int left = 0;
  for (size_t i = 0; i < users->u.array.len; i++) {
    yajl_val u = users->u.array.values[i];
    const char *a[] = {"active", NULL};
    int active = YAJL_IS_TRUE(yajl_tree_get(u, a, yajl_t_any));
    char *url = test_path("/api/%s", tok(u, "username"));
    struct sim_http h;
    sim_get(&srv, url, &h);
    ck_assert_int_eq(h.status, active ? 200 : 404);
    left += !active;
    sim_http_free(&h);
    free(url);
  }
  ck_assert_int_gt(left, 0);
  /* filter=custom leaves out personal collections */
  yajl_val custom = sim_get_json(&srv, "/api/acme/spaces?filter=custom");
  yajl_val all = sim_get_json(&srv, "/api/acme/spaces?filter=all");
  ck_assert_uint_lt(arr_at(custom, "_embedded", "spaces")->u.array.len,
                    arr_at(all, "_embedded", "spaces")->u.array.len);
  yajl_tree_free(custom);
  yajl_tree_free(all);
  yajl_tree_free(truth);
  test_server_stop(&srv);
}
END_TEST

/* The status of the same 150 requests, as a string of status classes. */
static void fault_run(const char *seed, char out[151]) {
  struct test_server srv;
  const char *args[] = {"--seed",
                        seed,
                        "--rate-limit",
                        "off",
                        "--faults",
                        "5xx=0.1,204=0.05,truncate=0.05,malformed=0.05,reset=0.05,burst=503:3@10",
                        NULL};
  sim_start(&srv, args);
  for (int i = 0; i < 150; i++) {
    struct sim_http h;
    const char *path = i % 3 == 0   ? "/api/verify"
                       : i % 3 == 1 ? "/api/acme/data_sources"
                                    : "/api/acme/spaces?filter=all";
    sim_get(&srv, path, &h);
    char c = h.curl_error ? 'x'
             : h.status == 200
                 ? (h.body[0] == '{' && h.len > 1 && h.body[h.len - 1] == '}' ? 'o' : 'm')
                 : (char)('0' + h.status / 100);
    if (h.status == 204)
      c = 'n';
    out[i] = c;
    sim_http_free(&h);
  }
  out[150] = '\0';
  test_server_stop(&srv);
}

START_TEST(faults_are_reproducible) {
  char a[151], b[151], c[151];
  fault_run("5", a);
  fault_run("5", b);
  fault_run("6", c);
  ck_assert_str_eq(a, b);
  ck_assert_str_ne(a, c);
  ck_assert_msg(strchr(a, '5') && strchr(a, 'n') && strchr(a, 'm') && strchr(a, 'x'),
                "not every fault showed: %s", a);
  ck_assert_msg(strncmp(a + 9, "555", 3) == 0, "burst=503:3@10 not at 10..12: %s", a);
  ck_assert_msg(strchr(a, 'o') != NULL, "no request succeeded: %s", a);
}
END_TEST

START_TEST(listed_reports_can_404_and_pages_repeat) {
  struct test_server srv;
  const char *extra[] = {"--spaces",
                         "2",
                         "--reports-per-space",
                         "40",
                         "--rate-limit",
                         "off",
                         "--faults",
                         "404-after-list=0.3,repeat-pages",
                         NULL};
  yajl_val truth = start_with_truth(&srv, extra);
  yajl_val reports = arr_at(truth, "reports", NULL);
  int gone = 0;
  for (size_t i = 0; i < reports->u.array.len; i++) {
    char *url = test_path("/api/acme/reports/%s/queries", tok(reports->u.array.values[i], "token"));
    struct sim_http h;
    sim_get(&srv, url, &h);
    ck_assert(h.status == 200 || h.status == 404);
    gone += h.status == 404;
    sim_http_free(&h);
    free(url);
  }
  ck_assert_int_gt(gone, 0);
  ck_assert_int_lt(gone, (int)reports->u.array.len);
  yajl_val spaces = arr_at(truth, "spaces", NULL);
  const char *space = tok(spaces->u.array.values[0], "token");
  char *p1 = test_path("/api/acme/spaces/%s/reports?page=1", space);
  char *p2 = test_path("/api/acme/spaces/%s/reports?page=2", space);
  struct sim_http a, b;
  sim_get(&srv, p1, &a);
  sim_get(&srv, p2, &b);
  ck_assert_str_eq(a.body, b.body);
  sim_http_free(&a);
  sim_http_free(&b);
  free(p1);
  free(p2);
  yajl_tree_free(truth);
  test_server_stop(&srv);
}
END_TEST

START_TEST(mutate_changes_a_reproducible_share) {
  struct test_server s1, s2;
  const char *base[] = {"--seed", "9", "--spaces", "2", "--reports-per-space", "50", NULL};
  const char *mut[] = {"--seed", "9",        "--spaces", "2", "--reports-per-space",
                       "50",     "--mutate", "20",       NULL};
  yajl_val t1 = start_with_truth(&s1, base);
  test_server_stop(&s1);
  yajl_val t2 = start_with_truth(&s2, mut);
  yajl_val r1 = arr_at(t1, "reports", NULL), r2 = arr_at(t2, "reports", NULL);
  struct seen after = {0};
  for (size_t i = 0; i < r2->u.array.len; i++)
    seen_add(&after, tok(r2->u.array.values[i], "token"));
  int deleted = 0, renamed = 0;
  for (size_t i = 0; i < r1->u.array.len; i++) {
    const char *t = tok(r1->u.array.values[i], "token");
    if (!seen_count(&after, t)) {
      deleted++;
      char *url = test_path("/api/acme/reports/%s", t);
      struct sim_http h;
      sim_get(&s2, url, &h);
      ck_assert_int_eq(h.status, 404);
      sim_http_free(&h);
      free(url);
    }
  }
  for (size_t i = 0; i < r2->u.array.len; i++)
    renamed += strstr(tok(r2->u.array.values[i], "name"), "(edited)") != NULL;
  ck_assert_int_gt(deleted, 0);
  ck_assert_int_gt(renamed, 5);
  ck_assert_int_lt(renamed + deleted, 50);
  seen_free(&after);
  yajl_tree_free(t1);
  yajl_tree_free(t2);
  test_server_stop(&s2);
}
END_TEST

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 500 requests held 300 ms each, 500 at a time, finish in about 300 ms: none waits for a
 * thread. */
START_TEST(latency_is_served_concurrently) {
  struct test_server srv;
  const char *args[] = {"--latency-ms", "300", "--rate-limit", "off", NULL};
  sim_start(&srv, args);
  struct sim_http h;
  double t0 = now_s();
  sim_get(&srv, "/api/verify", &h);
  ck_assert_int_eq(h.status, 200);
  ck_assert(now_s() - t0 >= 0.3);
  sim_http_free(&h);
  char *loadgen = test_path("%s/tests/mode-sim/sim-loadgen", test_builddir());
  char *url = test_path("%s/api/verify", srv.base_url);
  char *argv[] = {loadgen, "-n", "500", "-c", "500", "-u", "test-token:test-secret", url, NULL};
  char *out = NULL;
  t0 = now_s();
  int rc = test_run(argv, NULL, &out, NULL);
  double took = now_s() - t0;
  ck_assert_msg(rc == 0, "sim-loadgen failed: %s", out ? out : "");
  ck_assert_ptr_nonnull(strstr(out, " 200=500"));
  ck_assert_msg(took < 3.0, "500 delayed requests took %.2f s", took);
  free(out);
  free(url);
  free(loadgen);
  test_server_stop(&srv);
}
END_TEST

/* A slow body arrives in pieces over time, and whole. */
START_TEST(slow_bodies_arrive_whole) {
  struct test_server fast, slow;
  const char *plain[] = {"--rate-limit", "off", NULL};
  const char *slowed[] = {"--rate-limit", "off", "--faults", "slow=1", NULL};
  sim_start(&fast, plain);
  sim_start(&slow, slowed);
  struct sim_http a, b;
  sim_get(&fast, "/api/acme/data_sources", &a);
  double t0 = now_s();
  sim_get(&slow, "/api/acme/data_sources", &b);
  double took = now_s() - t0;
  ck_assert_int_eq(b.status, 200);
  ck_assert_uint_eq(a.len, b.len);
  ck_assert_mem_eq(a.body, b.body, a.len);
  ck_assert_msg(took >= 0.05 * (double)(a.len / 512), "%zu bytes in %.3f s", a.len, took);
  sim_http_free(&a);
  sim_http_free(&b);
  test_server_stop(&fast);
  test_server_stop(&slow);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("mode-sim behaviour");
  TCase *tc = tcase_create("behaviour");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, paging_returns_every_report_once);
  tcase_add_test(tc, ground_truth_agrees_with_the_served_reports);
  tcase_add_test(tc, burst_past_the_bucket_gets_429_with_retry_after);
  tcase_add_test(tc, wrong_credentials_get_401);
  tcase_add_test(tc, unknown_things_get_404_with_modes_body);
  tcase_add_test(tc, faults_are_reproducible);
  tcase_add_test(tc, listed_reports_can_404_and_pages_repeat);
  tcase_add_test(tc, mutate_changes_a_reproducible_share);
  tcase_add_test(tc, latency_is_served_concurrently);
  tcase_add_test(tc, slow_bodies_arrive_whole);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return test_run_suite(suite());
}
