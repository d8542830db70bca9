/*
 * fetch.h -- GETs of JSON documents through the HTTP engine, paced by the rate limiter and
 * retried by the retry policy, with each body parsed by the HAL extractor while it streams.
 * Requests wait in two queues (urgent work that completes an item first, listings after) so
 * that memory stays bounded by items in progress, not by the workspace. Knows HTTP, not Mode.
 */
#ifndef MODE_FETCH_H
#define MODE_FETCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "hal.h"
#include "http.h"
#include "ratelimit.h"
#include "retry.h"

struct mode_fetch;

/* The end of one request, retries done. */
struct mode_fetch_result {
  long status;     /* last HTTP status; 0 when no response arrived */
  int ok;          /* status 200 with a valid body, or 204 */
  int interrupted; /* the interrupt flag stopped it */
  int malformed;   /* the body was not valid JSON (after every retry) */
  int list_seen;   /* the spec's _embedded list was present */
  int attempts;
  struct mode_hal_record *records; /* owned by the result; set to NULL to take them */
  size_t n_records;
  struct mode_hal_record *envelope; /* spec->envelope's values, or NULL; owned like records */
  int tls_unverified; /* the server's TLS certificate could not be verified: see caBundle */
  char detail[512];   /* why it failed: Mode's error message, curl's error, the JSON error */
};

/* Called once per request on the thread driving mode_fetch_step. */
typedef void (*mode_fetch_done_fn)(void *owner, void *arg, struct mode_fetch_result *result);

struct mode_fetch_opts {
  struct mode_http_opts http;
  double rate; /* requests per second, <= 0 unlimited */
  double burst;
  int concurrency;
  struct mode_retry_policy retry; /* its max_server_delay also caps rate-limit pauses */
  size_t max_value;               /* largest single JSON value kept */
  /* Where each retry (ETL_SEV_INFO) and each server-imposed pause over 10 s (ETL_SEV_WARNING)
   * is told, one line each, so that no wait is silent. May be NULL. */
  void (*notice)(void *ctx, int severity, const char *message);
  void *notice_ctx;
};

struct mode_fetch_stats {
  int64_t requests, retries, throttled, bytes;
};

enum mode_fetch_priority { MODE_FETCH_URGENT = 0, MODE_FETCH_LISTING = 1 };

struct mode_fetch *mode_fetch_new(const struct mode_fetch_opts *opts);
/* Queues a GET of url (copied); spec must outlive the request. Returns 0 or -1 (OOM). */
int mode_fetch_get(struct mode_fetch *f, const char *url, const struct mode_hal_spec *spec,
                   enum mode_fetch_priority prio, mode_fetch_done_fn done, void *owner, void *arg);
/* Starts what the limiter allows, waits up to max_wait_ms for progress and reports finished
 * requests. Returns the number of requests still queued or running, or -1 on engine failure. */
int mode_fetch_step(struct mode_fetch *f, int max_wait_ms);
const struct mode_fetch_stats *mode_fetch_stats(const struct mode_fetch *f);
/* Drops every request without calling back (drop, if not NULL, receives each one's owner and
 * arg so they can be freed), and frees. NULL-safe. */
void mode_fetch_free(struct mode_fetch **f, void (*drop)(void *owner, void *arg));

#endif
