/*
 * retry.h -- which failures are worth another try, and how long to wait first: exponential
 * backoff with full jitter, within a per-request attempt limit and a per-run retry budget.
 */
#ifndef MODE_RETRY_H
#define MODE_RETRY_H

#include <stdint.h>

struct mode_retry_policy {
  int max_attempts;        /* per request, the first included */
  double base;             /* seconds, first backoff ceiling */
  double cap;              /* seconds, largest backoff */
  long budget;             /* retries left for the whole run */
  uint64_t rng;            /* xorshift state; any non-zero seed */
  double max_server_delay; /* a server-given delay is cut to this (seconds; <= 0: no cut) */
  double deadline;         /* seconds from a request's first attempt after which it is not
                            * retried (requestDeadlineSeconds; <= 0: none) */
};

/* Why mode_retry_next said no. */
enum { MODE_RETRY_GIVE_UP = -1, MODE_RETRY_PAST_DEADLINE = -2 };

/* Whether an outcome is transient: HTTP 429, 500, 502, 503, 504, or a transport failure
 * (curl_code != 0) such as a reset or a timeout. */
int mode_retry_transient(long status, int curl_code);
/* Decides another try after `attempt` attempts (1 = the first failed), `elapsed` seconds after
 * the first one started. Returns the delay in seconds (>= 0) and spends one unit of budget, or
 * MODE_RETRY_GIVE_UP (attempts or budget spent) or MODE_RETRY_PAST_DEADLINE (the retry would
 * start after the deadline). A server-given delay (Retry-After, seconds; < 0 if none) is
 * honoured when longer, up to max_server_delay. */
double mode_retry_next(struct mode_retry_policy *p, int attempt, double server_delay,
                       double elapsed);

#endif
