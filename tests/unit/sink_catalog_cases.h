/*
 * sink_catalog_cases.h -- the behaviour every catalog sink shares (sqlite, postgres): upsert by
 * (source, kind, id), change tracking, deletion marking behind the fail-safe, run history, a
 * killed run's row, state committed atomically with the data, rejected records. Included by
 * test_sink_sqlite.c and test_sink_postgres.c, which define before including it:
 *
 *   CAT_TYPE                                  the sink's type, a string literal
 *   static const struct host_sink_ops *ops;   set by the suite's setup
 *   static etl_status cat_try_open(void **sink);  creates the sink on the test's catalog
 *   static long long cat_int(const char *sql);    one integer (a boolean as 0/1) from the catalog
 *   static char *cat_text(const char *sql);       one text value, malloc'd
 *
 * The SQL in the cases is the dialect both databases share.
 */
#ifndef SINK_CATALOG_CASES_H
#define SINK_CATALOG_CASES_H

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void *open_catalog(void) {
  void *sink = NULL;
  etl_status st = cat_try_open(&sink);
  ck_assert_msg(st == ETL_OK, "create: %s; log:\n%s", etl_status_name(st), t_logged());
  return sink;
}

static void put(void *sink, const char *source, const char *kind, const char *id,
                const char *json) {
  struct host_record rec = {source, kind, id, json, strlen(json)};
  bool rejected = true;
  ck_assert_int_eq(ops->write(sink, &rec, &rejected), ETL_OK);
  ck_assert_msg(!rejected, "%s %s rejected; log:\n%s", kind, id, t_logged());
}

/* The tests of the sweep itself deliver catalogs of 2-4 rows, where one deletion is more than
 * the fail-safe's default share: they lift it; the fail-safe's own test sets it. */
static double fail_safe = 100;

static void end(void *sink, const char *source, bool complete) {
  struct host_source_outcome o = {
      .complete = complete, .run_id = 100, .fail_safe_threshold = fail_safe};
  ck_assert_int_eq(ops->commit(sink), ETL_OK);
  ck_assert_int_eq(ops->end_source(sink, source, &o), ETL_OK);
}

/* One whole run of source "s" delivering charts with the given ids, each with data {"v":v}. */
static void run_charts(const char *const *ids, int v, bool complete) {
  void *sink = open_catalog();
  char json[64];
  snprintf(json, sizeof json, "{\"data\": {\"v\": %d}}", v);
  ck_assert_int_eq(ops->begin_source(sink, "s", "jsonl"), ETL_OK);
  for (size_t i = 0; ids[i]; i++)
    put(sink, "s", "chart", ids[i], json);
  end(sink, "s", complete);
  ops->destroy(&sink);
  ck_assert_ptr_null(sink);
}

static long long chart_int(const char *id, const char *column) {
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT %s FROM entities WHERE source='s' AND kind='chart' AND id='%s'",
           column, id);
  return cat_int(sql);
}

START_TEST(test_same_id_twice_is_one_row) {
  void *sink = open_catalog();
  ck_assert_int_eq(ops->begin_source(sink, "s", "jsonl"), ETL_OK);
  put(sink, "s", "chart", "A", "{\"data\": {\"v\": 1}}");
  put(sink, "s", "chart", "A", "{\"data\": {\"v\": 1}}");
  put(sink, "s", "dashboard", "A", "{\"data\": {}}"); /* same id, other kind: its own row */
  put(sink, "other", "chart", "A", "{\"data\": {}}"); /* same id, other source */
  end(sink, "s", true);
  ops->destroy(&sink);
  ck_assert_int_eq(cat_int("SELECT count(*) FROM entities"), 3);
  ck_assert_int_eq(cat_int("SELECT count(*) FROM entities WHERE id='A' AND "
                                      "kind='chart' AND source='s'"),
                   1);
}
END_TEST

