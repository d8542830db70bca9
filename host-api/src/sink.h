/*
 * sink.h -- the interface every sink of the host implements (sqlite, file, stdout,
 * metadata-rest). Host-internal: plugins never see it.
 *
 * The runner drives one sink for the whole run, from one thread:
 *
 *   create -> { begin_source -> write* -> (commit -> state is stored)* -> end_source }* -> destroy
 *
 * Delivery contract (what makes "a crash loses nothing" true): write() may buffer; commit()
 * returns ETL_OK only once every record written before it is durably accepted (fsync'd file,
 * committed transaction, acknowledged by the server). The runner stores a source's state only
 * after a successful commit() that followed the write of every entity emitted before the state.
 * A sink that can store state atomically with its data (sqlite) says so with store_state.
 *
 * Records are delivered at least once: after a crash, the entities since the last stored state
 * come again, so sinks upsert by (source, kind, id).
 */
#ifndef HOST_SINK_H
#define HOST_SINK_H

#include <etl/plugin.h>
#include <stdbool.h>
#include <stddef.h>

struct host_log; /* diagnostics of the host (log.h) */

/* Reports one step of a sink's check (`etlhost test`): its name ("catalog", "server",
 * "credentials"), its verdict and a message for the user (borrowed for the call; never a
 * secret). ctx is the caller's. */
typedef void (*host_sink_step_fn)(void *ctx, const char *step, enum etl_test_verdict verdict,
                                  const char *message);

/* One entity on its way to a sink. Borrowed: valid only during the write() call. */
struct host_record {
  const char *source; /* the source's serviceName */
  const char *kind;
  const char *id;
  const char *json; /* the entity's data, a JSON object, not NUL-terminated */
  size_t json_len;
};

/* What the deletion fail-safe held back in one end_source(): the n entities this run would
 * have marked deleted, of the source's `of` entities. Both 0 when nothing was held back. */
struct host_deletions_held {
  long long n;
  long long of;
};

/* Per-source outcome the runner reports to end_source(). */
struct host_source_outcome {
  bool complete;    /* the plugin reached ETL_DONE and lost no item: absence means deletion */
  long long run_id; /* the runner's run number (run history) */
  const char *source_config_json; /* the source's sourceConfig.config as JSON ("{}" if none),
                                   * borrowed; per-source options such as markDeletedDashboards */
  double fail_safe_threshold;     /* the largest share (percent) of the source's entities a
                                   * complete run may mark deleted (host_fail_safe_allows); 0
                                   * means the default, HOST_FAIL_SAFE_DEFAULT */
  struct host_deletions_held *held; /* the one thing end_source() reports back (runner-owned;
                                     * NULL: nobody asks): a sink whose fail-safe refuses a
                                     * deletion fills it, which host_fail_safe_allows does for
                                     * it, so the run summary can say so */
};

/* Default of workflowConfig.failSafeThreshold (percent), as DataHub's fail_safe_threshold. */
#define HOST_FAIL_SAFE_DEFAULT 20.0

/* Result of one write: ETL_OK, or a negative status. A record the sink rejects for itself
 * (the server refused it) is reported through the log and returns ETL_OK with *rejected set,
 * so the run goes on and the record counts as failed. */
struct host_sink_ops {
  const char *type; /* "sqlite", "file", "stdout", "metadata-rest" */

  /* Creates the sink from its YAML config (a JSON object, "{}" when absent) and the
   * workflowConfig (a JSON object). On error, logs what is wrong naming the key and returns
   * ETL_ERR_CONFIG (or ETL_ERR_CONNECT). *sink is owned by the caller until destroy. */
  etl_status (*create)(const char *config_json, const char *workflow_json, struct host_log *log,
                       void **sink);

  etl_status (*begin_source)(void *sink, const char *source, const char *plugin_type);

  etl_status (*write)(void *sink, const struct host_record *rec, bool *rejected);

