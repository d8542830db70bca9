/*
 * lineage-bench.c -- output bytes per input byte of the Mode connector's lineage (issue 14
 * item 1; a benchmark, not a test). Builds one report whose query reads T tables and is padded
 * to S bytes, assembles its entities (data model, dashboard, lineage edges) the way a run does,
 * and prints the bytes of the records against the bytes of the query, with and without data
 * models, and the peak RSS. Before the fix every edge carried the whole SQL: 0.1 MB gave
 * 472 MB. Usage: make tests/bench/lineage-bench && tests/bench/lineage-bench
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "assemble.h"
#include "conf.h"
#include "entities.h"
#include "util.h"

struct sized {
  size_t bytes, records, lineage;
};

static void measure(void *ctx, struct mode_entity *e) {
  struct sized *z = ctx;
  if (e == NULL) {
    fprintf(stderr, "lineage-bench: out of memory\n");
    exit(1);
  }
  z->bytes += e->json_len;
  z->records++;
  z->lineage += strcmp(e->kind, "lineage") == 0;
  mode_entity_free(e);
}

/* SELECT ... FROM t0 JOIN t1 ... padded with a comment to `size` bytes (caller frees). */
static char *wide_query(size_t tables, size_t size) {
  struct mode_buf b = {0};
  int rc = mode_buf_append(&b, "SELECT 1 FROM t0", 16);
  for (size_t i = 1; i < tables && rc == 0; i++) {
    char part[64];
    int n = snprintf(part, sizeof part, " JOIN schema_%zu.table_%zu ON x%zu.k = t0.k", i, i, i);
    rc = mode_buf_append(&b, part, (size_t)n);
  }
  rc |= mode_buf_append(&b, "\n-- ", 4);
  while (rc == 0 && b.len < size)
    rc = mode_buf_append(&b, "padding ", 8);
  if (rc != 0) {
    fprintf(stderr, "lineage-bench: out of memory\n");
    exit(1);
  }
  return b.data;
}

static void run(size_t tables, size_t size, int data_models) {
  char src[64], err[256];
  static const char conn[] = "{\"accessToken\":\"t\",\"accessTokenPassword\":\"s\","
                             "\"workspaceName\":\"acme\"}";
  snprintf(src, sizeof src, "{\"includeDataModels\":%s}", data_models ? "true" : "false");
  struct mode_config cfg;
  if (mode_config_parse(conn, strlen(conn), src, strlen(src), &cfg, NULL, NULL, err, sizeof err) !=
      0) {
    fprintf(stderr, "lineage-bench: %s\n", err);
    exit(1);
  }
  char *sql = wide_query(tables, size);
  struct mode_owners owners = {0};
  struct sized z = {0};
  struct mode_assembler a = {.cfg = &cfg,
                             .ectx = {"mode_svc", "https://app.mode.com", "acme", 1},
                             .owners = &owners,
                             .today = "2026-01-01",
                             .ctx = &z,
                             .emit = measure};
  struct mode_query q = {.token = "q1", .name = "Query 1", .raw_query = sql};
  struct mode_report r = {.token = "r1",
                          .name = "R",
                          .space_name = "S",
                          .view_count = -1,
                          .queries = &q,
                          .n_queries = 1};
  mode_assemble(&a, &r);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  size_t in = strlen(sql);
  printf("query %7.3f MB, %5zu tables, data models %-3s: %6zu records (%5zu lineage), output "
         "%9.3f MB = %6.2f x input, peak RSS %6.1f MB\n",
         in / 1048576.0, tables, data_models ? "on" : "off", z.records, z.lineage,
         z.bytes / 1048576.0, (double)z.bytes / (double)in, ru.ru_maxrss / 1024.0);
  mode_assembler_clear(&a);
  mode_config_free(&cfg);
  free(sql);
}

int main(void) {
  static const struct {
    size_t tables, size;
  } cases[] = {{50, 100000}, {500, 100000}, {1500, 300000}, {200, 1 << 20}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    for (int dm = 1; dm >= 0; dm--)
      run(cases[i].tables, cases[i].size, dm);
  return 0;
}
