/*
 * log.c -- stderr diagnostics with secret redaction (see log.h).
 *
 * Redaction is a plain substring replacement over the few secrets a run has (tokens, passwords,
 * JWTs from the config); messages are short, so a quadratic scan is cheaper than any index.
 * Safe to call from several threads once the secrets are registered (they are, before any
 * source runs): each message is one fprintf, and the counts are atomic.
 */
#include "config.h"

#include "log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MAX_SECRETS 64

struct host_log {
  FILE *out;                           /* borrowed */
  enum etl_severity min_severity;
  char *secrets[LOG_MAX_SECRETS];      /* owned */
  size_t n_secrets;
  unsigned long counts[ETL_SEV_ERROR + 1];
};

struct host_log *host_log_new(FILE *out, enum etl_severity min_severity) {
  struct host_log *log = calloc(1, sizeof *log);
  if (!log)
    return NULL;
  log->out = out;
  log->min_severity = min_severity;
  return log;
}

void host_log_free(struct host_log **logp) {
  if (!logp || !*logp)
    return;
  struct host_log *log = *logp;
  for (size_t i = 0; i < log->n_secrets; i++)
    free(log->secrets[i]);
  free(log);
  *logp = NULL;
}

void host_log_set_level(struct host_log *log, enum etl_severity min_severity) {
  log->min_severity = min_severity;
}

enum etl_severity host_log_level_for(enum etl_severity base, int verbosity) {
  int level = (int)base - verbosity;
  return (enum etl_severity)(level < ETL_SEV_DEBUG   ? ETL_SEV_DEBUG
                             : level > ETL_SEV_ERROR ? ETL_SEV_ERROR
                                                     : level);
}

void host_log_add_secret(struct host_log *log, const char *secret) {
  if (!log || !secret || strlen(secret) < 4 || log->n_secrets == LOG_MAX_SECRETS)
    return;
  for (size_t i = 0; i < log->n_secrets; i++)
    if (strcmp(log->secrets[i], secret) == 0)
      return;
  char *copy = strdup(secret);
  if (copy)
    log->secrets[log->n_secrets++] = copy;
}

/* Replaces every occurrence of one secret in *text, reallocating it. Returns 0 or -1 (OOM). */
static int redact_one(char **text, const char *secret) {
  size_t slen = strlen(secret);
  char *hit = strstr(*text, secret);
  if (!hit)
    return 0;
  size_t len = strlen(*text);
  char *out = malloc(len + 1); /* "***" is never longer than a secret of 4+ bytes */
  if (!out)
    return -1;
  char *w = out;
  const char *r = *text;
  while (hit) {
    memcpy(w, r, (size_t)(hit - r));
    w += hit - r;
    memcpy(w, "***", 3);
    w += 3;
    r = hit + slen;
    hit = strstr(r, secret);
  }
  strcpy(w, r);
  free(*text);
  *text = out;
  return 0;
}

char *host_log_redact(const struct host_log *log, const char *text) {
  char *out = strdup(text ? text : "");
  for (size_t i = 0; out && log && i < log->n_secrets; i++) {
    if (redact_one(&out, log->secrets[i]) != 0) {
      free(out);
      return NULL;
    }
  }
  return out;
}

static const char *severity_word(enum etl_severity sev) {
  switch (sev) {
  case ETL_SEV_WARNING: return "warning: ";
  case ETL_SEV_ERROR: return "error: ";
  default: return "";
  }
}

void host_log_msg(struct host_log *log, enum etl_severity sev, const char *source,
                  const char *item, const char *fmt, ...) {
  if (!log)
    return;
  if (sev >= ETL_SEV_DEBUG && sev <= ETL_SEV_ERROR) /* sources log from their own threads */
    __atomic_add_fetch(&log->counts[sev], 1, __ATOMIC_RELAXED);
  if (sev < log->min_severity)
    return;
  char *raw = NULL;
  va_list ap;
  va_start(ap, fmt);
  int n = vasprintf(&raw, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  char *line = NULL;
  if (asprintf(&line, "%s%s%s%s%s", source ? source : "", source ? ": " : "",
               severity_word(sev), item ? item : "", item ? ": " : "") < 0)
    goto out_raw;
  char *full = NULL;
  if (asprintf(&full, "%s%s", line, raw) < 0)
    goto out_line;
  char *safe = host_log_redact(log, full);
  if (safe)
    fprintf(log->out, "%s\n", safe);
  free(safe);
  free(full);
out_line:
  free(line);
out_raw:
  free(raw);
}

unsigned long host_log_count(const struct host_log *log, enum etl_severity sev) {
  if (!log || sev < ETL_SEV_DEBUG || sev > ETL_SEV_ERROR)
    return 0;
  return __atomic_load_n(&log->counts[sev], __ATOMIC_RELAXED);
}
