/*
 * Rendering: one resolver maps a placeholder name to the value of the object being rendered.
 * Names shared by several objects ("name", "id", "created_at") are read from the object the
 * context's kind says is current; the enclosing objects (workspace, report, query) supply the
 * tokens that links interpolate.
 */
#include "config.h"

#include "render.h"

#include <stdio.h>
#include <string.h>

#include "templates.h"
#include "tpl.h"

enum kind { K_WS, K_USER, K_SPACE, K_REPORT, K_QUERY, K_CHART, K_DS, K_DEF, K_RUN, K_QRUN };

struct ctx {
  enum kind kind;
  const struct sim_workspace *ws;
  const struct sim_user *u;
  const struct sim_space *s;
  const struct sim_report *r;
  const struct sim_query *q;
  const struct sim_chart *c;
  const struct sim_data_source *d;
  const struct sim_definition *def;
};

enum tpl_id {
  T_VERIFY,
  T_USER,
  T_SPACE,
  T_REPORT,
  T_DATASET_ITEM,
  T_DATASET,
  T_QUERY,
  T_DATASET_QUERY,
  T_CHART,
  T_VIEW_VEGAS,
  T_DATA_SOURCE,
  T_DEFINITION,
  T_WORKSPACE,
  T_MEMBERSHIP,
  T_RUN,
  T_QUERY_RUN,
  T_VIEW_V1,
  T_COUNT
};

static const struct {
  const char *text, *name;
} SOURCES[T_COUNT] = {
    {sim_tpl_verify, "verify"},
    {sim_tpl_user, "user"},
    {sim_tpl_space, "space"},
    {sim_tpl_report, "report"},
    {sim_tpl_dataset_item, "dataset_item"},
    {sim_tpl_dataset, "dataset"},
    {sim_tpl_query, "query"},
    {sim_tpl_dataset_query, "dataset_query"},
    {sim_tpl_chart, "chart"},
    {sim_tpl_view_vegas, "view_vegas"},
    {sim_tpl_data_source, "data_source"},
    {sim_tpl_definition, "definition"},
    {sim_tpl_workspace, "workspace"},
    {sim_tpl_membership, "membership"},
    {sim_tpl_run, "run"},
    {sim_tpl_query_run, "query_run"},
    {sim_tpl_view_v1, "view_v1"},
};

static struct tpl *templates[T_COUNT]; /* owned; set by render_init */

int render_init(void) {
  char err[512];
  for (int i = 0; i < T_COUNT; i++)
    if (tpl_parse(SOURCES[i].text, SOURCES[i].name, &templates[i], err, sizeof err) != 0) {
      fprintf(stderr, "mode-sim: %s\n", err);
      render_cleanup();
      return -1;
    }
  return 0;
}

void render_cleanup(void) {
  for (int i = 0; i < T_COUNT; i++)
    tpl_free(&templates[i]);
}

static int gen_ok(yajl_gen_status st) {
  return st == yajl_gen_status_ok ? 0 : -1;
}

static int str(yajl_gen g, const char *s) {
  return gen_ok(yajl_gen_string(g, (const unsigned char *)s, strlen(s)));
}

static int render_tpl(yajl_gen g, enum tpl_id t, const struct ctx *c);

/* ---- values that are whole JSON subtrees ---- */

static int emit_imported_datasets(yajl_gen g, const void *vctx) {
  const struct ctx *c = vctx;
  if (gen_ok(yajl_gen_array_open(g)))
    return -1;
  if (c->r->imported_dataset >= 0) {
    const struct sim_report *d = &c->ws->reports[c->r->imported_dataset];
    char href[256];
    yajl_gen_map_open(g);
    str(g, "name");
    str(g, d->name);
    str(g, "token");
    str(g, d->token);
    str(g, "_links");
    yajl_gen_map_open(g);
    str(g, "report");
    yajl_gen_map_open(g);
    str(g, "href");
    snprintf(href, sizeof href, "/api/%s/reports/%s", c->ws->name, c->r->token);
    str(g, href);
    yajl_gen_map_close(g);
    str(g, "source_dataset");
    yajl_gen_map_open(g);
    str(g, "href");
    snprintf(href, sizeof href, "/api/%s/reports/%s", c->ws->name, d->token);
    str(g, href);
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
    str(g, "_forms");
    yajl_gen_map_open(g);
    str(g, "refresh");
    yajl_gen_map_open(g);
    str(g, "method");
    str(g, "post");
    str(g, "action");
    snprintf(href, sizeof href, "/api/%s/reports/%s/runs", c->ws->name, c->r->token);
    str(g, href);
    str(g, "input");
    yajl_gen_map_open(g);
    str(g, "dataset_tokens");
    yajl_gen_array_open(g);
    yajl_gen_map_open(g);
    str(g, "token");
    str(g, d->token);
    yajl_gen_map_close(g);
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
    if (gen_ok(yajl_gen_map_close(g)))
      return -1;
  }
  return gen_ok(yajl_gen_array_close(g));
}

