/*
 * test_sink_postgres.c -- the postgres sink against a real PostgreSQL server (Debian's
 * postgresql package, started privately by tests/common/pgserver.c; the suite skips when it
 * cannot start one): the same catalog cases as the sqlite sink (sink_catalog_cases.h), then
 * what only a shared database has -- two writers on one catalog, the per-source lock, a DSN
 * whose password must never reach the log.
 */
#include "config.h"

#include "pgserver.h"
#include "sink.h"
#include "sink_testlib.h"
#include "state.h"

#include <libpq-fe.h>
#include <time.h>

static const struct host_sink_ops *ops;
static struct test_pg *server;
static char dsn[600];

/* A fresh catalog per test: the public schema emptied. */
static void setup(void) {
  t_setup();
  ops = host_sink_find("postgres");
  ck_assert_ptr_nonnull(ops);
  test_pg_dsn(server, "postgres", dsn, sizeof dsn);
  PGconn *c = PQconnectdb(dsn);
  ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
  PGresult *r = PQexec(c, "SET client_min_messages = warning;"
                          "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public");
  ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s", PQerrorMessage(c));
  PQclear(r);
  PQfinish(c);
}

static void teardown(void) { t_teardown(); }

static etl_status try_open_dsn(const char *d, void **sink) {
  char config[1024];
  snprintf(config, sizeof config, "{\"dsn\": \"%s\"}", d);
  return ops->create(config, "{}", t_log, sink);
}

static etl_status cat_try_open(void **sink) { return try_open_dsn(dsn, sink); }

/* The first value of sql's first row; booleans as "1"/"0". malloc'd. */
static char *cat_value(const char *sql) {
  PGconn *c = PQconnectdb(dsn);
  ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
  PGresult *r = PQexec(c, sql);
  ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(c));
  ck_assert_msg(PQntuples(r) > 0, "no row for %s", sql);
  const char *v = PQgetisnull(r, 0, 0) ? "(null)" : PQgetvalue(r, 0, 0);
  if (PQftype(r, 0) == 16 /* BOOLOID */)
    v = strcmp(v, "t") == 0 ? "1" : "0";
  char *copy = strdup(v);
  PQclear(r);
  PQfinish(c);
  return copy;
}

static long long cat_int(const char *sql) {
  char *v = cat_value(sql);
  long long n = strtoll(v, NULL, 10);
  free(v);
  return n;
}

static char *cat_text(const char *sql) { return cat_value(sql); }

#define CAT_TYPE "postgres"
#include "sink_catalog_cases.h"

START_TEST(test_registry_finds_postgres) {
  ck_assert_str_eq(ops->type, "postgres");
  ck_assert_ptr_nonnull(ops->store_state); /* state commits with the data */
  ck_assert_ptr_nonnull(ops->load_state);
}
END_TEST

START_TEST(test_config_errors_name_the_key) {
  void *sink = NULL;
  ck_assert_int_eq(ops->create("{}", "{}", t_log, &sink), ETL_ERR_CONFIG);
  ck_assert_logged("sink.config.dsn: required");
  ck_assert_int_eq(ops->create("{\"dsn\": \"x\", \"path\": \"y\"}", "{}", t_log, &sink),
                   ETL_ERR_CONFIG);
  ck_assert_logged("sink.config.path");
  ck_assert_ptr_null(sink);
}
END_TEST

/* The password of the DSN reaches neither a success's nor a failure's messages. */
START_TEST(test_password_is_never_logged) {
  char d[800];
  void *sink = NULL;
  snprintf(d, sizeof d, "%s password=Sekr1tPw", dsn); /* trust auth: accepted, unused */
  ck_assert_int_eq(try_open_dsn(d, &sink), ETL_OK);
  ck_assert_int_eq(ops->begin_source(sink, "s", "jsonl"), ETL_OK);
  struct host_record bad = {"s", "chart", "x", "nope", 4};
  bool rejected = false;
  ck_assert_int_eq(ops->write(sink, &bad, &rejected), ETL_OK);
  ops->destroy(&sink);
  snprintf(d, sizeof d, "host=%s port=1 user=etl dbname=nosuch password=Sekr1tPw", server->dir);
  ck_assert_int_eq(try_open_dsn(d, &sink), ETL_ERR_CONNECT);
  ck_assert_logged("cannot connect");
  ck_assert_logged("etl@"); /* the catalog is named, by user@host:port/db */
  ck_assert_ptr_null(strstr(t_logged(), "Sekr1tPw"));
  ck_assert_int_eq(try_open_dsn("postgresql://etl:Sekr1tPw@[bad", &sink), ETL_ERR_CONFIG);
  ck_assert_ptr_null(strstr(t_logged(), "Sekr1tPw"));
}
END_TEST

