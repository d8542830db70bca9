/*
 * tester.c -- `etlhost test`: each source's plugin loaded, its config opened, and its
 * connection test run, with a verdict per step; then the sink checked the same way (its
 * host_sink_ops.test: the file writable, the server reached and the JWT accepted) without
 * writing anything (see runner.h: host_test_workflow).
 */
#include "config.h"

#include "loader.h"
#include "log.h"
#include "runner.h"
#include "services.h"
#include "sink.h"
#include "workflow.h"

#include <stdio.h>
#include <stdlib.h>

static int test_source(const struct host_source_cfg *src, const struct host_runner_opts *opts,
                       FILE *out) {
  struct host_source_report rep = {.name = (char *)src->name, .type = (char *)src->type};
  struct etl_run run = {.rep = &rep, .log = opts->log, .test_out = out, .src = src};
  struct host_open_args oa = {0};
  void *instance = NULL;
  fprintf(out, "%s (%s):\n", src->name, src->type);
  fflush(out);
  const struct host_plugin *plugin = NULL;
  rep.status = host_loader_load(opts->loader, src->type, &plugin);
  if (rep.status != ETL_OK) {
    host_services_test_step(&run, "plugin", ETL_TEST_FAIL, "cannot load the plugin (see above)");
    goto out;
  }
  host_services_test_step(&run, "plugin", ETL_TEST_PASS, plugin->path);
  rep.status = host_open_args_prepare(&oa, src, &run, NULL, 0);
  if (rep.status != ETL_OK)
    goto out;
  rep.status = plugin->desc->open(&oa.args, &instance);
  fflush(stderr); /* the plugin's reasons, before the verdict */
  if (rep.status != ETL_OK) {
    host_services_test_step(&run, "config", ETL_TEST_FAIL, "the plugin refused the configuration");
    goto out;
  }
  host_services_test_step(&run, "config", ETL_TEST_PASS, "accepted");
  if (!plugin->desc->test) {
    host_services_test_step(&run, "connection", ETL_TEST_SKIP,
                            "the plugin offers no connection test");
  } else {
    host_services_set_current(plugin->desc, instance);
    rep.status = host_known_status(plugin->desc->test(instance));
    host_services_set_current(NULL, NULL);
    if (rep.status == ETL_OK && run.worst == ETL_TEST_FAIL)
      rep.status = ETL_ERR_INTERNAL; /* a step failed but the plugin said OK */
    if (rep.status != ETL_OK && run.worst != ETL_TEST_FAIL)
      host_services_test_step(&run, "connection", ETL_TEST_FAIL, etl_status_name(rep.status));
  }
  plugin->desc->close(instance);
out:
  fprintf(out, "  => %s\n", rep.status == ETL_OK ? "ok" : etl_status_name(rep.status));
  fflush(out);
  host_open_args_release(&oa);
  if (rep.status == ETL_OK)
    return HOST_EXIT_OK;
  rep.status = rep.status > 0 ? ETL_ERR_INTERNAL : rep.status;
  return host_exit_code_for(&rep);
}

/* host_sink_step_fn for the sink's check: prints like a plugin's step. ctx is the etl_run. */
static void sink_step(void *ctx, const char *step, enum etl_test_verdict verdict,
                      const char *message) {
  host_services_test_step(ctx, step, verdict, message);
}

/* Checks the sink as a run would create it, under the heading "sink (TYPE):". Returns the
 * exit code of its verdict. */
static int test_sink(const struct host_workflow *wf, const struct host_runner_opts *opts,
                     FILE *out) {
  struct host_source_report rep = {.name = "sink", .type = (char *)wf->sink_type};
  struct etl_run run = {.rep = &rep, .log = opts->log, .test_out = out};
  char *sink_json = NULL, *wf_json = NULL;
  fprintf(out, "sink (%s):\n", wf->sink_type);
  fflush(out);
  const struct host_sink_ops *ops = host_sink_find(wf->sink_type);
  if (!ops) {
    rep.status = ETL_ERR_CONFIG;
    host_services_test_step(&run, "sink", ETL_TEST_FAIL,
                            "no sink of this type (sinks: sqlite, file, stdout, metadata-rest)");
    goto out;
  }
  if (!ops->test) {
    rep.status = ETL_OK;
    host_services_test_step(&run, "sink", ETL_TEST_PASS, "nothing to check");
    goto out;
  }
  sink_json = host_node_to_json(wf->sink_config, NULL);
  wf_json = host_node_to_json(wf->workflow_config, NULL);
  if (!sink_json || !wf_json) {
    rep.status = ETL_ERR_NOMEM;
    goto out;
  }
  rep.status = ops->test(sink_json, wf_json, opts->log, sink_step, &run);
  fflush(stderr); /* the sink's logged reasons, before the verdict */
  if (rep.status == ETL_OK && run.worst == ETL_TEST_FAIL)
    rep.status = ETL_ERR_INTERNAL; /* a step failed but the sink said OK */
out:
  fprintf(out, "  => %s\n", rep.status == ETL_OK ? "ok" : etl_status_name(rep.status));
  fflush(out);
  free(sink_json);
  free(wf_json);
  if (rep.status == ETL_OK)
    return HOST_EXIT_OK;
  rep.status = rep.status > 0 ? ETL_ERR_INTERNAL : rep.status;
  return host_exit_code_for(&rep);
}

/* The worse of two exit codes: config (2) over connection (3) over failure (1) over ok. */
static int worse_exit(int a, int b) {
  static const int rank[] = {HOST_EXIT_OK, HOST_EXIT_FAILED, HOST_EXIT_CONNECT, HOST_EXIT_USAGE};
  int ra = 0, rb = 0;
  for (int k = 0; k < 4; k++) {
    if (rank[k] == a)
      ra = k;
    if (rank[k] == b)
      rb = k;
  }
  return rb > ra ? b : a;
}

int host_test_workflow(const struct host_workflow *wf, const struct host_runner_opts *opts,
                       FILE *out) {
  int worst = HOST_EXIT_OK;
  for (size_t i = 0; i < wf->n_sources && !host_interrupted(); i++)
    worst = worse_exit(worst, test_source(&wf->sources[i], opts, out));
  if (!host_interrupted())
    worst = worse_exit(worst, test_sink(wf, opts, out));
  return host_interrupted() ? HOST_EXIT_INTERRUPTED : worst;
}
