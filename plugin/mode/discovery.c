/*
 * discovery.c -- Mode's Discovery API (see discovery.h).
 *
 * Three listings run side by side through one fetch engine whose only credential is the
 * signature token's Bearer header: queries, charts and reports, each `per_page=1000` and,
 * when filterQueryParam is "all", `include_spaces=all` (members' personal collections, as
 * filter=all includes them in the regular listing). A listing follows `_links.next_page`
 * until the envelope has none; a link already asked for, a page with no new token, or more
 * than maxPages pages ends it with an error, since the rest cannot be trusted (Amundsen's
 * extractor pages until a short page and loops on a server that repeats one).
 *
 * Items are kept compactly (strings only) and sorted by report, then listing order, so that
 * a report's queries and charts are found by binary search.
 */
#include "config.h"

#include "discovery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incremental.h"
#include "util.h"

enum { DISC_PER_PAGE = 1000 };

static const char *const q_fields[] = {"token", "report_token", "name", "raw_query",
                                       "data_source_token"};
enum { DQ_TOKEN, DQ_REPORT, DQ_NAME, DQ_RAW, DQ_DS, DQ_N };
static const char *const c_fields[] = {"token",      "report_token", "query_token",
                                       "chart_title", "chart_type",  "exploration_url"};
enum { DC_TOKEN, DC_REPORT, DC_QUERY, DC_TITLE, DC_TYPE, DC_URL, DC_N };
static const char *const r_fields[] = {"token",      "name",        "description",
                                       "space_token", "created_at", "edited_at",
                                       "updated_at", "last_saved_at", "creator_email"};
enum { DR_TOKEN, DR_NAME, DR_DESC, DR_SPACE, DR_EMAIL = 8, DR_N };
static const char *const s_fields[] = {"token", "name", "space_type", "description"};
static const char *const st_fields[] = {"report_token", "total_views_count", "view_count"};
enum { ENV_NEXT = MODE_HAL_ENV_NEXT, ENV_PAGES = MODE_HAL_ENV_PAGES };

/* "/name": the list is the root's own, with `pagination` and `_links` beside it. */
#define BATCH_SPEC(list, f) {"/" list, f, sizeof f / sizeof f[0]}
static const struct mode_hal_spec q_spec = BATCH_SPEC("queries", q_fields);
static const struct mode_hal_spec c_spec = BATCH_SPEC("charts", c_fields);
static const struct mode_hal_spec r_spec = BATCH_SPEC("reports", r_fields);
static const struct mode_hal_spec s_spec = BATCH_SPEC("spaces", s_fields);
static const struct mode_hal_spec st_spec = BATCH_SPEC("report_stats", st_fields);

/* One listed item: the fields of its spec (owned strings, NULL when absent), its position. */
struct item {
  char **f;
  size_t seq;
};

struct blisting {
  const char *name; /* "queries", ... */
  const struct mode_hal_spec *spec;
  struct item *items; /* owned */
  size_t n, cap;
  struct mode_strset asked; /* URLs asked for */
  struct mode_strset seen;  /* item tokens */
  int pages, done, failed;
};

struct mode_discovery {
  const struct mode_config *cfg;
  struct mode_fetch *fetch;
  struct blisting l[5]; /* queries, charts, reports, spaces, report_stats */
  int auth_refused;
  char err[512];
  char stamp[17];
  char *stamps; /* owned: 17 bytes per report of l[2], in its sorted order */
};
enum { LQ, LC, LR, LS, LST, N_LISTINGS };

static void items_free(struct blisting *l) {
  for (size_t i = 0; i < l->n; i++) {
    for (size_t k = 0; k < l->spec->n_fields; k++)
      free(l->items[i].f[k]);
    free(l->items[i].f);
  }
  free(l->items);
  l->items = NULL;
  l->n = l->cap = 0;
}

/* Standard base64 with padding (RFC 4648), as Mode's examples encode the Bearer token. */
static char *base64(const char *in) {
  static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t n = strlen(in), o = 0;
  char *out = malloc((n + 2) / 3 * 4 + 1);
  if (out == NULL)
    return NULL;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)(unsigned char)in[i] << 16;
    if (i + 1 < n)
      v |= (unsigned)(unsigned char)in[i + 1] << 8;
    if (i + 2 < n)
      v |= (unsigned char)in[i + 2];
    out[o++] = A[(v >> 18) & 63];
    out[o++] = A[(v >> 12) & 63];
    out[o++] = i + 1 < n ? A[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < n ? A[v & 63] : '=';
  }
  out[o] = '\0';
  return out;
}

