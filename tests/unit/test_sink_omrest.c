/*
 * test_sink_omrest.c -- the metadata-rest sink against om-sim: records fed directly, as the
 * runner feeds them (begin_source, write*, commit, end_source).
 *
 * What a user would notice: a Mode-like set lands with owners and lineage; running it again
 * changes nothing; 20% injected 5xx/429 end in the same store; a record the server refuses is
 * named with the server's message while the rest lands; a wrong JWT stops the run and never
 * shows up in the output; markDeletedDashboards soft-deletes only after a complete run; every
 * request body the server saw validates against OpenMetadata's schemas.
 */
#include "config.h"

#include "log.h"
#include "omrest_client.h"
#include "omrest_json.h"
#include "sink_omrest.h"
#include "testutil.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#define JWT "eyJhbGciOiJIUzI1NiJ9.om-sim-test-token.c2lnbmF0dXJl"

/* ---- fixtures ---------------------------------------------------------------------------------
 */

struct fixture_rec {
  const char *kind, *id, *json;
};

/* A report with one chart, a query and a dataset as data models, a second report, lineage from
 * seeded tables (one exact, one with an unknown database, one missing) and usage. */
static const struct fixture_rec mode_records[] = {
    {"dashboardService", "mode_svc", "{\"data\":{\"name\":\"mode_svc\",\"serviceType\":\"Mode\"}}"},
    {"chart", "f622b9ee725b",
     "{\"data\":{\"name\":\"f622b9ee725b\",\"displayName\":\"Customer Staff Table\","
     "\"chartType\":\"Table\",\"sourceUrl\":\"https://app.mode.com/acryl/reports/9d2da37fa91e/viz/"
     "f622b9ee725b\",\"service\":\"mode_svc\"},"
     "\"owners\":[{\"type\":\"user\",\"name\":\"modeuser\",\"email\":\"mode@example.com\"}]}"},
    {"chart", "c2two",
     "{\"data\":{\"name\":\"c2two\",\"displayName\":\"Second\",\"chartType\":\"Line\","
     "\"service\":\"mode_svc\"},"
     "\"owners\":[{\"type\":\"user\",\"name\":\"ghost\",\"email\":null}]}"},
    {"dashboardDataModel", "q1tok",
     "{\"data\":{\"name\":\"q1tok\",\"displayName\":\"Query 1\",\"service\":\"mode_svc\","
     "\"dataModelType\":\"ModeDataModel\",\"sql\":\"select * from customer join payment using "
     "(customer_id)\",\"columns\":[]}}"},
    {"dashboardDataModel", "ds1tok",
     "{\"data\":{\"name\":\"ds1tok\",\"displayName\":\"Dataset\",\"service\":\"mode_svc\","
     "\"dataModelType\":\"ModeDataModel\",\"sql\":\"select 1\",\"columns\":[]}}"},
    {"dashboard", "9d2da37fa91e",
     "{\"data\":{\"name\":\"9d2da37fa91e\",\"displayName\":\"Report 1\",\"description\":\"d\","
     "\"sourceUrl\":\"https://app.mode.com/acryl/reports/9d2da37fa91e\",\"project\":\"Col\","
     "\"charts\":[\"mode_svc.f622b9ee725b\"],"
     "\"dataModels\":[\"mode_svc.model.q1tok\",\"mode_svc.model.ds1tok\"],\"service\":\"mode_svc\"}"
     ","
     "\"owners\":[{\"type\":\"user\",\"name\":\"Mode User\",\"email\":\"mode@example.com\"}]}"},
    {"dashboard", "r2",
     "{\"data\":{\"name\":\"r2\",\"displayName\":\"Report 2\",\"charts\":[],\"dataModels\":[],"
     "\"service\":\"mode_svc\"}}"},
    {"lineage", "pg.dvdrental.public.customer -> mode_svc.model.q1tok",
     "{\"data\":{\"fromEntity\":{\"type\":\"table\",\"fullyQualifiedName\":"
     "\"pg.dvdrental.public.customer\"},\"toEntity\":{\"type\":\"dashboardDataModel\","
     "\"fullyQualifiedName\":\"mode_svc.model.q1tok\"},\"lineageDetails\":{\"sqlQuery\":\"select "
     "1\","
     "\"source\":\"DashboardLineage\"}},\"fromTable\":{\"service\":\"pg\",\"database\":"
     "\"dvdrental\",\"schema\":\"public\",\"name\":\"customer\"}}"},
    {"lineage", "pg.*.public.payment -> mode_svc.model.q1tok",
     "{\"data\":{\"fromEntity\":{\"type\":\"table\",\"fullyQualifiedName\":"
     "\"pg.*.public.payment\"},\"toEntity\":{\"type\":\"dashboardDataModel\","
     "\"fullyQualifiedName\":\"mode_svc.model.q1tok\"},\"lineageDetails\":{\"source\":"
     "\"DashboardLineage\"}},\"fromTable\":{\"service\":\"pg\",\"database\":null,"
     "\"schema\":\"public\",\"name\":\"payment\"}}"},
    {"lineage", "pg.dvdrental.public.missing -> mode_svc.model.q1tok",
     "{\"data\":{\"fromEntity\":{\"type\":\"table\",\"fullyQualifiedName\":"
     "\"pg.dvdrental.public.missing\"},\"toEntity\":{\"type\":\"dashboardDataModel\","
     "\"fullyQualifiedName\":\"mode_svc.model.q1tok\"}}}"},
    {"lineage", "mode_svc.model.q1tok -> mode_svc.9d2da37fa91e",
     "{\"data\":{\"fromEntity\":{\"type\":\"dashboardDataModel\",\"fullyQualifiedName\":"
     "\"mode_svc.model.q1tok\"},\"toEntity\":{\"type\":\"dashboard\",\"fullyQualifiedName\":"
     "\"mode_svc.9d2da37fa91e\"},\"lineageDetails\":{\"source\":\"DashboardLineage\"}}}"},
    {"usage", "9d2da37fa91e",
     "{\"data\":{\"date\":\"2024-05-01\",\"count\":12},\"entity\":{\"type\":\"dashboard\","
     "\"fullyQualifiedName\":\"mode_svc.9d2da37fa91e\"}}"},
};

#define N_MODE (sizeof mode_records / sizeof mode_records[0])

struct env {
  char *dir;
  struct test_server sim;
  char *bodies;
  FILE *log_file;
  char *log_text;
  size_t log_len;
  struct host_log *log;
};

static void env_start(struct env *e, const char *faults, const char *jwt_on_server) {
  memset(e, 0, sizeof *e);
  e->dir = test_tmpdir();
  char *tables = test_path("%s/tables.txt", e->dir);
  char *users = test_path("%s/users.txt", e->dir);
  e->bodies = test_path("%s/bodies.jsonl", e->dir);
  ck_assert_int_eq(test_write_file(tables, "pg.dvdrental.public.customer\n"
                                           "pg.dvdrental.public.payment\n"
                                           "pg.dvdrental.public.staff\n"),
                   0);
  ck_assert_int_eq(test_write_file(users, "modeuser mode@example.com\n"), 0);
  char *sim = test_path("%s/tests/om-sim/om-sim", test_builddir());
  char *argv[16];
  int n = 0;
  argv[n++] = sim;
  argv[n++] = "--jwt";
  argv[n++] = (char *)jwt_on_server;
  argv[n++] = "--seed-tables";
  argv[n++] = tables;
  argv[n++] = "--seed-users";
  argv[n++] = users;
  argv[n++] = "--bodies";
  argv[n++] = e->bodies;
  if (faults) {
    argv[n++] = "--faults";
    argv[n++] = (char *)faults;
    argv[n++] = "--seed";
    argv[n++] = "7";
  }
  argv[n] = NULL;
  ck_assert_int_eq(test_server_start(&e->sim, argv), 0);
  e->log_file = open_memstream(&e->log_text, &e->log_len);
  e->log = host_log_new(e->log_file, ETL_SEV_DEBUG);
  free(sim);
  free(tables);
  free(users);
}

static void env_stop(struct env *e) {
  test_server_stop(&e->sim);
  host_log_free(&e->log);
  fclose(e->log_file);
  free(e->log_text);
  test_rmtree(e->dir);
  free(e->dir);
  free(e->bodies);
}

static const char *log_text(struct env *e) {
  fflush(e->log_file);
  return e->log_text ? e->log_text : "";
}

static char *workflow_json(struct env *e, const char *jwt) {
  char *wf = NULL;
  ck_assert_int_ge(asprintf(&wf,
                            "{\"openMetadataServerConfig\":{\"hostPort\":\"%s/api\","
                            "\"authProvider\":\"openmetadata\",\"securityConfig\":"
                            "{\"jwtToken\":\"%s\"}}}",
                            e->sim.base_url, jwt),
                   0);
  return wf;
}

static void *make_sink(struct env *e, const char *config, const char *jwt) {
  char *wf = workflow_json(e, jwt);
  void *sink = NULL;
  etl_status st = host_sink_metadata_rest.create(config, wf, e->log, &sink);
  free(wf);
  ck_assert_msg(st == ETL_OK, "create: %s\n%s", etl_status_name(st), log_text(e));
  return sink;
}

/* Feeds the records (skipping ids in `skip`), commits, ends the source. Returns commit's status.
 * *rejected_at_write counts write() rejects. */
/* A handful of records, where one deletion exceeds the deletion fail-safe's default share:
 * the tests of deletion lift it; the fail-safe's own test sets 0 (the default). */
static double feed_fail_safe = 100;
/* The source's sourceConfig.config as the runner hands it to end_source (NULL: none). */
static const char *feed_source_config = NULL;

