/*
 * e2eutil.h -- what the end-to-end suites that run the Mode plugin share: mode-sim started with
 * the suite's credentials, `etlhost` run with the build's plugins, and a number read from the
 * sqlite catalog a run wrote. Built into libtestutil (TESTUTIL_LIBS).
 */
#ifndef ETL_E2EUTIL_H
#define ETL_E2EUTIL_H

#include "testutil.h"

/* Starts mode-sim on `port` (0: any free one) taking the credentials token/secret, with the
 * rate limit off, then the flags of `shape` and of `extra` (each NULL-terminated, may be NULL;
 * 24 at most in all). Fails the test when it does not start. The strings are borrowed. */
void test_mode_sim_start(struct test_server *srv, int port, const char *token,
                         const char *secret, const char *const *shape, const char *const *extra);

/* Runs the built `etlhost` with args (NULL-terminated, after the program name) and the build's
 * plugins (ETL_PLUGIN_PATH), plus extra_env ("NAME=value", NULL-terminated, may be NULL).
 * Returns its exit status; its stderr goes to *err (caller frees). */
int test_etlhost_run(const char *const *args, const char *const *extra_env, char **err);

/* The first column of the first row sql returns from the sqlite catalog dir/cat.db, opened
 * read-only; -1 when there is no row. Fails the test when the catalog or sql is bad. */
long long test_catalog_num(const char *dir, const char *sql);

#endif
