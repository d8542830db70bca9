/*
 * test_om_custom_props.c -- a dashboard's freshness as OpenMetadata custom properties (issue 11
 * item 2): om-sim refuses an `extension` whose properties the dashboard type does not define, as
 * OpenMetadata does (CustomPropertyValidator.validateField: "Unknown custom field %s"); the
 * metadata-rest sink with `customProperties: true` defines them once and sends them; without it,
 * it leaves them out and says so once.
 */
#include "config.h"

#include "log.h"
#include "sink_omrest.h"
#include "testutil.h"

#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#define JWT "eyJhbGciOiJIUzI1NiJ9.om-sim-test-token.c2lnbmF0dXJl"

#define EXT                                                                                        \
  "\"extension\":{\"createdAt\":\"2021-12-10T20:55:24.316Z\",\"lastRunAt\":"                       \
  "\"2021-12-10T23:12:51.490Z\",\"lastRunState\":\"succeeded\",\"scheduleCount\":0,"               \
  "\"viewCount\":6,\"creator\":\"modeuser\"}"

static const struct {
  const char *kind, *id, *json;
} records[] = {
    {"dashboardService", "mode_svc", "{\"data\":{\"name\":\"mode_svc\",\"serviceType\":\"Mode\"}}"},
    {"dashboard", "r1",
     "{\"data\":{\"name\":\"r1\",\"displayName\":\"Report 1\",\"charts\":[],\"dataModels\":[],"
     "\"service\":\"mode_svc\"}," EXT "}"},
    {"dashboard", "r2",
     "{\"data\":{\"name\":\"r2\",\"displayName\":\"Report 2\",\"charts\":[],\"dataModels\":[],"
     "\"service\":\"mode_svc\"},\"extension\":{\"lastRunState\":\"failed\",\"viewCount\":1}}"},
};
enum { N_RECORDS = sizeof records / sizeof records[0] };

struct env {
  struct test_server sim;
  FILE *log_file;
  char *log_text;
  size_t log_len;
  struct host_log *log;
};

static void env_start(struct env *e) {
  memset(e, 0, sizeof *e);
  char *sim = test_path("%s/tests/om-sim/om-sim", test_builddir());
  char *argv[] = {sim, "--jwt", JWT, NULL};
  ck_assert_int_eq(test_server_start(&e->sim, argv), 0);
  e->log_file = open_memstream(&e->log_text, &e->log_len);
  e->log = host_log_new(e->log_file, ETL_SEV_DEBUG);
  free(sim);
}

static void env_stop(struct env *e) {
  test_server_stop(&e->sim);
  host_log_free(&e->log);
  fclose(e->log_file);
  free(e->log_text);
}

static const char *log_text(struct env *e) {
  fflush(e->log_file);
  return e->log_text ? e->log_text : "";
}

static int count_of(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
    n++;
  return n;
}

/* Feeds the records through a new sink with sink.config `config`, commits, ends the source. */
static void run_sink(struct env *e, const char *config) {
  char *wf = test_path("{\"openMetadataServerConfig\":{\"hostPort\":\"%s/api\","
                       "\"authProvider\":\"openmetadata\",\"securityConfig\":"
                       "{\"jwtToken\":\"" JWT "\"}}}",
                       e->sim.base_url);
  void *sink = NULL;
  const struct host_sink_ops *ops = &host_sink_metadata_rest;
  ck_assert_int_eq(ops->create(config, wf, e->log, &sink), ETL_OK);
  ck_assert_int_eq(ops->begin_source(sink, "mode_svc", "mode"), ETL_OK);
  for (size_t i = 0; i < N_RECORDS; i++) {
    struct host_record r = {"mode_svc", records[i].kind, records[i].id, records[i].json,
                            strlen(records[i].json)};
    bool rejected = false;
    ck_assert_int_eq(ops->write(sink, &r, &rejected), ETL_OK);
  }
  ck_assert_msg(ops->commit(sink) == ETL_OK, "commit failed:\n%s", log_text(e));
  struct host_source_outcome o = {.complete = false, .run_id = 1};
  ck_assert_int_eq(ops->end_source(sink, "mode_svc", &o), ETL_OK);
  ops->destroy(&sink);
  free(wf);
}

