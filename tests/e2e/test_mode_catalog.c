/*
 * test_mode_catalog.c -- what the catalog learns about each report (issue 11 items 1-4), the Mode
 * plugin through the ABI (tests/e2e/thirdparty_host) against mode-sim serving the shapes Mode
 * really sends:
 *   - which collections are left out: `restricted` or a `default_access_level` of
 *     "restricted" (Mode answers `restricted: false` for restricted collections, DataHub
 *     #11081), personal collections, `filter=custom`, archived reports;
 *   - freshness and activity per report (docs/entities.md, `extension` of a dashboard);
 *   - charts tied to their query (data model) and the fields they show.
 * The generated workspace compared record for record with the ground truth is
 * tests/e2e/test_mode_e2e.c; the adapter table is tests/unit/test_mode_core.c.
 */
#include "config.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "e2eutil.h"
#include "testutil.h"

#define TOKEN "tok-catalog"
#define SECRET "sec-catalog-S3CR3T"

/* ---- the simulator and the driver ---------------------------------------------------------- */

struct world {
  struct test_server srv;
  char *dir;
  yajl_val truth; /* mode-sim's --ground-truth */
};

static void world_start(struct world *w, const char *seed) {
  memset(w, 0, sizeof *w);
  w->dir = test_tmpdir();
  char *gt = test_path("%s/gt.json", w->dir);
  const char *shape[] = {"--seed", seed, "--spaces", "8", "--reports-per-space", "3",
                         "--users", "4", "--data-sources", "7", "--ground-truth", gt, NULL};
  test_mode_sim_start(&w->srv, 0, TOKEN, SECRET, shape, NULL);
  char *text = test_read_file(gt, NULL);
  ck_assert_ptr_nonnull(text);
  char err[256];
  w->truth = yajl_tree_parse(text, err, sizeof err);
  ck_assert_msg(w->truth != NULL, "ground truth: %s", err);
  free(text), free(gt);
}

static void world_stop(struct world *w) {
  test_server_stop(&w->srv);
  yajl_tree_free(w->truth);
  test_rmtree(w->dir);
  free(w->dir);
}

struct records {
  yajl_val *v;
  size_t n;
  char *err; /* the driver's stderr */
};

/* Runs the driver with extra connection members (a JSON fragment starting with ',' or "") and
 * loads the records it wrote. */
static void crawl(const struct world *w, const char *conn_extra, struct records *rs) {
  char *out = test_path("%s/out.jsonl", w->dir);
  char *conn = test_path("{\"hostPort\":\"%s\",\"accessToken\":\"" TOKEN "\","
                         "\"accessTokenPassword\":\"" SECRET "\",\"workspaceName\":\"acme\"%s}",
                         w->srv.base_url, conn_extra);
  char *conn_path = test_path("%s/connection.json", w->dir);
  ck_assert_int_eq(test_write_file(conn_path, conn), 0);
  char *driver = test_path("%s/tests/e2e/thirdparty_host", test_builddir());
  char *plugin = test_path("%s/plugin/.libs/mode.so", test_builddir());
  char *argv[] = {driver, "--name", "mode_svc", "--out", out, plugin, conn_path, NULL};
  memset(rs, 0, sizeof *rs);
  int st = test_run(argv, NULL, NULL, &rs->err);
  ck_assert_msg(st == 0, "driver failed: %.2000s", rs->err);
  char *text = test_read_file(out, NULL);
  ck_assert_ptr_nonnull(text);
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    char err[256];
    if (line[0] == '#')
      continue;
    yajl_val v = yajl_tree_parse(line, err, sizeof err);
    ck_assert_msg(v != NULL, "invalid record: %s", err);
    rs->v = realloc(rs->v, (rs->n + 1) * sizeof *rs->v);
    rs->v[rs->n++] = v;
  }
  free(text), free(out), free(conn), free(conn_path), free(driver), free(plugin);
}

static void records_free(struct records *rs) {
  for (size_t i = 0; i < rs->n; i++)
    yajl_tree_free(rs->v[i]);
  free(rs->v);
  free(rs->err);
}

static yajl_val at(yajl_val v, const char *a, const char *b, const char *c) {
  const char *path[] = {a, b, c, NULL};
  return v ? yajl_tree_get(v, path, yajl_t_any) : NULL;
}

