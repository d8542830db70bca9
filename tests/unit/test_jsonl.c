/* The jsonl source on hostile lines: a line nested 300000 deep, one nested past the limit, an
 * id with \u0000; each is an error naming file:line and why, and the lines after it are read.
 * jsonl.c is compiled into this test with -DETL_PLUGIN_STATIC and driven through its
 * descriptor with a services table that records the diagnostics. */
#include "config.h"

#include <etl/plugin.h>

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct etl_plugin *jsonl_LTX_etl_plugin_entry(const struct etl_host_services *);

static char diags[8192]; /* "SEV|LOST|item|message\n" per diagnostic */

static void diag(struct etl_run *run, enum etl_severity sev, unsigned flags, const char *item,
                 const char *message) {
  (void)run;
  size_t n = strlen(diags);
  snprintf(diags + n, sizeof diags - n, "%s|%s|%s|%s\n", sev == ETL_SEV_ERROR ? "E" : "W",
           flags & ETL_DIAG_ITEM_LOST ? "lost" : "", item ? item : "", message);
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

/* Replays the file holding text; returns "kind id json\n" per entity (caller frees) and the
 * final status in *final. */
static char *replay(const char *text, const char *path, etl_status *final) {
  ck_assert_int_eq(test_write_file(path, text), 0);
  const struct etl_plugin *p = jsonl_LTX_etl_plugin_entry(&services);
  char *config = test_path("{\"path\": \"%s\"}", path);
  struct etl_open_args args = {
      .struct_size = sizeof args,
      .services = &services,
      .source_name = "replay",
      .config_json = config,
      .config_json_len = strlen(config),
      .source_config_json = "{}",
      .source_config_json_len = 2,
  };
  void *inst = NULL;
  diags[0] = '\0';
  ck_assert_int_eq(p->open(&args, &inst), ETL_OK);
  char *buf = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&buf, &size);
  const struct etl_entity *e = NULL;
  etl_status st;
  while ((st = p->next_entity(inst, &e)) == ETL_OK)
    fprintf(out, "%s %s %.*s\n", e->kind, e->id, (int)e->json_len, e->json);
  *final = st;
  p->close(inst);
  fclose(out);
  free(config);
  return buf;
}

/* n levels of [ then n of ] (caller frees). */
static char *brackets(size_t n) {
  char *buf = malloc(2 * n + 1);
  memset(buf, '[', n);
  memset(buf + n, ']', n);
  buf[2 * n] = '\0';
  return buf;
}

/* A record whose data nests n lists below it: n + 2 levels in all. */
static char *nested_record(const char *id, size_t n) {
  char *b = brackets(n);
  char *rec = test_path("{\"kind\":\"chart\",\"id\":\"%s\",\"data\":{\"deep\":%s}}\n", id, b);
  free(b);
  return rec;
}

START_TEST(bad_lines_are_skipped_and_the_file_goes_on) {
  char *dir = test_tmpdir();
  char *path = test_path("%s/in.jsonl", dir);
  char *deep = nested_record("deep", 300000);
  char *past = nested_record("past", 126);
  char *limit = nested_record("limit", 98); /* + the record and data: 100 levels */
  char *limit_lists = brackets(98);
  char *text = test_path(
      "{\"kind\":\"chart\",\"id\":\"c1\",\"source\":\"old\",\"data\":{\"n\":1}}\n" /* 1 */
      "%s"                                                                         /* 2 */
      "{\"kind\":\"chart\",\"id\":\"c2\",\"data\":{}}\n"                           /* 3 */
      "%s"                                                                         /* 4 */
      "{\"kind\":\"chart\",\"id\":\"a\\u0000b\",\"data\":{\"v\":2}}\n"             /* 5 */
      "{\"kind\":\"chart\",\"id\":\"a\",\"data\":{\"v\":1}}\n"                     /* 6 */
      "{\"kind\":\"chart\",\"id\":\"t\",\"data\":{\"s\":\"x\\u0000y\"}}\n"         /* 7 */
      "{\"kind\":\"chart\",\"id\":\"d\",\"id\":\"e\",\"data\":{}}\n"               /* 8 */
      "{\"kind\":\"ch\\u0000art\",\"id\":\"k\",\"data\":{}}\n"                     /* 9 */
      "%s"                                                                         /* 10 */
      "{\"kind\":\"chart\",\"id\":\"c3\",\"data\":{\"x\":[1,{\"y\":null}]},\"id2\":7.50}\n"
      "{\"kind\":\"chart\",\"id\":{\"no\":1},\"data\":{}}\n" /* 12 */
      "[1, 2\n",                                             /* 13 */
      deep, past, limit);
  etl_status final = ETL_OK;
  char *got = replay(text, path, &final);
  ck_assert_int_eq(final, ETL_DONE);
  char *want = test_path("chart c1 {\"data\":{\"n\":1}}\n"
                         "chart c2 {\"data\":{}}\n"
                         "chart a {\"data\":{\"v\":1}}\n"
                         "chart t {\"data\":{\"s\":\"x\\u0000y\"}}\n"
                         "chart limit {\"data\":{\"deep\":%s}}\n"
                         "chart c3 {\"data\":{\"x\":[1,{\"y\":null}]},\"id2\":7.50}\n",
                         limit_lists);
  ck_assert_str_eq(got, want);
  static const struct {
    int line;
    const char *message;
  } expected[] = {
      {2, "nested deeper than 100 levels"},
      {4, "nested deeper than 100 levels"},
      {5, "`id` contains \\u0000 (a NUL character), which would cut it short"},
      {8, "`id` appears twice"},
      {9, "`kind` contains \\u0000 (a NUL character)"},
      {12, "not an entity record (needs string `kind`, string `id` and object `data`)"},
      {13, "not JSON (parse error: premature EOF)"},
  };
  char *all = strdup("");
  for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
    char *more =
        test_path("%sE|lost|%s:%d|%s, skipped\n", all, path, expected[i].line, expected[i].message);
    free(all);
    all = more;
  }
  ck_assert_str_eq(diags, all);
  free(all);
  free(want);
  free(got);
  free(text);
  free(limit);
  free(limit_lists);
  free(past);
  free(deep);
  test_rmtree(dir);
  free(path);
  free(dir);
}
END_TEST

int main(void) {
  Suite *s = suite_create("jsonl");
  TCase *tc = tcase_create("hostile lines");
  tcase_add_test(tc, bad_lines_are_skipped_and_the_file_goes_on);
  suite_add_tcase(s, tc);
  return test_run_suite(s);
}
