/*
 * Fault decisions are pure functions of (seed, URL, attempt) so they are reproducible; see
 * faults.h for the spec language.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"
#include "prng.h"

static int parse_prob(const char *name, const char *val, double *out, char *err, size_t errlen) {
  char *end;
  double p = strtod(val, &end);
  if (end == val || *end || p < 0 || p > 1) {
    snprintf(err, errlen, "--faults: %s=%s: want a probability between 0 and 1", name, val);
    return -1;
  }
  *out = p;
  return 0;
}

static int parse_burst(const char *val, struct faults *f, char *err, size_t errlen) {
  unsigned st = 0, n = 0, start = 1;
  int k = sscanf(val, "%u:%u@%u", &st, &n, &start);
  if (k < 2 || st < 100 || st > 599 || n == 0 || start == 0) {
    snprintf(err, errlen, "--faults: burst=%s: want STATUS:COUNT[@START], e.g. burst=503:20", val);
    return -1;
  }
  f->burst_status = st;
  f->burst_count = n;
  f->burst_start = start;
  return 0;
}

static int parse_shape(const char *val, struct faults *f, char *err, size_t errlen) {
  static const char *const KINDS[] = {"",       "null",    "string",   "number",
                                      "object", "notoken", "nultoken", "notobject"};
  const char *at = strchr(val, '@');
  size_t klen = at ? (size_t)(at - val) : strlen(val);
  for (size_t i = 1; i < sizeof KINDS / sizeof KINDS[0]; i++)
    if (strlen(KINDS[i]) == klen && strncmp(val, KINDS[i], klen) == 0) {
      f->shape = (enum fault_shape)i;
      if (at == NULL || strcmp(at, "@spaces") == 0) {
        f->shape_target = SHAPE_AT_SPACES;
        return 0;
      }
      if (strcmp(at, "@reports") == 0) {
        f->shape_target = SHAPE_AT_REPORTS;
        return 0;
      }
      break;
    }
  snprintf(err, errlen,
           "--faults: shape=%s: want null, string, number, object, notoken, nultoken or "
           "notobject, optionally @spaces or @reports",
           val);
  return -1;
}

static int parse_item(char *item, struct faults *f, char *err, size_t errlen) {
  char *eq = strchr(item, '=');
  const char *val = eq ? eq + 1 : "";
  if (eq)
    *eq = '\0';
  static const struct {
    const char *name;
    size_t off;
  } PROBS[] = {
      {"5xx", offsetof(struct faults, p5xx)},
      {"reset", offsetof(struct faults, reset)},
      {"slow", offsetof(struct faults, slow)},
      {"truncate", offsetof(struct faults, truncate)},
      {"malformed", offsetof(struct faults, malformed)},
      {"204", offsetof(struct faults, p204)},
      {"404-after-list", offsetof(struct faults, gone)},
  };
  for (size_t i = 0; i < sizeof PROBS / sizeof PROBS[0]; i++)
    if (strcmp(item, PROBS[i].name) == 0)
      return parse_prob(item, val, (double *)(void *)((char *)f + PROBS[i].off), err, errlen);
  if (strcmp(item, "repeat-pages") == 0) {
    f->repeat = 1;
    return eq ? parse_prob(item, val, &f->repeat, err, errlen) : 0;
  }
  if (strcmp(item, "burst") == 0)
    return parse_burst(val, f, err, errlen);
  if (strcmp(item, "shape") == 0)
    return parse_shape(val, f, err, errlen);
  if (strcmp(item, "pad-queries") == 0 || strcmp(item, "stall-users") == 0) {
    char *end;
    unsigned long v = strtoul(val, &end, 10);
    if (end != val && !*end && v <= (item[0] == 'p' ? 256ul << 20 : 3600000ul)) {
      if (item[0] == 'p')
        f->pad_queries = v;
      else
        f->stall_users = (unsigned)v;
      return 0;
    }
  }
  if (strcmp(item, "memberships") == 0) {
    char *end;
    unsigned long v = strtoul(val, &end, 10);
    if (end != val && !*end && v >= 400 && v <= 599) {
      f->memberships_status = (unsigned)v;
      return 0;
    }
    snprintf(err, errlen, "--faults: memberships=%s: want an HTTP status 400..599", val);
    return -1;
  }
  if (strcmp(item, "endless-pages") == 0 && !eq) {
    f->endless = 1;
    return 0;
  }
  if (strcmp(item, "seed") == 0) {
    char *end;
    f->seed = strtoull(val, &end, 10);
    f->seed_set = 1;
    if (end != val && !*end)
      return 0;
  }
  snprintf(err, errlen, "--faults: unknown or malformed item '%s' (see docs/mode-sim.md)", item);
  return -1;
}

int faults_parse(const char *spec, struct faults *f, char *err, size_t errlen) {
  memset(f, 0, sizeof *f);
  char *copy = strdup(spec), *save = NULL;
  int rc = 0;
  if (!copy)
    return -1;
  for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save))
    if ((rc = parse_item(item, f, err, errlen)) != 0)
      break;
  free(copy);
  return rc;
}

/* A uniform draw in [0,1) for (seed, key, salt). */
static double draw(uint64_t seed, const char *key, uint64_t salt) {
  uint64_t h = prng_mix(prng_hash_str(seed, key) ^ prng_mix(salt));
  return (double)(h >> 11) / 9007199254740992.0;
}

enum fault_action faults_pick(const struct faults *f, const char *url, uint64_t attempt,
                              uint64_t seq, unsigned *status) {
  if (f->burst_count && seq >= f->burst_start && seq < (uint64_t)f->burst_start + f->burst_count) {
    *status = f->burst_status;
    return FAULT_BURST;
  }
  /* One draw split into bands, so the probabilities add up rather than shadow each other. */
  double u = draw(f->seed, url, attempt);
  const double bands[] = {f->p5xx, f->reset, f->slow, f->truncate, f->malformed, f->p204};
  const enum fault_action acts[] = {FAULT_5XX,      FAULT_RESET,     FAULT_SLOW,
                                    FAULT_TRUNCATE, FAULT_MALFORMED, FAULT_204};
  double edge = 0;
  for (size_t i = 0; i < sizeof bands / sizeof bands[0]; i++) {
    edge += bands[i];
    if (u < edge) {
      static const unsigned FIVES[] = {500, 502, 503, 504};
      *status = FIVES[(size_t)(draw(f->seed, url, attempt + 0x5555) * 4) & 3];
      return acts[i];
    }
  }
  return FAULT_NONE;
}

int faults_gone(const struct faults *f, const char *token) {
  return f->gone > 0 && draw(f->seed, token, 0x60AE) < f->gone;
}

int faults_repeats(const struct faults *f, const char *space_token) {
  return f->repeat > 0 && draw(f->seed, space_token, 0x4E9E47) < f->repeat;
}

const char *faults_name(enum fault_action a) {
  static const char *const NAMES[] = {"none",     "5xx",       "reset", "slow",
                                      "truncate", "malformed", "204",   "burst"};
  return NAMES[a];
}
