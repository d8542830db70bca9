/*
 * test_state.c -- the host's state store: a saved state comes back (also after the process
 * died without closing), a newer save replaces it, sources are separate, and a file that is not
 * a state store or cannot be opened is refused with a message naming it; a damaged store or a
 * stored state nested too deep says what to do, and etlhost exits 2 instead of crashing.
 */
#include "config.h"

#include "sink.h"
#include "sink_testlib.h"
#include "state.h"

#include <sys/wait.h>
#include <unistd.h>

static char *store_path;

static void setup(void) {
  t_setup();
  store_path = test_path("%s/state.db", t_dir);
}

static void teardown(void) {
  free(store_path);
  t_teardown();
}

static struct host_state_store *open_store(void) {
  struct host_state_store *store = NULL;
  etl_status st = host_state_open(store_path, t_log, &store);
  ck_assert_msg(st == ETL_OK, "open: %s; log:\n%s", etl_status_name(st), t_logged());
  return store;
}

static void assert_state(struct host_state_store *store, const char *source, const char *want) {
  char *json = (char *)"unset";
  size_t len = 99;
  ck_assert_int_eq(host_state_load(store, source, &json, &len), ETL_OK);
  if (!want) {
    ck_assert_ptr_null(json);
    ck_assert_uint_eq(len, 0);
    return;
  }
  ck_assert_ptr_nonnull(json);
  ck_assert_str_eq(json, want);
  ck_assert_uint_eq(len, strlen(want));
  free(json);
}

START_TEST(test_save_load_replace) {
  struct host_state_store *store = open_store();
  assert_state(store, "mode-prod", NULL);
  ck_assert_int_eq(host_state_save(store, "mode-prod", "{\"page\": 1}", 11), ETL_OK);
  ck_assert_int_eq(host_state_save(store, "other", "{\"x\": true}", 11), ETL_OK);
  assert_state(store, "mode-prod", "{\"page\": 1}");
  ck_assert_int_eq(host_state_save(store, "mode-prod", "{\"page\": 2, \"done\": [\"a\"]}", 26),
                   ETL_OK);
  assert_state(store, "mode-prod", "{\"page\": 2, \"done\": [\"a\"]}");
  assert_state(store, "other", "{\"x\": true}");
  host_state_close(&store);
  ck_assert_ptr_null(store);
  host_state_close(&store); /* NULL-safe */

  store = open_store(); /* persisted */
  assert_state(store, "mode-prod", "{\"page\": 2, \"done\": [\"a\"]}");
  host_state_close(&store);
}
END_TEST

/* A save that returned is durable even if the process dies right after, without closing. */
START_TEST(test_save_survives_a_killed_process) {
  fflush(NULL);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    struct host_state_store *store = NULL;
    if (host_state_open(store_path, NULL, &store) != ETL_OK ||
        host_state_save(store, "s", "{\"n\": 7}", 8) != ETL_OK)
      _exit(1);
    _exit(0); /* no close, no checkpoint: as if killed */
  }
  int status = 0;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  struct host_state_store *store = open_store();
  assert_state(store, "s", "{\"n\": 7}");
  host_state_close(&store);
}
END_TEST

START_TEST(test_error_for_a_file_that_is_not_a_state_store) {
  struct host_state_store *store = NULL;
  ck_assert_int_eq(test_write_file(store_path, "{\"page\": 1}\n"), 0);
  ck_assert_int_eq(host_state_open(store_path, t_log, &store), ETL_ERR_CONFIG);
  ck_assert_ptr_null(store);
  ck_assert_logged("state store '");
  ck_assert_logged(store_path);
  ck_assert_logged("not an etlhost state store: the file is not a SQLite database");

  /* A catalog of the sqlite sink is not a state store either. */
  char *catalog = test_path("%s/catalog.db", t_dir);
  char config[4096];
  snprintf(config, sizeof config, "{\"path\": \"%s\"}", catalog);
  void *sink = NULL;
  ck_assert_int_eq(host_sink_find("sqlite")->create(config, "{}", t_log, &sink), ETL_OK);
  host_sink_find("sqlite")->destroy(&sink);
  ck_assert_int_eq(host_state_open(catalog, t_log, &store), ETL_ERR_CONFIG);
  ck_assert_logged("not an etlhost state store: it is an etlhost catalog");
  free(catalog);
}
END_TEST

START_TEST(test_error_for_a_path_that_cannot_be_opened) {
  struct host_state_store *store = NULL;
  char *path = test_path("%s/missing/state.db", t_dir);
  ck_assert_int_eq(host_state_open(path, t_log, &store), ETL_ERR_CONFIG);
  ck_assert_logged(path);
  ck_assert_logged("cannot open");
  free(path);
}
END_TEST

/* ---- a damaged store or state: a clear message and what to do, never a crash ------------- */

/* Sets source's stored state in the SQLite file at path to json, as a hostile or broken writer
 * would. */
