/*
 * usage.h -- Mode's lifetime view counts turned into OpenMetadata's daily counts.
 *
 * Mode's report listing gives `view_count`, the views since the report was created.
 * OpenMetadata stores one count per day and sums days into 7- and 30-day windows, so sending the
 * lifetime total every day inflates them. The ledger keeps, per report token, the last total
 * sent and the day it was sent; a report's usage record then carries the increase since that
 * total, at most once per day (docs/mode.md, "Usage"):
 *
 *   first sighting           the whole total (so the days sum to Mode's lifetime count)
 *   already sent today       nothing (the views since count on the next day)
 *   total went up or stayed  the increase (0 included: a day without views)
 *   total went down (reset)  the new total: the views since the reset, never a negative count
 *
 * The ledger travels in the plugin's state ({"usage": {"<token>": [total, "YYYY-MM-DD"]}}),
 * which the host stores only after the sink accepted every record before it.
 * Memory: one entry per report ever seen; not thread-safe (one instance, one thread).
 */
#ifndef MODE_USAGE_H
#define MODE_USAGE_H

#include <stddef.h>
#include <yajl/yajl_gen.h>

#include "entities.h"
#include "util.h"

struct mode_usage_entry {
  char *token; /* owned */
  long total;
  char day[11]; /* YYYY-MM-DD */
};

struct mode_usage {
  struct mode_usage_entry *v; /* owned; v[0..n_sorted) sorted by token, the rest appended */
  size_t n, cap, n_sorted;
  struct mode_strset handled; /* tokens given a decision this run */
};

/* Reads the "usage" member of a stored state (the whole state JSON text) into u (zeroed).
 * A state without it leaves u empty and returns 0. Returns -1 with the reason in err when the
 * state or its usage member is malformed (u left empty), -2 on OOM. */
int mode_usage_load(struct mode_usage *u, const char *state_json, size_t len, char *err,
                    size_t errlen);

/* Decides the usage record of report `token` whose lifetime total is `total` on `today`
 * (YYYY-MM-DD): returns 1 with *count (>= 0) when one is due, 0 when none is, -1 on OOM.
 * Records the total and the day when one is due. */
int mode_usage_due(struct mode_usage *u, const char *token, long total, const char *today,
                   long *count);

/* Replaces *e, a `usage` entity carrying a lifetime total (as mode_entity_usage built it from
 * Mode's view_count), with the record due today, or with a `retain` of it when none is due (the
 * day's record stands: a sink must not take its absence for a deletion). ctx names the
 * service. Returns 0, or -1 on OOM or an entity it cannot read (*e untouched). */
int mode_usage_rewrite(struct mode_usage *u, const struct mode_entity_ctx *ctx, const char *today,
                       struct mode_entity **e);

/* Writes the ledger as a JSON object (the value of "usage") into g. */
void mode_usage_gen(const struct mode_usage *u, yajl_gen g);

/* Today (UTC) as YYYY-MM-DD into out (>= 11 bytes), or `override` when it is a valid date (the
 * test seam: ETL_MODE_TODAY). Returns 1 when the override was used, -1 when it was given but
 * is not a date (today's date is used), 0 otherwise. */
int mode_usage_today(const char *override, char *out);

/* Frees everything u owns and zeroes it. NULL-safe. */
void mode_usage_clear(struct mode_usage *u);

#endif
