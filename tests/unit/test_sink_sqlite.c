/*
 * test_sink_sqlite.c -- the sqlite sink (the catalog): upsert by (source, kind, id), deletion
 * marking, run history, state committed atomically with the data, and the errors a user gets
 * for a file that is not a catalog, a path that cannot be opened, a locked catalog and a bad
 * config.
 */
#include "config.h"

#include "sink.h"
#include "sink_testlib.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct host_sink_ops *ops;
static char *catalog; /* path of the test's catalog */

static void setup(void) {
  t_setup();
  ops = host_sink_find("sqlite");
  ck_assert_ptr_nonnull(ops);
  catalog = test_path("%s/catalog.db", t_dir);
}

static void teardown(void) {
  free(catalog);
  t_teardown();
}

static etl_status try_open(const char *path, const char *extra, void **sink) {
  char config[4096];
  snprintf(config, sizeof config, "{\"path\": \"%s\"%s}", path, extra ? extra : "");
  return ops->create(config, "{}", t_log, sink);
}

static etl_status cat_try_open(void **sink) { return try_open(catalog, NULL, sink); }
static long long cat_int(const char *sql) { return t_sql_int(catalog, sql); }
static char *cat_text(const char *sql) { return t_sql_text(catalog, sql); }

#define CAT_TYPE "sqlite"
#include "sink_catalog_cases.h"

START_TEST(test_registry_finds_builtin_sinks) {
  ck_assert_ptr_nonnull(host_sink_find("sqlite"));
  ck_assert_ptr_nonnull(host_sink_find("file"));
  ck_assert_ptr_nonnull(host_sink_find("stdout"));
  ck_assert_ptr_null(host_sink_find("nosuchsink"));
  ck_assert_ptr_null(host_sink_find(NULL));
  ck_assert_str_eq(host_sink_find("file")->type, "file");
  ck_assert_str_eq(host_sink_find("stdout")->type, "stdout");
  ck_assert_ptr_nonnull(ops->store_state); /* the catalog keeps state with its data */
}
END_TEST

START_TEST(test_error_for_a_file_that_is_not_sqlite) {
  ck_assert_int_eq(test_write_file(catalog, "name,value\nthis is a csv file, not a catalog\n"), 0);
  void *sink = NULL;
  ck_assert_int_eq(try_open(catalog, NULL, &sink), ETL_ERR_CONFIG);
  ck_assert_ptr_null(sink);
  ck_assert_logged(catalog);
  ck_assert_logged("not an etlhost catalog");
  char *text = test_read_file(catalog, NULL);
  ck_assert_str_eq(text, "name,value\nthis is a csv file, not a catalog\n"); /* untouched */
  free(text);
}
END_TEST

START_TEST(test_error_for_another_applications_database) {
  sqlite3 *db = NULL;
  ck_assert_int_eq(sqlite3_open(catalog, &db), SQLITE_OK);
  ck_assert_int_eq(sqlite3_exec(db, "CREATE TABLE invoices (n INTEGER)", NULL, NULL, NULL),
                   SQLITE_OK);
  sqlite3_close(db);
  void *sink = NULL;
  ck_assert_int_eq(try_open(catalog, NULL, &sink), ETL_ERR_CONFIG);
  ck_assert_logged(catalog);
  ck_assert_logged("not an etlhost catalog: the file is a SQLite database of another application");
  ck_assert_int_eq(t_sql_int(catalog, "SELECT count(*) FROM sqlite_master"), 1); /* untouched */
}
END_TEST

START_TEST(test_error_for_a_newer_schema) {
  void *sink = open_catalog();
  ops->destroy(&sink);
  sqlite3 *db = NULL;
  ck_assert_int_eq(sqlite3_open(catalog, &db), SQLITE_OK);
  ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  ck_assert_int_eq(try_open(catalog, NULL, &sink), ETL_ERR_CONFIG);
  ck_assert_logged("schema version 99, but this etlhost reads version 1; upgrade etlhost");
}
END_TEST

START_TEST(test_error_for_a_path_that_cannot_be_opened) {
  char *path = test_path("%s/no-such-dir/catalog.db", t_dir);
  void *sink = NULL;
  ck_assert_int_eq(try_open(path, NULL, &sink), ETL_ERR_CONFIG);
  ck_assert_logged(path);
  ck_assert_logged("cannot open");
  free(path);
}
END_TEST

START_TEST(test_error_for_a_locked_catalog) {
  void *sink = open_catalog();
  ops->destroy(&sink);
  sqlite3 *other = NULL; /* another writer holding the write lock */
  ck_assert_int_eq(sqlite3_open(catalog, &other), SQLITE_OK);
  ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
  ck_assert_int_eq(try_open(catalog, ", \"busyTimeoutMs\": 50", &sink), ETL_OK);
  ck_assert_int_eq(ops->begin_source(sink, "s", "jsonl"), ETL_ERR_TRANSIENT);
  ck_assert_logged(catalog);
  ck_assert_logged("locked by another process");
  ops->destroy(&sink);
  sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
  sqlite3_close(other);
}
END_TEST

START_TEST(test_config_errors_name_the_key) {
  void *sink = NULL;
  ck_assert_int_eq(ops->create("{\"pth\": \"x.db\"}", "{}", t_log, &sink), ETL_ERR_CONFIG);
  ck_assert_logged("sink.config.pth: unknown key for the sqlite sink (known keys: path, "
                   "busyTimeoutMs)");
  ck_assert_int_eq(ops->create("{\"path\": 42}", "{}", t_log, &sink), ETL_ERR_CONFIG);
  ck_assert_logged("sink.config.path: expected a string");
  ck_assert_int_eq(ops->create("{\"path\": \"\"}", "{}", t_log, &sink), ETL_ERR_CONFIG);
  ck_assert_logged("sink.config.path: must not be empty");
  ck_assert_int_eq(try_open(catalog, ", \"busyTimeoutMs\": -1", &sink), ETL_ERR_CONFIG);
  ck_assert_logged("sink.config.busyTimeoutMs: expected an integer");
  ck_assert_ptr_null(sink);
}
END_TEST

START_TEST(test_default_path) {
  char cwd[4096];
  ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
  ck_assert_int_eq(chdir(t_dir), 0);
  void *sink = NULL;
  etl_status st = ops->create(NULL, "{}", t_log, &sink);
  ops->destroy(&sink);
  ck_assert_int_eq(chdir(cwd), 0);
  ck_assert_int_eq(st, ETL_OK);
  char *path = test_path("%s/etlhost-catalog.db", t_dir);
  ck_assert_int_eq(access(path, F_OK), 0);
  free(path);
}
END_TEST

int main(void) {
  Suite *s = suite_create("sink_sqlite");
  TCase *tc = tcase_create("catalog");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_registry_finds_builtin_sinks);
  cat_add_cases(tc);
  tcase_add_test(tc, test_error_for_a_file_that_is_not_sqlite);
  tcase_add_test(tc, test_error_for_another_applications_database);
  tcase_add_test(tc, test_error_for_a_newer_schema);
  tcase_add_test(tc, test_error_for_a_path_that_cannot_be_opened);
  tcase_add_test(tc, test_error_for_a_locked_catalog);
  tcase_add_test(tc, test_config_errors_name_the_key);
  tcase_add_test(tc, test_default_path);
  suite_add_tcase(s, tc);
  return test_run_suite(s);
}