static etl_status feed(void *sink, const struct fixture_rec *recs, size_t n, const char *skip,
                       bool complete) {
  const struct host_sink_ops *ops = &host_sink_metadata_rest;
  ck_assert_int_eq(ops->begin_source(sink, "mode_svc", "mode"), ETL_OK);
  for (size_t i = 0; i < n; i++) {
    if (skip && strstr(skip, recs[i].id))
      continue;
    struct host_record r = {"mode_svc", recs[i].kind, recs[i].id, recs[i].json,
                            strlen(recs[i].json)};
    bool rejected = false;
    ck_assert_int_eq(ops->write(sink, &r, &rejected), ETL_OK);
  }
  etl_status st = ops->commit(sink);
  struct host_source_outcome o = {
      .complete = complete && st == ETL_OK,
      .run_id = 1,
      .source_config_json = feed_source_config,
      .fail_safe_threshold = feed_fail_safe};
  etl_status end = ops->end_source(sink, "mode_svc", &o);
  return st != ETL_OK ? st : end;
}

static char *store(struct env *e) {
  char *url = test_path("%s/__sim/store", e->sim.base_url);
  char *body = NULL;
  long status = 0;
  ck_assert_int_eq(test_http_get(url, &body, &status), 0);
  ck_assert_int_eq(status, 200);
  free(url);
  return body;
}

static int count_of(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
    n++;
  return n;
}

/* Runs validate.py over the bodies om-sim captured; skips (returns) if jsonschema is absent. */
static void validate_bodies(struct env *e) {
  const char *py = getenv("PYTHON3") ? getenv("PYTHON3") : "/usr/bin/python3";
  char *probe_argv[] = {(char *)py, "-c", "import jsonschema", NULL};
  if (test_run(probe_argv, NULL, NULL, NULL) != 0) {
    fprintf(stderr, "# python3-jsonschema missing: request bodies not validated\n");
    return;
  }
  char *script = test_path("%s/openmetadata-schemas/validate.py", test_fixtures_dir());
  char *cmd =
      test_path("'%s' '%s' --extra-datamodel-type ModeDataModel < '%s'", py, script, e->bodies);
  char *argv[] = {"/bin/sh", "-c", cmd, NULL};
  char *out = NULL;
  int rc = test_run(argv, NULL, &out, NULL);
  ck_assert_msg(rc == 0, "request bodies invalid:\n%s", out ? out : "");
  ck_assert_msg(strstr(out, " 0 invalid") != NULL, "%s", out);
  int valid = atoi(out); /* "N valid, 0 invalid": every PUT the sink made */
  ck_assert_msg(valid >= 11, "only %d request bodies captured:\n%s", valid, out);
  free(out);
  free(cmd);
  free(script);
}

/* ---- talking to om-sim directly ------------------------------------------------------------ */

struct answer {
  long status;
  char *body; /* owned */
  size_t len;
};

static size_t on_bytes(char *p, size_t size, size_t n, void *ctx) {
  struct answer *a = ctx;
  char *nb = realloc(a->body, a->len + size * n + 1);
  ck_assert_ptr_nonnull(nb);
  memcpy(nb + a->len, p, size * n);
  a->len += size * n;
  nb[a->len] = '\0';
  a->body = nb;
  return size * n;
}

/* One request to om-sim's /api/v1 with `jwt` (NULL: no Authorization header). */
static struct answer sim_call(struct env *e, const char *method, const char *path, const char *body,
                              const char *jwt) {
  struct answer a = {0};
  char *url = test_path("%s/api/v1/%s", e->sim.base_url, path);
  char *auth = test_path("Authorization: Bearer %s", jwt ? jwt : "");
  struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
  if (jwt)
    h = curl_slist_append(h, auth);
  CURL *c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_bytes);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
  if (body)
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
  ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a.status);
  curl_easy_cleanup(c);
  curl_slist_free_all(h);
  free(auth);
  free(url);
  if (!a.body)
    a.body = strdup("");
  return a;
}

/* What OpenMetadata's server refuses (or how it answers), request by request, in order: each
 * case names the server class the rule comes from (docs/om-sim.md). */
static const struct sim_case {
  const char *method, *path, *body;
  long status;
  const char *want; /* a substring of the answer */
} sim_cases[] = {
    /* setup: a service, a chart, a data model */
    {"PUT", "services/dashboardServices", "{\"name\":\"svc\",\"serviceType\":\"Mode\"}", 201,
     "\"fullyQualifiedName\":\"svc\""},
    {"PUT", "charts", "{\"name\":\"c1\",\"service\":\"svc\"}", 201,
     "\"fullyQualifiedName\":\"svc.c1\",\"version\":0.1"},
    {"PUT", "dashboard/datamodels",
     "{\"name\":\"q1\",\"service\":\"svc\",\"dataModelType\":\"ModeDataModel\",\"columns\":[]}",
     201, "\"fullyQualifiedName\":\"svc.model.q1\""}, /* DashboardDataModelRepository */
    /* ChartMapper: a chart's dashboards must exist */
    {"PUT", "charts", "{\"name\":\"c2\",\"service\":\"svc\",\"dashboards\":[\"svc.d1\"]}", 404,
     "dashboard instance for svc.d1 not found"},
    /* DashboardMapper: charts and data models must exist; a data model is svc.model.NAME */
    {"PUT", "dashboards", "{\"name\":\"d1\",\"service\":\"svc\",\"charts\":[\"svc.nochart\"]}", 404,
     "chart instance for svc.nochart not found"},
    {"PUT", "dashboards", "{\"name\":\"d1\",\"service\":\"svc\",\"dataModels\":[\"svc.q1\"]}", 404,
     "dashboardDataModel instance for svc.q1 not found"},
    {"PUT", "dashboards",
     "{\"name\":\"d1\",\"service\":\"svc\",\"charts\":[\"svc.c1\"],\"dataModels\":[\"svc.model."
     "q1\"]}",
     201, "\"fullyQualifiedName\":\"svc.d1\""},
    /* the service, owners, domains, tags must exist (mappers, EntityRepository) */
    {"PUT", "charts", "{\"name\":\"c3\",\"service\":\"nosvc\"}", 404,
     "dashboardService instance for nosvc not found"},
    {"PUT", "charts",
     "{\"name\":\"c3\",\"service\":\"svc\",\"owners\":[{\"id\":\"00000000-0000-4000-8000-"
     "000000000001\",\"type\":\"user\"}]}",
     404, "user instance for 00000000-0000-4000-8000-000000000001 not found"},
    {"PUT", "charts", "{\"name\":\"c3\",\"service\":\"svc\",\"domains\":[\"Finance\"]}", 404,
     "domain instance for Finance not found"},
    {"PUT", "charts",
     "{\"name\":\"c3\",\"service\":\"svc\",\"tags\":[{\"tagFQN\":\"PII.Sensitive\","
     "\"source\":\"Classification\"}]}",
     404, "tag instance for PII.Sensitive not found"},
    /* entityName (type/basic.json) and FullyQualifiedName.quoteName */
    {"PUT", "charts", "{\"name\":\"a::b\",\"service\":\"svc\"}", 400,
     "[name must match \\\"^((?!::).)*$\\\"]"},
    {"PUT", "charts", "{\"name\":\"\",\"service\":\"svc\"}", 400,
     "[name size must be between 1 and 256]"},
    {"PUT", "charts", "{\"name\":\"a\\\"b\",\"service\":\"svc\"}", 400, "Invalid name a\\\"b"},
    {"PUT", "charts", "{\"name\":\"a.b\",\"service\":\"svc\"}", 201,
     "\"fullyQualifiedName\":\"svc.\\\"a.b\\\"\""},
    /* EntityRepository.createOrUpdate: no change, no new version; a change moves it */
    {"PUT", "charts", "{\"name\":\"c1\",\"service\":\"svc\"}", 200, "\"version\":0.1"},
    {"PUT", "charts", "{\"name\":\"c1\",\"service\":\"svc\",\"description\":\"x\"}", 200,
     "\"version\":0.2"},
    /* LineageRepository.addLineage: both ends by id and type; the answer has no body */
    {"PUT", "lineage",
     "{\"edge\":{\"fromEntity\":{\"id\":\"00000000-0000-4000-8000-000000000002\",\"type\":"
     "\"table\"},\"toEntity\":{\"id\":\"00000000-0000-4000-8000-000000000003\",\"type\":"
     "\"dashboard\"}}}",
     404, "table instance for 00000000-0000-4000-8000-000000000002 not found"},
    /* UsageRepository: the entity must exist, the date must be one */
    {"POST", "usage/dashboard/name/svc.nod", "{\"date\":\"2024-05-01\",\"count\":1}", 404,
     "dashboard instance for svc.nod not found"},
    {"POST", "usage/dashboard/name/svc.d1", "{\"date\":\"2024-13-01\",\"count\":1}", 400,
     "2024-13-01"},
    {"POST", "usage/dashboard/name/svc.d1", "{\"date\":\"2024-05-01\",\"count\":-1}", 400, "count"},
    {"PUT", "usage/dashboard/name/svc.d1", "{\"date\":\"2024-05-01\",\"count\":5}", 201, ""},
    {"PUT", "usage/dashboard/name/svc.d1", "{\"date\":\"2024-05-01\",\"count\":5}", 201, ""},
    /* EntityResource lists: paged with an "after" cursor (three charts, two a page) */
    {"PUT", "charts", "{\"name\":\"c4\",\"service\":\"svc\"}", 201, "\"version\":0.1"},
    {"GET", "charts?service=svc&limit=2", NULL, 200, "\"after\":"},
};

/* ---- tests -------------------------------------------------------------------------------------
 */

