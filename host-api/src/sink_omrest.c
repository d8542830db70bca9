/*
 * sink_omrest.c -- the metadata-rest sink: entity records to an OpenMetadata server.
 *
 * The idea. write() only parses and checks a record and buffers it by kind; commit() lands the
 * whole window in dependency order, one phase after another, each phase a batch of concurrent
 * requests (omrest_client.c):
 *
 *   1. dashboard services   look up by name, create when missing (never overwrite the
 *                           server's own connection settings with our secret-less copy)
 *   2. owners               each distinct user resolved once (by name, then by email), cached
 *   3. charts, data models  PUT create-or-update, owners attached as references
 *   4. dashboards           PUT; they refer to the charts and data models of phase 3 by FQN
 *   5. lineage              each distinct end resolved once by FQN (search when a part is "*"),
 *                           cached, then PUT /v1/lineage
 *   6. usage                PUT /v1/usage/{type}/name/{fqn} (create-or-update: idempotent)
 *
 * Why buffer a window instead of streaming each record as it arrives: a dashboard must not
 * reach the server before its charts, and the plugin is free to emit in any order; the commit
 * window is exactly the unit the host needs acknowledged, so ordering inside it costs nothing
 * and every phase still runs at full concurrency. commit() returns ETL_OK only when every
 * request of the window was accepted or definitively rejected (4xx, logged with the record's
 * id and the server's message, counted); if the server stays unavailable or refuses our token,
 * commit() fails and nothing of the window is acknowledged, so the host stores no state.
 *
 * Requests are idempotent (PUT by name), so a window delivered twice changes nothing.
 */
#include "config.h"

#include "sink_omrest.h"

#include "log.h"
#include "omrest_client.h"
#include "omrest_json.h"
#include "omrest_map.h"
#include "om_custom_props.h"
#include "om_server_config.h"
#include "sink_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SINK "metadata-rest"

enum rec_kind { K_SERVICE, K_CHART, K_DATAMODEL, K_DASHBOARD, K_LINEAGE, K_USAGE, K_COUNT };

static const char *const kind_names[K_COUNT] = {"dashboardService", "chart",   "dashboardDataModel",
                                                "dashboard",        "lineage", "usage"};

/* Where each entity type lives in the REST API, and its search index. */
struct entity_api {
  const char *type;
  const char *path;
  const char *index;
};

static const struct entity_api entity_apis[] = {
    {"dashboardService", "/v1/services/dashboardServices", "dashboard_service_search_index"},
    {"chart", "/v1/charts", "chart_search_index"},
    {"dashboardDataModel", "/v1/dashboard/datamodels", "dashboard_data_model_search_index"},
    {"dashboard", "/v1/dashboards", "dashboard_search_index"},
    {"table", "/v1/tables", "table_search_index"},
    {"database", "/v1/databases", "database_search_index"},
    {"databaseSchema", "/v1/databaseSchemas", "database_schema_search_index"},
    {"topic", "/v1/topics", "topic_search_index"},
    {"pipeline", "/v1/pipelines", "pipeline_search_index"},
    {"mlmodel", "/v1/mlmodels", "mlmodel_search_index"},
    {"container", "/v1/containers", "container_search_index"},
};

static const struct entity_api *api_of(const char *type) {
  for (size_t i = 0; i < sizeof entity_apis / sizeof entity_apis[0]; i++)
    if (type && strcmp(entity_apis[i].type, type) == 0)
      return &entity_apis[i];
  return NULL;
}

struct rec {
  char *item;    /* owned: "kind id" for messages (host_sink_item: safe to print) */
  yajl_val json; /* owned: the record's json object (data and extra members) */
  long runs;     /* carried from earlier runs (pending): how many runs it has waited */
};

/* A lineage edge whose end the server does not have yet, or an entity sent without an owner or
 * a reference the server lacks, waits at most this many runs. */
#define PENDING_MAX_RUNS 30

struct rec_list {
  struct rec *v; /* owned */
  size_t n, cap;
};

struct omrest_sink {
  struct host_log *log;          /* borrowed */
  struct host_om_client *client; /* owned */
  char *source;                  /* owned: the current source's name */
  char *base_url;                /* owned: the API's URL, without trailing '/' (the destination) */
  struct rec_list buf[K_COUNT];  /* the commit window, by kind */
  struct host_om_map *ids;       /* "type:fqn" -> id, "" when the server does not know it */
  struct host_om_map *users;     /* owner name -> user id, "" when unknown */
  struct host_om_map *columns;   /* table id -> its columns, "name\tFQN\n" each; "?" asked */
  struct host_om_map *seen;      /* "type:fqn" -> SEEN_SENT or SEEN_RETAINED, this source */
  struct host_om_map *services;  /* dashboard services this source wrote to */
  struct host_om_map *warned;    /* things warned about once */
  struct host_om_map *doomed;    /* "type:fqn" -> DELETE path: unseen, awaiting the fail-safe */
  long long listed;              /* live entities listed while looking for unseen ones */
  struct host_om_map *cursors;   /* owned, during mark_deleted: listing pages asked for */
  bool listing_cut;              /* a listing was stopped early: it is incomplete */
  struct host_om_map *pending_ids; /* items of the records in `pending` (none twice) */
  char *pending;                   /* owned: JSON array elements, comma-separated, or NULL */
  struct rec_list held[K_COUNT];   /* charts, data models, dashboards the last run kept pending:
                                      sent again at end_source only if this run retained them */
  int mark_deleted; /* sink.config.markDeletedDashboards: 1, 0, or -1 when not given */
  struct host_om_custom_props *cprops; /* owned: sink.config.customProperties */
  bool source_failed; /* a commit of this source failed: never mark deletions */
  etl_status fatal;   /* set by a callback: the window cannot be acknowledged */
  struct host_omrest_counts counts;
  unsigned long late_rejected; /* rejected inside commit() and not yet taken by the runner */
};

/* One request's context, freed by its callback. */
struct call {
  struct omrest_sink *s;
  enum rec_kind kind;
  size_t idx;
  char *key; /* owned */
  char *aux; /* owned */
};

/* ---- small helpers ------------------------------------------------------------------------ */

static struct call *call_new(struct omrest_sink *s, enum rec_kind kind, size_t idx, const char *key,
                             const char *aux) {
  struct call *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->s = s;
  c->kind = kind;
  c->idx = idx;
  c->key = key ? strdup(key) : NULL;
  c->aux = aux ? strdup(aux) : NULL;
  if ((key && !c->key) || (aux && !c->aux)) {
    free(c->key);
    free(c->aux);
    free(c);
    return NULL;
  }
  return c;
}

static void call_free(struct call *c) {
  if (!c)
    return;
  free(c->key);
  free(c->aux);
  free(c);
}

/* Queues a request whose context is a fresh call; on OOM records a fatal error. */
static void queue(struct omrest_sink *s, const char *method, const char *path, const char *body,
                  host_om_done_fn done, enum rec_kind kind, size_t idx, const char *key,
                  const char *aux) {
  if (s->fatal != ETL_OK)
    return;
  struct call *c = call_new(s, kind, idx, key, aux);
  if (!c || host_om_client_add(s->client, method, path, body, done, c) != 0) {
    call_free(c);
    s->fatal = ETL_ERR_NOMEM;
  }
}

static char *escape(struct omrest_sink *s, const char *text) {
  char *e = host_om_client_escape(s->client, text);
  if (!e)
    s->fatal = ETL_ERR_NOMEM;
  return e;
}

/* "type:fqn", the key of the id cache. */
static char *type_key(const char *type, const char *fqn) {
  char *k = NULL;
  if (asprintf(&k, "%s:%s", type, fqn) < 0)
    return NULL;
  return k;
}

/* FQN of an entity `name` of service `service`: parts with a '.' are double-quoted. */
static char *child_fqn(const char *service, const char *name) {
  const char *sq = strchr(service, '.') ? "\"" : "";
  const char *nq = strchr(name, '.') ? "\"" : "";
  char *f = NULL;
  if (asprintf(&f, "%s%s%s.%s%s%s", sq, service, sq, nq, name, nq) < 0)
    return NULL;
  return f;
}

/* The FQN the server gives an entity of kind `type` (DashboardDataModelRepository: a data model
 * is "<service>.model.<name>", the service name unquoted; charts and dashboards are
 * "<service>.<name>"). Returns malloc'd text or NULL. */
static char *entity_fqn(const char *type, const char *service, const char *name) {
  if (strcmp(type, "dashboardDataModel") != 0)
    return child_fqn(service, name);
  const char *nq = strchr(name, '.') ? "\"" : "";
  char *f = NULL;
  if (asprintf(&f, "%s.model.%s%s%s", service, nq, name, nq) < 0)
    return NULL;
  return f;
}

/* The server's message from an error body ({"code", "message"}), else the body itself,
 * shortened. Returns malloc'd text. */
static char *server_message(const struct host_om_response *r) {
  char err[64];
  yajl_val v = r->body_len ? host_json_parse(r->body, r->body_len, err, sizeof err) : NULL;
  const char *m = host_json_str(v, "message");
  char *out = NULL;
  if (m)
    out = strdup(m);
  else if (asprintf(&out, "%.300s", r->body_len ? r->body : "(empty body)") < 0)
    out = NULL;
  yajl_tree_free(v);
  return out;
}

static void warn_once(struct omrest_sink *s, const char *key, const char *item, const char *msg) {
  if (host_om_map_get(s->warned, key))
    return;
  host_om_map_set(s->warned, key, "1");
  host_log_msg(s->log, ETL_SEV_WARNING, s->source, item, "%s", msg);
}

enum outcome { OUT_OK, OUT_NOT_FOUND, OUT_REJECTED, OUT_FATAL };

/* Stops the window on an answer that is not OpenMetadata's API speaking: whatever answered
 * (a login page, a proxy) stored nothing, so nothing of the window may count as delivered. */
static enum outcome not_the_api(struct omrest_sink *s, const struct host_om_response *r,
                                const char *what, const char *why) {
  if (s->fatal == ETL_OK) {
    host_log_msg(s->log, ETL_SEV_ERROR, s->source, what,
                 "OpenMetadata's answer (HTTP %ld) is %s: is hostPort the API (ending in /api), "
                 "with no login page or proxy in front? Nothing of this window counts as sent",
                 r->status, why);
    s->fatal = ETL_ERR_PROTOCOL;
  }
  return OUT_FATAL;
}

/* A 2xx body must be JSON (OpenMetadata answers every call with JSON, but PUT /v1/lineage, which
 * answers 200 with no body: empty_ok). */
static enum outcome check_json_body(struct omrest_sink *s, const struct host_om_response *r,
                                    const char *what, bool empty_ok) {
  if (r->body_len == 0)
    return empty_ok ? OUT_OK : not_the_api(s, r, what, "an empty body");
  char err[64];
  yajl_val v = host_json_parse(r->body, r->body_len, err, sizeof err);
  bool object = YAJL_IS_OBJECT(v);
  yajl_tree_free(v);
  if (object)
    return OUT_OK;
  return not_the_api(s, r, what,
                     r->body[0] == '<' ? "an HTML page, not JSON" : "not a JSON object");
}

