/*
 * Hostile listing shapes (--faults shape=KIND[@TARGET], endless-pages, pad-queries): a body as
 * rendered, rewritten into what a broken or hostile server might send, so the client's rules
 * for "the listing ended" can be tested against it. See docs/mode-sim.md.
 */
#ifndef SIM_SHAPES_H
#define SIM_SHAPES_H

#include <stddef.h>

#include "faults.h"
#include "stats.h"

/* Rewrites the body (malloc'd, replaced on success) of page `page` of a listing endpoint
 * (EP_SPACES, EP_REPORTS, EP_DATASETS; EP_QUERIES for pad-queries) as f asks; suffix, when not
 * NULL, is appended to every item's token (endless pages). Returns 0 (also when nothing applies),
 * -1 on OOM or a body that is not JSON. */
int shapes_apply(const struct faults *f, enum endpoint ep, size_t page, const char *suffix,
                 char **body, size_t *len);

#endif
