/*
 * Routing: the path is split into at most 8 segments after "/api/"; the shape of the segment
 * list picks the endpoint. Generated and fixture workspaces share the parser, so stats name
 * the same endpoint templates in both modes.
 */
#include "config.h"

#include "routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "render.h"
#include "shapes.h"

enum { MAX_SEGS = 8, PER_PAGE_MAX = 30 };

struct parsed {
  enum endpoint ep;
  const char *seg[MAX_SEGS];
  size_t nseg;
  char buf[512];
};

static int seg_is(const struct parsed *p, size_t i, const char *s) {
  return i < p->nseg && strcmp(p->seg[i], s) == 0;
}

/* Splits path and classifies it; ep is EP_UNKNOWN for anything else. */
static void parse(const char *path, struct parsed *p) {
  memset(p, 0, sizeof *p);
  p->ep = EP_UNKNOWN;
  if (strncmp(path, "/api/", 5) != 0 || strlen(path) >= sizeof p->buf)
    return;
  strcpy(p->buf, path + 5);
  char *save = NULL;
  for (char *s = strtok_r(p->buf, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
    if (p->nseg == MAX_SEGS) {
      p->nseg = 0;
      return;
    }
    p->seg[p->nseg++] = s;
  }
  size_t n = p->nseg;
  int spaces = seg_is(p, 1, "spaces") || seg_is(p, 1, "collections");
  int reports = seg_is(p, 1, "reports");
  if (n == 1)
    p->ep = seg_is(p, 0, "verify") ? EP_VERIFY : seg_is(p, 0, "account") ? EP_ACCOUNT : EP_USER;
  else if (n == 2 && seg_is(p, 1, "memberships"))
    p->ep = EP_MEMBERSHIPS;
  else if (n == 2 && spaces)
    p->ep = EP_SPACES;
  else if (n == 2 && seg_is(p, 1, "data_sources"))
    p->ep = EP_DATA_SOURCES;
  else if (n == 2 && seg_is(p, 1, "definitions"))
    p->ep = EP_DEFINITIONS;
  else if (n == 3 && spaces)
    p->ep = EP_SPACE;
  else if (n == 4 && spaces && seg_is(p, 3, "reports"))
    p->ep = EP_REPORTS;
  else if (n == 4 && spaces && seg_is(p, 3, "datasets"))
    p->ep = EP_DATASETS;
  else if (n == 3 && reports)
    p->ep = EP_REPORT;
  else if (n == 4 && reports && seg_is(p, 3, "queries"))
    p->ep = EP_QUERIES;
  else if (n == 5 && reports && seg_is(p, 3, "queries"))
    p->ep = EP_QUERY;
  else if (n == 6 && reports && seg_is(p, 3, "queries") && seg_is(p, 5, "charts"))
    p->ep = EP_CHARTS;
  else if (n == 4 && reports && seg_is(p, 3, "runs"))
    p->ep = EP_RUNS;
  else if (n == 5 && reports && seg_is(p, 3, "runs"))
    p->ep = EP_RUN;
  else if (n == 6 && reports && seg_is(p, 3, "runs") && seg_is(p, 5, "query_runs"))
    p->ep = EP_QUERY_RUNS;
}

static size_t param_num(const char *s, size_t dflt) {
  if (!s || !*s)
    return dflt;
  char *end;
  long long v = strtoll(s, &end, 10);
  return *end || v < 0 ? dflt : (size_t)v;
}

static void read_page(const struct route_req *req, struct render_page *pg) {
  pg->page = param_num(req->page, 1);
  pg->per_page = param_num(req->per_page, PER_PAGE_MAX);
  if (pg->per_page == 0 || pg->per_page > PER_PAGE_MAX)
    pg->per_page = PER_PAGE_MAX; /* Mode caps silently */
  if (pg->page == 0)
    pg->page = 1;
}

int route_finish(yajl_gen g, struct route_resp *resp, unsigned status) {
  const unsigned char *buf;
  size_t len;
  if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
    return -1;
  resp->body = malloc(len ? len : 1);
  if (!resp->body)
    return -1;
  memcpy(resp->body, buf, len);
  resp->len = len;
  resp->status = status;
  return 0;
}

int route_error(struct route_resp *resp, unsigned status, const char *id, const char *message) {
  yajl_gen g = yajl_gen_alloc(NULL);
  int rc = -1;
  if (g && render_error(g, id, message) == 0)
    rc = route_finish(g, resp, status);
  if (g)
    yajl_gen_free(g);
  return rc;
}

static int not_found(struct route_resp *resp, const char *what, const char *name) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s %s not found", what, name);
  return route_error(resp, 404, "not_found", msg);
}

