/*
 * summary.c -- the per-source summary (see summary.h). The JSON is generated with yajl, so
 * source names with any characters stay valid JSON.
 */
#include "config.h"

#include "summary.h"

#include "cnum.h"
#include "log.h"
#include "runner.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

static const char *outcome_text(const struct host_source_report *s) {
  if (s->status == ETL_DONE)
    return s->failed ? "finished with failed records" : "complete";
  switch (s->status) {
  case ETL_ERR_CONFIG:
    return "configuration error";
  case ETL_ERR_AUTH:
    return "authentication failed";
  case ETL_ERR_CONNECT:
    return "connection failed";
  case ETL_ERR_TRANSIENT:
    return "peer unavailable, try again later";
  case ETL_ERR_PROTOCOL:
    return "peer answered nonsense";
  case ETL_ERR_CANCELLED:
    return "interrupted";
  case ETL_ERR_NOMEM:
    return "out of memory";
  default:
    return "failed";
  }
}

void host_summary_print(FILE *out, const struct host_run_report *report, struct host_log *log) {
  fprintf(out, "\nSummary (%s sink):\n", report->sink_type ? report->sink_type : "?");
  for (size_t i = 0; i < report->n_sources; i++) {
    const struct host_source_report *s = &report->sources[i];
    char *name = host_log_redact(log, s->name);
    fprintf(out, "  %s (%s): %s in %.1f s\n", name ? name : "?", s->type, outcome_text(s),
            s->seconds);
    free(name);
    /* "complete" speaks of the fetch; what the catalog did not delete needs saying here too,
     * not only in a warning scrolled away in the log. */
    if (s->deletions_held > 0)
      fprintf(out,
              "    deletions held back by the fail-safe: %lld of %lld (nothing marked "
              "deleted; see workflowConfig.failSafeThreshold)\n",
              s->deletions_held, s->deletions_held_of);
    fprintf(out, "    entities  %lld", s->entities);
    for (size_t k = 0; k < s->n_kinds; k++)
      fprintf(out, "%s%s %lld", k ? ", " : " (", s->kinds[k].kind, s->kinds[k].n);
    fprintf(out, "%s\n", s->n_kinds ? ")" : "");
    fprintf(out, "    states    %lld stored%s   retained %lld\n", s->states,
            s->states_held ? " (held back: records failed)" : "", s->retained);
    fprintf(out, "    failed    %lld   filtered %lld   warnings %lld   errors %lld\n", s->failed,
            s->filtered, s->warnings, s->errors);
    fprintf(out, "    requests  %lld   retries %lld   throttled %lld   bytes %lld\n", s->requests,
            s->retries, s->throttled, s->bytes);
    /* Not among the warnings: what the server lacks yet is retried by every later run. */
    if (report->sink_pending)
      fprintf(out, "    sink      pending %lld (retried on the next run)\n", s->pending);
  }
  fprintf(out, "Exit status %d\n", report->exit_code);
  fflush(out);
}

