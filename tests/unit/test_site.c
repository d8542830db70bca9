/*
 * test_site.c -- `etlhost site`: the escaping writer, page file names from hostile ids, the
 * catalog read into the site's model (from a catalog the test writes with the sqlite sink's
 * schema), a whole site of hostile names, and the command's errors and atomic replacement.
 */
#include "config.h"

#include "sink_testlib.h"
#include "site_html.h"
#include "site_model.h"
#include "site_names.h"

#include <dirent.h>
#include <stdbool.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- escaping --------------------------------------------------------------------------- */

static char *escaped(const char *s) {
  char *buf = NULL;
  size_t len = 0;
  struct site_out o = {.f = open_memstream(&buf, &len)};
  ck_assert_ptr_nonnull(o.f);
  site_out_text(&o, s);
  fclose(o.f);
  ck_assert(!o.failed);
  return buf;
}

static const struct {
  const char *in, *out;
} escapes[] = {
    {"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
    {"Tom & \"Jerry\" 'x'", "Tom &amp; &quot;Jerry&quot; &#39;x&#39;"},
    {"&amp;", "&amp;amp;"},
    {"plain — ünïcode", "plain — ünïcode"},
    {"", ""},
};

START_TEST(escaping_writer) {
  char *got = escaped(escapes[_i].in);
  ck_assert_str_eq(got, escapes[_i].out);
  free(got);
}
END_TEST

/* --- file names -------------------------------------------------------------------------- */

static bool safe_name(const char *name) {
  if (strchr(name, '/') || strstr(name, "..") || name[0] == '.' ||
      strlen(name) > 2 + 80 + 9 + 8 + 5)
    return false;
  for (const char *p = name; *p; p++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.", *p))
      return false;
  return true;
}

START_TEST(page_names_are_safe_and_unique) {
  char long_key[600];
  memset(long_key, 'x', sizeof long_key - 1);
  long_key[sizeof long_key - 1] = '\0';
  char long_key2[600];
  memcpy(long_key2, long_key, sizeof long_key2);
  long_key2[590] = 'y'; /* differs only past the cap */
  const char *keys[] = {
      "warehouse.dev.analytics.orders",
      "../../etc/passwd",
      "a*b",
      "a?b",
      "Orders",
      "orders",
      long_key,
      long_key2,
      "",
      "same",
      "same",
      "...",
      "x/..\\y",
  };
  size_t n = sizeof keys / sizeof *keys;
  char *names[sizeof keys / sizeof *keys];
  ck_assert_int_eq(site_page_names("t-", keys, n, names), 0);
  ck_assert_str_eq(names[0], "t-warehouse.dev.analytics.orders.html"); /* plain keys stay */
  for (size_t i = 0; i < n; i++) {
    ck_assert_msg(safe_name(names[i]), "unsafe name '%s' for '%s'", names[i], keys[i]);
    ck_assert(strncmp(names[i], "t-", 2) == 0);
    for (size_t k = 0; k < i; k++)
      ck_assert_msg(strcasecmp(names[i], names[k]) != 0, "'%s' and '%s' both give '%s'", keys[i],
                    keys[k], names[i]);
  }
  /* the same key gives the same name in another build (a hash, not an order) */
  char *again[1];
  const char *one[] = {"a*b", "a?b"};
  char *pair[2];
  ck_assert_int_eq(site_page_names("t-", one, 2, pair), 0);
  ck_assert_str_eq(pair[0], names[2]);
  ck_assert_int_eq(site_page_names("t-", &keys[6], 1, again), 0);
  ck_assert_str_eq(again[0], names[6]);
  free(again[0]);
  free(pair[0]);
  free(pair[1]);
  for (size_t i = 0; i < n; i++)
    free(names[i]);
}
END_TEST

/* --- a catalog written by the test ----------------------------------------------------------- */

/* The sqlite sink's schema (docs/sinks.md), marked as a catalog. */
static const char schema[] =
    "PRAGMA application_id = 1163152451; PRAGMA user_version = 1;"
    "CREATE TABLE entities (source TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL,"
    " json TEXT NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
    " changed_run INTEGER NOT NULL, changed_at TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0,"
    " deleted_at TEXT, PRIMARY KEY (source, kind, id));"
    "CREATE TABLE runs (run_id INTEGER NOT NULL, source TEXT NOT NULL, plugin TEXT,"
    " host_run_id INTEGER, started TEXT NOT NULL, finished TEXT,"
    " complete INTEGER NOT NULL DEFAULT 0, records INTEGER NOT NULL DEFAULT 0,"
    " inserted INTEGER NOT NULL DEFAULT 0, updated INTEGER NOT NULL DEFAULT 0,"
    " unchanged INTEGER NOT NULL DEFAULT 0, rejected INTEGER NOT NULL DEFAULT 0,"
    " deleted INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (run_id, source));"
    "CREATE TABLE state (source TEXT PRIMARY KEY, json TEXT NOT NULL, run_id INTEGER,"
    " saved_at TEXT NOT NULL);"
    "INSERT INTO runs VALUES (1, 's', 'mode', 1, '2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z',"
    " 1, 10, 10, 0, 0, 0, 0), (2, 's', 'mode', 2, '2026-01-02T00:00:00Z',"
    " '2026-01-02T00:01:00Z', 1, 9, 0, 0, 9, 0, 1);";

#define HOSTILE "<script>alert(1)</script> \\\"q\\\" & co"

/* Two dashboards sharing a table, one lost by the last run, a hostile name everywhere. */
static const char *rows[][4] = {
    {"dashboard", "d1",
     "{\"data\":{\"name\":\"d1\",\"displayName\":\"" HOSTILE "\",\"project\":\"Fin & Ops\","
     "\"sourceUrl\":\"javascript:alert(2)\",\"description\":\"<b>bold</b>\","
     "\"charts\":[\"s.c1\"],\"dataModels\":[\"s.model.m1\",\"s.model.m2\"],\"service\":\"s\"},"
     "\"owners\":[{\"type\":\"user\",\"name\":\"ann<\"}],"
     "\"extension\":{\"lastRunAt\":\"2020-01-01T00:00:00.000Z\",\"lastRunState\":\"failed\","
     "\"viewCount\":7}}",
     "0"},
    {"dashboard", "d2",
     "{\"data\":{\"name\":\"d2\",\"displayName\":\"Plain\",\"dataModels\":[\"s.model.m1\"],"
     "\"service\":\"s\",\"sourceUrl\":\"https://mode.example/r/d2\"}}",
     "0"},
    {"dashboard", "gone",
     "{\"data\":{\"name\":\"gone\",\"displayName\":\"Gone\",\"service\":\"s\"}}", "1"},
    {"chart", "c1",
     "{\"data\":{\"name\":\"c1\",\"displayName\":\"Chart " HOSTILE "\",\"chartType\":\"Bar\","
     "\"service\":\"s\"},\"query\":{\"dataModel\":\"s.model.m1\",\"fields\":[\"amount\"]}}",
     "0"},
    {"dashboardDataModel", "m1",
     "{\"data\":{\"name\":\"m1\",\"displayName\":\"Query 1\",\"service\":\"s\","
     "\"sql\":\"SELECT amount FROM t WHERE x < 1 -- </script>\","
     "\"columns\":[{\"name\":\"amount\",\"dataType\":\"UNKNOWN\"}]}}",
     "0"},
    {"dashboardDataModel", "m2",
     "{\"data\":{\"name\":\"m2\",\"displayName\":\"Query 2\",\"service\":\"s\","
     "\"sql\":\"SELECT 1\"}}",
     "0"},
    {"lineage", "w.db.sch.t -> s.model.m1",
     "{\"data\":{\"fromEntity\":{\"type\":\"table\",\"fullyQualifiedName\":\"w.db.sch.t\"},"
     "\"toEntity\":{\"type\":\"dashboardDataModel\",\"fullyQualifiedName\":\"s.model.m1\"},"
     "\"lineageDetails\":{\"columnsLineage\":[{\"fromColumns\":[\"w.db.sch.t.amt\"],"
     "\"toColumn\":\"s.model.m1.amount\"}]}}}",
     "0"},
    {"lineage", "w.*.x.\"../evil\" -> s.model.m1",
     "{\"data\":{\"fromEntity\":{\"type\":\"table\",\"fullyQualifiedName\":"
     "\"w.*.x.../evil<i>\"},"
     "\"toEntity\":{\"type\":\"dashboardDataModel\",\"fullyQualifiedName\":\"s.model.m1\"}}}",
     "0"},
    {"lineage", "old -> s.model.m2",
     "{\"data\":{\"fromEntity\":{\"type\":\"table\",\"fullyQualifiedName\":\"w.old\"},"
     "\"toEntity\":{\"type\":\"dashboardDataModel\",\"fullyQualifiedName\":\"s.model.m2\"}}}",
     "1"},
};

static char *catalog_path;

static void write_catalog(const char *path) {
  sqlite3 *db = NULL;
  ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
  ck_assert_msg(sqlite3_exec(db, schema, NULL, NULL, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(db));
  sqlite3_stmt *st = NULL;
  ck_assert_int_eq(sqlite3_prepare_v2(db,
                                      "INSERT INTO entities VALUES ('s', ?1, ?2, ?3, 1, 2, ?5,"
                                      " '2026-01-02T00:00:00Z', ?4, CASE WHEN ?4 THEN "
                                      "'2026-01-02T00:01:00Z' END)",
                                      -1, &st, NULL),
                   SQLITE_OK);
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
    sqlite3_bind_text(st, 1, rows[i][0], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, rows[i][1], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, rows[i][2], -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, atoi(rows[i][3]));
    sqlite3_bind_int(st, 5, atoi(rows[i][3]) ? 2 : 1); /* deleted by run 2 */
    ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
}

static void setup(void) {
  t_setup();
  catalog_path = test_path("%s/cat.db", t_dir);
  write_catalog(catalog_path);
}

static void teardown(void) {
  free(catalog_path);
  t_teardown();
}

START_TEST(model_reads_the_catalog) {
  struct site_catalog *cat = NULL;
  ck_assert_msg(site_catalog_load(catalog_path, t_log, &cat) == 0, "%s", t_logged());
  ck_assert_uint_eq(cat->n_dashboards, 3);
  ck_assert_uint_eq(cat->n_charts, 1);
  ck_assert_uint_eq(cat->n_models, 2);
  ck_assert_uint_eq(cat->n_edges, 2); /* the deleted lineage record is not read */
  ck_assert_uint_eq(cat->n_tables, 2);

  const struct site_dashboard *d1 = site_find_dashboard(cat, "s.d1");
  ck_assert_ptr_nonnull(d1);
  ck_assert_str_eq(d1->name, "<script>alert(1)</script> \"q\" & co");
  ck_assert_str_eq(d1->collection, "Fin & Ops");
  ck_assert_uint_eq(d1->owners.n, 1);
  ck_assert_str_eq(d1->owners.v[0], "ann<");
  ck_assert_str_eq(d1->last_run_state, "failed");
  ck_assert_int_eq(d1->view_count, 7);
  ck_assert_int_eq(d1->schedule_count, -1);
  ck_assert(!d1->deleted && !d1->lost_last_run);
  const struct site_dashboard *gone = site_find_dashboard(cat, "s.gone");
  ck_assert(gone && gone->deleted && gone->lost_last_run);

  const struct site_model *m1 = site_find_model(cat, "s.model.m1");
  const struct site_model *m2 = site_find_model(cat, "s.model.m2");
  ck_assert(m1 && m2);
  ck_assert_uint_eq(m1->dashboards.n, 2); /* d1 and d2 */
  ck_assert_uint_eq(m1->upstream.n, 2);
  ck_assert(!site_model_unresolved(m1));
  ck_assert(site_model_unresolved(m2)); /* SQL, and its only upstream record is deleted */

  const struct site_table *t = site_find_table(cat, "w.db.sch.t");
  ck_assert_ptr_nonnull(t);
  ck_assert_uint_eq(t->edges.n, 1);
  const struct site_edge *e = &cat->edges[t->edges.v[0]];
  ck_assert_uint_eq(e->n_cols, 1);
  ck_assert_str_eq(e->cols[0].from, "amt");
  ck_assert_str_eq(e->cols[0].to, "amount");
  ck_assert_str_eq(t->page, "t-w.db.sch.t.html");
  const struct site_table *evil = site_find_table(cat, "w.*.x.../evil<i>");
  ck_assert_ptr_nonnull(evil);
  ck_assert(safe_name(evil->page));
  for (size_t i = 0; i < cat->n_dashboards; i++)
    ck_assert(safe_name(cat->dashboards[i].page));
  ck_assert_uint_eq(cat->n_runs, 1);
  ck_assert_int_eq(cat->runs[0].run_id, 2);
  site_catalog_free(&cat);
  ck_assert_ptr_null(cat);
  site_catalog_free(&cat);
}
END_TEST

START_TEST(model_refuses_what_is_not_a_catalog) {
  struct site_catalog *cat = NULL;
  char *missing = test_path("%s/none.db", t_dir);
  ck_assert_int_eq(site_catalog_load(missing, t_log, &cat), -1);
  ck_assert_logged("none.db': cannot open: No such file or directory");
  ck_assert_int_eq(access(missing, F_OK), -1); /* never created */

  char *text = test_path("%s/text.db", t_dir);
  ck_assert_int_eq(test_write_file(text, "hello, this is not SQLite at all, not even close....."
                                         "........................................."),
                   0);
  ck_assert_int_eq(site_catalog_load(text, t_log, &cat), -1);
  ck_assert_logged("text.db': not an etlhost catalog");

  char *other = test_path("%s/other.db", t_dir);
  sqlite3 *db = NULL;
  ck_assert_int_eq(sqlite3_open(other, &db), SQLITE_OK);
  ck_assert_int_eq(sqlite3_exec(db, "CREATE TABLE x (y)", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  t_mark_log();
  ck_assert_int_eq(site_catalog_load(other, t_log, &cat), -1);
  ck_assert_logged_new("other.db': not an etlhost catalog (an SQLite file without etlhost's mark)");

  /* a catalog row that is not JSON names the row */
  ck_assert_int_eq(sqlite3_open(catalog_path, &db), SQLITE_OK);
  ck_assert_int_eq(
      sqlite3_exec(db, "UPDATE entities SET json = '{oops' WHERE id = 'c1'", NULL, NULL, NULL),
      SQLITE_OK);
  sqlite3_close(db);
  ck_assert_int_eq(site_catalog_load(catalog_path, t_log, &cat), -1);
  ck_assert_logged("chart c1 of source s: bad JSON");
  ck_assert_ptr_null(cat);
  free(missing);
  free(text);
  free(other);
}
END_TEST

/* --- a whole site ------------------------------------------------------------------------ */

static char *site_file(const char *dir, const char *name) {
  char *path = test_path("%s/%s", dir, name);
  char *text = test_read_file(path, NULL);
  ck_assert_msg(text != NULL, "%s is missing", path);
  free(path);
  return text;
}

/* A picture renderer standing in for Graphviz: hostile text it was given stays in the page
 * exactly as the renderer's output, so the test controls what "safe SVG" is. */
static char *fake_picture(void *ctx, const char *kind, const char *fqn, bool deleted,
                          bool *failed) {
  int *calls = ctx;
  (*calls)++;
  *failed = strcmp(fqn, "s.d2") == 0; /* one page without a picture */
  if (*failed)
    return NULL;
  char *svg = NULL;
  ck_assert_int_ge(asprintf(&svg, "<svg id=\"pic-%s\" data-deleted=\"%d\"></svg>", kind, deleted),
                   0);
  return svg;
}

START_TEST(site_of_hostile_names) {
  struct site_catalog *cat = NULL;
  ck_assert_int_eq(site_catalog_load(catalog_path, t_log, &cat), 0);
  char *dir = test_path("%s/site", t_dir);
  ck_assert_int_eq(mkdir(dir, 0755), 0);
  int calls = 0;
  struct site_options opts = {.source = "cat<.db",
                              .now = 1767225600 /* 2026-01-01 */,
                              .stale_days = 90,
                              .picture = fake_picture,
                              .picture_ctx = &calls};
  struct site_stats stats;
  ck_assert_msg(site_write(cat, &opts, dir, t_log, &stats) == 0, "%s", t_logged());
  ck_assert_uint_eq(stats.pages, 3 + 3 + 2); /* index, tables, attention; dashboards; tables */
  ck_assert_uint_eq(stats.files, stats.pages + 3);
  ck_assert_uint_eq(calls, 5);
  ck_assert_uint_eq(stats.pictures, 4);
  ck_assert_uint_eq(stats.pictures_failed, 1);

  /* no page carries the hostile markup, each carries it escaped */
  DIR *d = opendir(dir);
  size_t html = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.')
      continue;
    ck_assert_msg(safe_name(e->d_name), "unsafe file %s", e->d_name);
    char *text = site_file(dir, e->d_name);
    if (!strstr(e->d_name, ".html")) { /* search-index.js: JSON, checked below */
      free(text);
      continue;
    }
    html++;
    ck_assert_msg(!strstr(text, "<script>alert"), "%s has the raw name", e->d_name);
    ck_assert_msg(!strstr(text, "<b>bold"), "%s has raw markup", e->d_name);
    ck_assert_msg(!strstr(text, "href=\"javascript"), "%s links javascript:", e->d_name);
    ck_assert_msg(!strstr(text, "<i>"), "%s has the raw table name", e->d_name);
    free(text);
  }
  closedir(d);
  ck_assert_uint_eq(html, stats.pages);

  const struct site_dashboard *d1 = site_find_dashboard(cat, "s.d1");
  char *page = site_file(dir, d1->page);
  ck_assert(strstr(page, "<h1>&lt;script&gt;alert(1)&lt;/script&gt; &quot;q&quot; &amp; co</h1>"));
  ck_assert(strstr(page, "<svg id=\"pic-dashboard\" data-deleted=\"0\">"));
  ck_assert(strstr(page, "WHERE x &lt; 1 -- &lt;/script&gt;")); /* SQL escaped */
  ck_assert(strstr(page, "href=\"t-w.db.sch.t.html\""));        /* its table */
  ck_assert(strstr(page, "javascript:alert(2)"));               /* shown as text, not linked */
  ck_assert(strstr(page, ".<b>amt</b>")); /* column lineage, column by column */
  free(page);
  const struct site_dashboard *d2 = site_find_dashboard(cat, "s.d2");
  page = site_file(dir, d2->page);
  ck_assert(strstr(page, "could not be drawn"));
  ck_assert(strstr(page, "<a href=\"https://mode.example/r/d2\""));
  free(page);
  page = site_file(dir, site_find_dashboard(cat, "s.gone")->page);
  ck_assert(strstr(page, "data-deleted=\"1\""));
  ck_assert(strstr(page, "class=\"banner\">Deleted"));
  free(page);

  char *index = site_file(dir, "index.html");
  ck_assert(strstr(index, "<meta name=\"viewport\""));
  ck_assert(strstr(index, "Fin &amp; Ops"));
  ck_assert(!strstr(index, "Gone")); /* deleted: not in the index */
  free(index);
  char *js = site_file(dir, "search-index.js");
  ck_assert(strstr(js, "<script>alert(1)<\\/script> \\\"q\\\" & co")); /* JSON, solidus escaped */
  ck_assert(!strstr(js, "Gone"));
  free(js);
  char *attention = site_file(dir, "attention.html");
  ck_assert(strstr(attention, "id=\"failing\">\n<h2>Last run failed <span class=\"count\">1"));
  ck_assert(strstr(attention, "id=\"stale\">\n<h2>Stale <span class=\"count\">1"));
  ck_assert(strstr(attention, "id=\"lost\">\n<h2>Lost in the last run <span class=\"count\">1"));
  ck_assert(strstr(attention, "id=\"unresolved\">\n<h2>Unresolved lineage <span "
                              "class=\"count\">1"));
  ck_assert(strstr(attention, "id=\"partial\">\n<h2>Tables named only in part <span "
                              "class=\"count\">1"));
  free(attention);
  free(dir);
  site_catalog_free(&cat);
}
END_TEST

/* --- the command ----------------------------------------------------------------------------- */

static int etlhost_site_with(const char *catalog, const char *out, const char *option, char **err) {
  char *etlhost = test_path("%s/host-api/etlhost", test_builddir());
  char *argv[] = {etlhost, "site", (char *)catalog, "-o", (char *)out, (char *)option, NULL};
  char *env[] = {"SOURCE_DATE_EPOCH=1767225600", NULL}; /* same catalog, same bytes */
  int rc = test_run(argv, env, NULL, err);
  free(etlhost);
  return rc;
}

static int etlhost_site(const char *catalog, const char *out, char **err) {
  return etlhost_site_with(catalog, out, "--no-pictures", err);
}

/* With Graphviz's pictures inline: hostile names stay text in the SVG too, and every page,
 * the deleted dashboard's and the odd table's included, gets its picture. With
 * SOURCE_DATE_EPOCH set, a second build gives the same bytes. */
START_TEST(command_pictures_of_hostile_names) {
  char *out = test_path("%s/site", t_dir), *again = test_path("%s/again", t_dir), *err = NULL;
  ck_assert_msg(etlhost_site_with(catalog_path, out, "-v", &err) == 0, "%s", err);
  free(err);
  ck_assert_msg(etlhost_site_with(catalog_path, again, "-q", &err) == 0, "%s", err);
  free(err);
  DIR *d = opendir(out);
  size_t pictures = 0, pages = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (!strstr(e->d_name, ".html"))
      continue;
    char *text = site_file(out, e->d_name), *other = site_file(again, e->d_name);
    ck_assert_msg(strcmp(text, other) == 0, "%s differs from one build to the next", e->d_name);
    free(other);
    ck_assert_msg(!strstr(text, "<script>alert") && !strstr(text, "<i>"), "%s: raw name",
                  e->d_name);
    bool entity_page = e->d_name[0] == 'd' || e->d_name[0] == 't';
    pages += entity_page;
    pictures += entity_page && strstr(text, "<svg") != NULL;
    free(text);
  }
  closedir(d);
  ck_assert_uint_eq(pages, 3 + 3); /* tables.html counts as 't': 3 dashboards, 2 tables + list */
  ck_assert_uint_eq(pictures, 5);
  free(out);
  free(again);
}
END_TEST

START_TEST(command_errors_and_replacement) {
  char *out = test_path("%s/site", t_dir), *err = NULL;
  char *missing = test_path("%s/none.db", t_dir);
  ck_assert_int_eq(etlhost_site(missing, out, &err), 2);
  ck_assert_msg(strstr(err, "none.db': cannot open"), "%s", err);
  ck_assert_int_eq(access(out, F_OK), -1);
  free(err);

  /* DIR under a regular file: cannot be created (holds for root too) */
  char *file = test_path("%s/plain", t_dir), *under = test_path("%s/plain/site", t_dir);
  ck_assert_int_eq(test_write_file(file, "x"), 0);
  ck_assert_int_ne(etlhost_site(catalog_path, under, &err), 0);
  ck_assert_msg(strstr(err, "plain/site"), "%s", err);
  free(err);

  ck_assert_int_eq(etlhost_site(catalog_path, out, &err), 0);
  free(err);
  char *marker = test_path("%s/.etlhost-site", out), *extra = test_path("%s/mine.txt", out);
  ck_assert_int_eq(access(marker, F_OK), 0);
  ck_assert_int_eq(test_write_file(extra, "left by the user in the old site"), 0);
  /* a second run replaces the whole earlier site, and leaves nothing of its own beside it */
  ck_assert_int_eq(etlhost_site(catalog_path, out, &err), 0);
  free(err);
  ck_assert_int_eq(access(extra, F_OK), -1);
  DIR *d = opendir(t_dir);
  for (struct dirent *e; (e = readdir(d));)
    ck_assert_msg(!strstr(e->d_name, ".tmp-") && !strstr(e->d_name, ".old-"), "left: %s",
                  e->d_name);
  closedir(d);

  /* a directory that is not a site is never replaced */
  char *mine = test_path("%s/mine", t_dir), *precious = test_path("%s/mine/precious", t_dir);
  ck_assert_int_eq(mkdir(mine, 0755), 0);
  ck_assert_int_eq(test_write_file(precious, "x"), 0);
  ck_assert_int_eq(etlhost_site(catalog_path, mine, &err), 2);
  ck_assert_msg(strstr(err, "is not a site written by etlhost"), "%s", err);
  ck_assert_int_eq(access(precious, F_OK), 0);
  free(err);

  /* a catalog that fails half-way (bad JSON) leaves the earlier site in place */
  sqlite3 *db = NULL;
  ck_assert_int_eq(sqlite3_open(catalog_path, &db), SQLITE_OK);
  ck_assert_int_eq(
      sqlite3_exec(db, "UPDATE entities SET json = '[' WHERE id = 'm2'", NULL, NULL, NULL),
      SQLITE_OK);
  sqlite3_close(db);
  ck_assert_int_eq(etlhost_site(catalog_path, out, &err), 2);
  ck_assert_int_eq(access(marker, F_OK), 0);
  free(err);
  free(out);
  free(missing);
  free(file);
  free(under);
  free(marker);
  free(extra);
  free(mine);
  free(precious);
}
END_TEST

static Suite *site_suite(void) {
  Suite *s = suite_create("site");
  TCase *tc = tcase_create("site");
  tcase_add_loop_test(tc, escaping_writer, 0, (int)(sizeof escapes / sizeof *escapes));
  tcase_add_test(tc, page_names_are_safe_and_unique);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, model_reads_the_catalog);
  tcase_add_test(tc, model_refuses_what_is_not_a_catalog);
  tcase_add_test(tc, site_of_hostile_names);
  tcase_add_test(tc, command_errors_and_replacement);
  tcase_add_test(tc, command_pictures_of_hostile_names);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return test_run_suite(site_suite());
}
