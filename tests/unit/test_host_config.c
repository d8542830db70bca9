/* The workflow file: every config error names file, line and key path; ${VAR} substitution;
 * secrets registered before anything is logged; YAML typed into JSON for plugins. */
#include "config.h"

#include "log.h"
#include "workflow.h"

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Loads YAML text as a workflow file; returns the load status and the messages logged. When
 * echo is not NULL, it is logged through the same log after the load. */
static int load_text(const char *yaml, const char *echo, char **messages,
                     struct host_workflow **wf_out) {
  char *dir = test_tmpdir();
  char *path = test_path("%s/workflow.yaml", dir);
  ck_assert_int_eq(test_write_file(path, yaml), 0);
  char *buf = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&buf, &size);
  struct host_log *log = host_log_new(out, ETL_SEV_DEBUG);
  struct host_workflow *wf = NULL;
  int rc = host_workflow_load(path, log, &wf);
  if (echo)
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL, "%s", echo);
  host_log_free(&log);
  fclose(out);
  /* Messages name the file as given; tests compare against the basename. */
  char *shown = buf;
  for (char *p; (p = strstr(shown, path)) != NULL;) {
    memmove(p, "workflow.yaml", 13);
    memmove(p + 13, p + strlen(path), strlen(p + strlen(path)) + 1);
  }
  *messages = shown;
  if (wf_out)
    *wf_out = wf;
  else
    host_workflow_free(&wf);
  test_rmtree(dir);
  free(path);
  free(dir);
  return rc;
}

#define GOOD_SOURCE                                                                                \
  "source:\n"                                                                                      \
  "  type: fake\n"                                                                                 \
  "  serviceName: svc\n"                                                                           \
  "  serviceConnection:\n"                                                                         \
  "    config:\n"                                                                                  \
  "      count: 3\n"

/* Each bad file and the message it must produce (a substring of the log). */
static const struct {
  const char *yaml;
  const char *message;
} bad_cases[] = {
    {"source:\n  type: fake\n  serviceName: svc\n  serviceConnection:\n    config: [1, 2]\n",
     "workflow.yaml:5: error: source.serviceConnection.config: expected a mapping, found a list"},
    {"source:\n  type: fake\n  serviceConnection:\n    config: {}\n",
     "workflow.yaml:2: error: source.serviceName: required key is missing"},
    {GOOD_SOURCE "  colour: blue\n",
     "workflow.yaml:7: error: source.colour: unknown key (expected one of: type, serviceName, "
     "serviceConnection, sourceConfig)"},
    {GOOD_SOURCE "sink:\n  type: file\n  conf: {}\n",
     "workflow.yaml:9: error: sink.conf: unknown key (expected one of: type, config)"},
    {GOOD_SOURCE "sink: file\n",
     "workflow.yaml:7: error: sink: expected a mapping, found a string"},
    {GOOD_SOURCE "workflowConfig:\n  loggerLevel: LOUD\n",
     "workflow.yaml:8: error: workflowConfig.loggerLevel: expected DEBUG, INFO, WARN or ERROR"},
    {GOOD_SOURCE "workflowConfig:\n  retries: 3\n",
     "workflow.yaml:8: error: workflowConfig.retries: unknown key"},
    {"sink:\n  type: file\n", "error: source: required key is missing (or give a `sources` list)"},
    {"sources: []\n", "workflow.yaml:1: error: sources: the list is empty"},
    {"sources:\n  - type: fake\n    serviceName: a\n    serviceConnection: {config: {}}\n"
     "  - type: jsonl\n    serviceName: a\n    serviceConnection: {config: {}}\n",
     "workflow.yaml:5: error: sources[1].serviceName: serviceName `a` is already used by "
     "sources[0]"},
    {"sources:\n  - type: fake\n    serviceName: a\n    serviceConnection: {config: {}}\n"
     "  - type: [x]\n    serviceName: b\n    serviceConnection: {config: {}}\n",
     "workflow.yaml:5: error: sources[1].type: expected a string, found a list"},
    {GOOD_SOURCE "  sourceConfig:\n    config:\n      x: 1\n    extra: 2\n",
     "workflow.yaml:10: error: source.sourceConfig.extra: unknown key (expected one of: config)"},
    {"source:\n  type: fake\n  serviceName: svc\n  serviceConnection: {}\n",
     "workflow.yaml:4: error: source.serviceConnection.config: required key is missing"},
    {"source: {type: fake, serviceName: svc, serviceConnection: {config: {}}}\nsource: {}\n",
     "workflow.yaml:2: error: duplicate key `source`"},
    {"source:\n  type: fake\n   serviceName: x\n", "workflow.yaml:3: error: invalid YAML"},
    {"", "workflow.yaml: error: the file is empty"},
    {"- a\n- b\n", "workflow.yaml:1: error: expected a mapping, found a list"},
    {GOOD_SOURCE "      token: ${ETL_TEST_SURELY_UNSET_VAR}\n",
     "workflow.yaml:7: error: source.serviceConnection.config.token: environment variable "
     "ETL_TEST_SURELY_UNSET_VAR is not set"},
    {GOOD_SOURCE "      url: http://${HOST\n",
     "workflow.yaml:7: error: source.serviceConnection.config.url: malformed ${...}"},
};