struct grow {
  char *data;
  size_t len;
};

static size_t grow_write(char *p, size_t sz, size_t n, void *ud) {
  struct grow *g = ud;
  g->data = realloc(g->data, g->len + sz * n + 1);
  memcpy(g->data + g->len, p, sz * n);
  g->len += sz * n;
  g->data[g->len] = '\0';
  return sz * n;
}

/* GETs path from om-sim with the JWT (the /api routes need it); asserts a 200. */
static char *sim_get(struct env *e, const char *path) {
  CURL *h = curl_easy_init();
  char *url = test_path("%s%s", e->sim.base_url, path);
  struct curl_slist *hd = curl_slist_append(NULL, "Authorization: Bearer " JWT);
  struct grow g = {0};
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, grow_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &g);
  long status = 0;
  ck_assert_int_eq(curl_easy_perform(h), CURLE_OK);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  ck_assert_msg(status == 200, "GET %s: HTTP %ld %s", path, status, g.data ? g.data : "");
  curl_slist_free_all(hd);
  curl_easy_cleanup(h);
  free(url);
  return g.data;
}

/* Dashboard `name` as om-sim shows it (its last accepted request plus id and FQN); *root gets
 * the whole store, which the caller frees. */
static yajl_val stored_dashboard(struct env *e, const char *name, yajl_val *root) {
  char *store = sim_get(e, "/__sim/store");
  char err[256];
  *root = yajl_tree_parse(store, err, sizeof err);
  ck_assert_msg(*root != NULL, "store: %s", err);
  const char *path[] = {"entities", "dashboard", NULL};
  yajl_val ents = yajl_tree_get(*root, path, yajl_t_array);
  char want[128];
  snprintf(want, sizeof want, "mode_svc.%s", name);
  for (size_t i = 0; ents && i < YAJL_GET_ARRAY(ents)->len; i++) {
    yajl_val ent = YAJL_GET_ARRAY(ents)->values[i];
    const char *fp[] = {"fullyQualifiedName", NULL};
    yajl_val f = yajl_tree_get(ent, fp, yajl_t_string);
    const char *fqn = f ? f->u.string : NULL;
    if (fqn && strcmp(fqn, want) == 0) {
      free(store);
      return ent;
    }
  }
  ck_abort_msg("dashboard %s not stored:\n%.2000s", name, store);
  return NULL;
}

static size_t write_sink(char *p, size_t sz, size_t n, void *ud) {
  (void)p, (void)ud;
  return sz * n;
}

/* PUTs body to om-sim's /api/v1/<path>; returns the HTTP status. */
static long sim_put(struct env *e, const char *path, const char *body) {
  CURL *h = curl_easy_init();
  char *url = test_path("%s/api/v1/%s", e->sim.base_url, path);
  struct curl_slist *hd = curl_slist_append(NULL, "Authorization: Bearer " JWT);
  hd = curl_slist_append(hd, "Content-Type: application/json");
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_sink);
  long status = 0;
  ck_assert_int_eq(curl_easy_perform(h), CURLE_OK);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(hd);
  curl_easy_cleanup(h);
  free(url);
  return status;
}

START_TEST(om_sim_refuses_an_undefined_custom_property) {
  struct env e;
  env_start(&e);
  ck_assert_int_eq(
      sim_put(&e, "services/dashboardServices", "{\"name\":\"mode_svc\",\"serviceType\":\"Mode\"}"),
      201);
  ck_assert_int_eq(sim_put(&e, "dashboards",
                           "{\"name\":\"r1\",\"service\":\"mode_svc\","
                           "\"extension\":{\"lastRunAt\":\"2021-12-10T23:12:51.490Z\"}}"),
                   400);
  ck_assert_int_eq(sim_put(&e, "dashboards", "{\"name\":\"r1\",\"service\":\"mode_svc\"}"), 201);
  env_stop(&e);
}
END_TEST

