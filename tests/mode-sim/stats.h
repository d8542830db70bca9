/*
 * Request counters for GET /__sim/stats: totals, per status and per endpoint template, updated
 * with atomics from the server threads.
 */
#ifndef SIM_STATS_H
#define SIM_STATS_H

#include <stddef.h>
#include <yajl/yajl_gen.h>

/* Endpoint templates, the keys of "endpoints". */
enum endpoint {
  EP_VERIFY,
  EP_ACCOUNT,
  EP_USER,
  EP_WORKSPACE,
  EP_MEMBERSHIPS,
  EP_SPACES,
  EP_SPACE,
  EP_REPORTS,
  EP_DATASETS,
  EP_REPORT,
  EP_QUERIES,
  EP_QUERY,
  EP_CHARTS,
  EP_DATA_SOURCES,
  EP_DEFINITIONS,
  EP_RUNS,
  EP_RUN,
  EP_QUERY_RUNS,
  EP_BATCH,
  EP_UNKNOWN,
  EP_COUNT
};

const char *stats_endpoint_name(enum endpoint e);

/* Counts one answered request. fault is a faults_name() or NULL. */
void stats_count(enum endpoint e, unsigned status, size_t bytes, const char *fault);

/* Writes the stats document; reset zeroes the counters after reading. */
int stats_render(yajl_gen g, int reset);

#endif
