/*
 * crawl.c -- the fetch plan and the assembly of entities (see crawl.h).
 *
 * Each request carries a struct req_arg saying what it is for; its callback stores what came
 * back and, when a report has nothing left outstanding (queries, charts, its creator, and the
 * workspace's data sources and definitions), the report is turned into entities, queued, and
 * forgotten except for its token.
 *
 * Incremental runs (cfg->incremental, see incremental.h): a report whose listing stamp equals
 * the previous run's is not fetched once the workspace stamp (settings, data sources,
 * definitions) is known to be unchanged; until then it waits in the window as a candidate.
 * Its previous entities are retained instead. The new map goes out as the last entity.
 */
#include "config.h"

#include "crawl.h"

#include <etl/plugin.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "adapters.h"
#include "assemble.h"
#include "discovery.h"
#include "fetch.h"
#include "incremental.h"
#include "mint.h"
#include "owners.h"
#include "pager.h"
#include "plugin/sql/sql_lineage.h"
#include "util.h"

/* ---- what we read from each body ------------------------------------------------------- */

static const char *const space_fields[] = {"token", "name", "space_type", "restricted",
                                           "default_access_level"};
enum { SP_TOKEN, SP_NAME, SP_TYPE, SP_RESTRICTED, SP_ACCESS };
static const char *const report_fields[] = {"token",
                                            "name",
                                            "description",
                                            "archived",
                                            "chart_count",
                                            "view_count",
                                            "_links.creator.href",
                                            "_links.share.href",
                                            "_links.web.href",
                                            "imported_datasets[].token",
                                            "updated_at",
                                            "last_saved_at",
                                            "edited_at",
                                            "query_count",
                                            "created_at",
                                            "last_run_at",
                                            "last_successfully_run_at",
                                            "schedules_count"};
enum {
  RP_TOKEN,
  RP_NAME,
  RP_DESC,
  RP_ARCHIVED,
  RP_CHARTS,
  RP_VIEWS,
  RP_CREATOR,
  RP_SHARE,
  RP_WEB,
  RP_IMPORTED,
  RP_UPDATED,
  RP_SAVED,
  RP_EDITED,
  RP_QUERIES,
  RP_CREATED,
  RP_LAST_RUN,
  RP_LAST_SUCCESS,
  RP_SCHEDULES
};
static const char *const query_fields[] = {"token", "name", "raw_query", "data_source_id"};
enum { Q_TOKEN, Q_NAME, Q_RAW, Q_DS };
static const char *const chart_fields[] = {"token",
                                           "view_vegas.title",
                                           "view_vegas.chartType",
                                           "view.selectedChart",
                                           "view_vegas.description",
                                           "_links.report_viz_web.href",
                                           "view.chartTitle",
                                           "view.chartDescription",
                                           "view_vegas.**.formula",
                                           "view.**.column",
                                           "view.**.columns[]"};
enum {
  C_TOKEN,
  C_TITLE,
  C_TYPE,
  C_TYPE_V1,
  C_DESC,
  C_VIZ,
  C_TITLE_V1,
  C_DESC_V1,
  C_FORMULAS,
  C_COLUMN_V1,
  C_COLUMNS_V1
};
static const char *const source_fields[] = {"id",       "token",
                                            "name",     "adapter",
                                            "database", "bigquery_project_id",
                                            "host"};
enum { DS_ID, DS_TOKEN, DS_NAME, DS_ADAPTER, DS_DATABASE, DS_PROJECT, DS_HOST };
static const char *const definition_fields[] = {"name", "source"};
static const char *const user_fields[] = {"username", "name", "email"};
/* Mode's Workspace Membership object (api-reference/management/workspace-memberships): who is a
 * member, no name and no email. */
static const char *const member_fields[] = {"member_username", "state"};

#define SPEC(list, f)                                                                              \
  { list, f, sizeof f / sizeof f[0] }
static const struct mode_hal_spec spaces_spec = SPEC("spaces", space_fields);
static const struct mode_hal_spec reports_spec = SPEC("reports", report_fields);
static const struct mode_hal_spec queries_spec = SPEC("queries", query_fields);
static const struct mode_hal_spec charts_spec = SPEC("charts", chart_fields);
static const struct mode_hal_spec sources_spec = SPEC("data_sources", source_fields);
static const struct mode_hal_spec definitions_spec = SPEC("definitions", definition_fields);
static const struct mode_hal_spec user_spec = SPEC(NULL, user_fields);
static const struct mode_hal_spec members_spec = SPEC("memberships", member_fields);

/* ---- state ------------------------------------------------------------------------------ */

enum listing_kind { L_SPACES, L_REPORTS, L_DATASETS, L_MEMBERS };

/* A collection's two listings (reports, datasets) against what batch says the collection
 * holds. Mode's listings are paged until an empty page because a short page may not be the
 * last; with batch, a collection's listings may stop on a short page once they have shown
 * every item batch lists in it, and shown nothing batch does not place there. Batch lists
 * datasets with reports (mode-sim) or not (Mode does not say): so the listing that reaches its
 * short page first waits (held) for its sibling's, and when both have and batch's items are
 * still not all seen, or anything disagrees, both page on to the empty page as without batch. */
struct space_check {
  int refs;               /* listings pointing here */
  int open;               /* listings not finished */
  int disagree;           /* a listed item batch does not place in this collection */
  long batch_count;       /* items batch places here */
  struct mode_strset seen; /* tokens the listings showed */
  struct listing *held;   /* a listing waiting at its short page, in crawl->held */
};

struct listing {
  enum listing_kind kind;
  struct mode_pager pager;
  char *space_token;        /* owned; NULL for the spaces listing */
  char *space_name;         /* owned */
  struct space_check *check; /* shared with its sibling; NULL without batch */
  struct listing *next;     /* in crawl->parked or crawl->held */
};

enum req_kind { R_LISTING, R_SOURCES, R_DEFS, R_QUERIES, R_CHARTS, R_USER };

struct req_arg {
  enum req_kind kind;
  struct listing *listing;    /* R_LISTING */
  struct mode_report *report; /* R_QUERIES, R_CHARTS */
  char *query_token;          /* R_CHARTS, owned */
  char *query_name;           /* R_CHARTS, owned */
  char *username;             /* R_USER, owned */
};

struct mode_crawl {
  const struct mode_config *cfg;
  struct mode_crawl_hooks hooks;
  const atomic_int *interrupt;
  char *service; /* owned */
  struct mode_fetch *fetch;
  struct mode_fetch_stats reported; /* stats already passed to the host */
  int started;
  int sources_done, defs_done;
  struct sql_definitions *defs;
  struct mode_data_source *sources;
  size_t n_sources;
  struct mode_owners owners;
  struct mode_strset seen_reports;
  struct mode_assembler assembler; /* turns complete reports into entities */
  struct sql_cancel sql_cancel;    /* stop_requested, for SQL rendering and lineage */
  struct mode_report *active;      /* reports in progress */
  int n_active, max_active;
  struct listing *parked; /* listings waiting for the active window to shrink */
  struct listing *held;   /* listings waiting at a short page (struct space_check) */
  long short_ends;        /* listings ended on a short page, batch agreeing */
  /* Memory follows bytes, not reports (issue 14: reports with 4 MB queries waiting for a
   * stalled creator lookup piled up to 650 MB). held_bytes is the query text held by active
   * reports; while it is over MODE_CRAWL_HELD_MAX, or `concurrency` queries requests are out
   * (queries_out), a new report's queries wait (r->deferred) and listings park. */
  size_t held_bytes;
  int queries_out, n_deferred;
  struct mode_entity *out_head, *out_tail;
  int fatal;
  int done;
  /* A 404 on data sources or definitions before the collections listing has answered is most
   * likely the workspace itself missing: its warning is held until the listing shows the
   * workspace exists, so that a wrong workspaceName gives one error, not three messages. */
  int workspace_seen;
  int n_held;
  char held_item[2][16], held_msg[2][768];
  /* Incremental runs (NULL incr otherwise): reports whose stamp is unchanged are retained
   * once the workspace stamp (config, data sources, definitions) is known to be unchanged. */
  struct mode_incr *incr;    /* borrowed from the plugin instance */
  uint64_t config_hash;      /* of the settings, from the plugin */
  uint64_t sources_hash, defs_hash;
  char global_stamp[17];
  int global_known, global_same;
  int incr_unsure; /* a workspace-wide list failed: retain nothing, store no state */
  int incr_lost;   /* an item was lost: store no state (the next run is full for it) */
  int recording;   /* the entities emitted now belong to the report being recorded */
  int state_sent;
  /* Discovery API (discovery.h): queries and charts come from batch when disc_ok; with
   * shortcut, an incremental run whose batch stamp is unchanged waits for the workspace
   * stamp before listing anything (resolve_candidates). */
  struct mode_fetch_opts fetch_opts; /* what c->fetch was made with, for the batch engine */
  struct mode_discovery *disc;       /* owned, NULL without discovery keys */
  int disc_ok, shortcut;
  /* With batch, a creator who is an active member of the workspace (GET /memberships) takes
   * the e-mail batch gives their report (`creator_email`) instead of GET /api/{user}; until the
   * memberships listing is done, creators wait (need_user). */
  int members_wanted, members_done;
  struct mode_strset members; /* active members' usernames */
};

