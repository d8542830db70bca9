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
#include "omrest_json.h"
#include "progress.h"
#include "services.h"
#include "sink.h"
#include "spool.h"
#include "state.h"
#include "workflow.h"

#include <pthread.h>
#include <signal.h>
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
  /* sources at once (workflowConfig.parallelSources) */
  pthread_mutex_t par_mu; /* the spools' lock, and source_run.live_instance */
  pthread_cond_t par_cv;  /* a spool gained an entity or ended */
  bool interrupts_sent;   /* interrupt_all ran */
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

/* Counts the records the sink refused on delivery since the last call as failed. */
static void count_late_rejects(struct runner *r, struct host_source_report *rep) {
  unsigned long rejected = r->sink_ops->take_rejected ? r->sink_ops->take_rejected(r->sink) : 0;
  host_report_lock();
  rep->failed += (long long)rejected;
  host_report_unlock();
}

/* Commits the sink and counts the records it refused on delivery as failed. */
static etl_status commit_sink(struct runner *r, struct host_source_report *rep) {
  etl_status st = r->sink_ops->commit(r->sink);
  count_late_rejects(r, rep);
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

/* Stores what the sink still could not deliver, for its next run, and counts it. */
static etl_status save_pending(struct runner *r, const char *source,
                               struct host_source_report *rep) {
  if (!r->sink_ops->take_pending || sink_keeps_state(r) || !r->store)
    return ETL_OK;
  char *json = r->sink_ops->take_pending(r->sink, source);
  yajl_val list = json ? host_json_parse(json, strlen(json), NULL, 0) : NULL;
  long long pending = YAJL_IS_ARRAY(list) ? (long long)list->u.array.len : 0;
  yajl_tree_free(list);
  host_report_lock();
  rep->pending = pending;
  host_report_unlock();
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
  host_report_lock();
  long long failed = rep->failed, held = failed > 0 ? rep->states_held++ : 0;
  host_report_unlock();
  if (failed > 0) {
    if (held == 0)
      host_log_msg(r->opts->log, ETL_SEV_WARNING, rep->name, NULL,
                   "state not stored: %lld record(s) of this run failed, so the next run starts "
                   "from the last stored state",
                   failed);
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
  yajl_val root = NULL;
  const char **ids = NULL;
  etl_status st = ETL_OK;
  size_t n = 0;
  if (!r->sink_ops->retain) {
    struct host_record rec = {
        .source = rep->name, .kind = e->kind, .id = e->id, .json = e->json, .json_len = e->json_len};
    bool rejected = false;
    st = r->sink_ops->write(r->sink, &rec, &rejected);
    host_report_lock();
    if (st == ETL_OK && rejected)
      rep->failed++;
    host_report_unlock();
  }
  /* depth-capped: a plugin's entity is input like any other (yajl frees trees recursively) */
  root = host_json_parse(e->json, e->json_len, NULL, 0);
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
  host_report_lock();
  if (st == ETL_OK)
    rep->retained += (long long)n;
  host_report_unlock();
out:
  free(ids);
  yajl_tree_free(root);
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
    host_report_lock();
    if (st == ETL_OK && rep->states_held == held)
      rep->states++;
    host_report_unlock();
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
  host_report_lock();
  if (rejected)
    rep->failed++;
  rep->entities++;
  int counted = count_kind(rep, e->kind);
  host_report_unlock();
  return counted == 0 ? ETL_OK : ETL_ERR_NOMEM;
}

/* ---- one source, in phases ---------------------------------------------------------------
 *
 * prepare (load the plugin, the state, open()'s arguments) -> begin (the sink's begin_source,
 * pending) -> the stream -> finish (commit, end_source, pending). One after another, the
 * stream is pumped straight into the sink. With workflowConfig.parallelSources, each source's
 * stream runs on its own thread into a spool (spool.h) while this thread, the only writer,
 * begins, drains and finishes the sources one at a time, in the workflow's order. */

struct source_run {
  struct runner *r;
  const struct host_source_cfg *src;  /* borrowed */
  struct host_source_report *rep;     /* borrowed */
  struct etl_run run;
  struct host_open_args oa;           /* owned (release) */
  const struct host_plugin *plugin;   /* borrowed from the loader */
  char *state;                        /* owned */
  size_t state_len;
  bool prepared;    /* ready to open */
  bool begun;       /* begin_source succeeded: finish ends it */
  bool sink_failed; /* the sink refused to go on for this source */
  /* sources that fetch on their own thread */
  struct host_spool *spool; /* owned */
  pthread_t thread;
  bool thread_started, thread_joined;
  void *live_instance; /* under runner.par_mu: open, so the writer may interrupt() it */
};

/* Loads the source's plugin; the status goes to the report. */
static void source_prepare(struct source_run *sr) {
  struct runner *r = sr->r;
  struct host_source_report *rep = sr->rep;
  sr->run = (struct etl_run){.rep = rep, .log = r->opts->log, .progress = r->progress,
                             .src = sr->src};
  rep->started_at = host_progress_now();
  rep->status = host_loader_load(r->opts->loader, sr->src->type, &sr->plugin);
  sr->prepared = rep->status == ETL_OK;
}

/* Loads the stored state and open()'s arguments; the status goes to the report. One after
 * another this runs once the sink began the source: a sink that holds a source while it
 * writes it (postgres) makes a second run of the source wait there, and the state it then
 * reads is the first run's last, not a checkpoint the first run has left behind since. */
static void source_load_state(struct source_run *sr) {
  struct host_source_report *rep = sr->rep;
  rep->status = load_state(sr->r, sr->src->name, &sr->state, &sr->state_len);
  if (rep->status == ETL_OK)
    rep->status = host_open_args_prepare(&sr->oa, sr->src, &sr->run, sr->state, sr->state_len);
  sr->prepared = rep->status == ETL_OK;
}

/* A source that fetched on its own thread opened with the state stored when it started; once
 * the sink began it (and holds it), that state must still be the stored one. If another run of
 * the source stored one since, what was fetched is relative to a stale state (an incremental
 * plugin retained, or resumed, by it): false, and the source delivers nothing this run. */
static bool source_state_still_current(struct source_run *sr) {
  char *now = NULL;
  size_t now_len = 0;
  etl_status st = load_state(sr->r, sr->src->name, &now, &now_len);
  bool same = st == ETL_OK && now_len == sr->state_len &&
              (now_len == 0 || memcmp(now, sr->state, now_len) == 0);
  free(now);
  if (st != ETL_OK) {
    sr->rep->status = st;
  } else if (!same) {
    host_log_msg(sr->run.log, ETL_SEV_ERROR, sr->src->name, NULL,
                 "another run of this source stored a newer state while this one fetched: "
                 "nothing of this run is written, the next run starts from that state");
    sr->rep->status = ETL_ERR_TRANSIENT;
  }
  return st == ETL_OK && same;
}

/* The sink's side of a source's start. False when the source cannot go on. */
static bool source_begin(struct source_run *sr) {
  struct runner *r = sr->r;
  struct host_source_report *rep = sr->rep;
  etl_status st = r->sink_ops->begin_source(r->sink, sr->src->name, sr->src->type);
  if (st != ETL_OK) {
    rep->status = st;
    host_report_lock();
    rep->errors++; /* the sink said why (a full disk, a lock); not "errors 0" beside it */
    host_report_unlock();
    return false;
  }
  sr->begun = true;
  st = load_pending(r, sr->src->name);
  if (st != ETL_OK)
    rep->status = st;
  return st == ETL_OK;
}

/* Opens the plugin. Returns the instance, or NULL with the plugin's refusal in *status (not in
 * the report: a source's thread must not write its status while the writer may). */
static void *source_open(struct source_run *sr, etl_status *status) {
  struct host_source_report *rep = sr->rep;
  void *instance = NULL;
  host_log_msg(sr->run.log, ETL_SEV_INFO, sr->src->name, NULL, "running %s %s%s",
               sr->plugin->desc->name, sr->plugin->desc->version ? sr->plugin->desc->version : "",
               sr->state ? " from its stored state" : "");
  etl_status st = host_known_status(sr->plugin->desc->open(&sr->oa.args, &instance));
  if (st != ETL_OK) {
    if (st == ETL_DONE)
      st = ETL_ERR_INTERNAL;
    /* Not after a config error that named its key and line: that is the one message to read. */
    if (sr->run.keyed_errors == 0)
      host_log_msg(sr->run.log, ETL_SEV_ERROR, sr->src->name, NULL,
                   "the %s plugin refused to start (%s)", sr->src->type, etl_status_name(st));
    *status = st;
    return NULL;
  }
  *status = ETL_OK;
  host_report_lock();
  rep->started = true;
  host_report_unlock();
  return instance;
}

/* Reports a sink failure once and marks the source. */
static etl_status sink_gave_up(struct source_run *sr, etl_status rs) {
  host_log_msg(sr->run.log, ETL_SEV_ERROR, sr->rep->name, NULL,
               "the %s sink failed (%s); stopping this source", sr->r->sink_ops->type,
               etl_status_name(rs));
  sr->sink_failed = true;
  return rs;
}

/* One after another: the stream of one opened instance straight into the sink; returns the
 * status that ended it (ETL_DONE normally). */
static etl_status pump(struct source_run *sr, void *instance) {
  const struct etl_plugin *p = sr->plugin->desc;
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
      etl_status rs = route(sr->r, &sr->run, e);
      if (rs != ETL_OK)
        st = sink_gave_up(sr, rs);
      host_progress_update(sr->r->progress, sr->rep, false);
    } else {
      st = host_known_status(st); /* an unknown status is a plugin bug */
    }
  }
  host_services_set_current(NULL, NULL);
  if (st == ETL_ERR_CANCELLED || host_interrupted())
    st = ETL_ERR_CANCELLED;
  return st;
}