START_TEST(config_error_names_line_and_key) {
  char *messages = NULL;
  int rc = load_text(bad_cases[_i].yaml, NULL, &messages, NULL);
  ck_assert_int_eq(rc, -1);
  ck_assert_msg(strstr(messages, bad_cases[_i].message) != NULL,
                "case %d: expected\n  %s\nin\n  %s", _i, bad_cases[_i].message, messages);
  free(messages);
}
END_TEST

START_TEST(good_file_and_defaults) {
  char *messages = NULL;
  struct host_workflow *wf = NULL;
  ck_assert_int_eq(load_text(GOOD_SOURCE, NULL, &messages, &wf), 0);
  ck_assert_str_eq(messages ? messages : "", "");
  ck_assert_uint_eq(wf->n_sources, 1);
  ck_assert_str_eq(wf->sources[0].type, "fake");
  ck_assert_str_eq(wf->sources[0].name, "svc");
  ck_assert_str_eq(wf->sink_type, "sqlite");
  ck_assert_str_eq(wf->state_store, HOST_DEFAULT_STATE_STORE);
  ck_assert_ptr_null(wf->sources[0].source_config);
  host_workflow_free(&wf);
  ck_assert_ptr_null(wf);
  free(messages);
}
END_TEST

START_TEST(openmetadata_shape_is_accepted) {
  /* A file shaped like OpenMetadata's own examples. */
  const char *yaml = "source:\n"
                     "  type: fake\n"
                     "  serviceName: mode_prod\n"
                     "  serviceConnection:\n"
                     "    config:\n"
                     "      type: Mode\n"
                     "      hostPort: https://app.mode.com\n"
                     "  sourceConfig:\n"
                     "    config:\n"
                     "      type: DashboardMetadata\n"
                     "sink:\n"
                     "  type: metadata-rest\n"
                     "  config: {}\n"
                     "workflowConfig:\n"
                     "  loggerLevel: DEBUG\n"
                     "  stateStore: /tmp/x.db\n"
                     "  openMetadataServerConfig:\n"
                     "    hostPort: http://localhost:8585/api\n"
                     "    authProvider: openmetadata\n"
                     "    securityConfig:\n"
                     "      jwtToken: abc\n";
  char *messages = NULL;
  struct host_workflow *wf = NULL;
  ck_assert_int_eq(load_text(yaml, NULL, &messages, &wf), 0);
  ck_assert_str_eq(wf->sink_type, "metadata-rest");
  ck_assert_str_eq(wf->state_store, "/tmp/x.db");
  ck_assert_str_eq(wf->logger_level, "DEBUG");
  size_t len = 0;
  char *json = host_node_to_json(wf->sources[0].source_config, &len);
  ck_assert_str_eq(json, "{\"type\":\"DashboardMetadata\"}");
  ck_assert_uint_eq(len, strlen(json));
  free(json);
  host_workflow_free(&wf);
  free(messages);
}
END_TEST

START_TEST(env_substitution) {
  setenv("ETL_TEST_HOST", "mode.example", 1);
  setenv("ETL_TEST_EMPTY", "", 1);
  unsetenv("ETL_TEST_UNSET");
  const char *yaml = GOOD_SOURCE "      url: https://${ETL_TEST_HOST}/api\n"
                                 "      a: ${ETL_TEST_UNSET:-fallback}\n"
                                 "      b: ${ETL_TEST_EMPTY:-used when empty}\n"
                                 "      c: \"${ETL_TEST_EMPTY}\"\n"
                                 "      d: $${ETL_TEST_HOST} stays\n"
                                 "      e: ${ETL_TEST_UNSET:-}\n";
  char *messages = NULL;
  struct host_workflow *wf = NULL;
  ck_assert_int_eq(load_text(yaml, NULL, &messages, &wf), 0);
  char *json = host_node_to_json(wf->sources[0].connection, NULL);
  ck_assert_str_eq(json, "{\"count\":3,\"url\":\"https://mode.example/api\",\"a\":\"fallback\","
                         "\"b\":\"used when empty\",\"c\":\"\",\"d\":\"${ETL_TEST_HOST} stays\","
                         "\"e\":null}");
  free(json);
  host_workflow_free(&wf);
  free(messages);
}
END_TEST