static void poke_state(const char *path, const char *source, const char *json) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
  ck_assert_int_eq(sqlite3_prepare_v2(db,
                                      "INSERT INTO state (source, json, saved_at) VALUES (?1, ?2, "
                                      "'now') ON CONFLICT (source) DO UPDATE SET json = ?2",
                                      -1, &st, NULL),
                   SQLITE_OK);
  sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, json, -1, SQLITE_STATIC);
  ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
  ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
}

/* n levels of [ then n of ] (caller frees). */
static char *nested(size_t n) {
  char *buf = malloc(2 * n + 1);
  ck_assert_ptr_nonnull(buf);
  memset(buf, '[', n);
  memset(buf + n, ']', n);
  buf[2 * n] = '\0';
  return buf;
}

/* Runs the SQL the message gave, as the user would with the sqlite3 shell. */
static void follow_advice(const char *path, const char *source) {
  sqlite3 *db = NULL;
  char *sql = test_path("DELETE FROM state WHERE source = '%s'", source);
  ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
  ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  free(sql);
}

START_TEST(test_a_state_nested_a_million_deep_is_refused_with_the_fix) {
  struct host_state_store *store = open_store();
  host_state_close(&store);
  char *deep = nested(1000000);
  poke_state(store_path, "mode-prod", deep);
  store = open_store();
  char *json = (char *)"unset";
  size_t len = 99;
  ck_assert_int_eq(host_state_load(store, "mode-prod", &json, &len), ETL_ERR_CONFIG);
  ck_assert_ptr_null(json);
  ck_assert_uint_eq(len, 0);
  char *want = test_path("mode-prod: error: state store '%s': the stored state of this source is "
                         "unusable (nested deeper than 128 levels). Delete it to start the "
                         "source afresh (a full run): sqlite3 '%s' \"DELETE FROM state WHERE "
                         "source = 'mode-prod'\"",
                         store_path, store_path);
  ck_assert_logged(want);
  host_state_close(&store);
  follow_advice(store_path, "mode-prod");
  store = open_store();
  assert_state(store, "mode-prod", NULL);
  host_state_close(&store);
  free(want);
  free(deep);
}
END_TEST

START_TEST(test_a_stored_state_is_checked_up_to_its_limit) {
  struct host_state_store *store = open_store();
  char *limit = nested(HOST_STATE_MAX_DEPTH), *past = nested(HOST_STATE_MAX_DEPTH + 1);
  ck_assert_int_eq(host_state_save(store, "a", limit, strlen(limit)), ETL_OK);
  assert_state(store, "a", limit);
  ck_assert_int_eq(host_state_save(store, "a", past, strlen(past)), ETL_OK);
  char *json = NULL;
  size_t len = 0;
  ck_assert_int_eq(host_state_load(store, "a", &json, &len), ETL_ERR_CONFIG);
  ck_assert_int_eq(host_state_save(store, "b", "{\"cut\": [1, 2", 13), ETL_OK);
  ck_assert_int_eq(host_state_load(store, "b", &json, &len), ETL_ERR_CONFIG);
  ck_assert_logged("b: error: state store '");
  ck_assert_logged("': the stored state of this source is unusable (not JSON (parse error: "
                   "premature EOF)). Delete it");
  /* The check alone, as the sqlite sink calls it for its catalog. */
  ck_assert_int_eq(host_state_check("catalog", "c.db", "s", "[{\"a\": 1}]", 10, t_log), ETL_OK);
  ck_assert_int_eq(host_state_check("catalog", "c.db", "s", "", 0, t_log), ETL_OK);
  ck_assert_int_eq(host_state_check("catalog", "c.db", "s", "{]", 2, t_log), ETL_ERR_CONFIG);
  ck_assert_logged("s: error: catalog 'c.db': the stored state of this source is unusable");
  host_state_close(&store);
  free(limit);
  free(past);
}
END_TEST

START_TEST(test_a_truncated_store_says_it_is_damaged_and_what_to_do) {
  struct host_state_store *store = open_store();
  char big[2000];
  memset(big, 'x', sizeof big);
  for (int i = 0; i < 50; i++) { /* several pages, so that a cut loses some */
    char source[16], json[sizeof big + 16];
    snprintf(source, sizeof source, "s%d", i);
    snprintf(json, sizeof json, "\"%.*s\"", (int)sizeof big - 10, big);
    ck_assert_int_eq(host_state_save(store, source, json, strlen(json)), ETL_OK);
  }
  host_state_close(&store);
  ck_assert_int_eq(truncate(store_path, 3000), 0);
  ck_assert_int_eq(host_state_open(store_path, t_log, &store), ETL_ERR_CONFIG);
  ck_assert_ptr_null(store);
  char *want = test_path("error: state store '%s' is damaged. It only records where each source "
                         "stopped: remove it or move it aside (with any '-wal' and '-shm' file "
                         "beside it), and the next run starts every source afresh",
                         store_path);
  ck_assert_logged(want);
  free(want);
}
END_TEST