/* Makes the source's data durable and ends it on the sink (if it began), then reports. */
static void source_finish(struct source_run *sr) {
  struct runner *r = sr->r;
  struct host_source_report *rep = sr->rep;
  if (sr->begun) {
    /* What the sink holds is made durable even after a failure: it is all true data. The
     * sink's status is the run's (a refused token or a server gone is exit 3 here as
     * anywhere). */
    etl_status cs = sr->sink_failed ? ETL_OK : commit_sink(r, rep);
    if (cs != ETL_OK) {
      sr->sink_failed = true;
      if (rep->status == ETL_DONE)
        rep->status = cs > 0 ? ETL_ERR_INTERNAL : cs;
    }
    host_report_lock();
    rep->complete = rep->status == ETL_DONE && rep->failed == 0 && !sr->sink_failed;
    /* The sink has said why in the log; the summary must not show "errors 0" beside it. */
    if (sr->sink_failed)
      rep->errors++;
    host_report_unlock();
    struct host_deletions_held held = {0, 0};
    struct host_source_outcome outcome = {
        .complete = rep->complete,
        .run_id = r->run_id,
        .source_config_json = sr->oa.args.source_config_json ? sr->oa.args.source_config_json
                                                             : "{}",
        .fail_safe_threshold = r->wf->fail_safe_threshold,
        .held = &held};
    etl_status es = r->sink_ops->end_source(r->sink, sr->src->name, &outcome);
    host_report_lock();
    rep->deletions_held = held.n;
    rep->deletions_held_of = held.of;
    host_report_unlock();
    /* end_source delivers too (metadata-rest sends the pending records again): what the server
     * refused there is as failed as a record refused at a commit. */
    count_late_rejects(r, rep);
    if (es == ETL_OK)
      es = save_pending(r, sr->src->name, rep);
    if (es != ETL_OK && rep->status == ETL_DONE)
      rep->status = es > 0 ? ETL_ERR_INTERNAL : es;
  }
  rep->seconds = host_progress_now() - rep->started_at;
}

