/*
 * Counters are plain atomics; a reset races harmlessly with concurrent requests (a request in
 * flight may be counted on either side of it).
 */
#include "config.h"

#include "stats.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static const char *const ENDPOINTS[EP_COUNT] = {
    "/api/verify",
    "/api/account",
    "/api/{username}",
    "/api/{workspace}",
    "/api/{workspace}/memberships",
    "/api/{workspace}/spaces",
    "/api/{workspace}/spaces/{space}",
    "/api/{workspace}/spaces/{space}/reports",
    "/api/{workspace}/spaces/{space}/datasets",
    "/api/{workspace}/reports/{report}",
    "/api/{workspace}/reports/{report}/queries",
    "/api/{workspace}/reports/{report}/queries/{query}",
    "/api/{workspace}/reports/{report}/queries/{query}/charts",
    "/api/{workspace}/data_sources",
    "/api/{workspace}/definitions",
    "/api/{workspace}/reports/{report}/runs",
    "/api/{workspace}/reports/{report}/runs/{run}",
    "/api/{workspace}/reports/{report}/runs/{run}/query_runs",
    "/batch/{workspace}/...",
    "unknown"};

static const char *const FAULTS[] = {"5xx",       "reset", "slow", "truncate",
                                     "malformed", "204",   "burst"};
enum { NFAULTS = sizeof FAULTS / sizeof FAULTS[0] };

static atomic_ullong requests, rate_limited, bytes, faults_total;
static atomic_ullong by_endpoint[EP_COUNT];
static atomic_ullong by_status[600];
static atomic_ullong by_fault[NFAULTS];

const char *stats_endpoint_name(enum endpoint e) {
  return ENDPOINTS[e];
}

void stats_count(enum endpoint e, unsigned status, size_t n, const char *fault) {
  atomic_fetch_add(&requests, 1);
  atomic_fetch_add(&bytes, n);
  atomic_fetch_add(&by_endpoint[e], 1);
  if (status < 600)
    atomic_fetch_add(&by_status[status], 1);
  if (status == 429)
    atomic_fetch_add(&rate_limited, 1);
  if (fault)
    for (int i = 0; i < NFAULTS; i++)
      if (strcmp(fault, FAULTS[i]) == 0) {
        atomic_fetch_add(&by_fault[i], 1);
        atomic_fetch_add(&faults_total, 1);
      }
}

static void key_num(yajl_gen g, const char *k, unsigned long long v) {
  yajl_gen_string(g, (const unsigned char *)k, strlen(k));
  yajl_gen_integer(g, (long long)v);
}

static unsigned long long take(atomic_ullong *a, int reset) {
  return reset ? atomic_exchange(a, 0) : atomic_load(a);
}

int stats_render(yajl_gen g, int reset) {
  yajl_gen_map_open(g);
  key_num(g, "requests", take(&requests, reset));
  key_num(g, "rate_limited", take(&rate_limited, reset));
  key_num(g, "bytes", take(&bytes, reset));
  key_num(g, "faults", take(&faults_total, reset));
  yajl_gen_string(g, (const unsigned char *)"endpoints", 9);
  yajl_gen_map_open(g);
  for (int e = 0; e < EP_COUNT; e++) {
    unsigned long long v = take(&by_endpoint[e], reset);
    if (v)
      key_num(g, ENDPOINTS[e], v);
  }
  yajl_gen_map_close(g);
  yajl_gen_string(g, (const unsigned char *)"status", 6);
  yajl_gen_map_open(g);
  for (int s = 0; s < 600; s++) {
    unsigned long long v = take(&by_status[s], reset);
    if (v) {
      char k[16];
      snprintf(k, sizeof k, "%d", s);
      key_num(g, k, v);
    }
  }
  yajl_gen_map_close(g);
  yajl_gen_string(g, (const unsigned char *)"fault_counts", 12);
  yajl_gen_map_open(g);
  for (int i = 0; i < NFAULTS; i++) {
    unsigned long long v = take(&by_fault[i], reset);
    if (v)
      key_num(g, FAULTS[i], v);
  }
  yajl_gen_map_close(g);
  return yajl_gen_map_close(g) == yajl_gen_status_ok ? 0 : -1;
}
