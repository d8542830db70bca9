/*
 * log.h -- the host's diagnostics: one line per message on stderr, prefixed with the source
 * (collectd's habit: "mode-prod: report 9d2da37fa91e: queries: HTTP 404, skipped"), filtered by
 * verbosity, with every registered secret replaced by "***" before anything is printed.
 *
 * One host_log per process; it is not thread-safe (the runner drives sources from one thread).
 */
#ifndef HOST_LOG_H
#define HOST_LOG_H

#include <etl/plugin.h>
#include <stdio.h>

struct host_log;

/* Creates a log writing to `out` (borrowed, usually stderr) that prints messages at or above
 * min_severity. Returns NULL on OOM. Owned by the caller; free with host_log_free. */
struct host_log *host_log_new(FILE *out, enum etl_severity min_severity);

/* Releases the log; NULL-safe; sets *log to NULL. */
void host_log_free(struct host_log **log);

void host_log_set_level(struct host_log *log, enum etl_severity min_severity);

/* The minimum severity for a command line's -v/-q count: base made chattier by verbosity steps
 * (quieter when negative), kept within ETL_SEV_DEBUG..ETL_SEV_ERROR. One rule for every
 * command, so -v means the same to `etlhost run`, `etlhost lineage` and `etlhost site`. */
enum etl_severity host_log_level_for(enum etl_severity base, int verbosity);

/* Registers a string that must never appear in output (a token, a password, a JWT). Copied.
 * Strings shorter than 4 bytes are ignored (they would mask ordinary words). */
void host_log_add_secret(struct host_log *log, const char *secret);

/* Replaces every registered secret in `text` with "***". Returns a malloc'd string owned by the
 * caller (NULL on OOM). Used by sinks and the summary for anything that may echo a peer. */
char *host_log_redact(const struct host_log *log, const char *text);

/* Prints one message: "[source: ][item: ]message" with a severity word for warnings and
 * errors. source and item may be NULL. The formatted text is redacted before printing. */
void host_log_msg(struct host_log *log, enum etl_severity sev, const char *source,
                  const char *item, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* How many messages of each severity were logged (printed or not). */
unsigned long host_log_count(const struct host_log *log, enum etl_severity sev);

#endif
