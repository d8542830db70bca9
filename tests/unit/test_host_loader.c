/* Loading plugins: the search order, and one clear message for each way a plugin can be
 * unusable (tests/plugins/ builds the broken ones). Also the CLI commands that only load. */
#include "config.h"

#include "loader.h"
#include "log.h"
#include "services.h"

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

static char *test_plugin_dir(void) {
  return test_path("%s/tests/plugins/.libs", test_builddir());
}

/* Loads `name` with --plugin-dir = the test plugins; returns the status, the log in *messages. */
static etl_status load_one(const char *plugin_dir, const char *name, char **messages, char **path) {
  char *buf = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&buf, &size);
  struct host_log *log = host_log_new(out, ETL_SEV_DEBUG);
  struct host_loader *loader = host_loader_new(plugin_dir, host_services_table(), log);
  ck_assert_ptr_nonnull(loader);
  const struct host_plugin *p = NULL;
  etl_status st = host_loader_load(loader, name, &p);
  if (path)
    *path = p ? strdup(p->path) : NULL;
  if (st == ETL_OK) {
    ck_assert_str_eq(p->desc->name, name);
    const struct host_plugin *again = NULL;
    ck_assert_int_eq(host_loader_load(loader, name, &again), ETL_OK);
    ck_assert_ptr_eq(again, p); /* loaded once */
  } else {
    ck_assert_ptr_null(p);
  }
  host_loader_free(&loader);
  ck_assert_ptr_null(loader);
  host_log_free(&log);
  fclose(out);
  *messages = buf;
  return st;
}

static const struct {
  const char *plugin;
  const char *message;
} refusals[] = {
    {"wrong_major", "wrong_major.so: plugin ABI 2.3 is not compatible with this host's ABI 1.0 "
                    "(major versions differ)"},
    {"short_desc", "short_desc.so: malformed descriptor: struct_size"},
    {"null_callbacks", "null_callbacks.so: malformed descriptor: `next_entity` is NULL"},
    {"no_entry", "no_entry.so: not an etlhost plugin: no `etl_plugin_entry` symbol"},
    {"no_such_plugin", "no plugin named `no_such_plugin` (looked for no_such_plugin.so in: "},
    {"../fake", "plugin `../fake`: not a plugin name"},
};

START_TEST(broken_plugins_are_refused_with_their_reason) {
  char *dir = test_plugin_dir();
  char *messages = NULL;
  etl_status st = load_one(dir, refusals[_i].plugin, &messages, NULL);
  ck_assert_int_eq(st, ETL_ERR_CONFIG);
  ck_assert_msg(strstr(messages, refusals[_i].message) != NULL, "expected\n  %s\nin\n  %s",
                refusals[_i].message, messages);
  if (strcmp(refusals[_i].plugin, "no_such_plugin") == 0)
    ck_assert_ptr_nonnull(strstr(messages, dir));   /* the directories searched are listed */
  if (strcmp(refusals[_i].plugin, "no_entry") == 0) /* lt_dlerror() quoted */
    ck_assert_ptr_nonnull(strstr(messages, "undefined symbol"));
  free(messages);
  free(dir);
}
END_TEST

START_TEST(good_plugin_loads) {
  char *dir = test_plugin_dir();
  char *messages = NULL, *path = NULL;
  ck_assert_int_eq(load_one(dir, "fake", &messages, &path), ETL_OK);
  ck_assert_str_eq(messages ? messages : "", "");
  ck_assert_ptr_nonnull(strstr(path, "tests/plugins/.libs/fake.so"));
  free(path);
  free(messages);
  free(dir);
}
END_TEST

START_TEST(search_order_plugin_dir_then_env_path) {
  /* A directory given with --plugin-dir wins over ETL_PLUGIN_PATH, whose entries are searched
   * left to right (an empty directory first here). */
  char *tmp = test_tmpdir();
  char *empty = test_path("%s/empty", tmp);
  char *first = test_path("%s/first", tmp);
  ck_assert_int_eq(mkdir(empty, 0700), 0);
  ck_assert_int_eq(mkdir(first, 0700), 0);
  char *real = test_path("%s/plugin/.libs/jsonl.so", test_builddir());
  char *link = test_path("%s/jsonl.so", first);
  ck_assert_int_eq(symlink(real, link), 0);
  char *env = test_path("%s:%s/plugin/.libs", empty, test_builddir());
  char *saved = getenv("ETL_PLUGIN_PATH") ? strdup(getenv("ETL_PLUGIN_PATH")) : NULL;
  setenv("ETL_PLUGIN_PATH", env, 1);
  char *messages = NULL, *path = NULL;
  ck_assert_int_eq(load_one(first, "jsonl", &messages, &path), ETL_OK);
  ck_assert_str_eq(path, link);
  free(path);
  free(messages);
  ck_assert_int_eq(load_one(NULL, "jsonl", &messages, &path), ETL_OK);
  ck_assert_ptr_nonnull(strstr(path, "/plugin/.libs/jsonl.so"));
  free(path);
  free(messages);
  if (saved)
    setenv("ETL_PLUGIN_PATH", saved, 1);
  free(saved);
  test_rmtree(tmp);
  free(env);
  free(link);
  free(real);
  free(first);
  free(empty);
  free(tmp);
}
END_TEST