static yajl_gen_status gen_str(yajl_gen g, const char *s) {
  return yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static yajl_gen_status gen_int(yajl_gen g, const char *key, long long v) {
  yajl_gen_status st = gen_str(g, key);
  return st == yajl_gen_status_ok ? yajl_gen_integer(g, v) : st;
}

static yajl_gen_status gen_source(yajl_gen g, const struct host_source_report *s,
                                  struct host_log *log) {
  char *name = host_log_redact(log, s->name);
  if (!name)
    return yajl_gen_generation_complete; /* any error status: OOM */
  yajl_gen_status st = yajl_gen_map_open(g);
  if (st == yajl_gen_status_ok && (st = gen_str(g, "name")) == yajl_gen_status_ok)
    st = gen_str(g, name);
  free(name);
  if (st == yajl_gen_status_ok && (st = gen_str(g, "type")) == yajl_gen_status_ok)
    st = gen_str(g, s->type);
  if (st == yajl_gen_status_ok && (st = gen_str(g, "status")) == yajl_gen_status_ok)
    st = gen_str(g, etl_status_name(s->status));
  if (st == yajl_gen_status_ok && (st = gen_str(g, "outcome")) == yajl_gen_status_ok)
    st = gen_str(g, outcome_text(s));
  if (st == yajl_gen_status_ok && (st = gen_str(g, "complete")) == yajl_gen_status_ok)
    st = yajl_gen_bool(g, s->complete);
  if (st == yajl_gen_status_ok && (st = gen_str(g, "kinds")) == yajl_gen_status_ok)
    st = yajl_gen_map_open(g);
  for (size_t k = 0; st == yajl_gen_status_ok && k < s->n_kinds; k++)
    st = gen_int(g, s->kinds[k].kind, s->kinds[k].n);
  if (st == yajl_gen_status_ok)
    st = yajl_gen_map_close(g);
  const struct {
    const char *key;
    long long v;
  } ints[] = {{"entities", s->entities},
              {"states", s->states},
              {"states_held", s->states_held},
              {"retained", s->retained},
              {"failed", s->failed},
              {"pending", s->pending},
              {"deletions_held", s->deletions_held},
              {"deletions_held_of", s->deletions_held_of},
              {"filtered", s->filtered},
              {"warnings", s->warnings},
              {"errors", s->errors},
              {"requests", s->requests},
              {"retries", s->retries},
              {"throttled", s->throttled},
              {"bytes", s->bytes},
              {"exitCode", host_exit_code_for(s)}};
  for (size_t i = 0; st == yajl_gen_status_ok && i < sizeof ints / sizeof ints[0]; i++)
    st = gen_int(g, ints[i].key, ints[i].v);
  char seconds[32]; /* not yajl_gen_double: its sprintf writes "1,5" in a comma locale */
  int len = host_json_double(s->seconds, seconds, sizeof seconds);
  if (st == yajl_gen_status_ok && (st = gen_str(g, "seconds")) == yajl_gen_status_ok)
    st = len < 0 ? yajl_gen_invalid_number : yajl_gen_number(g, seconds, (size_t)len);
  return st == yajl_gen_status_ok ? yajl_gen_map_close(g) : st;
}

static yajl_gen_status gen_report(yajl_gen g, const struct host_run_report *report,
                                  struct host_log *log) {
  yajl_gen_status st = yajl_gen_map_open(g);
  if (st == yajl_gen_status_ok)
    st = gen_int(g, "exitCode", report->exit_code);
  if (st == yajl_gen_status_ok && (st = gen_str(g, "sink")) == yajl_gen_status_ok)
    st = gen_str(g, report->sink_type ? report->sink_type : "");
  if (st == yajl_gen_status_ok && (st = gen_str(g, "sources")) == yajl_gen_status_ok)
    st = yajl_gen_array_open(g);
  for (size_t i = 0; st == yajl_gen_status_ok && i < report->n_sources; i++)
    st = gen_source(g, &report->sources[i], log);
  if (st == yajl_gen_status_ok)
    st = yajl_gen_array_close(g);
  return st == yajl_gen_status_ok ? yajl_gen_map_close(g) : st;
}

int host_summary_write_json(const char *path, const struct host_run_report *report,
                            struct host_log *log) {
  int rc = -1;
  yajl_gen g = yajl_gen_alloc(NULL);
  if (!g)
    return -1;
  yajl_gen_config(g, yajl_gen_beautify, 1);
  const unsigned char *buf = NULL;
  size_t len = 0;
  if (gen_report(g, report, log) != yajl_gen_status_ok ||
      yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok) {
    host_log_msg(log, ETL_SEV_ERROR, path, NULL, "cannot generate the summary");
    goto out_gen;
  }
  FILE *f = fopen(path, "w");
  if (!f) {
    host_log_msg(log, ETL_SEV_ERROR, path, NULL, "cannot write the summary: %s", strerror(errno));
    goto out_gen;
  }
  int bad = fwrite(buf, 1, len, f) != len;
  if (fclose(f) != 0 || bad) {
    host_log_msg(log, ETL_SEV_ERROR, path, NULL, "cannot write the summary");
    goto out_gen;
  }
  rc = 0;
out_gen:
  yajl_gen_free(g);
  return rc;
}
