/*
 * test_mode_config.c -- the Mode connector's configuration: defaults, errors that name the
 * key, snake_case, insecure http, filter patterns with OpenMetadata's semantics, lineage
 * settings, and secrets kept out of messages.
 */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "filter.h"
#include "testutil.h"

struct warnings {
  int n;
  char last[512];
};

static void on_warn(void *ctx, const char *msg) {
  struct warnings *w = ctx;
  w->n++;
  snprintf(w->last, sizeof w->last, "%s", msg);
}

static int parse(const char *conn, const char *src, struct mode_config *c, char *err,
                 struct warnings *w) {
  return mode_config_parse(conn, strlen(conn), src, src ? strlen(src) : 0, c, on_warn, w, err, 512);
}

#define BASE                                                                                       \
  "\"accessToken\":\"tok\",\"accessTokenPassword\":\"SECRET123\",\"workspaceName\":\"acme\""

START_TEST(defaults_of_a_minimal_config) {
  struct mode_config c;
  char err[512];
  struct warnings w = {0};
  ck_assert_int_eq(parse("{" BASE "}", NULL, &c, err, &w), 0);
  ck_assert_str_eq(c.host, "https://app.mode.com");
  ck_assert_str_eq(c.workspace, "acme");
  ck_assert_int_eq(c.filter_custom, 0);
  ck_assert(c.rate > 3.5 && c.rate < 4.0);
  ck_assert_int_eq(c.include_owners, 1);
  ck_assert_int_eq(c.include_data_models, 1);
  ck_assert_int_eq(c.discovery_chart_fields, 1); /* chart fields are kept unless asked */
  ck_assert_int_eq(c.mark_deleted, 1); /* OpenMetadata's default for markDeletedDashboards */
  ck_assert_int_eq(w.n, 0);
  mode_config_free(&c);
}
END_TEST