static void source_release(struct source_run *sr) {
  host_open_args_release(&sr->oa);
  free(sr->state);
  sr->state = NULL;
  host_spool_free(&sr->spool);
}

static void run_source(struct source_run *sr) {
  source_prepare(sr);
  if (sr->prepared && source_begin(sr))
    source_load_state(sr);
  if (sr->prepared && sr->begun) {
    void *instance = source_open(sr, &sr->rep->status);
    if (instance) {
      sr->rep->status = pump(sr, instance);
      sr->plugin->desc->close(instance);
    }
  }
  source_finish(sr);
  host_progress_update(sr->r->progress, sr->rep, true);
  host_progress_clear(sr->r->progress);
}

/* ---- sources at once ------------------------------------------------------------------------ */

/* A source's thread: open, stream into the spool, close. Everything it touches that others
 * see is under a lock: the reports (host_report_lock), the spool, live_instance. */
static void *fetch_thread(void *arg) {
  struct source_run *sr = arg;
  struct runner *r = sr->r;
  etl_status st = ETL_ERR_CANCELLED;
  void *instance = host_interrupted() ? NULL : source_open(sr, &st);
  if (!instance) {
    host_spool_finish(sr->spool, host_interrupted() ? ETL_ERR_CANCELLED : st);
    return NULL;
  }
  const struct etl_plugin *p = sr->plugin->desc;
  pthread_mutex_lock(&r->par_mu);
  sr->live_instance = instance;
  pthread_mutex_unlock(&r->par_mu);
  st = ETL_OK;
  while (st == ETL_OK) {
    if (host_interrupted()) {
      st = ETL_ERR_CANCELLED;
      break;
    }
    if (host_spool_stop_requested(sr->spool))
      break; /* the sink gave up on this source; the writer has its status */
    const struct etl_entity *e = NULL;
    st = p->next_entity(instance, &e);
    if (st == ETL_OK) {
      if (!entity_ok(&sr->run, e))
        continue;
      if (host_spool_put(sr->spool, e->kind, e->id, e->json, e->json_len) != ETL_OK) {
        host_log_msg(sr->run.log, ETL_SEV_ERROR, sr->rep->name, NULL,
                     "cannot spool an entity to disk (a full $TMPDIR?); stopping this source");
        st = ETL_ERR_INTERNAL;
      }
    } else {
      st = host_known_status(st); /* an unknown status is a plugin bug */
    }
  }
  if (st == ETL_ERR_CANCELLED || host_interrupted())
    st = ETL_ERR_CANCELLED;
  pthread_mutex_lock(&r->par_mu);
  sr->live_instance = NULL; /* no interrupt() after this: close() is next */
  pthread_mutex_unlock(&r->par_mu);
  p->close(instance);
  host_spool_finish(sr->spool, st);
  return NULL;
}