START_TEST(om_sim_refuses_what_the_server_refuses) {
  struct env e;
  env_start(&e, NULL, JWT);
  for (size_t i = 0; i < sizeof sim_cases / sizeof sim_cases[0]; i++) {
    const struct sim_case *k = &sim_cases[i];
    struct answer a = sim_call(&e, k->method, k->path, k->body, JWT);
    ck_assert_msg(a.status == k->status && strstr(a.body, k->want),
                  "case %zu: %s %s %s: want %ld with '%s', got %ld %s", i, k->method, k->path,
                  k->body ? k->body : "", k->status, k->want, a.status, a.body);
    free(a.body);
  }
  /* PUT usage adds to the day's count (UsageDAO.insertOrUpdateCount), POST replaces it. */
  char *st = store(&e);
  ck_assert_msg(strstr(st, "\"date\":\"2024-05-01\",\"count\":10"), "%s", st);
  free(st);
  struct answer a = sim_call(&e, "POST", "usage/dashboard/name/svc.d1",
                             "{\"date\":\"2024-05-01\",\"count\":3}", JWT);
  ck_assert_int_eq(a.status, 201);
  free(a.body);
  st = store(&e);
  ck_assert_msg(strstr(st, "\"date\":\"2024-05-01\",\"count\":3"), "%s", st);
  free(st);
  /* The second page of the chart listing ends it: no further cursor. */
  a = sim_call(&e, "GET", "charts?service=svc&limit=2", NULL, JWT);
  char err[128];
  yajl_val v = yajl_tree_parse(a.body, err, sizeof err);
  const char *after_path[] = {"paging", "after", NULL};
  const char *after = YAJL_GET_STRING(yajl_tree_get(v, after_path, yajl_t_string));
  ck_assert_ptr_nonnull(after);
  char *page2 = test_path("charts?service=svc&limit=2&after=%s", after);
  struct answer b = sim_call(&e, "GET", page2, NULL, JWT);
  ck_assert_int_eq(b.status, 200);
  ck_assert_msg(!strstr(b.body, "\"after\"") && strstr(b.body, "\"name\":"), "%s", b.body);
  free(b.body);
  free(page2);
  yajl_tree_free(v);
  free(a.body);
  /* A missing or wrong JWT is 401 (JwtFilter); the version is public. */
  a = sim_call(&e, "GET", "charts", NULL, NULL);
  ck_assert_int_eq(a.status, 401);
  free(a.body);
  a = sim_call(&e, "GET", "charts", NULL, "eyJ.wrong");
  ck_assert_int_eq(a.status, 401);
  free(a.body);
  a = sim_call(&e, "GET", "system/version", NULL, NULL);
  ck_assert_int_eq(a.status, 200);
  free(a.body);
  env_stop(&e);
}
END_TEST

/* A search may answer with entities that are not the one looked for (a loose match): only a hit
 * whose FQN is the one looked for, part by part, may become a lineage end. */
START_TEST(search_hits_are_checked_against_the_name) {
  struct env e;
  env_start(&e, "search=any", JWT);
  void *sink = make_sink(&e, "{\"retryBackoffMs\": 5}", JWT);
  ck_assert_int_eq(feed(sink, mode_records, N_MODE, NULL, true), ETL_OK);
  char *s = store(&e);
  /* pg.*.public.payment: three tables come back, one is payment; customer is exact. */
  ck_assert_int_eq(count_of(s, "\"fromFqn\":\"pg.dvdrental.public.payment\""), 1);
  ck_assert_int_eq(count_of(s, "\"fromFqn\":\"pg.dvdrental.public.staff\""), 0);
  ck_assert_int_eq(count_of(s, "\"fromId\""), 3);
  free(s);
  host_sink_metadata_rest.destroy(&sink);
  env_stop(&e);
}
END_TEST

/* A first run into an empty server, the report's chart and data models written in the same
 * window: the dashboard lists them all; one the server refused is left out, named. */
START_TEST(a_dashboard_lists_only_what_the_server_has) {
  struct env e;
  env_start(&e, "reject-name=ds1tok", JWT);
  void *sink = make_sink(&e, "{\"retryBackoffMs\": 5}", JWT);
  ck_assert_int_eq(feed(sink, mode_records, N_MODE, NULL, true), ETL_OK);
  struct host_omrest_counts c;
  host_omrest_get_counts(sink, &c);
  ck_assert_uint_eq(c.rejected, 1);
  ck_assert_uint_eq(c.refs_dropped, 1);
  char *s = store(&e);
  ck_assert_msg(strstr(s, "\"charts\":[\"mode_svc.f622b9ee725b\"],\"dataModels\":"
                          "[\"mode_svc.model.q1tok\"]"),
                "%s", s);
  free(s);
  const char *log = log_text(&e);
  ck_assert_msg(strstr(log, "dashboard 9d2da37fa91e: dashboardDataModel mode_svc.model.ds1tok is "
                            "not in OpenMetadata: left out of the dashboard"),
                "%s", log);
  host_sink_metadata_rest.destroy(&sink);
  env_stop(&e);
}
END_TEST

/* An edge whose table the server does not have yet is kept (take_pending) and lands on a later
 * run once the table exists, though the source does not send it again. */
START_TEST(pending_lineage_lands_on_a_later_run) {
  struct env e;
  env_start(&e, NULL, JWT);
  const struct host_sink_ops *ops = &host_sink_metadata_rest;
  void *sink = make_sink(&e, "{\"retryBackoffMs\": 5}", JWT);
  ck_assert_int_eq(feed(sink, mode_records, N_MODE, NULL, true), ETL_OK);
  char *pending = ops->take_pending(sink, "mode_svc");
  ck_assert_ptr_nonnull(pending);
  ck_assert_msg(strstr(pending, "\"item\":\"lineage pg.dvdrental.public.missing -> "
                                "mode_svc.model.q1tok\",\"runs\":1"),
                "%s", pending);
  ops->destroy(&sink);
  char *url = test_path("%s/__sim/seed?type=table&fqn=pg.dvdrental.public.missing", e.sim.base_url);
  char *body = NULL;
  long status = 0;
  ck_assert_int_eq(test_http_get(url, &body, &status), 0);
  ck_assert_int_eq(status, 200);
  free(body);
  free(url);
  /* The next run: the source sends nothing new (incremental), the kept edge goes out. */
  sink = make_sink(&e, "{\"retryBackoffMs\": 5}", JWT);
  ck_assert_int_eq(ops->begin_source(sink, "mode_svc", "mode"), ETL_OK);
  ck_assert_int_eq(ops->load_pending(sink, "mode_svc", pending, strlen(pending)), ETL_OK);
  ck_assert_int_eq(ops->commit(sink), ETL_OK);
  struct host_source_outcome o = {.complete = true, .run_id = 2};
  ck_assert_int_eq(ops->end_source(sink, "mode_svc", &o), ETL_OK);
  char *left = ops->take_pending(sink, "mode_svc");
  ck_assert_str_eq(left, "[]");
  char *st = store(&e);
  ck_assert_int_eq(count_of(st, "\"fromFqn\":\"pg.dvdrental.public.missing\""), 1);
  free(st);
  free(left);
  free(pending);
  ops->destroy(&sink);
  env_stop(&e);
}
END_TEST

/* ---- pending entities: sent without an owner or a reference the server lacks ------------------
 */

/* One member of the stored entity kind/fqn, as JSON text ("null" when it has none); NULL when
 * the store has no such entity. */
static char *stored_member(struct env *e, const char *kind, const char *fqn, const char *member) {
  char *s = store(e), err[128], *out = NULL;
  yajl_val tree = host_json_parse(s, strlen(s), err, sizeof err);
  ck_assert_msg(tree != NULL, "store: %s", err);
  yajl_val list = host_json_get(host_json_get(tree, "entities"), kind);
  for (size_t i = 0; YAJL_IS_ARRAY(list) && i < list->u.array.len && !out; i++) {
    yajl_val ent = list->u.array.values[i];
    const char *f = host_json_str(ent, "fullyQualifiedName");
    if (!f || strcmp(f, fqn) != 0)
      continue;
    yajl_val v = host_json_get(ent, member);
    yajl_gen g = yajl_gen_alloc(NULL);
    if (v)
      host_json_gen_value(g, v);
    else
      yajl_gen_null(g);
    out = host_json_gen_take(g);
    yajl_gen_free(g);
  }
  yajl_tree_free(tree);
  free(s);
  return out;
}

static void seed(struct env *e, const char *what) {
  char *url = test_path("%s/__sim/seed?%s", e->sim.base_url, what);
  char *body = NULL;
  long status = 0;
  ck_assert_int_eq(test_http_get(url, &body, &status), 0);
  ck_assert_int_eq(status, 200);
  free(body);
  free(url);
}

/* Run 1 of the pending-entity tests: chart c2two's owner "ghost" is no user of the server, and
 * dashboard 9d2da37fa91e names data model ds1tok, which this run does not send. Both land
 * without what is missing and are kept; returns what take_pending kept (caller frees). */
static char *run1_with_missing_owner_and_model(struct env *e) {
  const struct host_sink_ops *ops = &host_sink_metadata_rest;
  void *sink = make_sink(e, "{\"retryBackoffMs\": 5}", JWT);
  ck_assert_int_eq(feed(sink, mode_records, N_MODE, "ds1tok", true), ETL_OK);
  struct host_omrest_counts c;
  host_omrest_get_counts(sink, &c);
  ck_assert_uint_eq(c.entities_pending, 2);
  char *pending = ops->take_pending(sink, "mode_svc");
  ck_assert_ptr_nonnull(pending);
  ck_assert_msg(strstr(pending, "\"item\":\"chart c2two\",\"kind\":\"chart\",\"runs\":1"), "%s",
                pending);
  ck_assert_msg(strstr(pending, "\"item\":\"dashboard 9d2da37fa91e\",\"kind\":\"dashboard\","
                                "\"runs\":1"),
                "%s", pending);
  const char *log = log_text(e);
  ck_assert_msg(strstr(log, "2 entities pending"), "%s", log);
  ops->destroy(&sink);
  char *owners = stored_member(e, "chart", "mode_svc.c2two", "owners");
  ck_assert_str_eq(owners, "null");
  free(owners);
  return pending;
}

