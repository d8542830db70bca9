/*
 * crawl.h -- the fetch plan of one run and the entities it yields, lazily.
 *
 *   data_sources, definitions (once each)      spaces?filter=... pages
 *                                    \            |
 *                                     \      per space: reports pages, datasets pages
 *                                      \          |
 *                                       \    per report: queries (once) -> charts per query
 *                                        \        only when chart_count != 0; creator once
 *                                         `-> a report is complete: its entities are queued
 *
 * Every request goes through one mode_fetch, so they overlap within the rate limit. Listings
 * wait while too many reports are in progress, or while those hold too much query text (a
 * report's queries wait then too), so memory is bounded by that window in reports and bytes
 * plus the tokens and users a run must remember.
 */
#ifndef MODE_CRAWL_H
#define MODE_CRAWL_H

#include <stdatomic.h>
#include <stdint.h>

#include "conf.h"
#include "entities.h"

struct mode_crawl;

/* The host's services as the crawl needs them (all may be NULL). */
struct mode_crawl_hooks {
  void *ctx;
  void (*diag)(void *ctx, int severity, unsigned flags, const char *item, const char *message);
  void (*count)(void *ctx, int counter, long long delta);
  int (*cancelled)(void *ctx);
};

/* cfg must outlive the crawl; interrupt (may be NULL) is watched by every transfer. */
struct mode_crawl *mode_crawl_new(const struct mode_config *cfg, const char *service,
                                  const struct mode_crawl_hooks *hooks,
                                  const atomic_int *interrupt);
/* Produces the next entity: returns ETL_OK with *out (owned by the caller), ETL_DONE, or a
 * negative etl_status (auth, config, cancelled) after reporting why. */
/* Makes the run incremental (docs/mode.md): incr (borrowed, must outlive the crawl) holds the
 * previous run's map and receives this run's; config_hash stamps the settings. Call before
 * the first mode_crawl_next. */
struct mode_incr;
void mode_crawl_set_incremental(struct mode_crawl *c, struct mode_incr *incr,
                                uint64_t config_hash);
int mode_crawl_next(struct mode_crawl *c, struct mode_entity **out);
void mode_crawl_free(struct mode_crawl **c);

#endif