/* ---- generated workspace ---- */

/* Finds the report of seg[2] (and query of seg[4]); 404s unknown ones and those the faults
 * say were deleted after listing. Returns 1 when answered with an error. */
static int find_report(const struct route_source *src, const struct parsed *p,
                       const struct sim_report **r, const struct sim_query **q,
                       struct route_resp *resp, int *rc) {
  *r = ws_report(src->ws, p->seg[2]);
  if (!*r || faults_gone(&src->cfg->faults, p->seg[2])) {
    *rc = not_found(resp, "report", p->seg[2]);
    return 1;
  }
  if (q && (p->ep == EP_QUERY || p->ep == EP_CHARTS)) {
    *q = ws_query(*r, p->seg[4]);
    if (!*q) {
      *rc = not_found(resp, "query", p->seg[4]);
      return 1;
    }
  }
  if ((p->ep == EP_RUN || p->ep == EP_QUERY_RUNS) && strcmp(p->seg[4], (*r)->run_token) != 0) {
    *rc = not_found(resp, "report run", p->seg[4]);
    return 1;
  }
  return 0;
}

static int render_generated(const struct route_source *src, const struct parsed *p,
                            const struct route_req *req, yajl_gen g, struct route_resp *resp,
                            int *answered) {
  const struct sim_workspace *ws = src->ws;
  const struct sim_report *r = NULL;
  const struct sim_query *q = NULL;
  const struct sim_space *s = NULL;
  struct render_page pg;
  int rc = 0;
  read_page(req, &pg);
  *answered = 0;
  switch (p->ep) {
  case EP_VERIFY:
    return render_verify(g, ws);
  case EP_ACCOUNT:
    return render_user(g, ws, &ws->users[0]);
  case EP_USER: {
    const struct sim_user *u = ws_user(ws, p->seg[0]);
    if (!u || !u->active) {
      *answered = 1;
      return not_found(resp, "user", p->seg[0]);
    }
    return render_user(g, ws, u);
  }
  case EP_WORKSPACE:
    return render_workspace(g, ws);
  case EP_MEMBERSHIPS:
    if (src->cfg->faults.memberships_status) { /* --faults memberships=STATUS */
      *answered = 1;
      return route_error(resp, src->cfg->faults.memberships_status, "memberships_refused",
                         "the memberships of this workspace cannot be listed");
    }
    return render_memberships(g, ws, &pg);
  case EP_SPACES:
    return render_spaces(g, ws, req->filter && strcmp(req->filter, "all") == 0, &pg);
  case EP_SPACE:
  case EP_REPORTS:
  case EP_DATASETS:
    s = ws_space(ws, p->seg[2]);
    if (!s) {
      *answered = 1;
      return not_found(resp, "space", p->seg[2]);
    }
    if (p->ep == EP_SPACE)
      return render_space(g, ws, s);
    if (faults_repeats(&src->cfg->faults, s->token))
      pg.page = 1;
    return render_space_reports(g, ws, s, p->ep == EP_DATASETS, &pg);
  case EP_DATA_SOURCES:
    return render_data_sources(g, ws);
  case EP_DEFINITIONS:
    return render_definitions(g, ws);
  default:
    break;
  }
  if (find_report(src, p, &r, &q, resp, &rc)) {
    *answered = 1;
    return rc;
  }
  switch (p->ep) {
  case EP_REPORT:
    return render_report(g, ws, r);
  case EP_QUERIES:
    return render_queries(g, ws, r);
  case EP_QUERY:
    return render_query(g, ws, r, q);
  case EP_CHARTS:
    return render_charts(g, ws, r, q);
  case EP_RUNS:
    return render_runs(g, ws, r);
  case EP_RUN:
    return render_run(g, ws, r);
  case EP_QUERY_RUNS:
    return render_query_runs(g, ws, r);
  default:
    return -1;
  }
}

/* ---- fixtures ---- */

/* The listing key of a paged endpoint, or NULL. */
static const char *listing_key(enum endpoint ep) {
  return ep == EP_SPACES ? "spaces" : ep == EP_REPORTS || ep == EP_DATASETS ? "reports" : NULL;
}

