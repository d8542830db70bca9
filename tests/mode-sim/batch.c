/*
 * batch.c -- the Discovery API over the generated workspace (see batch.h).
 *
 * Each endpoint walks the same sequence as the regular API's listings: spaces in their order
 * (personal ones only with include_spaces=all, as filter=all does for /spaces), each space's
 * reports then its datasets, each report's queries, each query's charts. Pages are cut out of
 * that sequence; the envelope carries `pagination` and `_links.next_page`/`prev_page` as
 * Mode's documentation shows. Where the documentation is silent (datasets: they are reports
 * in Mode's model, so they are listed with them; report_stats' view count: both documented
 * names are served) the regular API's values are used (docs/mode-sim.md).
 */
#include "config.h"

#include "batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

enum { BATCH_PER_PAGE_MAX = 1000 };

enum batch_kind { B_REPORTS, B_QUERIES, B_CHARTS, B_SPACES, B_STATS, B_NONE };
static const char *const kind_names[] = {"reports", "queries", "charts", "spaces",
                                         "report_stats"};

struct walk {
  const struct sim_workspace *ws;
  enum batch_kind kind;
  int all_spaces;
  int stale; /* --batch-fault stale */
  size_t from, to; /* items [from, to) are rendered */
  size_t n;        /* items seen so far */
  yajl_gen g;
  int err;
};

int batch_is(const char *path) { return strncmp(path, "/batch/", 7) == 0; }

static void s(struct walk *w, const char *v) {
  yajl_gen_status st = v ? yajl_gen_string(w->g, (const unsigned char *)v, strlen(v))
                         : yajl_gen_null(w->g);
  w->err |= st != yajl_gen_status_ok;
}

static void kv(struct walk *w, const char *k, const char *v) { s(w, k), s(w, v); }

static void kn(struct walk *w, const char *k, long long v) {
  s(w, k);
  w->err |= yajl_gen_integer(w->g, v) != yajl_gen_status_ok;
}

/* Whether item number w->n is on the page; advances the count. */
static int on_page(struct walk *w) {
  size_t i = w->n++;
  return i >= w->from && i < w->to;
}

static const char *email_of(const struct sim_workspace *ws, size_t user) {
  return user < ws->nusers ? ws->users[user].email : NULL;
}

static void report_item(struct walk *w, const struct sim_space *sp, const struct sim_report *r) {
  char url[160];
  snprintf(url, sizeof url, "/api/%s/reports/%s", w->ws->name, r->token);
  yajl_gen_map_open(w->g);
  kn(w, "id", r->id);
  kv(w, "token", r->token);
  kv(w, "name", r->name);
  kv(w, "description", r->description);
  kv(w, "created_at", r->created_at);
  kv(w, "edited_at", r->edited_at);
  kv(w, "updated_at", r->updated_at);
  kv(w, "last_successfully_run_at", r->last_run_at);
  kv(w, "last_viewed_at", NULL);
  kv(w, "last_run_at", r->last_run_at);
  kv(w, "last_run_token", r->last_run_at ? r->run_token : NULL);
  kv(w, "last_run_state", r->last_run_at ? "succeeded" : NULL);
  kv(w, "creator_email", email_of(w->ws, r->creator));
  kn(w, "space_id", sp->id);
  kv(w, "space_token", sp->token);
  kv(w, "report_url", url);
  yajl_gen_map_close(w->g);
}

static void stats_item(struct walk *w, const struct sim_report *r) {
  yajl_gen_map_open(w->g);
  kn(w, "report_id", r->id);
  kv(w, "report_token", r->token);
  kn(w, "active_schedules_count", 0);
  kn(w, "explorations_count", 0);
  kn(w, "total_views_count", r->view_count);
  kn(w, "view_count", r->view_count);
  const char *editor = email_of(w->ws, r->creator);
  s(w, "recent_manual_run_creators_emails"), yajl_gen_array_open(w->g), yajl_gen_array_close(w->g);
  s(w, "scheduled_run_creators_emails"), yajl_gen_array_open(w->g), yajl_gen_array_close(w->g);
  s(w, "editors_emails"), yajl_gen_array_open(w->g);
  if (editor)
    s(w, editor);
  yajl_gen_array_close(w->g);
  yajl_gen_map_close(w->g);
}

static void query_item(struct walk *w, const struct sim_space *sp, const struct sim_report *r,
                       const struct sim_query *q) {
  yajl_gen_map_open(w->g);
  kn(w, "id", q->id);
  kv(w, "token", q->token);
  kv(w, "name", q->name);
  kv(w, "raw_query", q->raw_query);
  kv(w, "creator_email", email_of(w->ws, r->creator));
  kv(w, "data_source_token",
     q->data_source < w->ws->ndata_sources ? w->ws->data_sources[q->data_source].token : NULL);
  kn(w, "report_id", r->id);
  kv(w, "report_token", r->token);
  kn(w, "space_id", sp->id);
  kv(w, "space_token", sp->token);
  yajl_gen_map_close(w->g);
}

