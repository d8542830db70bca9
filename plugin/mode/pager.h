/*
 * pager.h -- when a paged Mode listing is finished. Mode's listings take page/per_page, cap
 * per_page at 30, and some ignore page and repeat; peers lost reports by taking a short page
 * for the last one. So a listing ends only on an empty page, a page without its list, a page
 * equal to the previous one, or a page with nothing new; tokens are de-duplicated; a page cap
 * stops a listing that never ends (with a warning from the caller).
 */
#ifndef MODE_PAGER_H
#define MODE_PAGER_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* The page cap when none is configured (maxPages): 9,000 items at 30 a page. A server that
 * brings new items on every page is stopped after about 40 minutes at Mode's rate, not 22 h. */
#define MODE_PAGER_MAX_PAGES 300
/* A listing this long is said to be long once (a warning, not an error): it may be endless. */
#define MODE_PAGER_LONG 100

enum mode_page_verdict {
  MODE_PAGE_MORE = 0, /* ask for the next page */
  MODE_PAGE_EMPTY,    /* the page had no items: done */
  MODE_PAGE_MISSING,  /* the page had no list at all (or a 204): done */
  MODE_PAGE_REPEATED, /* the same items as the previous page, or nothing new: done */
  MODE_PAGE_CAPPED    /* max_pages reached: done, but the caller must warn */
};

struct mode_pager {
  char *base_url; /* owned; the listing URL, with '?' query or not */
  int per_page;
  int max_pages;
  int page; /* the page to fetch next, from 1 */
  uint64_t prev_sig;
  size_t prev_n;
  struct mode_strset seen; /* tokens of this listing */
};

/* Prepares a pager for base_url (copied). Returns 0 or -1 (OOM). */
int mode_pager_init(struct mode_pager *p, const char *base_url, int per_page, int max_pages);
/* URL of the next page (caller frees), or NULL on OOM. */
char *mode_pager_url(const struct mode_pager *p);
/* Records a fetched page: tokens[i] (NULL entries are ignored). is_new[i] is set to 1 for a
 * token first seen here. Returns whether to continue. */
enum mode_page_verdict mode_pager_page(struct mode_pager *p, const char *const *tokens, size_t n,
                                       int list_seen, int *is_new);
void mode_pager_free(struct mode_pager *p);

#endif