/* Asks every open instance to stop, once, after Ctrl-C (the signal handler only sets the flag
 * while sources run on their threads: it may run on any thread, and an instance may be closing
 * on another). */
static void interrupt_all(struct runner *r, struct source_run *runs, size_t n) {
  if (!host_interrupted() || r->interrupts_sent)
    return;
  r->interrupts_sent = true;
  pthread_mutex_lock(&r->par_mu);
  for (size_t i = 0; i < n; i++) {
    const struct etl_plugin *p = runs[i].plugin ? runs[i].plugin->desc : NULL;
    if (runs[i].live_instance && ETL_HAS_MEMBER(p, struct etl_plugin, interrupt) && p->interrupt)
      p->interrupt(runs[i].live_instance);
  }
  pthread_mutex_unlock(&r->par_mu);
}

/* Starts the next sources, in order, while fewer than `limit` fetch. Signals stay with the main
 * thread: its handler only sets the flag (interrupt_all does the rest). */
static void start_fetches(struct runner *r, struct source_run *runs, size_t n, size_t limit,
                          size_t *next) {
  size_t fetching = 0;
  for (size_t i = 0; i < n; i++)
    if (runs[i].thread_started && !runs[i].thread_joined) {
      if (host_spool_finished(runs[i].spool)) {
        pthread_join(runs[i].thread, NULL);
        runs[i].thread_joined = true;
      } else {
        fetching++;
      }
    }
  while (*next < n && fetching < limit && !host_interrupted()) {
    struct source_run *sr = &runs[(*next)++];
    char err[256] = "";
    source_prepare(sr);
    if (sr->prepared)
      source_load_state(sr);
    if (!sr->prepared)
      continue;
    etl_status st = host_spool_new(&r->par_mu, &r->par_cv, &sr->spool, err, sizeof err);
    if (st != ETL_OK) {
      host_log_msg(r->opts->log, ETL_SEV_ERROR, sr->src->name, NULL, "%s",
                   err[0] ? err : "out of memory");
      sr->rep->status = st;
      sr->prepared = false;
      continue;
    }
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = pthread_create(&sr->thread, NULL, fetch_thread, sr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
      host_log_msg(r->opts->log, ETL_SEV_ERROR, sr->src->name, NULL,
                   "cannot start a thread for this source: %s", strerror(rc));
      sr->rep->status = ETL_ERR_INTERNAL;
      sr->prepared = false;
      host_spool_free(&sr->spool);
      continue;
    }
    sr->thread_started = true;
    fetching++;
  }
}

static void draw_all(struct runner *r, struct source_run *runs, size_t n, bool force) {
  bool active[HOST_MAX_PARALLEL_SOURCES * 4]; /* the line shows the first ones */
  size_t shown = n < sizeof active / sizeof active[0] ? n : sizeof active / sizeof active[0];
  for (size_t i = 0; i < shown; i++)
    active[i] = runs[i].thread_started && !runs[i].thread_joined;
  /* runs[i].rep is &report->sources[i]: the reports are one array */
  host_progress_update_all(r->progress, runs[0].rep, active, shown, force);
}