/* Query text active reports may hold before new reports wait; with the queries requests out
 * (at most `concurrency`, each up to maxBodyBytes) this bounds the crawl's memory. Thousands
 * of ordinary reports fit: only big queries ever wait. */
#define MODE_CRAWL_HELD_MAX ((size_t)32 << 20)

/* ---- helpers ---------------------------------------------------------------------------- */

static void diagf(struct mode_crawl *c, int sev, unsigned flags, const char *item, const char *fmt,
                  ...) __attribute__((format(printf, 5, 6)));
static void diagf(struct mode_crawl *c, int sev, unsigned flags, const char *item, const char *fmt,
                  ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (flags & ETL_DIAG_ITEM_LOST)
    c->incr_lost = 1;
  if (c->hooks.diag)
    c->hooks.diag(c->hooks.ctx, sev, flags, item, msg);
}

static void set_fatal(struct mode_crawl *c, int status) {
  if (c->fatal == 0)
    c->fatal = status;
}

static void oom(struct mode_crawl *c) {
  diagf(c, ETL_SEV_ERROR, 0, NULL, "out of memory");
  set_fatal(c, ETL_ERR_NOMEM);
}

static char *ws_url(struct mode_crawl *c, const char *tail) {
  return mode_api_url(c->cfg->host, c->cfg->workspace, tail);
}

static void arg_free(struct req_arg *a) {
  if (a == NULL)
    return;
  free(a->query_token);
  free(a->query_name);
  free(a->username);
  free(a);
}

static int request(struct mode_crawl *c, const char *url, const struct mode_hal_spec *spec,
                   enum mode_fetch_priority prio, struct req_arg *a);

static void listing_free(struct listing *l) {
  if (l == NULL)
    return;
  if (l->check && --l->check->refs == 0) {
    mode_strset_clear(&l->check->seen);
    free(l->check);
  }
  mode_pager_free(&l->pager);
  free(l->space_token);
  free(l->space_name);
  free(l);
}

static void report_free(struct mode_report *r) {
  if (r == NULL)
    return;
  free(r->token), free(r->name), free(r->description), free(r->space_name), free(r->creator);
  free(r->share_href), free(r->web_href), free(r->stamp);
  free(r->created_at), free(r->last_saved_at), free(r->last_run_at), free(r->last_success_at);
  for (size_t i = 0; i < r->n_imported; i++)
    free(r->imported[i]);
  free(r->imported);
  for (size_t i = 0; i < r->n_queries; i++) {
    struct mode_query *q = &r->queries[i];
    free(q->token), free(q->name), free(q->raw_query), free(q->data_source_id);
  }
  free(r->queries);
  for (size_t i = 0; i < r->n_charts; i++) {
    struct mode_chart *ch = &r->charts[i];
    free(ch->token), free(ch->title), free(ch->type), free(ch->viz_href), free(ch->description);
    free(ch->query_name);
    for (size_t f = 0; f < ch->n_fields; f++)
      free(ch->fields[f]);
    free(ch->fields);
  }
  free(r->charts);
  free(r);
}

static void emit(struct mode_crawl *c, struct mode_entity *e) {
  if (e == NULL) {
    oom(c);
    return;
  }
  if (c->out_tail)
    c->out_tail->next = e;
  else
    c->out_head = e;
  c->out_tail = e;
}

/* ---- listings --------------------------------------------------------------------------- */

static const char *filter_param(const struct mode_crawl *c) {
  return c->cfg->filter_custom ? "custom" : "all";
}

static void listing_request(struct mode_crawl *c, struct listing *l) {
  struct req_arg *a = calloc(1, sizeof *a);
  char *url = mode_pager_url(&l->pager);
  if (a == NULL || url == NULL) {
    free(a);
    free(url);
    listing_free(l);
    oom(c);
    return;
  }
  a->kind = R_LISTING;
  a->listing = l;
  request(c, url,
          l->kind == L_SPACES    ? &spaces_spec
          : l->kind == L_MEMBERS ? &members_spec
                                 : &reports_spec,
          MODE_FETCH_LISTING, a);
  free(url);
}

/* Whether more reports may start: the window has room and held bytes are under the cap. */
static int window_open(const struct mode_crawl *c) {
  return c->n_active < c->max_active && c->held_bytes < MODE_CRAWL_HELD_MAX;
}

/* Asks for the listing's next page now, or parks it while the window of reports is full. */
static void listing_continue(struct mode_crawl *c, struct listing *l) {
  if (l->kind != L_SPACES && l->kind != L_MEMBERS && !window_open(c)) {
    l->next = c->parked;
    c->parked = l;
    return;
  }
  listing_request(c, l);
}

static void unpark(struct mode_crawl *c) {
  while (c->parked && window_open(c)) {
    struct listing *l = c->parked;
    c->parked = l->next;
    l->next = NULL;
    listing_request(c, l);
  }
}

static struct listing *listing_new(struct mode_crawl *c, enum listing_kind kind, const char *url,
                                   const char *space_token, const char *space_name) {
  struct listing *l = calloc(1, sizeof *l);
  if (l == NULL)
    return NULL;
  l->kind = kind;
  l->space_token = mode_strdup(space_token);
  l->space_name = mode_strdup(space_name);
  if (mode_pager_init(&l->pager, url, c->cfg->page_size, c->cfg->max_pages) != 0 ||
      (space_token && !l->space_token) || (space_name && !l->space_name)) {
    listing_free(l);
    return NULL;
  }
  return l;
}

/* The item's token (field `field`), or NULL when it is missing, empty or held \u0000 (which
 * would make it another item's token once cut short): such an item is a protocol error. */
static const char *usable_token(const struct mode_hal_record *rec, size_t field) {
  const struct mode_hal_value *v = field < rec->n_fields ? &rec->fields[field] : NULL;
  if (v == NULL || v->n == 0 || v->had_nul || v->v[0][0] == '\0')
    return NULL;
  return v->v[0];
}

static int is_true(const char *v) {
  return v && strcmp(v, "true") == 0;
}

/* Mode answers `restricted: false` for collections that are restricted; their
 * `default_access_level` says so (DataHub #11081, mode.py _get_space_name_and_tokens). */
static int is_restricted(const struct mode_hal_record *rec) {
  const char *access = mode_hal_get(rec, SP_ACCESS);
  return is_true(mode_hal_get(rec, SP_RESTRICTED)) ||
         (access && strcasecmp(access, "restricted") == 0);
}

static void start_space(struct mode_crawl *c, const struct mode_hal_record *rec) {
  const char *token = mode_hal_get(rec, SP_TOKEN);
  const char *name = mode_hal_get(rec, SP_NAME);
  const char *type = mode_hal_get(rec, SP_TYPE);
  int personal = type && (strcmp(type, "private") == 0 || strcmp(type, "personal") == 0);
  if ((personal && c->cfg->exclude_personal) ||
      (c->cfg->exclude_restricted && is_restricted(rec)) ||
      !mode_filter_allows(&c->cfg->projects, name)) {
    if (c->hooks.count)
      c->hooks.count(c->hooks.ctx, ETL_COUNTER_FILTERED, 1);
    return;
  }
  char *st = mode_url_segment(token);
  char *tail_r = st ? mode_asprintf("/spaces/%s/reports", st) : NULL;
  char *tail_d = st ? mode_asprintf("/spaces/%s/datasets", st) : NULL;
  char *url_r = tail_r ? ws_url(c, tail_r) : NULL;
  char *url_d = tail_d ? ws_url(c, tail_d) : NULL;
  struct listing *lr = url_r ? listing_new(c, L_REPORTS, url_r, token, name ? name : token) : NULL;
  struct listing *ld = url_d && c->cfg->include_data_models
                           ? listing_new(c, L_DATASETS, url_d, token, name ? name : token)
                           : NULL;
  struct space_check *sc = lr && c->disc_ok ? calloc(1, sizeof *sc) : NULL;
  if (lr == NULL || (c->cfg->include_data_models && ld == NULL) || (c->disc_ok && sc == NULL)) {
    free(sc);
    listing_free(lr);
    listing_free(ld);
    oom(c);
  } else {
    if (sc) {
      sc->batch_count = mode_discovery_space_count(c->disc, token);
      sc->refs = sc->open = ld ? 2 : 1;
      lr->check = sc;
      if (ld)
        ld->check = sc;
    }
    listing_continue(c, lr);
    if (ld)
      listing_continue(c, ld);
  }
  free(st), free(tail_r), free(tail_d), free(url_r), free(url_d);
}