static int emit_empty_map(yajl_gen g) {
  return gen_ok(yajl_gen_map_open(g)) || gen_ok(yajl_gen_map_close(g)) ? -1 : 0;
}

static int emit_view(yajl_gen g, const void *vctx) {
  const struct ctx *c = vctx;
  return c->c->view_version == 1 ? render_tpl(g, T_VIEW_V1, c) : emit_empty_map(g);
}

static int emit_view_vegas(yajl_gen g, const void *vctx) {
  const struct ctx *c = vctx;
  return c->c->view_version == 2 ? render_tpl(g, T_VIEW_VEGAS, c) : emit_empty_map(g);
}

/* ---- the resolver ---- */

static void set_str(struct tpl_value *v, const char *s) {
  if (s) {
    v->kind = TPL_STR;
    v->s = s;
  } else {
    v->kind = TPL_NULL;
  }
}

static void set_int(struct tpl_value *v, long long i) {
  v->kind = TPL_INT;
  v->i = i;
}

static void set_bool(struct tpl_value *v, int b) {
  v->kind = TPL_BOOL;
  v->i = b;
}

/* The fields every kind of object has, read from the object the context's kind names.
 * NULL strings are served as null; has_* says whether the kind has the field at all. */
struct common {
  const char *name, *created_at, *updated_at, *description;
  long long id;
  int has_name, has_id, has_description;
};

static void common_fields(const struct ctx *c, struct common *f) {
  memset(f, 0, sizeof *f);
  switch (c->kind) {
  case K_WS:
    f->created_at = c->ws->users[0].created_at;
    break;
  case K_USER:
    *f = (struct common){c->u->name, c->u->created_at, NULL, NULL, c->u->id, 1, 1, 0};
    break;
  case K_SPACE:
    *f = (struct common){c->s->name, NULL, NULL, c->s->description, c->s->id, 1, 1, 1};
    break;
  case K_REPORT:
  case K_RUN:
    *f = (struct common){c->r->name,
                         c->r->created_at,
                         c->r->updated_at,
                         c->r->description ? c->r->description : "",
                         c->r->id,
                         1,
                         1,
                         1};
    f->has_name = f->has_id = f->has_description = c->kind == K_REPORT;
    break;
  case K_QUERY:
  case K_QRUN:
    *f = (struct common){c->q->name, c->q->created_at, c->q->updated_at, NULL, c->q->id, 1, 1, 0};
    break;
  case K_CHART:
    *f = (struct common){NULL, c->c->created_at, c->q->updated_at, NULL, 0, 0, 0, 0};
    break;
  case K_DS:
    *f = (struct common){
        c->d->name, c->d->created_at, c->d->created_at, c->d->description, c->d->id, 1, 1, 1};
    break;
  case K_DEF:
    *f = (struct common){c->def->name,
                         c->def->created_at,
                         c->def->created_at,
                         c->def->description,
                         c->def->id,
                         1,
                         1,
                         1};
    break;
  }
}

/* Values whose meaning depends on the current object. */
static int resolve_common(const struct ctx *c, const char *n, struct tpl_value *v) {
  struct common f;
  common_fields(c, &f);
  if (strcmp(n, "name") == 0 && f.has_name)
    set_str(v, f.name);
  else if (strcmp(n, "id") == 0 && f.has_id)
    set_int(v, f.id);
  else if (strcmp(n, "created_at") == 0 && f.created_at)
    set_str(v, f.created_at);
  else if (strcmp(n, "updated_at") == 0 && f.updated_at)
    set_str(v, f.updated_at);
  else if (strcmp(n, "description") == 0 && f.has_description)
    set_str(v, f.description);
  else if (strcmp(n, "data_source_id") == 0 && (c->kind == K_DEF || c->q))
    set_int(v, c->ws->data_sources[c->kind == K_DEF ? c->def->data_source : c->q->data_source].id);
  else if (strcmp(n, "creator") == 0) {
    size_t u = c->kind == K_SPACE ? c->s->creator
               : c->kind == K_DEF ? c->def->creator
               : c->r             ? c->r->creator
                                  : 0;
    set_str(v, c->ws->users[u].username);
  } else
    return -1;
  return 0;
}

