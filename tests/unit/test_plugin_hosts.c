/*
 * test_plugin_hosts.c -- the in-tree plugins under hosts that are not etlhost, loaded with plain
 * dlopen() as a third party would (issue 12):
 *
 *   - an older host, whose services table is the minimum the header allows (it ends after
 *     diag): Mode's test() failing to connect must not call count, cancelled or test_step,
 *     which that table lacks;
 *   - a host that cancels through cancelled() only, never interrupt(): Mode's connection test
 *     against a server that never answers returns ETL_ERR_CANCELLED within a second or two.
 *
 * The services after the allowed ones are traps: each records that it was called, so the test
 * fails (rather than crashes) on a plugin that reads past the table it was given.
 *
 * The rest of what a third-party host can see -- jsonl and mode under the minimum table over a
 * whole run, under another major, under de_DE.UTF-8, interrupted, reloaded -- is the job of the
 * conformance kit, host-api/check/etl-plugin-check.c, run by tests/e2e/test_plugin_check.sh.
 */
#include <etl/plugin.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_services.h"
#include "testutil.h"

/* trapped, the ok_* and trap_* services and the minimal table are the conformance kit's
 * (host-api/check/check_services.h). */

struct loaded {
  void *lib;
  const struct etl_plugin *desc;
};

static struct loaded load(const char *file, const struct etl_host_services *svc) {
  struct loaded l = {0};
  char *path = test_path("%s/%s", test_builddir(), file);
  l.lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  ck_assert_msg(l.lib != NULL, "dlopen %s: %s", path, dlerror());
  void *sym = dlsym(l.lib, ETL_PLUGIN_ENTRY_SYMBOL);
  ck_assert_msg(sym != NULL, "%s: no %s", path, ETL_PLUGIN_ENTRY_SYMBOL);
  etl_plugin_entry_fn entry;
  memcpy(&entry, &sym, sizeof entry);
  l.desc = entry(svc);
  ck_assert_msg(l.desc != NULL, "%s: the entry function returned NULL", path);
  free(path);
  return l;
}

static struct etl_open_args open_args(const struct etl_host_services *svc, const char *config) {
  return (struct etl_open_args){.struct_size = sizeof(struct etl_open_args),
                                .services = svc,
                                .source_name = "t",
                                .config_json = config,
                                .config_json_len = strlen(config),
                                .source_config_json = "{}",
                                .source_config_json_len = 2};
}

/* Mode's test() against a port nobody listens on, under the minimum table: it fails to connect
 * and reports no step (the table has no test_step), without reading past the table. */
START_TEST(mode_under_the_minimum_table) {
  trapped[0] = '\0';
  struct loaded l = load("plugin/.libs/mode.so", &minimal);
  const char *cfg = "{\"hostPort\": \"http://127.0.0.1:1\", \"accessToken\": \"t\","
                    " \"accessTokenPassword\": \"s\", \"workspaceName\": \"acme\"}";
  struct etl_open_args args = open_args(&minimal, cfg);
  void *inst = NULL;
  ck_assert_int_eq(l.desc->open(&args, &inst), ETL_OK);
  ck_assert_int_eq(l.desc->test(inst), ETL_ERR_CONNECT);
  l.desc->close(inst);
  ck_assert_msg(trapped[0] == '\0', "mode called services the table lacks: %s", trapped);
  dlclose(l.lib);
}
END_TEST

/* ---- cancelling through cancelled() only ---------------------------------------------------- */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cancel_at; /* monotonic seconds after which cancelled() is true */

static int timed_cancelled(struct etl_run *run) {
  (void)run;
  return now_s() >= cancel_at;
}
static const struct etl_host_services cancelling = {
    .struct_size = sizeof cancelling,
    .abi_major = ETL_ABI_MAJOR,
    .abi_minor = ETL_ABI_MINOR,
    .diag = ok_diag,
    .count = ok_count,
    .cancelled = timed_cancelled,
    .test_step = ok_test_step,
};

/* mode-sim answering every API request a minute late: a hung server. The host cancels after
 * 0.5 s through cancelled() alone; the test must end within about a second of that. */
START_TEST(mode_test_honours_cancelled) {
  struct test_server srv;
  char *sim = test_path("%s/tests/mode-sim/mode-sim", test_builddir());
  char *argv[] = {sim, "--latency-ms", "60000", NULL};
  ck_assert_msg(test_server_start(&srv, argv) == 0, "mode-sim did not start");
  struct loaded l = load("plugin/.libs/mode.so", &cancelling);
  char *cfg = test_path("{\"hostPort\": \"%s\", \"accessToken\": \"test-token\","
                        " \"accessTokenPassword\": \"test-secret\", \"workspaceName\": \"acme\"}",
                        srv.base_url);
  struct etl_open_args args = open_args(&cancelling, cfg);
  void *inst = NULL;
  ck_assert_int_eq(l.desc->open(&args, &inst), ETL_OK);
  double t0 = now_s();
  cancel_at = t0 + 0.5;
  etl_status st = l.desc->test(inst);
  double took = now_s() - t0;
  l.desc->close(inst);
  test_server_stop(&srv);
  ck_assert_msg(st == ETL_ERR_CANCELLED, "test() returned %s", etl_status_name(st));
  ck_assert_msg(took < 2.0, "test() took %.1f s to notice cancelled() (asked at 0.5 s)", took);
  free(cfg);
  free(sim);
  dlclose(l.lib);
}
END_TEST

int main(void) {
  Suite *s = suite_create("plugin_hosts");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, mode_under_the_minimum_table);
  tcase_add_test(tc, mode_test_honours_cancelled);
  suite_add_tcase(s, tc);
  return test_run_suite(s);
}
