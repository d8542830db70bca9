/*
 * runner.c -- plugins to sink, state behind data (see runner.h).
 *
 * The order that makes a crash harmless: records go to the sink as they come; a `state` entity
 * first makes everything before it durable, then stores the state. A run killed at any instant
 * therefore restarts from a state whose data is already in the sink, and re-delivers at most
 * what came after it, which the sink upserts.
 */
#include "config.h"

#include "runner.h"

#include "loader.h"
#include "log.h"
#include "om_pipeline_status.h"
#include "progress.h"
#include "services.h"
#include "sink.h"
#include "state.h"
#include "workflow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yajl/yajl_tree.h>
#include <sys/time.h>

#define RUNNER_MAX_KIND 64

/* ---- reports ------------------------------------------------------------------------------ */

static int count_kind(struct host_source_report *rep, const char *kind) {
  for (size_t i = 0; i < rep->n_kinds; i++)
    if (strcmp(rep->kinds[i].kind, kind) == 0) {
      rep->kinds[i].n++;
      return 0;
    }
  struct host_kind_count *grown = realloc(rep->kinds, (rep->n_kinds + 1) * sizeof *grown);
  if (!grown)
    return -1;
  rep->kinds = grown;
  if (!(grown[rep->n_kinds].kind = strdup(kind)))
    return -1;
  grown[rep->n_kinds++].n = 1;
  return 0;
}

void host_run_report_free(struct host_run_report *report) {
  if (!report)
    return;
  for (size_t i = 0; i < report->n_sources; i++) {
    struct host_source_report *s = &report->sources[i];
    for (size_t k = 0; k < s->n_kinds; k++)
      free(s->kinds[k].kind);
    free(s->kinds);
    free(s->name);
    free(s->type);
  }
  free(report->sources);
  report->sources = NULL;
  report->n_sources = 0;
}

etl_status host_known_status(etl_status st) {
  if (st == ETL_OK || st == ETL_DONE)
    return st;
  return strcmp(etl_status_name(st), "ETL_ERR_UNKNOWN") == 0 || st > 0 ? ETL_ERR_INTERNAL : st;
}

int host_exit_code_for(const struct host_source_report *src) {
  switch (src->status) {
  case ETL_DONE:
    return src->failed ? HOST_EXIT_FAILED : HOST_EXIT_OK;
  case ETL_ERR_CONFIG:
    return HOST_EXIT_USAGE;
  case ETL_ERR_AUTH:
  case ETL_ERR_CONNECT:
    return HOST_EXIT_CONNECT;
  case ETL_ERR_CANCELLED:
    return HOST_EXIT_INTERRUPTED;
  default:
    return HOST_EXIT_FAILED;
  }
}

/* The run's code: Ctrl-C first, then the first class that applies of config (2), connection
 * (3), failure (1). */
static int combine_exit(const struct host_run_report *report) {
  static const int order[] = {HOST_EXIT_INTERRUPTED, HOST_EXIT_USAGE, HOST_EXIT_CONNECT,
                              HOST_EXIT_FAILED};
  for (size_t o = 0; o < sizeof order / sizeof order[0]; o++)
    for (size_t i = 0; i < report->n_sources; i++)
      if (host_exit_code_for(&report->sources[i]) == order[o])
        return order[o];
  return HOST_EXIT_OK;
}

/* ---- one source --------------------------------------------------------------------------- */

struct runner {
  const struct host_workflow *wf;
  const struct host_runner_opts *opts;
  const struct host_sink_ops *sink_ops;
  void *sink;
  struct host_state_store *store; /* opened on first use, when the sink keeps no state */
  struct host_progress *progress;
  long long run_id;
};

static bool sink_keeps_state(const struct runner *r) {
  return r->sink_ops->store_state && r->sink_ops->load_state;
}

static etl_status open_state_store(struct runner *r) {
  if (r->store)
    return ETL_OK;
  return host_state_open(r->wf->state_store, r->opts->log, &r->store);
}

/* The key of a source's state in the runner's state store: "<source> -> <destination>" when the
 * sink names its destination (a state says what THAT destination has), else the source. A
 * malloc'd string, or NULL on OOM. */
static char *state_key(const struct runner *r, const char *source) {
  const char *dest = r->sink_ops->destination ? r->sink_ops->destination(r->sink) : NULL;
  char *key = NULL;
  if (!dest || !*dest)
    return strdup(source);
  return asprintf(&key, "%s -> %s", source, dest) < 0 ? NULL : key;
}

