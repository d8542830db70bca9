/*
 * test_host_postgres.c -- etlhost with the postgres sink, driven through the binary with the
 * scriptable `fake` plugin against a private PostgreSQL server (tests/common/pgserver.c; the
 * suite skips when none can start): SIGKILL at any instant never leaves state ahead of data and
 * a re-run completes the catalog once; two `etlhost run` processes at once, on the same source
 * or on different ones, lose nothing and duplicate nothing; the DSN's password is never printed.
 */
#include "config.h"

#include "pgserver.h"
#include "testutil.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct test_pg *server;
static char dsn[600];
static char *dir; /* the test's scratch directory */

static void setup(void) {
  dir = test_tmpdir();
  test_pg_dsn(server, "postgres", dsn, sizeof dsn);
  PGconn *c = PQconnectdb(dsn);
  ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
  PGresult *r = PQexec(c, "SET client_min_messages = warning;"
                          "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public");
  ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s", PQerrorMessage(c));
  PQclear(r);
  PQfinish(c);
}

static void teardown(void) {
  test_rmtree(dir);
  free(dir);
}

/* One integer from the catalog ($1 = arg when given); -1 when the query has no row. */
static long long pg_int(const char *sql, const char *arg) {
  PGconn *c = PQconnectdb(dsn);
  ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
  const char *v[] = {arg};
  PGresult *r = PQexecParams(c, sql, arg ? 1 : 0, NULL, v, NULL, NULL, 0);
  ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(c));
  long long n = PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10)
                                                           : -1;
  PQclear(r);
  PQfinish(c);
  return n;
}

/* The stored state's "next" of source (-1 when none). */
static long stored_next(const char *source) {
  return (long)pg_int("SELECT (json::json->>'next')::bigint FROM state WHERE source = $1",
                      source);
}

/* True once the postgres catalog holds a mid-run state of source. */
static bool mid_run_state_stored(const char *source) {
  return pg_int("SELECT (to_regclass('state') IS NOT NULL)::int", NULL) == 1 &&
         stored_next(source) > 0;
}

/* Writes DIR/NAME: fake sources (name, config in YAML flow/blocks) into the postgres sink. */
static char *workflow(const char *name, const char *sources, const char *extra_dsn) {
  char *path = test_path("%s/%s", dir, name);
  char *yaml = test_path("sources:\n%s\nsink: {type: postgres, config: {dsn: \"%s%s\"}}\n"
                         "workflowConfig: {stateStore: %s/state.db}\n",
                         sources, dsn, extra_dsn ? extra_dsn : "", dir);
  ck_assert_int_eq(test_write_file(path, yaml), 0);
  free(yaml);
  return path;
}

static char *fake_source(const char *name, const char *config) {
  return test_path("  - type: fake\n    serviceName: %s\n    serviceConnection:\n"
                   "      config: %s\n",
                   name, config);
}

static char *bin(void) { return test_path("%s/host-api/etlhost", test_builddir()); }
static char *plugin_dir(void) { return test_path("%s/tests/plugins/.libs", test_builddir()); }

static int run_cmd(const char *cmd, const char *wf, char *const env[], char **out, char **err) {
  char *b = bin(), *d = plugin_dir();
  char *argv[] = {b, "--plugin-dir", d, (char *)cmd, (char *)wf, NULL};
  int rc = test_run(argv, env, out, err);
  free(b);
  free(d);
  return rc;
}

static int run_host(const char *wf, char *const env[], char **out, char **err) {
  return run_cmd("run", wf, env, out, err);
}

/* Starts `etlhost run wf` in the background, its output into log. */
static pid_t spawn_host(const char *wf, const char *log) {
  char *b = bin(), *d = plugin_dir();
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    dup2(fd, 2);
    execl(b, b, "--plugin-dir", d, "run", wf, (char *)NULL);
    _exit(127);
  }
  free(b);
  free(d);
  return pid;
}

