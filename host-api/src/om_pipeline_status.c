/*
 * om_pipeline_status.c -- the run's status on its OpenMetadata ingestion pipeline (see
 * om_pipeline_status.h).
 *
 * What OpenMetadata's server takes (openmetadata-service IngestionPipelineResource):
 *   GET /v1/services/ingestionPipelines/name/{fqn}            the pipeline, 404 when unknown
 *   PUT /v1/services/ingestionPipelines/{fqn}/pipelineStatus   a @Valid PipelineStatus
 * PipelineStatus (entity/services/ingestionPipelines/ingestionPipeline.json): runId,
 * pipelineState (queued, success, failed, running, partialSuccess), startDate, timestamp,
 * endDate (ms), status: a list of StepSummary (status.json: name, records, updated_records,
 * warnings, errors, filtered, failures [{name, error}]). The server keeps one status per runId,
 * so the final PUT replaces the `running` one, as the Python workflow's
 * create_or_update_pipeline_status does after re-reading it.
 *
 * The final state follows OpenMetadata's workflow (base.py execute and
 * raise_from_status_internal, Status.calculate_success in ingestion/api/status.py): a run
 * that stopped (an exception there; here a source that did not end normally) is `failed`;
 * otherwise success = max(records, 1) * 100 / (max(records, 1) + failures): 100 is `success`,
 * at least workflowConfig.successThreshold (default 90) is `partialSuccess`, below it `failed`.
 */
#include "config.h"

#include "om_pipeline_status.h"

#include "cnum.h"
#include "log.h"
#include "omrest_client.h"
#include "omrest_json.h"
#include "om_server_config.h"
#include "runner.h"
#include "workflow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define WHERE "ingestionPipelineFQN"
#define DEFAULT_SUCCESS_THRESHOLD 90.0 /* workflowConfig.successThreshold's default */

struct host_om_pipeline {
  const struct host_workflow *wf; /* borrowed */
  struct host_log *log;           /* borrowed */
  struct host_om_client *client;  /* owned */
  char *path;                     /* owned: "/v1/services/ingestionPipelines/{fqn}" escaped */
  long long start_ms;
};

/* The outcome of one request, filled by on_done. */
struct answer {
  long status;
  char *message; /* owned: why it failed, or NULL */
};

static long long now_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* The server's message ({"code", "message"}), else the transport's, else the body, short. */
static void on_done(void *ctx, const struct host_om_response *r) {
  struct answer *a = ctx;
  char err[64];
  a->status = r->status;
  if (r->status >= 200 && r->status < 300)
    return;
  yajl_val v = r->body_len ? host_json_parse(r->body, r->body_len, err, sizeof err) : NULL;
  const char *m = host_json_str(v, "message");
  int rc = m                    ? asprintf(&a->message, "HTTP %ld: %s", r->status, m)
           : r->transport_error ? asprintf(&a->message, "%s", r->transport_error)
                                : asprintf(&a->message, "HTTP %ld: %.200s", r->status,
                                           r->body_len ? r->body : "(empty body)");
  if (rc < 0)
    a->message = NULL;
  yajl_tree_free(v);
}

/* Runs one request to its end; returns true on a 2xx, else warns with what went wrong. */
static bool request(struct host_om_pipeline *p, const char *method, const char *path,
                    const char *body, const char *what) {
  struct answer a = {0};
  bool ok = host_om_client_add(p->client, method, path, body, on_done, &a) == 0 &&
            host_om_client_run(p->client) == ETL_OK && a.status >= 200 && a.status < 300;
  if (!ok)
    host_log_msg(p->log, ETL_SEV_WARNING, WHERE, NULL,
                 "ingestion pipeline %s: %s not sent (%s); the run goes on",
                 p->wf->ingestion_pipeline_fqn, what, a.message ? a.message : "out of memory");
  free(a.message);
  return ok;
}

/* The client for workflowConfig.openMetadataServerConfig, read as the metadata-rest sink reads
 * it (that sink has already refused a bad one, so quietly here). NULL when unusable. */
static struct host_om_client *client_for(const struct host_workflow *wf, struct host_log *log) {
  char *json = host_node_to_json(wf->workflow_config, NULL), err[64];
  yajl_val root = json ? host_json_parse(json, strlen(json), err, sizeof err) : NULL;
  struct host_om_client *client = NULL;
  struct host_om_client_config cc = {
      .concurrency = 1, .retries = 2, .timeout_ms = 30000, .backoff_ms = 500};
  if (root && host_om_server_config(root, log, true, &cc) == ETL_OK)
    client = host_om_client_new(&cc, log);
  yajl_tree_free(root);
  free(json);
  return client;
}