static enum outcome classify_reply(struct omrest_sink *s, const struct host_om_response *r,
                                   const char *what, bool empty_ok);

/* Sorts a final response. Fatal answers (transport, auth, server down after retries, an answer
 * that is not the API's) are logged here and stop the window; the caller logs rejects, which
 * concern one record. */
static enum outcome classify(struct omrest_sink *s, const struct host_om_response *r,
                             const char *what) {
  return classify_reply(s, r, what, false);
}

static enum outcome classify_reply(struct omrest_sink *s, const struct host_om_response *r,
                                   const char *what, bool empty_ok) {
  if (r->transport_error) {
    /* Once: the requests queued behind the first failure end "not sent" with its reason. */
    if (s->fatal == ETL_OK)
      host_log_msg(s->log, ETL_SEV_ERROR, s->source, what, "%s: %s",
                   r->too_big ? "OpenMetadata's reply was refused"
                              : "OpenMetadata server unreachable",
                   r->transport_error);
    if (s->fatal == ETL_OK)
      s->fatal = r->connect_failed ? ETL_ERR_CONNECT : ETL_ERR_TRANSIENT;
    return OUT_FATAL;
  }
  if (r->status >= 200 && r->status < 300)
    return check_json_body(s, r, what, empty_ok);
  if (r->status < 400)
    return not_the_api(s, r, what, "a redirect or another non-final status");
  if (r->status == 404)
    return OUT_NOT_FOUND;
  if (r->status == 401 || r->status == 403 || r->status == 429 || r->status >= 500) {
    char *m = server_message(r);
    bool auth = r->status == 401 || r->status == 403;
    if (s->fatal == ETL_OK)
      host_log_msg(s->log, ETL_SEV_ERROR, s->source, what, "%s (HTTP %ld): %s",
                   auth ? "OpenMetadata refused the credentials (check securityConfig.jwtToken)"
                        : "OpenMetadata kept failing, gave up after retries",
                   r->status, m ? m : "");
    free(m);
    if (s->fatal == ETL_OK)
      s->fatal = auth ? ETL_ERR_AUTH : ETL_ERR_TRANSIENT;
    return OUT_FATAL;
  }
  return OUT_REJECTED;
}

static void reject(struct omrest_sink *s, enum rec_kind kind, size_t idx,
                   const struct host_om_response *r) {
  char *m = server_message(r);
  const char *item = s->buf[kind].v[idx].item;
  host_log_msg(s->log, ETL_SEV_ERROR, s->source, item, "rejected by OpenMetadata (HTTP %ld): %s",
               r->status, m ? m : "");
  free(m);
  s->counts.rejected++;
  s->late_rejected++;
}

/* Caches the id and FQN an entity answer carries, under "type:fqn". */
static void remember_entity(struct omrest_sink *s, const char *type,
                            const struct host_om_response *r) {
  char err[64];
  yajl_val v = host_json_parse(r->body, r->body_len, err, sizeof err);
  const char *id = host_json_str(v, "id");
  const char *fqn = host_json_str(v, "fullyQualifiedName");
  char *key = id && fqn ? type_key(type, fqn) : NULL;
  if (key)
    host_om_map_set(s->ids, key, id);
  free(key);
  yajl_tree_free(v);
}

/* The id a successful answer names: an entity's "id", or for a search (search = true) the first
 * hit's, with the number of hits in *hits. *tree gets the parsed body (caller frees it). */
/* The next part of an FQN at *p (quotes kept out), advancing *p past it and its '.'. Returns
 * the part's length; *start gets where it begins. */
static size_t fqn_part(const char **p, const char **start) {
  const char *q = *p;
  bool quoted = *q == '"';
  *start = quoted ? q + 1 : q;
  const char *end = quoted ? strchr(q + 1, '"') : strchr(q, '.');
  if (!end)
    end = q + strlen(q);
  size_t n = (size_t)(end - *start);
  if (quoted && *end == '"')
    end++;
  *p = *end == '.' ? end + 1 : end;
  return n;
}

/* True when `fqn` is what `pattern` names: the same number of parts, each equal ignoring case,
 * where a pattern part "*" (a database the SQL did not name) matches any one part. */
static bool fqn_matches(const char *pattern, const char *fqn) {
  const char *p = pattern, *f = fqn;
  while (*p && *f) {
    const char *ps, *fs;
    size_t pn = fqn_part(&p, &ps), fn = fqn_part(&f, &fs);
    bool any = pn == 1 && *ps == '*';
    if (!any && (pn != fn || strncasecmp(ps, fs, pn) != 0))
      return false;
  }
  return !*p && !*f;
}

/* The id a successful answer names: an entity's "id", or for a search (field non-NULL) the id
 * of the hits whose _source[field] is what was looked for (`want`: an FQN pattern, or an email
 * compared ignoring case), with the number of such hits in *hits; an unrelated hit never
 * counts. *tree gets the parsed body (caller frees it). */
static const char *answer_id(const struct host_om_response *r, const char *field, const char *want,
                             size_t *hits, yajl_val *tree) {
  char err[64];
  *tree = host_json_parse(r->body, r->body_len, err, sizeof err);
  if (!field)
    return host_json_str(*tree, "id");
  yajl_val list = host_json_get(host_json_get(*tree, "hits"), "hits");
  const char *id = NULL;
  *hits = 0;
  for (size_t i = 0; YAJL_IS_ARRAY(list) && i < list->u.array.len; i++) {
    yajl_val src = host_json_get(list->u.array.values[i], "_source");
    const char *got = host_json_str(src, field), *hit_id = host_json_str(src, "id");
    bool match =
        got && hit_id &&
        (strcmp(field, "email") == 0 ? strcasecmp(got, want) == 0 : fqn_matches(want, got));
    if (match && (*hits)++ == 0)
      id = hit_id;
  }
  return id;
}

/* ---- config ------------------------------------------------------------------------------- */

/* Reads sink.config: our own keys only; an unknown key is an error naming it. */
static etl_status parse_sink_config(struct omrest_sink *s, const char *config_json,
                                    struct host_om_client_config *cc) {
  static const char *const allowed[] = {
      "concurrency",           "retries",          "retryBackoffMs", "timeoutSeconds",
      "markDeletedDashboards", "customProperties", NULL};
  yajl_val cfg = NULL;
  long long concurrency = 8, retries = 5, backoff = 500, timeout = 30;
  etl_status st = host_sink_config_parse(config_json, SINK, allowed, s->log, &cfg);
  if (st == ETL_OK)
    st = host_sink_config_int(cfg, "concurrency", 8, 1, 64, s->log, &concurrency);
  if (st == ETL_OK)
    st = host_sink_config_int(cfg, "retries", 5, 0, 20, s->log, &retries);
  if (st == ETL_OK)
    st = host_sink_config_int(cfg, "retryBackoffMs", 500, 1, 60000, s->log, &backoff);
  if (st == ETL_OK)
    st = host_sink_config_int(cfg, "timeoutSeconds", 30, 1, 3600, s->log, &timeout);
  yajl_val mark = host_json_get(cfg, "markDeletedDashboards");
  if (st == ETL_OK && mark && !YAJL_IS_TRUE(mark) && !YAJL_IS_FALSE(mark)) {
    host_log_msg(s->log, ETL_SEV_ERROR, NULL, NULL,
                 "sink.config.markDeletedDashboards: must be true or false");
    st = ETL_ERR_CONFIG;
  }
  s->mark_deleted = YAJL_IS_TRUE(mark) ? 1 : YAJL_IS_FALSE(mark) ? 0 : -1;
  yajl_val cp = host_json_get(cfg, "customProperties");
  if (st == ETL_OK && cp && !YAJL_IS_TRUE(cp) && !YAJL_IS_FALSE(cp)) {
    host_log_msg(s->log, ETL_SEV_ERROR, NULL, NULL,
                 "sink.config.customProperties: must be true or false");
    st = ETL_ERR_CONFIG;
  }
  if (st == ETL_OK && !(s->cprops = host_om_custom_props_new(YAJL_IS_TRUE(cp))))
    st = ETL_ERR_NOMEM;
  cc->concurrency = (long)concurrency;
  cc->retries = (long)retries;
  cc->backoff_ms = (long)backoff;
  cc->timeout_ms = (long)timeout * 1000;
  yajl_tree_free(cfg);
  return st;
}

static void omrest_destroy(void **sinkp);

static etl_status omrest_create(const char *config_json, const char *workflow_json,
                                struct host_log *log, void **sinkp) {
  etl_status st = ETL_ERR_NOMEM;
  yajl_val wf = NULL;
  struct omrest_sink *s = calloc(1, sizeof *s);
  *sinkp = NULL;
  if (!s)
    return ETL_ERR_NOMEM;
  s->log = log;
  s->ids = host_om_map_new();
  s->users = host_om_map_new();
  s->columns = host_om_map_new();
  s->seen = host_om_map_new();
  s->services = host_om_map_new();
  s->warned = host_om_map_new();
  s->doomed = host_om_map_new();
  s->pending_ids = host_om_map_new();
  if (!s->ids || !s->users || !s->columns || !s->seen || !s->services || !s->warned || !s->doomed ||
      !s->pending_ids)
    goto out;
  char err[256];
  wf = host_json_parse(workflow_json ? workflow_json : "{}",
                       workflow_json ? strlen(workflow_json) : 2, err, sizeof err);
  if (!wf) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, "workflowConfig", "not valid JSON: %s", err);
    st = ETL_ERR_CONFIG;
    goto out;
  }
  struct host_om_client_config cc = {.verify_tls = true};
  st = host_om_server_config(wf, log, false, &cc);
  if (st == ETL_OK)
    st = parse_sink_config(s, config_json, &cc);
  if (st != ETL_OK)
    goto out;
  s->client = host_om_client_new(&cc, log);
  s->base_url = strdup(cc.base_url);
  st = s->client && s->base_url ? ETL_OK : ETL_ERR_NOMEM;
  for (size_t n = s->base_url ? strlen(s->base_url) : 0; n > 0 && s->base_url[n - 1] == '/'; n--)
    s->base_url[n - 1] = '\0';
out:
  yajl_tree_free(wf);
  if (st == ETL_OK)
    *sinkp = s;
  else
    omrest_destroy((void **)&s);
  return st;
}

/* ---- the window --------------------------------------------------------------------------- */

static void clear_held(struct omrest_sink *s);

static void clear_window(struct omrest_sink *s) {
  for (int k = 0; k < K_COUNT; k++) {
    for (size_t i = 0; i < s->buf[k].n; i++) {
      free(s->buf[k].v[i].item);
      yajl_tree_free(s->buf[k].v[i].json);
    }
    s->buf[k].n = 0;
  }
}