static const char *str_at(yajl_val v, const char *a, const char *b, const char *c) {
  yajl_val s = at(v, a, b, c);
  return s && YAJL_IS_STRING(s) ? YAJL_GET_STRING(s) : NULL;
}

static yajl_val find(const struct records *rs, const char *kind, const char *id) {
  for (size_t i = 0; i < rs->n; i++)
    if (strcmp(str_at(rs->v[i], "kind", NULL, NULL), kind) == 0 &&
        strcmp(str_at(rs->v[i], "id", NULL, NULL), id) == 0)
      return rs->v[i];
  return NULL;
}

static size_t len_of(yajl_val arr) {
  return arr && YAJL_IS_ARRAY(arr) ? YAJL_GET_ARRAY(arr)->len : 0;
}

static yajl_val item(yajl_val arr, size_t i) {
  return YAJL_GET_ARRAY(arr)->values[i];
}

/* The ground truth's collection of a report. */
static yajl_val space_of(const struct world *w, yajl_val report) {
  yajl_val spaces = at(w->truth, "spaces", NULL, NULL);
  const char *tok = str_at(report, "space_token", NULL, NULL);
  for (size_t i = 0; i < len_of(spaces); i++)
    if (strcmp(str_at(item(spaces, i), "token", NULL, NULL), tok) == 0)
      return item(spaces, i);
  ck_abort_msg("report's collection %s not in the ground truth", tok);
  return NULL;
}

/* ---- item 3: restricted, personal, archived ------------------------------------------------ */

enum leave_out { BY_RESTRICTED, BY_PERSONAL, BY_FILTER_CUSTOM, BY_ARCHIVED };

static int left_out(const struct world *w, yajl_val report, enum leave_out why) {
  yajl_val sp = space_of(w, report);
  switch (why) {
  case BY_RESTRICTED:
    return YAJL_IS_TRUE(at(sp, "restricted", NULL, NULL));
  case BY_PERSONAL:
  case BY_FILTER_CUSTOM:
    return strcmp(str_at(sp, "type", NULL, NULL), "personal") == 0;
  case BY_ARCHIVED:
    return YAJL_IS_TRUE(at(report, "archived", NULL, NULL));
  }
  return 0;
}

static const struct {
  const char *name, *conn_extra;
  enum leave_out why;
} leave_outs[] = {
    {"restricted", ",\"excludeRestrictedCollections\":true", BY_RESTRICTED},
    {"personal", ",\"excludePersonalCollections\":true", BY_PERSONAL},
    {"filter=custom", ",\"filterQueryParam\":\"custom\"", BY_FILTER_CUSTOM},
    {"archived", ",\"excludeArchivedReports\":true", BY_ARCHIVED},
};

/* Each rule leaves out exactly the reports it names, and keeps every other one. */
START_TEST(collections_and_reports_left_out) {
  struct world w;
  struct records rs;
  world_start(&w, "11");
  crawl(&w, leave_outs[_i].conn_extra, &rs);
  yajl_val reports = at(w.truth, "reports", NULL, NULL);
  size_t out = 0, kept = 0;
  for (size_t i = 0; i < len_of(reports); i++) {
    yajl_val r = item(reports, i);
    const char *tok = str_at(r, "token", NULL, NULL);
    int gone = left_out(&w, r, leave_outs[_i].why);
    yajl_val d = find(&rs, "dashboard", tok);
    ck_assert_msg(gone ? d == NULL : d != NULL, "%s: report %s %s", leave_outs[_i].name, tok,
                  gone ? "was not left out" : "is missing");
    out += gone, kept += !gone;
  }
  /* Not vacuous: the workspace has reports on both sides of the rule. */
  ck_assert_msg(out > 0 && kept > 0, "%s: %zu left out, %zu kept", leave_outs[_i].name, out, kept);
  records_free(&rs);
  world_stop(&w);
}
END_TEST

/* mode-sim answers for a restricted collection what Mode answers (DataHub #11081): `restricted`
 * false, `default_access_level` "restricted". */
