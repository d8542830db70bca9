/*
 * test_mode_incremental.c -- incremental runs of the Mode connector (docs/mode.md), end to end:
 * etlhost with the sqlite sink against mode-sim. An unchanged workspace is not fetched again and
 * leaves the catalog as it was; a mutated one ends in the catalog a full run gives; a run that
 * loses an item keeps the previous state; a bad state means a full run with a warning.
 */
#include "config.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "e2eutil.h"
#include "testutil.h"

#define TOKEN "tok-incr"
#define SECRET "sec-incr-S3CR3T"
/* Starts mode-sim on `port` (0: any) with extra flags (NULL-terminated). */
static void start_sim(struct test_server *srv, int port, const char *const *extra) {
  const char *shape[] = {"--workspace", "ws", "--seed", "7", "--spaces", "3",
                         "--reports-per-space", "10", NULL};
  test_mode_sim_start(srv, port, TOKEN, SECRET, shape, extra);
}

/* Stops srv and starts it again on the same port (the hostPort is part of the settings'
 * stamp, as it is of every sourceUrl) with other flags. */
static void restart_sim(struct test_server *srv, const char *const *extra) {
  int port = srv->port;
  test_server_stop(srv);
  start_sim(srv, port, extra);
}

struct run {
  int status;
  char *err;
  long requests, states, retained, failed;
};

static long summary_num(yajl_val root, const char *key) {
  const char *path[] = {"sources", NULL};
  yajl_val sources = yajl_tree_get(root, path, yajl_t_array);
  if (!sources || sources->u.array.len == 0)
    return -1;
  const char *kp[] = {key, NULL};
  yajl_val v = yajl_tree_get(sources->u.array.values[0], kp, yajl_t_number);
  return v ? (long)YAJL_GET_INTEGER(v) : -1;
}

/* Runs etlhost with the mode source into catalog `db` (in dir). */
static void run_host(struct run *r, const struct test_server *srv, const char *dir, const char *db,
                     int incremental, const char *conn_extra) {
  memset(r, 0, sizeof *r);
  char *wf = test_path("%s/%s.yaml", dir, db);
  char *summary = test_path("%s/%s.summary.json", dir, db);
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
                         "      incremental: %s\n%s"
                         "  sourceConfig:\n"
                         "    config:\n"
                         "      includeOwners: true\n"
                         "sink:\n"
                         "  type: sqlite\n"
                         "  config:\n"
                         "    path: %s/%s\n",
                         srv->base_url, incremental ? "true" : "false", conn_extra, dir, db);
  ck_assert_int_eq(test_write_file(wf, yaml), 0);
  const char *args[] = {"run", "--summary-json", summary, wf, NULL};
  r->status = test_etlhost_run(args, NULL, &r->err);
  ck_assert_msg(strstr(r->err, "S3CR3T") == NULL, "the secret appears in the log");
  char *json = test_read_file(summary, NULL);
  ck_assert_msg(json != NULL, "no summary; log:\n%s", r->err);
  yajl_val root = yajl_tree_parse(json, NULL, 0);
  ck_assert_ptr_nonnull(root);
  r->requests = summary_num(root, "requests");
  r->states = summary_num(root, "states");
  r->retained = summary_num(root, "retained");
  r->failed = summary_num(root, "failed");
  yajl_tree_free(root);
  free(json), free(yaml), free(wf), free(summary);
}

/* Requests the simulator served on `endpoint` since the last call (which resets them all). */
struct stats {
  long queries, charts, users, sources, definitions, reports, total;
};

static void take_stats(const struct test_server *srv, struct stats *s) {
  char *url = test_path("%s/__sim/stats?reset=1", srv->base_url);
  char *body = NULL;
  long status = 0;
  ck_assert_int_eq(test_http_get(url, &body, &status), 0);
  yajl_val root = yajl_tree_parse(body, NULL, 0);
  ck_assert_ptr_nonnull(root);
  const char *tp[] = {"requests", NULL};
  yajl_val t = yajl_tree_get(root, tp, yajl_t_number);
  s->total = t ? (long)YAJL_GET_INTEGER(t) : -1;
  struct {
    long *v;
    const char *path;
  } want[] = {{&s->queries, "/api/{workspace}/reports/{report}/queries"},
              {&s->charts, "/api/{workspace}/reports/{report}/queries/{query}/charts"},
              {&s->users, "/api/{username}"},
              {&s->sources, "/api/{workspace}/data_sources"},
              {&s->definitions, "/api/{workspace}/definitions"},
              {&s->reports, "/api/{workspace}/spaces/{space}/reports"}};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    const char *p[] = {"endpoints", want[i].path, NULL};
    yajl_val v = yajl_tree_get(root, p, yajl_t_number);
    *want[i].v = v ? (long)YAJL_GET_INTEGER(v) : 0;
  }
  yajl_tree_free(root);
  free(body), free(url);
}