static etl_status load_state(struct runner *r, const char *source, char **json, size_t *len) {
  *json = NULL;
  *len = 0;
  if (sink_keeps_state(r))
    return r->sink_ops->load_state(r->sink, source, json, len);
  etl_status st = open_state_store(r);
  if (st != ETL_OK)
    return st;
  char *key = state_key(r, source);
  st = key ? host_state_load(r->store, key, json, len) : ETL_ERR_NOMEM;
  free(key);
  return st;
}

/* Commits the sink and counts the records it refused on delivery as failed. */
static etl_status commit_sink(struct runner *r, struct host_source_report *rep) {
  etl_status st = r->sink_ops->commit(r->sink);
  if (r->sink_ops->take_rejected)
    rep->failed += r->sink_ops->take_rejected(r->sink);
  return st;
}

/* Hands the sink what it could not deliver on the source's previous run (sink.h). */
static etl_status load_pending(struct runner *r, const char *source) {
  if (!r->sink_ops->load_pending || sink_keeps_state(r))
    return ETL_OK;
  char *key = state_key(r, source), *pkey = NULL, *json = NULL;
  size_t len = 0;
  etl_status st = open_state_store(r);
  if (st == ETL_OK && (!key || asprintf(&pkey, "%s (pending)", key) < 0))
    st = ETL_ERR_NOMEM;
  if (st == ETL_OK)
    st = host_state_load(r->store, pkey, &json, &len);
  if (st == ETL_OK && json)
    st = r->sink_ops->load_pending(r->sink, source, json, len);
  free(json);
  free(pkey);
  free(key);
  return st;
}

/* Stores what the sink still could not deliver, for its next run. */
static etl_status save_pending(struct runner *r, const char *source) {
  if (!r->sink_ops->take_pending || sink_keeps_state(r) || !r->store)
    return ETL_OK;
  char *json = r->sink_ops->take_pending(r->sink, source);
  char *key = state_key(r, source), *pkey = NULL;
  etl_status st = ETL_ERR_NOMEM;
  if (json && key && asprintf(&pkey, "%s (pending)", key) >= 0)
    st = host_state_save(r->store, pkey, json, strlen(json));
  free(pkey);
  free(key);
  free(json);
  return st;
}

/* Makes everything written so far durable, then stores the state: never the other way round. */
static etl_status store_state(struct runner *r, struct host_source_report *rep, const char *json,
                              size_t len) {
  etl_status st = sink_keeps_state(r) ? ETL_OK : commit_sink(r, rep);
  if (st != ETL_OK)
    return st;
  /* A record of this run was lost or refused: a state stored now would let the next run skip
   * it for good (an incremental plugin retains what it believes delivered). Keep the last
   * stored state instead; the next run redoes the work, which upserts absorb. */
  if (rep->failed > 0) {
    if (rep->states_held++ == 0)
      host_log_msg(r->opts->log, ETL_SEV_WARNING, rep->name, NULL,
                   "state not stored: %lld record(s) of this run failed, so the next run starts "
                   "from the last stored state",
                   rep->failed);
    return ETL_OK;
  }
  if (sink_keeps_state(r))
    return r->sink_ops->store_state(r->sink, rep->name, json, len);
  st = open_state_store(r);
  char *key = st == ETL_OK ? state_key(r, rep->name) : NULL;
  if (st == ETL_OK)
    st = key ? host_state_save(r->store, key, json, len) : ETL_ERR_NOMEM;
  free(key);
  return st;
}

/* A malformed entity is the plugin's bug: reported, counted as failed, and skipped. Whether
 * its data is valid JSON is the sink's to check (it parses it anyway, and rejects it). */
static bool entity_ok(struct etl_run *run, const struct etl_entity *e) {
  const char *why = NULL;
  bool sized = e && e->struct_size >= offsetof(struct etl_entity, json_len) + sizeof e->json_len;
  if (!sized)
    why = "entity struct too small";
  else if (!e->kind || !*e->kind || strlen(e->kind) >= RUNNER_MAX_KIND)
    why = "entity without a kind";
  else if (!e->id || !*e->id)
    why = "entity without an id";
  else if (!e->json || e->json_len == 0)
    why = "entity without data";
  if (!why)
    return true;
  host_services_diag(run, ETL_SEV_ERROR, ETL_DIAG_ITEM_LOST, sized ? e->id : NULL, why);
  return false;
}