struct mode_discovery *mode_discovery_new(const struct mode_config *cfg,
                                          const struct mode_fetch_opts *base, const char *token,
                                          const char *key, const char *secret) {
  struct mode_discovery *d = calloc(1, sizeof *d);
  char *creds = NULL, *b64 = NULL;
  if (d == NULL)
    return NULL;
  d->cfg = cfg;
  d->l[LQ] = (struct blisting){.name = "queries", .spec = &q_spec};
  d->l[LC] = (struct blisting){.name = "charts", .spec = &c_spec};
  d->l[LR] = (struct blisting){.name = "reports", .spec = &r_spec};
  d->l[LS] = (struct blisting){.name = "spaces", .spec = &s_spec};
  d->l[LST] = (struct blisting){.name = "report_stats", .spec = &st_spec};
  creds = mode_asprintf("%s:%s:%s", token, key, secret);
  b64 = creds ? base64(creds) : NULL;
  if (b64 == NULL)
    goto fail;
  struct mode_fetch_opts fo = *base;
  fo.http.username = NULL;
  fo.http.password = NULL;
  fo.http.bearer = b64;
  d->fetch = mode_fetch_new(&fo);
  if (d->fetch == NULL)
    goto fail;
out:
  if (creds)
    memset(creds, 0, strlen(creds));
  if (b64)
    memset(b64, 0, strlen(b64));
  free(creds);
  free(b64);
  return d;
fail:
  mode_discovery_free(&d);
  goto out;
}

static char *first_url(const struct mode_discovery *d, const char *name) {
  char *tail = mode_asprintf("/%s?per_page=%d%s", name, DISC_PER_PAGE,
                             d->cfg->filter_custom ? "" : "&include_spaces=all");
  char *ws = mode_url_segment(d->cfg->workspace);
  char *url = tail && ws ? mode_asprintf("%s/batch/%s%s", d->cfg->host, ws, tail) : NULL;
  free(tail), free(ws);
  return url;
}

static void fail_listing(struct mode_discovery *d, struct blisting *l, const char *msg) {
  l->failed = l->done = 1;
  if (d->err[0] == '\0')
    snprintf(d->err, sizeof d->err, "/batch/%.64s/%s page %d: %.400s", d->cfg->workspace,
             l->name, l->pages, msg);
}

static int ask(struct mode_discovery *d, struct blisting *l, const char *url);

/* Keeps the page's items; returns how many were new, or -1 on OOM. */
static long keep_items(struct blisting *l, struct mode_fetch_result *res) {
  long fresh = 0;
  for (size_t i = 0; i < res->n_records; i++) {
    struct mode_hal_record *rec = &res->records[i];
    const char *tok = mode_hal_get(rec, 0);
    if (tok == NULL || *tok == '\0' || rec->fields[0].had_nul)
      return -2; /* an item batch cannot name: its report would come out short */
    int added = mode_strset_add(&l->seen, tok);
    if (added < 0)
      return -1;
    if (added == 0)
      continue;
    if (l->n == l->cap) {
      size_t cap = l->cap ? l->cap * 2 : 256;
      struct item *g = realloc(l->items, cap * sizeof *g);
      if (g == NULL)
        return -1;
      l->items = g;
      l->cap = cap;
    }
    struct item *it = &l->items[l->n];
    it->f = calloc(l->spec->n_fields, sizeof *it->f);
    if (it->f == NULL)
      return -1;
    it->seq = l->n++;
    for (size_t k = 0; k < l->spec->n_fields && k < rec->n_fields; k++)
      if (rec->fields[k].n) { /* moved, not copied: a query's text costs its size once */
        it->f[k] = rec->fields[k].v[0];
        rec->fields[k].v[0] = NULL;
        rec->fields[k].n = 1;
      }
    fresh++;
  }
  return fresh;
}