/* The writer's share of one source that fetched on its own thread: begin, drain, finish. */
static void drain_source(struct runner *r, struct source_run *runs, size_t n, size_t limit,
                         size_t *next, struct source_run *sr) {
  bool go = sr->prepared && source_begin(sr) && source_state_still_current(sr);
  etl_status end = ETL_ERR_CANCELLED;
  for (;;) {
    struct host_spool_item item;
    int got = sr->spool ? host_spool_next(sr->spool, 100, &item, &end) : -1;
    if (got < 0)
      break;
    if (got == 1 && go && !sr->sink_failed) {
      struct etl_entity e = {.struct_size = sizeof e, .kind = item.kind, .id = item.id,
                             .json = item.json, .json_len = item.json_len};
      etl_status rs = route(r, &sr->run, &e);
      if (rs != ETL_OK) {
        sink_gave_up(sr, rs);
        sr->rep->status = rs;
        host_spool_request_stop(sr->spool);
      }
    } else if (got == 1 && !go) {
      host_spool_request_stop(sr->spool); /* the sink never began it: nothing to deliver to */
    }
    interrupt_all(r, runs, n);
    start_fetches(r, runs, n, limit, next);
    draw_all(r, runs, n, false);
  }
  if (sr->prepared && !sr->sink_failed && (go || sr->rep->status == ETL_OK))
    sr->rep->status = end;
  if (sr->thread_started && !sr->thread_joined) {
    pthread_join(sr->thread, NULL);
    sr->thread_joined = true;
  }
  source_finish(sr);
  host_spool_free(&sr->spool);
  start_fetches(r, runs, n, limit, next);
}

/* Runs the sources with up to `limit` fetching at once; the sink is written from this thread
 * only, one source at a time, in order. */
static void run_sources_at_once(struct runner *r, struct source_run *runs, size_t n,
                                size_t limit) {
  size_t next = 0;
  start_fetches(r, runs, n, limit, &next);
  for (size_t i = 0; i < n; i++) {
    /* A source is drained once it started (in order, so it has by now) or was never started
     * because of Ctrl-C: then it stays "interrupted" as one after another. */
    while (i >= next && next < n && !host_interrupted())
      start_fetches(r, runs, n, limit, &next);
    if (i >= next)
      break;
    drain_source(r, runs, n, limit, &next, &runs[i]);
  }
  for (size_t i = 0; i < n; i++) /* a source that started and was not drained: Ctrl-C */
    if (runs[i].thread_started && !runs[i].thread_joined) {
      pthread_join(runs[i].thread, NULL);
      runs[i].thread_joined = true;
    }
  draw_all(r, runs, n, true);
  host_progress_clear(r->progress);
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

/* How many sources fetch at once: workflowConfig.parallelSources, else as many as there are, at
 * most HOST_DEFAULT_PARALLEL_SOURCES. */
static size_t parallel_limit(const struct host_workflow *wf) {
  size_t limit = wf->parallel_sources > 0 ? (size_t)wf->parallel_sources
                                          : HOST_DEFAULT_PARALLEL_SOURCES;
  return limit < wf->n_sources ? limit : wf->n_sources;
}

int host_run_workflow(const struct host_workflow *wf, const struct host_runner_opts *opts,
                      struct host_run_report *report) {
  struct runner r = {.wf = wf, .opts = opts, .run_id = new_run_id(),
                     .par_mu = PTHREAD_MUTEX_INITIALIZER, .par_cv = PTHREAD_COND_INITIALIZER};
  struct source_run *runs = NULL;
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
  report->sink_pending = r.sink_ops->take_pending && !sink_keeps_state(&r);
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
  runs = calloc(wf->n_sources, sizeof *runs);
  if (!runs) {
    report->exit_code = HOST_EXIT_FAILED;
    r.sink_ops->destroy(&r.sink);
    host_om_pipeline_end(&pipeline, report);
    goto out;
  }
  for (size_t i = 0; i < wf->n_sources; i++)
    runs[i] = (struct source_run){.r = &r, .src = &wf->sources[i], .rep = &report->sources[i]};
  size_t limit = parallel_limit(wf);
  if (limit <= 1) {
    for (size_t i = 0; i < wf->n_sources && !host_interrupted(); i++)
      run_source(&runs[i]);
  } else {
    run_sources_at_once(&r, runs, wf->n_sources, limit);
  }
  for (size_t i = 0; i < wf->n_sources; i++)
    source_release(&runs[i]);
  report->exit_code = combine_exit(report);
  r.sink_ops->destroy(&r.sink);
  host_om_pipeline_end(&pipeline, report);
out:
  free(runs);
  host_state_close(&r.store);
  host_progress_free(&r.progress);
  free(sink_json);
  free(wf_json);
  return report->exit_code;
}