START_TEST(test_changed_data_updates_unchanged_does_not_bump) {
  static const char *const ab[] = {"A", "B", NULL};
  run_charts(ab, 1, true);
  char *b_changed_at = cat_text("SELECT changed_at FROM entities WHERE id='B'");

  /* Run 2: A changes, B is delivered again byte for byte. */
  void *sink = open_catalog();
  ck_assert_int_eq(ops->begin_source(sink, "s", "jsonl"), ETL_OK);
  put(sink, "s", "chart", "A", "{\"data\": {\"v\": 2}}");
  put(sink, "s", "chart", "B", "{\"data\": {\"v\": 1}}");
  end(sink, "s", true);
  ops->destroy(&sink);

  char *a_json = cat_text("SELECT json FROM entities WHERE id='A'");
  ck_assert_str_eq(a_json, "{\"data\": {\"v\": 2}}");
  free(a_json);
  ck_assert_int_eq(chart_int("A", "first_seen"), 1);
  ck_assert_int_eq(chart_int("A", "changed_run"), 2);
  ck_assert_int_eq(chart_int("B", "changed_run"), 1); /* not bumped */
  ck_assert_int_eq(chart_int("B", "last_seen"), 2);   /* but seen */
  char *b_after = cat_text("SELECT changed_at FROM entities WHERE id='B'");
  ck_assert_str_eq(b_after, b_changed_at);
  free(b_after);
  free(b_changed_at);
  ck_assert_int_eq(cat_int("SELECT inserted FROM runs WHERE run_id=2"), 0);
  ck_assert_int_eq(cat_int("SELECT updated FROM runs WHERE run_id=2"), 1);
  ck_assert_int_eq(cat_int("SELECT unchanged FROM runs WHERE run_id=2"), 1);
}
END_TEST

START_TEST(test_complete_run_marks_unseen_deleted) {
  static const char *const abc[] = {"A", "B", "C", NULL};
  static const char *const ab[] = {"A", "B", NULL};
  run_charts(abc, 1, true);
  run_charts(ab, 1, true);
  ck_assert_int_eq(chart_int("C", "deleted"), 1);
  ck_assert_int_eq(chart_int("C", "deleted_at IS NOT NULL"), 1);
  ck_assert_int_eq(chart_int("A", "deleted"), 0);
  ck_assert_int_eq(chart_int("B", "deleted"), 0);
  ck_assert_int_eq(cat_int("SELECT deleted FROM runs WHERE run_id=2"), 1);
  ck_assert_int_eq(cat_int("SELECT count(*) FROM entities"), 3); /* kept, marked */
}
END_TEST

/* A complete run that would mark more than failSafeThreshold (default 20%) of the source
 * deleted marks nothing, records the run as not complete, and says why in one line; within the
 * threshold it marks them. */
START_TEST(test_fail_safe_holds_back_a_mass_deletion) {
  static const char *const ten[] = {"A", "B", "C", "D", "E", "F", "G", "H", "I", "J", NULL};
  static const char *const seven[] = {"A", "B", "C", "D", "E", "F", "G", NULL};
  static const char *const nine[] = {"A", "B", "C", "D", "E", "F", "G", "H", "I", NULL};
  fail_safe = 0; /* the default */
  run_charts(ten, 1, true);
  run_charts(seven, 1, true); /* 3 of 10: 30% */
  ck_assert_int_eq(cat_int("SELECT count(*) FROM entities WHERE deleted"), 0);
  ck_assert_int_eq(cat_int("SELECT complete FROM runs WHERE run_id=2"), 0);
  ck_assert_msg(strstr(t_logged(), "would mark 3 of 10 entities deleted (30.0%, more than "
                                   "failSafeThreshold 20%): nothing marked deleted") != NULL,
                "%s", t_logged());
  run_charts(ten, 1, true);
  run_charts(nine, 1, true); /* 1 of 10: within the default */
  ck_assert_int_eq(chart_int("J", "deleted"), 1);
  fail_safe = 40;
  run_charts(seven, 1, true); /* 2 of 9 live */
  ck_assert_int_eq(chart_int("H", "deleted"), 1);
  ck_assert_int_eq(chart_int("I", "deleted"), 1);
  fail_safe = 100;
}
END_TEST

START_TEST(test_partial_run_marks_nothing) {
  static const char *const abc[] = {"A", "B", "C", NULL};
  static const char *const a[] = {"A", NULL};
  run_charts(abc, 1, true);
  run_charts(a, 1, false);
  ck_assert_int_eq(cat_int("SELECT count(*) FROM entities WHERE deleted"), 0);
  ck_assert_int_eq(cat_int("SELECT complete FROM runs WHERE run_id=2"), 0);
}
END_TEST

START_TEST(test_reappearing_entity_is_undeleted) {
  static const char *const ab[] = {"A", "B", NULL};
  static const char *const a[] = {"A", NULL};
  run_charts(ab, 1, true);
  run_charts(a, 1, true);
  ck_assert_int_eq(chart_int("B", "deleted"), 1);
  run_charts(ab, 1, true);
  ck_assert_int_eq(chart_int("B", "deleted"), 0);
  ck_assert_int_eq(chart_int("B", "deleted_at IS NULL"), 1);
  ck_assert_int_eq(chart_int("B", "changed_run"), 3); /* the revival is a change */
}
END_TEST