/* GET /api/{username}: the creator's name and e-mail (on_user). */
static void request_user(struct mode_crawl *c, const char *username) {
  struct req_arg *a = calloc(1, sizeof *a);
  char *user = mode_url_segment(username);
  char *url = user ? mode_asprintf("%s/api/%s", c->cfg->host, user) : NULL;
  if (a == NULL || url == NULL || (a->username = strdup(username)) == NULL) {
    arg_free(a);
    oom(c);
  } else {
    a->kind = R_USER;
    request(c, url, &user_spec, MODE_FETCH_URGENT, a);
  }
  free(user), free(url);
}

/* A creator known without a request: an active member (memberships listing) whose report batch
 * gives a `creator_email`. The owner record is username and e-mail, as /api/{user} gives them. */
static int member_known(struct mode_crawl *c, const char *username, const char *report) {
  const char *email = c->members_done && mode_strset_has(&c->members, username)
                          ? mode_discovery_creator_email(c->disc, report)
                          : NULL;
  if (email == NULL)
    return 0;
  mode_owners_resolve(&c->owners, username, NULL, email, 1);
  return 1;
}

static void need_user(struct mode_crawl *c, struct mode_report *r) {
  const struct mode_owner_entry *e = mode_owners_find(&c->owners, r->creator);
  if (e == NULL) {
    if (mode_owners_add(&c->owners, r->creator) == NULL) {
      oom(c);
      return;
    }
    /* Until the memberships are in, the creator waits (members_in decides). */
    if (!(c->members_wanted && !c->members_done) && !member_known(c, r->creator, r->token))
      request_user(c, r->creator);
    e = mode_owners_find(&c->owners, r->creator);
  }
  if (e->state == MODE_USER_PENDING)
    r->waiting_user = 1;
}

static void finalize_ready(struct mode_crawl *c);

/* The memberships listing is done (or failed: then every creator is looked up): each creator
 * waiting for it is known now, or asked for. */
static void members_in(struct mode_crawl *c) {
  struct mode_strset asked = {0}; /* creators looked up here, once each */
  c->members_done = 1;
  for (struct mode_report *r = c->active; r && !c->fatal; r = r->next) {
    if (!r->waiting_user || r->creator == NULL || mode_strset_has(&asked, r->creator))
      continue;
    const struct mode_owner_entry *e = mode_owners_find(&c->owners, r->creator);
    if (e == NULL || e->state != MODE_USER_PENDING)
      continue;
    /* Pending with no request out: every request_user happens after members_done. */
    if (member_known(c, r->creator, r->token))
      continue;
    if (mode_strset_add(&asked, r->creator) < 0)
      oom(c);
    request_user(c, r->creator);
  }
  mode_strset_clear(&asked);
  for (struct mode_report *r = c->active; r; r = r->next) {
    const struct mode_owner_entry *e = r->creator ? mode_owners_find(&c->owners, r->creator) : NULL;
    if (r->waiting_user && e && e->state != MODE_USER_PENDING)
      r->waiting_user = 0;
  }
  finalize_ready(c);
}

static int fill_report(struct mode_report *r, const struct mode_hal_record *rec,
                       const struct listing *l) {
  r->token = mode_strdup(mode_hal_get(rec, RP_TOKEN));
  r->name = mode_strdup(mode_hal_get(rec, RP_NAME));
  r->description = mode_strdup(mode_hal_get(rec, RP_DESC));
  r->space_name = mode_strdup(l->space_name);
  r->creator = mode_owners_username(mode_hal_get(rec, RP_CREATOR));
  r->share_href = mode_strdup(mode_hal_get(rec, RP_SHARE));
  r->web_href = mode_strdup(mode_hal_get(rec, RP_WEB));
  const char *cc = mode_hal_get(rec, RP_CHARTS);
  const char *vc = mode_hal_get(rec, RP_VIEWS);
  r->chart_count = cc ? strtol(cc, NULL, 10) : -1;
  r->view_count = vc ? strtol(vc, NULL, 10) : -1;
  r->archived = is_true(mode_hal_get(rec, RP_ARCHIVED));
  r->is_dataset = l->kind == L_DATASETS;
  const char *saved = mode_hal_get(rec, RP_SAVED);
  const char *sc = mode_hal_get(rec, RP_SCHEDULES);
  r->created_at = mode_strdup(mode_hal_get(rec, RP_CREATED));
  /* Mode sometimes answers null for last_saved_at; edited_at then says it (DataHub's mode.py). */
  r->last_saved_at = mode_strdup(saved ? saved : mode_hal_get(rec, RP_EDITED));
  r->last_run_at = mode_strdup(mode_hal_get(rec, RP_LAST_RUN));
  r->last_success_at = mode_strdup(mode_hal_get(rec, RP_LAST_SUCCESS));
  r->schedules_count = sc ? strtol(sc, NULL, 10) : -1;
  const struct mode_hal_value *imp = &rec->fields[RP_IMPORTED];
  if (imp->n) {
    r->imported = calloc(imp->n, sizeof *r->imported);
    if (r->imported == NULL)
      return -1;
    for (size_t i = 0; i < imp->n; i++)
      if ((r->imported[r->n_imported++] = strdup(imp->v[i])) == NULL)
        return -1;
  }
  return r->token && r->space_name ? 0 : -1;
}

/* Whether a report's queries may be asked for now (see struct mode_crawl). Not merely because
 * no queries request is out: while a creator lookup stalls, that let one more report's queries
 * in per round trip, past the bound, for as long as the stall lasted (issue 14 item 7). Only
 * when nothing at all is out does mode_crawl_next let one go (pump_deferred's force). */
static int may_fetch_queries(const struct mode_crawl *c) {
  return c->queries_out < c->cfg->concurrency && c->held_bytes < MODE_CRAWL_HELD_MAX;
}

static void fetch_report_now(struct mode_crawl *c, struct mode_report *r);
static void request_charts(struct mode_crawl *c, struct mode_report *r, int from_batch);

/* Asks for a report's queries (its charts follow) and its creator, or defers it. */
static void fetch_report(struct mode_crawl *c, struct mode_report *r) {
  if (!may_fetch_queries(c)) {
    r->deferred = 1;
    c->n_deferred++;
    return;
  }
  fetch_report_now(c, r);
}

/* Starts deferred reports while the bound allows; with force, the first one regardless. */
static void pump_deferred(struct mode_crawl *c, int force) {
  for (struct mode_report *r = c->active; r && c->n_deferred > 0 && (force || may_fetch_queries(c));
       r = r->next) {
    if (!r->deferred)
      continue;
    r->deferred = 0;
    c->n_deferred--;
    fetch_report_now(c, r);
    force = 0;
  }
}

static void fetch_report_now(struct mode_crawl *c, struct mode_report *r) {
  int filled = c->disc_ok ? mode_discovery_fill(c->disc, r) : 0;
  if (filled < 0) {
    oom(c);
    return;
  }
  if (filled) { /* queries from batch; charts (their fields) from the regular endpoint */
    c->held_bytes += r->held;
    if (!r->is_dataset && r->chart_count != 0 && !c->cfg->discovery_chart_fields) {
      if (mode_discovery_fill_charts(c->disc, r) != 0)
        oom(c);
    } else if (!r->is_dataset && r->chart_count != 0) {
      request_charts(c, r, 1);
    }
    if (c->cfg->include_owners && !r->is_dataset && r->creator)
      need_user(c, r);
    return;
  }
  struct req_arg *a = calloc(1, sizeof *a);
  char *rt = mode_url_segment(r->token);
  char *tail = rt ? mode_asprintf("/reports/%s/queries", rt) : NULL;
  char *url = tail ? ws_url(c, tail) : NULL;
  if (a == NULL || url == NULL) {
    free(a), free(rt), free(tail), free(url);
    oom(c);
    return;
  }
  a->kind = R_QUERIES;
  a->report = r;
  r->pending++;
  c->queries_out++;
  request(c, url, &queries_spec, MODE_FETCH_URGENT, a);
  if (c->cfg->include_owners && !r->is_dataset && r->creator)
    need_user(c, r);
  free(rt), free(tail), free(url);
}

/* The stamp of a report: every listing field its entities are made of, and the ones that say
 * it was edited. Not view_count: usage is emitted fresh on every run. */
static void report_stamp(const struct mode_hal_record *rec, const struct listing *l, char *out) {
  uint64_t h = mode_incr_hash(MODE_INCR_HASH_INIT, l->kind == L_DATASETS ? "dataset" : "report");
  h = mode_incr_hash(mode_incr_hash(h, l->space_token), l->space_name);
  for (size_t i = 0; i < sizeof report_fields / sizeof report_fields[0]; i++) {
    if (i == RP_VIEWS)
      continue;
    const struct mode_hal_value *v = &rec->fields[i];
    h = mode_incr_hash(h, v->n ? "" : NULL);
    for (size_t j = 0; j < v->n; j++)
      h = mode_incr_hash(h, v->v[j]);
  }
  mode_incr_hex(h, out);
}

struct retain_ctx {
  struct mode_crawl *c;
  const char *token;
};

static int emit_retain(void *ctx, const char *kind, const char *const *ids, size_t n) {
  struct retain_ctx *rc = ctx;
  emit(rc->c, mode_incr_retain_entity(rc->token, kind, ids, n)); /* NULL: oom() */
  return 0;
}

