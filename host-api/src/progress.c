/*
 * progress.c -- the progress line (see progress.h). Uses "\r" and an erase-to-end-of-line
 * sequence, so it only makes sense on a terminal or a log that understands them.
 */
#include "config.h"

#include "progress.h"

#include "runner.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROGRESS_INTERVAL 0.25 /* seconds between redraws */

struct host_progress {
  FILE *out; /* borrowed */
  bool enabled;
  bool drawn;       /* a line is on screen */
  double last_draw; /* monotonic seconds */
};

double host_progress_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct host_progress *host_progress_new(FILE *out, bool enabled) {
  struct host_progress *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  p->out = out;
  p->enabled = enabled;
  return p;
}

void host_progress_update(struct host_progress *p, const struct host_source_report *src,
                          bool force) {
  if (!p || !p->enabled)
    return;
  double now = host_progress_now();
  if (!force && now - p->last_draw < PROGRESS_INTERVAL)
    return;
  p->last_draw = now;
  double elapsed = now - src->started_at;
  char kinds[256] = "";
  for (size_t i = 0; i < src->n_kinds; i++) {
    size_t used = strlen(kinds);
    snprintf(kinds + used, sizeof kinds - used, "%s%s %lld", i ? ", " : "", src->kinds[i].kind,
             src->kinds[i].n);
  }
  unsigned long secs = (unsigned long)elapsed;
  /* A rate over the first second says nothing (one entity in 1 ms is "1000/s"). */
  char rate[32] = "-";
  if (elapsed >= 1.0)
    snprintf(rate, sizeof rate, "%.0f", (double)src->entities / elapsed);
  fprintf(p->out, "\r\033[K%s: %lld %s%s%s%s, %s/s, %lld requests (%lld throttled), %lu:%02lu:%02lu",
          src->name, src->entities, src->entities == 1 ? "entity" : "entities",
          src->n_kinds ? " (" : "", kinds, src->n_kinds ? ")" : "", rate, src->requests,
          src->throttled, secs / 3600, secs / 60 % 60, secs % 60);
  fflush(p->out);
  p->drawn = true;
}

void host_progress_clear(struct host_progress *p) {
  if (!p || !p->drawn)
    return;
  fputs("\r\033[K", p->out);
  fflush(p->out);
  p->drawn = false;
}

void host_progress_free(struct host_progress **pp) {
  if (!pp || !*pp)
    return;
  host_progress_clear(*pp);
  free(*pp);
  *pp = NULL;
}