START_TEST(yaml_types_become_json_types) {
  const char *yaml = "a: 12\nb: -1.5e3\nc: true\nd: False\ne: ~\nf: '12'\ng: 0123\n"
                     "h: [1, x, {k: null}]\ni: \"quote\\\" and \\\\ slash\"\nj: é\n";
  struct host_node *root = NULL;
  struct host_log *log = host_log_new(stderr, ETL_SEV_ERROR);
  ck_assert_int_eq(host_yaml_parse("t.yaml", yaml, strlen(yaml), log, &root), 0);
  char *json = host_node_to_json(root, NULL);
  ck_assert_str_eq(json, "{\"a\":12,\"b\":-1.5e3,\"c\":true,\"d\":false,\"e\":null,\"f\":\"12\","
                         "\"g\":\"0123\",\"h\":[1,\"x\",{\"k\":null}],"
                         "\"i\":\"quote\\\" and \\\\ slash\",\"j\":\"é\"}");
  free(json);
  ck_assert_ptr_nonnull(host_node_get(root, "h"));
  ck_assert_ptr_null(host_node_get(root, "zz"));
  host_node_free(root);
  host_log_free(&log);
}
END_TEST

START_TEST(aliases_are_resolved) {
  const char *yaml = "base: &b {x: 1}\ncopy: *b\n";
  struct host_node *root = NULL;
  struct host_log *log = host_log_new(stderr, ETL_SEV_ERROR);
  ck_assert_int_eq(host_yaml_parse("t.yaml", yaml, strlen(yaml), log, &root), 0);
  char *json = host_node_to_json(root, NULL);
  ck_assert_str_eq(json, "{\"base\":{\"x\":1},\"copy\":{\"x\":1}}");
  free(json);
  host_node_free(root);
  host_log_free(&log);
}
END_TEST

START_TEST(secrets_are_registered_before_logging) {
  setenv("ETL_TEST_TOKEN", "tok-very-secret-1", 1);
  const char *yaml = GOOD_SOURCE "      apiToken: ${ETL_TEST_TOKEN}\n"
                                 "      password: hunter22\n"
                                 "      nested:\n"
                                 "        clientSecret: [sec-in-list]\n"
                                 "      jwt: jwt-abcdef\n"
                                 "      colour: blue\n"
                                 "  bogus: 1\n";
  char *messages = NULL;
  ck_assert_int_eq(load_text(yaml, "echo tok-very-secret-1 hunter22 sec-in-list jwt-abcdef blue",
                             &messages, NULL),
                   -1); /* the bogus key */
  ck_assert_ptr_nonnull(strstr(messages, "source.bogus: unknown key"));
  ck_assert_ptr_nonnull(strstr(messages, "echo *** *** *** *** blue"));
  ck_assert_ptr_null(strstr(messages, "hunter22"));
  free(messages);
}
END_TEST

static int count_of(const char *text, const char *needle) {
  int n = 0;
  for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
    n++;
  return n;
}

/* OpenMetadata's workflowConfig keys: accepted, and each one that does nothing here says so
 * once, at its line. */
START_TEST(openmetadata_workflow_keys_warn_when_they_do_nothing) {
  const char *yaml = GOOD_SOURCE "workflowConfig:\n"
                                 "  loggerLevel: INFO\n"
                                 "  raiseOnError: false\n"
                                 "  successThreshold: 90\n"
                                 "  config: {}\n"
                                 "  openMetadataServerConfig:\n"
                                 "    hostPort: http://localhost:8585/api\n";
  char *messages = NULL;
  ck_assert_int_eq(load_text(yaml, NULL, &messages, NULL), 0);
  ck_assert_int_eq(count_of(messages, "warning"), 4);
  ck_assert_ptr_nonnull(strstr(messages, "workflow.yaml:9: warning: "
                                         "workflowConfig.raiseOnError: does nothing"));
  ck_assert_ptr_nonnull(strstr(messages, "workflow.yaml:10: warning: "
                                         "workflowConfig.successThreshold: does nothing"));
  ck_assert_ptr_nonnull(strstr(messages, "workflow.yaml:11: warning: "
                                         "workflowConfig.config: does nothing"));
  ck_assert_ptr_nonnull(strstr(messages, "workflowConfig.openMetadataServerConfig: does nothing "
                                         "here: only the metadata-rest sink"));
  free(messages);

  /* Honoured as given: no warning. */
  const char *honoured = GOOD_SOURCE "sink: {type: metadata-rest}\n"
                                     "workflowConfig:\n"
                                     "  raiseOnError: true\n"
                                     "  openMetadataServerConfig:\n"
                                     "    hostPort: http://localhost:8585/api\n";
  ck_assert_int_eq(load_text(honoured, NULL, &messages, NULL), 0);
  ck_assert_int_eq(count_of(messages, "warning"), 0);
  free(messages);
}
END_TEST