/* An unchanged report: one `retain` per kind of what it produced last time, fresh usage, and
 * its entry carried over into this run's map. Nothing is fetched. */
static void retain_report(struct mode_crawl *c, const struct mode_incr_entry *prev, int is_dataset,
                          long view_count) {
  if (mode_incr_begin(c->incr, prev->token, prev->stamp, prev) != 0) {
    oom(c);
    return;
  }
  struct retain_ctx rc = {c, prev->token};
  if (mode_incr_each_kind(prev, emit_retain, &rc) != 0)
    oom(c); /* a retain short of ids would let the sink mark them deleted: stop instead */
  if (!is_dataset && view_count >= 0)
    emit(c, mode_entity_usage(&c->assembler.ectx, prev->token, view_count, c->assembler.today));
}

static void try_finalize(struct mode_crawl *c, struct mode_report *r);
static void start_listing(struct mode_crawl *c);
static int stop_requested(struct mode_crawl *c);

/* Nothing changed since the previous run, batch and workspace stamps say: every report of
 * its map is retained, with fresh usage from report_stats, and nothing more is listed. */
static void retain_all(struct mode_crawl *c) {
  for (size_t i = 0; i < c->incr->n_prev && !c->fatal; i++) {
    const struct mode_incr_entry *prev = &c->incr->prev[i];
    retain_report(c, prev, 0, mode_discovery_views(c->disc, prev->token));
  }
}

/* Once data sources and definitions are in: the workspace stamp, and the fate of the reports
 * that waited for it (retained when it is unchanged, else fetched like any other). */
static void resolve_candidates(struct mode_crawl *c) {
  if (c->incr == NULL || c->global_known || !c->sources_done || !c->defs_done)
    return;
  uint64_t h = mode_incr_hash(MODE_INCR_HASH_INIT, "mode-incremental-1");
  char part[17];
  mode_incr_hex(c->config_hash, part);
  h = mode_incr_hash(h, part);
  mode_incr_hex(c->sources_hash, part);
  h = mode_incr_hash(h, part);
  mode_incr_hex(c->defs_hash, part);
  h = mode_incr_hash(h, part);
  mode_incr_hex(h, c->global_stamp);
  c->global_known = 1;
  c->global_same = !c->incr_unsure && c->incr->prev_stamp &&
                   strcmp(c->incr->prev_stamp, c->global_stamp) == 0;
  if (c->shortcut) {
    c->shortcut = 0;
    if (c->global_same)
      retain_all(c);
    else
      start_listing(c);
  }
  struct mode_report **pp = &c->active;
  while (*pp) {
    struct mode_report *r = *pp;
    if (!r->candidate) {
      pp = &r->next;
      continue;
    }
    r->candidate = 0;
    const struct mode_incr_entry *prev = mode_incr_find(c->incr, r->token);
    if (c->global_same && prev) {
      *pp = r->next;
      c->n_active--;
      retain_report(c, prev, r->is_dataset, r->view_count);
      report_free(r);
    } else {
      fetch_report(c, r);
      pp = &r->next;
    }
  }
}

static void start_report(struct mode_crawl *c, const struct listing *l,
                         const struct mode_hal_record *rec) {
  const char *token = mode_hal_get(rec, RP_TOKEN);
  const char *name = mode_hal_get(rec, RP_NAME);
  int added = mode_strset_add(&c->seen_reports, token);
  if (added <= 0) {
    if (added < 0)
      oom(c);
    return; /* listed twice (another collection, or a page that repeated part of another) */
  }
  int is_dataset = l->kind == L_DATASETS;
  const struct mode_filter *f = is_dataset ? &c->cfg->data_models : &c->cfg->dashboards;
  if ((c->cfg->exclude_archived && is_true(mode_hal_get(rec, RP_ARCHIVED))) ||
      !mode_filter_allows(f, name)) {
    if (c->hooks.count)
      c->hooks.count(c->hooks.ctx, ETL_COUNTER_FILTERED, 1);
    return;
  }
  char stamp[17];
  const struct mode_incr_entry *prev = NULL;
  if (c->incr) {
    report_stamp(rec, l, stamp);
    prev = mode_incr_find(c->incr, token);
    if (prev && strcmp(prev->stamp, stamp) != 0)
      prev = NULL;
    if (prev && c->global_known) {
      if (c->global_same) {
        const char *vc = mode_hal_get(rec, RP_VIEWS);
        retain_report(c, prev, is_dataset, vc ? strtol(vc, NULL, 10) : -1);
        return;
      }
      prev = NULL;
    }
  }
  struct mode_report *r = calloc(1, sizeof *r);
  if (r == NULL || fill_report(r, rec, l) != 0 || (c->incr && (r->stamp = strdup(stamp)) == NULL)) {
    report_free(r);
    oom(c);
    return;
  }
  r->next = c->active;
  c->active = r;
  c->n_active++;
  if (prev)
    r->candidate = 1; /* decided when the workspace stamp is known (resolve_candidates) */
  else
    fetch_report(c, r);
}

static void listing_failed(struct mode_crawl *c, struct listing *l,
                           const struct mode_fetch_result *res) {
  if (l->kind == L_MEMBERS) { /* costs requests, never records: creators are looked up */
    diagf(c, ETL_SEV_WARNING, 0, "memberships",
          "cannot list (page %d): %s; creators are looked up one by one", l->pager.page,
          res->detail);
    return;
  }
  if (l->kind == L_SPACES) {
    if (res->status == 404) {
      diagf(c, ETL_SEV_ERROR, 0, NULL,
            "workspace '%s' not found (HTTP 404): check workspaceName", c->cfg->workspace);
      set_fatal(c, ETL_ERR_CONFIG);
    } else if (res->status == 403) {
      diagf(c, ETL_SEV_ERROR, 0, NULL,
            "the API token lacks access to workspace '%s' (HTTP 403)", c->cfg->workspace);
      set_fatal(c, ETL_ERR_AUTH);
    } else {
      diagf(c, ETL_SEV_ERROR, ETL_DIAG_ITEM_LOST, "collections",
            "cannot list (page %d): %s", l->pager.page, res->detail);
      /* No answer at all after every retry (refused, unreachable, silent): the peer cannot be
       * reached, which is CONNECT (exit 3) as at the start of a run, not "try again later". */
      set_fatal(c, res->malformed       ? ETL_ERR_PROTOCOL
                   : res->status == 0 ? ETL_ERR_CONNECT
                                      : ETL_ERR_TRANSIENT);
    }
    return;
  }
  char item[256];
  snprintf(item, sizeof item, "collection %s (%s)", l->space_token,
           l->space_name ? l->space_name : "?");
  diagf(c, ETL_SEV_ERROR, ETL_DIAG_ITEM_LOST, item,
        "%s page %d: %s; the rest of this listing is skipped",
        l->kind == L_REPORTS ? "reports" : "datasets", l->pager.page, res->detail);
}

/* A warning about a workspace-wide resource (item "data sources" or "definitions"); held
 * while a 404 may mean that the workspace does not exist (see struct mode_crawl). */
static void workspace_warning(struct mode_crawl *c, int status, const char *item, const char *msg) {
  if (status == 404 && !c->workspace_seen && c->n_held < 2) {
    snprintf(c->held_item[c->n_held], sizeof c->held_item[0], "%s", item);
    snprintf(c->held_msg[c->n_held], sizeof c->held_msg[0], "%s", msg);
    c->n_held++;
    return;
  }
  diagf(c, ETL_SEV_WARNING, 0, item, "%s", msg);
}

/* ---- a collection's listings against batch (struct space_check) ------------------------ */

/* Notes the tokens of a page; one batch does not place in this collection is a disagreement. */
static void check_record(struct mode_crawl *c, struct space_check *sc, const struct listing *l,
                         const char *const *tokens, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (tokens[i] == NULL)
      continue;
    if (!mode_discovery_in_space(c->disc, tokens[i], l->space_token))
      sc->disagree = 1;
    if (mode_strset_add(&sc->seen, tokens[i]) < 0)
      oom(c);
  }
}

static int check_complete(const struct space_check *sc) {
  return !sc->disagree && (long)sc->seen.count == sc->batch_count;
}

/* Takes the held listing of sc out of crawl->held; NULL when none is held. */
static struct listing *unhold(struct mode_crawl *c, struct space_check *sc) {
  struct listing *h = sc->held, **pp = &c->held;
  if (h == NULL)
    return NULL;
  while (*pp && *pp != h)
    pp = &(*pp)->next;
  if (*pp)
    *pp = h->next;
  h->next = NULL;
  sc->held = NULL;
  return h;
}

/* A listing is finished (ended or failed): freed, and its held sibling ended with it when
 * batch's items are all seen, else paged on. */
