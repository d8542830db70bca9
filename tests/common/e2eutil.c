/*
 * e2eutil.c -- mode-sim, etlhost and the catalog for the end-to-end suites (see e2eutil.h).
 */
#include "config.h"

#include "e2eutil.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

void test_mode_sim_start(struct test_server *srv, int port, const char *token,
                         const char *secret, const char *const *shape, const char *const *extra) {
  char *argv[40], portbuf[16];
  int n = 0;
  snprintf(portbuf, sizeof portbuf, "%d", port);
  argv[n++] = test_path("%s/tests/mode-sim/mode-sim", test_builddir());
  const char *base[] = {"--port",   portbuf, "--token",    token,
                        "--secret", secret,  "--rate-limit", "off"};
  for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
    argv[n++] = (char *)base[i];
  for (int i = 0; shape && shape[i] && n < 38; i++)
    argv[n++] = (char *)shape[i];
  for (int i = 0; extra && extra[i] && n < 38; i++)
    argv[n++] = (char *)extra[i];
  argv[n] = NULL;
  ck_assert_msg(test_server_start(srv, argv) == 0, "mode-sim did not start on port %d", port);
  free(argv[0]);
}

int test_etlhost_run(const char *const *args, const char *const *extra_env, char **err) {
  char *argv[32], *env[16];
  int n = 0, e = 0;
  argv[n++] = test_path("%s/host-api/etlhost", test_builddir());
  for (int i = 0; args && args[i] && n < 31; i++)
    argv[n++] = (char *)args[i];
  argv[n] = NULL;
  env[e++] = test_path("ETL_PLUGIN_PATH=%s/plugin/.libs", test_builddir());
  for (int i = 0; extra_env && extra_env[i] && e < 15; i++)
    env[e++] = (char *)extra_env[i];
  env[e] = NULL;
  int status = test_run(argv, env, NULL, err);
  free(env[0]);
  free(argv[0]);
  return status;
}

long long test_catalog_num(const char *dir, const char *sql) {
  char *path = test_path("%s/cat.db", dir);
  sqlite3 *h = NULL;
  sqlite3_stmt *st = NULL;
  long long v = -1;
  ck_assert_int_eq(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  ck_assert_msg(sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(h));
  if (sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(h);
  free(path);
  return v;
}