START_TEST(test_other_sources_are_not_swept) {
  static const char *const a[] = {"A", NULL};
  void *sink = open_catalog();
  ck_assert_int_eq(ops->begin_source(sink, "t", "jsonl"), ETL_OK);
  put(sink, "t", "chart", "X", "{\"data\": {}}");
  end(sink, "t", true);
  ops->destroy(&sink);
  run_charts(a, 1, true);
  ck_assert_int_eq(cat_int("SELECT deleted FROM entities WHERE source='t'"), 0);
}
END_TEST

/* A run killed after storing state, resumed by the next run from that state: what the killed
 * run delivered is not "unseen" for the run that completes. */
START_TEST(test_resumed_run_spares_what_the_killed_run_delivered) {
  static const char *const abc[] = {"A", "B", "C", NULL};
  static const char *const c[] = {"C", NULL};
  run_charts(abc, 1, true);
  void *sink = open_catalog();
  ck_assert_int_eq(ops->begin_source(sink, "s", "jsonl"), ETL_OK);
  put(sink, "s", "chart", "B", "{\"data\": {\"v\": 1}}");
  ck_assert_int_eq(ops->store_state(sink, "s", "{\"after\": \"B\"}", 15), ETL_OK);
  ops->destroy(&sink); /* killed: no end_source */
  run_charts(c, 1, true);
  ck_assert_int_eq(chart_int("A", "deleted"), 1);
  ck_assert_int_eq(chart_int("B", "deleted"), 0);
  ck_assert_int_eq(chart_int("C", "deleted"), 0);
}
END_TEST

START_TEST(test_run_history) {
  void *sink = open_catalog();
  ck_assert_int_eq(ops->begin_source(sink, "s", "jsonl"), ETL_OK);
  put(sink, "s", "chart", "A", "{\"data\": {}}");
  put(sink, "s", "chart", "B", "{\"data\": {}}");
  end(sink, "s", true);
  ck_assert_int_eq(ops->begin_source(sink, "t", "mode"), ETL_OK);
  put(sink, "t", "chart", "A", "{\"data\": {}}");
  end(sink, "t", false);
  ops->destroy(&sink);
  /* one catalog run, a row per source */
  ck_assert_int_eq(cat_int("SELECT count(DISTINCT run_id) FROM runs"), 1);
  ck_assert_int_eq(cat_int("SELECT count(*) FROM runs WHERE started IS NOT NULL "
                                      "AND finished >= started AND host_run_id = 100"),
                   2);
  ck_assert_int_eq(cat_int("SELECT records FROM runs WHERE source='s'"), 2);
  ck_assert_int_eq(cat_int("SELECT inserted FROM runs WHERE source='s'"), 2);
  ck_assert_int_eq(cat_int("SELECT complete FROM runs WHERE source='s'"), 1);
  ck_assert_int_eq(cat_int("SELECT complete FROM runs WHERE source='t'"), 0);
  char *plugin = cat_text("SELECT plugin FROM runs WHERE source='t'");
  ck_assert_str_eq(plugin, "mode");
  free(plugin);
  static const char *const a[] = {"A", NULL};
  run_charts(a, 1, true);
  ck_assert_int_eq(cat_int("SELECT max(run_id) FROM runs"), 2);
}
END_TEST

/* A run killed before its first commit still leaves its runs row, not finished and not
 * complete, as docs/sinks.md promises; the entities it had not committed are gone. */
START_TEST(test_killed_run_leaves_an_unfinished_row) {
  pid_t pid = fork();
  ck_assert_int_ne(pid, -1);
  if (pid == 0) {
    void *sink = NULL;
    if (cat_try_open(&sink) != ETL_OK || ops->begin_source(sink, "s", "jsonl") != ETL_OK)
      _exit(3);
    struct host_record rec = {"s", "chart", "A", "{\"data\": {}}", 13};
    bool rejected = false;
    if (ops->write(sink, &rec, &rejected) != ETL_OK)
      _exit(3);
    raise(SIGKILL);
    _exit(4);
  }
  int status = 0;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child status %d", status);
  ck_assert_int_eq(cat_int("SELECT count(*) FROM runs WHERE source='s' AND "
                                      "plugin='jsonl' AND finished IS NULL AND NOT complete"),
                   1);
  ck_assert_int_eq(cat_int("SELECT count(*) FROM entities"), 0);
}
END_TEST

