/*
 * sink_testlib.h -- helpers shared by the sink and state store suites: a host_log whose output
 * the test can read, a fresh temporary directory per test, and one-line SQL queries against a
 * catalog. Header-only (static functions) so each suite stays one source file.
 */
#ifndef SINK_TESTLIB_H
#define SINK_TESTLIB_H

#include "log.h"
#include "testutil.h"

#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct host_log *t_log; /* the log handed to sinks in the current test */
static FILE *t_log_file;       /* where it writes (open_memstream) */
static char *t_log_buf;
static size_t t_log_len;
static size_t t_log_mark; /* ck_assert_logged_new looks only past this offset */
static char *t_dir;       /* a fresh temporary directory */

static inline void t_setup(void) {
  t_log_file = open_memstream(&t_log_buf, &t_log_len);
  ck_assert_ptr_nonnull(t_log_file);
  t_log = host_log_new(t_log_file, ETL_SEV_DEBUG);
  t_dir = test_tmpdir();
}

static inline void t_teardown(void) {
  host_log_free(&t_log);
  fclose(t_log_file);
  free(t_log_buf);
  t_log_buf = NULL;
  t_log_mark = 0;
  test_rmtree(t_dir);
  free(t_dir);
}

/* Everything logged so far in this test. */
static inline const char *t_logged(void) {
  fflush(t_log_file);
  return t_log_buf ? t_log_buf : "";
}

/* Forgets what was logged so far for ck_assert_logged_new. */
static inline void t_mark_log(void) {
  fflush(t_log_file);
  t_log_mark = t_log_len;
}

/* Asserts a message logged since the last t_mark_log() contains needle. */
#define ck_assert_logged_new(needle)                                                               \
  ck_assert_msg(strstr(t_logged() + t_log_mark, (needle)) != NULL,                                 \
                "no new log line has \"%s\"; new log was:\n%s", (needle), t_logged() + t_log_mark)

#define ck_assert_logged(needle)                                                                   \
  ck_assert_msg(strstr(t_logged(), (needle)) != NULL, "log lacks \"%s\"; log was:\n%s", (needle),  \
                t_logged())

/* Opens the SQLite file at path read-only and steps sql to its first row. */
static inline sqlite3_stmt *t_sql_row(const char *path, const char *sql, sqlite3 **db) {
  sqlite3_stmt *st = NULL;
  ck_assert_int_eq(sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  ck_assert_msg(sqlite3_prepare_v2(*db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
                sqlite3_errmsg(*db));
  ck_assert_msg(sqlite3_step(st) == SQLITE_ROW, "no row for %s", sql);
  return st;
}

/* Runs a query returning one integer in the SQLite file at path. */
static inline long long t_sql_int(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = t_sql_row(path, sql, &db);
  long long v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

/* Returns a malloc'd copy of a one-text-value query's result ("(null)" for NULL). */
static inline char *t_sql_text(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = t_sql_row(path, sql, &db);
  const unsigned char *t = sqlite3_column_text(st, 0);
  char *copy = strdup(t ? (const char *)t : "(null)");
  sqlite3_finalize(st);
  sqlite3_close(db);
  return copy;
}

#endif