static etl_status omrest_begin_source(void *sink, const char *source, const char *plugin_type) {
  struct omrest_sink *s = sink;
  char *copy = strdup(source ? source : "");
  if (!copy)
    return ETL_ERR_NOMEM;
  free(s->source);
  s->source = copy;
  host_om_map_clear(s->seen);
  host_om_map_clear(s->services);
  s->source_failed = false;
  /* What a failed end of the last source kept and nobody took: it is still in the store. */
  free(s->pending);
  s->pending = NULL;
  host_om_map_clear(s->pending_ids);
  clear_held(s);
  return ETL_OK;
}

/* Values of `seen`: an entity this source sent in this run, or retained (unchanged, not sent
 * again). A pending copy kept by the last run is sent again only for a retained one. */
static const char SEEN_SENT[] = "sent", SEEN_RETAINED[] = "retained";

static int kind_index(const char *kind) {
  for (int k = 0; k < K_COUNT; k++)
    if (strcmp(kind, kind_names[k]) == 0)
      return k;
  return -1;
}

/* A `retain`: the source's dashboards, charts or data models that exist unchanged and were not
 * sent again count as seen, so that markDeletedDashboards leaves them alone. Their FQN is
 * service.id (docs/entities.md: the name is the id, the service the source's serviceName).
 * Other kinds (lineage, usage) have nothing to sweep: ignored. */
static etl_status omrest_retain(void *sink, const char *source, const char *kind,
                                const char *const *ids, size_t n) {
  struct omrest_sink *s = sink;
  int k = kind_index(kind);
  if (k != K_DASHBOARD && k != K_DATAMODEL && k != K_CHART)
    return ETL_OK;
  if (n)
    host_om_map_set(s->services, source, "1");
  for (size_t i = 0; i < n; i++) {
    char *fqn = entity_fqn(kind, source, ids[i]);
    char *key = fqn ? type_key(kind, fqn) : NULL;
    int ok =
        key && (host_om_map_get(s->seen, key) || host_om_map_set(s->seen, key, SEEN_RETAINED) == 0);
    free(key);
    free(fqn);
    if (!ok)
      return ETL_ERR_NOMEM;
  }
  return ETL_OK;
}

/* Checks what each kind needs before anything is sent; returns NULL or what is missing. */
static const char *record_problem(enum rec_kind k, yajl_val json) {
  yajl_val data = host_json_get(json, "data");
  if (!YAJL_IS_OBJECT(data))
    return "'data' is missing or not an object";
  switch (k) {
  case K_SERVICE:
    return host_json_str(data, "name") ? NULL : "data.name is missing";
  case K_CHART:
  case K_DATAMODEL:
  case K_DASHBOARD:
    if (!host_json_str(data, "name"))
      return "data.name is missing";
    return host_json_str(data, "service") ? NULL : "data.service is missing";
  case K_LINEAGE:
    for (int end = 0; end < 2; end++) {
      yajl_val e = host_json_get(data, end ? "toEntity" : "fromEntity");
      if (!host_json_str(e, "type") || !host_json_str(e, "fullyQualifiedName"))
        return end ? "data.toEntity needs type and fullyQualifiedName"
                   : "data.fromEntity needs type and fullyQualifiedName";
    }
    return NULL;
  case K_USAGE: {
    yajl_val e = host_json_get(json, "entity");
    if (!host_json_str(e, "type") || !host_json_str(e, "fullyQualifiedName"))
      return "'entity' needs type and fullyQualifiedName";
    return NULL;
  }
  default:
    return "unknown kind";
  }
}

static etl_status omrest_write(void *sink, const struct host_record *rec, bool *rejected) {
  struct omrest_sink *s = sink;
  *rejected = false;
  int k = kind_index(rec->kind);
  if (k < 0) {
    char key[128];
    snprintf(key, sizeof key, "kind:%s", rec->kind);
    warn_once(s, key, rec->kind, "kind has no OpenMetadata mapping; records of it are skipped");
    return ETL_OK;
  }
  char item[300];
  host_sink_item(rec, item, sizeof item);
  char err[256];
  yajl_val json = host_json_parse(rec->json, rec->json_len, err, sizeof err);
  const char *problem = json ? record_problem((enum rec_kind)k, json) : err;
  if (problem) {
    host_log_msg(s->log, ETL_SEV_ERROR, s->source, item, "not sent to OpenMetadata: %s", problem);
    yajl_tree_free(json);
    s->counts.rejected++;
    *rejected = true;
    return ETL_OK;
  }
  struct rec_list *l = &s->buf[k];
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    struct rec *v = realloc(l->v, cap * sizeof *v);
    if (!v) {
      yajl_tree_free(json);
      return ETL_ERR_NOMEM;
    }
    l->v = v;
    l->cap = cap;
  }
  char *copy = strdup(item);
  if (!copy) {
    yajl_tree_free(json);
    return ETL_ERR_NOMEM;
  }
  l->v[l->n++] = (struct rec){copy, json, 0};
  return ETL_OK;
}

/* ---- pending: what waits for something the server does not have yet ---------------------- */

/* Two kinds of record wait, kept apart because they come back differently:
 *
 * - a lineage edge whose end the server lacks is sent again on every later run until the end
 *   exists (it has nothing else to wait for);
 * - a chart, data model or dashboard sent without an owner who is not (yet) a user of the
 *   server, or a dashboard without a chart or data model the server lacks, is kept as it was
 *   sent ("kind" in the kept element). Dashboards come before the database metadata and before
 *   users sign in, so this is the normal first-run order, and an incremental run would never
 *   send those records again. But the copy is only as true as the source says: at end_source
 *   it is sent again only when the source retained the entity (unchanged in Mode); one the
 *   source sent anew is superseded by that record, and one the source no longer has is dropped
 *   (sending it would bring a deleted dashboard back to life; mark_deleted then removes it). */

/* Keeps record rc of kind k for the next run (once per item), unless it waited too long. */
static void pending_add(struct omrest_sink *s, enum rec_kind k, const struct rec *rc) {
  if (host_om_map_get(s->pending_ids, rc->item))
    return;
  if (rc->runs + 1 > PENDING_MAX_RUNS) {
    host_log_msg(s->log, ETL_SEV_WARNING, s->source, rc->item,
                 "still unresolved after %d runs: no longer retried", PENDING_MAX_RUNS);
    return;
  }
  yajl_gen g = yajl_gen_alloc(NULL);
  if (!g) {
    s->fatal = ETL_ERR_NOMEM;
    return;
  }
  yajl_gen_map_open(g);
  host_json_gen_str(g, "item");
  host_json_gen_str(g, rc->item);
  if (k != K_LINEAGE) { /* lineage has none: what an older etlhost kept still reads as lineage */
    host_json_gen_str(g, "kind");
    host_json_gen_str(g, kind_names[k]);
  }
  host_json_gen_str(g, "runs");
  yajl_gen_integer(g, rc->runs + 1);
  host_json_gen_str(g, "record");
  host_json_gen_value(g, rc->json);
  yajl_gen_map_close(g);
  char *el = host_json_gen_take(g), *joined = NULL;
  yajl_gen_free(g);
  if (!el ||
      asprintf(&joined, "%s%s%s", s->pending ? s->pending : "", s->pending ? "," : "", el) < 0) {
    free(el);
    s->fatal = ETL_ERR_NOMEM;
    return;
  }
  free(el);
  free(s->pending);
  s->pending = joined;
  host_om_map_set(s->pending_ids, rc->item, "1");
  if (k == K_LINEAGE)
    s->counts.pending++;
  else
    s->counts.entities_pending++;
}

/* Appends a copy of rec (item, runs) to l. */
static etl_status rec_list_add_copy(struct rec_list *l, const char *item, yajl_val rec, long runs) {
  char err[128];
  yajl_gen g = yajl_gen_alloc(NULL);
  if (!g)
    return ETL_ERR_NOMEM;
  host_json_gen_value(g, rec);
  char *text = host_json_gen_take(g);
  yajl_gen_free(g);
  yajl_val copy = text ? host_json_parse(text, strlen(text), err, sizeof err) : NULL;
  free(text);
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    struct rec *v = realloc(l->v, cap * sizeof *v);
    if (v) {
      l->v = v;
      l->cap = cap;
    }
  }
  char *item_copy = strdup(item);
  if (!copy || !item_copy || l->n == l->cap) {
    yajl_tree_free(copy);
    free(item_copy);
    return ETL_ERR_NOMEM;
  }
  l->v[l->n++] = (struct rec){item_copy, copy, runs};
  return ETL_OK;
}

/* What the previous run kept: its edges go into this window's lineage, as if the source sent
 * them; its entities wait in `held` for end_source, which knows what the source still has. */
static etl_status omrest_load_pending(void *sink, const char *source, const char *json,
                                      size_t len) {
  struct omrest_sink *s = sink;
  char err[128];
  yajl_val list = host_json_parse(json, len, err, sizeof err);
  etl_status st = ETL_OK;
  for (size_t i = 0; YAJL_IS_ARRAY(list) && i < list->u.array.len && st == ETL_OK; i++) {
    yajl_val el = list->u.array.values[i];
    const char *item = host_json_str(el, "item"), *kind = host_json_str(el, "kind");
    yajl_val rec = host_json_get(el, "record"), runs = host_json_get(el, "runs");
    int k = kind ? kind_index(kind) : K_LINEAGE;
    bool entity = k == K_CHART || k == K_DATAMODEL || k == K_DASHBOARD;
    if (!item || !YAJL_IS_OBJECT(rec) || (!entity && k != K_LINEAGE) || (kind && k == K_LINEAGE) ||
        record_problem((enum rec_kind)k, rec))
      continue; /* not ours, or damaged: nothing to retry */
    st = rec_list_add_copy(entity ? &s->held[k] : &s->buf[K_LINEAGE], item, rec,
                           YAJL_IS_INTEGER(runs) ? (long)runs->u.number.i : 1);
  }
  if (!list)
    host_log_msg(s->log, ETL_SEV_WARNING, source, SINK,
                 "the pending records kept by the last run are unreadable (%s): not retried", err);
  yajl_tree_free(list);
  return st;
}

static void clear_held(struct omrest_sink *s) {
  for (int k = 0; k < K_COUNT; k++) {
    for (size_t i = 0; i < s->held[k].n; i++) {
      free(s->held[k].v[i].item);
      yajl_tree_free(s->held[k].v[i].json);
    }
    s->held[k].n = 0;
  }
}

/* The "type:fqn" key of a chart, data model or dashboard record (malloc'd, NULL on OOM). */
static char *entity_key(enum rec_kind k, yajl_val json) {
  yajl_val data = host_json_get(json, "data");
  char *fqn =
      entity_fqn(kind_names[k], host_json_str(data, "service"), host_json_str(data, "name"));
  char *key = fqn ? type_key(kind_names[k], fqn) : NULL;
  free(fqn);
  return key;
}

/* Sorts the entities the last run kept (see above): those this run retained go into the window
 * to be sent again, those it sent anew are superseded, those it no longer has are dropped after
 * a complete run and kept after an incomplete one (it may not have got that far). A failed
 * source keeps them all. Returns whether the window has any to send. */