/* ingestionPipelineFQN and pipelineRunId, as OpenMetadata's scheduler sets them: read into the
 * workflow; the run id must be a UUID and is made when absent; another sink warns. */
START_TEST(scheduler_keys_are_read) {
  struct host_workflow *wf = NULL;
  char *messages = NULL;
  const char *rest = GOOD_SOURCE "sink: {type: metadata-rest}\n"
                                 "ingestionPipelineFQN: svc.svc_metadata\n"
                                 "pipelineRunId: 6F1C2A9E-3b7d-4c55-9a61-2c8d7f0e4b12\n";
  ck_assert_int_eq(load_text(rest, NULL, &messages, &wf), 0);
  ck_assert_str_eq(wf->ingestion_pipeline_fqn, "svc.svc_metadata");
  ck_assert_str_eq(wf->pipeline_run_id, "6F1C2A9E-3b7d-4c55-9a61-2c8d7f0e4b12");
  ck_assert_int_eq(count_of(messages, "warning"), 0);
  host_workflow_free(&wf);
  free(messages);

  const char *other = GOOD_SOURCE "ingestionPipelineFQN: svc.svc_metadata\n";
  ck_assert_int_eq(load_text(other, NULL, &messages, &wf), 0);
  ck_assert_int_eq(strlen(wf->pipeline_run_id), 36); /* made: a version 4 UUID */
  ck_assert_int_eq(wf->pipeline_run_id[14], '4');
  ck_assert_ptr_nonnull(strstr(messages, "workflow.yaml:7: warning: ingestionPipelineFQN: does "
                                         "nothing here: only the metadata-rest sink"));
  host_workflow_free(&wf);
  free(messages);

  const char *bad = GOOD_SOURCE "pipelineRunId: run-42\n";
  ck_assert_int_eq(load_text(bad, NULL, &messages, NULL), -1);
  ck_assert_ptr_nonnull(strstr(messages, "workflow.yaml:7: error: pipelineRunId: expected a UUID"));
  free(messages);
}
END_TEST

/* markDeletedDashboards: the sink carries it out, or says it cannot. */
static const struct {
  const char *sink, *value;
  int warnings;
} mark_cases[] = {
    {"{type: sqlite}", "false", 1},
    {"{type: sqlite}", "true", 0},
    {"{type: metadata-rest}", "false", 0},
    {"{type: metadata-rest}", "true", 0},
    {"{type: file, config: {path: x}}", "true", 1},
    {"{type: stdout}", "false", 0},
};

START_TEST(mark_deleted_warns_when_the_sink_cannot_honour_it) {
  char *yaml = test_path(GOOD_SOURCE "  sourceConfig:\n"
                                     "    config:\n"
                                     "      markDeletedDashboards: %s\n"
                                     "sink: %s\n",
                         mark_cases[_i].value, mark_cases[_i].sink);
  char *messages = NULL;
  ck_assert_int_eq(load_text(yaml, NULL, &messages, NULL), 0);
  ck_assert_msg(count_of(messages, "warning") == mark_cases[_i].warnings, "%s", messages);
  if (mark_cases[_i].warnings)
    ck_assert_ptr_nonnull(strstr(messages, "workflow.yaml:9: warning: source.sourceConfig.config."
                                           "markDeletedDashboards: does nothing with the"));
  free(messages);
  free(yaml);
}
END_TEST

START_TEST(missing_file) {
  struct host_log *log = host_log_new(stderr, ETL_SEV_ERROR);
  struct host_workflow *wf = NULL;
  ck_assert_int_eq(host_workflow_load("/nonexistent/wf.yaml", log, &wf), -1);
  ck_assert_ptr_null(wf);
  ck_assert_uint_eq(host_log_count(log, ETL_SEV_ERROR), 1);
  host_log_free(&log);
}
END_TEST

int main(void) {
  Suite *s = suite_create("host_config");
  TCase *tc = tcase_create("config");
  tcase_add_loop_test(tc, config_error_names_line_and_key, 0,
                      (int)(sizeof bad_cases / sizeof bad_cases[0]));
  tcase_add_test(tc, good_file_and_defaults);
  tcase_add_test(tc, openmetadata_shape_is_accepted);
  tcase_add_test(tc, env_substitution);
  tcase_add_test(tc, yaml_types_become_json_types);
  tcase_add_test(tc, aliases_are_resolved);
  tcase_add_test(tc, scheduler_keys_are_read);
  tcase_add_test(tc, secrets_are_registered_before_logging);
  tcase_add_test(tc, openmetadata_workflow_keys_warn_when_they_do_nothing);
  tcase_add_loop_test(tc, mark_deleted_warns_when_the_sink_cannot_honour_it, 0,
                      (int)(sizeof mark_cases / sizeof mark_cases[0]));
  tcase_add_test(tc, missing_file);
  suite_add_tcase(s, tc);
  return test_run_suite(s);
}