static int resolve_user(const struct ctx *c, const char *n, struct tpl_value *v) {
  const struct sim_user *u = c->u;
  if (strcmp(n, "username") == 0)
    set_str(v, u->username);
  else if (strcmp(n, "user_token") == 0)
    set_str(v, u->token);
  else if (strcmp(n, "email") == 0)
    set_str(v, u->email);
  else if (strcmp(n, "admin") == 0)
    set_bool(v, u->admin);
  else if (strcmp(n, "initials") == 0)
    set_str(v, u->initials);
  else
    return -1;
  return 0;
}

static int resolve_report(const struct ctx *c, const char *n, struct tpl_value *v) {
  const struct sim_report *r = c->r;
  if (strcmp(n, "report") == 0)
    set_str(v, r->token);
  else if (strcmp(n, "run") == 0)
    set_str(v, r->run_token);
  else if (strcmp(n, "space") == 0)
    set_str(v, c->ws->spaces[r->space].token);
  else if (strcmp(n, "space_name") == 0)
    set_str(v, c->ws->spaces[r->space].name);
  else if (strcmp(n, "published_at") == 0)
    set_str(v, NULL);
  else if (strcmp(n, "edited_at") == 0)
    set_str(v, r->edited_at);
  else if (strcmp(n, "last_saved_at") == 0)
    set_str(v, r->last_saved_at);
  else if (strcmp(n, "last_run_at") == 0)
    set_str(v, r->last_run_at);
  else if (strcmp(n, "last_success_at") == 0)
    set_str(v, r->last_success_at);
  else if (strcmp(n, "schedules_count") == 0)
    set_int(v, r->schedules_count);
  else if (strcmp(n, "archived") == 0)
    set_bool(v, r->archived);
  else if (strcmp(n, "query_count") == 0)
    set_int(v, (long long)r->nqueries);
  else if (strcmp(n, "max_query_count") == 0)
    set_int(v, 160);
  else if (strcmp(n, "chart_count") == 0)
    set_int(v, (long long)r->chart_count);
  else if (strcmp(n, "runs_count") == 0)
    set_int(v, r->runs_count);
  else if (strcmp(n, "view_count") == 0)
    set_int(v, r->view_count);
  else if (strcmp(n, "switch_view_token") == 0)
    set_str(v, r->run_token);
  else if (strcmp(n, "imported_datasets") == 0) {
    v->kind = TPL_EMIT;
    v->emit = emit_imported_datasets;
  } else
    return -1;
  return 0;
}

static int resolve_query(const struct ctx *c, const char *n, struct tpl_value *v) {
  const struct sim_query *q = c->q;
  if (strcmp(n, "query") == 0)
    set_str(v, q->token);
  else if (strcmp(n, "raw_query") == 0)
    set_str(v, q->raw_query);
  else if (strcmp(n, "rendered_source") == 0)
    set_str(v, q->rendered);
  else if (strcmp(n, "last_run_id") == 0)
    set_int(v, 1897576958LL + q->id);
  else if (strcmp(n, "query_run") == 0)
    set_str(v, q->run_token);
  else
    return -1;
  return 0;
}

static int resolve_chart(const struct ctx *c, const char *n, struct tpl_value *v) {
  const struct sim_chart *ch = c->c;
  if (strcmp(n, "chart") == 0)
    set_str(v, ch->token);
  else if (strcmp(n, "title") == 0)
    set_str(v, ch->title);
  else if (strcmp(n, "chart_type") == 0)
    set_str(v, ch->chart_type);
  else if (strcmp(n, "chart_description") == 0)
    set_str(v, NULL);
  else if (strcmp(n, "field") == 0)
    set_str(v, ch->field);
  else if (strcmp(n, "view_version") == 0)
    set_int(v, ch->view_version);
  else if (strcmp(n, "view") == 0) {
    v->kind = TPL_EMIT;
    v->emit = emit_view;
  } else if (strcmp(n, "view_vegas") == 0) {
    v->kind = TPL_EMIT;
    v->emit = emit_view_vegas;
  } else
    return -1;
  return 0;
}