static bool sort_held(struct omrest_sink *s, bool complete) {
  bool any = false;
  for (int k = K_CHART; k <= K_DASHBOARD; k++) {
    for (size_t i = 0; i < s->held[k].n && s->fatal == ETL_OK; i++) {
      struct rec *rc = &s->held[k].v[i];
      char *key = entity_key((enum rec_kind)k, rc->json);
      const char *seen = key ? host_om_map_get(s->seen, key) : NULL;
      bool oom = !key;
      free(key);
      if (oom) {
        s->fatal = ETL_ERR_NOMEM;
      } else if (s->source_failed || (!seen && !complete)) {
        pending_add(s, (enum rec_kind)k, rc);
      } else if (seen && strcmp(seen, SEEN_RETAINED) == 0) {
        if (rec_list_add_copy(&s->buf[k], rc->item, rc->json, rc->runs) != ETL_OK)
          s->fatal = ETL_ERR_NOMEM;
        any = true;
      } else if (!seen) {
        host_log_msg(s->log, ETL_SEV_INFO, s->source, rc->item,
                     "no longer in the source: dropped from the pending records");
      }
    }
  }
  clear_held(s);
  return any;
}

/* What still waits, as a JSON array, for the runner to keep until the next run. */
static char *omrest_take_pending(void *sink, const char *source) {
  struct omrest_sink *s = sink;
  (void)source;
  char *out = NULL;
  if (asprintf(&out, "[%s]", s->pending ? s->pending : "") < 0)
    out = NULL;
  free(s->pending);
  s->pending = NULL;
  host_om_map_clear(s->pending_ids);
  return out;
}

/* ---- phase 1: services -------------------------------------------------------------------- */

static void on_entity_put(void *ctx, const struct host_om_response *r);
static char *gen_body(yajl_val data, yajl_val owners_refs);
static bool is_the_entity(struct omrest_sink *s, const struct host_om_response *r,
                          enum rec_kind kind, size_t idx);

/* What gen_known_refs needs to name a dashboard's dropped references. */
struct dash_refs {
  struct omrest_sink *s;
  const char *item;    /* borrowed: the dashboard's record */
  yajl_val extension;  /* borrowed: its custom properties to send, or NULL (om_custom_props.h) */
};

static void on_service_get(void *ctx, const struct host_om_response *r) {
  struct call *c = ctx;
  struct omrest_sink *s = c->s;
  enum outcome o = classify(s, r, "dashboardService");
  if (o == OUT_OK && is_the_entity(s, r, K_SERVICE, c->idx)) {
    remember_entity(s, "dashboardService", r);
    s->counts.accepted++;
  } else if (o == OUT_NOT_FOUND) {
    char *body = gen_body(host_json_get(s->buf[K_SERVICE].v[c->idx].json, "data"), NULL);
    if (!body)
      s->fatal = ETL_ERR_NOMEM;
    else
      queue(s, "PUT", "/v1/services/dashboardServices", body, on_entity_put, K_SERVICE, c->idx,
            NULL, NULL);
    free(body);
  } else if (o == OUT_REJECTED) {
    reject(s, c->kind, c->idx, r);
  }
  call_free(c);
}

static void flush_services(struct omrest_sink *s) {
  for (size_t i = 0; i < s->buf[K_SERVICE].n; i++) {
    const char *name = host_json_str(host_json_get(s->buf[K_SERVICE].v[i].json, "data"), "name");
    host_om_map_set(s->services, name, "1");
    char *e = escape(s, name);
    char *path = NULL;
    if (e && asprintf(&path, "/v1/services/dashboardServices/name/%s", e) >= 0)
      queue(s, "GET", path, NULL, on_service_get, K_SERVICE, i, NULL, NULL);
    free(path);
    free(e);
  }
}

/* ---- phase 2: owners ---------------------------------------------------------------------- */

static void owner_unknown(struct omrest_sink *s, const char *name, const char *email) {
  host_om_map_set(s->users, name, "");
  s->counts.owners_unknown++;
  char item[300];
  snprintf(item, sizeof item, "owner %s", name);
  host_log_msg(s->log, ETL_SEV_WARNING, s->source, item,
               "no OpenMetadata user with this name%s%s; entities keep no owner",
               email ? " or email " : "", email ? email : "");
}

static void on_user_search(void *ctx, const struct host_om_response *r) {
  struct call *c = ctx;
  struct omrest_sink *s = c->s;
  enum outcome o = classify(s, r, "users");
  size_t hits = 0;
  yajl_val v = NULL;
  const char *id = o == OUT_OK ? answer_id(r, "email", c->aux, &hits, &v) : NULL;
  if (id)
    host_om_map_set(s->users, c->key, id);
  else if (o != OUT_FATAL)
    owner_unknown(s, c->key, c->aux);
  yajl_tree_free(v);
  call_free(c);
}

static void on_user_get(void *ctx, const struct host_om_response *r) {
  struct call *c = ctx;
  struct omrest_sink *s = c->s;
  enum outcome o = classify(s, r, "users");
  size_t hits = 0;
  yajl_val v = NULL;
  const char *id = o == OUT_OK ? answer_id(r, NULL, NULL, &hits, &v) : NULL;
  if (id) {
    host_om_map_set(s->users, c->key, id);
  } else if (o != OUT_FATAL && c->aux) {
    /* Mode user names seldom equal OpenMetadata's; the email is the better key. */
    char *q = NULL, *eq = NULL, *path = NULL;
    if (asprintf(&q, "email.keyword:\"%s\"", c->aux) >= 0 && (eq = escape(s, q)) &&
        asprintf(&path, "/v1/search/query?q=%s&index=user_search_index&from=0&size=10", eq) >= 0)
      queue(s, "GET", path, NULL, on_user_search, K_CHART, 0, c->key, c->aux);
    free(q);
    free(eq);
    free(path);
  } else if (o != OUT_FATAL) {
    owner_unknown(s, c->key, NULL);
  }
  yajl_tree_free(v);
  call_free(c);
}

static void resolve_owners_of(struct omrest_sink *s, enum rec_kind k) {
  for (size_t i = 0; i < s->buf[k].n; i++) {
    yajl_val owners = host_json_get(s->buf[k].v[i].json, "owners");
    for (size_t j = 0; YAJL_IS_ARRAY(owners) && j < owners->u.array.len; j++) {
      yajl_val o = owners->u.array.values[j];
      const char *type = host_json_str(o, "type");
      const char *name = host_json_str(o, "name");
      const char *email = host_json_str(o, "email");
      if ((type && strcmp(type, "user") != 0) || !name || host_om_map_get(s->users, name))
        continue;
      host_om_map_set(s->users, name, "?"); /* pending: asked once */
      char *e = escape(s, name);
      char *path = NULL;
      if (e && asprintf(&path, "/v1/users/name/%s", e) >= 0)
        queue(s, "GET", path, NULL, on_user_get, k, i, name, email);
      free(path);
      free(e);
    }
  }
}

/* ---- phases 3 and 4: charts, data models, dashboards -------------------------------------- */

static const char *ref_id(struct omrest_sink *s, const char *type, const char *fqn);

/* A dashboard's list of chart or data model FQNs, without those the server does not have:
 * OpenMetadata refuses the whole dashboard for one missing reference (DashboardMapper), and its
 * own connectors list only what they created. Each one left out is a warning naming it. */
static yajl_gen_status gen_known_refs(struct dash_refs *dr, yajl_gen g, const char *type,
                                      yajl_val list) {
  yajl_gen_status st = yajl_gen_array_open(g);
  for (size_t i = 0; st == yajl_gen_status_ok && i < list->u.array.len; i++) {
    const char *fqn = YAJL_GET_STRING(list->u.array.values[i]);
    if (fqn && ref_id(dr->s, type, fqn)) {
      st = host_json_gen_str(g, fqn);
      continue;
    }
    host_log_msg(dr->s->log, ETL_SEV_WARNING, dr->s->source, dr->item,
                 "%s %s is not in OpenMetadata: left out of the dashboard", type,
                 fqn ? fqn : "(not a string)");
    dr->s->counts.refs_dropped++;
  }
  return st == yajl_gen_status_ok ? yajl_gen_array_close(g) : st;
}

/* The create request: data's members, with owners replaced by resolved references, and for a
 * dashboard (dr non-NULL) its charts and data models limited to those the server has. */
static char *gen_body_refs(yajl_val data, yajl_val owners_refs, struct dash_refs *dr) {
  yajl_gen g = yajl_gen_alloc(NULL);
  if (!g)
    return NULL;
  yajl_gen_status st = yajl_gen_map_open(g);
  for (size_t i = 0; st == yajl_gen_status_ok && i < data->u.object.len; i++) {
    const char *key = data->u.object.keys[i];
    yajl_val value = data->u.object.values[i];
    if (owners_refs && strcmp(key, "owners") == 0)
      continue;
    st = host_json_gen_str(g, key);
    bool charts = strcmp(key, "charts") == 0, models = strcmp(key, "dataModels") == 0;
    if (st == yajl_gen_status_ok && dr && (charts || models) && YAJL_IS_ARRAY(value))
      st = gen_known_refs(dr, g, charts ? "chart" : "dashboardDataModel", value);
    else if (st == yajl_gen_status_ok)
      st = host_json_gen_value(g, value);
  }
  if (st == yajl_gen_status_ok && dr && dr->extension) {
    st = host_json_gen_str(g, "extension");
    if (st == yajl_gen_status_ok)
      st = host_json_gen_value(g, dr->extension);
  }
  if (st == yajl_gen_status_ok && owners_refs) {
    st = host_json_gen_str(g, "owners");
    if (st == yajl_gen_status_ok)
      st = host_json_gen_value(g, owners_refs);
  }
  if (st == yajl_gen_status_ok)
    st = yajl_gen_map_close(g);
  char *out = st == yajl_gen_status_ok ? host_json_gen_take(g) : NULL;
  yajl_gen_free(g);
  return out;
}

static char *gen_body(yajl_val data, yajl_val owners_refs) {
  return gen_body_refs(data, owners_refs, NULL);
}

/* Resolved owner references of a record as a JSON array text, or NULL when it has none. */
static char *owner_refs_text(struct omrest_sink *s, yajl_val json) {
  yajl_val owners = host_json_get(json, "owners");
  if (!YAJL_IS_ARRAY(owners) || owners->u.array.len == 0)
    return NULL;
  yajl_gen g = yajl_gen_alloc(NULL);
  if (!g)
    return NULL;
  yajl_gen_array_open(g);
  size_t n = 0;
  for (size_t j = 0; j < owners->u.array.len; j++) {
    const char *name = host_json_str(owners->u.array.values[j], "name");
    const char *id = name ? host_om_map_get(s->users, name) : NULL;
    if (!id || !*id || strcmp(id, "?") == 0)
      continue;
    yajl_gen_map_open(g);
    host_json_gen_str(g, "id");
    host_json_gen_str(g, id);
    host_json_gen_str(g, "type");
    host_json_gen_str(g, "user");
    yajl_gen_map_close(g);
    n++;
  }
  yajl_gen_array_close(g);
  char *out = n ? host_json_gen_take(g) : NULL;
  yajl_gen_free(g);
  return out;
}

