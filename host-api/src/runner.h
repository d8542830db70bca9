/*
 * runner.h -- drives the sources of a workflow through their plugins into the sink.
 *
 * For each source: load the plugin; load the last stored state (the sink's load_state when it
 * keeps state with its data, else the state store); begin_source on the sink; open;
 * next_entity until ETL_DONE or an error, routing entities to the sink and handling `state`
 * entities; close; commit; end_source with the outcome.
 *
 * Up to workflowConfig.parallelSources sources fetch at once, each on its own thread (open,
 * next_entity, close) into a spool (spool.h); the calling thread is the sink's only writer and
 * takes the sources one at a time, in order, exactly as above. With 1, each source is pumped
 * straight into the sink, one after another.
 *
 * State never runs ahead of data: a `state` entity is never written as a record. The runner
 * first makes every record before it durable (sink->store_state, which commits data and state
 * together, or commit() followed by host_state_save), and only then is the state stored.
 *
 * Ctrl-C (SIGINT, SIGTERM) sets a flag, asks the running plugin to stop (its interrupt), and the
 * loop ends; what was committed stays committed. A second Ctrl-C kills the process
 * (services.h: host_signals_install).
 */
#ifndef HOST_RUNNER_H
#define HOST_RUNNER_H

#include <etl/plugin.h>
#include <stdbool.h>
#include <stdio.h>

struct host_log;
struct host_loader;
struct host_workflow;

/* Exit codes of etlhost. */
#define HOST_EXIT_OK 0            /* success; warnings allowed */
#define HOST_EXIT_FAILED 1        /* finished, but some records or a source failed */
#define HOST_EXIT_USAGE 2         /* usage or configuration error */
#define HOST_EXIT_CONNECT 3       /* connection or authentication failure */
#define HOST_EXIT_INTERRUPTED 130 /* stopped by Ctrl-C / SIGTERM */

struct host_kind_count {
  char *kind; /* owned */
  long long n;
};

/* What happened to one source. Owned by the host_run_report that holds it. */
struct host_source_report {
  char *name;        /* serviceName (owned) */
  char *type;        /* plugin name (owned) */
  etl_status status; /* ETL_DONE when the stream ended normally, else what stopped it */
  bool complete;     /* ETL_DONE, nothing lost, nothing rejected: absence means deletion */
  bool started;      /* the plugin was opened */
  struct host_kind_count *kinds; /* entities by kind, in order of first appearance (owned) */
  size_t n_kinds;
  long long entities; /* records routed to the sink (states excluded) */
  long long states;   /* states stored */
  long long states_held; /* states not stored because records of this run had failed */
  long long retained; /* entities a `retain` said exist unchanged (not sent again) */
  long long failed;   /* records lost (ETL_DIAG_ITEM_LOST) or rejected by the sink */
  long long pending;  /* records the sink kept to retry on the next run (sink.h take_pending) */
  long long deletions_held;    /* deletions the fail-safe held back at end_source (sink.h) */
  long long deletions_held_of; /* ... of this many of the source's entities; 0 when none held */
  long long warnings, errors;
  long long filtered, requests, retries, bytes, throttled;
  double started_at; /* monotonic seconds */
  double seconds;    /* wall time of the source */
};

/* The outcome of a run or test. Owned by the caller; release with host_run_report_free. */
struct host_run_report {
  struct host_source_report *sources; /* owned array */
  size_t n_sources;
  int exit_code;         /* HOST_EXIT_* */
  const char *sink_type; /* borrowed from the workflow */
  bool sink_pending;     /* the sink keeps what it could not deliver yet: sources' `pending` */
};

struct host_runner_opts {
  struct host_log *log;       /* borrowed */
  struct host_loader *loader; /* borrowed */
  bool progress;              /* draw progress on stderr */
};

/* Runs every source of wf into its sink. Fills *report (sets exit_code). Returns the exit
 * code. */
int host_run_workflow(const struct host_workflow *wf, const struct host_runner_opts *opts,
                      struct host_run_report *report);

/* Runs each source's connection test, printing a verdict per step on out (tester.c). Returns
 * the exit code (0 when every step of every source passed). */
int host_test_workflow(const struct host_workflow *wf, const struct host_runner_opts *opts,
                       FILE *out);

/* Maps a source's final status and failures to an exit code (HOST_EXIT_*). */
int host_exit_code_for(const struct host_source_report *src);

/* A plugin's status as the host acts on it: a status <etl/plugin.h> does not list (a positive
 * one other than ETL_DONE, or a negative one from a newer minor or a buggy plugin) is
 * ETL_ERR_INTERNAL, as the header tells every host to treat it. */
etl_status host_known_status(etl_status st);

void host_run_report_free(struct host_run_report *report);

/* Whether the directory that would hold the file `path` exists; writes it ("." for a bare
 * name) into dir (dir_len bytes, truncated), for messages. */
bool host_parent_dir_exists(const char *path, char *dir, size_t dir_len);

#endif
