/*
 * services.h -- what the host offers a plugin (the etl_host_services table and the etl_run
 * behind it), cancellation by signal, and the preparation of open()'s arguments. Shared by the
 * runner (runner.c) and the connection tests (tester.c); host-internal.
 */
#ifndef HOST_SERVICES_H
#define HOST_SERVICES_H

#include <etl/plugin.h>
#include <stdbool.h>
#include <stdio.h>

struct host_log;
struct host_progress;
struct host_source_report;
struct host_source_cfg;

/* One source's run, as the plugin sees it (an opaque handle). Owned by whoever drives the
 * source, on its stack; every pointer is borrowed. */
struct etl_run {
  struct host_source_report *rep; /* counters and diagnostics are added here */
  struct host_log *log;
  struct host_progress *progress;    /* may be NULL; cleared before a message is printed */
  FILE *test_out;                    /* during test(): where step verdicts go; else NULL */
  enum etl_test_verdict worst;       /* during test(): the worst verdict so far */
  const struct host_source_cfg *src; /* the source's config, to place the plugin's config
                                      * errors at their line; may be NULL */
  long long keyed_errors;            /* errors that named a config key (placed at its line) */
};

/* The table given to every plugin's entry function (static storage). */
const struct etl_host_services *host_services_table(void);

/* Reports a diagnostic as if the plugin of run had (the runner uses it for malformed
 * entities): logged, counted, ETL_DIAG_ITEM_LOST counted as a failed record. */
void host_services_diag(struct etl_run *run, enum etl_severity sev, unsigned flags,
                        const char *item, const char *message);

/* Reports a test step as if the plugin had (the tester's own steps: plugin, config). */
void host_services_test_step(struct etl_run *run, const char *step, enum etl_test_verdict verdict,
                             const char *message);

/* Installs the SIGINT/SIGTERM handlers: the first sets the interrupted flag and calls the
 * current instance's interrupt(); a second (SIGINT or SIGTERM, in any order) kills the process.
 * Call once, from main. */
void host_signals_install(void);

/* Non-zero once SIGINT or SIGTERM arrived. Any thread. */
bool host_interrupted(void);

/* Names the instance the signal handler may interrupt (NULL, NULL: none). Called by the
 * driving thread around the calls that may block (next_entity, test). */
void host_services_set_current(const struct etl_plugin *plugin, void *instance);

/* Around every update or read of a host_source_report's counters while sources may run on
 * their own threads (workflowConfig.parallelSources): the services, the runner and the
 * progress line take it. Never held across a call into a plugin or a sink. */
void host_report_lock(void);
void host_report_unlock(void);

/* open()'s arguments for a source: its configs as JSON, and the state to resume from. */
struct host_open_args {
  struct etl_open_args args; /* points into the members below, and at run and state */
  char *config_json;         /* owned */
  char *source_config_json;  /* owned */
};

/* Fills *oa for src, run (borrowed, must outlive open) and state (borrowed, may be NULL).
 * Returns ETL_OK or ETL_ERR_NOMEM. Release with host_open_args_release. */
etl_status host_open_args_prepare(struct host_open_args *oa, const struct host_source_cfg *src,
                                  struct etl_run *run, const char *state, size_t state_len);

void host_open_args_release(struct host_open_args *oa);

#endif
