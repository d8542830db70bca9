/*
 * test_mode_hostile.c -- a hostile or broken Mode server never costs the catalog (issue 14):
 * etlhost with the sqlite sink against mode-sim, a clean run first, then a run against the
 * same workspace served in a hostile shape. A listing page whose list is null, a string, a
 * number or an object, an item without a token or with \u0000 in it, a listing that never
 * ends: each is a warning naming the page, the run is partial, and nothing is marked deleted.
 * A complete run that would mark more than failSafeThreshold (20%) of a source deleted marks
 * none and says why, unless the threshold is raised.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2eutil.h"
#include "testutil.h"

#define TOKEN "tok-hostile"
#define SECRET "sec-hostile-S3CR3T"

/* Starts mode-sim on `port` (0: any) with `spaces` collections and extra flags. */
static void start_sim(struct test_server *srv, int port, const char *spaces,
                      const char *const *extra) {
  const char *shape[] = {"--workspace", "ws", "--seed", "7", "--spaces", spaces,
                         "--reports-per-space", "40", NULL};
  test_mode_sim_start(srv, port, TOKEN, SECRET, shape, extra);
}

/* The same port again (the hostPort is in every sourceUrl), other flags. */
static void restart_sim(struct test_server *srv, const char *spaces, const char *const *extra) {
  int port = srv->port;
  test_server_stop(srv);
  start_sim(srv, port, spaces, extra);
}

struct run {
  int status;
  char *err;
};

/* Runs etlhost into dir/cat.db; conn_extra and wf_extra are YAML lines (or ""). */
static void run_host(struct run *r, const struct test_server *srv, const char *dir,
                     const char *conn_extra, const char *wf_extra) {
  memset(r, 0, sizeof *r);
  char *wf = test_path("%s/wf.yaml", dir);
  char *yaml = test_path("source:\n"
                         "  type: mode\n"
                         "  serviceName: msvc\n"
                         "  serviceConnection:\n"
                         "    config:\n"
                         "      hostPort: %s\n"
                         "      accessToken: " TOKEN "\n"
                         "      accessTokenPassword: " SECRET "\n"
                         "      workspaceName: ws\n"
                         "      requestsPerSecond: 0\n"
                         "      maxRetries: 1\n%s"
                         "sink:\n"
                         "  type: sqlite\n"
                         "  config:\n"
                         "    path: %s/cat.db\n%s",
                         srv->base_url, conn_extra, dir, wf_extra);
  ck_assert_int_eq(test_write_file(wf, yaml), 0);
  const char *args[] = {"run", wf, NULL};
  r->status = test_etlhost_run(args, NULL, &r->err);
  ck_assert_msg(strstr(r->err, "S3CR3T") == NULL, "the secret appears in the log");
  free(yaml), free(wf);
}

static long long live(const char *dir) {
  return test_catalog_num(dir, "SELECT count(*) FROM entities WHERE NOT deleted");
}

static long long deleted(const char *dir) {
  return test_catalog_num(dir, "SELECT count(*) FROM entities WHERE deleted");
}

/* A clean first run: the catalog holds the workspace. */
static void first_run(struct test_server *srv, const char *dir, const char *spaces) {
  struct run r;
  start_sim(srv, 0, spaces, NULL);
  run_host(&r, srv, dir, "", "");
  ck_assert_msg(r.status == 0, "clean run exit %d:\n%s", r.status, r.err);
  ck_assert_int_gt(live(dir), 20);
  free(r.err);
}

static const struct {
  const char *fault;   /* the --faults spec of the second run */
  const char *message; /* what the warning says */
} hostile[] = {
    {"shape=null", "_embedded.spaces is null, not a list"},
    {"shape=string", "_embedded.spaces is a string, not a list"},
    {"shape=number", "_embedded.spaces is a number, not a list"},
    {"shape=object", "_embedded.spaces is an object, not a list"},
    {"shape=null@reports", "reports page 1: malformed JSON: _embedded.reports is null"},
    {"shape=object@reports", "_embedded.reports is an object, not a list"},
    {"shape=notoken", "items have no usable token"},
    {"shape=notoken@reports", "page 1: 1 of 30 items have no usable token"},
    {"shape=nultoken@reports", "page 1: 1 of 30 items have no usable token"},
    {"shape=notobject@reports", "page 1: 1 of 30 items have no usable token"},
};

/* Each hostile shape: a warning naming the page, a partial run (exit 1, or a protocol error
 * when the collections listing itself is unreadable), and nothing marked deleted. Before the
 * fix, each was read as the end of a listing and the run marked most of the catalog deleted. */