/* Whether one of the record's user owners is not a user of the server (owner_unknown). */
static bool has_unknown_owner(struct omrest_sink *s, yajl_val json) {
  yajl_val owners = host_json_get(json, "owners");
  for (size_t j = 0; YAJL_IS_ARRAY(owners) && j < owners->u.array.len; j++) {
    const char *type = host_json_str(owners->u.array.values[j], "type");
    const char *name = host_json_str(owners->u.array.values[j], "name");
    const char *id =
        name && (!type || strcmp(type, "user") == 0) ? host_om_map_get(s->users, name) : NULL;
    if (id && !*id)
      return true;
  }
  return false;
}

/* True when a create-or-update answer is the entity sent: a JSON object with an "id" and the
 * "name" of the request. Otherwise logs why and stops the window. */
static bool is_the_entity(struct omrest_sink *s, const struct host_om_response *r,
                          enum rec_kind kind, size_t idx) {
  const char *item = s->buf[kind].v[idx].item;
  const char *sent = host_json_str(host_json_get(s->buf[kind].v[idx].json, "data"), "name");
  char err[64];
  yajl_val v = host_json_parse(r->body, r->body_len, err, sizeof err);
  const char *id = host_json_str(v, "id"), *name = host_json_str(v, "name");
  bool same = id && *id && name && sent && strcmp(name, sent) == 0;
  yajl_tree_free(v);
  if (!same)
    not_the_api(s, r, item, id ? "another entity than the one sent" : "JSON without an id");
  return same;
}

/* The answer to a create-or-update (or lineage, usage): accepted, or one record rejected. */
static void on_entity_put(void *ctx, const struct host_om_response *r) {
  struct call *c = ctx;
  struct omrest_sink *s = c->s;
  bool entity = c->kind != K_LINEAGE && c->kind != K_USAGE;
  switch (classify_reply(s, r, s->buf[c->kind].v[c->idx].item, c->kind == K_LINEAGE)) {
  case OUT_OK:
    if (entity && !is_the_entity(s, r, c->kind, c->idx))
      break;
    remember_entity(s, kind_names[c->kind], r);
    s->counts.accepted++;
    break;
  case OUT_REJECTED:
  case OUT_NOT_FOUND:
    reject(s, c->kind, c->idx, r);
    break;
  case OUT_FATAL:
    break;
  }
  call_free(c);
}

static void put_entities(struct omrest_sink *s, enum rec_kind k, const char *path) {
  bool with_ext = false; /* a dashboard of the window has custom properties */
  for (size_t i = 0; k == K_DASHBOARD && i < s->buf[k].n; i++)
    with_ext |= host_json_get(s->buf[k].v[i].json, "extension") != NULL;
  bool send_ext = with_ext && host_om_custom_props_ready(s->cprops, s->client, s->log, s->source);
  for (size_t i = 0; i < s->buf[k].n && s->fatal == ETL_OK; i++) {
    yajl_val json = s->buf[k].v[i].json;
    yajl_val data = host_json_get(json, "data");
    char *fqn =
        entity_fqn(kind_names[k], host_json_str(data, "service"), host_json_str(data, "name"));
    char *key = fqn ? type_key(kind_names[k], fqn) : NULL;
    char *refs_text = owner_refs_text(s, json);
    char err[64];
    yajl_val refs =
        refs_text ? host_json_parse(refs_text, strlen(refs_text), err, sizeof err) : NULL;
    struct dash_refs dr = {s, s->buf[k].v[i].item,
                           send_ext ? host_json_get(json, "extension") : NULL};
    unsigned long dropped = s->counts.refs_dropped;
    char *body = gen_body_refs(data, refs, k == K_DASHBOARD ? &dr : NULL);
    if (!key || !body)
      s->fatal = ETL_ERR_NOMEM;
    else {
      /* Sent without what the server lacks: kept, to be sent whole on a later run. */
      if (s->counts.refs_dropped != dropped || has_unknown_owner(s, json))
        pending_add(s, k, &s->buf[k].v[i]);
      host_om_map_set(s->seen, key, SEEN_SENT); /* whatever the server says: not deleted */
      host_om_map_set(s->services, host_json_str(data, "service"), "1");
      queue(s, "PUT", path, body, on_entity_put, k, i, NULL, NULL);
    }
    free(body);
    yajl_tree_free(refs);
    free(refs_text);
    free(key);
    free(fqn);
  }
}

/* ---- phase 5: lineage --------------------------------------------------------------------- */

/* Escapes an FQN for a search query_string, keeping '*' as the wildcard. */
static char *search_fqn_query(const char *fqn) {
  size_t n = strlen(fqn);
  char *out = malloc(2 * n + 32);
  if (!out)
    return NULL;
  char *w = out + sprintf(out, "fullyQualifiedName:");
  for (const char *p = fqn; *p; p++) {
    if (strchr("+-=&|><!(){}[]^\"~?:\\/ ", *p))
      *w++ = '\\';
    *w++ = *p;
  }
  *w = '\0';
  return out;
}

static void on_end_resolved(void *ctx, const struct host_om_response *r) {
  struct call *c = ctx; /* key: "type:fqn"; aux set for a search */
  struct omrest_sink *s = c->s;
  enum outcome o = classify(s, r, c->key);
  size_t hits = 0;
  yajl_val v = NULL;
  const char *want = strchr(c->key, ':') + 1; /* key is "type:fqn" */
  const char *id =
      o == OUT_OK ? answer_id(r, c->aux ? "fullyQualifiedName" : NULL, want, &hits, &v) : NULL;
  if (hits > 1) {
    char *k = NULL;
    if (asprintf(&k, "ambiguous:%s", c->key) >= 0)
      warn_once(s, k, c->key, "several entities match; lineage from it is skipped");
    free(k);
    id = NULL;
  }
  if (o != OUT_FATAL)
    host_om_map_set(s->ids, c->key, id ? id : "");
  yajl_tree_free(v);
  call_free(c);
}

static void resolve_end(struct omrest_sink *s, yajl_val end) {
  const char *type = host_json_str(end, "type");
  const char *fqn = host_json_str(end, "fullyQualifiedName");
  char *key = type_key(type, fqn);
  const struct entity_api *api = api_of(type);
  if (!key || host_om_map_get(s->ids, key) || !api) {
    if (key && !api && !host_om_map_get(s->ids, key))
      host_om_map_set(s->ids, key, "");
    free(key);
    return;
  }
  host_om_map_set(s->ids, key, "?");
  char *path = NULL, *e = NULL, *q = NULL;
  if (strchr(fqn, '*')) {
    q = search_fqn_query(fqn);
    e = q ? escape(s, q) : NULL;
    if (e && asprintf(&path, "/v1/search/query?q=%s&index=%s&from=0&size=10", e, api->index) >= 0)
      queue(s, "GET", path, NULL, on_end_resolved, K_LINEAGE, 0, key, "search");
  } else {
    e = escape(s, fqn);
    if (e && asprintf(&path, "%s/name/%s", api->path, e) >= 0)
      queue(s, "GET", path, NULL, on_end_resolved, K_LINEAGE, 0, key, NULL);
  }
  free(path);
  free(e);
  free(q);
  free(key);
}

static const char *ref_id(struct omrest_sink *s, const char *type, const char *fqn) {
  char *key = type && fqn ? type_key(type, fqn) : NULL;
  const char *id = key ? host_om_map_get(s->ids, key) : NULL;
  free(key);
  return id && *id && strcmp(id, "?") != 0 ? id : NULL;
}

static const char *end_id(struct omrest_sink *s, yajl_val end) {
  return ref_id(s, host_json_str(end, "type"), host_json_str(end, "fullyQualifiedName"));
}

/* Looks up, once per run, every chart and data model a dashboard of the window lists that this
 * run has not just written (an unchanged one the plugin retained, or one refused). */
static void resolve_dashboard_refs(struct omrest_sink *s) {
  static const char *const members[2][2] = {{"charts", "chart"},
                                            {"dataModels", "dashboardDataModel"}};
  for (size_t i = 0; i < s->buf[K_DASHBOARD].n && s->fatal == ETL_OK; i++) {
    yajl_val data = host_json_get(s->buf[K_DASHBOARD].v[i].json, "data");
    for (int m = 0; m < 2; m++) {
      yajl_val list = host_json_get(data, members[m][0]);
      for (size_t j = 0; YAJL_IS_ARRAY(list) && j < list->u.array.len; j++) {
        const char *fqn = YAJL_GET_STRING(list->u.array.values[j]);
        if (!fqn)
          continue;
        yajl_gen g = yajl_gen_alloc(NULL);
        yajl_gen_map_open(g);
        host_json_gen_str(g, "type");
        host_json_gen_str(g, members[m][1]);
        host_json_gen_str(g, "fullyQualifiedName");
        host_json_gen_str(g, fqn);
        yajl_gen_map_close(g);
        char *text = host_json_gen_take(g);
        yajl_gen_free(g);
        char err[64];
        yajl_val end = text ? host_json_parse(text, strlen(text), err, sizeof err) : NULL;
        if (!end)
          s->fatal = ETL_ERR_NOMEM;
        else
          resolve_end(s, end);
        yajl_tree_free(end);
        free(text);
      }
    }
  }
}

/* ---- column lineage: from-columns resolved against the server's table -------------------- */

/* The plugin cannot know the warehouse's column names (/work/notes/colrecord.md): it writes
 * them as the SQL does, lower-cased unless quoted, and `*` for "every column". The server
 * compares column FQNs exactly and refuses (1.2 to 1.5) or silently drops (later) one its
 * table lacks (LineageRepository.validateLineageDetails). So each table a column lineage comes
 * from is read once per run (GET /v1/tables/{id}?fields=columns), and every from-column is
 * rewritten to the server's column FQN, matched ignoring case; `*` becomes every column; one
 * the table lacks is left out with a counted warning, never failing the edge. */

static yajl_val edge_columns_lineage(yajl_val data) {
  yajl_val list = host_json_get(host_json_get(data, "lineageDetails"), "columnsLineage");
  const char *type = host_json_str(host_json_get(data, "fromEntity"), "type");
  return YAJL_IS_ARRAY(list) && list->u.array.len > 0 && type && strcmp(type, "table") == 0 ? list
                                                                                            : NULL;
}