static const struct {
  const char *conn, *src, *key_in_error;
} bad_configs[] = {
    {"{\"accessToken\":\"t\",\"accessTokenPassword\":\"s\"}", NULL,
     "serviceConnection.config.workspaceName"},
    {"{\"accessTokenPassword\":\"s\",\"workspaceName\":\"w\"}", NULL,
     "serviceConnection.config.accessToken"},
    {"{\"accessToken\":\"t\",\"workspaceName\":\"w\"}", NULL,
     "serviceConnection.config.accessTokenPassword"},
    {"{" BASE ",\"hostPort\":\"http://mode.example.com\"}", NULL,
     "serviceConnection.config.hostPort"},
    {"{" BASE ",\"hostPort\":\"ftp://mode.example.com\"}", NULL,
     "serviceConnection.config.hostPort"},
    {"{" BASE ",\"hostPort\":\"not a url\"}", NULL, "serviceConnection.config.hostPort"},
    {"{" BASE ",\"filterQueryParam\":\"everything\"}", NULL,
     "serviceConnection.config.filterQueryParam"},
    {"{" BASE ",\"concurrency\":\"many\"}", NULL, "serviceConnection.config.concurrency"},
    {"{" BASE ",\"concurrency\":0}", NULL, "serviceConnection.config.concurrency"},
    {"{" BASE ",\"requestsPerSecond\":-1}", NULL, "serviceConnection.config.requestsPerSecond"},
    {"{" BASE ",\"wrkspaceName\":\"x\"}", NULL, "serviceConnection.config.wrkspaceName"},
    {"{" BASE ",\"includeOwners\":true}", NULL, "serviceConnection.config.includeOwners"},
    {"{" BASE "}", "{\"dashboardFilterPattern\":{\"includes\":[\"(unclosed\"]}}",
     "sourceConfig.config.dashboardFilterPattern.includes[0]"},
    {"{" BASE "}", "{\"chartFilterPattern\":{\"include\":[\"x\"]}}",
     "sourceConfig.config.chartFilterPattern.include"},
    {"{" BASE "}", "{\"includeDataModels\":\"yes\"}", "sourceConfig.config.includeDataModels"},
    {"{" BASE "}", "{\"includeTags\":\"yes\"}", "sourceConfig.config.includeTags"},
    {"{" BASE "}", "{\"type\":\"DatabaseMetadata\"}", "sourceConfig.config.type"},
    {"{" BASE ",\"type\":\"Looker\"}", NULL, "serviceConnection.config.type"},
    {"{" BASE "}", "{\"lineageInformation\":{\"dbServicePrefixes\":[1]}}",
     "sourceConfig.config.lineageInformation.dbServicePrefixes[0]"},
    {"{" BASE "}", "{\"dataSourceServiceMap\":{\"PostgreSQL\":5}}",
     "sourceConfig.config.dataSourceServiceMap.PostgreSQL"},
    {"{" BASE ",\"workspaceName\":\"a/b\"}", NULL, "serviceConnection.config.workspaceName"},
    {"{" BASE ",\"hostPort\":\"https://u:SECRET123@x y\"}", NULL,
     "serviceConnection.config.hostPort"},
    {"{" BASE ",\"discoveryToken\":\"t\",\"discoveryAccessKey\":\"SECRET123\"}", NULL,
     "serviceConnection.config.discoveryAccessSecret"},
    {"{" BASE ",\"discoveryAccessKey\":\"k\",\"discoveryAccessSecret\":\"SECRET123\"}", NULL,
     "serviceConnection.config.discoveryToken"},
    {"{" BASE ",\"discoveryToken\":7}", NULL, "serviceConnection.config.discoveryToken"},
    {"{" BASE ",\"discoveryToken\":\"t\",\"discoveryAccessKey\":\"k\",\"discoveryAccessSecret\":"
              "\"SECRET123\",\"discoveryMintToken\":true}",
     NULL, "serviceConnection.config.discoveryMintToken"},
    {"{" BASE ",\"discoveryChartFields\":\"no\"}", NULL,
     "serviceConnection.config.discoveryChartFields"},
    {"[1]", NULL, "serviceConnection.config"},
    {"{\"accessToken\":", NULL, "serviceConnection.config"},
};

START_TEST(errors_name_the_key) {
  struct mode_config c;
  char err[512] = "";
  struct warnings w = {0};
  ck_assert_int_eq(parse(bad_configs[_i].conn, bad_configs[_i].src, &c, err, &w), -1);
  ck_assert_msg(strstr(err, bad_configs[_i].key_in_error) != NULL, "case %d: '%s' lacks '%s'", _i,
                err, bad_configs[_i].key_in_error);
  ck_assert_msg(strstr(err, "SECRET123") == NULL, "secret leaked: %s", err);
}
END_TEST

START_TEST(insecure_http_only_to_loopback_or_when_allowed) {
  struct mode_config c;
  char err[512];
  struct warnings w = {0};
  ck_assert_int_eq(parse("{" BASE ",\"hostPort\":\"http://127.0.0.1:8080/\"}", NULL, &c, err, &w),
                   0);
  ck_assert_str_eq(c.host, "http://127.0.0.1:8080");
  mode_config_free(&c);
  ck_assert_int_eq(parse("{" BASE ",\"hostPort\":\"http://mode.internal\"}", NULL, &c, err, &w),
                   -1);
  ck_assert_ptr_nonnull(strstr(err, "allowInsecureHttp"));
  ck_assert_int_eq(parse("{" BASE
                         ",\"hostPort\":\"http://mode.internal\",\"allowInsecureHttp\":true}",
                         NULL, &c, err, &w),
                   0);
  mode_config_free(&c);
}
END_TEST

