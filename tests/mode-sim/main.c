/*
 * mode-sim: a Mode API simulator for tests, the demo and benchmarks. Parses the command line
 * (docs/mode-sim.md), builds or loads the workspace, writes the ground truth and serves until
 * SIGTERM.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "fixtures.h"
#include "groundtruth.h"
#include "render.h"
#include "server.h"
#include "sim.h"

static const char USAGE[] =
    "usage: mode-sim [--port N] [--workspace NAME] [--token T] [--secret S]\n"
    "                [--discovery-token T --discovery-key K --discovery-secret S]\n"
    "                [--batch-page-max N] [--batch-fault repeat|endless|stale]\n"
    "                [--fixtures DIR | --seed N --spaces N --reports-per-space N\n"
    "                 --queries-per-report N --charts-per-query N --users N --data-sources N]\n"
    "                [--latency-ms N[:JITTER]] [--rate-limit N/SECONDS|off] [--faults SPEC]\n"
    "                [--mutate PERCENT] [--ground-truth FILE] [--log FILE]\n"
    "                [--tls-cert FILE --tls-key FILE]\n"
    "Serves Mode's REST API on 127.0.0.1; see docs/mode-sim.md.\n";

enum {
  OPT_PORT = 256,
  OPT_WORKSPACE,
  OPT_TOKEN,
  OPT_SECRET,
  OPT_FIXTURES,
  OPT_SEED,
  OPT_SPACES,
  OPT_REPORTS,
  OPT_QUERIES,
  OPT_CHARTS,
  OPT_USERS,
  OPT_DS,
  OPT_LATENCY,
  OPT_RATE,
  OPT_FAULTS,
  OPT_MUTATE,
  OPT_TRUTH,
  OPT_LOG,
  OPT_TLS_CERT,
  OPT_TLS_KEY,
  OPT_DTOKEN,
  OPT_DKEY,
  OPT_DSECRET,
  OPT_BATCH_PAGE,
  OPT_BATCH_FAULT,
  OPT_HELP
};

static const struct option OPTIONS[] = {
    {"port", required_argument, NULL, OPT_PORT},
    {"workspace", required_argument, NULL, OPT_WORKSPACE},
    {"token", required_argument, NULL, OPT_TOKEN},
    {"secret", required_argument, NULL, OPT_SECRET},
    {"fixtures", required_argument, NULL, OPT_FIXTURES},
    {"seed", required_argument, NULL, OPT_SEED},
    {"spaces", required_argument, NULL, OPT_SPACES},
    {"reports-per-space", required_argument, NULL, OPT_REPORTS},
    {"queries-per-report", required_argument, NULL, OPT_QUERIES},
    {"charts-per-query", required_argument, NULL, OPT_CHARTS},
    {"users", required_argument, NULL, OPT_USERS},
    {"data-sources", required_argument, NULL, OPT_DS},
    {"latency-ms", required_argument, NULL, OPT_LATENCY},
    {"rate-limit", required_argument, NULL, OPT_RATE},
    {"faults", required_argument, NULL, OPT_FAULTS},
    {"mutate", required_argument, NULL, OPT_MUTATE},
    {"ground-truth", required_argument, NULL, OPT_TRUTH},
    {"log", required_argument, NULL, OPT_LOG},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"discovery-token", required_argument, NULL, OPT_DTOKEN},
    {"discovery-key", required_argument, NULL, OPT_DKEY},
    {"discovery-secret", required_argument, NULL, OPT_DSECRET},
    {"batch-page-max", required_argument, NULL, OPT_BATCH_PAGE},
    {"batch-fault", required_argument, NULL, OPT_BATCH_FAULT},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* Parses a whole decimal number into *out; -1 with a message naming the flag otherwise. */
static int parse_uint(const char *flag, const char *s, unsigned long long max,
                      unsigned long long *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *end || *s == '-' || v > max) {
    fprintf(stderr, "mode-sim: --%s %s: want a whole number up to %llu\n", flag, s, max);
    return -1;
  }
  *out = v;
  return 0;
}

static int parse_u(const char *flag, const char *s, unsigned max, unsigned *out) {
  unsigned long long v;
  if (parse_uint(flag, s, max, &v))
    return -1;
  *out = (unsigned)v;
  return 0;
}

