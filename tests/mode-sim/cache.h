/*
 * A bounded cache of rendered bodies. The generated workspace is immutable while serving, so
 * a route's body depends only on its path and (normalised) query; faults are applied after the
 * cache. Thread-safe; the cache stops growing at its byte budget.
 */
#ifndef SIM_CACHE_H
#define SIM_CACHE_H

#include <stddef.h>

/* On a hit stores a malloc'd copy of the body (caller frees) and returns 0; -1 on a miss. */
int cache_get(const char *key, unsigned *status, char **body, size_t *len);

/* Stores a copy of body under key unless the cache is full. */
void cache_put(const char *key, unsigned status, const char *body, size_t len);

/* Frees every entry (at exit, when no request is running). */
void cache_clear(void);

#endif