START_TEST(test_a_garbage_store_says_what_to_do) {
  struct host_state_store *store = NULL;
  ck_assert_int_eq(test_write_file(store_path, "garbage, not a database, not even close\n"), 0);
  ck_assert_int_eq(host_state_open(store_path, t_log, &store), ETL_ERR_CONFIG);
  ck_assert_logged("the file is not a SQLite database");
  char *want = test_path("error: state store '%s': if this was etlhost's state store, it is "
                         "damaged beyond recognition: remove it or move it aside, and the next "
                         "run starts every source afresh; otherwise set "
                         "workflowConfig.stateStore to another path",
                         store_path);
  ck_assert_logged(want);
  free(want);
}
END_TEST

START_TEST(test_a_sound_file_of_another_kind_is_not_called_damaged) {
  struct host_state_store *store = NULL;
  sqlite3 *db = NULL;
  ck_assert_int_eq(sqlite3_open(store_path, &db), SQLITE_OK);
  ck_assert_int_eq(
      sqlite3_exec(db, "CREATE TABLE t (x); PRAGMA application_id = 7", NULL, NULL, NULL),
      SQLITE_OK);
  sqlite3_close(db);
  ck_assert_int_eq(host_state_open(store_path, t_log, &store), ETL_ERR_CONFIG);
  ck_assert_logged("a SQLite database of another application");
  ck_assert_msg(!strstr(t_logged(), "damaged"), "log:\n%s", t_logged());
}
END_TEST

/* The whole program: a state nested 10^6 deep used to crash the plugin that parsed it
 * (SIGSEGV, exit 139) on every run; now the run stops with exit 2 and the message, and after
 * the advice is followed the next run is a full one. Both places a state is kept: the state
 * store (file sink) and the sqlite catalog. */
static const char *const state_homes[] = {"file", "sqlite"};

START_TEST(test_etlhost_refuses_a_deep_state_with_exit_2) {
  bool catalog = strcmp(state_homes[_i], "sqlite") == 0;
  char *wf = test_path("%s/wf.yaml", t_dir);
  char *db = catalog ? test_path("%s/catalog.db", t_dir) : strdup(store_path);
  char *yaml = test_path("source:\n  type: fake\n  serviceName: f\n  serviceConnection:\n"
                         "    config: {count: 4, state_every: 2}\n"
                         "sink: {type: %s, config: {path: %s/%s}}\n"
                         "workflowConfig: {stateStore: %s}\n",
                         state_homes[_i], t_dir, catalog ? "catalog.db" : "out.jsonl", store_path);
  ck_assert_int_eq(test_write_file(wf, yaml), 0);
  char *bin = test_path("%s/host-api/etlhost", test_builddir());
  char *plugins = test_path("%s/tests/plugins/.libs", test_builddir());
  char *argv[] = {bin, "--plugin-dir", plugins, "run", wf, NULL};
  char *err = NULL;
  ck_assert_int_eq(test_run(argv, NULL, NULL, &err), 0); /* makes the file, with a state */
  free(err);
  char *deep = nested(1000000);
  poke_state(db, "f", deep);
  ck_assert_int_eq(test_run(argv, NULL, NULL, &err), 2);
  char *want = test_path("f: error: %s '%s': the stored state of this source is unusable "
                         "(nested deeper than 128 levels). Delete it to start the source afresh "
                         "(a full run): sqlite3 '%s' \"DELETE FROM state WHERE source = 'f'\"",
                         catalog ? "catalog" : "state store", db, db);
  ck_assert_msg(strstr(err, want), "expected\n  %s\nin\n  %s", want, err);
  free(err);
  follow_advice(db, "f");
  ck_assert_int_eq(test_run(argv, NULL, NULL, &err), 0);
  free(err);
  free(want);
  free(deep);
  free(argv[0]);
  free(plugins);
  free(yaml);
  free(db);
  free(wf);
}
END_TEST

int main(void) {
  Suite *s = suite_create("state");
  TCase *tc = tcase_create("store");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_save_load_replace);
  tcase_add_test(tc, test_save_survives_a_killed_process);
  tcase_add_test(tc, test_error_for_a_file_that_is_not_a_state_store);
  tcase_add_test(tc, test_error_for_a_path_that_cannot_be_opened);
  suite_add_tcase(s, tc);
  TCase *damaged = tcase_create("damaged");
  tcase_add_checked_fixture(damaged, setup, teardown);
  tcase_set_timeout(damaged, 30); /* runs etlhost four times per sink */
  tcase_add_test(damaged, test_a_state_nested_a_million_deep_is_refused_with_the_fix);
  tcase_add_test(damaged, test_a_stored_state_is_checked_up_to_its_limit);
  tcase_add_test(damaged, test_a_truncated_store_says_it_is_damaged_and_what_to_do);
  tcase_add_test(damaged, test_a_garbage_store_says_what_to_do);
  tcase_add_test(damaged, test_a_sound_file_of_another_kind_is_not_called_damaged);
  tcase_add_loop_test(damaged, test_etlhost_refuses_a_deep_state_with_exit_2, 0,
                      (int)(sizeof state_homes / sizeof state_homes[0]));
  suite_add_tcase(s, damaged);
  return test_run_suite(s);
}
