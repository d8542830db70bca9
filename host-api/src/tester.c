/*
 * tester.c -- `etlhost test`: each source's plugin loaded, its config opened, and its
 * connection test run, with a verdict per step (see runner.h: host_test_workflow).
 */
#include "config.h"

#include "loader.h"
#include "log.h"
#include "runner.h"
#include "services.h"
#include "workflow.h"

#include <stdio.h>

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
    rep.status = plugin->desc->test(instance);
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

int host_test_workflow(const struct host_workflow *wf, const struct host_runner_opts *opts,
                       FILE *out) {
  int worst = HOST_EXIT_OK;
  static const int rank[] = {HOST_EXIT_OK, HOST_EXIT_FAILED, HOST_EXIT_CONNECT, HOST_EXIT_USAGE};
  for (size_t i = 0; i < wf->n_sources && !host_interrupted(); i++) {
    int code = test_source(&wf->sources[i], opts, out);
    int rc_rank = 0, worst_rank = 0;
    for (int k = 0; k < 4; k++) {
      if (rank[k] == code)
        rc_rank = k;
      if (rank[k] == worst)
        worst_rank = k;
    }
    if (rc_rank > worst_rank)
      worst = code;
  }
  return host_interrupted() ? HOST_EXIT_INTERRUPTED : worst;
}