static int resolve_space(const struct ctx *c, const char *n, struct tpl_value *v) {
  const struct sim_space *s = c->s;
  if (strcmp(n, "space") == 0)
    set_str(v, s->token);
  else if (strcmp(n, "space_type") == 0)
    set_str(v, s->personal ? "private" : "custom");
  else if (strcmp(n, "restricted") == 0)
    set_bool(v, 0); /* Mode answers false even for restricted collections (DataHub #11081) */
  else if (strcmp(n, "free_default") == 0)
    set_bool(v, 0);
  else if (strcmp(n, "default_access_level") == 0)
    set_str(v, s->personal ? "view" : s->restricted ? "restricted" : "edit");
  else
    return -1;
  return 0;
}

static int resolve_ds(const struct ctx *c, const char *n, struct tpl_value *v) {
  const struct sim_data_source *d = c->d;
  if (strcmp(n, "ds_token") == 0)
    set_str(v, d->token);
  else if (strcmp(n, "adapter") == 0)
    set_str(v, d->adapter);
  else if (strcmp(n, "database") == 0)
    set_str(v, d->database);
  else if (strcmp(n, "host") == 0)
    set_str(v, d->host);
  else if (strcmp(n, "vendor") == 0)
    set_str(v, d->vendor);
  else if (strcmp(n, "port") == 0)
    set_int(v, d->port);
  else
    return -1;
  return 0;
}

static int resolve_def(const struct ctx *c, const char *n, struct tpl_value *v) {
  const struct sim_definition *d = c->def;
  if (strcmp(n, "def_token") == 0)
    set_str(v, d->token);
  else if (strcmp(n, "source") == 0)
    set_str(v, d->source);
  else if (strcmp(n, "last_saved_at") == 0)
    set_str(v, d->created_at);
  else if (strcmp(n, "def_last_run") == 0)
    set_str(v, "");
  else
    return -1;
  return 0;
}

static int resolve(const void *vctx, const char *name, size_t len, struct tpl_value *v) {
  const struct ctx *c = vctx;
  char n[64];
  if (len >= sizeof n)
    return -1;
  memcpy(n, name, len);
  n[len] = '\0';
  if (strcmp(n, "ws") == 0) {
    set_str(v, c->ws->name);
    return 0;
  }
  if (strcmp(n, "workspace_token") == 0) {
    set_str(v, c->ws->token);
    return 0;
  }
  if (strcmp(n, "account_id") == 0) {
    set_int(v, c->ws->account_id);
    return 0;
  }
  if (strcmp(n, "ws_name") == 0) {
    set_str(v, c->ws->name);
    return 0;
  }
  if (strcmp(n, "members_count") == 0) {
    set_int(v, (long long)c->ws->nusers);
    return 0;
  }
  if (resolve_common(c, n, v) == 0)
    return 0;
  if (c->u && resolve_user(c, n, v) == 0)
    return 0;
  if (c->c && resolve_chart(c, n, v) == 0)
    return 0;
  if (c->q && resolve_query(c, n, v) == 0)
    return 0;
  if (c->r && resolve_report(c, n, v) == 0)
    return 0;
  if (c->s && resolve_space(c, n, v) == 0)
    return 0;
  if (c->d && resolve_ds(c, n, v) == 0)
    return 0;
  if (c->def && resolve_def(c, n, v) == 0)
    return 0;
  return -1;
}

static int render_tpl(yajl_gen g, enum tpl_id t, const struct ctx *c) {
  struct tpl_resolver r = {resolve, c};
  return tpl_render(templates[t], g, &r);
}

/* ---- listings ---- */

/* Opens {"_links":{"self":{"href":self}},"_embedded":{key:[ */
static int list_open(yajl_gen g, const char *self, const char *key) {
  if (gen_ok(yajl_gen_map_open(g)) || str(g, "_links") || gen_ok(yajl_gen_map_open(g)) ||
      str(g, "self") || gen_ok(yajl_gen_map_open(g)) || str(g, "href") || str(g, self) ||
      gen_ok(yajl_gen_map_close(g)) || gen_ok(yajl_gen_map_close(g)) || str(g, "_embedded") ||
      gen_ok(yajl_gen_map_open(g)) || str(g, key))
    return -1;
  return gen_ok(yajl_gen_array_open(g));
}