START_TEST(snake_case_is_accepted_with_a_warning) {
  struct mode_config c;
  char err[512];
  struct warnings w = {0};
  ck_assert_int_eq(parse("{\"access_token\":\"t\",\"access_token_password\":\"s\","
                         "\"workspace_name\":\"acme\",\"filter_query_param\":\"filter=custom\"}",
                         "{\"include_owners\":false}", &c, err, &w),
                   0);
  ck_assert_str_eq(c.workspace, "acme");
  ck_assert_int_eq(c.filter_custom, 1);
  ck_assert_int_eq(c.include_owners, 0);
  ck_assert_int_eq(w.n, 5);
  ck_assert_ptr_nonnull(strstr(w.last, "includeOwners"));
  /* The key path comes first, so that etlhost can point at its line in the workflow file. */
  ck_assert_msg(strncmp(w.last, "sourceConfig.config.include_owners: ", 36) == 0, "%s", w.last);
  mode_config_free(&c);
}
END_TEST

START_TEST(unknown_source_config_keys_warn) {
  struct mode_config c;
  char err[512];
  struct warnings w = {0};
  ck_assert_int_eq(parse("{" BASE "}",
                         "{\"type\":\"DashboardMetadata\",\"markDeletedDataModels\":true,"
                         "\"someFutureKey\":1}",
                         &c, err, &w),
                   0);
  ck_assert_int_eq(w.n, 1);
  ck_assert_msg(strncmp(w.last, "sourceConfig.config.someFutureKey: ", 35) == 0, "%s", w.last);
  mode_config_free(&c);
}
END_TEST

/* OpenMetadata's switches that change nothing for Mode: one warning, naming the key and why,
 * exactly when the value asks for something that cannot happen. */
static const struct {
  const char *src;
  int warnings;
  const char *says;
} noop_cases[] = {
    {"{\"includeTags\":true}", 1,
     "sourceConfig.config.includeTags: does nothing for Mode: Mode's API exposes no tags"},
    {"{\"includeTags\":false}", 0, NULL},
    {"{\"includeDraftDashboard\":false}", 1, "includeDraftDashboard: does nothing for Mode"},
    {"{\"includeDraftDashboard\":true}", 0, NULL},
    {"{\"overrideMetadata\":false}", 1, "overrideMetadata: does nothing for Mode"},
    {"{\"overrideMetadata\":true}", 0, NULL},
    {"{\"overrideLineage\":true}", 1, "overrideLineage: does nothing for Mode"},
    {"{\"overrideLineage\":false}", 0, NULL},
    {"{\"markDeletedDataModels\":false}", 1, "markDeletedDataModels: does nothing for Mode"},
    {"{\"markDeletedDataModels\":true}", 0, NULL},
    {"{\"markDeletedDashboards\":false,\"markDeletedDataModels\":false}", 0, NULL},
    {"{\"markDeletedDashboards\":false,\"markDeletedDataModels\":true}", 1, "(false)"},
    {"{\"includeOwner\":false}", 1, "includeOwner: accepted as 'includeOwners'"},
};

START_TEST(switches_that_do_nothing_for_mode_warn_once) {
  struct mode_config c;
  char err[512];
  struct warnings w = {0};
  ck_assert_msg(parse("{" BASE "}", noop_cases[_i].src, &c, err, &w) == 0, "%s", err);
  ck_assert_msg(w.n == noop_cases[_i].warnings, "%s: %d warnings (last: %s)", noop_cases[_i].src,
                w.n, w.last);
  if (noop_cases[_i].says)
    ck_assert_msg(strstr(w.last, noop_cases[_i].says) != NULL, "%s", w.last);
  ck_assert_ptr_null(strchr(w.last, '\n'));
  if (strstr(noop_cases[_i].src, "includeOwner\""))
    ck_assert_int_eq(c.include_owners, 0);
  mode_config_free(&c);
}
END_TEST

START_TEST(connection_flag_and_type_are_checked) {
  struct mode_config c;
  char err[512];
  struct warnings w = {0};
  ck_assert_int_eq(parse("{" BASE ",\"type\":\"Mode\",\"supportsMetadataExtraction\":false}",
                         "{\"type\":\"DashboardMetadata\"}", &c, err, &w),
                   0);
  ck_assert_int_eq(w.n, 1);
  ck_assert_ptr_nonnull(strstr(w.last, "supportsMetadataExtraction: does nothing for Mode"));
  mode_config_free(&c);
}
END_TEST