static int wait_exit(pid_t pid) {
  int status = 0;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The catalog holds exactly PREFIX0..PREFIX(n-1) of source, once each, none deleted. */
static void assert_catalog_complete(const char *source, const char *prefix, long n) {
  ck_assert_int_eq(pg_int("SELECT count(*) FROM entities WHERE source = $1", source), n);
  ck_assert_int_eq(pg_int("SELECT count(*) FROM entities WHERE source = $1 AND deleted", source),
                   0);
  for (long i = 0; i < n; i++) {
    char id[32];
    snprintf(id, sizeof id, "%s%ld", prefix, i);
    ck_assert_msg(pg_int("SELECT count(*) FROM entities WHERE id = $1", id) == 1,
                  "%s missing from the catalog", id);
  }
}

/* ---- SIGKILL at a state boundary and around it, then a re-run ---------------------------- */

static const long crash_points[] = {0, 1, 4, 5, 6, 12, 19};

START_TEST(crash_then_rerun_postgres_catalog) {
  char *src = fake_source("f", "\n        count: 20\n        state_every: 5\n"
                               "        crash_after: ${CRASH:--1}");
  char *wf = workflow("wf.yaml", src, NULL);
  char crash[32];
  snprintf(crash, sizeof crash, "CRASH=%ld", crash_points[_i]);
  char *env[] = {crash, NULL};
  ck_assert_int_eq(run_host(wf, env, NULL, NULL), 128 + SIGKILL);
  long next = stored_next("f");
  ck_assert_int_le(next, crash_points[_i]);
  for (long i = 0; i < next; i++) { /* state never ahead of data */
    char id[32];
    snprintf(id, sizeof id, "e%ld", i);
    ck_assert_msg(pg_int("SELECT count(*) FROM entities WHERE id = $1", id) == 1,
                  "state says next=%ld but %s is not in the catalog", next, id);
  }
  ck_assert_int_eq(run_host(wf, NULL, NULL, NULL), 0);
  assert_catalog_complete("f", "e", 20);
  ck_assert_int_eq(stored_next("f"), 0); /* a complete run: the next starts over */
  free(wf);
  free(src);
}
END_TEST


/* The file sink keeps no state: with workflowConfig.stateStore: postgresql://..., a SIGKILL at
 * any instant and a re-run leave every record in the file exactly once (the file cut back to
 * the mark stored with the state in PostgreSQL). */
START_TEST(crash_then_rerun_file_sink_and_postgres_state_store) {
  char *out = test_path("%s/out.jsonl", dir), *wf = test_path("%s/wf.yaml", dir);
  char *yaml = test_path("sources:\n  - type: fake\n    serviceName: f\n    serviceConnection:\n"
                         "      config:\n        count: 20\n        state_every: 4\n"
                         "        crash_after: ${CRASH:--1}\n"
                         "sink: {type: file, config: {path: %s}}\n"
                         "workflowConfig: {stateStore: \"postgresql://etl@/postgres?host=%s&port=%d\"}\n",
                         out, server->dir, server->port);
  ck_assert_int_eq(test_write_file(wf, yaml), 0);
  char crash[32];
  snprintf(crash, sizeof crash, "CRASH=%ld", crash_points[_i]);
  char *env[] = {crash, NULL};
  char *err = NULL;
  ck_assert_int_eq(run_host(wf, env, NULL, NULL), 128 + SIGKILL);
  ck_assert_int_eq(pg_int("SELECT count(*) FROM state_store", NULL) <= 1, 1);
  ck_assert_msg(run_host(wf, NULL, NULL, &err) == 0, "%s", err);
  char *text = test_read_file(out, NULL);
  ck_assert_ptr_nonnull(text);
  long lines = 0;
  for (char *p = text; (p = strchr(p, '\n')); p++)
    lines++;
  ck_assert_int_eq(lines, 20);
  for (long i = 0; i < 20; i++) {
    char needle[64];
    snprintf(needle, sizeof needle, "\"id\":\"e%ld\"", i);
    char *first = strstr(text, needle);
    ck_assert_msg(first && !strstr(first + 1, needle), "e%ld not exactly once", i);
  }
  ck_assert_int_eq(pg_int("SELECT count(*) FROM state_store", NULL), 1);
  free(text);
  free(err);
  free(yaml);
  free(wf);
  free(out);
}
END_TEST

/* ---- two processes at once ---------------------------------------------------------------- */

/* 1 when source's two runs overlap in time (one started before the other finished). */
static const char overlap_sql[] = "SELECT (max(started) < min(finished))::int FROM runs"
                                  " WHERE source = $1";

/* Two `etlhost run` of the same source at once: the second waits for the first to end the
 * source (the advisory lock), then runs it again on top. Every entity once, none
 * deleted, two complete runs. */
START_TEST(two_runs_of_one_source_at_once) {
  char *src = fake_source("f", "{count: 60, state_every: 7, sleep_ms: 10}");
  char *wf = workflow("wf.yaml", src, NULL);
  char *log1 = test_path("%s/1.log", dir), *log2 = test_path("%s/2.log", dir);
  pid_t a = spawn_host(wf, log1);
  /* The second starts once the first stored a mid-run state ({"next": 7}): it must read the
   * state it resumes from only when it holds the source, not the first run's checkpoint that
   * is stale by then (it would resume at 7 and mark e0..e6 deleted). */
  for (int i = 0; i < 1000 && !mid_run_state_stored("f"); i++)
    usleep(10 * 1000);
  ck_assert(mid_run_state_stored("f"));
  pid_t b = spawn_host(wf, log2);
  int ra = wait_exit(a), rb = wait_exit(b);
  char *t1 = test_read_file(log1, NULL), *t2 = test_read_file(log2, NULL);
  ck_assert_msg(ra == 0 && rb == 0, "exits %d %d\n%s\n%s", ra, rb, t1, t2);
  assert_catalog_complete("f", "e", 60);
  ck_assert_int_eq(pg_int("SELECT count(*) FROM runs WHERE source = 'f' AND complete", NULL), 2);
  ck_assert_int_eq(pg_int("SELECT count(DISTINCT run_id) FROM runs WHERE source = 'f'", NULL), 2);
  /* one after the other: the later run started (took the lock) once the first had finished */
  ck_assert_msg(pg_int(overlap_sql, "f") == 0, "the two runs of f overlapped:\n%s\n%s", t1, t2);
  ck_assert_int_eq(stored_next("f"), 0);
  free(t1);
  free(t2);
  free(log1);
  free(log2);
  free(wf);
  free(src);
}
END_TEST

/* A run whose sources fetch at once opens each with the state stored when it starts. If a
 * second run of a source stored a newer one by the time the first holds it, what it fetched is
 * relative to a stale state: that source delivers nothing (an error, the run not complete) and
 * no entity is marked deleted by it. */
START_TEST(parallel_run_behind_a_newer_state_writes_nothing) {
  char *f = fake_source("f", "{count: 60, state_every: 7, sleep_ms: 30}");
  char *g = fake_source("g", "{count: 3, prefix: g}");
  char *wf1 = workflow("wf1.yaml", f, NULL);
  char *path = test_path("%s/wf2.yaml", dir);
  char *yaml = test_path("sources:\n%s%s\nsink: {type: postgres, config: {dsn: \"%s\"}}\n"
                         "workflowConfig: {stateStore: %s/state.db, parallelSources: 2}\n",
                         g, f, dsn, dir);
  ck_assert_int_eq(test_write_file(path, yaml), 0);
  char *log1 = test_path("%s/1.log", dir), *log2 = test_path("%s/2.log", dir);
  pid_t a = spawn_host(wf1, log1);
  for (int i = 0; i < 1000 && !mid_run_state_stored("f"); i++)
    usleep(10 * 1000);
  ck_assert(mid_run_state_stored("f"));
  pid_t b = spawn_host(path, log2);
  int ra = wait_exit(a), rb = wait_exit(b);
  char *t1 = test_read_file(log1, NULL), *t2 = test_read_file(log2, NULL);
  ck_assert_msg(ra == 0 && rb != 0, "exits %d %d\n%s\n%s", ra, rb, t1, t2);
  ck_assert_msg(strstr(t2, "another run of this source stored a newer state"), "%s", t2);
  assert_catalog_complete("f", "e", 60);
  assert_catalog_complete("g", "g", 3);
  ck_assert_int_eq(stored_next("f"), 0);
  free(t1);
  free(t2);
  free(log1);
  free(log2);
  free(yaml);
  free(path);
  free(wf1);
  free(f);
  free(g);
}
END_TEST

/* Two `etlhost run` of different sources into one catalog at once: neither waits, both land. */
START_TEST(two_runs_of_different_sources_at_once) {
  char *f = fake_source("f", "{count: 60, state_every: 7, sleep_ms: 10}");
  char *g = fake_source("g", "{count: 60, state_every: 7, sleep_ms: 10, prefix: g}");
  char *wf1 = workflow("wf1.yaml", f, NULL), *wf2 = workflow("wf2.yaml", g, NULL);
  char *log1 = test_path("%s/1.log", dir), *log2 = test_path("%s/2.log", dir);
  pid_t a = spawn_host(wf1, log1);
  pid_t b = spawn_host(wf2, log2);
  int ra = wait_exit(a), rb = wait_exit(b);
  char *t1 = test_read_file(log1, NULL), *t2 = test_read_file(log2, NULL);
  ck_assert_msg(ra == 0 && rb == 0, "exits %d %d\n%s\n%s", ra, rb, t1, t2);
  assert_catalog_complete("f", "e", 60);
  assert_catalog_complete("g", "g", 60);
  /* side by side: each started before the other finished */
  ck_assert_int_eq(pg_int("SELECT (max(started) < min(finished))::int FROM runs", NULL), 1);
  ck_assert_int_eq(pg_int("SELECT count(DISTINCT run_id) FROM runs", NULL), 2);
  free(t1);
  free(t2);
  free(log1);
  free(log2);
  free(wf1);
  free(wf2);
  free(f);
  free(g);
}
END_TEST

/* The DSN's password is never printed, neither on success nor when the server refuses. */
START_TEST(dsn_password_never_printed) {
  char *src = fake_source("f", "{count: 3}");
  char *wf = workflow("wf.yaml", src, " password=Sekr1tPw");
  char *out = NULL, *err = NULL;
  ck_assert_int_eq(run_host(wf, NULL, &out, &err), 0);
  ck_assert_ptr_null(strstr(out, "Sekr1tPw"));
  ck_assert_ptr_null(strstr(err, "Sekr1tPw"));
  free(out);
  free(err);
  free(wf);
  char bad[128];
  snprintf(bad, sizeof bad, " port=1 password=Sekr1tPw");
  wf = workflow("wf2.yaml", src, bad); /* a later port= wins: nothing listens there */
  ck_assert_int_ne(run_host(wf, NULL, &out, &err), 0);
  ck_assert_msg(strstr(err, "cannot connect"), "%s", err);
  ck_assert_ptr_null(strstr(out, "Sekr1tPw"));
  ck_assert_ptr_null(strstr(err, "Sekr1tPw"));
  free(out);
  free(err);
  free(wf);
  free(src);
}
END_TEST


/* `etlhost test` connects to the catalog and creates nothing; an unreachable server is exit 3. */
START_TEST(test_command_checks_postgres_sink) {
  char *src = fake_source("f", "{count: 1}");
  char *wf = workflow("wf.yaml", src, NULL);
  char *out = NULL, *err = NULL;
  int rc = run_cmd("test", wf, NULL, &out, &err);
  ck_assert_msg(rc == 0, "exit %d\n%s\n%s", rc, out, err);
  ck_assert_msg(strstr(out, "connected to 'etl@") || strstr(err, "connected to 'etl@"), "%s\n%s",
                out, err);
  ck_assert_int_eq(pg_int("SELECT count(*) FROM pg_tables WHERE tablename = 'entities'", NULL), 0);
  free(out);
  free(err);
  free(wf);
  wf = workflow("wf2.yaml", src, " port=1");
  rc = run_cmd("test", wf, NULL, &out, &err);
  ck_assert_msg(rc == 3, "exit %d\n%s\n%s", rc, out, err);
  free(out);
  free(err);
  free(wf);
  free(src);
}
END_TEST

int main(void) {
  server = test_pg_start_or_skip("test_host_postgres");
  Suite *s = suite_create("host_postgres");
  TCase *tc = tcase_create("postgres");
  tcase_set_timeout(tc, 60);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_loop_test(tc, crash_then_rerun_postgres_catalog, 0,
                      (int)(sizeof crash_points / sizeof crash_points[0]));
  tcase_add_loop_test(tc, crash_then_rerun_file_sink_and_postgres_state_store, 0,
                      (int)(sizeof crash_points / sizeof crash_points[0]));
  tcase_add_test(tc, two_runs_of_one_source_at_once);
  tcase_add_test(tc, two_runs_of_different_sources_at_once);
  tcase_add_test(tc, parallel_run_behind_a_newer_state_writes_nothing);
  tcase_add_test(tc, dsn_password_never_printed);
  tcase_add_test(tc, test_command_checks_postgres_sink);
  suite_add_tcase(s, tc);
  return test_run_suite(s);
}