START_TEST(test_another_applications_schema_is_refused) {
  PGconn *c = PQconnectdb(dsn);
  PQclear(PQexec(c, "CREATE TABLE etlhost_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                    "INSERT INTO etlhost_meta VALUES ('application', 'someone-else')"));
  PQfinish(c);
  void *sink = NULL;
  ck_assert_int_eq(cat_try_open(&sink), ETL_ERR_CONFIG);
  ck_assert_logged("not an etlhost catalog");
  c = PQconnectdb(dsn);
  PQclear(PQexec(c, "UPDATE etlhost_meta SET value = 'etlhost-catalog';"
                    "INSERT INTO etlhost_meta VALUES ('schema_version', '99')"));
  PQfinish(c);
  ck_assert_int_eq(cat_try_open(&sink), ETL_ERR_CONFIG);
  ck_assert_logged("has schema 99, newer than this etlhost knows (1)");
}
END_TEST

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* One whole run of `source` in a second process on its own connection: ids 0..n-1. Exits 0,
 * or 5 when it did not have to wait though it expected to. */
static void child_run(const char *source, int n, bool expect_wait) {
  void *sink = NULL;
  if (cat_try_open(&sink) != ETL_OK || ops->begin_source(sink, source, "jsonl") != ETL_OK)
    _exit(3);
  if (expect_wait && !strstr(t_logged(), "another etlhost run holds this source"))
    _exit(5);
  for (int i = 0; i < n; i++) {
    char id[16];
    snprintf(id, sizeof id, "%d", i);
    struct host_record rec = {source, "chart", id, "{\"by\": \"child\"}", 15};
    bool rejected = false;
    if (ops->write(sink, &rec, &rejected) != ETL_OK || rejected)
      _exit(3);
  }
  struct host_source_outcome o = {.complete = true, .run_id = 2, .fail_safe_threshold = 100};
  if (ops->commit(sink) != ETL_OK || ops->end_source(sink, source, &o) != ETL_OK)
    _exit(3);
  ops->destroy(&sink);
  _exit(0);
}

/* Two writers on one catalog: a second run of the same source waits for the first to end (the
 * advisory lock), and then runs after it with a newer run id; another source never waits.
 * Nothing is lost, nothing is there twice, nothing is marked deleted. */
START_TEST(test_two_writers_same_and_other_source) {
  enum { N = 200 };
  void *a = open_catalog();
  ck_assert_int_eq(ops->begin_source(a, "s", "jsonl"), ETL_OK);
  for (int i = 0; i < N / 2; i++) {
    char id[16];
    snprintf(id, sizeof id, "%d", i);
    put(a, "s", "chart", id, "{\"by\": \"parent\"}");
  }
  ck_assert_int_eq(ops->commit(a), ETL_OK);

  pid_t same = fork();
  ck_assert_int_ne(same, -1);
  if (same == 0)
    child_run("s", N, true);
  pid_t other = fork();
  ck_assert_int_ne(other, -1);
  if (other == 0)
    child_run("t", N, false);

  int status = 0;
  ck_assert_int_eq(waitpid(other, &status, 0), other); /* "t" never waits for "s" */
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "other source: %d", status);
  sleep_ms(500);
  ck_assert_int_eq(waitpid(same, &status, WNOHANG), 0); /* still waiting for "s" */
  for (int i = N / 2; i < N; i++) {
    char id[16];
    snprintf(id, sizeof id, "%d", i);
    put(a, "s", "chart", id, "{\"by\": \"parent\"}");
  }
  end(a, "s", true);
  ops->destroy(&a);
  ck_assert_int_eq(waitpid(same, &status, 0), same);
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "same source: %d", status);

  ck_assert_int_eq(cat_int("SELECT count(*) FROM entities WHERE source='s'"), N);
  ck_assert_int_eq(cat_int("SELECT count(*) FROM entities WHERE source='t'"), N);
  ck_assert_int_eq(cat_int("SELECT count(*) FROM entities WHERE deleted"), 0);
  /* the waiting run came second: its data is what stays, under a newer run id */
  ck_assert_int_eq(cat_int("SELECT count(*) FROM entities WHERE source='s' AND json LIKE "
                           "'%child%'"),
                   N);
  ck_assert_int_eq(cat_int("SELECT count(*) FROM runs WHERE source='s' AND complete"), 2);
  ck_assert_int_eq(cat_int("SELECT count(DISTINCT run_id) FROM runs WHERE source='s'"), 2);
  ck_assert_int_eq(cat_int("SELECT count(*) FROM runs WHERE source='t' AND complete"), 1);
  ck_assert_int_eq(cat_int("SELECT updated FROM runs WHERE source='s' ORDER BY run_id DESC"),
                   N);
}
END_TEST


