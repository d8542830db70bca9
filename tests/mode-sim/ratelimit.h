/*
 * Mode's rate limit: a leaky bucket per credential. Each request pours one unit in; the bucket
 * holds `limit` units and drains limit/window units per second. A request that would overflow
 * is refused with the seconds to wait. Thread-safe.
 */
#ifndef SIM_RATELIMIT_H
#define SIM_RATELIMIT_H

struct ratelimit;

/* limit 0 disables limiting. Returns NULL on OOM. */
struct ratelimit *ratelimit_new(unsigned limit, unsigned window_seconds);
void ratelimit_free(struct ratelimit **rl);

struct ratelimit_verdict {
  int allowed;
  unsigned limit, remaining;
  unsigned retry_after; /* seconds, when refused */
  long long reset;      /* Unix time when the bucket is empty again */
};

/* Accounts one request by credential (any string, e.g. the token). */
void ratelimit_take(struct ratelimit *rl, const char *credential, struct ratelimit_verdict *v);

#endif