static void on_page(void *owner, void *arg, struct mode_fetch_result *res) {
  struct mode_discovery *d = owner;
  struct blisting *l = arg;
  if (!res->ok) {
    d->auth_refused |= res->status == 401;
    fail_listing(d, l, res->detail);
    return;
  }
  if (!res->list_seen && res->status != 204) {
    fail_listing(d, l, "the page has no list of items");
    return;
  }
  long fresh = keep_items(l, res);
  if (fresh < 0) {
    fail_listing(d, l, fresh == -2 ? "an item has no usable token" : "out of memory");
    return;
  }
  const char *pages = res->envelope ? mode_hal_get(res->envelope, ENV_PAGES) : NULL;
  const char *next = res->envelope ? mode_hal_get(res->envelope, ENV_NEXT) : NULL;
  if (next == NULL || *next == '\0') {
    l->done = 1;
    return;
  }
  if (fresh == 0) {
    fail_listing(d, l, "a page with a next_page link brought no new item");
    return;
  }
  /* next_page is a path on the same host ("/batch/{ws}/reports?page=2&per_page=1000"); an
   * absolute URL elsewhere is not followed, the credentials go to Mode's host only. */
  char *url = next[0] == '/' ? mode_asprintf("%s%s", d->cfg->host, next) : NULL;
  if (url == NULL) {
    fail_listing(d, l, "next_page is not a path on the workspace's host");
    return;
  }
  if (mode_strset_has(&l->asked, url))
    fail_listing(d, l, "next_page points back to a page already listed");
  else if (l->pages >= d->cfg->max_pages || (pages && l->pages >= strtol(pages, NULL, 10)))
    fail_listing(d, l, "a next_page link past total_pages or maxPages");
  else
    ask(d, l, url);
  free(url);
}

static int ask(struct mode_discovery *d, struct blisting *l, const char *url) {
  int added = mode_strset_add(&l->asked, url);
  if (added == 0) {
    fail_listing(d, l, "next_page points back to a page already listed");
    return -1;
  }
  if (added < 0 ||
      mode_fetch_get(d->fetch, url, l->spec, MODE_FETCH_LISTING, on_page, d, l) != 0) {
    fail_listing(d, l, "out of memory");
    return -1;
  }
  l->pages++;
  return 0;
}

