/*
 * json-scale -- is lexing a long JSON string linear when it arrives in pieces?
 *
 *   tests/bench/json-scale [CHUNK_BYTES [MB]]
 *
 * Feeds {"raw_query": "<N bytes>"} to the Mode connector's HAL reader (plugin/mode/hal.c,
 * yajl's callback parser underneath) in chunks of CHUNK_BYTES (default 16384, what curl
 * hands a write callback), for N of 0.5, 1, 2 and 4 MB, and prints seconds and the ratio to
 * the previous size (linear ~2, quadratic ~4); with MB, for that one size only. Issue 14
 * measured 77 s of CPU for 64 MB.
 * Not a test: the figures go to docs/fuzzing.md.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plugin/mode/hal.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  size_t sizes[] = {512 << 10, 1 << 20, 2 << 20, 4 << 20};
  size_t n_sizes = sizeof sizes / sizeof sizes[0];
  static const char *const fields[] = {"raw_query"};
  const struct mode_hal_spec spec = {.list = NULL, .fields = fields, .n_fields = 1};
  size_t chunk = argc > 1 ? strtoul(argv[1], NULL, 10) : 16384;
  double prev = 0;
  if (chunk == 0)
    chunk = 16384;
  if (argc > 2) {
    sizes[0] = strtoul(argv[2], NULL, 10) << 20;
    n_sizes = 1;
  }
  printf("%8s %9s %6s  %s (chunks of %zu bytes)\n", "MB", "seconds", "ratio", "result", chunk);
  for (size_t k = 0; k < n_sizes; k++) {
    size_t n = sizes[k], len = n + 32;
    char *body = malloc(len);
    if (!body)
      return 2;
    size_t o = (size_t)sprintf(body, "{\"raw_query\": \"");
    memset(body + o, 'a', n);
    o += n;
    o += (size_t)sprintf(body + o, "\"}");
    struct mode_hal_parser *p = mode_hal_parser_new(&spec, (size_t)64 << 20);
    if (!p)
      return 2;
    double t0 = now();
    int rc = 0;
    for (size_t off = 0; off < o && rc == 0; off += chunk)
      rc = mode_hal_feed(p, body + off, o - off < chunk ? o - off : chunk);
    if (rc == 0)
      rc = mode_hal_finish(p);
    double dt = now() - t0;
    if (prev > 0)
      printf("%8.1f %9.3f %6.2f  %s\n", (double)n / (1 << 20), dt, dt / prev,
             rc ? mode_hal_error(p) : "ok");
    else
      printf("%8.1f %9.3f %6s  %s\n", (double)n / (1 << 20), dt, "-",
             rc ? mode_hal_error(p) : "ok");
    fflush(stdout);
    prev = dt;
    mode_hal_parser_free(&p);
    free(body);
  }
  return 0;
}