START_TEST(restricted_collections_look_as_mode_sends_them) {
  struct world w;
  world_start(&w, "11");
  char *body = NULL;
  long status = 0;
  /* test_http_get sends no credentials of its own: curl takes them from the userinfo. */
  char *url =
      test_path("http://" TOKEN ":" SECRET "@127.0.0.1:%d/api/acme/spaces?filter=all", w.srv.port);
  ck_assert_int_eq(test_http_get(url, &body, &status), 0);
  ck_assert_int_eq(status, 200);
  char err[256];
  yajl_val v = yajl_tree_parse(body, err, sizeof err);
  ck_assert_ptr_nonnull(v);
  yajl_val spaces = at(v, "_embedded", "spaces", NULL);
  yajl_val truth = at(w.truth, "spaces", NULL, NULL);
  size_t restricted = 0;
  for (size_t i = 0; i < len_of(spaces); i++) {
    yajl_val s = item(spaces, i);
    ck_assert_msg(YAJL_IS_FALSE(at(s, "restricted", NULL, NULL)), "restricted is not false");
    for (size_t k = 0; k < len_of(truth); k++)
      if (strcmp(str_at(item(truth, k), "token", NULL, NULL), str_at(s, "token", NULL, NULL)) ==
              0 &&
          YAJL_IS_TRUE(at(item(truth, k), "restricted", NULL, NULL))) {
        ck_assert_str_eq(str_at(s, "default_access_level", NULL, NULL), "restricted");
        restricted++;
      }
  }
  ck_assert_uint_gt(restricted, 0);
  yajl_tree_free(v);
  free(url), free(body);
  world_stop(&w);
}
END_TEST

/* ---- items 1 and 2 on the recorded workspace ----------------------------------------------- */

static void start_recorded(struct world *w) {
  memset(w, 0, sizeof *w);
  w->dir = test_tmpdir();
  char *sim = test_path("%s/tests/mode-sim/mode-sim", test_builddir());
  char *fixtures = test_path("%s/mode-api-samples", test_fixtures_dir());
  char *argv[] = {sim,    "--port",     "0",      "--token",     TOKEN,  "--secret",
                  SECRET, "--fixtures", fixtures, "--workspace", "acme", NULL};
  ck_assert_msg(test_server_start(&w->srv, argv) == 0, "mode-sim did not start");
  free(sim), free(fixtures);
}

static void assert_strings(yajl_val arr, const char *const *want, size_t n, const char *what) {
  ck_assert_msg(len_of(arr) == n, "%s: %zu items, want %zu", what, len_of(arr), n);
  for (size_t i = 0; i < n; i++) {
    yajl_val v = item(arr, i);
    const char *got = YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : str_at(v, "name", NULL, NULL);
    ck_assert_msg(got && strcmp(got, want[i]) == 0, "%s[%zu]: %s, want %s", what, i, got, want[i]);
  }
}

/* The recorded chart (DataHub's fixture charts.json) is a v2 table: its fields are the
 * `[name]`s of its view_vegas formulas, in document order, each once. Its data model's columns
 * are its SQL's result columns, then the chart fields the SQL did not name (docs/mode.md
 * "Column lineage"): `rental.*, staff.first_name "Staff First Name", staff.last_name "Staff
 * Last Name"`, where rental is {{ @join_on_definition }} = `cust_payment_date.*, staff_id` and
 * cust_payment_date is {{ @custome_payment_date }} = customer_id, first_name, last_name,
 * amount, payment_date, rental_id (definitions.json). Every chart field is among them. */