static void on_table_columns(void *ctx, const struct host_om_response *r) {
  struct call *c = ctx; /* key: the table's id */
  struct omrest_sink *s = c->s;
  enum outcome o = classify(s, r, "table columns");
  char err[64];
  yajl_val v = o == OUT_OK ? host_json_parse(r->body, r->body_len, err, sizeof err) : NULL;
  yajl_val cols = host_json_get(v, "columns");
  const char *table = host_json_str(v, "fullyQualifiedName");
  char *text = strdup("");
  for (size_t i = 0; text && YAJL_IS_ARRAY(cols) && i < cols->u.array.len; i++) {
    const char *name = host_json_str(cols->u.array.values[i], "name");
    const char *fqn = host_json_str(cols->u.array.values[i], "fullyQualifiedName");
    char *own = !fqn && name && table ? child_fqn(table, name) : NULL, *joined = NULL;
    if (name && (fqn || own) && asprintf(&joined, "%s%s\t%s\n", text, name, fqn ? fqn : own) < 0)
      joined = NULL;
    if (joined) {
      free(text);
      text = joined;
    }
    free(own);
  }
  if (!text)
    s->fatal = ETL_ERR_NOMEM;
  else if (o != OUT_FATAL) /* a table gone since its id was found: no columns */
    host_om_map_set(s->columns, c->key, text);
  free(text);
  yajl_tree_free(v);
  call_free(c);
}

/* Reads, once per run, the columns of every table an edge of the window has column lineage
 * from (ends resolved: an edge whose end is missing waits as a whole). */
static void resolve_lineage_columns(struct omrest_sink *s) {
  for (size_t i = 0; i < s->buf[K_LINEAGE].n && s->fatal == ETL_OK; i++) {
    yajl_val data = host_json_get(s->buf[K_LINEAGE].v[i].json, "data");
    const char *fid = end_id(s, host_json_get(data, "fromEntity"));
    if (!edge_columns_lineage(data) || !fid || !end_id(s, host_json_get(data, "toEntity")) ||
        host_om_map_get(s->columns, fid))
      continue;
    host_om_map_set(s->columns, fid, "?");
    char *e = escape(s, fid), *path = NULL;
    if (e && asprintf(&path, "/v1/tables/%s?fields=columns", e) >= 0)
      queue(s, "GET", path, NULL, on_table_columns, K_LINEAGE, i, fid, NULL);
    free(path);
    free(e);
  }
}

/* Appends the server's FQN of every column of `cols` ("name\tFQN\n" lines) named `want`
 * (ignoring case; "*": all) to the JSON array being generated, unless already there (`done`,
 * "\n"-separated, grows). Returns how many matched. */
static size_t gen_matching_columns(yajl_gen g, const char *cols, const char *want, char **done) {
  size_t n = 0, wn = strlen(want);
  bool all = strcmp(want, "*") == 0;
  for (const char *p = cols; p && *p;) {
    const char *tab = strchr(p, '\t'), *nl = tab ? strchr(tab, '\n') : NULL;
    if (!nl)
      break;
    if (all || ((size_t)(tab - p) == wn && strncasecmp(p, want, wn) == 0)) {
      n++;
      char *fqn = strndup(tab + 1, (size_t)(nl - tab - 1)), *key = NULL, *grown = NULL;
      if (fqn && asprintf(&key, "\n%s\n", fqn) >= 0 && !strstr(*done, key) &&
          asprintf(&grown, "%s%s\n", *done, key + 1) >= 0) {
        host_json_gen_str(g, fqn);
        free(*done);
        *done = grown;
      }
      free(key);
      free(fqn);
    }
    p = nl + 1;
  }
  return n;
}

/* The column the plugin named in `from_col` ("<from FQN>.<column>"), unquoted, or NULL when it
 * does not name a column of the edge's from end. Returns malloc'd text. */
static char *from_column_name(const char *from_fqn, const char *from_col) {
  size_t n = strlen(from_fqn);
  if (!from_col || strncmp(from_col, from_fqn, n) != 0 || from_col[n] != '.' || !from_col[n + 1])
    return NULL;
  const char *c = from_col + n + 1;
  size_t len = strlen(c);
  if (len >= 2 && c[0] == '"' && c[len - 1] == '"')
    return strndup(c + 1, len - 2);
  return strdup(c);
}

/* One entry's fromColumns resolved into the array being generated (see above). */
static size_t gen_from_columns(struct omrest_sink *s, yajl_gen g, const char *item,
                               const char *from_fqn, const char *cols, yajl_val from) {
  char *done = strdup("\n");
  size_t n = 0;
  for (size_t j = 0; done && YAJL_IS_ARRAY(from) && j < from->u.array.len; j++) {
    const char *col = YAJL_GET_STRING(from->u.array.values[j]);
    char *name = from_column_name(from_fqn, col);
    size_t got = name ? gen_matching_columns(g, cols, name, &done) : 0;
    n += got;
    if (!got) {
      char msg[600];
      snprintf(msg, sizeof msg,
               "column %s is not in table %s in OpenMetadata: left out of the column lineage",
               name  ? name
               : col ? col
                     : "(not a string)",
               from_fqn);
      s->counts.columns_dropped++;
      warn_once(s, msg, item, msg);
    }
    free(name);
  }
  free(done);
  return n;
}

/* lineageDetails with columnsLineage resolved against `cols` (the table's columns); an entry
 * left with no fromColumns is dropped, and so is an empty columnsLineage. */
static void gen_details(struct omrest_sink *s, yajl_gen g, const char *item, yajl_val data,
                        const char *cols) {
  yajl_val details = host_json_get(data, "lineageDetails");
  const char *from_fqn = host_json_str(host_json_get(data, "fromEntity"), "fullyQualifiedName");
  yajl_gen_map_open(g);
  for (size_t i = 0; i < details->u.object.len; i++) {
    if (strcmp(details->u.object.keys[i], "columnsLineage") == 0)
      continue;
    host_json_gen_str(g, details->u.object.keys[i]);
    host_json_gen_value(g, details->u.object.values[i]);
  }
  yajl_val list = host_json_get(details, "columnsLineage");
  bool open = false;
  for (size_t i = 0; i < list->u.array.len; i++) {
    yajl_val cl = list->u.array.values[i];
    /* Generated apart first: an entry whose columns all drop must leave no trace. */
    yajl_gen from = yajl_gen_alloc(NULL);
    yajl_gen_array_open(from);
    size_t n = gen_from_columns(s, from, item, from_fqn, cols, host_json_get(cl, "fromColumns"));
    yajl_gen_array_close(from);
    char *text = host_json_gen_take(from);
    yajl_gen_free(from);
    char err[64];
    yajl_val from_v = n && text ? host_json_parse(text, strlen(text), err, sizeof err) : NULL;
    free(text);
    if (from_v && !open) {
      host_json_gen_str(g, "columnsLineage");
      yajl_gen_array_open(g);
      open = true;
    }
    if (from_v) {
      yajl_gen_map_open(g);
      for (size_t k = 0; k < cl->u.object.len; k++) {
        host_json_gen_str(g, cl->u.object.keys[k]);
        host_json_gen_value(
            g, strcmp(cl->u.object.keys[k], "fromColumns") == 0 ? from_v : cl->u.object.values[k]);
      }
      yajl_gen_map_close(g);
    }
    yajl_tree_free(from_v);
  }
  if (open)
    yajl_gen_array_close(g);
  yajl_gen_map_close(g);
}

static char *lineage_body(struct omrest_sink *s, const char *item, yajl_val data,
                          const char *from_id, const char *to_id) {
  yajl_gen g = yajl_gen_alloc(NULL);
  if (!g)
    return NULL;
  yajl_gen_map_open(g);
  host_json_gen_str(g, "edge");
  yajl_gen_map_open(g);
  const char *ids[2] = {from_id, to_id};
  const char *names[2] = {"fromEntity", "toEntity"};
  for (int i = 0; i < 2; i++) {
    host_json_gen_str(g, names[i]);
    yajl_gen_map_open(g);
    host_json_gen_str(g, "id");
    host_json_gen_str(g, ids[i]);
    host_json_gen_str(g, "type");
    host_json_gen_str(g, host_json_str(host_json_get(data, names[i]), "type"));
    yajl_gen_map_close(g);
  }
  yajl_val details = host_json_get(data, "lineageDetails");
  const char *cols = edge_columns_lineage(data) ? host_om_map_get(s->columns, from_id) : NULL;
  if (YAJL_IS_OBJECT(details)) {
    host_json_gen_str(g, "lineageDetails");
    if (edge_columns_lineage(data))
      gen_details(s, g, item, data, cols && strcmp(cols, "?") != 0 ? cols : "");
    else
      host_json_gen_value(g, details);
  }
  yajl_gen_map_close(g);
  yajl_gen_map_close(g);
  char *out = host_json_gen_take(g);
  yajl_gen_free(g);
  return out;
}

static void put_lineage(struct omrest_sink *s) {
  for (size_t i = 0; i < s->buf[K_LINEAGE].n && s->fatal == ETL_OK; i++) {
    yajl_val data = host_json_get(s->buf[K_LINEAGE].v[i].json, "data");
    yajl_val from = host_json_get(data, "fromEntity"), to = host_json_get(data, "toEntity");
    const char *fid = end_id(s, from), *tid = end_id(s, to);
    if (!fid || !tid) {
      yajl_val missing = fid ? to : from;
      host_log_msg(s->log, ETL_SEV_WARNING, s->source, s->buf[K_LINEAGE].v[i].item,
                   "%s %s is not in OpenMetadata (yet): the edge is pending, retried on the next "
                   "run",
                   host_json_str(missing, "type"), host_json_str(missing, "fullyQualifiedName"));
      s->counts.lineage_unresolved++;
      pending_add(s, K_LINEAGE, &s->buf[K_LINEAGE].v[i]);
      continue;
    }
    char *body = lineage_body(s, s->buf[K_LINEAGE].v[i].item, data, fid, tid);
    if (!body) {
      s->fatal = ETL_ERR_NOMEM;
      break;
    }
    queue(s, "PUT", "/v1/lineage", body, on_entity_put, K_LINEAGE, i, NULL, NULL);
    free(body);
  }
}

/* ---- phase 6: usage ----------------------------------------------------------------------- */

/* POST, not PUT: the server's PUT (createOrUpdateByName) ADDS the count to the day's count
 * (UsageDAO.insertOrUpdateCount), so a day sent twice would double; POST (createByName,
 * insertOrReplaceCount) replaces it, and a window delivered twice changes nothing. */

static void put_usage(struct omrest_sink *s) {
  for (size_t i = 0; i < s->buf[K_USAGE].n && s->fatal == ETL_OK; i++) {
    yajl_val json = s->buf[K_USAGE].v[i].json;
    yajl_val ent = host_json_get(json, "entity");
    char *body = gen_body(host_json_get(json, "data"), NULL);
    char *e = escape(s, host_json_str(ent, "fullyQualifiedName"));
    char *path = NULL;
    if (!body || !e || asprintf(&path, "/v1/usage/%s/name/%s", host_json_str(ent, "type"), e) < 0)
      s->fatal = ETL_ERR_NOMEM;
    else
      queue(s, "POST", path, body, on_entity_put, K_USAGE, i, NULL, NULL);
    free(path);
    free(e);
    free(body);
  }
}

/* ---- commit ------------------------------------------------------------------------------- */

