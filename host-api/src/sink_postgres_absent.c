/*
 * sink_postgres_absent.c -- the `postgres` sink of an etlhost built without libpq: it exists
 * only to say so, so that a workflow naming it learns how to get it rather than that no such
 * sink exists.
 */
#include "config.h"

#include "log.h"
#include "sink_postgres.h"

static const char why[] = "sink.type: postgres: this etlhost was built without libpq; install "
                          "the Debian package libpq-dev and rebuild";

static etl_status absent_create(const char *config_json, const char *workflow_json,
                                struct host_log *log, void **sink) {
  (void)config_json;
  (void)workflow_json;
  *sink = NULL;
  host_log_msg(log, ETL_SEV_ERROR, NULL, NULL, "%s", why);
  return ETL_ERR_CONFIG;
}

static etl_status absent_test(const char *config_json, const char *workflow_json,
                              struct host_log *log, host_sink_step_fn step, void *ctx) {
  (void)config_json;
  (void)workflow_json;
  (void)log;
  step(ctx, "catalog", ETL_TEST_FAIL, why);
  return ETL_ERR_CONFIG;
}

static void absent_destroy(void **sink) {
  if (sink)
    *sink = NULL;
}

const struct host_sink_ops host_sink_postgres_ops = {
    .type = "postgres",
    .create = absent_create,
    .destroy = absent_destroy,
    .test = absent_test,
};
