/*
 * progress.h -- a one-line progress display on stderr while a source runs: entities by kind,
 * rate and elapsed time. Redrawn at most a few times a second; off unless enabled (etlhost
 * enables it on a TTY, or always with --progress). Any thread may call it: the line has its
 * own lock, and reports are read under host_report_lock.
 */
#ifndef HOST_PROGRESS_H
#define HOST_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

struct host_source_report;
struct host_progress;

/* Creates a display writing to out (borrowed). Disabled displays do nothing. NULL on OOM. */
struct host_progress *host_progress_new(FILE *out, bool enabled);

/* Redraws the line for src if enough time has passed since the last redraw (or if force). */
void host_progress_update(struct host_progress *p, const struct host_source_report *src,
                          bool force);

/* Sources fetching at once (workflowConfig.parallelSources): one combined line, with each
 * source that has started and not finished as "name N entities, R requests", then the total.
 * reports: n borrowed reports; `active[i]` says whether report i is running. */
void host_progress_update_all(struct host_progress *p, const struct host_source_report *reports,
                              const bool *active, size_t n, bool force);

/* Erases the line, so that a log message or the summary starts on a clean line. */
void host_progress_clear(struct host_progress *p);

/* Monotonic time in seconds. */
double host_progress_now(void);

void host_progress_free(struct host_progress **p);

#endif
