/*
 * om_pipeline_status.h -- reports a run to OpenMetadata as its ingestion pipeline's status, the
 * way OpenMetadata's own ingestion workflow does (ingestion/src/metadata/workflow/
 * workflow_status_mixin.py, set_ingestion_pipeline_status; base.py, execute): `running` when
 * the run starts, then `success`, `partialSuccess` or `failed` with one step summary per source
 * (records, warnings, errors, filtered).
 *
 * Only when the workflow names an ingestionPipelineFQN (OpenMetadata's scheduler sets it) and
 * the sink is metadata-rest. A status that cannot be sent is a warning naming the pipeline and
 * the server's message: it never changes the run's outcome. One thread only.
 */
#ifndef HOST_OM_PIPELINE_STATUS_H
#define HOST_OM_PIPELINE_STATUS_H

struct host_log;
struct host_workflow;
struct host_run_report;
struct host_om_pipeline;

/* Looks the pipeline up (GET .../ingestionPipelines/name/{fqn}) and sends `running`. *out is
 * the handle for host_om_pipeline_end (owned by the caller), or NULL when there is nothing to
 * report to: no ingestionPipelineFQN, another sink, or the pipeline unknown (warned). wf and
 * log are borrowed and must outlive the handle. */
void host_om_pipeline_start(const struct host_workflow *wf, struct host_log *log,
                            struct host_om_pipeline **out);

/* Sends the run's final state and step summaries from report, then frees *p and sets it to
 * NULL. NULL-safe. */
void host_om_pipeline_end(struct host_om_pipeline **p, const struct host_run_report *report);

#endif
