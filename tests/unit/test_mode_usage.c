/*
 * test_mode_usage.c -- Mode's lifetime view counts become daily increases (plugin/mode/usage.h):
 * first sighting, once per day, increase, reset, the ledger's trip through the state, the
 * entity rewrite, and the clock seam.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "entities.h"
#include "incremental.h"
#include "testutil.h"
#include "usage.h"

/* One run after another over one report; each step is a run on `day` seeing `total`. */
static const struct {
  const char *day;
  long total;
  int due;    /* a record is sent */
  long count; /* its count */
} steps[] = {
    {"2026-03-01", 40, 1, 40}, /* first sighting: the whole total */
    {"2026-03-01", 45, 0, 0},  /* same day again: nothing (the 5 count tomorrow) */
    {"2026-03-02", 47, 1, 7},  /* the increase since the last total sent */
    {"2026-03-03", 47, 1, 0},  /* a day without views */
    {"2026-03-05", 3, 1, 3},   /* the counter went down (reset): views since, never negative */
    {"2026-03-04", 9, 0, 0},   /* the clock went back: nothing */
    {"2026-03-06", 10, 1, 7},
};

/* Each step is a separate run: the ledger goes through the state JSON between runs. */
static char *state_of(const struct mode_usage *u) {
  struct mode_incr inc = {.usage = u};
  struct mode_entity *st = mode_incr_state_entity(&inc, "");
  ck_assert_ptr_nonnull(st);
  char *json = strdup(st->json);
  mode_entity_free(st);
  return json;
}

START_TEST(daily_increase_across_runs) {
  char *state = NULL, err[256];
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    struct mode_usage u = {0};
    if (state)
      ck_assert_int_eq(mode_usage_load(&u, state, strlen(state), err, sizeof err), 0);
    long count = -1;
    int due = mode_usage_due(&u, "r1", steps[i].total, steps[i].day, &count);
    ck_assert_msg(due == steps[i].due, "step %zu: due %d", i, due);
    if (due)
      ck_assert_msg(count == steps[i].count, "step %zu: count %ld, want %ld", i, count,
                    steps[i].count);
    /* A report listed twice in one run is decided once. */
    ck_assert_int_eq(mode_usage_due(&u, "r1", steps[i].total + 100, steps[i].day, &count), 0);
    free(state);
    state = state_of(&u);
    mode_usage_clear(&u);
  }
  free(state);
}
END_TEST

START_TEST(unseen_reports_keep_their_entry) {
  struct mode_usage u = {0};
  char err[256];
  long count = 0;
  ck_assert_int_eq(mode_usage_due(&u, "a", 5, "2026-01-01", &count), 1);
  ck_assert_int_eq(mode_usage_due(&u, "b", 9, "2026-01-01", &count), 1);
  char *state = state_of(&u);
  mode_usage_clear(&u);
  /* Day 2 sees only b; day 3 sees a again: its increase, not a first sighting. */
  ck_assert_int_eq(mode_usage_load(&u, state, strlen(state), err, sizeof err), 0);
  ck_assert_int_eq(mode_usage_due(&u, "b", 10, "2026-01-02", &count), 1);
  free(state);
  state = state_of(&u);
  mode_usage_clear(&u);
  ck_assert_int_eq(mode_usage_load(&u, state, strlen(state), err, sizeof err), 0);
  ck_assert_int_eq(mode_usage_due(&u, "a", 8, "2026-01-03", &count), 1);
  ck_assert_int_eq(count, 3);
  mode_usage_clear(&u);
  free(state);
}
END_TEST

static const struct {
  const char *state;
  int rc;
} stored[] = {
    {"{\"version\":1,\"stamp\":\"x\",\"reports\":{}}", 0}, /* before usage was kept */
    {"{\"usage\":{}}", 0},
    {"{\"usage\":{\"r\":[3,\"2026-01-01\"]}}", 0},
    {"not json", -1},
    {"{\"usage\":[]}", -1},
    {"{\"usage\":{\"r\":[-3,\"2026-01-01\"]}}", -1},
    {"{\"usage\":{\"r\":[3,\"yesterday\"]}}", -1},
    {"{\"usage\":{\"r\":3}}", -1},
};

