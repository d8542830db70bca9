/*
 * The simulator's one source of randomness: splitmix64, seeded explicitly, so a seed gives the
 * same workspace and the same faults on every machine (rand() differs between libcs).
 */
#ifndef SIM_PRNG_H
#define SIM_PRNG_H

#include <stdint.h>

struct prng {
  uint64_t state;
};

static inline uint64_t prng_next(struct prng *p) {
  uint64_t z = (p->state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/* Uniform in [0, n); n > 0. The modulo bias is irrelevant at these sizes. */
static inline uint64_t prng_below(struct prng *p, uint64_t n) {
  return prng_next(p) % n;
}

/* True with probability percent/100. */
static inline int prng_chance(struct prng *p, unsigned percent) {
  return prng_below(p, 100) < percent;
}

/* Uniform double in [0, 1). */
static inline double prng_unit(struct prng *p) {
  return (double)(prng_next(p) >> 11) / 9007199254740992.0;
}

/* A stateless hash of a 64-bit key, for decisions that must not depend on request order. */
static inline uint64_t prng_mix(uint64_t key) {
  struct prng p = {key};
  return prng_next(&p);
}

/* FNV-1a of a string, folded into a seed. */
static inline uint64_t prng_hash_str(uint64_t seed, const char *s) {
  uint64_t h = 1469598103934665603ULL ^ seed;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return prng_mix(h);
}

#endif