START_TEST(lineage_settings_and_service_map) {
  struct mode_config c;
  char err[512];
  struct warnings w = {0};
  ck_assert_int_eq(parse("{" BASE ",\"dataSourceServiceMap\":{\"PostgreSQL\":\"pg_prod\","
                         "\"34506\":\"snow\"}}",
                         "{\"lineageInformation\":{\"dbServicePrefixes\":[\"a.db1\",\"b\"]},"
                         "\"dbServiceNames\":[\"legacy\"]}",
                         &c, err, &w),
                   0);
  ck_assert_uint_eq(c.n_db_service_prefixes, 2);
  ck_assert_str_eq(c.db_service_prefixes[0], "a.db1");
  ck_assert_uint_eq(c.n_db_service_names, 1);
  ck_assert_str_eq(mode_config_mapped_service(&c, "PostgreSQL", "x", "1"), "pg_prod");
  ck_assert_str_eq(mode_config_mapped_service(&c, "Other", "tok", "34506"), "snow");
  ck_assert_ptr_null(mode_config_mapped_service(&c, "Other", "tok", "1"));
  mode_config_free(&c);
}
END_TEST

START_TEST(source_config_filters_replace_connection_ones) {
  struct mode_config c;
  char err[512];
  struct warnings w = {0};
  ck_assert_int_eq(parse("{" BASE ",\"dashboardFilterPattern\":{\"includes\":[\"^A\"]}}",
                         "{\"dashboardFilterPattern\":{\"excludes\":[\"^tmp\"]}}", &c, err, &w),
                   0);
  ck_assert_int_eq(mode_filter_allows(&c.dashboards, "Beta"), 1);
  ck_assert_int_eq(mode_filter_allows(&c.dashboards, "tmp report"), 0);
  mode_config_free(&c);
}
END_TEST

/* OpenMetadata's semantics: re.match (anchored at the start), includes win over excludes. */
static const struct {
  const char *includes[3], *excludes[3], *name;
  int allowed;
} filter_cases[] = {
    {{NULL}, {NULL}, "anything", 1},
    {{"^Sales", NULL}, {NULL}, "Sales Q1", 1},
    {{"^Sales", NULL}, {NULL}, "Q1 Sales", 0},
    {{"Sales", NULL}, {NULL}, "Q1 Sales", 0}, /* re.match anchors at the start */
    {{".*Sales", NULL}, {NULL}, "Q1 Sales", 1},
    {{"sales", NULL}, {NULL}, "Sales", 1}, /* re.IGNORECASE, as OpenMetadata */
    {{NULL}, {"^TMP", NULL}, "tmp_x", 0},
    {{NULL}, {"^tmp", NULL}, "", 1}, /* an untitled item is not excluded by "^tmp" */
    {{NULL}, {"^tmp", NULL}, "tmp_x", 0},
    {{NULL}, {"^tmp", NULL}, "x_tmp", 1},
    {{"^a", NULL}, {"^ab", NULL}, "abc", 1}, /* includes take precedence */
    {{"^a", "^b", NULL}, {NULL}, "bx", 1},
    {{"^a", NULL}, {NULL}, "", 0},
    {{NULL}, {"^a", NULL}, NULL, 0},
};

START_TEST(filter_semantics) {
  struct mode_filter f = {0};
  char err[128];
  for (int k = 0; k < 3 && filter_cases[_i].includes[k]; k++)
    ck_assert_int_eq(mode_filter_add(&f, 1, filter_cases[_i].includes[k], err, sizeof err), 0);
  for (int k = 0; k < 3 && filter_cases[_i].excludes[k]; k++)
    ck_assert_int_eq(mode_filter_add(&f, 0, filter_cases[_i].excludes[k], err, sizeof err), 0);
  ck_assert_msg(mode_filter_allows(&f, filter_cases[_i].name) == filter_cases[_i].allowed,
                "case %d (%s)", _i, filter_cases[_i].name ? filter_cases[_i].name : "NULL");
  mode_filter_free(&f);
}
END_TEST