/* A run hung while holding a source must not hold the next run of that source forever: the
 * wait for the source's lock is bounded by sink.config.lockTimeoutSeconds, and the error names
 * the source and who holds it (PostgreSQL's backend pid, and etlhost's pid in the
 * application name). Another source is not held up. */
START_TEST(test_lock_wait_is_bounded_and_names_the_holder) {
  void *a = open_catalog(), *b = NULL;
  ck_assert_int_eq(ops->begin_source(a, "s", "jsonl"), ETL_OK);
  char holder[32];
  char *pid = cat_value("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                        " AND objsubid = 2");
  snprintf(holder, sizeof holder, "pid %s", pid);
  free(pid);

  char config[1024];
  snprintf(config, sizeof config, "{\"dsn\": \"%s\", \"lockTimeoutSeconds\": 1}", dsn);
  etl_status st = ops->create(config, "{}", t_log, &b);
  ck_assert_msg(st == ETL_OK, "create: %s; log:\n%s", etl_status_name(st), t_logged());
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  st = ops->begin_source(b, "s", "jsonl");
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  ck_assert_msg(st == ETL_ERR_TRANSIENT, "begin_source returned %s", etl_status_name(st));
  ck_assert_msg(took >= 0.9 && took < 5.0, "gave up after %.1f s (lockTimeoutSeconds: 1)", took);
  ck_assert_logged("source 's'");
  ck_assert_logged("lockTimeoutSeconds");
  ck_assert_logged(holder);
  char app[32];
  snprintf(app, sizeof app, "etlhost[%ld]", (long)getpid());
  ck_assert_logged(app);

  /* the same sink goes on with another source, and with "s" once its holder has ended it */
  ck_assert_int_eq(ops->begin_source(b, "t", "jsonl"), ETL_OK);
  end(b, "t", true);
  end(a, "s", true);
  ck_assert_int_eq(ops->begin_source(b, "s", "jsonl"), ETL_OK);
  end(b, "s", true);
  ops->destroy(&a);
  ops->destroy(&b);

  void *sink = NULL;
  snprintf(config, sizeof config, "{\"dsn\": \"%s\", \"lockTimeoutSeconds\": 0}", dsn);
  ck_assert_int_eq(ops->create(config, "{}", t_log, &sink), ETL_ERR_CONFIG);
  ck_assert_logged("sink.config.lockTimeoutSeconds");
  ck_assert_ptr_null(sink);
}
END_TEST

/* workflowConfig.stateStore: postgresql://... -- the state store's API on PostgreSQL: states and
 * the file sink's marks survive a reopen, a marked save is both or neither, and the URL's
 * password never reaches the log. */
START_TEST(test_state_store_in_postgres) {
  char url[800];
  snprintf(url, sizeof url, "postgresql://etl:Sekr1tPw@/postgres?host=%s&port=%d", server->dir,
           server->port);
  struct host_state_store *st = NULL;
  ck_assert_int_eq(host_state_open(url, t_log, &st), ETL_OK);
  char *json = NULL;
  size_t len = 1;
  ck_assert_int_eq(host_state_load(st, "s", &json, &len), ETL_OK);
  ck_assert_ptr_null(json);
  ck_assert_int_eq(host_state_save(st, "s", "{\"next\": 5}", 11), ETL_OK);
  struct host_state_mark m = {.offset = 1234, .dev = 7, .ino = 99, .clean = true}, got = {0};
  bool found = true;
  ck_assert_int_eq(host_state_mark_load(st, "/x.jsonl", &got, &found), ETL_OK);
  ck_assert(!found);
  ck_assert_int_eq(host_state_save_marked(st, "t", "{\"next\": 2}", 11, "/x.jsonl", &m), ETL_OK);
  host_state_close(&st);
  ck_assert_ptr_null(st);

  ck_assert_int_eq(host_state_open(url, t_log, &st), ETL_OK);
  ck_assert_int_eq(host_state_load(st, "s", &json, &len), ETL_OK);
  ck_assert_str_eq(json, "{\"next\": 5}");
  ck_assert_uint_eq(len, 11);
  free(json);
  ck_assert_int_eq(host_state_load(st, "t", &json, &len), ETL_OK);
  ck_assert_str_eq(json, "{\"next\": 2}");
  free(json);
  ck_assert_int_eq(host_state_mark_load(st, "/x.jsonl", &got, &found), ETL_OK);
  ck_assert(found);
  ck_assert_int_eq(got.offset, 1234);
  ck_assert_int_eq(got.dev, 7);
  ck_assert_int_eq(got.ino, 99);
  ck_assert(got.clean);
  /* a state that holds a NUL cannot be text: refused, and the marked save leaves nothing */
  m.offset = 1;
  ck_assert_int_ne(host_state_save_marked(st, "t", "{}\0{}", 5, "/x.jsonl", &m), ETL_OK);
  ck_assert_int_eq(host_state_mark_load(st, "/x.jsonl", &got, &found), ETL_OK);
  ck_assert_int_eq(got.offset, 1234);
  host_state_close(&st);
  ck_assert_int_eq(cat_int("SELECT count(*) FROM state_store"), 2);

  snprintf(url, sizeof url, "postgresql://etl:Sekr1tPw@/nosuchdb?host=%s&port=%d", server->dir,
           server->port);
  ck_assert_int_eq(host_state_open(url, t_log, &st), ETL_ERR_CONNECT);
  ck_assert_logged("state store 'etl@");
  ck_assert_logged("nosuchdb");
  ck_assert_ptr_null(strstr(t_logged(), "Sekr1tPw"));
}
END_TEST

/* The state store waits for a lock no longer than its session's lock_timeout (600 s unless the
 * URL, role or database sets one, here 1 s through the URL's options): a run whose save meets a
 * row another session holds fails "try again later", naming the store, the lock and the
 * setting, instead of hanging or reporting an internal error. */
START_TEST(test_state_store_lock_wait_is_bounded) {
  char url[800];
  snprintf(url, sizeof url,
           "postgresql://etl@/postgres?host=%s&port=%d&options=-c%%20lock_timeout%%3D1000",
           server->dir, server->port);
  struct host_state_store *st = NULL;
  ck_assert_int_eq(host_state_open(url, t_log, &st), ETL_OK);
  ck_assert_int_eq(host_state_save(st, "held", "{\"next\": 1}", 11), ETL_OK);
  PGconn *holder = PQconnectdb(dsn);
  ck_assert_msg(PQstatus(holder) == CONNECTION_OK, "%s", PQerrorMessage(holder));
  PGresult *r = PQexec(holder, "BEGIN; SELECT 1 FROM state_store WHERE source = 'held' FOR UPDATE");
  ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQerrorMessage(holder));
  PQclear(r);

  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  etl_status got = host_state_save(st, "held", "{\"next\": 2}", 11);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  ck_assert_msg(got == ETL_ERR_TRANSIENT, "save returned %s", etl_status_name(got));
  ck_assert_msg(took >= 0.9 && took < 5.0, "gave up after %.1f s (lock_timeout 1 s)", took);
  ck_assert_logged("state store 'etl@");
  ck_assert_logged("waited 1 s for a lock");
  ck_assert_logged("lock_timeout");

  /* once the holder lets go, the same store saves again */
  PQclear(PQexec(holder, "ROLLBACK"));
  PQfinish(holder);
  ck_assert_int_eq(host_state_save(st, "held", "{\"next\": 3}", 11), ETL_OK);
  host_state_close(&st);
  char *v = cat_text("SELECT json FROM state_store WHERE source = 'held'");
  ck_assert_str_eq(v, "{\"next\": 3}");
  free(v);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("sink_postgres");
  TCase *tc = tcase_create("catalog");
  tcase_set_timeout(tc, 60);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_registry_finds_postgres);
  cat_add_cases(tc);
  tcase_add_test(tc, test_config_errors_name_the_key);
  tcase_add_test(tc, test_password_is_never_logged);
  tcase_add_test(tc, test_another_applications_schema_is_refused);
  tcase_add_test(tc, test_two_writers_same_and_other_source);
  tcase_add_test(tc, test_lock_wait_is_bounded_and_names_the_holder);
  tcase_add_test(tc, test_state_store_in_postgres);
  tcase_add_test(tc, test_state_store_lock_wait_is_bounded);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  server = test_pg_start_or_skip("test_sink_postgres");
  return test_run_suite(suite());
}