static void listing_done(struct mode_crawl *c, struct listing *l) {
  struct space_check *sc = l->check;
  struct listing *held = NULL;
  int complete = 0;
  if (l->kind == L_MEMBERS) {
    listing_free(l);
    members_in(c);
    return;
  }
  if (sc) {
    sc->open--;
    held = sc->held != l ? unhold(c, sc) : NULL;
    complete = check_complete(sc);
  }
  listing_free(l);
  if (held == NULL)
    return;
  if (complete) {
    c->short_ends++;
    listing_done(c, held);
  } else {
    listing_continue(c, held);
  }
}

enum short_page { PAGE_ON, PAGE_END, PAGE_HOLD };

/* What a page that the pager would follow with another means, with batch: a short page that
 * completes batch's items of the collection ends the listing; one that does not, while the
 * sibling listing is still open, waits for it. */
static enum short_page short_page(struct mode_crawl *c, struct listing *l, size_t n) {
  struct space_check *sc = l->check;
  if (sc == NULL)
    return PAGE_ON;
  if (!sc->disagree && n < (size_t)l->pager.per_page) {
    if (check_complete(sc))
      return PAGE_END;
    if (sc->held == NULL && sc->open > 1)
      return PAGE_HOLD;
  }
  struct listing *held = unhold(c, sc); /* both short, or a disagreement: both page on */
  if (held)
    listing_continue(c, held);
  return PAGE_ON;
}

/* A member whose creator's e-mail batch may give; only `state: active` ones (a member who left
 * is looked up, as a regular run does, and may be a 404 there). */
static void add_member(struct mode_crawl *c, const struct mode_hal_record *rec) {
  const char *state = mode_hal_get(rec, 1);
  if (state && strcmp(state, "active") == 0 &&
      mode_strset_add(&c->members, mode_hal_get(rec, 0)) < 0)
    oom(c);
}

static void on_listing(struct mode_crawl *c, struct listing *l, struct mode_fetch_result *res) {
  if (!res->ok) {
    listing_failed(c, l, res);
    listing_done(c, l);
    return;
  }
  if (l->kind == L_SPACES && !c->workspace_seen) {
    c->workspace_seen = 1;
    for (int i = 0; i < c->n_held; i++)
      diagf(c, ETL_SEV_WARNING, 0, c->held_item[i], "%s", c->held_msg[i]);
    c->n_held = 0;
  }
  const char **tokens = calloc(res->n_records ? res->n_records : 1, sizeof *tokens);
  int *fresh = calloc(res->n_records ? res->n_records : 1, sizeof *fresh);
  if (tokens == NULL || fresh == NULL) {
    free(tokens), free(fresh);
    listing_free(l);
    oom(c);
    return;
  }
  size_t bad = 0;
  for (size_t i = 0; i < res->n_records; i++)
    if ((tokens[i] = usable_token(&res->records[i], 0)) == NULL)
      bad++;
  int page = l->pager.page;
  if (bad > 0 && l->kind != L_MEMBERS) /* a member without a username is looked up later */
    /* Never skipped in silence: an item the run cannot name would be "not seen", and a sink
     * would mark it deleted. Flagged lost, the run is partial and nothing is marked. */
    diagf(c, ETL_SEV_ERROR, ETL_DIAG_ITEM_LOST, l->space_token ? l->space_token : "collections",
          "listing %s page %d: %zu of %zu items have no usable token (missing, empty or "
          "holding \\u0000), skipped",
          l->pager.base_url + strlen(c->cfg->host), page, bad, res->n_records);
  enum mode_page_verdict v =
      mode_pager_page(&l->pager, tokens, res->n_records, res->list_seen, fresh);
  for (size_t i = 0; i < res->n_records; i++) {
    if (!fresh[i])
      continue;
    if (l->kind == L_SPACES)
      start_space(c, &res->records[i]);
    else if (l->kind == L_MEMBERS)
      add_member(c, &res->records[i]);
    else
      start_report(c, l, &res->records[i]);
  }
  if (l->check)
    check_record(c, l->check, l, tokens, res->n_records);
  free(tokens), free(fresh);
  if (v == MODE_PAGE_MORE && page == MODE_PAGER_LONG && l->pager.max_pages > MODE_PAGER_LONG)
    diagf(c, ETL_SEV_WARNING, 0, l->space_token ? l->space_token : "collections",
          "listing %s passed %d pages and brings new items still; it stops at maxPages (%d)",
          l->pager.base_url + strlen(c->cfg->host), page, l->pager.max_pages);
  if (v == MODE_PAGE_MORE) {
    switch (short_page(c, l, res->n_records)) {
    case PAGE_ON:
      listing_continue(c, l);
      break;
    case PAGE_END:
      c->short_ends++;
      listing_done(c, l);
      break;
    case PAGE_HOLD:
      l->check->held = l;
      l->next = c->held;
      c->held = l;
      break;
    }
    return;
  }
  char item[128];
  snprintf(item, sizeof item, "collection %s", l->space_token ? l->space_token : "list");
  if (v == MODE_PAGE_REPEATED && res->n_records >= (size_t)l->pager.per_page)
    /* A full page came back again: the listing ignores `page`, and whatever lies beyond its
     * first page cannot be reached. Say so; the run is partial. */
    diagf(c, ETL_SEV_WARNING, ETL_DIAG_ITEM_LOST, item,
          "listing %s repeated page %d instead of answering page %d: items beyond it "
          "cannot be listed and may be missing",
          l->pager.base_url + strlen(c->cfg->host), page - 1 > 0 ? page - 1 : 1, page);
  if (v == MODE_PAGE_CAPPED)
    diagf(c, ETL_SEV_WARNING, ETL_DIAG_ITEM_LOST, item,
          "listing %s stopped at the page cap (%d pages); raise maxPages if it is real",
          l->pager.base_url + strlen(c->cfg->host), page);
  listing_done(c, l);
}

/* ---- reports ---------------------------------------------------------------------------- */

static void finalize(struct mode_crawl *c, struct mode_report *r);

static void try_finalize(struct mode_crawl *c, struct mode_report *r) {
  if (r->candidate || r->deferred || r->pending > 0 || r->waiting_user || !c->sources_done ||
      !c->defs_done)
    return;
  struct mode_report **pp = &c->active;
  while (*pp && *pp != r)
    pp = &(*pp)->next;
  if (*pp)
    *pp = r->next;
  c->n_active--;
  c->held_bytes -= r->held;
  finalize(c, r);
  report_free(r);
}

static void finalize_ready(struct mode_crawl *c) {
  struct mode_report *r = c->active;
  while (r) {
    struct mode_report *next = r->next;
    try_finalize(c, r);
    r = next;
  }
}

/* Moves the first value of field i out of rec (the record is freed after the callback): a
 * query's text is not copied, so a 4 MB query costs 4 MB once. */
static char *take_value(struct mode_hal_record *rec, size_t i) {
  if (i >= rec->n_fields || rec->fields[i].n == 0)
    return NULL;
  char *v = rec->fields[i].v[0];
  rec->fields[i].v[0] = NULL;
  return v;
}

/* Stores the queries; returns how many had no usable token, or -1 on OOM. */
static long store_queries(struct mode_report *r, struct mode_fetch_result *res) {
  long bad = 0;
  r->queries = calloc(res->n_records ? res->n_records : 1, sizeof *r->queries);
  if (r->queries == NULL)
    return -1;
  for (size_t i = 0; i < res->n_records; i++) {
    struct mode_hal_record *rec = &res->records[i];
    const char *token = usable_token(rec, Q_TOKEN);
    bad += token == NULL;
    int dup = token == NULL;
    for (size_t j = 0; j < r->n_queries && !dup; j++)
      dup = strcmp(r->queries[j].token, token) == 0;
    if (dup)
      continue;
    struct mode_query *q = &r->queries[r->n_queries++];
    q->token = mode_strdup(token);
    q->name = mode_strdup(mode_hal_get(rec, Q_NAME));
    q->raw_query = take_value(rec, Q_RAW);
    r->held += q->raw_query ? strlen(q->raw_query) : 0;
    q->data_source_id = mode_strdup(mode_hal_get(rec, Q_DS));
    if (q->token == NULL)
      return -1;
  }
  return bad;
}

/* Asks for the charts of each of r's queries; with batch (c->disc filled r), only of those
 * batch lists a chart of: a query without charts costs no request. */
static void request_charts(struct mode_crawl *c, struct mode_report *r, int from_batch) {
  for (size_t i = 0; i < r->n_queries; i++) {
    if (from_batch && !mode_discovery_has_charts(c->disc, r->token, r->queries[i].token))
      continue;
    struct req_arg *a = calloc(1, sizeof *a);
    char *rt = mode_url_segment(r->token), *qt = mode_url_segment(r->queries[i].token);
    char *tail = rt && qt ? mode_asprintf("/reports/%s/queries/%s/charts", rt, qt) : NULL;
    char *url = tail ? ws_url(c, tail) : NULL;
    if (a && url && (a->query_token = strdup(r->queries[i].token)) != NULL) {
      a->kind = R_CHARTS;
      a->report = r;
      a->query_name = mode_strdup(r->queries[i].name);
      r->pending++;
      request(c, url, &charts_spec, MODE_FETCH_URGENT, a);
    } else {
      arg_free(a);
      oom(c);
    }
    free(rt), free(qt), free(tail), free(url);
  }
}