/* A `retain` entity ({"data": {"kind": K, "ids": [...]}}): these entities of the source exist
 * unchanged and were not sent again. Goes to the sink's retain op; a sink without one gets it
 * as an ordinary record (file and stdout keep it in their JSON Lines, for a replay). A retain
 * the runner cannot read is the plugin's bug: reported and counted as failed. */
static etl_status route_retain(struct runner *r, struct etl_run *run, const struct etl_entity *e) {
  struct host_source_report *rep = run->rep;
  char *text = NULL;
  yajl_val root = NULL;
  const char **ids = NULL;
  etl_status st = ETL_OK;
  size_t n = 0;
  if (!r->sink_ops->retain) {
    struct host_record rec = {
        .source = rep->name, .kind = e->kind, .id = e->id, .json = e->json, .json_len = e->json_len};
    bool rejected = false;
    st = r->sink_ops->write(r->sink, &rec, &rejected);
    if (st == ETL_OK && rejected)
      rep->failed++;
  }
  if (!(text = malloc(e->json_len + 1))) {
    st = ETL_ERR_NOMEM;
    goto out;
  }
  memcpy(text, e->json, e->json_len);
  text[e->json_len] = '\0';
  root = yajl_tree_parse(text, NULL, 0);
  const char *kpath[] = {"data", "kind", NULL}, *ipath[] = {"data", "ids", NULL};
  yajl_val kind = root ? yajl_tree_get(root, kpath, yajl_t_string) : NULL;
  yajl_val list = root ? yajl_tree_get(root, ipath, yajl_t_array) : NULL;
  bool ok = kind && list;
  for (size_t i = 0; ok && i < list->u.array.len; i++)
    ok = YAJL_IS_STRING(list->u.array.values[i]);
  if (!ok) {
    host_services_diag(run, ETL_SEV_ERROR, ETL_DIAG_ITEM_LOST, e->id,
                       "retain entity without data.kind and data.ids (an array of strings)");
    goto out;
  }
  n = list->u.array.len;
  if (!(ids = calloc(n ? n : 1, sizeof *ids))) {
    st = ETL_ERR_NOMEM;
    goto out;
  }
  for (size_t i = 0; i < n; i++)
    ids[i] = YAJL_GET_STRING(list->u.array.values[i]);
  if (r->sink_ops->retain && st == ETL_OK)
    st = r->sink_ops->retain(r->sink, rep->name, YAJL_GET_STRING(kind), ids, n);
  if (st == ETL_OK)
    rep->retained += (long long)n;
out:
  free(ids);
  yajl_tree_free(root);
  free(text);
  return st;
}

/* Routes one entity; returns a negative status when the sink cannot go on. */
static etl_status route(struct runner *r, struct etl_run *run, const struct etl_entity *e) {
  struct host_source_report *rep = run->rep;
  if (!entity_ok(run, e))
    return ETL_OK;
  if (strcmp(e->kind, "state") == 0) {
    long long held = rep->states_held;
    etl_status st = store_state(r, rep, e->json, e->json_len);
    if (st == ETL_OK && rep->states_held == held)
      rep->states++;
    return st;
  }
  if (strcmp(e->kind, "retain") == 0)
    return route_retain(r, run, e);
  struct host_record rec = {
      .source = rep->name, .kind = e->kind, .id = e->id, .json = e->json, .json_len = e->json_len};
  bool rejected = false;
  etl_status st = r->sink_ops->write(r->sink, &rec, &rejected);
  if (st != ETL_OK)
    return st;
  if (rejected)
    rep->failed++;
  rep->entities++;
  return count_kind(rep, e->kind) == 0 ? ETL_OK : ETL_ERR_NOMEM;
}

/* The stream of one opened instance; returns the status that ended it (ETL_DONE normally). */
static etl_status pump(struct runner *r, struct etl_run *run, const struct etl_plugin *p,
                       void *instance, bool *sink_failed) {
  etl_status st = ETL_OK;
  host_services_set_current(p, instance);
  while (st == ETL_OK) {
    if (host_interrupted()) {
      st = ETL_ERR_CANCELLED;
      break;
    }
    const struct etl_entity *e = NULL;
    st = p->next_entity(instance, &e);
    if (st == ETL_OK) {
      etl_status rs = route(r, run, e);
      if (rs != ETL_OK) {
        host_log_msg(r->opts->log, ETL_SEV_ERROR, run->rep->name, NULL,
                     "the %s sink failed (%s); stopping this source", r->sink_ops->type,
                     etl_status_name(rs));
        *sink_failed = true;
        st = rs;
      }
      host_progress_update(r->progress, run->rep, false);
    } else {
      st = host_known_status(st); /* an unknown status is a plugin bug */
    }
  }
  host_services_set_current(NULL, NULL);
  if (st == ETL_ERR_CANCELLED || host_interrupted())
    st = ETL_ERR_CANCELLED;
  return st;
}