static int parse_latency(const char *s, struct sim_config *c) {
  char buf[64];
  snprintf(buf, sizeof buf, "%s", s);
  char *colon = strchr(buf, ':');
  if (colon)
    *colon = '\0';
  if (parse_u("latency-ms", buf, 600000, &c->latency_ms))
    return -1;
  return colon ? parse_u("latency-ms", colon + 1, 600000, &c->jitter_ms) : 0;
}

static int parse_rate(const char *s, struct sim_config *c) {
  if (strcmp(s, "off") == 0) {
    c->rate_n = 0;
    return 0;
  }
  char buf[64];
  snprintf(buf, sizeof buf, "%s", s);
  char *slash = strchr(buf, '/');
  if (!slash) {
    fprintf(stderr, "mode-sim: --rate-limit %s: want N/SECONDS (e.g. 40/10) or off\n", s);
    return -1;
  }
  *slash = '\0';
  if (parse_u("rate-limit", buf, 1000000000, &c->rate_n) ||
      parse_u("rate-limit", slash + 1, 86400, &c->rate_seconds))
    return -1;
  if (c->rate_n == 0 || c->rate_seconds == 0) {
    fprintf(stderr, "mode-sim: --rate-limit %s: N and SECONDS must be positive (or use off)\n", s);
    return -1;
  }
  return 0;
}

static int parse_option(int opt, const char *arg, struct sim_config *c) {
  unsigned long long seed;
  char err[256];
  switch (opt) {
  case OPT_PORT:
    return parse_u("port", arg, 65535, &c->port);
  case OPT_WORKSPACE:
    c->workspace = arg;
    return 0;
  case OPT_TOKEN:
    c->token = arg;
    return 0;
  case OPT_SECRET:
    c->secret = arg;
    return 0;
  case OPT_DTOKEN:
    c->discovery_token = arg;
    return 0;
  case OPT_DKEY:
    c->discovery_key = arg;
    return 0;
  case OPT_DSECRET:
    c->discovery_secret = arg;
    return 0;
  case OPT_BATCH_PAGE:
    return parse_u("batch-page-max", arg, 1000, &c->batch_page_max);
  case OPT_BATCH_FAULT:
    if (strcmp(arg, "repeat") != 0 && strcmp(arg, "endless") != 0 && strcmp(arg, "stale") != 0) {
      fprintf(stderr, "mode-sim: --batch-fault: 'repeat', 'endless' or 'stale', not '%s'\n", arg);
      return -1;
    }
    c->batch_fault = arg;
    return 0;
  case OPT_FIXTURES:
    c->fixtures_dir = arg;
    return 0;
  case OPT_SEED:
    if (parse_uint("seed", arg, UINT64_MAX, &seed))
      return -1;
    c->gen.seed = seed;
    return 0;
  case OPT_SPACES:
    return parse_u("spaces", arg, 100000, &c->gen.spaces);
  case OPT_REPORTS:
    return parse_u("reports-per-space", arg, 100000, &c->gen.reports_per_space);
  case OPT_QUERIES:
    return parse_u("queries-per-report", arg, 100, &c->gen.queries_per_report);
  case OPT_CHARTS:
    return parse_u("charts-per-query", arg, 100, &c->gen.charts_per_query);
  case OPT_USERS:
    return parse_u("users", arg, 100000, &c->gen.users);
  case OPT_DS:
    return parse_u("data-sources", arg, 1000, &c->gen.data_sources);
  case OPT_LATENCY:
    return parse_latency(arg, c);
  case OPT_RATE:
    return parse_rate(arg, c);
  case OPT_FAULTS:
    if (faults_parse(arg, &c->faults, err, sizeof err) == 0)
      return 0;
    fprintf(stderr, "mode-sim: %s\n", err);
    return -1;
  case OPT_MUTATE:
    return parse_u("mutate", arg, 100, &c->gen.mutate_percent);
  case OPT_TRUTH:
    c->ground_truth = arg;
    return 0;
  case OPT_LOG:
    c->log_path = arg;
    return 0;
  case OPT_TLS_CERT:
    c->tls_cert_path = arg;
    return 0;
  case OPT_TLS_KEY:
    c->tls_key_path = arg;
    return 0;
  default:
    return -1;
  }
}