static etl_status run_phase(struct omrest_sink *s) {
  if (s->fatal != ETL_OK)
    return s->fatal;
  etl_status st = host_om_client_run(s->client);
  if (st != ETL_OK && s->fatal == ETL_OK)
    s->fatal = st;
  return s->fatal;
}

static etl_status flush_window(struct omrest_sink *s) {
  s->fatal = ETL_OK;
  flush_services(s);
  if (run_phase(s) != ETL_OK)
    return s->fatal;
  resolve_owners_of(s, K_CHART);
  resolve_owners_of(s, K_DATAMODEL);
  resolve_owners_of(s, K_DASHBOARD);
  if (run_phase(s) != ETL_OK)
    return s->fatal;
  put_entities(s, K_CHART, "/v1/charts");
  put_entities(s, K_DATAMODEL, "/v1/dashboard/datamodels");
  if (run_phase(s) != ETL_OK)
    return s->fatal;
  resolve_dashboard_refs(s);
  if (run_phase(s) != ETL_OK)
    return s->fatal;
  put_entities(s, K_DASHBOARD, "/v1/dashboards");
  if (run_phase(s) != ETL_OK)
    return s->fatal;
  for (size_t i = 0; i < s->buf[K_LINEAGE].n; i++) {
    yajl_val data = host_json_get(s->buf[K_LINEAGE].v[i].json, "data");
    resolve_end(s, host_json_get(data, "fromEntity"));
    resolve_end(s, host_json_get(data, "toEntity"));
  }
  if (run_phase(s) != ETL_OK)
    return s->fatal;
  resolve_lineage_columns(s);
  if (run_phase(s) != ETL_OK)
    return s->fatal;
  put_lineage(s);
  put_usage(s);
  return run_phase(s);
}

static etl_status omrest_commit(void *sink) {
  struct omrest_sink *s = sink;
  etl_status st = flush_window(s);
  clear_window(s);
  if (st != ETL_OK) {
    s->source_failed = true;
    /* Pending markers ("?") of an aborted phase must not pass for answers next time. */
    host_om_map_clear(s->ids);
    host_om_map_clear(s->users);
    host_om_map_clear(s->columns);
  }
  return st;
}

/* ---- end of a source: soft-deleting what a complete run did not see ----------------------- */

static void list_page(struct omrest_sink *s, const char *type, const char *service,
                      const char *after);

static void on_delete(void *ctx, const struct host_om_response *r) {
  struct call *c = ctx;
  struct omrest_sink *s = c->s;
  enum outcome o = classify(s, r, c->key);
  if (o == OUT_OK) {
    s->counts.deleted++;
    host_log_msg(s->log, ETL_SEV_INFO, s->source, c->key,
                 "not seen in this complete run: soft-deleted");
  } else if (o == OUT_REJECTED || o == OUT_NOT_FOUND) {
    char *m = server_message(r);
    host_log_msg(s->log, ETL_SEV_WARNING, s->source, c->key, "soft delete refused (HTTP %ld): %s",
                 r->status, m ? m : "");
    free(m);
  }
  call_free(c);
}

static void on_list(void *ctx, const struct host_om_response *r) {
  struct call *c = ctx; /* key: entity type, aux: service */
  struct omrest_sink *s = c->s;
  if (classify(s, r, c->key) != OUT_OK) {
    if (s->fatal == ETL_OK)
      s->fatal = ETL_ERR_PROTOCOL;
    call_free(c);
    return;
  }
  char err[64];
  yajl_val v = host_json_parse(r->body, r->body_len, err, sizeof err);
  yajl_val data = host_json_get(v, "data");
  const struct entity_api *api = api_of(c->key);
  for (size_t i = 0; YAJL_IS_ARRAY(data) && i < data->u.array.len; i++) {
    yajl_val e = data->u.array.values[i];
    const char *id = host_json_str(e, "id"), *fqn = host_json_str(e, "fullyQualifiedName");
    if (!id || !fqn || YAJL_IS_TRUE(host_json_get(e, "deleted")))
      continue;
    char *key = type_key(c->key, fqn);
    char *path = NULL;
    s->listed++;
    if (key && !host_om_map_get(s->seen, key) &&
        asprintf(&path, "%s/%s?hardDelete=false&recursive=true", api->path, id) >= 0 &&
        host_om_map_set(s->doomed, key, path) != 0 && s->fatal == ETL_OK)
      s->fatal = ETL_ERR_NOMEM;
    free(path);
    free(key);
  }
  const char *after = host_json_str(host_json_get(v, "paging"), "after");
  if (after && *after)
    list_page(s, c->key, c->aux, after);
  yajl_tree_free(v);
  call_free(c);
}

/* Pages one listing may take: 1,000,000 entities of a service at limit=100. */
#define LIST_PAGES_MAX 10000
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

/* Whether the page after `after` may be asked for: a cursor this listing already followed, or
 * more pages than LIST_PAGES_MAX, means a server that would page forever. The listing then
 * stops, is incomplete, and nothing is marked deleted. */
static bool list_may_follow(struct omrest_sink *s, const char *type, const char *service,
                            const char *after) {
  char *seen_key = NULL, *count_key = NULL, n_pages[24];
  bool ok = false;
  if (asprintf(&seen_key, "%s\n%s\n%s", type, service, after) < 0)
    seen_key = NULL;
  if (asprintf(&count_key, "%s\n%s", type, service) < 0)
    count_key = NULL;
  if (!seen_key || !count_key) {
    s->fatal = ETL_ERR_NOMEM;
    goto out;
  }
  const char *count = host_om_map_get(s->cursors, count_key);
  long pages = count ? strtol(count, NULL, 10) + 1 : 2;
  bool repeated = host_om_map_get(s->cursors, seen_key) != NULL;
  if (repeated || pages > LIST_PAGES_MAX) {
    host_log_msg(s->log, ETL_SEV_WARNING, s->source, SINK,
                 "listing %ss of service %s: the server's cursor '%.64s' %s%s; listing stopped, "
                 "nothing marked deleted",
                 type, service, after, repeated ? "repeats a page already listed" : "goes past ",
                 repeated ? "" : STRINGIFY(LIST_PAGES_MAX) " pages");
    s->listing_cut = true;
    goto out;
  }
  snprintf(n_pages, sizeof n_pages, "%ld", pages);
  if (host_om_map_set(s->cursors, seen_key, "") != 0 ||
      host_om_map_set(s->cursors, count_key, n_pages) != 0) {
    s->fatal = ETL_ERR_NOMEM;
    goto out;
  }
  ok = true;
out:
  free(seen_key);
  free(count_key);
  return ok;
}

static void list_page(struct omrest_sink *s, const char *type, const char *service,
                      const char *after) {
  if (after && !list_may_follow(s, type, service, after))
    return;
  const struct entity_api *api = api_of(type);
  char *es = escape(s, service), *ea = after ? escape(s, after) : NULL, *path = NULL;
  if (es && (!after || ea) &&
      asprintf(&path, "%s?service=%s&limit=100%s%s", api->path, es, after ? "&after=" : "",
               after ? ea : "") >= 0)
    queue(s, "GET", path, NULL, on_list, K_DASHBOARD, 0, type, service);
  free(path);
  free(es);
  free(ea);
}

/* Lists the dashboards and data models of every service this source wrote to, page by page,
 * and soft-deletes those the run did not see, unless they are more than the fail-safe allows. */
static etl_status mark_deleted(struct omrest_sink *s, const struct host_source_outcome *o) {
  char **names = NULL;
  size_t n = host_om_map_keys(s->services, &names);
  s->fatal = ETL_OK;
  host_om_map_clear(s->doomed);
  s->listed = 0;
  s->listing_cut = false;
  s->cursors = host_om_map_new();
  if (!s->cursors)
    s->fatal = ETL_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) {
    list_page(s, "dashboard", names[i], NULL);
    list_page(s, "dashboardDataModel", names[i], NULL);
    free(names[i]);
  }
  free(names);
  etl_status st = run_phase(s);
  host_om_map_free(&s->cursors);
  size_t n_doomed = host_om_map_size(s->doomed);
  if (st == ETL_OK && n_doomed > 0 && !s->listing_cut &&
      host_fail_safe_allows(s->log, s->source, SINK, o, (long long)n_doomed, s->listed)) {
    char **keys = NULL;
    n = host_om_map_keys(s->doomed, &keys);
    for (size_t i = 0; i < n; i++) {
      queue(s, "DELETE", host_om_map_get(s->doomed, keys[i]), NULL, on_delete, K_DASHBOARD, 0,
            keys[i], NULL);
      free(keys[i]);
    }
    free(keys);
    st = run_phase(s);
  }
  host_om_map_clear(s->doomed);
  return st;
}

/* True when the source's own sourceConfig asks for markDeletedDashboards, as OpenMetadata's
 * Mode workflow does. */
/* Whether a complete run of this source soft-deletes what it did not see: the source's
 * sourceConfig.config.markDeletedDashboards, else sink.config's, else OpenMetadata's default,
 * true (dashboardServiceMetadataPipeline.json), so a user's workflow behaves as under
 * OpenMetadata's own ingestion. The deletion fail-safe still bounds what one run may delete. */
static bool source_wants_mark_deleted(const struct omrest_sink *s,
                                      const struct host_source_outcome *o) {
  char err[64];
  const char *text = o && o->source_config_json ? o->source_config_json : "{}";
  yajl_val cfg = host_json_parse(text, strlen(text), err, sizeof err);
  yajl_val v = host_json_get(cfg, "markDeletedDashboards");
  bool yes = YAJL_IS_TRUE(v) || (!YAJL_IS_FALSE(v) && s->mark_deleted != 0);
  yajl_tree_free(cfg);
  return yes;
}

static unsigned long omrest_take_rejected(void *sink) {
  struct omrest_sink *s = sink;
  unsigned long n = s->late_rejected;
  s->late_rejected = 0;
  return n;
}

static etl_status omrest_end_source(void *sink, const char *source,
                                    const struct host_source_outcome *o) {
  struct omrest_sink *s = sink;
  etl_status st = ETL_OK;
  bool pending = false;
  for (int k = 0; k < K_COUNT; k++)
    pending = pending || s->buf[k].n > 0;
  if (pending)
    st = omrest_commit(s);
  /* Now that `seen` is complete, and before mark_deleted, which must count them as seen. */
  s->fatal = ETL_OK;
  bool resend = sort_held(s, o && o->complete);
  if (st == ETL_OK && s->fatal != ETL_OK)
    st = s->fatal;
  if (st == ETL_OK && resend)
    st = omrest_commit(s);
  clear_window(s); /* left by a failure: end_source fails, the last stored pending stands */
  bool mark = source_wants_mark_deleted(s, o);
  if (st == ETL_OK && mark && o && o->complete && !s->source_failed)
    st = mark_deleted(s, o);
  else if (mark && o && (!o->complete || s->source_failed))
    host_log_msg(s->log, ETL_SEV_INFO, source, SINK,
                 "run incomplete: nothing marked deleted in OpenMetadata");
  unsigned long req = 0, retries = 0, throttled = 0;
  host_om_client_counts(s->client, &req, &retries, &throttled);
  host_log_msg(s->log, ETL_SEV_INFO, source, SINK,
               "%lu accepted, %lu rejected, %lu lineage edges pending, %lu entities pending "
               "(an owner or a reference not there yet), %lu owners unknown, %lu lineage columns "
               "dropped, %lu soft-deleted; %lu requests (%lu retries, %lu throttled)",
               s->counts.accepted, s->counts.rejected, s->counts.lineage_unresolved,
               s->counts.entities_pending, s->counts.owners_unknown, s->counts.columns_dropped,
               s->counts.deleted, req, retries, throttled);
  return st;
}

