/*
 * test_mode_usage_days.c -- usage is a daily increase, end to end: etlhost with the sqlite sink
 * against mode-sim over several "days" (ETL_MODE_TODAY, the plugin's clock seam), with and
 * without `incremental`. Day 1 sends each report's lifetime total (first sighting), a second
 * run the same day sends nothing and marks nothing deleted, day 2 sends the increase (0 here),
 * a lower stored total (views since) sends the difference, a higher one (a reset) the new total.
 */
#include "config.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2eutil.h"
#include "testutil.h"

#define TOKEN "tok-usage"
#define SECRET "sec-usage-S3CR3T"

static void start_sim(struct test_server *srv) {
  const char *shape[] = {"--workspace", "ws", "--seed", "11", "--spaces", "2",
                         "--reports-per-space", "6", NULL};
  test_mode_sim_start(srv, 0, TOKEN, SECRET, shape, NULL);
}

/* Runs etlhost on `day` into dir/cat.db; returns its exit status (log in *err, caller frees). */
static int run_day(const struct test_server *srv, const char *dir, const char *day, int incremental,
                   char **err) {
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
                         "      incremental: %s\n"
                         "sink:\n"
                         "  type: sqlite\n"
                         "  config:\n"
                         "    path: %s/cat.db\n",
                         srv->base_url, incremental ? "true" : "false", dir);
  ck_assert_int_eq(test_write_file(wf, yaml), 0);
  char *env_day = test_path("ETL_MODE_TODAY=%s", day);
  const char *args[] = {"run", wf, NULL}, *env[] = {env_day, NULL};
  int status = test_etlhost_run(args, env, err);
  free(wf), free(yaml), free(env_day);
  return status;
}

static void db_exec(const char *dir, const char *sql) {
  char *path = test_path("%s/cat.db", dir);
  sqlite3 *h = NULL;
  ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
  ck_assert_msg(sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(h));
  sqlite3_close(h);
  free(path);
}

/* Moves every stored total of the ledger by delta (as if Mode's counts had moved by -delta). */
static void shift_ledger(const char *dir, int delta) {
  char *sql = test_path("UPDATE state SET json = json_set(json, '$.usage', json((SELECT "
                        "json_group_object(key, json_array(json_extract(value, '$[0]') + %d, "
                        "json_extract(value, '$[1]'))) FROM json_each(state.json, '$.usage'))))",
                        delta);
  db_exec(dir, sql);
  free(sql);
}

/* Usage rows of `day` whose count is `sql_expr` of the stored ledger total `t` (json_extract of
 * the state); compared with all live usage rows. */
#define USAGE_ROWS "SELECT count(*) FROM entities WHERE kind = 'usage' AND NOT deleted"
#define DAY_ROWS(day) USAGE_ROWS " AND json_extract(json, '$.data.date') = '" day "'"
#define LEDGER(tok) "json_extract((SELECT json FROM state), '$.usage.\"' || " tok " || '\"[0]')"
#define COUNT "json_extract(json, '$.data.count')"

static void usage_days(int incremental) {
  struct test_server srv = {0};
  char *dir = test_tmpdir(), *err = NULL;
  start_sim(&srv);

  /* Day 1: first sighting, the lifetime total; the ledger holds it. */
  int st = run_day(&srv, dir, "2030-01-01", incremental, &err);
  ck_assert_msg(st == 0, "day 1 exit %d:\n%s", st, err);
  long long reports = test_catalog_num(dir, USAGE_ROWS);
  ck_assert_int_gt(reports, 5);
  ck_assert_int_eq(test_catalog_num(dir, DAY_ROWS("2030-01-01")), reports);
  ck_assert_int_eq(test_catalog_num(dir, DAY_ROWS("2030-01-01") " AND " COUNT " = " LEDGER("id")), reports);
  ck_assert_int_gt(test_catalog_num(dir, USAGE_ROWS " AND " COUNT " > 0"), 0);
  free(err);

  /* Day 1 again: nothing new is sent, the day's rows stand (retained, not marked deleted). */
  st = run_day(&srv, dir, "2030-01-01", incremental, &err);
  ck_assert_msg(st == 0, "day 1 again exit %d:\n%s", st, err);
  ck_assert_int_eq(test_catalog_num(dir, DAY_ROWS("2030-01-01") " AND " COUNT " = " LEDGER("id")), reports);
  free(err);

  /* Day 2, no views since: every report gets 0 for the day, not its lifetime total. */
  st = run_day(&srv, dir, "2030-01-02", incremental, &err);
  ck_assert_msg(st == 0, "day 2 exit %d:\n%s", st, err);
  ck_assert_int_eq(test_catalog_num(dir, DAY_ROWS("2030-01-02") " AND " COUNT " = 0"), reports);
  free(err);

  /* Day 3 after 3 views each (the stored totals lowered by 3): 3 each. */
  shift_ledger(dir, -3);
  st = run_day(&srv, dir, "2030-01-03", incremental, &err);
  ck_assert_msg(st == 0, "day 3 exit %d:\n%s", st, err);
  ck_assert_int_eq(test_catalog_num(dir, DAY_ROWS("2030-01-03") " AND " COUNT " = 3"), reports);
  free(err);

  /* Day 4 after a reset (the stored totals above Mode's): the new totals, never negative. */
  shift_ledger(dir, +1000);
  st = run_day(&srv, dir, "2030-01-04", incremental, &err);
  ck_assert_msg(st == 0, "day 4 exit %d:\n%s", st, err);
  ck_assert_int_eq(test_catalog_num(dir, DAY_ROWS("2030-01-04") " AND " COUNT " = " LEDGER("id")), reports);
  ck_assert_int_eq(test_catalog_num(dir, USAGE_ROWS " AND " COUNT " < 0"), 0);
  free(err);

  test_server_stop(&srv);
  test_rmtree(dir);
  free(dir);
}

START_TEST(full_runs_send_daily_increases) {
  usage_days(0);
}
END_TEST

START_TEST(incremental_runs_send_daily_increases) {
  usage_days(1);
}
END_TEST

int main(void) {
  Suite *s = suite_create("mode_usage_days");
  TCase *tc = tcase_create("days");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, full_runs_send_daily_increases);
  tcase_add_test(tc, incremental_runs_send_daily_increases);
  suite_add_tcase(s, tc);
  return test_run_suite(s);
}