static int by_report(const void *pa, const void *pb) {
  const struct item *a = pa, *b = pb;
  int c = strcmp(a->f[1] ? a->f[1] : "", b->f[1] ? b->f[1] : "");
  return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

static int by_token(const void *pa, const void *pb) {
  const struct item *a = pa, *b = pb;
  return strcmp(a->f[0], b->f[0]);
}

/* Sorts a listing's items; an empty listing (one not asked for has no array) is left alone:
 * qsort's pointer must not be NULL even for no items. */
static void sort_items(struct blisting *l, int (*cmp)(const void *, const void *)) {
  if (l->n > 0)
    qsort(l->items, l->n, sizeof *l->items, cmp);
}

/* The stamps: per report every field batch lists, then one over all of them. */
static int make_stamps(struct mode_discovery *d) {
  struct blisting *l = &d->l[LR];
  sort_items(l, by_token);
  d->stamps = calloc(l->n ? l->n : 1, 17);
  if (d->stamps == NULL)
    return -1;
  uint64_t all = mode_incr_hash(MODE_INCR_HASH_INIT, "mode-batch-1");
  for (size_t i = 0; i < l->n; i++) {
    uint64_t h = MODE_INCR_HASH_INIT;
    for (size_t k = 0; k < l->spec->n_fields; k++)
      h = mode_incr_hash(h, l->items[i].f[k]);
    mode_incr_hex(h, d->stamps + 17 * i);
    all = mode_incr_hash(mode_incr_hash(all, l->items[i].f[0]), d->stamps + 17 * i);
  }
  /* A collection renamed renames its reports' project: the spaces are in the stamp too. */
  struct blisting *s = &d->l[LS];
  sort_items(s, by_token);
  for (size_t i = 0; i < s->n; i++)
    for (size_t k = 0; k < s->spec->n_fields; k++)
      all = mode_incr_hash(all, s->items[i].f[k]);
  sort_items(&d->l[LST], by_token);
  mode_incr_hex(all, d->stamp);
  return 0;
}

int mode_discovery_run(struct mode_discovery *d, const atomic_int *interrupt, int *auth_refused,
                       char *err, size_t cap) {
  /* Collections and report stats serve incremental runs only (the batch stamp, and usage of the
   * reports an unchanged run retains): a full run's listings give names and view counts. */
  int n_listings = d->cfg->incremental ? N_LISTINGS : LS;
  *auth_refused = 0;
  for (int i = 0; i < n_listings; i++) {
    char *url = first_url(d, d->l[i].name);
    if (url == NULL || ask(d, &d->l[i], url) != 0) {
      free(url);
      snprintf(err, cap, "out of memory");
      return -1;
    }
    free(url);
  }
  for (;;) {
    if (interrupt && atomic_load(interrupt)) {
      snprintf(err, cap, "interrupted");
      return -1;
    }
    int left = mode_fetch_step(d->fetch, 100);
    if (left < 0) {
      snprintf(err, cap, "the HTTP engine failed");
      return -1;
    }
    if (left == 0)
      break;
  }
  *auth_refused = d->auth_refused;
  for (int i = 0; i < n_listings; i++)
    if (d->l[i].failed || !d->l[i].done) {
      snprintf(err, cap, "%s", d->err[0] ? d->err : "a listing did not finish");
      return -1;
    }
  sort_items(&d->l[LQ], by_report);
  sort_items(&d->l[LC], by_report);
  if (make_stamps(d) != 0) {
    snprintf(err, cap, "out of memory");
    return -1;
  }
  return 0;
}

/* The first item of report `token` in a listing sorted by_report, and how many follow. */
static const struct item *find_report(const struct blisting *l, const char *token, size_t *n) {
  size_t lo = 0, hi = l->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const char *rt = l->items[mid].f[1] ? l->items[mid].f[1] : "";
    if (strcmp(rt, token) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  size_t end = lo;
  while (end < l->n && l->items[end].f[1] && strcmp(l->items[end].f[1], token) == 0)
    end++;
  *n = end - lo;
  return *n ? &l->items[lo] : NULL;
}

/* The position of report `token` in the reports listing (sorted by token once run), or -1. */
static long report_at(const struct mode_discovery *d, const char *token) {
  const struct blisting *l = &d->l[LR];
  if (d->stamps == NULL)
    return -1;
  size_t lo = 0, hi = l->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(l->items[mid].f[0], token);
    if (c == 0)
      return (long)mid;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -1;
}

const char *mode_discovery_report_stamp(const struct mode_discovery *d, const char *token) {
  long at = report_at(d, token);
  return at < 0 ? NULL : d->stamps + 17 * at;
}

int mode_discovery_in_space(const struct mode_discovery *d, const char *token,
                            const char *space) {
  long at = report_at(d, token);
  const char *st = at < 0 ? NULL : d->l[LR].items[at].f[DR_SPACE];
  return st && space && strcmp(st, space) == 0;
}

const char *mode_discovery_creator_email(const struct mode_discovery *d, const char *token) {
  long at = report_at(d, token);
  const char *e = at < 0 ? NULL : d->l[LR].items[at].f[DR_EMAIL];
  return e && *e ? e : NULL;
}

long mode_discovery_space_count(const struct mode_discovery *d, const char *space) {
  long n = 0;
  for (size_t i = 0; i < d->l[LR].n && space; i++)
    n += d->l[LR].items[i].f[DR_SPACE] && strcmp(d->l[LR].items[i].f[DR_SPACE], space) == 0;
  return n;
}

const char *mode_discovery_stamp(const struct mode_discovery *d) { return d->stamp; }

long mode_discovery_views(const struct mode_discovery *d, const char *token) {
  const struct blisting *l = &d->l[LST];
  size_t lo = 0, hi = l->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(l->items[mid].f[0], token);
    if (c == 0) {
      const char *v = l->items[mid].f[1] ? l->items[mid].f[1] : l->items[mid].f[2];
      return v ? strtol(v, NULL, 10) : -1;
    }
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -1;
}

int mode_discovery_has_charts(const struct mode_discovery *d, const char *report,
                              const char *query) {
  size_t n = 0;
  const struct item *c = find_report(&d->l[LC], report, &n);
  for (size_t i = 0; i < n; i++)
    if (c[i].f[DC_QUERY] && strcmp(c[i].f[DC_QUERY], query) == 0)
      return 1;
  return 0;
}

int mode_discovery_fill(struct mode_discovery *d, struct mode_report *r) {
  if (mode_discovery_report_stamp(d, r->token) == NULL)
    return 0;
  size_t n = 0;
  struct item *q = (struct item *)find_report(&d->l[LQ], r->token, &n);
  r->queries = calloc(n ? n : 1, sizeof *r->queries);
  if (r->queries == NULL)
    return -1;
  for (size_t i = 0; i < n; i++) {
    struct mode_query *mq = &r->queries[r->n_queries++];
    mq->token = mode_strdup(q[i].f[DQ_TOKEN]);
    mq->name = mode_strdup(q[i].f[DQ_NAME]);
    /* Moved, not copied: each report is filled once, and the text then lives in one place. */
    mq->raw_query = q[i].f[DQ_RAW];
    q[i].f[DQ_RAW] = NULL;
    /* A token, not the regular API's numeric id: the crawl maps it when sources are in. */
    mq->data_source_id = mode_strdup(q[i].f[DQ_DS]);
    if (mq->token == NULL || (q[i].f[DQ_NAME] && !mq->name) ||
        (q[i].f[DQ_DS] && !mq->data_source_id))
      return -1;
    r->held += mq->raw_query ? strlen(mq->raw_query) : 0;
  }
  return 1;
}

int mode_discovery_fill_charts(const struct mode_discovery *d, struct mode_report *r) {
  size_t n = 0;
  const struct item *c = find_report(&d->l[LC], r->token, &n);
  r->charts = calloc(n ? n : 1, sizeof *r->charts);
  if (r->charts == NULL)
    return -1;
  for (size_t q = 0; q < r->n_queries; q++) {
    size_t pos = 0; /* batch's order within the query, as the charts endpoint's */
    for (size_t i = 0; i < n; i++) {
      if (c[i].f[DC_QUERY] == NULL || strcmp(c[i].f[DC_QUERY], r->queries[q].token) != 0)
        continue;
      struct mode_chart *ch = &r->charts[r->n_charts++];
      ch->token = mode_strdup(c[i].f[DC_TOKEN]);
      ch->title = mode_strdup(c[i].f[DC_TITLE]);
      ch->type = mode_strdup(c[i].f[DC_TYPE]);
      ch->viz_href = mode_strdup(c[i].f[DC_URL]);
      ch->query_name = mode_strdup(r->queries[q].name);
      ch->query_pos = q;
      ch->pos = pos++;
      if (ch->token == NULL || (c[i].f[DC_TITLE] && !ch->title) ||
          (c[i].f[DC_TYPE] && !ch->type) || (c[i].f[DC_URL] && !ch->viz_href) ||
          (r->queries[q].name && !ch->query_name))
        return -1;
    }
  }
  return 0;
}

struct probe {
  int done;
  long status, total;
  char detail[512];
};

static void on_probe(void *owner, void *arg, struct mode_fetch_result *res) {
  (void)arg;
  struct probe *p = owner;
  const char *pages = res->envelope ? mode_hal_get(res->envelope, ENV_PAGES) : NULL;
  p->done = 1;
  p->status = res->ok ? 200 : res->status ? res->status : -1;
  p->total = pages ? strtol(pages, NULL, 10) : -1;
  snprintf(p->detail, sizeof p->detail, "%s", res->ok && !res->list_seen ? "no reports list"
                                              : res->detail);
  if (res->ok && !res->list_seen)
    p->status = -1;
}

int mode_discovery_probe(struct mode_discovery *d, long *status, long *reports, char *err,
                         size_t cap) {
  struct probe p = {0};
  char *url = first_url(d, "reports");
  char *one = url ? mode_asprintf("%s", url) : NULL;
  /* One report a page: total_pages is then the number of reports. */
  char *at = one ? strstr(one, "per_page=1000") : NULL;
  if (at)
    memmove(at + strlen("per_page=1"), at + strlen("per_page=1000"),
            strlen(at + strlen("per_page=1000")) + 1);
  int rc = -1;
  if (at && mode_fetch_get(d->fetch, one, &r_spec, MODE_FETCH_URGENT, on_probe, &p, NULL) == 0) {
    while (!p.done && mode_fetch_step(d->fetch, 100) >= 0)
      ;
    rc = p.status == 200 ? 0 : -1;
  }
  *status = p.status;
  *reports = p.total;
  snprintf(err, cap, "%s", p.done ? p.detail : "out of memory");
  free(url), free(one);
  return rc;
}

const struct mode_fetch_stats *mode_discovery_stats(const struct mode_discovery *d) {
  return mode_fetch_stats(d->fetch);
}

void mode_discovery_free(struct mode_discovery **dp) {
  if (dp == NULL || *dp == NULL)
    return;
  struct mode_discovery *d = *dp;
  mode_fetch_free(&d->fetch, NULL);
  for (int i = 0; i < N_LISTINGS; i++) {
    items_free(&d->l[i]);
    mode_strset_clear(&d->l[i].asked);
    mode_strset_clear(&d->l[i].seen);
  }
  free(d->stamps);
  free(d);
  *dp = NULL;
}