/* Runs etlhost with args; returns its exit status. */
static int etlhost(char **out, char **err, const char *a1, const char *a2, const char *a3,
                   const char *a4) {
  char *bin = test_path("%s/host-api/etlhost", test_builddir());
  char *argv[] = {bin, (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL};
  int rc = test_run(argv, NULL, out, err);
  free(bin);
  return rc;
}

START_TEST(cli_plugins_lists_plugins_with_abi_version) {
  char *out = NULL, *err = NULL;
  ck_assert_int_eq(etlhost(&out, &err, "plugins", NULL, NULL, NULL), 0);
  ck_assert_ptr_nonnull(strstr(out, "jsonl "));
  ck_assert_ptr_nonnull(strstr(out, " 1.0 "));
  ck_assert_ptr_nonnull(strstr(out, "plugin/.libs/jsonl.so"));
  free(out);
  free(err);
  char *dir = test_plugin_dir();
  ck_assert_int_eq(etlhost(&out, &err, "--plugin-dir", dir, "plugins", NULL), 0);
  ck_assert_ptr_nonnull(strstr(out, "fake             9.9.9      1.0"));
  ck_assert_ptr_nonnull(strstr(out, "jsonl"));
  /* The broken ones are named with their reason, not listed as plugins. */
  ck_assert_ptr_null(strstr(out, "wrong_major"));
  ck_assert_ptr_nonnull(strstr(err, "plugin ABI 2.3 is not compatible with this host's ABI 1.0"));
  ck_assert_ptr_nonnull(strstr(err, "no_entry.so: not an etlhost plugin"));
  free(out);
  free(err);
  free(dir);
}
END_TEST

START_TEST(cli_schema_prints_json_schema) {
  char *out = NULL, *err = NULL;
  ck_assert_int_eq(etlhost(&out, &err, "schema", "jsonl", NULL, NULL), 0);
  char ebuf[256];
  yajl_val v = yajl_tree_parse(out, ebuf, sizeof ebuf);
  ck_assert_msg(v != NULL, "schema is not JSON: %s", ebuf);
  const char *path[] = {"properties", "path", NULL};
  ck_assert_ptr_nonnull(yajl_tree_get(v, path, yajl_t_object));
  yajl_tree_free(v);
  free(out);
  free(err);
  ck_assert_int_eq(etlhost(&out, &err, "schema", "nope", NULL, NULL), 2);
  ck_assert_ptr_nonnull(strstr(err, "no plugin named `nope`"));
  free(out);
  free(err);
}
END_TEST

START_TEST(cli_usage_and_version) {
  char *out = NULL, *err = NULL;
  ck_assert_int_eq(etlhost(&out, &err, "--version", NULL, NULL, NULL), 0);
  ck_assert_ptr_nonnull(strstr(out, "plugin ABI 1.0"));
  free(out);
  free(err);
  ck_assert_int_eq(etlhost(&out, &err, "--help", NULL, NULL, NULL), 0);
  ck_assert_ptr_nonnull(strstr(out, "Usage: etlhost"));
  free(out);
  free(err);
  ck_assert_int_eq(etlhost(&out, &err, NULL, NULL, NULL, NULL), 2);
  free(out);
  free(err);
  ck_assert_int_eq(etlhost(&out, &err, "frobnicate", NULL, NULL, NULL), 2);
  ck_assert_ptr_nonnull(strstr(err, "unknown command `frobnicate`"));
  free(out);
  free(err);
  ck_assert_int_eq(etlhost(&out, &err, "run", NULL, NULL, NULL), 2);
  free(out);
  free(err);
  ck_assert_int_eq(etlhost(&out, &err, "--plugin-dir", "/nonexistent", "plugins", NULL), 2);
  ck_assert_ptr_nonnull(strstr(err, "--plugin-dir /nonexistent: not a directory"));
  free(out);
  free(err);
  ck_assert_int_eq(etlhost(&out, &err, "--bogus", "plugins", NULL, NULL), 2);
  free(out);
  free(err);
}
END_TEST

START_TEST(cli_run_refuses_other_major_naming_both) {
  char *tmp = test_tmpdir();
  char *wf = test_path("%s/wf.yaml", tmp);
  char *yaml = test_path("source:\n  type: wrong_major\n  serviceName: s\n"
                         "  serviceConnection: {config: {}}\n"
                         "sink: {type: file, config: {path: %s/out.jsonl}}\n"
                         "workflowConfig: {stateStore: %s/state.db}\n",
                         tmp, tmp);
  ck_assert_int_eq(test_write_file(wf, yaml), 0);
  char *dir = test_plugin_dir();
  char *out = NULL, *err = NULL;
  ck_assert_int_eq(etlhost(&out, &err, "--plugin-dir", dir, "run", wf), 2);
  ck_assert_ptr_nonnull(strstr(err, "plugin ABI 2.3 is not compatible with this host's ABI 1.0"));
  free(out);
  free(err);
  test_rmtree(tmp);
  free(dir);
  free(yaml);
  free(wf);
  free(tmp);
}
END_TEST

int main(void) {
  Suite *s = suite_create("host_loader");
  TCase *tc = tcase_create("loader");
  tcase_add_loop_test(tc, broken_plugins_are_refused_with_their_reason, 0,
                      (int)(sizeof refusals / sizeof refusals[0]));
  tcase_add_test(tc, good_plugin_loads);
  tcase_add_test(tc, search_order_plugin_dir_then_env_path);
  tcase_add_test(tc, cli_plugins_lists_plugins_with_abi_version);
  tcase_add_test(tc, cli_schema_prints_json_schema);
  tcase_add_test(tc, cli_usage_and_version);
  tcase_add_test(tc, cli_run_refuses_other_major_naming_both);
  suite_add_tcase(s, tc);
  return test_run_suite(s);
}