START_TEST(custom_properties_defined_once_and_sent) {
  struct env e;
  env_start(&e);
  run_sink(&e, "{\"customProperties\":true}");
  yajl_val root;
  yajl_val d = stored_dashboard(&e, "r1", &root);
  const char *run[] = {"extension", "lastRunAt", NULL};
  const char *views[] = {"extension", "viewCount", NULL};
  ck_assert_str_eq(YAJL_GET_STRING(yajl_tree_get(d, run, yajl_t_string)),
                   "2021-12-10T23:12:51.490Z");
  ck_assert_int_eq(YAJL_GET_INTEGER(yajl_tree_get(d, views, yajl_t_number)), 6);
  yajl_tree_free(root);
  char *type = sim_get(&e, "/api/v1/metadata/types/name/dashboard?fields=customProperties");
  ck_assert_int_eq(count_of(type, "\"propertyType\""), 8);
  free(type);
  char *stats = sim_get(&e, "/__sim/stats");
  ck_assert_ptr_nonnull(strstr(stats, "\"typePuts\":8"));
  free(stats);
  /* Another run (another sink): the properties exist, none is defined again. */
  run_sink(&e, "{\"customProperties\":true}");
  stats = sim_get(&e, "/__sim/stats");
  ck_assert_msg(strstr(stats, "\"typePuts\":8") != NULL, "%s", stats);
  free(stats);
  ck_assert_ptr_null(strstr(log_text(&e), "left out"));
  env_stop(&e);
}
END_TEST

START_TEST(without_the_setting_they_are_left_out_once) {
  struct env e;
  env_start(&e);
  run_sink(&e, "{}");
  yajl_val root;
  yajl_val d = stored_dashboard(&e, "r1", &root);
  const char *ext[] = {"extension", NULL};
  ck_assert_ptr_null(yajl_tree_get(d, ext, yajl_t_any));
  yajl_tree_free(root);
  ck_assert_int_eq(count_of(log_text(&e), "custom properties (lastRunAt, lastRunState"), 1);
  ck_assert_ptr_nonnull(strstr(log_text(&e), "customProperties: true"));
  char *stats = sim_get(&e, "/__sim/stats");
  ck_assert_ptr_nonnull(strstr(stats, "\"typePuts\":0"));
  free(stats);
  env_stop(&e);
}
END_TEST

/* A property of the same name and another type: OpenMetadata would refuse every dashboard, so
 * the sink warns and sends them without their extension. */
START_TEST(a_conflicting_property_is_a_warning_not_a_failure) {
  struct env e;
  env_start(&e);
  char *dash = sim_get(&e, "/api/v1/metadata/types/name/dashboard");
  char *str = sim_get(&e, "/api/v1/metadata/types/name/string");
  char err[128];
  yajl_val dv = yajl_tree_parse(dash, err, sizeof err), sv = yajl_tree_parse(str, err, sizeof err);
  const char *idp[] = {"id", NULL};
  char *path =
      test_path("metadata/types/%s", YAJL_GET_STRING(yajl_tree_get(dv, idp, yajl_t_string)));
  char *body =
      test_path("{\"name\":\"viewCount\",\"propertyType\":{\"id\":\"%s\",\"type\":\"type\"}}",
                YAJL_GET_STRING(yajl_tree_get(sv, idp, yajl_t_string)));
  ck_assert_int_eq(sim_put(&e, path, body), 200);
  run_sink(&e, "{\"customProperties\":true}");
  ck_assert_ptr_nonnull(strstr(log_text(&e), "custom property viewCount of type string"));
  yajl_val root;
  yajl_val d = stored_dashboard(&e, "r1", &root);
  const char *ext[] = {"extension", NULL};
  ck_assert_ptr_null(yajl_tree_get(d, ext, yajl_t_any));
  yajl_tree_free(root);
  yajl_tree_free(dv), yajl_tree_free(sv);
  free(dash), free(str), free(path), free(body);
  env_stop(&e);
}
END_TEST

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  Suite *s = suite_create("om_custom_props");
  TCase *tc = tcase_create("custom_props");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, om_sim_refuses_an_undefined_custom_property);
  tcase_add_test(tc, custom_properties_defined_once_and_sent);
  tcase_add_test(tc, without_the_setting_they_are_left_out_once);
  tcase_add_test(tc, a_conflicting_property_is_a_warning_not_a_failure);
  suite_add_tcase(s, tc);
  int rc = test_run_suite(s);
  curl_global_cleanup();
  return rc;
}
