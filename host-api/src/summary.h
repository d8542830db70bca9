/*
 * summary.h -- the end of every run: a readable table per source, and the same facts as JSON
 * for machines (--summary-json FILE).
 */
#ifndef HOST_SUMMARY_H
#define HOST_SUMMARY_H

#include <stdio.h>

struct host_log;
struct host_run_report;

/* Prints the per-source summary (entities by kind, filtered, warnings, errors, requests,
 * outcome) to out. Names are redacted through log. */
void host_summary_print(FILE *out, const struct host_run_report *report, struct host_log *log);

/* Writes the summary as one JSON document to path (replacing it). Returns 0, or -1 after
 * logging why the file could not be written. */
int host_summary_write_json(const char *path, const struct host_run_report *report,
                            struct host_log *log);

#endif