static void run_source(struct runner *r, const struct host_source_cfg *src,
                       struct host_source_report *rep) {
  struct host_log *log = r->opts->log;
  struct etl_run run = {.rep = rep, .log = log, .progress = r->progress, .src = src};
  struct host_open_args oa = {0};
  char *state = NULL;
  size_t state_len = 0;
  void *instance = NULL;
  bool sink_failed = false;
  rep->started_at = host_progress_now();

  const struct host_plugin *plugin = NULL;
  rep->status = host_loader_load(r->opts->loader, src->type, &plugin);
  if (rep->status != ETL_OK)
    goto out;
  rep->status = r->sink_ops->begin_source(r->sink, src->name, src->type);
  if (rep->status != ETL_OK) {
    rep->errors++; /* the sink said why (a full disk, a lock); not "errors 0" beside it */
    goto out;
  }
  rep->status = load_pending(r, src->name);
  if (rep->status == ETL_OK)
    rep->status = load_state(r, src->name, &state, &state_len);
  if (rep->status == ETL_OK)
    rep->status = host_open_args_prepare(&oa, src, &run, state, state_len);
  if (rep->status != ETL_OK)
    goto out_end;
  host_log_msg(log, ETL_SEV_INFO, src->name, NULL, "running %s %s%s", plugin->desc->name,
               plugin->desc->version ? plugin->desc->version : "",
               state ? " from its stored state" : "");
  rep->status = host_known_status(plugin->desc->open(&oa.args, &instance));
  if (rep->status != ETL_OK) {
    if (rep->status == ETL_DONE)
      rep->status = ETL_ERR_INTERNAL;
    /* Not after a config error that named its key and line: that is the one message to read. */
    if (run.keyed_errors == 0)
      host_log_msg(log, ETL_SEV_ERROR, src->name, NULL, "the %s plugin refused to start (%s)",
                   src->type, etl_status_name(rep->status));
    goto out_end;
  }
  rep->started = true;
  rep->status = pump(r, &run, plugin->desc, instance, &sink_failed);
  plugin->desc->close(instance);
out_end:
  /* What the sink holds is made durable even after a failure: it is all true data. The sink's
   * status is the run's (a refused token or a server gone is exit 3 here as anywhere). */
  etl_status cs = sink_failed ? ETL_OK : commit_sink(r, rep);
  if (cs != ETL_OK) {
    sink_failed = true;
    if (rep->status == ETL_DONE)
      rep->status = cs > 0 ? ETL_ERR_INTERNAL : cs;
  }
  rep->complete = rep->status == ETL_DONE && rep->failed == 0 && !sink_failed;
  /* The sink has said why in the log; the summary must not show "errors 0" beside it. */
  if (sink_failed)
    rep->errors++;
  struct host_source_outcome outcome = {
      .complete = rep->complete,
      .run_id = r->run_id,
      .source_config_json = oa.args.source_config_json ? oa.args.source_config_json : "{}",
      .fail_safe_threshold = r->wf->fail_safe_threshold};
  etl_status es = r->sink_ops->end_source(r->sink, src->name, &outcome);
  if (es == ETL_OK)
    es = save_pending(r, src->name);
  if (es != ETL_OK && rep->status == ETL_DONE)
    rep->status = es > 0 ? ETL_ERR_INTERNAL : es;
out:
  rep->seconds = host_progress_now() - rep->started_at;
  host_progress_update(r->progress, rep, true);
  host_progress_clear(r->progress);
  host_open_args_release(&oa);
  free(state);
}

