/* ETL_PLUGIN_STATIC: the same plugin sources linked into one program, as a host that preloads
 * its plugins would (libltdl's NAME_LTX_ convention), without their entry symbols clashing.
 * jsonl.c and tests/plugins/fake.c are compiled into this test with -DETL_PLUGIN_STATIC. */
#include <etl/plugin.h>

#include "testutil.h"

#include <stdio.h>
#include <string.h>

const struct etl_plugin *jsonl_LTX_etl_plugin_entry(const struct etl_host_services *);
const struct etl_plugin *fake_LTX_etl_plugin_entry(const struct etl_host_services *);

static int diags;

static void diag(struct etl_run *run, enum etl_severity sev, unsigned flags, const char *item,
                 const char *message) {
  (void)run, (void)sev, (void)flags, (void)item, (void)message;
  diags++;
}
static void count(struct etl_run *run, enum etl_counter c, int64_t d) {
  (void)run, (void)c, (void)d;
}
static int cancelled(struct etl_run *run) {
  (void)run;
  return 0;
}
static void test_step(struct etl_run *run, const char *s, enum etl_test_verdict v, const char *m) {
  (void)run, (void)s, (void)v, (void)m;
}

static const struct etl_host_services services = {
    .struct_size = sizeof services,
    .abi_major = ETL_ABI_MAJOR,
    .abi_minor = ETL_ABI_MINOR,
    .diag = diag,
    .count = count,
    .cancelled = cancelled,
    .test_step = test_step,
};

START_TEST(both_entries_coexist_and_name_their_plugin) {
  const struct etl_plugin *j = jsonl_LTX_etl_plugin_entry(&services);
  const struct etl_plugin *f = fake_LTX_etl_plugin_entry(&services);
  ck_assert_ptr_nonnull(j);
  ck_assert_ptr_nonnull(f);
  ck_assert_str_eq(j->name, "jsonl");
  ck_assert_str_eq(f->name, "fake");
  ck_assert_uint_eq(j->abi_major, ETL_ABI_MAJOR);
  ck_assert_uint_eq(f->abi_major, ETL_ABI_MAJOR);
}
END_TEST

START_TEST(a_preloaded_plugin_runs_end_to_end) {
  const struct etl_plugin *f = fake_LTX_etl_plugin_entry(&services);
  static const char config[] = "{\"count\": 3, \"prefix\": \"s\"}";
  struct etl_open_args args = {
      .struct_size = sizeof args,
      .run = NULL,
      .services = &services,
      .source_name = "static",
      .config_json = config,
      .config_json_len = strlen(config),
      .source_config_json = "{}",
      .source_config_json_len = 2,
  };
  void *inst = NULL;
  ck_assert_int_eq(f->open(&args, &inst), ETL_OK);
  const struct etl_entity *e = NULL;
  int entities = 0;
  etl_status st;
  while ((st = f->next_entity(inst, &e)) == ETL_OK) {
    if (strcmp(e->kind, "state") != 0) {
      char id[16];
      snprintf(id, sizeof id, "s%d", entities);
      ck_assert_str_eq(e->id, id);
      entities++;
    }
  }
  ck_assert_int_eq(st, ETL_DONE);
  ck_assert_int_eq(entities, 3);
  f->close(inst);
}
END_TEST

int main(void) {
  Suite *s = suite_create("static_plugins");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, both_entries_coexist_and_name_their_plugin);
  tcase_add_test(tc, a_preloaded_plugin_runs_end_to_end);
  suite_add_tcase(s, tc);
  return test_run_suite(s);
}