static int serve_fixture(const struct route_source *src, const struct parsed *p,
                         const struct route_req *req, struct route_resp *resp) {
  char key[600] = "/api/";
  const char *what = p->nseg == 1 ? "user" : "resource";
  if (p->nseg == 1) {
    snprintf(key, sizeof key, "/api/%s", p->seg[0]);
  } else {
    size_t len = strlen(strcat(key, "{ws}"));
    for (size_t i = 1; i < p->nseg && len < sizeof key - 1; i++) {
      const char *seg = i == 1 && seg_is(p, 1, "collections") ? "spaces" : p->seg[i];
      len += (size_t)snprintf(key + len, sizeof key - len, "/%s", seg);
    }
  }
  const char *lk = listing_key(p->ep);
  if (lk && param_num(req->page, 1) >= 2) { /* Mode's terminal page, as DataHub's mock */
    yajl_gen g = yajl_gen_alloc(NULL);
    int rc = g && render_empty_page(g, req->path, lk) == 0 ? route_finish(g, resp, 200) : -1;
    if (g)
      yajl_gen_free(g);
    return rc;
  }
  size_t len = 0;
  const char *body = fixtures_get(src->fx, key, &len);
  if (!body)
    return not_found(resp, what, req->path);
  resp->body = malloc(len ? len : 1);
  if (!resp->body)
    return -1;
  memcpy(resp->body, body, len);
  resp->len = len;
  resp->status = 200;
  return 0;
}

/* Answers from the generated workspace, through the cache. */
static int route_generated(const struct route_source *src, const struct parsed *p,
                           const struct route_req *req, struct route_resp *resp) {
  char key[700];
  struct render_page pg;
  read_page(req, &pg);
  snprintf(key, sizeof key, "%s\n%d\n%zu\n%zu", req->path,
           req->filter && strcmp(req->filter, "all") == 0, pg.page, pg.per_page);
  if (cache_get(key, &resp->status, &resp->body, &resp->len) == 0)
    return 0;
  yajl_gen g = yajl_gen_alloc(NULL);
  if (!g)
    return -1;
  int answered = 0;
  int rc = render_generated(src, p, req, g, resp, &answered);
  if (rc == 0 && !answered)
    rc = route_finish(g, resp, 200);
  yajl_gen_free(g);
  if (rc == 0)
    cache_put(key, resp->status, resp->body, resp->len);
  return rc;
}

/* endless-pages: a reports listing page past the real ones is served as the real page it
 * falls on (written into page_buf) with its tokens suffixed "-pN"; returns the suffix, or
 * NULL when the page is served as it is. */
static const char *endless_page(const struct route_source *src, const struct parsed *p,
                                const struct render_page *pg, char *page_buf, size_t page_len,
                                char *suffix, size_t suffix_len) {
  const struct sim_space *s = p->ep == EP_REPORTS ? ws_space(src->ws, p->seg[2]) : NULL;
  if (!src->cfg->faults.endless || s == NULL || s->nreports == 0)
    return NULL;
  size_t real = (s->nreports + pg->per_page - 1) / pg->per_page;
  if (pg->page <= real)
    return NULL;
  snprintf(page_buf, page_len, "%zu", (pg->page - 1) % real + 1);
  snprintf(suffix, suffix_len, "-p%zu", pg->page);
  return suffix;
}

enum endpoint route_endpoint(const char *path) {
  struct parsed p;
  parse(path, &p);
  return p.ep;
}

int route(const struct route_source *src, const struct route_req *req, struct route_resp *resp) {
  struct parsed p;
  memset(resp, 0, sizeof *resp);
  parse(req->path, &p);
  resp->endpoint = p.ep;
  if (p.ep == EP_UNKNOWN)
    return not_found(resp, "resource", req->path);
  if (p.ep == EP_USER && strcmp(p.seg[0], src->cfg->workspace) == 0)
    resp->endpoint = p.ep = EP_WORKSPACE;
  if (p.nseg > 1 && strcmp(p.seg[0], src->cfg->workspace) != 0)
    return not_found(resp, "workspace", p.seg[0]);
  if (src->fx)
    return serve_fixture(src, &p, req, resp);
  struct render_page pg;
  read_page(req, &pg);
  size_t asked = pg.page;
  struct route_req endless = *req;
  char page_buf[32], suffix[40];
  const char *sfx = endless_page(src, &p, &pg, page_buf, sizeof page_buf, suffix, sizeof suffix);
  if (sfx) {
    endless.page = page_buf;
    req = &endless;
  }
  int rc = route_generated(src, &p, req, resp);
  if (rc == 0 && resp->status == 200)
    rc = shapes_apply(&src->cfg->faults, p.ep, asked, sfx, &resp->body, &resp->len);
  return rc;
}