static int parse_args(int argc, char **argv, struct sim_config *c) {
  *c = (struct sim_config){
      .workspace = "acme",
      .token = "test-token",
      .secret = "test-secret",
      .discovery_token = "batch-token",
      .discovery_key = "batch-key",
      .discovery_secret = "batch-secret",
      .batch_page_max = 1000,
      .gen = {.seed = 1,
              .spaces = 3,
              .reports_per_space = 5,
              .queries_per_report = 2,
              .charts_per_query = 2,
              .users = 5,
              .data_sources = 2},
      .rate_n = 40,
      .rate_seconds = 10,
  };
  int opt;
  opterr = 0;
  while ((opt = getopt_long(argc, argv, "", OPTIONS, NULL)) != -1) {
    if (opt == OPT_HELP) {
      fputs(USAGE, stdout);
      exit(0);
    }
    if (opt == '?') {
      fprintf(stderr, "mode-sim: unknown option or missing value: %s\n%s", argv[optind - 1], USAGE);
      return -1;
    }
    if (parse_option(opt, optarg, c) != 0)
      return -1;
  }
  if (optind < argc) {
    fprintf(stderr, "mode-sim: unexpected argument '%s'\n%s", argv[optind], USAGE);
    return -1;
  }
  if (!c->faults.seed_set)
    c->faults.seed = c->gen.seed;
  if (!*c->workspace || strchr(c->workspace, '/')) {
    fprintf(stderr, "mode-sim: --workspace '%s': want a name without '/'\n", c->workspace);
    return -1;
  }
  if (c->fixtures_dir && c->ground_truth) {
    fputs("mode-sim: --ground-truth describes generated workspaces; not with --fixtures\n", stderr);
    return -1;
  }
  if (!c->tls_cert_path != !c->tls_key_path) {
    fputs("mode-sim: --tls-cert and --tls-key go together (a PEM certificate and its key)\n",
          stderr);
    return -1;
  }
  c->gen.workspace = c->workspace;
  return 0;
}

/* Reads a whole PEM file into a NUL-terminated string the caller frees; NULL with a message
 * naming the flag and the file otherwise. */
static char *read_pem(const char *flag, const char *path) {
  char *buf = NULL;
  size_t len = 0, cap = 0;
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "mode-sim: --%s %s: %s\n", flag, path, strerror(errno));
    return NULL;
  }
  for (;;) {
    if (cap - len < 4097) {
      char *nb = realloc(buf, cap = cap ? cap * 2 : 8192);
      if (!nb) {
        free(buf);
        buf = NULL;
        fprintf(stderr, "mode-sim: --%s %s: out of memory\n", flag, path);
        goto out;
      }
      buf = nb;
    }
    size_t got = fread(buf + len, 1, 4096, f);
    len += got;
    if (got == 0)
      break;
  }
  buf[len] = '\0';
  if (ferror(f) || !strstr(buf, "-----BEGIN ")) {
    fprintf(stderr, "mode-sim: --%s %s: not a PEM file\n", flag, path);
    free(buf);
    buf = NULL;
  }
out:
  fclose(f);
  return buf;
}

int main(int argc, char **argv) {
  struct sim_config cfg;
  struct sim_workspace *ws = NULL;
  struct fixtures *fx = NULL;
  int rc = 2;
  if (parse_args(argc, argv, &cfg) != 0)
    return 2;
  server_block_signals();
  if (cfg.tls_cert_path && (!(cfg.tls_cert_pem = read_pem("tls-cert", cfg.tls_cert_path)) ||
                            !(cfg.tls_key_pem = read_pem("tls-key", cfg.tls_key_path)))) {
    rc = 2;
    goto out;
  }
  if (render_init() != 0)
    goto out;
  if (cfg.fixtures_dir ? fixtures_load(cfg.fixtures_dir, &fx) : sim_generate(&cfg.gen, &ws))
    goto out;
  if (cfg.ground_truth && groundtruth_write(ws, cfg.ground_truth) != 0)
    goto out;
  struct route_source src = {.cfg = &cfg, .ws = ws, .fx = fx};
  rc = server_run(&src) == 0 ? 0 : 1;
out:
  cache_clear();
  fixtures_free(&fx);
  ws_free(&ws);
  render_cleanup();
  free(cfg.tls_cert_pem);
  free(cfg.tls_key_pem);
  return rc;
}
