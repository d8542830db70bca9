/*
 * test_plugin_hosts.c -- the in-tree plugins under hosts that are not etlhost, loaded with plain
 * dlopen() as a third party would (issue 12):
 *
 *   - an older host, whose services table is the minimum the header allows (it ends after
 *     diag): a plugin must not call count, cancelled or test_step, which that table lacks;
 *   - a host of another major: the plugin returns its descriptor, refuses open(), and calls no
 *     service at all;
 *   - a host that cancels through cancelled() only, never interrupt(): Mode's connection test
 *     against a server that never answers returns ETL_ERR_CANCELLED within a second or two.
 *
 * The services after the allowed ones are traps: each records that it was called, so the test
 * fails (rather than crashes) on a plugin that reads past the table it was given.
 */
#include <etl/plugin.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"

/* The names of the trap services called, comma-separated (reset by each test). */
static char trapped[256];

static void trap(const char *name) {
  if (strlen(trapped) + strlen(name) + 2 < sizeof trapped) {
    strcat(trapped, name);
    strcat(trapped, ",");
  }
}

static void ok_diag(struct etl_run *run, enum etl_severity sev, unsigned flags, const char *item,
                    const char *message) {
  (void)run, (void)sev, (void)flags, (void)item, (void)message;
}
static void trap_diag(struct etl_run *run, enum etl_severity sev, unsigned flags, const char *item,
                      const char *message) {
  (void)run, (void)sev, (void)flags, (void)item, (void)message;
  trap("diag");
}
static void trap_count(struct etl_run *run, enum etl_counter c, int64_t delta) {
  (void)run, (void)c, (void)delta;
  trap("count");
}
static int trap_cancelled(struct etl_run *run) {
  (void)run;
  trap("cancelled");
  return 0;
}
static void trap_test_step(struct etl_run *run, const char *step, enum etl_test_verdict v,
                           const char *message) {
  (void)run, (void)step, (void)v, (void)message;
  trap("test_step");
}

/* A full table whose members past diag are traps, claiming to end after diag. */
static const struct etl_host_services minimal = {
    .struct_size = ETL_HOST_SERVICES_MIN_SIZE,
    .abi_major = ETL_ABI_MAJOR,
    .abi_minor = 0,
    .diag = ok_diag,
    .count = trap_count,
    .cancelled = trap_cancelled,
    .test_step = trap_test_step,
};

/* A host of the next major: every service is a trap. */
static const struct etl_host_services other_major = {
    .struct_size = sizeof other_major,
    .abi_major = ETL_ABI_MAJOR + 1,
    .abi_minor = 0,
    .diag = trap_diag,
    .count = trap_count,
    .cancelled = trap_cancelled,
    .test_step = trap_test_step,
};

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

static char *jsonl_config(void) {
  return test_path("{\"path\": [\"%s/demo/service.jsonl\", \"%s/demo/reports.jsonl\"]}",
                   test_fixtures_dir(), test_fixtures_dir());
}

/* Lines of the two demo files, each one record. */
static int fixture_records(void) {
  int n = 0;
  for (int i = 0; i < 2; i++) {
    char *path =
        test_path("%s/demo/%s", test_fixtures_dir(), i ? "reports.jsonl" : "service.jsonl");
    char *text = test_read_file(path, NULL);
    ck_assert_ptr_nonnull(text);
    for (const char *p = text; *p; p++)
      n += *p == '\n';
    free(text);
    free(path);
  }
  return n;
}

START_TEST(jsonl_under_the_minimum_table) {
  trapped[0] = '\0';
  struct loaded l = load("plugin/.libs/jsonl.so", &minimal);
  char *cfg = jsonl_config();
  struct etl_open_args args = open_args(&minimal, cfg);
  void *inst = NULL;
  ck_assert_int_eq(l.desc->open(&args, &inst), ETL_OK);
  ck_assert_int_eq(l.desc->test(inst), ETL_OK);
  const struct etl_entity *e;
  int n = 0, st;
  while ((st = l.desc->next_entity(inst, &e)) == ETL_OK)
    n++;
  ck_assert_int_eq(st, ETL_DONE);
  ck_assert_int_eq(n, fixture_records());
  l.desc->close(inst);
  ck_assert_msg(trapped[0] == '\0', "jsonl called services the table lacks: %s", trapped);
  free(cfg);
  dlclose(l.lib);
}
END_TEST

/* Under another major a plugin refuses open() -- with a good config and with a bad one, which it
 * must not report through diag either -- and calls nothing. */
static void refuses_other_major(const char *file, const char *good_config) {
  trapped[0] = '\0';
  struct loaded l = load(file, &other_major);
  ck_assert_uint_eq(l.desc->abi_major, ETL_ABI_MAJOR); /* so the host can name both versions */
  const char *configs[] = {good_config, "{\"nonsense\": 1}"};
  for (size_t i = 0; i < 2; i++) {
    struct etl_open_args args = open_args(&other_major, configs[i]);
    void *inst = (void *)&args;
    etl_status st = l.desc->open(&args, &inst);
    ck_assert_msg(st < 0, "%s: open under ABI %d returned %s", file, ETL_ABI_MAJOR + 1,
                  etl_status_name(st));
    ck_assert_ptr_null(inst);
  }
  ck_assert_msg(trapped[0] == '\0', "%s called services of another major: %s", file, trapped);
  dlclose(l.lib);
}

START_TEST(jsonl_under_another_major) {
  char *cfg = jsonl_config();
  refuses_other_major("plugin/.libs/jsonl.so", cfg);
  free(cfg);
}
END_TEST

START_TEST(mode_under_another_major) {
  refuses_other_major("plugin/.libs/mode.so",
                      "{\"hostPort\": \"http://127.0.0.1:1\", \"accessToken\": \"t\","
                      " \"accessTokenPassword\": \"s\", \"workspaceName\": \"acme\"}");
}
END_TEST

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
static void quiet_step(struct etl_run *run, const char *step, enum etl_test_verdict v,
                       const char *message) {
  (void)run, (void)step, (void)v, (void)message;
}
static void quiet_count(struct etl_run *run, enum etl_counter c, int64_t delta) {
  (void)run, (void)c, (void)delta;
}

static const struct etl_host_services cancelling = {
    .struct_size = sizeof cancelling,
    .abi_major = ETL_ABI_MAJOR,
    .abi_minor = ETL_ABI_MINOR,
    .diag = ok_diag,
    .count = quiet_count,
    .cancelled = timed_cancelled,
    .test_step = quiet_step,
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
  tcase_add_test(tc, jsonl_under_the_minimum_table);
  tcase_add_test(tc, jsonl_under_another_major);
  tcase_add_test(tc, mode_under_another_major);
  tcase_add_test(tc, mode_under_the_minimum_table);
  tcase_add_test(tc, mode_test_honours_cancelled);
  suite_add_tcase(s, tc);
  return test_run_suite(s);
}
