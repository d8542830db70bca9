/*
 * pager.c -- end-of-listing rules (see pager.h).
 */
#include "config.h"

#include "pager.h"

#include <stdlib.h>
#include <string.h>

int mode_pager_init(struct mode_pager *p, const char *base_url, int per_page, int max_pages) {
  memset(p, 0, sizeof *p);
  p->base_url = strdup(base_url);
  p->per_page = per_page > 0 ? per_page : 30;
  p->max_pages = max_pages > 0 ? max_pages : MODE_PAGER_MAX_PAGES;
  p->page = 1;
  return p->base_url ? 0 : -1;
}

char *mode_pager_url(const struct mode_pager *p) {
  return mode_asprintf("%s%cper_page=%d&page=%d", p->base_url, strchr(p->base_url, '?') ? '&' : '?',
                       p->per_page, p->page);
}

enum mode_page_verdict mode_pager_page(struct mode_pager *p, const char *const *tokens, size_t n,
                                       int list_seen, int *is_new) {
  uint64_t sig = MODE_HASH_INIT;
  size_t fresh = 0, counted = 0;
  for (size_t i = 0; i < n; i++) {
    is_new[i] = 0;
    if (tokens[i] == NULL)
      continue;
    counted++;
    sig = mode_hash(sig, tokens[i], strlen(tokens[i]) + 1);
    int added = mode_strset_add(&p->seen, tokens[i]);
    if (added == 1) {
      is_new[i] = 1;
      fresh++;
    }
  }
  if (!list_seen)
    return MODE_PAGE_MISSING;
  if (n == 0)
    return MODE_PAGE_EMPTY;
  int repeated = (p->page > 1 && sig == p->prev_sig && counted == p->prev_n) || fresh == 0;
  p->prev_sig = sig;
  p->prev_n = counted;
  if (repeated)
    return MODE_PAGE_REPEATED;
  if (p->page >= p->max_pages)
    return MODE_PAGE_CAPPED;
  p->page++;
  return MODE_PAGE_MORE;
}

void mode_pager_free(struct mode_pager *p) {
  if (p == NULL)
    return;
  free(p->base_url);
  p->base_url = NULL;
  mode_strset_clear(&p->seen);
}
