/*
 * sink_bench.c -- writes N synthetic entities through the sqlite sink, as etlhost would (state
 * stored every STATE_EVERY records), three runs over the same catalog: all new, all unchanged,
 * all changed. Prints records/s per run and the peak RSS. Driven by tests/bench/sink-bench.sh.
 *
 * usage: sink_bench N CATALOG
 */
#include "config.h"

#include "log.h"
#include "sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#define STATE_EVERY 10000

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One run of n records; `version` changes every record's content. Returns 0 on success. */
static int bench_run(const struct host_sink_ops *ops, void *sink, long n, int version,
                     long long run_id) {
  char id[32], json[768];
  if (ops->begin_source(sink, "bench", "bench") != ETL_OK)
    return -1;
  for (long i = 0; i < n; i++) {
    snprintf(id, sizeof id, "tok%09ld", i);
    int len = snprintf(json, sizeof json,
                       "{\"data\":{\"name\":\"%s\",\"displayName\":\"Report %ld v%d\","
                       "\"description\":\"A synthetic report used to measure the catalog, "
                       "with a description of ordinary length.\",\"chartType\":\"Line\","
                       "\"sourceUrl\":\"https://app.mode.com/acme/reports/%s\","
                       "\"service\":\"mode_bench\"},\"owners\":[{\"type\":\"user\","
                       "\"name\":\"user%ld\",\"email\":null}]}",
                       id, i, version, id, i % 97);
    struct host_record rec = {.source = "bench",
                              .kind = i % 3 ? "chart" : "dashboard",
                              .id = id,
                              .json = json,
                              .json_len = (size_t)len};
    bool rejected;
    if (ops->write(sink, &rec, &rejected) != ETL_OK || rejected)
      return -1;
    if ((i + 1) % STATE_EVERY == 0) {
      char state[64];
      int slen = snprintf(state, sizeof state, "{\"position\":%ld}", i + 1);
      if (ops->store_state(sink, "bench", state, (size_t)slen) != ETL_OK)
        return -1;
    }
  }
  struct host_source_outcome o = {.complete = true, .run_id = run_id};
  if (ops->commit(sink) != ETL_OK || ops->end_source(sink, "bench", &o) != ETL_OK)
    return -1;
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s N CATALOG\n", argv[0]);
    return 2;
  }
  long n = strtol(argv[1], NULL, 10);
  char config[4096];
  snprintf(config, sizeof config, "{\"path\": \"%s\"}", argv[2]);
  struct host_log *log = host_log_new(stderr, ETL_SEV_WARNING);
  const struct host_sink_ops *ops = host_sink_find("sqlite");
  static const char *const names[] = {"new", "unchanged", "changed"};
  static const int versions[] = {1, 1, 2};
  int status = 1;
  for (int r = 0; r < 3; r++) {
    void *sink = NULL;
    if (ops->create(config, "{}", log, &sink) != ETL_OK)
      goto out;
    double t0 = now_seconds();
    int rc = bench_run(ops, sink, n, versions[r], r + 1);
    double dt = now_seconds() - t0;
    ops->destroy(&sink);
    if (rc != 0) {
      fprintf(stderr, "run %d failed\n", r + 1);
      goto out;
    }
    printf("run %d (%-9s): %ld records in %.2f s = %.0f records/s\n", r + 1, names[r], n, dt,
           (double)n / dt);
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("peak RSS: %ld KiB\n", ru.ru_maxrss);
  status = 0;
out:
  host_log_free(&log);
  return status;
}