  /* Makes everything written so far durable. */
  etl_status (*commit)(void *sink);

  /* Optional (NULL if the sink cannot): stores the source's state in the same durable unit as
   * the data written before it, and commits both. When NULL, the runner calls commit() then
   * writes the state to its own state store. */
  etl_status (*store_state)(void *sink, const char *source, const char *state_json, size_t len);

  /* Optional (NULL unless store_state is offered): loads the last state stored with
   * store_state into *json (malloc'd, caller frees; NULL when none). */
  etl_status (*load_state)(void *sink, const char *source, char **json, size_t *len);

  /* Ends a source: with outcome->complete, the sink may mark what this run did not see as
   * deleted (sqlite marks rows, metadata-rest soft-deletes when asked to). */
  etl_status (*end_source)(void *sink, const char *source, const struct host_source_outcome *o);

  /* Optional (NULL if the sink never rejects late): the number of records rejected inside
   * commit() or end_source() since the previous call (a server refusing a record only when it
   * is delivered), each already logged with its id. The runner asks after each and counts them
   * as failed records. */
  unsigned long (*take_rejected)(void *sink);

  /* Releases the sink. NULL-safe; sets *sink to NULL. */
  void (*destroy)(void **sink);

  /* Optional (NULL: nothing to check, as for stdout). `etlhost test`: checks, from the same
   * config and workflowConfig that create() takes, that a run could deliver to this sink --
   * the file can be written, the server answers and accepts the credentials -- WITHOUT creating
   * the sink, writing data or leaving behind a file that was not there before (which is why it
   * takes the config rather than a created sink: creating the sqlite or file sink creates its
   * file). Reports every step it runs through step(ctx, ...). Returns ETL_OK when every step
   * passed, else the class of the first failure: ETL_ERR_CONFIG (fix the workflow file, e.g.
   * an unwritable path), ETL_ERR_CONNECT or ETL_ERR_AUTH (server unreachable, credentials
   * refused), ETL_ERR_NOMEM. Config errors that create() would log are logged the same way. */
  etl_status (*test)(const char *config_json, const char *workflow_json, struct host_log *log,
                     host_sink_step_fn step, void *ctx);

  /* Optional (NULL: the runner writes a `retain` entity as an ordinary record, so file and
   * stdout carry it in their JSON Lines). The source says that these n entities of `kind`
   * (ids borrowed for the call) still exist unchanged and were not sent again: the sink counts
   * them as seen by this run, without touching their data. An id the sink does not hold is
   * ignored. ETL_OK, or a negative status when the sink cannot go on. */
  etl_status (*retain)(void *sink, const char *source, const char *kind, const char *const *ids,
                       size_t n);

  /* Optional (NULL: a source's state is keyed by its name alone). Where this sink delivers: the
   * server's URL, the file's path. The runner keys the state it keeps for a source by source
   * AND destination, so a source pointed at a new server starts from scratch there instead of
   * skipping what that server never received. Borrowed; valid until destroy. */
  const char *(*destination)(void *sink);

  /* Optional (both or neither; NULL: nothing is carried between runs). What the sink could not
   * deliver yet and retries on later runs (metadata-rest: lineage edges with an end the server
   * does not have yet, entities sent without an owner or a reference it lacks), as a JSON array,
   * one element per record (the summary's "pending" counts them). The runner keeps it in its
   * state store next to the source's state:
   * after begin_source it hands load_pending the text take_pending returned at the end of the
   * source's previous run (json borrowed for the call; not called when there is none), and
   * after end_source it stores what take_pending returns (malloc'd, the runner frees it; NULL
   * on OOM). */
  etl_status (*load_pending)(void *sink, const char *source, const char *json, size_t len);
  char *(*take_pending)(void *sink, const char *source);
};

/* Looks a sink up by its type; NULL if there is none. */
const struct host_sink_ops *host_sink_find(const char *type);

#endif