static int list_close(yajl_gen g) {
  if (gen_ok(yajl_gen_array_close(g)) || gen_ok(yajl_gen_map_close(g)))
    return -1;
  return gen_ok(yajl_gen_map_close(g));
}

int render_empty_page(yajl_gen g, const char *self, const char *key) {
  return list_open(g, self, key) || list_close(g) ? -1 : 0;
}

int render_error(yajl_gen g, const char *id, const char *message) {
  if (gen_ok(yajl_gen_map_open(g)) || str(g, "id") || str(g, id) || str(g, "message") ||
      str(g, message))
    return -1;
  return gen_ok(yajl_gen_map_close(g));
}

int render_verify(yajl_gen g, const struct sim_workspace *ws) {
  struct ctx c = {.kind = K_WS, .ws = ws};
  return render_tpl(g, T_VERIFY, &c);
}

int render_user(yajl_gen g, const struct sim_workspace *ws, const struct sim_user *u) {
  struct ctx c = {.kind = K_USER, .ws = ws, .u = u};
  return render_tpl(g, T_USER, &c);
}

int render_workspace(yajl_gen g, const struct sim_workspace *ws) {
  struct ctx c = {.kind = K_WS, .ws = ws};
  return render_tpl(g, T_WORKSPACE, &c);
}

static void page_slice(const struct render_page *pg, size_t n, size_t *from, size_t *to);

int render_memberships(yajl_gen g, const struct sim_workspace *ws, const struct render_page *pg) {
  char self[256];
  snprintf(self, sizeof self, "/api/%s/memberships", ws->name);
  size_t n = 0, from, to;
  for (size_t i = 0; i < ws->nusers; i++)
    n += ws->users[i].active != 0;
  page_slice(pg, n, &from, &to); /* paged like every listing: active members in order */
  if (list_open(g, self, "memberships"))
    return -1;
  for (size_t i = 0, k = 0; i < ws->nusers; i++) {
    if (!ws->users[i].active)
      continue;
    struct ctx c = {.kind = K_USER, .ws = ws, .u = &ws->users[i]};
    if (k >= from && k < to && render_tpl(g, T_MEMBERSHIP, &c))
      return -1;
    k++;
  }
  return list_close(g);
}

/* The slice [*from, *to) of n items that page pg selects. */
static void page_slice(const struct render_page *pg, size_t n, size_t *from, size_t *to) {
  size_t start = (pg->page - 1) * pg->per_page;
  if (pg->page == 0 || start >= n || start / pg->per_page != pg->page - 1) {
    *from = *to = 0;
    return;
  }
  *from = start;
  *to = n - start < pg->per_page ? n : start + pg->per_page;
}

int render_space(yajl_gen g, const struct sim_workspace *ws, const struct sim_space *s) {
  struct ctx c = {.kind = K_SPACE, .ws = ws, .s = s};
  return render_tpl(g, T_SPACE, &c);
}

int render_spaces(yajl_gen g, const struct sim_workspace *ws, int personal,
                  const struct render_page *pg) {
  char self[256];
  snprintf(self, sizeof self, "/api/%s/collections", ws->name);
  size_t n = 0;
  while (n < ws->nspaces && (personal || !ws->spaces[n].personal))
    n++; /* custom spaces come first */
  size_t from, to;
  page_slice(pg, n, &from, &to);
  if (list_open(g, self, "spaces"))
    return -1;
  for (size_t i = from; i < to; i++)
    if (render_space(g, ws, &ws->spaces[i]))
      return -1;
  return list_close(g);
}

int render_space_reports(yajl_gen g, const struct sim_workspace *ws, const struct sim_space *s,
                         int datasets, const struct render_page *pg) {
  char self[256];
  snprintf(self, sizeof self, "/api/%s/collections/%s/reports", ws->name, s->token);
  const size_t *items = datasets ? s->datasets : s->reports;
  size_t from, to;
  page_slice(pg, datasets ? s->ndatasets : s->nreports, &from, &to);
  if (list_open(g, self, "reports"))
    return -1;
  for (size_t i = from; i < to; i++) {
    struct ctx c = {.kind = K_REPORT, .ws = ws, .r = &ws->reports[items[i]]};
    if (render_tpl(g, datasets ? T_DATASET_ITEM : T_REPORT, &c))
      return -1;
  }
  return list_close(g);
}

