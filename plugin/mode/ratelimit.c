/*
 * ratelimit.c -- token bucket plus server-imposed pauses (see ratelimit.h).
 *
 * Why a bucket of burst 1 by default: Mode counts requests per sliding 10 s window; a bucket
 * of capacity B and rate r admits at most B + 10r requests in any 10 s, so with r = 3.8/s
 * and B = 1 we stay at 39 of the 40 allowed even if the server counts a sliding window.
 */
#include "config.h"

#include "ratelimit.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

void mode_ratelimit_init(struct mode_ratelimit *rl, double rate, double burst, double now) {
  rl->rate = rate;
  rl->burst = burst < 1 ? 1 : burst;
  rl->tokens = rl->burst;
  rl->last = now;
  rl->paused_until = 0;
  rl->max_pause = MODE_RATELIMIT_MAX_PAUSE;
}

static void refill(struct mode_ratelimit *rl, double now) {
  if (now > rl->last) {
    rl->tokens += (now - rl->last) * rl->rate;
    if (rl->tokens > rl->burst)
      rl->tokens = rl->burst;
    rl->last = now;
  }
}

double mode_ratelimit_delay(struct mode_ratelimit *rl, double now) {
  double pause = rl->paused_until > now ? rl->paused_until - now : 0;
  if (rl->rate <= 0)
    return pause;
  refill(rl, now);
  double need = rl->tokens >= 1 ? 0 : (1 - rl->tokens) / rl->rate;
  return need > pause ? need : pause;
}

void mode_ratelimit_take(struct mode_ratelimit *rl, double now) {
  if (rl->rate <= 0)
    return;
  refill(rl, now);
  rl->tokens -= 1;
}

double mode_ratelimit_pause(struct mode_ratelimit *rl, double now, double seconds) {
  if (seconds < 0)
    return 0;
  /* A hostile or broken server must not park the run for an hour per response. */
  if (seconds > rl->max_pause)
    seconds = rl->max_pause;
  double before = rl->paused_until > now ? rl->paused_until : now;
  if (now + seconds > rl->paused_until)
    rl->paused_until = now + seconds;
  /* After a pause the bucket restarts empty-but-one: no burst right at the window edge. */
  if (rl->rate > 0 && rl->tokens > 1)
    rl->tokens = 1;
  return rl->paused_until > before ? rl->paused_until - before : 0;
}

double mode_ratelimit_observe(struct mode_ratelimit *rl, double now, double wall_now,
                              long remaining, double reset, double *asked) {
  if (asked)
    *asked = 0;
  if (remaining != 0 || reset < 0)
    return 0;
  double seconds = reset > 1e9 ? reset - wall_now : reset;
  if (seconds <= 0)
    return 0;
  if (asked)
    *asked = seconds;
  return mode_ratelimit_pause(rl, now, seconds);
}

double mode_ratelimit_parse_retry_after(const char *value, double wall_now) {
  if (value == NULL || *value == '\0')
    return -1;
  char *end;
  double v = strtod(value, &end);
  if (end != value && *end == '\0')
    return v < 0 ? 0 : v;
  time_t t = curl_getdate(value, NULL);
  if (t < 0)
    return -1;
  double d = (double)t - wall_now;
  return d < 0 ? 0 : d;
}