static void on_queries(struct mode_crawl *c, struct mode_report *r, struct mode_fetch_result *res) {
  long bad = 0;
  char item[64];
  snprintf(item, sizeof item, "report %s", r->token);
  r->pending--;
  c->queries_out--;
  if (!res->ok) {
    r->queries_lost = 1;
    if (res->status == 404) {
      diagf(c, ETL_SEV_WARNING, 0, item,
            "queries: HTTP 404 (deleted since it was listed?), skipped");
      r->gone = 1;
    } else {
      diagf(c, ETL_SEV_ERROR, ETL_DIAG_ITEM_LOST, item,
            "queries: %s; its data models and charts are skipped", res->detail);
    }
  } else {
    bad = store_queries(r, res);
    c->held_bytes += r->held; /* given back when the report is finalized */
  }
  if (bad < 0) {
    oom(c);
  } else if (res->ok) {
    if (bad > 0) {
      r->queries_lost = 1; /* its lists would be short: no dashboard, no dataset model */
      diagf(c, ETL_SEV_ERROR, ETL_DIAG_ITEM_LOST, item,
            "queries: %ld of %zu have no usable token (missing, empty or holding \\u0000), "
            "skipped with its dashboard",
            bad, res->n_records);
    }
    if (!r->is_dataset && r->chart_count != 0)
      request_charts(c, r, 0);
  }
  try_finalize(c, r);
}

/* Adds a field name once (names compare ignoring case, as Mode's formulas do). */
static int add_field(struct mode_chart *ch, const char *name, size_t len) {
  for (size_t i = 0; i < ch->n_fields; i++)
    if (strlen(ch->fields[i]) == len && strncasecmp(ch->fields[i], name, len) == 0)
      return 0;
  char **grown = realloc(ch->fields, (ch->n_fields + 1) * sizeof *grown);
  if (grown == NULL)
    return -1;
  ch->fields = grown;
  if ((ch->fields[ch->n_fields] = mode_strndup(name, len)) == NULL)
    return -1;
  ch->n_fields++;
  return 0;
}

/* The fields a chart shows: every `[name]` of its view_vegas formulas ("[amount]",
 * "SUM([amount])"), as DataHub's mode.py get_formula_columns reads them, then the columns of a
 * v1 view. Returns 0, or -1 on OOM. */
static int store_fields(struct mode_chart *ch, const struct mode_hal_record *rec) {
  const struct mode_hal_value *f = &rec->fields[C_FORMULAS];
  for (size_t i = 0; i < f->n; i++)
    for (const char *p = f->v[i]; (p = strchr(p, '[')) != NULL;) {
      const char *end = strchr(p + 1, ']');
      if (end == NULL)
        break;
      if (end > p + 1 && add_field(ch, p + 1, (size_t)(end - p - 1)) != 0)
        return -1;
      p = end + 1;
    }
  for (size_t k = C_COLUMN_V1; k <= C_COLUMNS_V1; k++)
    for (size_t i = 0; i < rec->fields[k].n; i++)
      if (*rec->fields[k].v[i] && add_field(ch, rec->fields[k].v[i], strlen(rec->fields[k].v[i])))
        return -1;
  return 0;
}

/* Stores the charts of one query; returns how many had no usable token, or -1 on OOM. */
static long store_charts(struct mode_report *r, const struct req_arg *a,
                         const struct mode_fetch_result *res) {
  long bad = 0;
  struct mode_chart *grown = realloc(r->charts, (r->n_charts + res->n_records + 1) * sizeof *grown);
  if (grown == NULL)
    return -1;
  r->charts = grown;
  size_t query_pos = r->n_queries;
  for (size_t q = 0; q < r->n_queries; q++)
    if (r->queries[q].token && strcmp(r->queries[q].token, a->query_token) == 0)
      query_pos = q;
  for (size_t i = 0; i < res->n_records; i++) {
    const struct mode_hal_record *rec = &res->records[i];
    if (usable_token(rec, C_TOKEN) == NULL) {
      bad++;
      continue;
    }
    struct mode_chart *ch = &r->charts[r->n_charts++];
    memset(ch, 0, sizeof *ch);
    const char *title = mode_hal_get(rec, C_TITLE);
    const char *type = mode_hal_get(rec, C_TYPE);
    ch->token = mode_strdup(mode_hal_get(rec, C_TOKEN));
    ch->title = mode_strdup(title ? title : mode_hal_get(rec, C_TITLE_V1));
    ch->type = mode_strdup(type ? type : mode_hal_get(rec, C_TYPE_V1));
    ch->viz_href = mode_strdup(mode_hal_get(rec, C_VIZ));
    const char *desc = mode_hal_get(rec, C_DESC);
    ch->description = mode_strdup(desc ? desc : mode_hal_get(rec, C_DESC_V1));
    ch->query_name = mode_strdup(a->query_name);
    ch->query_pos = query_pos;
    ch->pos = i;
    if (ch->token == NULL || store_fields(ch, rec) != 0)
      return -1;
  }
  return bad;
}

static void on_charts(struct mode_crawl *c, struct req_arg *a, struct mode_fetch_result *res) {
  struct mode_report *r = a->report;
  long bad = 0;
  r->pending--;
  if (!res->ok) {
    char item[64];
    snprintf(item, sizeof item, "report %s", r->token);
    /* A 404: the query went away since it was listed, and its charts with it. */
    if (res->status != 404)
      r->charts_lost = 1;
    diagf(c, res->status == 404 ? ETL_SEV_WARNING : ETL_SEV_ERROR,
          res->status == 404 ? 0 : ETL_DIAG_ITEM_LOST, item,
          "query %s: charts: %s, skipped", a->query_token, res->detail);
  } else if ((bad = store_charts(r, a, res)) < 0) {
    oom(c);
  } else if (bad > 0) {
    char item[64];
    snprintf(item, sizeof item, "report %s", r->token);
    r->charts_lost = 1;
    diagf(c, ETL_SEV_ERROR, ETL_DIAG_ITEM_LOST, item,
          "query %s: charts: %ld of %zu have no usable token (missing, empty or holding "
          "\\u0000), skipped with the dashboard",
          a->query_token, bad, res->n_records);
  }
  try_finalize(c, r);
}

static void on_user(struct mode_crawl *c, struct req_arg *a, struct mode_fetch_result *res) {
  const struct mode_hal_record *rec = res->ok && res->n_records ? &res->records[0] : NULL;
  if (rec)
    mode_owners_resolve(&c->owners, a->username, mode_hal_get(rec, 1), mode_hal_get(rec, 2), 1);
  else {
    char item[160];
    snprintf(item, sizeof item, "user %s", a->username);
    /* A 204 (Mode's answer for some users) is empty, not an error. */
    diagf(c, res->ok ? ETL_SEV_INFO : ETL_SEV_WARNING, 0, item,
          "%s; owner given by username only", res->ok ? "no details (empty response)" : res->detail);
    mode_owners_resolve(&c->owners, a->username, NULL, NULL, 0);
  }
  for (struct mode_report *r = c->active; r; r = r->next)
    if (r->waiting_user && r->creator && strcmp(r->creator, a->username) == 0)
      r->waiting_user = 0;
  finalize_ready(c);
}

static void on_sources(struct mode_crawl *c, struct mode_fetch_result *res) {
  if (!res->ok) {
    char msg[768];
    snprintf(msg, sizeof msg, "%s; lineage will not know databases or dialects", res->detail);
    workspace_warning(c, res->status, "data sources", msg);
    if (res->status != 404)
      c->incr_unsure = 1;
  } else {
    c->sources = calloc(res->n_records ? res->n_records : 1, sizeof *c->sources);
    if (c->sources == NULL) {
      oom(c);
      return;
    }
    for (size_t i = 0; i < res->n_records; i++) {
      const struct mode_hal_record *rec = &res->records[i];
      struct mode_data_source *d = &c->sources[c->n_sources++];
      d->id = mode_strdup(mode_hal_get(rec, DS_ID));
      d->token = mode_strdup(mode_hal_get(rec, DS_TOKEN));
      d->name = mode_strdup(mode_hal_get(rec, DS_NAME));
      d->adapter = mode_strdup(mode_hal_get(rec, DS_ADAPTER));
      if (mode_adapter_place(d->adapter, mode_hal_get(rec, DS_DATABASE), mode_hal_get(rec, DS_HOST),
                             mode_hal_get(rec, DS_PROJECT), &d->database, &d->schema) != 0)
        oom(c);
      for (size_t f = 0; f < sizeof source_fields / sizeof source_fields[0]; f++)
        c->sources_hash = mode_incr_hash(c->sources_hash, mode_hal_get(rec, f));
    }
  }
  c->sources_done = 1;
  c->assembler.sources_known = c->sources != NULL;
  resolve_candidates(c);
  finalize_ready(c);
}

