/*
 * plugin.c -- the Mode source's descriptor and lifecycle: open parses and checks the
 * configuration (no network), test runs the connection test, next_entity pulls the crawl one
 * entity at a time, interrupt sets the flag every transfer watches, close frees everything.
 */
#include "config.h"

#include <curl/curl.h>
#include <etl/plugin.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include "conf.h"
#include "conntest.h"
#include "crawl.h"
#include "entities.h"
#include "incremental.h"
#include "usage.h"

struct mode_instance {
  const struct etl_host_services *services; /* host's, static */
  struct etl_run *run;
  char *source_name;           /* owned */
  struct mode_config cfg;      /* owned */
  struct mode_crawl *crawl;    /* owned, created on the first next_entity */
  struct mode_incr incr;       /* owned: incremental runs' maps (empty otherwise) */
  uint64_t config_hash;        /* incremental runs: the stamp of the settings */
  struct mode_usage usage;     /* owned: the view-count ledger, from and into the state */
  struct mode_entity_ctx ectx; /* borrows source_name and cfg: rebuilds usage records */
  char today[11];              /* the usage date, YYYY-MM-DD (ETL_MODE_TODAY in tests) */
  int state_done;              /* the ledger's own state went out: the next call ends the run */
  struct mode_entity *current; /* owned: the entity handed out last */
  struct etl_entity out;
  atomic_int interrupt;
  etl_status final; /* sticky status after ETL_DONE or an error; 0 while running */
};

static void diag(const struct mode_instance *m, enum etl_severity sev, unsigned flags,
                 const char *item, const char *msg) {
  if (ETL_HAS_MEMBER(m->services, struct etl_host_services, diag) && m->services->diag)
    m->services->diag(m->run, sev, flags, item, msg);
}

static void hook_diag(void *ctx, int severity, unsigned flags, const char *item,
                      const char *message) {
  diag(ctx, (enum etl_severity)severity, flags, item, message);
}

static void hook_count(void *ctx, int counter, long long delta) {
  struct mode_instance *m = ctx;
  if (ETL_HAS_MEMBER(m->services, struct etl_host_services, count) && m->services->count)
    m->services->count(m->run, (enum etl_counter)counter, (int64_t)delta);
}

static int hook_cancelled(void *ctx) {
  struct mode_instance *m = ctx;
  if (ETL_HAS_MEMBER(m->services, struct etl_host_services, cancelled) && m->services->cancelled)
    return m->services->cancelled(m->run);
  return 0;
}

static void config_warning(void *ctx, const char *message) {
  diag(ctx, ETL_SEV_WARNING, 0, NULL, message);
}

static void mode_close(void *instance) {
  struct mode_instance *m = instance;
  if (m == NULL)
    return;
  mode_crawl_free(&m->crawl);
  mode_incr_clear(&m->incr);
  mode_usage_clear(&m->usage);
  mode_entity_free(m->current);
  mode_config_free(&m->cfg);
  free(m->source_name);
  free(m);
}

/* The usage ledger from the stored state, and the day usage is counted for. ETL_MODE_TODAY
 * (YYYY-MM-DD) replaces the clock: the tests' seam, not a setting. */
static etl_status usage_open(struct mode_instance *m, const struct etl_open_args *args) {
  char err[256], msg[400];
  if (mode_usage_today(getenv("ETL_MODE_TODAY"), m->today) < 0)
    diag(m, ETL_SEV_WARNING, 0, NULL, "usage: ETL_MODE_TODAY is not YYYY-MM-DD; using today");
  int rc = args->state_json
               ? mode_usage_load(&m->usage, args->state_json, args->state_json_len, err, sizeof err)
               : 0;
  if (rc == -2) {
    diag(m, ETL_SEV_ERROR, 0, NULL, err);
    return ETL_ERR_NOMEM;
  }
  if (rc == -1) {
    snprintf(msg, sizeof msg, "usage: %s; every report counts as seen for the first time", err);
    diag(m, ETL_SEV_WARNING, 0, NULL, msg);
  }
  m->incr.usage = &m->usage;
  m->ectx = (struct mode_entity_ctx){m->source_name, m->cfg.host, m->cfg.workspace,
                                     m->cfg.include_owners};
  return ETL_OK;
}

static etl_status mode_open(const struct etl_open_args *args, void **instance) {
  char err[512];
  *instance = NULL;
  if (args == NULL || args->services == NULL || args->services->abi_major != ETL_ABI_MAJOR)
    return ETL_ERR_UNSUPPORTED;
  struct mode_instance *m = calloc(1, sizeof *m);
  if (m == NULL)
    return ETL_ERR_NOMEM;
  m->services = args->services;
  m->run = args->run;
  atomic_init(&m->interrupt, 0);
  const char *name = args->source_name && *args->source_name ? args->source_name : "mode";
  m->source_name = strdup(name);
  if (m->source_name == NULL) {
    free(m);
    return ETL_ERR_NOMEM;
  }
  if (mode_config_parse(args->config_json, args->config_json_len, args->source_config_json,
                        args->source_config_json_len, &m->cfg, config_warning, m, err,
                        sizeof err) != 0) {
    diag(m, ETL_SEV_ERROR, 0, NULL, err);
    mode_close(m);
    return ETL_ERR_CONFIG;
  }
  if (m->cfg.incremental) {
    m->config_hash = mode_incr_hash_config(MODE_INCR_HASH_INIT, args->config_json,
                                           args->config_json_len);
    m->config_hash = mode_incr_hash_config(m->config_hash, args->source_config_json,
                                           args->source_config_json_len);
    int rc = args->state_json ? mode_incr_load(&m->incr, args->state_json, args->state_json_len,
                                               err, sizeof err)
                              : 0;
    if (rc == -2) {
      diag(m, ETL_SEV_ERROR, 0, NULL, err);
      mode_close(m);
      return ETL_ERR_NOMEM;
    }
    if (rc == -1) {
      char msg[640];
      snprintf(msg, sizeof msg, "incremental: %s; this run fetches every report", err);
      diag(m, ETL_SEV_WARNING, 0, NULL, msg);
    }
  }
  etl_status st = usage_open(m, args);
  if (st != ETL_OK) {
    mode_close(m);
    return st;
  }
  *instance = m;
  return ETL_OK;
}