void host_om_pipeline_start(const struct host_workflow *wf, struct host_log *log,
                            struct host_om_pipeline **out) {
  struct host_om_pipeline *p = NULL;
  char *fqn = NULL, *get = NULL, *body = NULL;
  *out = NULL;
  if (!wf->ingestion_pipeline_fqn || strcmp(wf->sink_type, "metadata-rest") != 0)
    return; /* workflow.c has warned about the second */
  if (!(p = calloc(1, sizeof *p)))
    goto out;
  p->wf = wf;
  p->log = log;
  p->start_ms = now_ms();
  if (!(p->client = client_for(wf, log)) ||
      !(fqn = host_om_client_escape(p->client, wf->ingestion_pipeline_fqn)) ||
      asprintf(&p->path, "/v1/services/ingestionPipelines/%s", fqn) < 0 ||
      asprintf(&get, "/v1/services/ingestionPipelines/name/%s", fqn) < 0) {
    p->path = NULL;
    host_log_msg(log, ETL_SEV_WARNING, WHERE, NULL,
                 "ingestion pipeline %s: cannot reach OpenMetadata; no status is sent",
                 wf->ingestion_pipeline_fqn);
    goto out;
  }
  /* As the Python workflow: no pipeline, no status (workflow_status_mixin.py). */
  if (!request(p, "GET", get, NULL, "looked up, so its status is"))
    goto out;
  if (asprintf(&body,
               "{\"runId\":\"%s\",\"pipelineState\":\"running\",\"startDate\":%lld,"
               "\"timestamp\":%lld}",
               wf->pipeline_run_id, p->start_ms, p->start_ms) < 0) {
    body = NULL;
    goto out;
  }
  char *put = NULL;
  if (asprintf(&put, "%s/pipelineStatus", p->path) < 0)
    goto out;
  request(p, "PUT", put, body, "status running");
  free(put);
  *out = p; /* the end is sent even when `running` was not: it replaces it */
  p = NULL;
out:
  free(body);
  free(get);
  free(fqn);
  host_om_pipeline_end(&p, NULL);
}

static double success_threshold(const struct host_workflow *wf) {
  const struct host_node *t = host_node_get(wf->workflow_config, "successThreshold");
  char *end = NULL;
  double v = t && t->type == HOST_NODE_SCALAR ? host_strtod_c(t->scalar, &end) : 0;
  return end && end != t->scalar && *end == '\0' && v >= 0 && v <= 100 ? v
                                                                       : DEFAULT_SUCCESS_THRESHOLD;
}

/* OpenMetadata's final state of the run (see the top of the file). */
static const char *final_state(const struct host_om_pipeline *p,
                               const struct host_run_report *report) {
  long long records = 0, failures = 0;
  for (size_t i = 0; i < report->n_sources; i++) {
    const struct host_source_report *s = &report->sources[i];
    if (s->status != ETL_DONE)
      return "failed";
    records += s->entities > s->failed ? s->entities - s->failed : 0;
    failures += s->failed;
  }
  double ok = (double)(records > 0 ? records : 1);
  double success = ok * 100.0 / (ok + (double)failures);
  if (failures == 0)
    return "success";
  return success >= success_threshold(p->wf) ? "partialSuccess" : "failed";
}

static void gen_count(yajl_gen g, const char *key, long long n) {
  host_json_gen_str(g, key);
  yajl_gen_integer(g, n);
}

/* One StepSummary per source: its records landed, warnings, failed records, filtered. */
static void gen_step(yajl_gen g, const struct host_source_report *s) {
  yajl_gen_map_open(g);
  host_json_gen_str(g, "name");
  host_json_gen_str(g, s->name);
  gen_count(g, "records", s->entities > s->failed ? s->entities - s->failed : 0);
  gen_count(g, "updated_records", 0);
  gen_count(g, "warnings", s->warnings);
  gen_count(g, "errors", s->failed);
  gen_count(g, "filtered", s->filtered);
  if (s->status != ETL_DONE) { /* why the step stopped, as a StackTraceError */
    host_json_gen_str(g, "failures");
    yajl_gen_array_open(g);
    yajl_gen_map_open(g);
    host_json_gen_str(g, "name");
    host_json_gen_str(g, s->name);
    host_json_gen_str(g, "error");
    host_json_gen_str(g, s->started ? "the source stopped before its end"
                                    : "the source did not start");
    yajl_gen_map_close(g);
    yajl_gen_array_close(g);
  }
  yajl_gen_map_close(g);
}

static char *final_body(const struct host_om_pipeline *p, const struct host_run_report *report) {
  yajl_gen g = yajl_gen_alloc(NULL);
  long long end = now_ms();
  if (!g)
    return NULL;
  yajl_gen_map_open(g);
  host_json_gen_str(g, "runId");
  host_json_gen_str(g, p->wf->pipeline_run_id);
  host_json_gen_str(g, "pipelineState");
  host_json_gen_str(g, final_state(p, report));
  gen_count(g, "startDate", p->start_ms);
  gen_count(g, "timestamp", p->start_ms);
  gen_count(g, "endDate", end);
  host_json_gen_str(g, "status");
  yajl_gen_array_open(g);
  for (size_t i = 0; i < report->n_sources; i++)
    gen_step(g, &report->sources[i]);
  yajl_gen_array_close(g);
  yajl_gen_map_close(g);
  char *body = host_json_gen_take(g);
  yajl_gen_free(g);
  return body;
}

void host_om_pipeline_end(struct host_om_pipeline **pp, const struct host_run_report *report) {
  if (!pp || !*pp)
    return;
  struct host_om_pipeline *p = *pp;
  char *body = report ? final_body(p, report) : NULL, *put = NULL;
  if (body && p->path && asprintf(&put, "%s/pipelineStatus", p->path) >= 0) {
    request(p, "PUT", put, body, "final status");
    free(put);
  }
  free(body);
  host_om_client_free(&p->client);
  free(p->path);
  free(p);
  *pp = NULL;
}