static void chart_item(struct walk *w, const struct sim_space *sp, const struct sim_report *r,
                       const struct sim_query *q, size_t ci) {
  const struct sim_chart *c = &q->charts[ci];
  char url[200];
  snprintf(url, sizeof url, "/%s/reports/%s/viz/%s", w->ws->name, r->token, c->token);
  yajl_gen_map_open(w->g);
  /* Charts have no id of their own in the simulator: one derived from the query's. */
  kn(w, "id", q->id * 100 + (long long)ci);
  kv(w, "token", c->token);
  kv(w, "chart_type", c->chart_type);
  kv(w, "chart_title", c->title);
  kn(w, "query_id", q->id);
  kn(w, "report_id", r->id);
  kn(w, "space_id", sp->id);
  kv(w, "query_token", q->token);
  kv(w, "report_token", r->token);
  kv(w, "space_token", sp->token);
  kv(w, "report_creator_email", email_of(w->ws, r->creator));
  kv(w, "exploration_url", url);
  yajl_gen_map_close(w->g);
}

static void walk_report(struct walk *w, const struct sim_space *sp, const struct sim_report *r) {
  switch (w->kind) {
  case B_REPORTS:
    if (on_page(w))
      report_item(w, sp, r);
    break;
  case B_STATS: /* views are a report's: the regular API has no view count of a dataset */
    if (!r->is_dataset && on_page(w))
      stats_item(w, r);
    break;
  case B_QUERIES:
    for (size_t i = 0; i < r->nqueries; i++)
      if (on_page(w))
        query_item(w, sp, r, &r->queries[i]);
    break;
  case B_CHARTS:
    for (size_t i = 0; i < r->nqueries; i++)
      for (size_t j = 0; j < r->queries[i].ncharts; j++)
        if (on_page(w))
          chart_item(w, sp, r, &r->queries[i], j);
    break;
  default:
    break;
  }
}

/* Walks every item of the endpoint, rendering those of the page; w->n ends as the total. */
static void walk(struct walk *w) {
  for (size_t i = 0; i < w->ws->nspaces; i++) {
    const struct sim_space *sp = &w->ws->spaces[i];
    if (sp->personal && !w->all_spaces)
      continue;
    if (w->kind == B_SPACES) {
      if (!on_page(w))
        continue;
      char url[160];
      snprintf(url, sizeof url, "/api/%s/spaces/%s", w->ws->name, sp->token);
      yajl_gen_map_open(w->g);
      kn(w, "id", sp->id);
      kv(w, "token", sp->token);
      kv(w, "name", sp->name);
      kv(w, "description", sp->description);
      kv(w, "space_type", sp->personal ? "private" : "custom");
      kv(w, "space_url", url);
      yajl_gen_map_close(w->g);
      continue;
    }
    /* stale: batch has not caught up with each collection's last report (it is in the
     * regular listings, not in any batch endpoint). */
    size_t nr = sp->nreports;
    if (w->stale && nr > 0)
      nr--;
    for (size_t k = 0; k < nr; k++)
      walk_report(w, sp, &w->ws->reports[sp->reports[k]]);
    for (size_t k = 0; k < sp->ndatasets; k++)
      walk_report(w, sp, &w->ws->reports[sp->datasets[k]]);
  }
}

static void add_link(struct walk *w, const char *name, const char *ep, size_t page,
                     size_t per_page) {
  char href[256];
  snprintf(href, sizeof href, "/batch/%s/%s?page=%zu&per_page=%zu%s", w->ws->name, ep, page,
           per_page, w->all_spaces ? "&include_spaces=all" : "");
  s(w, name);
  yajl_gen_map_open(w->g);
  kv(w, "href", href);
  yajl_gen_map_close(w->g);
}

/* The page a page's next_page link names, 0 for none: the next while there is one; with
 * --batch-fault repeat the last page links to itself, with endless every page links on. */
static size_t next_page_of(const char *fault, size_t page, size_t asked, size_t pages) {
  if (page < pages)
    return page + 1;
  if (fault && strcmp(fault, "repeat") == 0 && pages > 1)
    return page; /* itself, as it was reached */
  if (fault && strcmp(fault, "endless") == 0)
    return asked + 1;
  return 0;
}

/* The paging envelope, the one writer of it for every endpoint: `pagination`, then (after the
 * caller's list, between envelope_open and envelope_close) `_links` with next_page (when
 * next > 0) and prev_page. */
