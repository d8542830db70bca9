/*
 * ratelimit.h -- the client-side limiter: a token bucket at the configured rate that also
 * obeys the server's signals (X-RateLimit-Remaining/Reset, 429 Retry-After) by pausing.
 * Pure arithmetic on times passed in (seconds on a monotonic clock), so it is unit-testable.
 */
#ifndef MODE_RATELIMIT_H
#define MODE_RATELIMIT_H

struct mode_ratelimit {
  double rate;  /* tokens per second; <= 0 means unlimited */
  double burst; /* bucket capacity (>= 1) */
  double tokens;
  double last;         /* time tokens was last refilled */
  double paused_until; /* no request before this time */
  double max_pause;    /* longest pause a server may impose (maxRetryAfterSeconds); set after
                        * init, which sets MODE_RATELIMIT_MAX_PAUSE */
};

#define MODE_RATELIMIT_MAX_PAUSE 300.0

void mode_ratelimit_init(struct mode_ratelimit *rl, double rate, double burst, double now);
/* Seconds to wait before the next request may start (0: now). */
double mode_ratelimit_delay(struct mode_ratelimit *rl, double now);
/* Takes one token for a request starting now (call only when delay() returned 0). */
void mode_ratelimit_take(struct mode_ratelimit *rl, double now);
/* The server said to wait `seconds` (429 Retry-After, or a spent quota until its reset); the
 * wait is cut to max_pause. Returns how many seconds this call pushed the end of the pause out
 * (0 when a pause already in force lasts as long), so that the caller can say so once. */
double mode_ratelimit_pause(struct mode_ratelimit *rl, double now, double seconds);
/* Reads X-RateLimit-Remaining/-Reset values (either may be < 0 when absent). reset is
 * seconds until the window resets, or a Unix time (values above 1e9). Returns what
 * mode_ratelimit_pause returned, or 0; *asked (may be NULL) gets the pause the server asked for
 * before the cap (0 if none). */
double mode_ratelimit_observe(struct mode_ratelimit *rl, double now, double wall_now,
                              long remaining, double reset, double *asked);
/* Parses Retry-After: delta-seconds or an HTTP date. Returns seconds (>= 0) or -1. */
double mode_ratelimit_parse_retry_after(const char *value, double wall_now);

#endif