/* ---- the rest ----------------------------------------------------------------------------- */

static void omrest_destroy(void **sinkp) {
  if (!sinkp || !*sinkp)
    return;
  struct omrest_sink *s = *sinkp;
  clear_window(s);
  clear_held(s);
  for (int k = 0; k < K_COUNT; k++) {
    free(s->buf[k].v);
    free(s->held[k].v);
  }
  host_om_client_free(&s->client);
  host_om_custom_props_free(&s->cprops);
  host_om_map_free(&s->ids);
  host_om_map_free(&s->users);
  host_om_map_free(&s->columns);
  host_om_map_free(&s->seen);
  host_om_map_free(&s->services);
  host_om_map_free(&s->warned);
  host_om_map_free(&s->doomed);
  host_om_map_free(&s->pending_ids);
  free(s->pending);
  free(s->source);
  free(s->base_url);
  free(s);
  *sinkp = NULL;
}

void host_omrest_get_counts(void *sink, struct host_omrest_counts *out) {
  struct omrest_sink *s = sink;
  *out = s->counts;
  host_om_client_counts(s->client, &out->requests, &out->retries, &out->throttled);
}

/* ---- `etlhost test` ----------------------------------------------------------------------- */

/* The final answer to one check request, copied out of the callback. */
struct test_answer {
  long status;
  bool connect_failed, tls_failed;
  const char *member;    /* static: what a 2xx answer's JSON must have */
  char *transport_error; /* owned, or NULL */
  char *message;         /* owned: the server's message for a non-2xx answer, or NULL */
  const char *not_api;   /* static: why a 2xx/3xx answer is not OpenMetadata's, or NULL */
  bool done;
};

/* Why a 2xx or 3xx answer is not OpenMetadata's API answering (a login page, a proxy), or NULL:
 * every answer the checks read is a JSON object that has `member`. */
static const char *why_not_api(const struct host_om_response *r, const char *member) {
  if (r->status >= 300)
    return "a redirect (a login page or a proxy in front of the API?)";
  if (r->body_len == 0)
    return "an empty body";
  char err[64];
  yajl_val v = host_json_parse(r->body, r->body_len, err, sizeof err);
  bool ok = YAJL_IS_OBJECT(v) && host_json_get(v, member);
  yajl_tree_free(v);
  if (ok)
    return NULL;
  return r->body[0] == '<' ? "an HTML page, not JSON (a login page?)"
                           : "not the JSON OpenMetadata sends";
}

static void on_test_answer(void *ctx, const struct host_om_response *r) {
  struct test_answer *a = ctx;
  a->done = true;
  a->status = r->status;
  a->connect_failed = r->connect_failed;
  a->tls_failed = r->tls_failed;
  if (r->transport_error)
    a->transport_error = strdup(r->transport_error);
  else if (r->status >= 200 && r->status < 400)
    a->not_api = why_not_api(r, a->member);
  if (!r->transport_error && (r->status < 200 || r->status >= 300))
    a->message = server_message(r);
}

/* Runs one GET to its end. ETL_OK when an answer (any status) or a transport failure arrived. */
static etl_status test_get(struct host_om_client *client, const char *path, const char *member,
                           struct test_answer *a) {
  memset(a, 0, sizeof *a);
  a->member = member;
  if (host_om_client_add(client, "GET", path, NULL, on_test_answer, a) != 0)
    return ETL_ERR_NOMEM;
  etl_status st = host_om_client_run(client);
  return st == ETL_OK && !a->done ? ETL_ERR_INTERNAL : st;
}

static void test_answer_release(struct test_answer *a) {
  free(a->transport_error);
  free(a->message);
  memset(a, 0, sizeof *a);
}

/* Step "server": the server answers at all. Any HTTP status counts as reached (a server that
 * wants a token for its version says 401, which the credentials step then explains). */
static etl_status test_server(const struct test_answer *a, const char *url, host_sink_step_fn step,
                              void *ctx) {
  char msg[1024];
  if (a->transport_error) {
    snprintf(msg, sizeof msg, "%s OpenMetadata at %s: %s%s",
             a->tls_failed ? "TLS failed with" : "cannot reach", url, a->transport_error,
             a->tls_failed ? " (check verifySSL and sslConfig.certificatePath)"
                           : " (check hostPort and that the server is up)");
    step(ctx, "server", ETL_TEST_FAIL, msg);
    return ETL_ERR_CONNECT;
  }
  if (a->status == 404) {
    snprintf(msg, sizeof msg,
             "%s answered 404 for /v1/system/version: not an OpenMetadata API (hostPort should "
             "end in /api, as in http://localhost:8585/api)",
             url);
    step(ctx, "server", ETL_TEST_FAIL, msg);
    return ETL_ERR_CONFIG;
  }
  if (a->status >= 500) {
    snprintf(msg, sizeof msg, "OpenMetadata at %s answered HTTP %ld: %s", url, a->status,
             a->message ? a->message : "");
    step(ctx, "server", ETL_TEST_FAIL, msg);
    return ETL_ERR_CONNECT;
  }
  if (a->not_api) {
    snprintf(msg, sizeof msg,
             "%s answered /v1/system/version (HTTP %ld) with %s: not OpenMetadata's API (hostPort "
             "should be the API, as in http://localhost:8585/api)",
             url, a->status, a->not_api);
    step(ctx, "server", ETL_TEST_FAIL, msg);
    return ETL_ERR_CONNECT;
  }
  snprintf(msg, sizeof msg, "OpenMetadata at %s answers (HTTP %ld)", url, a->status);
  step(ctx, "server", ETL_TEST_PASS, msg);
  return ETL_OK;
}

/* Step "credentials": an authenticated read of what the sink itself reads first. */
static etl_status test_credentials(const struct test_answer *a, bool has_jwt,
                                   host_sink_step_fn step, void *ctx) {
  char msg[1024];
  etl_status st = ETL_OK;
  const char *m = a->message ? a->message : "";
  if (a->transport_error) {
    snprintf(msg, sizeof msg, "the server stopped answering: %s", a->transport_error);
    st = ETL_ERR_CONNECT;
  } else if (a->status == 401) {
    snprintf(msg, sizeof msg, "%s (HTTP 401: %s)",
             has_jwt ? "the JWT was refused: check securityConfig.jwtToken"
                     : "the server wants a JWT: set authProvider: openmetadata and "
                       "securityConfig.jwtToken",
             m);
    st = ETL_ERR_AUTH;
  } else if (a->status == 403) {
    snprintf(msg, sizeof msg,
             "the JWT is valid but may not read dashboard services (HTTP 403: %s): give the bot "
             "a role that may read and write dashboards",
             m);
    st = ETL_ERR_AUTH;
  } else if (a->not_api) {
    snprintf(msg, sizeof msg, "listing dashboard services answered (HTTP %ld) with %s", a->status,
             a->not_api);
    st = ETL_ERR_PROTOCOL;
  } else if (a->status < 200 || a->status >= 300) {
    snprintf(msg, sizeof msg, "listing dashboard services failed (HTTP %ld: %s)", a->status, m);
    st = a->status >= 500 ? ETL_ERR_CONNECT : ETL_ERR_PROTOCOL;
  } else {
    snprintf(msg, sizeof msg, "%s", has_jwt ? "the JWT is accepted" : "no-auth is accepted");
  }
  step(ctx, "credentials", st == ETL_OK ? ETL_TEST_PASS : ETL_TEST_FAIL, msg);
  return st;
}

static etl_status omrest_test(const char *config_json, const char *workflow_json,
                              struct host_log *log, host_sink_step_fn step, void *ctx) {
  struct omrest_sink cfg_only = {.log = log}; /* parse_*_config write their options here */
  struct host_om_client *client = NULL;
  struct host_om_client_config cc = {.verify_tls = true};
  struct test_answer a = {0};
  char err[256];
  etl_status st = ETL_ERR_CONFIG;
  yajl_val wf = host_json_parse(workflow_json ? workflow_json : "{}",
                                workflow_json ? strlen(workflow_json) : 2, err, sizeof err);
  if (!wf)
    host_log_msg(log, ETL_SEV_ERROR, NULL, "workflowConfig", "not valid JSON: %s", err);
  else
    st = host_om_server_config(wf, log, false, &cc);
  if (st == ETL_OK)
    st = parse_sink_config(&cfg_only, config_json, &cc);
  if (st != ETL_OK) {
    step(ctx, "server", ETL_TEST_FAIL, "the OpenMetadata configuration is wrong (see above)");
    goto out;
  }
  cc.retries = 0; /* a check answers now; the run retries */
  cc.concurrency = 1;
  if (cc.timeout_ms > 10000)
    cc.timeout_ms = 10000;
  client = host_om_client_new(&cc, log);
  st = client ? test_get(client, "/v1/system/version", "version", &a) : ETL_ERR_NOMEM;
  if (st == ETL_OK)
    st = test_server(&a, cc.base_url, step, ctx);
  test_answer_release(&a);
  if (st != ETL_OK) {
    step(ctx, "credentials", ETL_TEST_SKIP, "not run because the server check failed");
    goto out;
  }
  st = test_get(client, "/v1/services/dashboardServices?limit=1", "data", &a);
  if (st == ETL_OK)
    st = test_credentials(&a, cc.jwt != NULL, step, ctx);
  test_answer_release(&a);
out:
  host_om_client_free(&client);
  host_om_custom_props_free(&cfg_only.cprops); /* parse_sink_config made it */
  yajl_tree_free(wf);
  return st;
}

/* The server's API URL: a state says what this server has received. */
static const char *omrest_destination(void *sink) {
  struct omrest_sink *s = sink;
  return s->base_url;
}

const struct host_sink_ops host_sink_metadata_rest = {
    .type = "metadata-rest",
    .create = omrest_create,
    .begin_source = omrest_begin_source,
    .write = omrest_write,
    .commit = omrest_commit,
    .store_state = NULL,
    .load_state = NULL,
    .end_source = omrest_end_source,
    .take_rejected = omrest_take_rejected,
    .destroy = omrest_destroy,
    .test = omrest_test,
    .retain = omrest_retain,
    .destination = omrest_destination,
    .load_pending = omrest_load_pending,
    .take_pending = omrest_take_pending,
};