/* Run 2: the previous run's pending records loaded, `sent` written anew, the rest of the source
 * retained (an incremental run), then the end of the source. Returns the sink (not destroyed). */
static void *run2_incremental(struct env *e, const char *pending, const char *sent,
                              const char *const *retained_dashboards, size_t n_dash,
                              bool complete) {
  const struct host_sink_ops *ops = &host_sink_metadata_rest;
  void *sink = make_sink(e, "{\"retryBackoffMs\": 5}", JWT);
  ck_assert_int_eq(ops->begin_source(sink, "mode_svc", "mode"), ETL_OK);
  ck_assert_int_eq(ops->load_pending(sink, "mode_svc", pending, strlen(pending)), ETL_OK);
  for (size_t i = 0; i < N_MODE; i++) {
    if (!sent || !strstr(sent, mode_records[i].id))
      continue;
    struct host_record r = {"mode_svc", mode_records[i].kind, mode_records[i].id,
                            mode_records[i].json, strlen(mode_records[i].json)};
    bool rejected = false;
    ck_assert_int_eq(ops->write(sink, &r, &rejected), ETL_OK);
  }
  /* What Mode still has and did not change (report 9d2da37fa91e owns both charts here). */
  bool report1 = false;
  for (size_t i = 0; i < n_dash; i++)
    report1 = report1 || strcmp(retained_dashboards[i], "9d2da37fa91e") == 0;
  const char *charts[] = {"f622b9ee725b", "c2two"}, *models[] = {"q1tok"};
  ck_assert_int_eq(ops->retain(sink, "mode_svc", "dashboard", retained_dashboards, n_dash), ETL_OK);
  ck_assert_int_eq(ops->retain(sink, "mode_svc", "chart", charts, report1 ? 2 : 0), ETL_OK);
  ck_assert_int_eq(ops->retain(sink, "mode_svc", "dashboardDataModel", models, 1), ETL_OK);
  ck_assert_int_eq(ops->commit(sink), ETL_OK);
  struct host_source_outcome o = {.complete = complete, .run_id = 2, .fail_safe_threshold = 100};
  ck_assert_int_eq(ops->end_source(sink, "mode_svc", &o), ETL_OK);
  return sink;
}

/* The normal first-run order: a chart lands without its owner, who has not signed in to
 * OpenMetadata yet, and a dashboard without a data model the server lacks. The next run is
 * incremental: nothing changed in Mode, so the source sends neither again; the kept records
 * are sent once more and land whole (issue 9: 73 of 73 owners never landed). */
START_TEST(pending_entities_land_on_a_later_incremental_run) {
  struct env e;
  env_start(&e, NULL, JWT);
  char *pending = run1_with_missing_owner_and_model(&e);
  seed(&e, "type=user&fqn=ghost");
  const char *dash[] = {"9d2da37fa91e", "r2"};
  void *sink = run2_incremental(&e, pending, "ds1tok", dash, 2, true);
  struct host_omrest_counts c;
  host_omrest_get_counts(sink, &c);
  ck_assert_uint_eq(c.entities_pending, 0);
  char *left = host_sink_metadata_rest.take_pending(sink, "mode_svc");
  ck_assert_msg(!strstr(left, "\"kind\""), "%s", left); /* only the lineage edge still waits */
  char *owners = stored_member(&e, "chart", "mode_svc.c2two", "owners");
  ck_assert_msg(owners && strstr(owners, "\"type\":\"user\""), "%s", owners ? owners : "(none)");
  char *models = stored_member(&e, "dashboard", "mode_svc.9d2da37fa91e", "dataModels");
  ck_assert_str_eq(models, "[\"mode_svc.model.q1tok\",\"mode_svc.model.ds1tok\"]");
  const char *log = log_text(&e);
  ck_assert_msg(strstr(log, "0 entities pending"), "%s", log);
  free(models);
  free(owners);
  free(left);
  free(pending);
  host_sink_metadata_rest.destroy(&sink);
  env_stop(&e);
}
END_TEST

/* A kept record the server refuses when it is sent again at the end of the source is a late
 * reject like one refused at a commit: take_rejected reports it after end_source, for the
 * runner to count as failed (tests/e2e/test_om_e2e.sh 32 checks the run summary). */
START_TEST(a_pending_entity_refused_again_is_a_late_reject) {
  struct env e;
  env_start(&e, NULL, JWT);
  char *pending = run1_with_missing_owner_and_model(&e);
  seed(&e, "type=user&fqn=ghost");
  char *url = test_path("%s/__sim/faults?spec=reject-name=c2two", e.sim.base_url);
  char *body = NULL;
  long status = 0;
  ck_assert_int_eq(test_http_get(url, &body, &status), 0);
  ck_assert_int_eq(status, 200);
  const char *dash[] = {"9d2da37fa91e", "r2"};
  void *sink = run2_incremental(&e, pending, "ds1tok", dash, 2, true);
  ck_assert_uint_eq(host_sink_metadata_rest.take_rejected(sink), 1);
  const char *log = log_text(&e);
  ck_assert_msg(strstr(log, "chart c2two: rejected by OpenMetadata (HTTP 400)"), "%s", log);
  free(body);
  free(url);
  free(pending);
  host_sink_metadata_rest.destroy(&sink);
  env_stop(&e);
}
END_TEST

/* A kept record whose report Mode has deleted since is not sent again (that would bring it
 * back to life, as mode-sim --mutate showed); it is dropped and soft-deleted like any other
 * entity the complete run did not see. */
START_TEST(a_pending_entity_the_source_no_longer_has_is_dropped) {
  struct env e;
  env_start(&e, NULL, JWT);
  char *pending = run1_with_missing_owner_and_model(&e);
  seed(&e, "type=user&fqn=ghost");
  const char *dash[] = {"r2"};
  void *sink = run2_incremental(&e, pending, "ds1tok", dash, 1, true);
  char *left = host_sink_metadata_rest.take_pending(sink, "mode_svc");
  ck_assert_msg(!strstr(left, "\"kind\""), "%s", left);
  char *deleted = stored_member(&e, "dashboard", "mode_svc.9d2da37fa91e", "deleted");
  ck_assert_str_eq(deleted, "true");
  char *owners = stored_member(&e, "chart", "mode_svc.c2two", "owners");
  ck_assert_str_eq(owners, "null"); /* not sent again */
  const char *log = log_text(&e);
  ck_assert_msg(strstr(log, "dashboard 9d2da37fa91e: no longer in the source: dropped from the "
                            "pending records"),
                "%s", log);
  free(owners);
  free(deleted);
  free(left);
  free(pending);
  host_sink_metadata_rest.destroy(&sink);
  env_stop(&e);
}
END_TEST

/* A record the source sends anew supersedes the kept copy: the old one is not sent after it.
 * An incomplete run keeps what it did not see, since it may only not have got that far. */
START_TEST(a_fresh_record_supersedes_its_pending_copy) {
  struct env e;
  env_start(&e, NULL, JWT);
  char *pending = run1_with_missing_owner_and_model(&e);
  /* The kept copy of c2two is altered so that sending it would show; the source sends the chart
   * anew as it is, "Second". */
  char *edited = strdup(pending);
  char *at = strstr(edited, "\"displayName\":\"Second\"");
  ck_assert_ptr_nonnull(at);
  memcpy(at, "\"displayName\":\"Sec0nd\"", 22);
  void *sink = run2_incremental(&e, edited, "c2two", NULL, 0, false);
  char *name = stored_member(&e, "chart", "mode_svc.c2two", "displayName");
  ck_assert_str_eq(name, "\"Second\""); /* the source's record, not the kept copy */
  char *left = host_sink_metadata_rest.take_pending(sink, "mode_svc");
  ck_assert_msg(strstr(left, "\"item\":\"chart c2two\",\"kind\":\"chart\",\"runs\":1"), "%s",
                left); /* still without its owner: kept again, as the source sent it */
  ck_assert_msg(!strstr(left, "Sec0nd"), "%s", left);
  ck_assert_msg(strstr(left, "\"item\":\"dashboard 9d2da37fa91e\",\"kind\":\"dashboard\","
                             "\"runs\":2"),
                "%s", left); /* not seen, but the run was incomplete */
  free(left);
  free(name);
  free(edited);
  free(pending);
  host_sink_metadata_rest.destroy(&sink);
  env_stop(&e);
}
END_TEST

/* ---- column lineage (issue 10 item 3) ----------------------------------------------------------
 */

/* A query data model over customer and payment, with column lineage as the plugin writes it
 * (/work/notes/colrecord.md): column names lower-cased, `*` for every column of a table, and
 * columns the warehouse does not have ("nickname", "ghost"). */