START_TEST(recorded_chart_names_its_query_and_fields) {
  static const char *const fields[] = {"payment_date", "Staff First Name", "Staff Last Name",
                                       "amount"};
  static const char *const columns[] = {"customer_id", "first_name",       "last_name",
                                        "amount",      "payment_date",     "rental_id",
                                        "staff_id",    "Staff First Name", "Staff Last Name"};
  /* The dataset's query is two SELECTs: merged by position, the first one's names kept
   * (docs/sql-lineage.md "Several statements"), 5 of the first, then the last 5 of the second's
   * 10. */
  static const char *const dataset_columns[] = {
      "age",    "id",         "name", "_fivetran_deleted", "_fivetran_synced",
      "status", "status_tlm", "tlm",  "voice_capable",     "when_created"};
  struct world w;
  struct records rs;
  start_recorded(&w);
  crawl(&w, "", &rs);
  yajl_val c = find(&rs, "chart", "f622b9ee725b");
  ck_assert_ptr_nonnull(c);
  ck_assert_str_eq(str_at(c, "query", "token", NULL), "6e26a9f3d4e2");
  ck_assert_str_eq(str_at(c, "query", "dataModel", NULL), "mode_svc.model.6e26a9f3d4e2");
  assert_strings(at(c, "query", "fields", NULL), fields, 4, "chart fields");
  yajl_val m = find(&rs, "dashboardDataModel", "6e26a9f3d4e2");
  ck_assert_ptr_nonnull(m);
  assert_strings(at(m, "data", "columns", NULL), columns, 9, "data model columns");
  ck_assert_str_eq(str_at(item(at(m, "data", "columns", NULL), 0), "dataType", NULL, NULL),
                   "UNKNOWN");
  yajl_val l = find(&rs, "lineage", "mode_svc.model.6e26a9f3d4e2 -> mode_svc.f622b9ee725b");
  ck_assert_ptr_nonnull(l);
  ck_assert_str_eq(str_at(l, "data", "toEntity", "type"), "chart");
  /* A dataset's model has no charts: its columns are its SQL's only. */
  assert_strings(at(find(&rs, "dashboardDataModel", "24f66e1701b6"), "data", "columns", NULL),
                 dataset_columns, 10, "dataset columns");
  records_free(&rs);
  world_stop(&w);
}
END_TEST

/* The recorded report (reports_75737b70402e.json): its freshness fields as Mode sent them. */
START_TEST(recorded_report_freshness) {
  struct world w;
  struct records rs;
  start_recorded(&w);
  crawl(&w, "", &rs);
  yajl_val d = find(&rs, "dashboard", "9d2da37fa91e");
  ck_assert_ptr_nonnull(d);
  ck_assert_str_eq(str_at(d, "extension", "createdAt", NULL), "2021-12-10T20:55:24.316Z");
  ck_assert_str_eq(str_at(d, "extension", "lastSavedAt", NULL), "2021-12-11T00:31:24.451Z");
  ck_assert_str_eq(str_at(d, "extension", "lastRunAt", NULL), "2021-12-10T23:12:51.490Z");
  ck_assert_str_eq(str_at(d, "extension", "lastSuccessfulRunAt", NULL), "2021-12-10T23:12:53.142Z");
  ck_assert_str_eq(str_at(d, "extension", "lastRunState", NULL), "succeeded");
  ck_assert_str_eq(str_at(d, "extension", "creator", NULL), "modeuser");
  ck_assert_int_eq(YAJL_GET_INTEGER(at(d, "extension", "scheduleCount", NULL)), 0);
  ck_assert_int_eq(YAJL_GET_INTEGER(at(d, "extension", "viewCount", NULL)), 6);
  /* Not part of OpenMetadata's create request: the sink decides (docs/openmetadata.md). */
  ck_assert_ptr_null(at(d, "data", "extension", NULL));
  records_free(&rs);
  world_stop(&w);
}
END_TEST

/* ---- item 2: the catalog query of stale and failing reports (docs/mode.md) ----------------- */

/* Runs etlhost with the sqlite sink into dir/cat.db. */
static char *ingest_to_catalog(const struct world *w) {
  char *db = test_path("%s/cat.db", w->dir);
  char *wf = test_path("%s/wf.yaml", w->dir);
  char *yaml = test_path("source:\n"
                         "  type: mode\n"
                         "  serviceName: mode_svc\n"
                         "  serviceConnection:\n"
                         "    config:\n"
                         "      hostPort: %s\n"
                         "      accessToken: " TOKEN "\n"
                         "      accessTokenPassword: " SECRET "\n"
                         "      workspaceName: acme\n"
                         "      requestsPerSecond: 0\n"
                         "sink:\n"
                         "  type: sqlite\n"
                         "  config:\n"
                         "    path: %s\n",
                         w->srv.base_url, db);
  ck_assert_int_eq(test_write_file(wf, yaml), 0);
  char *host = test_path("%s/host-api/etlhost", test_builddir());
  char *env_path = test_path("ETL_PLUGIN_PATH=%s/plugin/.libs", test_builddir());
  char *argv[] = {host, "run", wf, NULL};
  char *env[] = {env_path, NULL};
  char *err = NULL;
  int st = test_run(argv, env, NULL, &err);
  ck_assert_msg(st == 0, "etlhost: %.2000s", err);
  free(err), free(host), free(env_path), free(yaml), free(wf);
  return db;
}