START_TEST(schema_is_json_with_required_keys) {
  ck_assert_ptr_nonnull(strstr(mode_config_schema, "\"required\":[\"accessToken\""));
  ck_assert_ptr_nonnull(strstr(mode_config_schema, "\"workspaceName\""));
}
END_TEST

/* ---- hostPort is parsed as a URL (issue 14, item 4) ------------------------------------------ */

/* Plain http only to loopback: an IP literal in 127.0.0.0/8, ::1, or exactly localhost. A host
 * name that merely starts like one is somebody else's server. */
static const struct {
  const char *host_port;
  int ok;
} http_hosts[] = {
    {"http://127.0.0.1:8080", 1},
    {"http://127.1.2.3", 1},
    {"http://localhost:9000/", 1},
    {"http://LOCALHOST", 1},
    {"http://[::1]:8080", 1},
    {"http://127.0.0.1.evil.example", 0},
    {"http://127.evil.example", 0},
    {"http://localhost.evil.example", 0},
    {"http://localhostx", 0},
    {"http://128.0.0.1", 0},
    {"http://[::2]", 0},
    {"http://[::ffff:8.8.8.8]", 0},
    {"https://127.0.0.1.evil.example", 1}, /* https is fine anywhere */
};

START_TEST(plain_http_loopback_is_parsed_not_prefix_matched) {
  struct mode_config c;
  char err[512] = "", conn[512];
  struct warnings w = {0};
  snprintf(conn, sizeof conn, "{" BASE ",\"hostPort\":\"%s\"}", http_hosts[_i].host_port);
  int rc = parse(conn, NULL, &c, err, &w);
  ck_assert_msg(rc == (http_hosts[_i].ok ? 0 : -1), "%s: rc %d (%s)", http_hosts[_i].host_port, rc,
                err);
  if (rc == 0)
    mode_config_free(&c);
  else
    ck_assert_msg(strstr(err, "serviceConnection.config.hostPort: plain http") != NULL, "%s: %s",
                  http_hosts[_i].host_port, err);
}
END_TEST

/* Credentials in hostPort would be copied into every sourceUrl and the service description:
 * refused, naming the key, without echoing them, even when plain http is allowed. */
static const char *const userinfo_hosts[] = {
    "http://us3r:SECRET123@127.0.0.1:8080", "https://us3r:SECRET123@app.mode.com",
    "https://SECRET123@app.mode.com",       "https://:SECRET123@app.mode.com",
    "http://localhost@evil.example",        "https://us3r:SECRET123@app.mode.com:443/path",
};

START_TEST(userinfo_in_host_port_is_a_config_error) {
  struct mode_config c;
  char err[512] = "", conn[512];
  struct warnings w = {0};
  snprintf(conn, sizeof conn, "{" BASE ",\"hostPort\":\"%s\",\"allowInsecureHttp\":true}",
           userinfo_hosts[_i]);
  ck_assert_int_eq(parse(conn, NULL, &c, err, &w), -1);
  ck_assert_msg(strncmp(err, "serviceConnection.config.hostPort: ", 35) == 0, "%s", err);
  ck_assert_msg(strstr(err, "user name or password") != NULL, "%s", err);
  ck_assert_msg(strstr(err, "SECRET123") == NULL, "secret echoed: %s", err);
  ck_assert_msg(strstr(err, "us3r") == NULL && strstr(err, "localhost") == NULL,
                "user name echoed: %s", err);
}
END_TEST

/* ---- the settings that bound waits (issue 14, item 6) ---------------------------------------- */