static const struct fixture_rec column_records[] = {
    {"dashboardService", "mode_svc", "{\"data\":{\"name\":\"mode_svc\",\"serviceType\":\"Mode\"}}"},
    {"dashboardDataModel", "q1tok",
     "{\"data\":{\"name\":\"q1tok\",\"service\":\"mode_svc\",\"dataModelType\":\"ModeDataModel\","
     "\"sql\":\"select ...\",\"columns\":[{\"name\":\"customer_id\",\"dataType\":\"UNKNOWN\"},"
     "{\"name\":\"first_name\",\"dataType\":\"UNKNOWN\"},{\"name\":\"ghost\",\"dataType\":"
     "\"UNKNOWN\"},{\"name\":\"total\",\"dataType\":\"UNKNOWN\"}]}}"},
    {"lineage", "pg.dvdrental.public.customer -> mode_svc.model.q1tok",
     "{\"data\":{\"fromEntity\":{\"type\":\"table\",\"fullyQualifiedName\":"
     "\"pg.dvdrental.public.customer\"},\"toEntity\":{\"type\":\"dashboardDataModel\","
     "\"fullyQualifiedName\":\"mode_svc.model.q1tok\"},\"lineageDetails\":{\"source\":"
     "\"DashboardLineage\",\"columnsLineage\":["
     "{\"fromColumns\":[\"pg.dvdrental.public.customer.customer_id\"],"
     "\"toColumn\":\"mode_svc.model.q1tok.customer_id\"},"
     "{\"fromColumns\":[\"pg.dvdrental.public.customer.first_name\","
     "\"pg.dvdrental.public.customer.nickname\"],\"toColumn\":\"mode_svc.model.q1tok.first_name\"},"
     "{\"fromColumns\":[\"pg.dvdrental.public.customer.ghost\"],"
     "\"toColumn\":\"mode_svc.model.q1tok.ghost\"}]}}}"},
    {"lineage", "pg.*.public.payment -> mode_svc.model.q1tok",
     "{\"data\":{\"fromEntity\":{\"type\":\"table\",\"fullyQualifiedName\":"
     "\"pg.*.public.payment\"},\"toEntity\":{\"type\":\"dashboardDataModel\","
     "\"fullyQualifiedName\":\"mode_svc.model.q1tok\"},\"lineageDetails\":{\"source\":"
     "\"DashboardLineage\",\"columnsLineage\":["
     "{\"fromColumns\":[\"pg.*.public.payment.*\",\"pg.*.public.payment.AMOUNT\"],"
     "\"toColumn\":\"mode_svc.model.q1tok.total\"}]}}}"},
};

/* The lineageDetails om-sim stored for the edge from `from` (an FQN), as JSON text. */
static char *stored_details(struct env *e, const char *from) {
  char *s = store(e), err[128], *out = NULL;
  yajl_val tree = host_json_parse(s, strlen(s), err, sizeof err);
  yajl_val list = host_json_get(tree, "lineage");
  for (size_t i = 0; YAJL_IS_ARRAY(list) && i < list->u.array.len && !out; i++) {
    const char *f = host_json_str(list->u.array.values[i], "fromFqn");
    if (!f || strcmp(f, from) != 0)
      continue;
    yajl_gen g = yajl_gen_alloc(NULL);
    host_json_gen_value(g, host_json_get(list->u.array.values[i], "lineageDetails"));
    out = host_json_gen_take(g);
    yajl_gen_free(g);
  }
  yajl_tree_free(tree);
  free(s);
  return out;
}

/* From-columns are resolved against the server's table: the server's spelling (it compares
 * column FQNs exactly), `*` expanded to every column, a column the table lacks dropped with a
 * counted warning, an entry left with none dropped; the edge itself always lands. */
START_TEST(column_lineage_resolves_against_the_tables_columns) {
  struct env e;
  env_start(&e, NULL, JWT);
  seed(&e, "type=table&fqn=pg.dvdrental.public.customer&columns=customer_id,First_Name,email");
  seed(&e, "type=table&fqn=pg.dvdrental.public.payment&columns=amount,customer_id");
  void *sink = make_sink(&e, "{\"retryBackoffMs\": 5}", JWT);
  size_t n = sizeof column_records / sizeof column_records[0];
  ck_assert_int_eq(feed(sink, column_records, n, NULL, true), ETL_OK);
  struct host_omrest_counts c;
  host_omrest_get_counts(sink, &c);
  ck_assert_uint_eq(c.rejected, 0);
  ck_assert_uint_eq(c.columns_dropped, 2); /* nickname, ghost */
  char *d = stored_details(&e, "pg.dvdrental.public.customer");
  ck_assert_msg(d && strstr(d, "\"columnsLineage\":["
                               "{\"fromColumns\":[\"pg.dvdrental.public.customer.customer_id\"],"
                               "\"toColumn\":\"mode_svc.model.q1tok.customer_id\"},"
                               "{\"fromColumns\":[\"pg.dvdrental.public.customer.First_Name\"],"
                               "\"toColumn\":\"mode_svc.model.q1tok.first_name\"}]"),
                "%s", d ? d : "(no edge)");
  free(d);
  d = stored_details(&e, "pg.dvdrental.public.payment");
  ck_assert_msg(d && strstr(d, "\"columnsLineage\":[{\"fromColumns\":["
                               "\"pg.dvdrental.public.payment.amount\","
                               "\"pg.dvdrental.public.payment.customer_id\"],"
                               "\"toColumn\":\"mode_svc.model.q1tok.total\"}]"),
                "%s", d ? d : "(no edge)");
  free(d);
  const char *log = log_text(&e);
  ck_assert_msg(strstr(log, "lineage pg.dvdrental.public.customer -> mode_svc.model.q1tok: "
                            "column nickname is not in table pg.dvdrental.public.customer in "
                            "OpenMetadata: left out of the column lineage"),
                "%s", log);
  host_sink_metadata_rest.destroy(&sink);
  env_stop(&e);
}
END_TEST

/* om-sim refuses a column lineage naming a column the end does not have, or in another case,
 * as LineageRepository.validateLineageDetails does (ColumnUtil.validateColumnFQN). */
