/*
 * test_state.c -- the host's state store: a saved state comes back (also after the process
 * died without closing), a newer save replaces it, sources are separate, and a file that is not
 * a state store or cannot be opened is refused with a message naming it.
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

int main(void) {
  Suite *s = suite_create("state");
  TCase *tc = tcase_create("store");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_save_load_replace);
  tcase_add_test(tc, test_save_survives_a_killed_process);
  tcase_add_test(tc, test_error_for_a_file_that_is_not_a_state_store);
  tcase_add_test(tc, test_error_for_a_path_that_cannot_be_opened);
  suite_add_tcase(s, tc);
  return test_run_suite(s);
}