static void on_defs(struct mode_crawl *c, struct mode_fetch_result *res) {
  if (!res->ok) {
    char msg[768];
    snprintf(msg, sizeof msg, "%s; queries that use {{ @definition }} lose those tables",
             res->detail);
    workspace_warning(c, res->status, "definitions", msg);
    if (res->status != 404)
      c->incr_unsure = 1;
  } else {
    for (size_t i = 0; i < res->n_records; i++) {
      const char *name = mode_hal_get(&res->records[i], 0);
      const char *body = mode_hal_get(&res->records[i], 1);
      c->defs_hash = mode_incr_hash(mode_incr_hash(c->defs_hash, name), body);
      if (name && body && sql_definitions_add(c->defs, name, body, strlen(body)) != SQL_OK)
        oom(c);
    }
  }
  c->defs_done = 1;
  resolve_candidates(c);
  finalize_ready(c);
}

static void on_done(void *owner, void *argp, struct mode_fetch_result *res) {
  struct mode_crawl *c = owner;
  struct req_arg *a = argp;
  if (res->interrupted) {
    set_fatal(c, ETL_ERR_CANCELLED);
  } else if (res->status == 401 && c->fatal == 0) {
    /* Said once: the requests already in flight get the same 401 and add nothing. */
    diagf(c, ETL_SEV_ERROR, 0, NULL,
          "credentials refused (HTTP 401): check accessToken and accessTokenPassword");
    set_fatal(c, ETL_ERR_AUTH);
  } else if (res->tls_unverified && c->fatal == 0) {
    /* Every request fails the same way: one error, and no half-run. */
    diagf(c, ETL_SEV_ERROR, 0, NULL, "%s", res->detail);
    set_fatal(c, ETL_ERR_CONNECT);
  }
  if (c->fatal) {
    if (a->kind == R_LISTING)
      listing_free(a->listing);
    arg_free(a);
    return;
  }
  switch (a->kind) {
  case R_LISTING:
    on_listing(c, a->listing, res);
    break;
  case R_SOURCES:
    on_sources(c, res);
    break;
  case R_DEFS:
    on_defs(c, res);
    break;
  case R_QUERIES:
    on_queries(c, a->report, res);
    break;
  case R_CHARTS:
    on_charts(c, a, res);
    break;
  case R_USER:
    on_user(c, a, res);
    break;
  }
  arg_free(a);
}

static int request(struct mode_crawl *c, const char *url, const struct mode_hal_spec *spec,
                   enum mode_fetch_priority prio, struct req_arg *a) {
  if (mode_fetch_get(c->fetch, url, spec, prio, on_done, c, a) != 0) {
    if (a->kind == R_LISTING)
      listing_free(a->listing);
    arg_free(a);
    oom(c);
    return -1;
  }
  return 0;
}

/* ---- entities of one report -------------------------------------------------------------- */