int render_report(yajl_gen g, const struct sim_workspace *ws, const struct sim_report *r) {
  struct ctx c = {.kind = K_REPORT, .ws = ws, .r = r};
  return render_tpl(g, r->is_dataset ? T_DATASET : T_REPORT, &c);
}

int render_query(yajl_gen g, const struct sim_workspace *ws, const struct sim_report *r,
                 const struct sim_query *q) {
  struct ctx c = {.kind = K_QUERY, .ws = ws, .r = r, .q = q};
  return render_tpl(g, r->is_dataset ? T_DATASET_QUERY : T_QUERY, &c);
}

int render_queries(yajl_gen g, const struct sim_workspace *ws, const struct sim_report *r) {
  char self[256];
  snprintf(self, sizeof self, "/api/%s/reports/%s/queries", ws->name, r->token);
  if (list_open(g, self, "queries"))
    return -1;
  for (size_t i = 0; i < r->nqueries; i++)
    if (render_query(g, ws, r, &r->queries[i]))
      return -1;
  return list_close(g);
}

int render_charts(yajl_gen g, const struct sim_workspace *ws, const struct sim_report *r,
                  const struct sim_query *q) {
  char self[256];
  snprintf(self, sizeof self, "/api/%s/reports/%s/queries/%s/charts", ws->name, r->token, q->token);
  if (list_open(g, self, "charts"))
    return -1;
  for (size_t i = 0; i < q->ncharts; i++) {
    struct ctx c = {.kind = K_CHART, .ws = ws, .r = r, .q = q, .c = &q->charts[i]};
    if (render_tpl(g, T_CHART, &c))
      return -1;
  }
  return list_close(g);
}

int render_data_sources(yajl_gen g, const struct sim_workspace *ws) {
  char self[256];
  snprintf(self, sizeof self, "/api/%s/data_sources", ws->name);
  if (list_open(g, self, "data_sources"))
    return -1;
  for (size_t i = 0; i < ws->ndata_sources; i++) {
    struct ctx c = {.kind = K_DS, .ws = ws, .d = &ws->data_sources[i]};
    if (render_tpl(g, T_DATA_SOURCE, &c))
      return -1;
  }
  return list_close(g);
}

int render_definitions(yajl_gen g, const struct sim_workspace *ws) {
  char self[256];
  snprintf(self, sizeof self, "/api/%s/definitions", ws->name);
  if (list_open(g, self, "definitions"))
    return -1;
  for (size_t i = 0; i < ws->ndefinitions; i++) {
    struct ctx c = {.kind = K_DEF, .ws = ws, .def = &ws->definitions[i]};
    if (render_tpl(g, T_DEFINITION, &c))
      return -1;
  }
  /* The recorded listing also carries the form to create a definition. */
  if (gen_ok(yajl_gen_array_close(g)) || gen_ok(yajl_gen_map_close(g)) || str(g, "_forms") ||
      gen_ok(yajl_gen_map_open(g)) || str(g, "create") || gen_ok(yajl_gen_map_open(g)) ||
      str(g, "method") || str(g, "post") || str(g, "action") || str(g, self) ||
      gen_ok(yajl_gen_map_close(g)) || gen_ok(yajl_gen_map_close(g)))
    return -1;
  return gen_ok(yajl_gen_map_close(g));
}

int render_run(yajl_gen g, const struct sim_workspace *ws, const struct sim_report *r) {
  struct ctx c = {.kind = K_RUN, .ws = ws, .r = r};
  return render_tpl(g, T_RUN, &c);
}

int render_runs(yajl_gen g, const struct sim_workspace *ws, const struct sim_report *r) {
  char self[256];
  snprintf(self, sizeof self, "/api/%s/reports/%s/runs", ws->name, r->token);
  if (list_open(g, self, "report_runs") || render_run(g, ws, r))
    return -1;
  return list_close(g);
}

int render_query_runs(yajl_gen g, const struct sim_workspace *ws, const struct sim_report *r) {
  char self[256];
  snprintf(self, sizeof self, "/api/%s/reports/%s/runs/%s/query_runs", ws->name, r->token,
           r->run_token);
  if (list_open(g, self, "query_runs"))
    return -1;
  for (size_t i = 0; i < r->nqueries; i++) {
    struct ctx c = {.kind = K_QRUN, .ws = ws, .r = r, .q = &r->queries[i]};
    if (render_tpl(g, T_QUERY_RUN, &c))
      return -1;
  }
  return list_close(g);
}