/* The SQL between the stale-reports markers of docs/mode.md, without the fence lines. */
static char *documented_query(void) {
  char *path = test_path("%s/docs/mode.md", test_srcdir());
  char *doc = test_read_file(path, NULL);
  ck_assert_ptr_nonnull(doc);
  const char *start = strstr(doc, "<!-- stale-reports.sql -->");
  const char *end = start ? strstr(start, "<!-- end stale-reports.sql -->") : NULL;
  ck_assert_msg(start && end, "docs/mode.md has no stale-reports.sql block");
  char *sql = calloc(1, (size_t)(end - start) + 1);
  size_t n = 0;
  for (const char *line = strchr(start, '\n') + 1; line < end;) {
    const char *eol = strchr(line, '\n');
    size_t len = (size_t)(eol - line);
    if (strncmp(line, "```", 3) != 0) {
      memcpy(sql + n, line, len);
      n += len;
      sql[n++] = '\n';
    }
    line = eol + 1;
  }
  free(doc), free(path);
  return sql;
}

/* The documented query lists exactly the reports that never ran, failed last time, or last ran
 * before the cut-off, as the ground truth says. */
START_TEST(stale_and_failing_reports_query) {
  static const char cutoff[] = "2022-09-20";
  struct world w;
  world_start(&w, "11");
  char *db = ingest_to_catalog(&w);
  char *sql = documented_query();
  sqlite3 *h = NULL;
  sqlite3_stmt *st = NULL;
  ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  ck_assert_msg(sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(h));
  sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":stale_before"), cutoff, -1,
                    SQLITE_STATIC);
  char listed[4096] = "";
  size_t n_listed = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    const char *tok = (const char *)sqlite3_column_text(st, 0);
    strncat(listed, tok, sizeof listed - strlen(listed) - 2);
    strcat(listed, " ");
    n_listed++;
  }
  yajl_val reports = at(w.truth, "reports", NULL, NULL);
  size_t want = 0, failed = 0, fresh = 0;
  for (size_t i = 0; i < len_of(reports); i++) {
    yajl_val r = item(reports, i);
    const char *run = str_at(r, "extension", "lastRunAt", NULL);
    const char *state = str_at(r, "extension", "lastRunState", NULL);
    int stale = run == NULL || strcmp(state, "succeeded") != 0 || strcmp(run, cutoff) < 0;
    const char *tok = str_at(r, "token", NULL, NULL);
    ck_assert_msg((strstr(listed, tok) != NULL) == stale, "report %s (%s, %s) %s", tok,
                  run ? run : "never run", state ? state : "-",
                  stale ? "is not listed" : "is listed");
    want += stale;
    failed += state && strcmp(state, "failed") == 0;
    fresh += !stale;
  }
  ck_assert_uint_eq(n_listed, want);
  /* Not vacuous: failed runs, stale ones and fresh ones all occur. */
  ck_assert_msg(failed > 0 && fresh > 0 && want > failed, "%zu failed, %zu fresh, %zu listed",
                failed, fresh, want);
  sqlite3_finalize(st);
  sqlite3_close(h);
  free(sql), free(db);
  world_stop(&w);
}
END_TEST

int main(void) {
  Suite *s = suite_create("mode_catalog");
  TCase *tc = tcase_create("catalog");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, collections_and_reports_left_out, 0,
                      (int)(sizeof leave_outs / sizeof leave_outs[0]));
  tcase_add_test(tc, restricted_collections_look_as_mode_sends_them);
  tcase_add_test(tc, recorded_chart_names_its_query_and_fields);
  tcase_add_test(tc, recorded_report_freshness);
  tcase_add_test(tc, stale_and_failing_reports_query);
  suite_add_tcase(s, tc);
  return test_run_suite(s);
}