static long long new_run_id(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

bool host_parent_dir_exists(const char *path, char *dir, size_t dir_len) {
  const char *slash = strrchr(path, '/');
  size_t n = slash ? (slash == path ? 1 : (size_t)(slash - path)) : 0;
  if (n >= dir_len)
    n = dir_len - 1;
  if (n == 0)
    snprintf(dir, dir_len, ".");
  else
    snprintf(dir, dir_len, "%.*s", (int)n, path);
  struct stat sb;
  return stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* A sink's `path` in a directory that does not exist (or that is a directory itself) is a
 * mistake in the file: said with its line, before the sink would fail to open it without
 * one. False after logging it. */
static bool sink_path_usable(const struct host_workflow *wf, struct host_log *log) {
  const char *key = "sink.config.path";
  const struct host_node *path = host_node_get(wf->sink_config, "path");
  if (!path) { /* the file sink's `filename`, as OpenMetadata's workflows call it */
    key = "sink.config.filename";
    path = host_node_get(wf->sink_config, "filename");
  }
  if (!path || path->type != HOST_NODE_SCALAR || !path->scalar[0])
    return true;
  char dir[4096], where[4096];
  struct stat sb;
  snprintf(where, sizeof where, "%s:%d", wf->path, path->line);
  if (!host_parent_dir_exists(path->scalar, dir, sizeof dir)) {
    host_log_msg(log, ETL_SEV_ERROR, where, key,
                 "the directory '%s' of '%s' does not exist; create it or choose another path", dir,
                 path->scalar);
    return false;
  }
  if (stat(path->scalar, &sb) == 0 && S_ISDIR(sb.st_mode)) {
    host_log_msg(log, ETL_SEV_ERROR, where, key,
                 "'%s' is a directory; give the path of a file in it", path->scalar);
    return false;
  }
  return true;
}

int host_run_workflow(const struct host_workflow *wf, const struct host_runner_opts *opts,
                      struct host_run_report *report) {
  struct runner r = {.wf = wf, .opts = opts, .run_id = new_run_id()};
  char *sink_json = NULL, *wf_json = NULL;
  etl_status st = ETL_OK;
  memset(report, 0, sizeof *report);
  report->sink_type = wf->sink_type;
  report->exit_code = HOST_EXIT_USAGE;
  r.sink_ops = host_sink_find(wf->sink_type);
  if (!r.sink_ops) {
    const struct host_node *type = host_node_get(host_node_get(wf->root, "sink"), "type");
    char where[4096];
    snprintf(where, sizeof where, type ? "%s:%d" : "%s", wf->path, type ? type->line : 0);
    host_log_msg(opts->log, ETL_SEV_ERROR, where, "sink.type",
                 "no sink of type `%s` (sinks: sqlite, file, stdout, metadata-rest)",
                 wf->sink_type);
    return report->exit_code;
  }
  if (!sink_path_usable(wf, opts->log))
    return report->exit_code;
  sink_json = host_node_to_json(wf->sink_config, NULL);
  wf_json = host_node_to_json(wf->workflow_config, NULL);
  report->sources = calloc(wf->n_sources, sizeof *report->sources);
  r.progress = host_progress_new(stderr, opts->progress);
  if (!sink_json || !wf_json || !report->sources || !r.progress) {
    report->exit_code = HOST_EXIT_FAILED;
    goto out;
  }
  report->n_sources = wf->n_sources;
  for (size_t i = 0; i < wf->n_sources; i++) {
    report->sources[i].name = strdup(wf->sources[i].name);
    report->sources[i].type = strdup(wf->sources[i].type);
    report->sources[i].status = ETL_ERR_CANCELLED; /* until it runs */
    if (!report->sources[i].name || !report->sources[i].type)
      goto out;
  }
  /* The state store is opened (created, checked writable) before any source runs: a
   * read-only one is said once, naming it, instead of after a crawl or once per source. */
  st = sink_keeps_state(&r) ? ETL_OK : open_state_store(&r);
  if (st != ETL_OK) {
    report->exit_code = st == ETL_ERR_CONFIG ? HOST_EXIT_USAGE : HOST_EXIT_FAILED;
    host_run_report_free(report);
    goto out;
  }
  st = r.sink_ops->create(sink_json, wf_json, opts->log, &r.sink);
  if (st != ETL_OK) {
    report->exit_code =
        st == ETL_ERR_CONNECT || st == ETL_ERR_AUTH ? HOST_EXIT_CONNECT : HOST_EXIT_USAGE;
    host_run_report_free(report);
    goto out;
  }
  /* The run's status on its OpenMetadata ingestion pipeline, when it has one: never the run's
   * outcome (om_pipeline_status.h). */
  struct host_om_pipeline *pipeline = NULL;
  host_om_pipeline_start(wf, opts->log, &pipeline);
  for (size_t i = 0; i < wf->n_sources && !host_interrupted(); i++)
    run_source(&r, &wf->sources[i], &report->sources[i]);
  report->exit_code = combine_exit(report);
  r.sink_ops->destroy(&r.sink);
  host_om_pipeline_end(&pipeline, report);
out:
  host_state_close(&r.store);
  host_progress_free(&r.progress);
  free(sink_json);
  free(wf_json);
  return report->exit_code;
}
