/*
 * progress.c -- the progress line (see progress.h). Uses "\r" and an erase-to-end-of-line
 * sequence, so it only makes sense on a terminal or a log that understands them.
 */
#include "config.h"

#include "progress.h"

#include "runner.h"
#include "services.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROGRESS_INTERVAL 0.25 /* seconds between redraws */

struct host_progress {
  pthread_mutex_t mu; /* around drawing: a source's thread may clear the line to log */
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
  pthread_mutex_init(&p->mu, NULL);
  p->out = out;
  p->enabled = enabled;
  return p;
}

/* Whether to draw now; takes p->mu when it says yes (the caller draws, then unlocks). */
static bool draw_due(struct host_progress *p, bool force, double now) {
  if (!p || !p->enabled)
    return false;
  pthread_mutex_lock(&p->mu);
  if (!force && now - p->last_draw < PROGRESS_INTERVAL) {
    pthread_mutex_unlock(&p->mu);
    return false;
  }
  p->last_draw = now;
  return true;
}

static void hms(char *out, size_t len, double elapsed) {
  unsigned long secs = (unsigned long)elapsed;
  snprintf(out, len, "%lu:%02lu:%02lu", secs / 3600, secs / 60 % 60, secs % 60);
}

void host_progress_update(struct host_progress *p, const struct host_source_report *src,
                          bool force) {
  double now = host_progress_now();
  if (!draw_due(p, force, now))
    return;
  double elapsed = now - src->started_at;
  char kinds[256] = "", clock[32];
  host_report_lock();
  for (size_t i = 0; i < src->n_kinds; i++) {
    size_t used = strlen(kinds);
    snprintf(kinds + used, sizeof kinds - used, "%s%s %lld", i ? ", " : "", src->kinds[i].kind,
             src->kinds[i].n);
  }
  long long entities = src->entities, requests = src->requests, throttled = src->throttled;
  size_t n_kinds = src->n_kinds;
  host_report_unlock();
  /* A rate over the first second says nothing (one entity in 1 ms is "1000/s"). */
  char rate[32] = "-";
  if (elapsed >= 1.0)
    snprintf(rate, sizeof rate, "%.0f", (double)entities / elapsed);
  hms(clock, sizeof clock, elapsed);
  fprintf(p->out, "\r\033[K%s: %lld %s%s%s%s, %s/s, %lld requests (%lld throttled), %s", src->name,
          entities, entities == 1 ? "entity" : "entities", n_kinds ? " (" : "", kinds,
          n_kinds ? ")" : "", rate, requests, throttled, clock);
  fflush(p->out);
  p->drawn = true;
  pthread_mutex_unlock(&p->mu);
}

void host_progress_update_all(struct host_progress *p, const struct host_source_report *reports,
                              const bool *active, size_t n, bool force) {
  double now = host_progress_now();
  if (!draw_due(p, force, now))
    return;
  char line[512] = "", clock[32];
  long long total = 0, requests = 0;
  double first = now;
  host_report_lock();
  for (size_t i = 0; i < n; i++) {
    const struct host_source_report *r = &reports[i];
    total += r->entities;
    requests += r->requests;
    if (!active[i])
      continue;
    if (r->started_at > 0 && r->started_at < first)
      first = r->started_at;
    size_t used = strlen(line);
    snprintf(line + used, sizeof line - used, "%s%s %lld, %lld req", used ? " | " : "", r->name,
             r->entities, r->requests);
  }
  host_report_unlock();
  hms(clock, sizeof clock, now - first);
  fprintf(p->out, "\r\033[K%s || %lld entities, %lld requests, %s", line, total, requests, clock);
  fflush(p->out);
  p->drawn = true;
  pthread_mutex_unlock(&p->mu);
}

void host_progress_clear(struct host_progress *p) {
  if (!p || !p->enabled)
    return;
  pthread_mutex_lock(&p->mu);
  if (p->drawn) {
    fputs("\r\033[K", p->out);
    fflush(p->out);
    p->drawn = false;
  }
  pthread_mutex_unlock(&p->mu);
}

void host_progress_free(struct host_progress **pp) {
  if (!pp || !*pp)
    return;
  host_progress_clear(*pp);
  pthread_mutex_destroy(&(*pp)->mu);
  free(*pp);
  *pp = NULL;
}