START_TEST(wait_settings_have_bounded_defaults) {
  struct mode_config c;
  char err[512] = "";
  struct warnings w = {0};
  ck_assert_int_eq(parse("{" BASE "}", NULL, &c, err, &w), 0);
  ck_assert_int_eq(c.low_speed_seconds, 30);
  ck_assert(c.max_retry_after == 300);
  ck_assert(c.request_deadline == 600);
  mode_config_free(&c);
  ck_assert_int_eq(parse("{" BASE ",\"lowSpeedSeconds\":5,\"maxRetryAfterSeconds\":20,"
                         "\"requestDeadlineSeconds\":90}",
                         NULL, &c, err, &w),
                   0);
  ck_assert_int_eq(c.low_speed_seconds, 5);
  ck_assert(c.max_retry_after == 20);
  ck_assert(c.request_deadline == 90);
  mode_config_free(&c);
  ck_assert_ptr_nonnull(strstr(mode_config_schema, "\"maxRetryAfterSeconds\""));
  ck_assert_ptr_nonnull(strstr(mode_config_schema, "\"lowSpeedSeconds\""));
  ck_assert_ptr_nonnull(strstr(mode_config_schema, "\"requestDeadlineSeconds\""));
}
END_TEST

/* The fetch settings are built from the config in one place (conf.c), for runs and tests. */
START_TEST(fetch_settings_follow_the_config) {
  struct mode_config c;
  char err[512] = "";
  struct warnings w = {0};
  ck_assert_int_eq(parse("{" BASE ",\"concurrency\":3,\"requestsPerSecond\":2.5,\"rateBurst\":4,"
                         "\"lowSpeedSeconds\":7,\"maxRetryAfterSeconds\":20,"
                         "\"requestDeadlineSeconds\":90}",
                         NULL, &c, err, &w),
                   0);
  atomic_int stop = 0;
  struct mode_fetch_opts fo;
  mode_config_fetch_opts(&c, &stop, &fo);
  ck_assert_str_eq(fo.http.username, "tok");
  ck_assert_str_eq(fo.http.password, "SECRET123");
  ck_assert_ptr_eq(fo.http.interrupt, &stop);
  ck_assert_int_eq(fo.http.max_host_connections, 3);
  ck_assert_int_eq(fo.concurrency, 3);
  ck_assert(fo.rate == 2.5 && fo.burst == 4);
  ck_assert_int_eq(fo.http.low_speed_seconds, 7);
  ck_assert_int_eq(fo.http.timeout_ms, c.timeout_ms);
  ck_assert_int_eq(fo.http.connect_timeout_ms, c.connect_timeout_ms);
  ck_assert(fo.retry.max_server_delay == 20 && fo.retry.deadline == 90);
  ck_assert_int_eq(fo.retry.max_attempts, c.max_attempts);
  ck_assert_int_eq(fo.retry.budget, c.retry_budget);
  ck_assert_uint_eq(fo.max_value, c.max_body);
  ck_assert_ptr_null(fo.notice);
  mode_config_free(&c);
}
END_TEST

/* No setting turns a wait back into an unbounded one. */
static const char *const bad_wait_settings[] = {
    "\"lowSpeedSeconds\":0",        "\"lowSpeedSeconds\":1.5",
    "\"maxRetryAfterSeconds\":0",   "\"maxRetryAfterSeconds\":100000",
    "\"requestDeadlineSeconds\":0", "\"requestDeadlineSeconds\":-1",
};

START_TEST(wait_settings_out_of_range_name_the_key) {
  struct mode_config c;
  char err[512] = "", conn[512], key[64];
  struct warnings w = {0};
  snprintf(conn, sizeof conn, "{" BASE ",%s}", bad_wait_settings[_i]);
  ck_assert_int_eq(parse(conn, NULL, &c, err, &w), -1);
  snprintf(key, sizeof key, "serviceConnection.config.%.*s: ",
           (int)(strchr(bad_wait_settings[_i] + 1, '"') - bad_wait_settings[_i] - 1),
           bad_wait_settings[_i] + 1);
  ck_assert_msg(strncmp(err, key, strlen(key)) == 0, "%s (want %s)", err, key);
}
END_TEST

