/*
 * The simulator's configuration (from the command line, main.c) and the modules' entry points
 * that server.c ties together.
 */
#ifndef SIM_SIM_H
#define SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "faults.h"
#include "generate.h"

struct sim_config {
  unsigned port;         /* 0: ephemeral */
  const char *workspace; /* default "acme" */
  const char *token, *secret;
  /* The Discovery API's signature token (batch.h): token, access key, access secret. */
  const char *discovery_token, *discovery_key, *discovery_secret;
  unsigned batch_page_max; /* a batch per_page above this is served this many (default 1000) */
  const char *batch_fault; /* NULL, "repeat" (the last page links to itself) , "endless" or "stale"
                              (next_page never ends; past the last page, it is repeated) */
  const char *fixtures_dir; /* NULL: serve a generated workspace */
  struct sim_gen_params gen;
  unsigned latency_ms, jitter_ms;
  unsigned rate_n, rate_seconds; /* rate_n 0: no rate limit */
  struct faults faults;
  const char *ground_truth;                 /* NULL: none written */
  const char *log_path;                     /* NULL: no request log */
  const char *tls_cert_path, *tls_key_path; /* both set: serve HTTPS */
  char *tls_cert_pem, *tls_key_pem;         /* read by main; owned by main, outlive the server */
};

#endif