static void envelope_open(struct walk *w, size_t asked, size_t per_page, size_t count,
                          size_t pages, size_t total) {
  yajl_gen_map_open(w->g);
  s(w, "pagination");
  yajl_gen_map_open(w->g);
  kn(w, "page", (long long)asked);
  kn(w, "per_page", (long long)per_page);
  kn(w, "count", (long long)count);
  kn(w, "total_pages", (long long)pages);
  kn(w, "total_count", (long long)total);
  yajl_gen_map_close(w->g);
}

static void envelope_close(struct walk *w, const char *ep, size_t next, size_t asked,
                           size_t per_page) {
  s(w, "_links");
  yajl_gen_map_open(w->g);
  if (next > 0)
    add_link(w, "next_page", ep, next, per_page);
  if (asked > 1)
    add_link(w, "prev_page", ep, asked - 1, per_page);
  yajl_gen_map_close(w->g);
  yajl_gen_map_close(w->g);
}

static int render_page(const struct sim_config *cfg, const struct sim_workspace *ws,
                       enum batch_kind kind, int all, size_t page, size_t per_page,
                       struct route_resp *resp) {
  /* A first walk counts the items, the second renders the page (the counts go first). */
  const char *fault = cfg->batch_fault;
  struct walk w = {.ws = ws, .kind = kind, .all_spaces = all,
                   .stale = fault && strcmp(fault, "stale") == 0};
  w.g = yajl_gen_alloc(NULL);
  if (w.g == NULL)
    return -1;
  walk(&w);
  size_t total = w.n, pages = total ? (total + per_page - 1) / per_page : 1;
  size_t asked = page;
  if (fault && strcmp(fault, "endless") == 0 && page > pages)
    page = pages; /* the last page again, with a link further on */
  size_t from = (page - 1) * per_page, count = from < total ? total - from : 0;
  if (count > per_page)
    count = per_page;
  w.n = 0;
  w.from = from;
  w.to = from + per_page;
  envelope_open(&w, asked, per_page, count, pages, total);
  s(&w, kind_names[kind]);
  yajl_gen_array_open(w.g);
  walk(&w);
  yajl_gen_array_close(w.g);
  envelope_close(&w, kind_names[kind], next_page_of(fault, page, asked, pages), asked, per_page);
  int rc = w.err ? -1 : route_finish(w.g, resp, 200);
  yajl_gen_free(w.g);
  return rc;
}

static int error(struct route_resp *resp, unsigned status, const char *id, const char *msg) {
  return route_error(resp, status, id, msg);
}

/* A positive integer parameter, or 0 when it is not one. */
static size_t positive(const char *v) {
  if (v == NULL || *v < '0' || *v > '9')
    return 0;
  char *end;
  unsigned long long n = strtoull(v, &end, 10);
  return *end || n > 1000000 ? 0 : (size_t)n;
}

/* Whether v is "YYYY-MM-DDTHH:mm" followed by anything (seconds, a zone): ISO 8601 as Mode's
 * documentation asks of expires_at. */
static int iso8601(const char *v) {
  static const char form[] = "dddd-dd-ddTdd:dd";
  if (v == NULL || strlen(v) < sizeof form - 1)
    return 0;
  for (size_t i = 0; i < sizeof form - 1; i++)
    if (form[i] == 'd' ? v[i] < '0' || v[i] > '9' : v[i] != form[i])
      return 0;
  return 1;
}

/* Why a signature_tokens body is not as Mode documents it (mode.com/help/articles/
 * discovery-api, "Authentication & Authorization"): `signature_token` a top-level object;
 * `name` a string of 4 to 64 characters; `expires_at` ISO 8601; `auth_scope` an object whose
 * only keys are `authentication_for` ("batch-api") and `authorization_type` ("read-only").
 * NULL when it is. */