/* A host that called setlocale(LC_ALL, "") in a comma-decimal locale (Python, GTK, etlhost
 * itself) must not change what a config number means: "1.5" read as 1, and 0.5 refused where
 * the minimum is 0.001, before. Skipped, saying so, where no such locale is installed
 * (tests/deps.sh generates de_DE.UTF-8). */
START_TEST(numbers_ignore_the_hosts_locale) {
  if (!setlocale(LC_NUMERIC, "de_DE.UTF-8") && !setlocale(LC_NUMERIC, "de_DE.utf8")) {
    fprintf(stderr, "numbers_ignore_the_hosts_locale: skipped: no de_DE.UTF-8 locale\n");
    return;
  }
  char probe[16];
  snprintf(probe, sizeof probe, "%.1f", 1.5);
  ck_assert_str_eq(probe, "1,5"); /* the locale is really comma-decimal */
  struct mode_config c;
  char err[512] = "";
  struct warnings w = {0};
  int rc = parse("{" BASE ",\"requestsPerSecond\":1.5,\"rateBurst\":2.5,"
                 "\"connectTimeoutSeconds\":0.5}",
                 NULL, &c, err, &w);
  setlocale(LC_NUMERIC, "C");
  ck_assert_msg(rc == 0, "refused: %s", err);
  ck_assert(c.rate == 1.5);
  ck_assert(c.burst == 2.5);
  ck_assert_int_eq(c.connect_timeout_ms, 500);
  mode_config_free(&c);
}
END_TEST

int main(void) {
  Suite *s = suite_create("mode_config");
  TCase *tc = tcase_create("config");
  tcase_add_test(tc, defaults_of_a_minimal_config);
  tcase_add_loop_test(tc, errors_name_the_key, 0,
                      (int)(sizeof bad_configs / sizeof bad_configs[0]));
  tcase_add_test(tc, insecure_http_only_to_loopback_or_when_allowed);
  tcase_add_test(tc, snake_case_is_accepted_with_a_warning);
  tcase_add_test(tc, unknown_source_config_keys_warn);
  tcase_add_loop_test(tc, switches_that_do_nothing_for_mode_warn_once, 0,
                      (int)(sizeof noop_cases / sizeof noop_cases[0]));
  tcase_add_test(tc, connection_flag_and_type_are_checked);
  tcase_add_test(tc, lineage_settings_and_service_map);
  tcase_add_test(tc, source_config_filters_replace_connection_ones);
  tcase_add_loop_test(tc, filter_semantics, 0, (int)(sizeof filter_cases / sizeof filter_cases[0]));
  tcase_add_test(tc, schema_is_json_with_required_keys);
  tcase_add_test(tc, numbers_ignore_the_hosts_locale);
  suite_add_tcase(s, tc);
  TCase *urls = tcase_create("hostPort");
  tcase_add_loop_test(urls, plain_http_loopback_is_parsed_not_prefix_matched, 0,
                      (int)(sizeof http_hosts / sizeof http_hosts[0]));
  tcase_add_loop_test(urls, userinfo_in_host_port_is_a_config_error, 0,
                      (int)(sizeof userinfo_hosts / sizeof userinfo_hosts[0]));
  suite_add_tcase(s, urls);
  TCase *waits = tcase_create("waits");
  tcase_add_test(waits, wait_settings_have_bounded_defaults);
  tcase_add_test(waits, fetch_settings_follow_the_config);
  tcase_add_loop_test(waits, wait_settings_out_of_range_name_the_key, 0,
                      (int)(sizeof bad_wait_settings / sizeof bad_wait_settings[0]));
  suite_add_tcase(s, waits);
  return test_run_suite(s);
}