START_TEST(hostile_listing_marks_nothing_deleted) {
  struct test_server srv = {0};
  char *dir = test_tmpdir();
  struct run r;
  first_run(&srv, dir, "3");
  long long before = live(dir);
  const char *extra[] = {"--faults", hostile[_i].fault, NULL};
  restart_sim(&srv, "3", extra);
  run_host(&r, &srv, dir, "", "");
  ck_assert_msg(r.status != 0, "%s: the run was complete:\n%s", hostile[_i].fault, r.err);
  ck_assert_msg(strstr(r.err, hostile[_i].message) != NULL, "%s: no '%s' in:\n%s",
                hostile[_i].fault, hostile[_i].message, r.err);
  ck_assert_msg(deleted(dir) == 0, "%s: %lld entities marked deleted:\n%s", hostile[_i].fault,
                deleted(dir), r.err);
  ck_assert_int_eq(live(dir), before);
  free(r.err);
  test_server_stop(&srv);
  test_rmtree(dir);
  free(dir);
}
END_TEST

/* A complete run that would mark two thirds of the catalog deleted marks none and says why in
 * one line; with the threshold raised, the same run marks them. */
START_TEST(fail_safe_holds_back_a_mass_deletion) {
  struct test_server srv = {0};
  char *dir = test_tmpdir();
  struct run r;
  first_run(&srv, dir, "3");
  long long before = live(dir);
  restart_sim(&srv, "1", NULL);
  run_host(&r, &srv, dir, "", "");
  ck_assert_msg(r.status == 0, "exit %d:\n%s", r.status, r.err);
  ck_assert_int_eq(deleted(dir), 0);
  ck_assert_int_ge(live(dir), before);
  const char *w = strstr(r.err, "fail-safe: this run would mark ");
  ck_assert_msg(w != NULL, "no fail-safe warning:\n%s", r.err);
  ck_assert_msg(strstr(w, "raise workflowConfig.failSafeThreshold") != NULL, "%s", r.err);
  ck_assert_msg(strstr(w + 1, "fail-safe") == NULL, "said more than once:\n%s", r.err);
  free(r.err);

  run_host(&r, &srv, dir, "", "workflowConfig:\n  failSafeThreshold: 100\n");
  ck_assert_msg(r.status == 0, "exit %d:\n%s", r.status, r.err);
  ck_assert_msg(strstr(r.err, "fail-safe") == NULL, "%s", r.err);
  ck_assert_int_gt(deleted(dir), before / 2);
  free(r.err);

  run_host(&r, &srv, dir, "", "workflowConfig:\n  failSafeThreshold: 0\n");
  ck_assert_int_eq(r.status, 2);
  ck_assert_msg(strstr(r.err, "workflowConfig.failSafeThreshold") != NULL, "%s", r.err);
  free(r.err);
  test_server_stop(&srv);
  test_rmtree(dir);
  free(dir);
}
END_TEST

/* Reports listings that bring new reports on every page end at the page cap with a warning
 * naming it; the run is partial and nothing is marked deleted. */
START_TEST(endless_pages_end_partial_at_the_cap) {
  struct test_server srv = {0};
  char *dir = test_tmpdir();
  struct run r;
  first_run(&srv, dir, "2");
  const char *extra[] = {"--faults", "endless-pages", NULL};
  restart_sim(&srv, "2", extra);
  run_host(&r, &srv, dir, "      maxPages: 4\n", "");
  ck_assert_msg(r.status == 1, "exit %d:\n%s", r.status, r.err);
  ck_assert_msg(strstr(r.err, "stopped at the page cap (4 pages)") != NULL, "%s", r.err);
  ck_assert_int_eq(deleted(dir), 0);
  free(r.err);
  test_server_stop(&srv);
  test_rmtree(dir);
  free(dir);
}
END_TEST

int main(void) {
  Suite *s = suite_create("mode_hostile");
  TCase *tc = tcase_create("hostile");
  tcase_set_timeout(tc, 90);
  tcase_add_loop_test(tc, hostile_listing_marks_nothing_deleted, 0,
                      (int)(sizeof hostile / sizeof hostile[0]));
  tcase_add_test(tc, fail_safe_holds_back_a_mass_deletion);
  tcase_add_test(tc, endless_pages_end_partial_at_the_cap);
  suite_add_tcase(s, tc);
  return test_run_suite(s);
}