START_TEST(om_sim_refuses_an_unknown_column) {
  struct env e;
  env_start(&e, NULL, JWT);
  seed(&e, "type=table&fqn=pg.dvdrental.public.customer&columns=customer_id,First_Name");
  void *sink = make_sink(&e, "{\"retryBackoffMs\": 5}", JWT);
  ck_assert_int_eq(feed(sink, column_records, 2, NULL, true), ETL_OK); /* service, data model */
  host_sink_metadata_rest.destroy(&sink);
  struct answer t = sim_call(&e, "GET", "tables/name/pg.dvdrental.public.customer", NULL, JWT);
  struct answer m =
      sim_call(&e, "GET", "dashboard/datamodels/name/mode_svc.model.q1tok", NULL, JWT);
  char err[128];
  yajl_val tv = host_json_parse(t.body, strlen(t.body), err, sizeof err);
  yajl_val mv = host_json_parse(m.body, strlen(m.body), err, sizeof err);
  static const char *const cases[][3] = {
      {"pg.dvdrental.public.customer.customer_id", "customer_id", "200"},
      {"pg.dvdrental.public.customer.first_name", "first_name", "400"}, /* case counts */
      {"pg.dvdrental.public.customer.nope", "customer_id", "400"},
      {"pg.dvdrental.public.customer.customer_id", "nope", "400"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *body = test_path(
        "{\"edge\":{\"fromEntity\":{\"id\":\"%s\",\"type\":\"table\"},\"toEntity\":{\"id\":\"%s\","
        "\"type\":\"dashboardDataModel\"},\"lineageDetails\":{\"columnsLineage\":[{\"fromColumns\":"
        "[\"%s\"],\"toColumn\":\"mode_svc.model.q1tok.%s\"}]}}}",
        host_json_str(tv, "id"), host_json_str(mv, "id"), cases[i][0], cases[i][1]);
    struct answer a = sim_call(&e, "PUT", "lineage", body, JWT);
    ck_assert_msg(a.status == strtol(cases[i][2], NULL, 10) &&
                      (a.status == 200 || strstr(a.body, "Invalid fully qualified column name")),
                  "case %zu: %ld %s", i, a.status, a.body);
    free(a.body);
    free(body);
  }
  yajl_tree_free(tv);
  yajl_tree_free(mv);
  free(t.body);
  free(m.body);
  env_stop(&e);
}
END_TEST

/* Whatever answers 200 in front of the API (a login page, "{", nothing) stored nothing: the
 * window fails and nothing counts as accepted. */
START_TEST(a_reply_that_is_not_the_entity_fails_the_window) {
  static const char *const fronts[] = {"reply=html", "reply=brace", "reply=empty"};
  for (size_t i = 0; i < 3; i++) {
    struct env e;
    env_start(&e, fronts[i], JWT);
    void *sink = make_sink(&e, "{\"retryBackoffMs\": 5}", JWT);
    ck_assert_int_eq(feed(sink, mode_records, N_MODE, NULL, true), ETL_ERR_PROTOCOL);
    struct host_omrest_counts c;
    host_omrest_get_counts(sink, &c);
    ck_assert_uint_eq(c.accepted, 0);
    const char *log = log_text(&e);
    ck_assert_msg(strstr(log, "is hostPort the API (ending in /api), with no login page"), "%s",
                  log);
    host_sink_metadata_rest.destroy(&sink);
    env_stop(&e);
  }
}
END_TEST

START_TEST(full_run_lands_with_owners_and_lineage) {
  struct env e;
  env_start(&e, NULL, JWT);
  void *sink = make_sink(&e, "{\"retryBackoffMs\": 5}", JWT);
  ck_assert_int_eq(feed(sink, mode_records, N_MODE, NULL, true), ETL_OK);
  struct host_omrest_counts c;
  host_omrest_get_counts(sink, &c);
  ck_assert_uint_eq(c.accepted,
                    11); /* 1 service, 2 charts, 2 models, 2 dashboards, 3 edges, 1 usage */
  ck_assert_uint_eq(c.rejected, 0);
  ck_assert_uint_eq(c.lineage_unresolved, 1);
  ck_assert_uint_eq(c.owners_unknown, 1);
  char *s = store(&e);
  ck_assert_int_eq(count_of(s, "\"fullyQualifiedName\":\"mode_svc.f622b9ee725b\""), 1);
  ck_assert_int_eq(count_of(s, "\"name\":\"9d2da37fa91e\""), 1);
  ck_assert_int_eq(count_of(s, "\"fullyQualifiedName\":\"mode_svc.model.q1tok\""), 1);
  ck_assert_int_eq(count_of(s, "\"fullyQualifiedName\":\"mode_svc.r2\""), 1);
  /* modeuser owns the chart (by name) and the report (found by email). */
  ck_assert_int_eq(count_of(s, "\"owners\":[{\"id\":\"45525b74-02d8-5662-8b69-0bcad4fce0bd\","
                               "\"type\":\"user\"}]"),
                   2);
  ck_assert_int_eq(count_of(s, "\"fromFqn\":\"pg.dvdrental.public.customer\""), 1);
  ck_assert_int_eq(count_of(s, "\"fromFqn\":\"pg.dvdrental.public.payment\""), 1);
  ck_assert_int_eq(count_of(s, "\"toFqn\":\"mode_svc.9d2da37fa91e\""), 1);
  ck_assert_int_eq(count_of(s, "\"fromId\""), 3);
  ck_assert_ptr_nonnull(strstr(s, "\"date\":\"2024-05-01\",\"count\":12"));
  const char *log = log_text(&e);
  ck_assert_msg(strstr(log, "pg.dvdrental.public.missing is not in OpenMetadata"), "%s", log);
  ck_assert_msg(strstr(log, "owner ghost"), "%s", log);
  ck_assert_ptr_null(strstr(log, JWT));
  free(s);
  host_sink_metadata_rest.destroy(&sink);
  ck_assert_ptr_null(sink);
  validate_bodies(&e);
  env_stop(&e);
}
END_TEST

START_TEST(second_identical_run_changes_nothing) {
  struct env e;
  env_start(&e, NULL, JWT);
  void *sink = make_sink(&e, "{\"retryBackoffMs\": 5}", JWT);
  ck_assert_int_eq(feed(sink, mode_records, N_MODE, NULL, true), ETL_OK);
  char *first = store(&e);
  host_sink_metadata_rest.destroy(&sink);
  sink = make_sink(&e, "{\"retryBackoffMs\": 5}", JWT);
  ck_assert_int_eq(feed(sink, mode_records, N_MODE, NULL, true), ETL_OK);
  char *second = store(&e);
  ck_assert_str_eq(first, second); /* same ids, versions, owners, edges, usage */
  free(first);
  free(second);
  host_sink_metadata_rest.destroy(&sink);
  env_stop(&e);
}
END_TEST

START_TEST(injected_faults_end_with_the_same_store) {
  struct env clean, faulty;
  env_start(&clean, NULL, JWT);
  void *sink = make_sink(&clean, "{\"retryBackoffMs\": 2}", JWT);
  ck_assert_int_eq(feed(sink, mode_records, N_MODE, NULL, true), ETL_OK);
  char *want = store(&clean);
  host_sink_metadata_rest.destroy(&sink);
  env_stop(&clean);

  env_start(&faulty, "5xx=0.2,429=0.1", JWT);
  sink = make_sink(&faulty, "{\"retryBackoffMs\": 2, \"retries\": 12}", JWT);
  ck_assert_int_eq(feed(sink, mode_records, N_MODE, NULL, true), ETL_OK);
  struct host_omrest_counts c;
  host_omrest_get_counts(sink, &c);
  ck_assert_uint_gt(c.retries, 0);
  ck_assert_uint_eq(c.rejected, 0);
  char *got = store(&faulty);
  ck_assert_str_eq(got, want);
  free(want);
  free(got);
  host_sink_metadata_rest.destroy(&sink);
  env_stop(&faulty);
}
END_TEST

START_TEST(a_reject_is_reported_and_the_rest_lands) {
  struct env e;
  env_start(&e, "reject-name=c2two", JWT);
  void *sink = make_sink(&e, "{\"retryBackoffMs\": 5}", JWT);
  ck_assert_int_eq(feed(sink, mode_records, N_MODE, NULL, true), ETL_OK);
  struct host_omrest_counts c;
  host_omrest_get_counts(sink, &c);
  ck_assert_uint_eq(c.rejected, 1);
  ck_assert_uint_eq(c.accepted, 10);
  const char *log = log_text(&e);
  ck_assert_msg(strstr(log, "mode_svc: error: chart c2two: rejected by OpenMetadata (HTTP 400): "
                            "om-sim refused chart c2two (injected reject)"),
                "%s", log);
  char *s = store(&e);
  ck_assert_ptr_null(strstr(s, "mode_svc.c2two"));
  ck_assert_ptr_nonnull(strstr(s, "mode_svc.9d2da37fa91e"));
  free(s);
  host_sink_metadata_rest.destroy(&sink);
  env_stop(&e);
}
END_TEST

START_TEST(a_wrong_jwt_stops_and_is_never_printed) {
  struct env e;
  env_start(&e, NULL, JWT);
  const char *wrong = "eyJ-wrong-token-that-must-not-leak";
  void *sink = make_sink(&e, "{\"retryBackoffMs\": 5}", wrong);
  ck_assert_int_eq(feed(sink, mode_records, N_MODE, NULL, true), ETL_ERR_AUTH);
  const char *log = log_text(&e);
  ck_assert_msg(strstr(log, "refused the credentials (check securityConfig.jwtToken) (HTTP 401)"),
                "%s", log);
  ck_assert_ptr_null(strstr(log, wrong));
  char *s = store(&e);
  ck_assert_ptr_null(strstr(s, "mode_svc"));
  free(s);
  host_sink_metadata_rest.destroy(&sink);
  env_stop(&e);
}
END_TEST

/* A complete run that would soft-delete more than failSafeThreshold (default 20%) of what the
 * server lists for the service deletes nothing and says so in one line. */
START_TEST(fail_safe_holds_back_a_mass_soft_delete) {
  struct env e;
  env_start(&e, NULL, JWT);
  void *sink = make_sink(&e, "{\"retryBackoffMs\": 5}", JWT);
  ck_assert_int_eq(feed(sink, mode_records, N_MODE, NULL, true), ETL_OK);
  host_sink_metadata_rest.destroy(&sink);
  sink = make_sink(&e, "{\"retryBackoffMs\": 5, \"markDeletedDashboards\": true}", JWT);
  feed_fail_safe = 0;
  ck_assert_int_eq(feed(sink, mode_records, N_MODE, "r2 ds1tok", true), ETL_OK);
  feed_fail_safe = 100;
  struct host_omrest_counts c;
  host_omrest_get_counts(sink, &c);
  ck_assert_uint_eq(c.deleted, 0);
  char *s = store(&e);
  ck_assert_int_eq(count_of(s, "\"deleted\":true"), 0);
  free(s);
  fflush(e.log_file);
  ck_assert_msg(strstr(e.log_text, "fail-safe: this run would mark 2 of ") != NULL, "%s",
                e.log_text);
  host_sink_metadata_rest.destroy(&sink);
  env_stop(&e);
}
END_TEST

/* markDeletedDashboards follows OpenMetadata's default, true, when neither the source nor the
 * sink says otherwise; false in either place keeps everything. */
START_TEST(mark_deleted_defaults_to_openmetadatas_true) {
  static const struct {
    const char *sink_config, *source_config;
    unsigned long deleted;
  } cases[] = {
      {"{\"retryBackoffMs\": 5}", NULL, 2},
      {"{\"retryBackoffMs\": 5}", "{\"markDeletedDashboards\": false}", 0},
      {"{\"retryBackoffMs\": 5, \"markDeletedDashboards\": false}", "{}", 0},
      {"{\"retryBackoffMs\": 5, \"markDeletedDashboards\": false}",
       "{\"markDeletedDashboards\": true}", 2},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct env e;
    env_start(&e, NULL, JWT);
    void *sink = make_sink(&e, "{\"retryBackoffMs\": 5}", JWT);
    feed_source_config = "{\"markDeletedDashboards\": false}";
    ck_assert_int_eq(feed(sink, mode_records, N_MODE, NULL, true), ETL_OK);
    host_sink_metadata_rest.destroy(&sink);
    sink = make_sink(&e, cases[i].sink_config, JWT);
    feed_source_config = cases[i].source_config;
    ck_assert_int_eq(feed(sink, mode_records, N_MODE, "r2 ds1tok", true), ETL_OK);
    feed_source_config = NULL;
    struct host_omrest_counts c;
    host_omrest_get_counts(sink, &c);
    ck_assert_msg(c.deleted == cases[i].deleted, "case %zu: %lu deleted, want %lu", i, c.deleted,
                  cases[i].deleted);
    host_sink_metadata_rest.destroy(&sink);
    env_stop(&e);
  }
}
END_TEST

START_TEST(mark_deleted_only_after_a_complete_run) {
  struct env e;
  env_start(&e, NULL, JWT);
  void *sink = make_sink(&e, "{\"retryBackoffMs\": 5}", JWT);
  ck_assert_int_eq(feed(sink, mode_records, N_MODE, NULL, true), ETL_OK);
  host_sink_metadata_rest.destroy(&sink);
  /* r2 and the dataset disappear from Mode; the report no longer lists the dataset. */
  struct fixture_rec later[N_MODE];
  memcpy(later, mode_records, sizeof later);
  for (size_t i = 0; i < N_MODE; i++)
    if (strcmp(later[i].id, "9d2da37fa91e") == 0 && strcmp(later[i].kind, "dashboard") == 0)
      later[i].json =
          "{\"data\":{\"name\":\"9d2da37fa91e\",\"displayName\":\"Report 1\","
          "\"charts\":[\"mode_svc.f622b9ee725b\"],\"dataModels\":[\"mode_svc.model.q1tok\"],"
          "\"service\":\"mode_svc\"}}";
  sink = make_sink(&e, "{\"retryBackoffMs\": 5, \"markDeletedDashboards\": true}", JWT);
  ck_assert_int_eq(feed(sink, later, N_MODE, "r2 ds1tok", false), ETL_OK);
  char *s = store(&e);
  ck_assert_int_eq(count_of(s, "\"deleted\":true"), 0); /* partial run: nothing deleted */
  free(s);
  ck_assert_int_eq(feed(sink, later, N_MODE, "r2 ds1tok", true), ETL_OK);
  struct host_omrest_counts c;
  host_omrest_get_counts(sink, &c);
  ck_assert_uint_eq(c.deleted, 2);
  s = store(&e);
  ck_assert_int_eq(count_of(s, "\"deleted\":true"), 2);
  ck_assert_ptr_nonnull(strstr(s, "\"fullyQualifiedName\":\"mode_svc.r2\",\"version\":0.1,"
                                  "\"deleted\":true"));
  free(s);
  host_sink_metadata_rest.destroy(&sink);
  env_stop(&e);
}
END_TEST

/* Dashboards and data models a source retained (not sent again, unchanged) count as seen:
 * markDeletedDashboards leaves them alone; what was neither sent nor retained goes. */
START_TEST(retained_entities_are_not_marked_deleted) {
  struct env e;
  env_start(&e, NULL, JWT);
  void *sink = make_sink(&e, "{\"retryBackoffMs\": 5}", JWT);
  ck_assert_int_eq(feed(sink, mode_records, N_MODE, NULL, true), ETL_OK);
  host_sink_metadata_rest.destroy(&sink);
  sink = make_sink(&e, "{\"retryBackoffMs\": 5, \"markDeletedDashboards\": true}", JWT);
  const struct host_sink_ops *ops = &host_sink_metadata_rest;
  ck_assert_ptr_nonnull(ops->retain);
  ck_assert_int_eq(ops->begin_source(sink, "mode_svc", "mode"), ETL_OK);
  for (size_t i = 0; i < N_MODE; i++) {
    if (strstr("r2 ds1tok", mode_records[i].id))
      continue;
    struct host_record r = {"mode_svc", mode_records[i].kind, mode_records[i].id,
                            mode_records[i].json, strlen(mode_records[i].json)};
    bool rejected = false;
    ck_assert_int_eq(ops->write(sink, &r, &rejected), ETL_OK);
  }
  const char *dash[] = {"r2"};
  ck_assert_int_eq(ops->retain(sink, "mode_svc", "dashboard", dash, 1), ETL_OK);
  ck_assert_int_eq(ops->commit(sink), ETL_OK);
  struct host_source_outcome o = {.complete = true, .run_id = 2, .fail_safe_threshold = 100};
  ck_assert_int_eq(ops->end_source(sink, "mode_svc", &o), ETL_OK);
  struct host_omrest_counts c;
  host_omrest_get_counts(sink, &c);
  ck_assert_uint_eq(c.deleted, 1); /* ds1tok: neither sent nor retained */
  char *s = store(&e);
  ck_assert_ptr_null(strstr(s, "\"fullyQualifiedName\":\"mode_svc.r2\",\"version\":0.1,"
                               "\"deleted\":true"));
  free(s);
  host_sink_metadata_rest.destroy(&sink);
  env_stop(&e);
}
END_TEST

/* A listing whose `after` cursor names a page already listed would page forever: the sink
 * stops it, names the service and the cursor, and deletes nothing, as for any incomplete
 * listing. Before, the run never ended (the TCase timeout). */
START_TEST(a_repeating_listing_cursor_stops_and_deletes_nothing) {
  struct env e;
  env_start(&e, "cursor=repeat", JWT);
  void *sink = make_sink(&e, "{\"retryBackoffMs\": 5}", JWT);
  ck_assert_int_eq(feed(sink, mode_records, N_MODE, NULL, true), ETL_OK);
  host_sink_metadata_rest.destroy(&sink);
  sink = make_sink(&e, "{\"retryBackoffMs\": 5, \"markDeletedDashboards\": true}", JWT);
  ck_assert_int_eq(feed(sink, mode_records, N_MODE, "r2 ds1tok", true), ETL_OK);
  struct host_omrest_counts c;
  host_omrest_get_counts(sink, &c);
  ck_assert_uint_eq(c.deleted, 0);
  char *s = store(&e);
  ck_assert_int_eq(count_of(s, "\"deleted\":true"), 0);
  free(s);
  fflush(e.log_file);
  ck_assert_msg(strstr(e.log_text, "service mode_svc: the server's cursor '0' repeats") != NULL,
                "%s", e.log_text);
  host_sink_metadata_rest.destroy(&sink);
  env_stop(&e);
}
END_TEST

START_TEST(a_server_that_stays_down_fails_the_commit) {
  struct env e;
  env_start(&e, "5xx=1.0", JWT);
  void *sink = make_sink(&e, "{\"retryBackoffMs\": 1, \"retries\": 2}", JWT);
  ck_assert_int_eq(feed(sink, mode_records, N_MODE, NULL, true), ETL_ERR_TRANSIENT);
  struct host_omrest_counts c;
  host_omrest_get_counts(sink, &c);
  ck_assert_uint_eq(c.accepted, 0);
  ck_assert_uint_eq(c.requests, 3); /* the service lookup, tried 1 + 2 times; nothing after it */
  const char *log = log_text(&e);
  ck_assert_msg(strstr(log, "OpenMetadata kept failing, gave up after retries (HTTP 503)"), "%s",
                log);
  host_sink_metadata_rest.destroy(&sink);
  env_stop(&e);
}
END_TEST

START_TEST(a_record_that_cannot_be_sent_is_rejected_at_write) {
  struct env e;
  env_start(&e, NULL, JWT);
  void *sink = make_sink(&e, "{}", JWT);
  const struct host_sink_ops *ops = &host_sink_metadata_rest;
  ck_assert_int_eq(ops->begin_source(sink, "mode_svc", "mode"), ETL_OK);
  const char *bad[] = {"{\"data\":{\"displayName\":\"no name\",\"service\":\"mode_svc\"}}",
                       "not json at all", "{\"data\": 3}"};
  for (size_t i = 0; i < 3; i++) {
    struct host_record r = {"mode_svc", "chart", "bad\nid", bad[i], strlen(bad[i])};
    bool rejected = false;
    ck_assert_int_eq(ops->write(sink, &r, &rejected), ETL_OK);
    ck_assert(rejected);
  }
  ck_assert_int_eq(ops->commit(sink), ETL_OK);
  const char *log = log_text(&e);
  ck_assert_msg(strstr(log, "data.name is missing"), "%s", log);
  ck_assert_msg(strstr(log, "'data' is missing or not an object"), "%s", log);
  ck_assert_ptr_null(strstr(log, "bad\nid")); /* a hostile id cannot forge a log line */
  ops->destroy(&sink);
  env_stop(&e);
}
END_TEST

/* A reply nested 300,000 deep (tests/fuzz/crashes/omrest-deep-nesting) is refused before yajl
 * builds a tree whose recursive free would overflow the stack; ordinary nesting parses. */
START_TEST(deeply_nested_json_is_refused_not_a_crash) {
  size_t depth = 300000;
  char *deep = malloc(2 * depth + 1);
  ck_assert_ptr_nonnull(deep);
  memset(deep, '[', depth);
  memset(deep + depth, ']', depth);
  char err[128] = "";
  ck_assert_ptr_null(host_json_parse(deep, 2 * depth, err, sizeof err));
  ck_assert_msg(strstr(err, "nested deeper than 256 levels"), "%s", err);
  /* Brackets inside strings are not nesting. */
  const char *ok = "{\"a\": [[[\"]]]]]]\\\"[[[[\"]]], \"b\": {\"c\": 1}}";
  yajl_val v = host_json_parse(ok, strlen(ok), err, sizeof err);
  ck_assert_msg(v != NULL, "%s", err);
  yajl_tree_free(v);
  memset(deep, '[', 256);
  memset(deep + 256, ']', 256);
  v = host_json_parse(deep, 512, err, sizeof err);
  ck_assert_msg(v != NULL, "256 levels: %s", err);
  yajl_tree_free(v);
  free(deep);
}
END_TEST

START_TEST(config_errors_name_the_key) {
  struct host_log *log;
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  log = host_log_new(f, ETL_SEV_DEBUG);
  void *sink = NULL;
  ck_assert_int_eq(host_sink_metadata_rest.create("{}", "{}", log, &sink), ETL_ERR_CONFIG);
  ck_assert_int_eq(host_sink_metadata_rest.create(
                       "{\"concurency\": 4}",
                       "{\"openMetadataServerConfig\":{\"hostPort\":\"http://localhost:8585/api\","
                       "\"authProvider\":\"no-auth\"}}",
                       log, &sink),
                   ETL_ERR_CONFIG);
  ck_assert_int_eq(host_sink_metadata_rest.create(
                       "{}",
                       "{\"openMetadataServerConfig\":{\"hostPort\":\"http://localhost:8585/api\","
                       "\"authProvider\":\"openmetadata\"}}",
                       log, &sink),
                   ETL_ERR_CONFIG);
  ck_assert_ptr_null(sink);
  fflush(f);
  ck_assert_msg(strstr(text, "workflowConfig.openMetadataServerConfig: missing"), "%s", text);
  ck_assert_msg(strstr(text, "sink.config.concurency: unknown key"), "%s", text);
  ck_assert_msg(strstr(text, "needs securityConfig.jwtToken"), "%s", text);
  host_log_free(&log);
  fclose(f);
  free(text);
}
END_TEST

/* ---- a server that fails for good, or answers too much (issue 14, item 10) ------------------- */

struct ended {
  int n, not_sent, connect_failed;
  char first[512];
};

static void on_ended(void *ctx, const struct host_om_response *r) {
  struct ended *e = ctx;
  if (e->n++ == 0)
    snprintf(e->first, sizeof e->first, "%s", r->transport_error ? r->transport_error : "");
  e->not_sent += r->not_sent;
  e->connect_failed += r->connect_failed;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A port on 127.0.0.1 where nothing listens: connections are refused. */
static int refused_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  close(fd);
  return ntohs(a.sin_port);
}

/* 40 queued requests to a server that refuses connections: the first two (in flight) spend
 * their retries, the other 38 end at once, not sent, with the reason; not 40 x 4 attempts. */
START_TEST(queued_requests_fail_fast_once_the_server_is_down) {
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/api", refused_port());
  struct host_om_client_config cc = {.base_url = url,
                                     .concurrency = 2,
                                     .retries = 3,
                                     .timeout_ms = 5000,
                                     .backoff_ms = 100,
                                     .verify_tls = true};
  struct host_om_client *c = host_om_client_new(&cc, NULL);
  ck_assert_ptr_nonnull(c);
  struct ended e = {0};
  for (int i = 0; i < 40; i++)
    ck_assert_int_eq(host_om_client_add(c, "GET", "/v1/charts/name/x", NULL, on_ended, &e), 0);
  double t0 = now_s();
  ck_assert_int_eq(host_om_client_run(c), ETL_OK);
  double took = now_s() - t0;
  unsigned long requests = 0;
  host_om_client_counts(c, &requests, NULL, NULL);
  ck_assert_int_eq(e.n, 40);
  ck_assert_int_eq(e.connect_failed, 40);
  ck_assert_int_ge(e.not_sent, 36);
  ck_assert_msg(requests <= 8, "%lu attempts for 40 requests to a dead server", requests);
  ck_assert_msg(took < 3.0, "took %.1f s", took);
  host_om_client_free(&c);
  /* Each run asks afresh: a server that came back is used again. */
  struct env env;
  env_start(&env, NULL, JWT);
  snprintf(url, sizeof url, "%s/api", env.sim.base_url);
  c = host_om_client_new(&cc, NULL);
  struct ended ok = {0};
  ck_assert_int_eq(host_om_client_add(c, "GET", "/v1/system/version", NULL, on_ended, &ok), 0);
  ck_assert_int_eq(host_om_client_run(c), ETL_OK);
  ck_assert_int_eq(ok.not_sent, 0);
  host_om_client_free(&c);
  env_stop(&env);
}
END_TEST

/* Answers every request with 200 and a 100 MB body. */
static const char big_server_py[] =
    "import socket, threading\n"
    "s = socket.socket()\n"
    "s.bind(('127.0.0.1', 0))\n"
    "s.listen(64)\n"
    "print('listening on http://127.0.0.1:%d' % s.getsockname()[1], flush=True)\n"
    "N = 100 << 20\n"
    "def serve(c):\n"
    "    try:\n"
    "        c.recv(65536)\n"
    "        c.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\n'\n"
    "                  b'Content-Length: %d\\r\\n\\r\\n' % N)\n"
    "        for _ in range(N >> 16):\n"
    "            c.sendall(b' ' * 65536)\n"
    "    except OSError:\n"
    "        pass\n"
    "    c.close()\n"
    "while True:\n"
    "    c = s.accept()[0]\n"
    "    threading.Thread(target=serve, args=(c,), daemon=True).start()\n";

/* A 100 MB reply is named for what it is, once, and fails the commit; it is not "server
 * unreachable" once per record. */
START_TEST(an_over_cap_reply_is_named_once_and_fails) {
  struct env e;
  env_start(&e, NULL, JWT); /* for its log and scratch directory */
  char *script = test_path("%s/big.py", e.dir);
  ck_assert_int_eq(test_write_file(script, big_server_py), 0);
  const char *py = getenv("PYTHON3") ? getenv("PYTHON3") : "/usr/bin/python3";
  struct test_server big = {0};
  char *argv[] = {(char *)py, script, NULL};
  ck_assert_int_eq(test_server_start(&big, argv), 0);
  char *wf = NULL;
  ck_assert_int_ge(asprintf(&wf,
                            "{\"openMetadataServerConfig\":{\"hostPort\":\"%s/api\","
                            "\"authProvider\":\"no-auth\"}}",
                            big.base_url),
                   0);
  void *sink = NULL;
  ck_assert_int_eq(host_sink_metadata_rest.create("{\"retries\": 1}", wf, e.log, &sink), ETL_OK);
  etl_status st = feed(sink, mode_records, N_MODE, NULL, true);
  ck_assert_int_ne(st, ETL_OK);
  const char *log = log_text(&e);
  ck_assert_msg(count_of(log, "reply larger than the 16 MiB cap") == 1, "%s", log);
  ck_assert_msg(strstr(log, "unreachable") == NULL, "%s", log);
  host_sink_metadata_rest.destroy(&sink);
  test_server_stop(&big);
  free(wf);
  free(script);
  env_stop(&e);
}
END_TEST

/* The plain-http warning parses hostPort: a remote host that only looks like loopback in a prefix
 * (a user name "localhost@", a name "127.0.0.1.evil") is warned about; loopback is not. */
static const struct {
  const char *host_port;
  bool warned;
} http_hosts[] = {
    {"http://localhost:8585/api", false},
    {"http://127.0.0.1:8585/api", false},
    {"http://127.9.9.9/api", false},
    {"http://[::1]:8585/api", false},
    {"http://localhost@evil.example/api", true},
    {"http://127.0.0.1.evil.example/api", true},
    {"http://localhost.evil.example:8585/api", true},
    {"http://[::1]@evil.example/api", true},
    {"http://om.example.com:8585/api", true},
    {"https://om.example.com/api", false},
};

START_TEST(plain_http_warning_parses_the_host) {
  char *text = NULL, *wf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  struct host_log *log = host_log_new(f, ETL_SEV_DEBUG);
  ck_assert_int_ge(asprintf(&wf,
                            "{\"openMetadataServerConfig\":{\"hostPort\":\"%s\","
                            "\"authProvider\":\"openmetadata\",\"securityConfig\":"
                            "{\"jwtToken\":\"%s\"}}}",
                            http_hosts[_i].host_port, JWT),
                   0);
  void *sink = NULL;
  ck_assert_int_eq(host_sink_metadata_rest.create("{}", wf, log, &sink), ETL_OK);
  fflush(f);
  bool warned = strstr(text, "the JWT travels unencrypted") != NULL;
  ck_assert_msg(warned == http_hosts[_i].warned, "%s: warned %d:\n%s", http_hosts[_i].host_port,
                warned, text);
  ck_assert_ptr_null(strstr(text, JWT));
  host_sink_metadata_rest.destroy(&sink);
  host_log_free(&log);
  fclose(f);
  free(text);
  free(wf);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("sink_omrest");
  TCase *tc = tcase_create("om-sim");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, full_run_lands_with_owners_and_lineage);
  tcase_add_test(tc, second_identical_run_changes_nothing);
  tcase_add_test(tc, injected_faults_end_with_the_same_store);
  tcase_add_test(tc, a_reject_is_reported_and_the_rest_lands);
  tcase_add_test(tc, a_wrong_jwt_stops_and_is_never_printed);
  tcase_add_test(tc, mark_deleted_only_after_a_complete_run);
  tcase_add_test(tc, mark_deleted_defaults_to_openmetadatas_true);
  tcase_add_test(tc, fail_safe_holds_back_a_mass_soft_delete);
  tcase_add_test(tc, retained_entities_are_not_marked_deleted);
  tcase_add_test(tc, a_server_that_stays_down_fails_the_commit);
  tcase_add_test(tc, a_record_that_cannot_be_sent_is_rejected_at_write);
  tcase_add_test(tc, config_errors_name_the_key);
  tcase_add_test(tc, deeply_nested_json_is_refused_not_a_crash);
  tcase_add_test(tc, om_sim_refuses_what_the_server_refuses);
  tcase_add_test(tc, search_hits_are_checked_against_the_name);
  tcase_add_test(tc, a_dashboard_lists_only_what_the_server_has);
  tcase_add_test(tc, a_reply_that_is_not_the_entity_fails_the_window);
  tcase_add_test(tc, pending_lineage_lands_on_a_later_run);
  tcase_add_test(tc, pending_entities_land_on_a_later_incremental_run);
  tcase_add_test(tc, a_pending_entity_the_source_no_longer_has_is_dropped);
  tcase_add_test(tc, a_pending_entity_refused_again_is_a_late_reject);
  tcase_add_test(tc, a_fresh_record_supersedes_its_pending_copy);
  tcase_add_test(tc, column_lineage_resolves_against_the_tables_columns);
  tcase_add_test(tc, om_sim_refuses_an_unknown_column);
  suite_add_tcase(s, tc);
  TCase *down = tcase_create("hostile server");
  tcase_set_timeout(down, 60);
  tcase_add_test(down, queued_requests_fail_fast_once_the_server_is_down);
  tcase_add_test(down, an_over_cap_reply_is_named_once_and_fails);
  tcase_add_test(down, a_repeating_listing_cursor_stops_and_deletes_nothing);
  suite_add_tcase(s, down);
  TCase *urls = tcase_create("hostPort");
  tcase_add_loop_test(urls, plain_http_warning_parses_the_host, 0,
                      (int)(sizeof http_hosts / sizeof http_hosts[0]));
  suite_add_tcase(s, urls);
  return s;
}

int main(void) {
  return test_run_suite(suite());
}