START_TEST(stored_ledger_is_checked) {
  struct mode_usage u = {0};
  char err[256] = "";
  const char *s = stored[_i].state;
  ck_assert_int_eq(mode_usage_load(&u, s, strlen(s), err, sizeof err), stored[_i].rc);
  if (stored[_i].rc != 0) {
    ck_assert_msg(*err != '\0', "no reason for %s", s);
    ck_assert_uint_eq(u.n, 0);
  }
  mode_usage_clear(&u);
}
END_TEST

static long json_count(const struct mode_entity *e, const char **date) {
  static char day[16];
  yajl_val root = yajl_tree_parse(e->json, NULL, 0);
  const char *cp[] = {"data", "count", NULL}, *dp[] = {"data", "date", NULL};
  yajl_val c = yajl_tree_get(root, cp, yajl_t_number);
  yajl_val d = yajl_tree_get(root, dp, yajl_t_string);
  long v = c ? (long)YAJL_GET_INTEGER(c) : -1;
  snprintf(day, sizeof day, "%s", d ? YAJL_GET_STRING(d) : "");
  *date = day;
  yajl_tree_free(root);
  return v;
}

START_TEST(entity_is_rewritten_or_retained) {
  struct mode_entity_ctx ctx = {"svc", "https://app.mode.com", "acme", 1};
  struct mode_usage u = {0};
  char err[256];
  const char *date = NULL;
  const char *state = "{\"usage\":{\"r1\":[40,\"2026-03-01\"],\"r2\":[7,\"2026-03-02\"]}}";
  ck_assert_int_eq(mode_usage_load(&u, state, strlen(state), err, sizeof err), 0);
  /* The crawl builds the record from Mode's lifetime total (and its own clock). */
  struct mode_entity *e = mode_entity_usage(&ctx, "r1", 52, "1999-01-01");
  ck_assert_int_eq(mode_usage_rewrite(&u, &ctx, "2026-03-02", &e), 0);
  ck_assert_str_eq(e->kind, "usage");
  ck_assert_str_eq(e->id, "r1");
  ck_assert_int_eq(json_count(e, &date), 12);
  ck_assert_str_eq(date, "2026-03-02");
  ck_assert_ptr_nonnull(strstr(e->json, "\"fullyQualifiedName\":\"svc.r1\""));
  mode_entity_free(e);
  /* r2 was sent today already: a retain of it instead. */
  e = mode_entity_usage(&ctx, "r2", 9, "1999-01-01");
  ck_assert_int_eq(mode_usage_rewrite(&u, &ctx, "2026-03-02", &e), 0);
  ck_assert_str_eq(e->kind, "retain");
  ck_assert_ptr_nonnull(strstr(e->json, "\"kind\":\"usage\""));
  ck_assert_ptr_nonnull(strstr(e->json, "\"ids\":[\"r2\"]"));
  mode_entity_free(e);
  mode_usage_clear(&u);
}
END_TEST

START_TEST(clock_seam) {
  char day[11];
  ck_assert_int_eq(mode_usage_today("2031-12-24", day), 1);
  ck_assert_str_eq(day, "2031-12-24");
  ck_assert_int_eq(mode_usage_today("24/12/2031", day), -1);
  ck_assert_int_eq(strlen(day), 10);
  ck_assert_int_eq(mode_usage_today(NULL, day), 0);
  ck_assert(day[4] == '-' && day[7] == '-');
}
END_TEST

int main(void) {
  Suite *s = suite_create("mode_usage");
  TCase *tc = tcase_create("usage");
  tcase_add_test(tc, daily_increase_across_runs);
  tcase_add_test(tc, unseen_reports_keep_their_entry);
  tcase_add_loop_test(tc, stored_ledger_is_checked, 0, (int)(sizeof stored / sizeof stored[0]));
  tcase_add_test(tc, entity_is_rewritten_or_retained);
  tcase_add_test(tc, clock_seam);
  suite_add_tcase(s, tc);
  return test_run_suite(s);
}