static const char *mint_body_fault(const char *body) {
  const char *tk[] = {"signature_token", NULL}, *nm[] = {"name", NULL};
  const char *ex[] = {"expires_at", NULL}, *sc[] = {"auth_scope", NULL};
  yajl_val root = body ? yajl_tree_parse(body, NULL, 0) : NULL;
  yajl_val t = root ? yajl_tree_get(root, tk, yajl_t_object) : NULL;
  const char *why = NULL;
  if (t == NULL) {
    why = "the body must be JSON with a top-level signature_token object";
    goto out;
  }
  const char *name = YAJL_GET_STRING(yajl_tree_get(t, nm, yajl_t_string));
  yajl_val scope = yajl_tree_get(t, sc, yajl_t_object);
  if (name == NULL || strlen(name) < 4 || strlen(name) > 64)
    why = "name is required to be a string between 4-64 characters long";
  else if (!iso8601(YAJL_GET_STRING(yajl_tree_get(t, ex, yajl_t_string))))
    why = "expires_at must be in ISO8601 (YYYY-MM-DDTHH:mmZ) format";
  else if (scope == NULL)
    why = "auth_scope must be a JSON object";
  for (size_t i = 0; why == NULL && i < YAJL_GET_OBJECT(scope)->len; i++) {
    const char *k = YAJL_GET_OBJECT(scope)->keys[i];
    const char *v = YAJL_GET_STRING(YAJL_GET_OBJECT(scope)->values[i]);
    const char *want = strcmp(k, "authentication_for") == 0   ? "batch-api"
                       : strcmp(k, "authorization_type") == 0 ? "read-only"
                                                              : NULL;
    if (want == NULL)
      why = "authentication_for and authorization_type are the only valid keys of auth_scope";
    else if (v == NULL || strcmp(v, want) != 0)
      why = want[0] == 'b' ? "batch-api is the only valid value for authentication_for"
                           : "read-only is the only valid value for authorization_type";
  }
  if (why == NULL && YAJL_GET_OBJECT(scope)->len != 2)
    why = "auth_scope needs authentication_for and authorization_type";
out:
  yajl_tree_free(root);
  return why;
}

/* The signature token a POST mints: the simulator's configured discovery credentials. */
static int mint(const struct route_source *src, struct route_resp *resp) {
  struct walk w = {.ws = src->ws};
  w.g = yajl_gen_alloc(NULL);
  if (w.g == NULL)
    return -1;
  yajl_gen_map_open(w.g);
  kv(&w, "token", src->cfg->discovery_token);
  kv(&w, "name", "etlhost-batch");
  kv(&w, "access_key", src->cfg->discovery_key);
  kv(&w, "access_secret", src->cfg->discovery_secret);
  kv(&w, "authentication_for", "batch-api");
  kv(&w, "authorization_type", "read-only");
  yajl_gen_map_close(w.g);
  int rc = w.err ? -1 : route_finish(w.g, resp, 200);
  yajl_gen_free(w.g);
  return rc;
}

static int bearer_ok(const struct batch_req *req) {
  return req->authorization && strcmp(req->authorization, req->bearer_expected) == 0;
}

int batch_route(const struct route_source *src, const struct batch_req *req,
                struct route_resp *resp) {
  memset(resp, 0, sizeof *resp);
  resp->endpoint = EP_BATCH;
  char ws[128], ep[64];
  int n = sscanf(req->path, "/batch/%127[^/]/%63[^/?]", ws, ep);
  if (src->ws == NULL || n != 2 || strchr(req->path + 7 + strlen(ws) + 1, '/'))
    return error(resp, 404, "not_found", "resource not found");
  if (strcmp(ws, src->cfg->workspace) != 0)
    return error(resp, 404, "not_found", "Organization not found");
  if (strcmp(ep, "signature_tokens") == 0) {
    if (strcmp(req->method, "POST") != 0)
      return error(resp, 404, "not_found", "resource not found");
    /* Minted with the workspace admin's API key and secret, not with a signature token. */
    if (req->authorization == NULL || strcmp(req->authorization, req->basic_expected) != 0)
      return error(resp, 401, "unauthorized", "You must be authenticated to access this resource.");
    const char *why = mint_body_fault(req->body);
    if (why)
      return error(resp, 400, "bad_request", why);
    return mint(src, resp);
  }
  enum batch_kind kind = B_NONE;
  for (int k = 0; k < B_NONE; k++)
    if (strcmp(ep, kind_names[k]) == 0)
      kind = (enum batch_kind)k;
  if (kind == B_NONE || strcmp(req->method, "GET") != 0)
    return error(resp, 404, "not_found", "resource not found");
  if (!bearer_ok(req))
    return error(resp, 401, "unauthorized", "You must be authenticated to access this resource.");
  const char *pp = req->get_arg(req->ctx, "per_page"), *pg = req->get_arg(req->ctx, "page");
  const char *inc = req->get_arg(req->ctx, "include_spaces");
  size_t per_page = pp ? positive(pp) : BATCH_PER_PAGE_MAX, page = pg ? positive(pg) : 1;
  if (per_page == 0 || per_page > BATCH_PER_PAGE_MAX)
    return error(resp, 400, "bad_request", "per_page must be greater than 0 and at most 1000");
  if (page == 0)
    return error(resp, 400, "bad_request", "page must be a positive integer");
  if (inc && strcmp(inc, "all") != 0)
    return error(resp, 400, "bad_request", "include_spaces accepts only 'all'");
  if (per_page > src->cfg->batch_page_max)
    per_page = src->cfg->batch_page_max; /* --batch-page-max: pages smaller than asked */
  return render_page(src->cfg, src->ws, kind, inc != NULL, page, per_page, resp);
}