static int chart_order(const void *pa, const void *pb) {
  const struct mode_chart *a = pa, *b = pb;
  if (a->query_pos != b->query_pos)
    return a->query_pos < b->query_pos ? -1 : 1;
  return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* Batch names a query's data source by token, the regular API by id: made an id here, where
 * the data sources are known, so that both give the same lineage. */
static void map_source_tokens(struct mode_crawl *c, struct mode_report *r) {
  for (size_t i = 0; i < r->n_queries; i++) {
    struct mode_query *q = &r->queries[i];
    int is_id = 0;
    const struct mode_data_source *tok = NULL;
    for (size_t k = 0; q->data_source_id && k < c->n_sources && !is_id; k++) {
      const struct mode_data_source *d = &c->sources[k];
      is_id = d->id && strcmp(d->id, q->data_source_id) == 0;
      if (d->token && strcmp(d->token, q->data_source_id) == 0)
        tok = d;
    }
    if (is_id || tok == NULL || tok->id == NULL)
      continue;
    char *id = strdup(tok->id);
    if (id == NULL) {
      oom(c);
      return;
    }
    free(q->data_source_id);
    q->data_source_id = id;
  }
}

static void finalize(struct mode_crawl *c, struct mode_report *r) {
  /* The charts of a report's queries are fetched concurrently and stored as they arrive; the
   * dashboard lists them in the report's own order so that an unchanged report gives the same
   * record on every run (a sink compares records byte for byte). */
  if (r->n_charts > 1)
    qsort(r->charts, r->n_charts, sizeof *r->charts, chart_order);
  map_source_tokens(c, r);
  c->assembler.sources = c->sources;
  c->assembler.n_sources = c->n_sources;
  c->assembler.defs = c->defs;
  /* Record what the report produces, unless it is gone or incomplete (then the next run
   * fetches it again). */
  c->recording = c->incr && r->stamp && !r->gone && !r->queries_lost && !r->charts_lost;
  if (c->recording && mode_incr_begin(c->incr, r->token, r->stamp, NULL) != 0) {
    c->recording = 0;
    oom(c);
  }
  mode_assemble(&c->assembler, r);
  c->recording = 0;
}

/* ---- driving ----------------------------------------------------------------------------- */

/* The collections listing, and through it every report listing. */
static void start_listing(struct mode_crawl *c) {
  char *tail = mode_asprintf("/spaces?filter=%s", filter_param(c));
  char *u3 = tail ? ws_url(c, tail) : NULL;
  struct listing *l = u3 ? listing_new(c, L_SPACES, u3, NULL, NULL) : NULL;
  if (l == NULL)
    oom(c);
  else
    listing_request(c, l);
  free(u3), free(tail);
}

/* The workspace's memberships, whose active members' creators need no lookup (need_user). */
static void start_members(struct mode_crawl *c) {
  char *url = ws_url(c, "/memberships");
  struct listing *l = url ? listing_new(c, L_MEMBERS, url, NULL, NULL) : NULL;
  free(url);
  if (l == NULL) {
    oom(c);
    return;
  }
  c->members_wanted = 1;
  listing_request(c, l);
}

/* Lists through Mode's Discovery API first, when its keys are set. A failure costs requests,
 * never records: the regular API lists what batch could not. */
static void start_discovery(struct mode_crawl *c) {
  char err[512];
  int refused = 0;
  char *tok = NULL, *key = NULL, *sec = NULL;
  long status = 0;
  if (c->cfg->discovery_mint &&
      mode_mint_token(c->cfg, &tok, &key, &sec, &status, err, sizeof err) != 0) {
    diagf(c, ETL_SEV_WARNING, 0, "discovery",
          "cannot mint a signature token (POST /batch/%s/signature_tokens: %s)%s; listing "
          "through the regular API",
          c->cfg->workspace, err,
          status == 401 || status == 403 ? ": it needs a workspace admin's API token" : "");
    return;
  }
  c->disc = c->cfg->discovery_mint
                ? mode_discovery_new(c->cfg, &c->fetch_opts, tok, key, sec)
                : mode_discovery_new(c->cfg, &c->fetch_opts, c->cfg->discovery_token,
                                     c->cfg->discovery_key, c->cfg->discovery_secret);
  mode_wipe_free(&key), mode_wipe_free(&sec), free(tok);
  if (c->disc == NULL) {
    oom(c);
    return;
  }
  int rc = mode_discovery_run(c->disc, c->interrupt, &refused, err, sizeof err);
  const struct mode_fetch_stats *s = mode_discovery_stats(c->disc);
  if (c->hooks.count) {
    c->hooks.count(c->hooks.ctx, ETL_COUNTER_REQUESTS, s->requests);
    c->hooks.count(c->hooks.ctx, ETL_COUNTER_RETRIES, s->retries);
    c->hooks.count(c->hooks.ctx, ETL_COUNTER_THROTTLED, s->throttled);
    c->hooks.count(c->hooks.ctx, ETL_COUNTER_BYTES, s->bytes);
  }
  if (rc == 0) {
    c->disc_ok = 1;
    if (c->incr)
      snprintf(c->incr->batch, sizeof c->incr->batch, "%s", mode_discovery_stamp(c->disc));
    return;
  }
  if (stop_requested(c)) {
    set_fatal(c, ETL_ERR_CANCELLED);
    return;
  }
  if (refused)
    diagf(c, ETL_SEV_WARNING, 0, "discovery",
          "the Discovery API refused the signature token (HTTP 401): check discoveryToken, "
          "discoveryAccessKey and discoveryAccessSecret; listing through the regular API");
  else
    diagf(c, ETL_SEV_WARNING, 0, "discovery", "%s; listing through the regular API", err);
}

static void start(struct mode_crawl *c) {
  c->started = 1;
  emit(c, mode_entity_service(&c->assembler.ectx));
  if (c->cfg->discovery_token || c->cfg->discovery_mint)
    start_discovery(c);
  if (c->fatal)
    return;
  struct req_arg *a1 = calloc(1, sizeof *a1), *a2 = calloc(1, sizeof *a2);
  char *u1 = ws_url(c, "/data_sources"), *u2 = ws_url(c, "/definitions");
  if (a1 == NULL || a2 == NULL || u1 == NULL || u2 == NULL) {
    free(a1), free(a2);
    oom(c);
  } else {
    a1->kind = R_SOURCES;
    a2->kind = R_DEFS;
    request(c, u1, &sources_spec, MODE_FETCH_URGENT, a1);
    request(c, u2, &definitions_spec, MODE_FETCH_URGENT, a2);
    /* Unchanged batch stamp: nothing is listed until the workspace stamp says whether the
     * previous run's records all stand (resolve_candidates). */
    c->shortcut = c->disc_ok && c->incr && c->incr->prev_batch &&
                  strcmp(c->incr->prev_batch, c->incr->batch) == 0;
    if (!c->shortcut) {
      if (c->disc_ok && c->cfg->include_owners)
        start_members(c);
      start_listing(c);
    }
  }
  free(u1), free(u2);
}

static void report_counters(struct mode_crawl *c) {
  const struct mode_fetch_stats *s = mode_fetch_stats(c->fetch);
  if (c->hooks.count) {
    if (s->requests != c->reported.requests)
      c->hooks.count(c->hooks.ctx, ETL_COUNTER_REQUESTS, s->requests - c->reported.requests);
    if (s->retries != c->reported.retries)
      c->hooks.count(c->hooks.ctx, ETL_COUNTER_RETRIES, s->retries - c->reported.retries);
    if (s->throttled != c->reported.throttled)
      c->hooks.count(c->hooks.ctx, ETL_COUNTER_THROTTLED, s->throttled - c->reported.throttled);
    if (s->bytes != c->reported.bytes)
      c->hooks.count(c->hooks.ctx, ETL_COUNTER_BYTES, s->bytes - c->reported.bytes);
  }
  c->reported = *s;
}

static int stop_requested(struct mode_crawl *c) {
  return (c->interrupt && atomic_load(c->interrupt)) ||
         (c->hooks.cancelled && c->hooks.cancelled(c->hooks.ctx));
}

/* The SQL library's cancel callback: a 4 MB query's lineage stops when the run does. */
static int sql_stop_requested(void *ctx) { return stop_requested(ctx); }

int mode_crawl_next(struct mode_crawl *c, struct mode_entity **out) {
  *out = NULL;
  if (!c->started)
    start(c);
  for (;;) {
    /* A stop request wins over entities already queued: the host asked to stop now. */
    if (c->fatal != ETL_ERR_CANCELLED && stop_requested(c))
      set_fatal(c, ETL_ERR_CANCELLED);
    if (c->fatal == ETL_ERR_CANCELLED)
      return c->fatal;
    if (c->out_head) {
      *out = c->out_head;
      c->out_head = c->out_head->next;
      if (c->out_head == NULL)
        c->out_tail = NULL;
      (*out)->next = NULL;
      return ETL_OK;
    }
    if (c->fatal)
      return c->fatal;
    if (c->done)
      return ETL_DONE;
    pump_deferred(c, 0);
    if (c->disc_ok)
      finalize_ready(c); /* reports filled from batch wait on nothing but their creator */
    unpark(c);
    int left = mode_fetch_step(c->fetch, 100);
    report_counters(c);
    if (left < 0) {
      diagf(c, ETL_SEV_ERROR, 0, NULL, "the HTTP engine failed");
      set_fatal(c, ETL_ERR_INTERNAL);
    } else if (left == 0 && c->n_deferred > 0) {
      pump_deferred(c, 1); /* nothing is out: the bound lets one go */
    } else if (left == 0 && c->parked != NULL) {
      /* Nothing in flight yet listings wait: never stall on the window, go on with one. */
      struct listing *l = c->parked;
      c->parked = l->next;
      l->next = NULL;
      listing_request(c, l);
    } else if (left == 0 && c->held != NULL) {
      /* Never reached (a listing is held only while its sibling is out), but never stall. */
      struct listing *l = c->held;
      c->held = l->next;
      l->next = NULL;
      l->check->held = NULL;
      listing_request(c, l);
    } else if (left == 0 && c->out_head == NULL) {
      finalize_ready(c); /* nothing outstanding: complete what waits on nothing */
      if (c->active != NULL && c->out_head == NULL && !c->fatal) {
        diagf(c, ETL_SEV_ERROR, 0, NULL, "internal error: reports left incomplete");
        set_fatal(c, ETL_ERR_INTERNAL);
      }
      if (c->out_head == NULL && c->incr && c->global_known && !c->incr_unsure &&
          !c->incr_lost && !c->state_sent) {
        /* After the last entity, and only when nothing was lost: the next run starts from it. */
        c->state_sent = 1;
        emit(c, mode_incr_state_entity(c->incr, c->global_stamp));
      } else if (c->out_head == NULL) {
        c->done = 1;
      }
    }
  }
}

static void assembler_emit(void *ctx, struct mode_entity *e) {
  struct mode_crawl *c = ctx;
  if (c->recording && e && mode_incr_add_id(c->incr, e->kind, e->id) != 0)
    oom(c);
  emit(c, e);
}

static void assembler_diag(void *ctx, int severity, unsigned flags, const char *item,
                           const char *message) {
  struct mode_crawl *c = ctx;
  if (flags & ETL_DIAG_ITEM_LOST)
    c->incr_lost = 1;
  if (c->hooks.diag)
    c->hooks.diag(c->hooks.ctx, severity, flags, item, message);
}

static void assembler_filtered(void *ctx) {
  struct mode_crawl *c = ctx;
  if (c->hooks.count)
    c->hooks.count(c->hooks.ctx, ETL_COUNTER_FILTERED, 1);
}

/* Retries and long pauses of the fetch layer, as diagnostics of the source as a whole. */
static void fetch_notice(void *ctx, int severity, const char *message) {
  struct mode_crawl *c = ctx;
  if (c->hooks.diag)
    c->hooks.diag(c->hooks.ctx, severity, 0, NULL, message);
}

struct mode_crawl *mode_crawl_new(const struct mode_config *cfg, const char *service,
                                  const struct mode_crawl_hooks *hooks,
                                  const atomic_int *interrupt) {
  struct mode_crawl *c = calloc(1, sizeof *c);
  if (c == NULL)
    return NULL;
  c->cfg = cfg;
  if (hooks)
    c->hooks = *hooks;
  c->interrupt = interrupt;
  c->service = strdup(service);
  c->defs = sql_definitions_new();
  c->max_active = cfg->concurrency * 4 + 60;
  c->assembler.cfg = cfg;
  c->assembler.ectx =
      (struct mode_entity_ctx){c->service, cfg->host, cfg->workspace, cfg->include_owners};
  c->assembler.owners = &c->owners;
  c->sql_cancel = (struct sql_cancel){sql_stop_requested, c};
  c->assembler.cancel = &c->sql_cancel;
  c->assembler.ctx = c;
  c->assembler.emit = assembler_emit;
  c->assembler.diag = assembler_diag;
  c->assembler.filtered = assembler_filtered;
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(c->assembler.today, sizeof c->assembler.today, "%Y-%m-%d", &tm);
  struct mode_fetch_opts fo;
  mode_config_fetch_opts(cfg, interrupt, &fo);
  fo.retry.rng = (uint64_t)now ^ (uint64_t)(uintptr_t)c;
  fo.notice = fetch_notice;
  fo.notice_ctx = c;
  c->fetch_opts = fo;
  c->fetch = mode_fetch_new(&fo);
  if (c->service == NULL || c->defs == NULL || c->fetch == NULL)
    mode_crawl_free(&c);
  return c;
}

void mode_crawl_set_incremental(struct mode_crawl *c, struct mode_incr *incr,
                                uint64_t config_hash) {
  c->incr = incr;
  c->config_hash = config_hash;
}

/* A request abandoned at close: free what its argument owns. */
static void drop_arg(void *owner, void *argp) {
  (void)owner;
  struct req_arg *a = argp;
  if (a->kind == R_LISTING)
    listing_free(a->listing);
  arg_free(a);
}

void mode_crawl_free(struct mode_crawl **cp) {
  if (cp == NULL || *cp == NULL)
    return;
  struct mode_crawl *c = *cp;
  mode_fetch_free(&c->fetch, drop_arg);
  mode_discovery_free(&c->disc);
  while (c->parked) {
    struct listing *l = c->parked;
    c->parked = l->next;
    listing_free(l);
  }
  while (c->held) {
    struct listing *l = c->held;
    c->held = l->next;
    listing_free(l);
  }
  while (c->active) {
    struct mode_report *r = c->active;
    c->active = r->next;
    report_free(r);
  }
  while (c->out_head) {
    struct mode_entity *e = c->out_head;
    c->out_head = e->next;
    mode_entity_free(e);
  }
  for (size_t i = 0; i < c->n_sources; i++) {
    struct mode_data_source *d = &c->sources[i];
    free(d->id), free(d->token), free(d->name), free(d->adapter), free(d->database);
    free(d->schema);
  }
  free(c->sources);
  sql_definitions_free(&c->defs);
  mode_owners_free(&c->owners);
  mode_strset_clear(&c->seen_reports);
  mode_strset_clear(&c->members);
  mode_assembler_clear(&c->assembler);
  free(c->service);
  free(c);
  *cp = NULL;
}
