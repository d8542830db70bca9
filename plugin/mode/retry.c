/*
 * retry.c -- exponential backoff with full jitter (see retry.h). Full jitter (a uniform draw in
 * [0, min(cap, base * 2^n)]) spreads the retries of many parallel transfers so they do not
 * return to a struggling server in lockstep.
 */
#include "config.h"

#include "retry.h"

#include <curl/curl.h>

int mode_retry_transient(long status, int curl_code) {
  if (curl_code != 0) {
    switch (curl_code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_ABORTED_BY_CALLBACK:
    case CURLE_WRITE_ERROR:
    case CURLE_OUT_OF_MEMORY:
      return 0;
    default:
      return 1;
    }
  }
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

static double next_uniform(uint64_t *s) {
  uint64_t x = *s ? *s : 88172645463325252ULL;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  *s = x;
  return (double)(x >> 11) / 9007199254740992.0; /* [0, 1) */
}

double mode_retry_next(struct mode_retry_policy *p, int attempt, double server_delay,
                       double elapsed) {
  if (attempt >= p->max_attempts || p->budget <= 0)
    return MODE_RETRY_GIVE_UP;
  double ceiling = p->base;
  for (int i = 1; i < attempt && ceiling < p->cap; i++)
    ceiling *= 2;
  if (ceiling > p->cap)
    ceiling = p->cap;
  double d = ceiling * next_uniform(&p->rng);
  if (p->max_server_delay > 0 && server_delay > p->max_server_delay)
    server_delay = p->max_server_delay;
  if (server_delay > d)
    d = server_delay;
  if (p->deadline > 0 && elapsed + d >= p->deadline)
    return MODE_RETRY_PAST_DEADLINE;
  p->budget--;
  return d;
}
