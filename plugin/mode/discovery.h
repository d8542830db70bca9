/*
 * discovery.h -- Mode's Discovery API ("batch", Enterprise workspaces): the workspace's
 * queries, charts, reports, collections and report stats in a handful of requests of up
 * to 1000 items, instead of one request per report and one per query (docs/mode.md).
 *
 * The crawl runs it once before its own listings. It pages each endpoint by the envelope's
 * `_links.next_page`, never asking for a link twice, stopping when a page brings nothing new
 * or maxPages is passed. What batch does not carry (data sources, definitions, archived flags,
 * imported datasets, creators, links) still comes from the regular API; a report batch does
 * not know is fetched the regular way. Secrets are sent in one header and never printed.
 */
#ifndef MODE_DISCOVERY_H
#define MODE_DISCOVERY_H

#include <stdatomic.h>
#include <stdint.h>

#include "conf.h"
#include "fetch.h"
#include "model.h"

struct mode_discovery;

/* cfg must outlive it; token, key, secret (the signature token, borrowed for the call) make
 * the Bearer header; base gives the HTTP, rate and retry settings of the regular fetches (its
 * credentials are replaced). NULL on OOM. */
struct mode_discovery *mode_discovery_new(const struct mode_config *cfg,
                                          const struct mode_fetch_opts *base, const char *token,
                                          const char *key, const char *secret);

/* Lists queries, charts and reports through batch (and, in incremental runs, collections and
 * report stats), blocking until done or interrupted
 * (interrupt, may be NULL). Returns 0, or -1 with why in err (the caller lists the regular
 * way instead); *auth_refused is set on a 401. */
int mode_discovery_run(struct mode_discovery *d, const atomic_int *interrupt, int *auth_refused,
                       char *err, size_t cap);

/* Fills r's queries as the regular endpoint would have; the query texts move into r (d no
 * longer holds them: fill each report once). Not its charts: batch's charts have a title and a
 * type but not the view a chart's fields come from (Mode's Discovery API documentation), so
 * the caller asks the regular charts endpoint for each query mode_discovery_has_charts names.
 * Returns 1 when done, 0 when batch does not know the report (fetch it as usual), -1 on OOM. */
int mode_discovery_fill(struct mode_discovery *d, struct mode_report *r);

/* Fills r's charts (after mode_discovery_fill) from batch alone: token, title, type and
 * exploration_url, in batch's order per query; no description and no fields, which only the
 * charts endpoint has (discoveryChartFields: false). Returns 0, or -1 on OOM. */
int mode_discovery_fill_charts(const struct mode_discovery *d, struct mode_report *r);

/* Whether batch lists a chart of query `query` of report `report`. */
int mode_discovery_has_charts(const struct mode_discovery *d, const char *report,
                              const char *query);

/* The batch listing's stamp of report `token` (edited_at, updated_at, name, space, ...) as
 * 16 hex digits, or NULL when batch did not list it. Borrowed. */
const char *mode_discovery_report_stamp(const struct mode_discovery *d, const char *token);

/* The `creator_email` batch gives report `token`, or NULL when it gives none. Borrowed. */
const char *mode_discovery_creator_email(const struct mode_discovery *d, const char *token);

/* Whether batch lists report (or dataset) `token` in collection `space`. */
int mode_discovery_in_space(const struct mode_discovery *d, const char *token, const char *space);

/* How many reports (datasets included, if batch lists them) batch lists in collection
 * `space`: with mode_discovery_in_space, what lets a collection's listing end on a short
 * page once it has shown every one of them (crawl.c, struct space_check). */
long mode_discovery_space_count(const struct mode_discovery *d, const char *space);

/* One stamp over every report batch listed (tokens and their stamps), 16 hex digits. */
const char *mode_discovery_stamp(const struct mode_discovery *d);

/* The view count report_stats gives report `token`, or -1 when it gives none. */
long mode_discovery_views(const struct mode_discovery *d, const char *token);

/* `etlhost test`: one request for one report. Returns 0 with the workspace's report count in
 * *reports (-1 when unsaid), or -1 with the HTTP status (0 none) and why in err. */
int mode_discovery_probe(struct mode_discovery *d, long *status, long *reports, char *err,
                         size_t cap);

/* Requests made (retries not counted) and their statistics. */
const struct mode_fetch_stats *mode_discovery_stats(const struct mode_discovery *d);

void mode_discovery_free(struct mode_discovery **d);

#endif