/* Runs a query returning one integer (or text with text != NULL) on catalog dir/db. */
static long long db_int(const char *dir, const char *db, const char *attach, const char *sql,
                        char **text) {
  char *path = test_path("%s/%s", dir, db);
  sqlite3 *h = NULL;
  sqlite3_stmt *st = NULL;
  long long v = -1;
  ck_assert_int_eq(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  if (attach) {
    char *a = test_path("ATTACH '%s/%s' AS old", dir, attach);
    ck_assert_int_eq(sqlite3_exec(h, a, NULL, NULL, NULL), SQLITE_OK);
    free(a);
  }
  ck_assert_msg(sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(h));
  if (sqlite3_step(st) == SQLITE_ROW) {
    v = sqlite3_column_int64(st, 0);
    if (text) {
      const unsigned char *t = sqlite3_column_text(st, 0);
      *text = strdup(t ? (const char *)t : "");
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  free(path);
  return v;
}

/* Every live (kind, id, json) of the catalog, one line each, sorted: two catalogs hold the same
 * entities when these are equal. */
static char *live_rows(const char *dir, const char *db) {
  char *text = NULL;
  db_int(dir, db, NULL,
         "SELECT coalesce(group_concat(r, char(10)), '') FROM (SELECT kind || char(9) || id || "
         "char(9) || json AS r FROM entities WHERE NOT deleted ORDER BY kind, id)",
         &text);
  ck_assert_ptr_nonnull(text);
  return text;
}

static void copy_file(const char *dir, const char *from, const char *to) {
  char *a = test_path("%s/%s", dir, from), *b = test_path("%s/%s", dir, to);
  size_t len = 0;
  char *data = test_read_file(a, &len);
  ck_assert_ptr_nonnull(data);
  FILE *f = fopen(b, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(data, 1, len, f), len);
  fclose(f);
  free(data), free(a), free(b);
}

static const char *const mutated[] = {"--mutate", "20", NULL};

START_TEST(unchanged_workspace_is_not_fetched_and_mutations_match_a_full_run) {
  struct test_server srv = {0};
  char *dir = test_tmpdir();
  struct run r1, r2, r3, full;
  struct stats s1, s2, s3, sf;
  start_sim(&srv, 0, NULL);

  /* Run 1: nothing stored yet, a full crawl that stores its map. */
  run_host(&r1, &srv, dir, "cat.db", 1, "");
  take_stats(&srv, &s1);
  ck_assert_msg(r1.status == 0, "run 1 exit %d:\n%s", r1.status, r1.err);
  ck_assert_int_eq(r1.states, 1);
  ck_assert_int_eq(r1.retained, 0);
  ck_assert_int_gt(s1.queries, 10);
  ck_assert_int_gt(s1.charts, 10);
  char *rows1 = live_rows(dir, "cat.db");

  /* Run 2, same workspace: listings, data sources and definitions only; the catalog is as run
   * 1 left it and nothing is marked deleted. */
  run_host(&r2, &srv, dir, "cat.db", 1, "");
  take_stats(&srv, &s2);
  ck_assert_msg(r2.status == 0, "run 2 exit %d:\n%s", r2.status, r2.err);
  ck_assert_int_eq(s2.queries, 0);
  ck_assert_int_eq(s2.charts, 0);
  ck_assert_int_eq(s2.users, 0);
  ck_assert_int_eq(s2.sources, 1);
  ck_assert_int_eq(s2.definitions, 1);
  ck_assert_int_eq(s2.reports, s1.reports);
  ck_assert_int_lt(s2.total, s1.total / 2);
  ck_assert_int_gt(r2.retained, 0);
  ck_assert_int_eq(r2.states, 1);
  char *rows2 = live_rows(dir, "cat.db");
  ck_assert_msg(strcmp(rows1, rows2) == 0, "run 2 changed the catalog");
  ck_assert_int_eq(db_int(dir, "cat.db", NULL, "SELECT count(*) FROM entities WHERE deleted", NULL),
                   0);
  fprintf(stderr, "# requests: run 1 %ld, run 2 %ld\n", s1.total, s2.total);
  copy_file(dir, "cat.db", "before3.db");

  /* Run 3 on the mutated workspace (same seed and port): the catalog a full run gives, the
   * deleted reports marked deleted, and only changed or new reports' queries fetched. */
  restart_sim(&srv, mutated);
  run_host(&r3, &srv, dir, "cat.db", 1, "");
  take_stats(&srv, &s3);
  run_host(&full, &srv, dir, "full.db", 0, "");
  take_stats(&srv, &sf);
  ck_assert_msg(r3.status == 0, "run 3 exit %d:\n%s", r3.status, r3.err);
  ck_assert_msg(full.status == 0, "full run exit %d:\n%s", full.status, full.err);
  ck_assert_int_eq(full.states, 1); /* not incremental: the usage ledger only */
  char *rows3 = live_rows(dir, "cat.db"), *rows_full = live_rows(dir, "full.db");
  ck_assert_msg(strcmp(rows3, rows_full) == 0, "run 3's catalog differs from a full run's");
  ck_assert_int_gt(db_int(dir, "cat.db", NULL,
                          "SELECT count(*) FROM entities WHERE deleted AND kind = 'dashboard'",
                          NULL),
                   0);
  long long changed = db_int(dir, "full.db", "before3.db",
                             "SELECT count(*) FROM main.entities f WHERE f.kind = 'dashboard' AND "
                             "NOT EXISTS (SELECT 1 FROM old.entities o WHERE o.kind = f.kind AND "
                             "o.id = f.id AND o.json = f.json)",
                             NULL);
  ck_assert_int_gt(changed, 0);
  ck_assert_int_eq(s3.queries, changed);
  ck_assert_int_gt(sf.queries, s3.queries);
  fprintf(stderr, "# requests: run 3 %ld (full run on the mutated workspace %ld)\n", s3.total,
          sf.total);

  free(rows1), free(rows2), free(rows3), free(rows_full);
  free(r1.err), free(r2.err), free(r3.err), free(full.err);
  test_server_stop(&srv);
  test_rmtree(dir);
  free(dir);
}
END_TEST

START_TEST(a_run_that_loses_an_item_keeps_the_previous_state) {
  struct test_server srv = {0};
  char *dir = test_tmpdir();
  struct run r1, r2;
  struct stats s;
  start_sim(&srv, 0, NULL);
  run_host(&r1, &srv, dir, "cat.db", 1, "");
  ck_assert_msg(r1.status == 0, "run 1 exit %d:\n%s", r1.status, r1.err);
  char *state1 = NULL, *state2 = NULL;
  db_int(dir, "cat.db", NULL, "SELECT json FROM state", &state1);
  ck_assert_ptr_nonnull(state1);

  const char *faulty[] = {"--mutate", "20", "--faults", "5xx=0.3", NULL};
  restart_sim(&srv, faulty);
  run_host(&r2, &srv, dir, "cat.db", 1, "      maxRetries: 0\n");
  take_stats(&srv, &s);
  ck_assert_msg(r2.status != 0 && (r2.failed > 0 || r2.status != 1),
                "the faulty run lost nothing (exit %d):\n%s", r2.status, r2.err);
  ck_assert_int_eq(r2.states, 0);
  db_int(dir, "cat.db", NULL, "SELECT json FROM state", &state2);
  ck_assert_ptr_nonnull(state2);
  ck_assert_str_eq(state1, state2);

  free(state1), free(state2), free(r1.err), free(r2.err);
  test_server_stop(&srv);
  test_rmtree(dir);
  free(dir);
}
END_TEST

START_TEST(a_bad_state_means_a_full_run_with_a_warning) {
  struct test_server srv = {0};
  char *dir = test_tmpdir();
  struct run r1, r2, r3;
  struct stats s1, s2, s3;
  start_sim(&srv, 0, NULL);
  run_host(&r1, &srv, dir, "cat.db", 1, "");
  take_stats(&srv, &s1);
  ck_assert_msg(r1.status == 0, "run 1 exit %d:\n%s", r1.status, r1.err);
  char *path = test_path("%s/cat.db", dir);
  sqlite3 *h = NULL;
  ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
  ck_assert_int_eq(sqlite3_exec(h, "UPDATE state SET json = '{\"version\": 7, \"reports\": {}}'",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  sqlite3_close(h);

  run_host(&r2, &srv, dir, "cat.db", 1, "");
  take_stats(&srv, &s2);
  ck_assert_msg(r2.status == 0, "run 2 exit %d:\n%s", r2.status, r2.err);
  ck_assert_msg(strstr(r2.err, "incremental: the stored state is not version 1") != NULL,
                "no warning about the state:\n%s", r2.err);
  ck_assert_int_eq(s2.queries, s1.queries);
  ck_assert_int_eq(r2.states, 1);

  /* The state it stored instead is good: the next run fetches no queries. */
  run_host(&r3, &srv, dir, "cat.db", 1, "");
  take_stats(&srv, &s3);
  ck_assert_int_eq(s3.queries, 0);

  free(path), free(r1.err), free(r2.err), free(r3.err);
  test_server_stop(&srv);
  test_rmtree(dir);
  free(dir);
}
END_TEST

int main(void) {
  Suite *s = suite_create("mode_incremental");
  TCase *tc = tcase_create("incremental");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, unchanged_workspace_is_not_fetched_and_mutations_match_a_full_run);
  tcase_add_test(tc, a_run_that_loses_an_item_keeps_the_previous_state);
  tcase_add_test(tc, a_bad_state_means_a_full_run_with_a_warning);
  suite_add_tcase(s, tc);
  return test_run_suite(s);
}