START_TEST(test_state_is_atomic_with_data) {
  void *sink = open_catalog();
  char *json = NULL;
  size_t len = 1;
  ck_assert_int_eq(ops->load_state(sink, "s", &json, &len), ETL_OK);
  ck_assert_ptr_null(json);
  ck_assert_int_eq(ops->begin_source(sink, "s", "jsonl"), ETL_OK);
  put(sink, "s", "chart", "A", "{\"data\": {}}");
  ck_assert_int_eq(ops->store_state(sink, "s", "{\"pos\": 1}", 10), ETL_OK);
  put(sink, "s", "chart", "B", "{\"data\": {}}");
  ops->destroy(&sink); /* a crash: B was never committed */

  ck_assert_int_eq(cat_int("SELECT count(*) FROM entities WHERE id='A'"), 1);
  ck_assert_int_eq(cat_int("SELECT count(*) FROM entities WHERE id='B'"), 0);
  sink = open_catalog();
  ck_assert_int_eq(ops->load_state(sink, "s", &json, &len), ETL_OK);
  ck_assert_str_eq(json, "{\"pos\": 1}");
  ck_assert_uint_eq(len, 10);
  free(json);

  /* The next state covers B: both land together. */
  ck_assert_int_eq(ops->begin_source(sink, "s", "jsonl"), ETL_OK);
  put(sink, "s", "chart", "B", "{\"data\": {}}");
  ck_assert_int_eq(ops->store_state(sink, "s", "{\"pos\": 2}", 10), ETL_OK);
  ops->destroy(&sink);
  ck_assert_int_eq(cat_int("SELECT count(*) FROM entities WHERE id='B'"), 1);
  char *state = cat_text("SELECT json FROM state WHERE source='s'");
  ck_assert_str_eq(state, "{\"pos\": 2}");
  free(state);
}
END_TEST

START_TEST(test_invalid_records_are_rejected) {
  static const char *const bad[] = {
      "not json", "[1, 2]", "{\"data\": {", "{} {}", "{\"data\": \"\xc3\x28\"}", ""};
  static const char *const why[] = {
      "not valid JSON at byte 1",       "not a JSON object",   "not valid JSON", "not valid JSON",
      "entity json is not valid UTF-8", "entity json is empty"};
  void *sink = open_catalog();
  ck_assert_int_eq(ops->begin_source(sink, "s", "jsonl"), ETL_OK);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    t_mark_log();
    struct host_record rec = {"s", "chart", "bad\nid", bad[i], strlen(bad[i])};
    bool rejected = false;
    ck_assert_int_eq(ops->write(sink, &rec, &rejected), ETL_OK);
    ck_assert_msg(rejected, "accepted %s", bad[i]);
    ck_assert_logged_new(why[i]);
  }
  ck_assert_logged("s: error: chart bad?id: rejected by the " CAT_TYPE " sink"); /* no forged line */
  put(sink, "s", "chart", "good", "{\"data\": {}}");
  end(sink, "s", true);
  ops->destroy(&sink);
  ck_assert_int_eq(cat_int("SELECT count(*) FROM entities"), 1);
  ck_assert_int_eq(cat_int("SELECT rejected FROM runs"), 6);
}
END_TEST

/* Adds the shared cases to tc. */
static void cat_add_cases(TCase *tc) {
  tcase_add_test(tc, test_same_id_twice_is_one_row);
  tcase_add_test(tc, test_changed_data_updates_unchanged_does_not_bump);
  tcase_add_test(tc, test_complete_run_marks_unseen_deleted);
  tcase_add_test(tc, test_fail_safe_holds_back_a_mass_deletion);
  tcase_add_test(tc, test_partial_run_marks_nothing);
  tcase_add_test(tc, test_reappearing_entity_is_undeleted);
  tcase_add_test(tc, test_other_sources_are_not_swept);
  tcase_add_test(tc, test_resumed_run_spares_what_the_killed_run_delivered);
  tcase_add_test(tc, test_run_history);
  tcase_add_test(tc, test_killed_run_leaves_an_unfinished_row);
  tcase_add_test(tc, test_state_is_atomic_with_data);
  tcase_add_test(tc, test_invalid_records_are_rejected);
}

#endif