static void test_step(void *ctx, const char *step, int verdict, const char *message) {
  struct mode_instance *m = ctx;
  if (ETL_HAS_MEMBER(m->services, struct etl_host_services, test_step) && m->services->test_step)
    m->services->test_step(m->run, step, (enum etl_test_verdict)verdict, message);
}

static etl_status mode_test(void *instance) {
  struct mode_instance *m = instance;
  if (m == NULL)
    return ETL_ERR_INTERNAL;
  return mode_conntest_run(&m->cfg, test_step, hook_cancelled, m, &m->interrupt);
}

/* The crawl's next entity into m->current, with usage turned into the day's increase (usage.h)
 * and, after a run that is not incremental, a state holding the ledger (an incremental run's
 * state carries it already). */
static int next_from_crawl(struct mode_instance *m) {
  int rc = mode_crawl_next(m->crawl, &m->current);
  if (rc == ETL_DONE && !m->cfg.incremental) {
    m->state_done = 1;
    m->current = mode_incr_state_entity(&m->incr, "");
    if (m->current == NULL)
      diag(m, ETL_SEV_ERROR, 0, NULL, "mode: out of memory writing the state");
    return m->current ? ETL_OK : ETL_ERR_NOMEM;
  }
  if (rc != ETL_OK)
    return rc;
  if (strcmp(m->current->kind, "usage") == 0 &&
      mode_usage_rewrite(&m->usage, &m->ectx, m->today, &m->current) != 0) {
    diag(m, ETL_SEV_ERROR, 0, m->current->id, "mode: usage: out of memory");
    return ETL_ERR_NOMEM;
  }
  return ETL_OK;
}

static etl_status mode_next_entity(void *instance, const struct etl_entity **out) {
  struct mode_instance *m = instance;
  *out = NULL;
  if (m == NULL)
    return ETL_ERR_INTERNAL;
  mode_entity_free(m->current);
  m->current = NULL;
  if (m->final != 0)
    return m->final;
  if (m->crawl == NULL) {
    struct mode_crawl_hooks hooks = {m, hook_diag, hook_count, hook_cancelled};
    m->crawl = mode_crawl_new(&m->cfg, m->source_name, &hooks, &m->interrupt);
    if (m->crawl == NULL) {
      diag(m, ETL_SEV_ERROR, 0, NULL, "mode: out of memory starting the run");
      return m->final = ETL_ERR_NOMEM;
    }
    if (m->cfg.incremental)
      mode_crawl_set_incremental(m->crawl, &m->incr, m->config_hash);
  }
  if (m->state_done)
    return m->final = ETL_DONE;
  int rc = next_from_crawl(m);
  if (rc != ETL_OK) {
    m->final = rc;
    return rc;
  }
  m->out.struct_size = sizeof m->out;
  m->out.kind = m->current->kind;
  m->out.id = m->current->id;
  m->out.json = m->current->json;
  m->out.json_len = m->current->json_len;
  *out = &m->out;
  return ETL_OK;
}

static void mode_interrupt(void *instance) {
  struct mode_instance *m = instance;
  if (m)
    atomic_store(&m->interrupt, 1);
}

static const struct etl_plugin mode_plugin = {
    .struct_size = sizeof(struct etl_plugin),
    .abi_major = ETL_ABI_MAJOR,
    .abi_minor = ETL_ABI_MINOR,
    .name = "mode",
    .version = PACKAGE_VERSION,
    .description = "Mode Analytics: reports, charts, queries, datasets, owners, lineage, usage",
    .config_schema = mode_config_schema,
    .open = mode_open,
    .test = mode_test,
    .next_entity = mode_next_entity,
    .close = mode_close,
    .interrupt = mode_interrupt,
};

/* libcurl's global state, set up once per load of this object and undone when it is unloaded
 * (plugin.h: no unload hook is needed). libcurl counts its inits, so a host that uses curl too
 * keeps its own. These are the plugin's only globals: written once, under call_once. */
static once_flag curl_once = ONCE_FLAG_INIT;
static int curl_ready;

static void curl_setup(void) {
  curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

__attribute__((destructor)) static void curl_teardown(void) {
  if (curl_ready)
    curl_global_cleanup();
  curl_ready = 0;
}

ETL_PLUGIN_DEFINE(mode)(const struct etl_host_services *services) {
  (void)services;
  /* The entry function may be called more than once per load: libcurl is set up on the first. */
  call_once(&curl_once, curl_setup);
  return &mode_plugin;
}
