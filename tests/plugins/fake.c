/*
 * fake.c -- a good plugin whose behaviour is scripted by its config, for the runner's tests.
 *
 * serviceConnection.config (every key optional):
 *   count         entities to emit (default 10), ids "<prefix><i>", data {"name": id, "n": i}
 *   prefix        id prefix (default "e")
 *   kinds         list of kinds used in turn (default ["chart"])
 *   state_every   emit a state {"next": i} after every N entities (0: never); a complete run
 *                 ends with {"next": 0} so that the next run is a full one again
 *   crash_after   SIGKILL the whole process while producing entity K (K entities emitted)
 *   sleep_ms      sleep this long before each entity
 *   lose_every    every Nth entity is not emitted but reported lost (ETL_DIAG_ITEM_LOST)
 *   warn_every    every Nth entity also produces a warning
 *   bad_json_at   entity index whose data is not JSON (the host must refuse it)
 *   open_status   "config" | "auth" | "connect" | "unknown": open() fails with that class
 *                 ("unknown": -42, a status no header lists)
 *   end_status    "auth" | "transient" | "protocol" | "unknown": returned instead of ETL_DONE
 *                 at the end
 *   test_steps    list of "pass" | "fail" | "skip": the steps test() reports
 *   token         a secret; with echo_secret true it is echoed in a warning (the host must
 *                 redact it)
 * A state handed to open() ({"next": i}) resumes at entity i.
 */
#include "config.h"

#include <etl/plugin.h>

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "test_plugin.h"

struct fake {
  const struct etl_host_services *svc;
  struct etl_run *run;
  yajl_val cfg; /* owned parsed config */
  long count, next, state_every, crash_after, sleep_ms, lose_every, warn_every, bad_json_at;
  long emitted; /* in this process */
  const char *prefix, *end_status, *token;
  yajl_val kinds, test_steps;
  int echo_secret;
  int pending_state; /* a state is due before the next entity */
  int finished;
  int stop; /* set by interrupt() from another thread or a signal handler: atomic access only */
  char id[128], json[512], kind[64];
  struct etl_entity entity;
};

static long num(yajl_val cfg, const char *key, long def) {
  const char *path[] = {key, NULL};
  yajl_val v = yajl_tree_get(cfg, path, yajl_t_number);
  return v && YAJL_IS_INTEGER(v) ? (long)YAJL_GET_INTEGER(v) : def;
}

static const char *str(yajl_val cfg, const char *key, const char *def) {
  const char *path[] = {key, NULL};
  yajl_val v = yajl_tree_get(cfg, path, yajl_t_string);
  return v ? YAJL_GET_STRING(v) : def;
}

static etl_status status_of(const char *name) {
  if (!name)
    return ETL_DONE;
  if (strcmp(name, "config") == 0)
    return ETL_ERR_CONFIG;
  if (strcmp(name, "auth") == 0)
    return ETL_ERR_AUTH;
  if (strcmp(name, "connect") == 0)
    return ETL_ERR_CONNECT;
  if (strcmp(name, "transient") == 0)
    return ETL_ERR_TRANSIENT;
  if (strcmp(name, "protocol") == 0)
    return ETL_ERR_PROTOCOL;
  if (strcmp(name, "unknown") == 0)
    return -42;
  return ETL_ERR_INTERNAL;
}

static void fake_close(void *instance) {
  struct fake *f = instance;
  if (!f)
    return;
  yajl_tree_free(f->cfg);
  free(f);
}

static etl_status fake_open(const struct etl_open_args *args, void **instance) {
  *instance = NULL;
  struct fake *f = calloc(1, sizeof *f);
  if (!f)
    return ETL_ERR_NOMEM;
  f->svc = args->services;
  f->run = args->run;
  char *text = strndup(args->config_json, args->config_json_len);
  f->cfg = text ? yajl_tree_parse(text, NULL, 0) : NULL;
  free(text);
  if (!YAJL_IS_OBJECT(f->cfg)) {
    f->svc->diag(f->run, ETL_SEV_ERROR, 0, NULL, "serviceConnection.config: not an object");
    fake_close(f);
    return ETL_ERR_CONFIG;
  }
  const char *open_status = str(f->cfg, "open_status", NULL);
  if (open_status) {
    etl_status st = status_of(open_status); /* before close frees the config */
    f->svc->diag(f->run, ETL_SEV_ERROR, 0, NULL, "open fails as scripted");
    fake_close(f);
    return st;
  }
  f->count = num(f->cfg, "count", 10);
  f->state_every = num(f->cfg, "state_every", 0);
  f->crash_after = num(f->cfg, "crash_after", -1);
  f->sleep_ms = num(f->cfg, "sleep_ms", 0);
  f->lose_every = num(f->cfg, "lose_every", 0);
  f->warn_every = num(f->cfg, "warn_every", 0);
  f->bad_json_at = num(f->cfg, "bad_json_at", -1);
  f->prefix = str(f->cfg, "prefix", "e");
  f->end_status = str(f->cfg, "end_status", NULL);
  f->token = str(f->cfg, "token", NULL);
  const char *echo[] = {"echo_secret", NULL};
  f->echo_secret = YAJL_IS_TRUE(yajl_tree_get(f->cfg, echo, yajl_t_true));
  const char *kinds[] = {"kinds", NULL};
  f->kinds = yajl_tree_get(f->cfg, kinds, yajl_t_array);
  const char *steps[] = {"test_steps", NULL};
  f->test_steps = yajl_tree_get(f->cfg, steps, yajl_t_array);
  if (args->state_json) {
    char *st = strndup(args->state_json, args->state_json_len);
    yajl_val state = st ? yajl_tree_parse(st, NULL, 0) : NULL;
    f->next = num(state, "next", 0);
    yajl_tree_free(state);
    free(st);
  }
  *instance = f;
  return ETL_OK;
}

static etl_status fake_test(void *instance) {
  struct fake *f = instance;
  etl_status st = ETL_OK;
  for (size_t i = 0; f->test_steps && i < f->test_steps->u.array.len; i++) {
    const char *v = YAJL_GET_STRING(f->test_steps->u.array.values[i]);
    char step[32];
    snprintf(step, sizeof step, "step%zu", i + 1);
    enum etl_test_verdict verdict = ETL_TEST_PASS;
    if (v && strcmp(v, "fail") == 0) {
      verdict = ETL_TEST_FAIL;
      st = ETL_ERR_AUTH;
    } else if (v && strcmp(v, "skip") == 0) {
      verdict = ETL_TEST_SKIP;
    }
    f->svc->test_step(f->run, step, verdict, f->echo_secret && f->token ? f->token : "scripted");
  }
  return st;
}

static void fake_interrupt(void *instance) {
  struct fake *f = instance;
  __atomic_store_n(&f->stop, 1, __ATOMIC_SEQ_CST);
}

static const char *kind_at(struct fake *f, long i) {
  if (!f->kinds || f->kinds->u.array.len == 0)
    return "chart";
  const char *k = YAJL_GET_STRING(f->kinds->u.array.values[(size_t)i % f->kinds->u.array.len]);
  return k ? k : "chart";
}

static const struct etl_entity *make_state(struct fake *f, long next) {
  snprintf(f->json, sizeof f->json, "{\"next\": %ld}", next);
  test_plugin_entity(&f->entity, "state", "state", f->json);
  return &f->entity;
}

static etl_status fake_next(void *instance, const struct etl_entity **out) {
  struct fake *f = instance;
  *out = NULL;
  if (__atomic_load_n(&f->stop, __ATOMIC_SEQ_CST) || f->svc->cancelled(f->run))
    return ETL_ERR_CANCELLED;
  if (f->pending_state) {
    f->pending_state = 0;
    *out = make_state(f, f->next);
    return ETL_OK;
  }
  for (;;) {
    if (f->next >= f->count) {
      if (f->finished)
        return f->end_status ? status_of(f->end_status) : ETL_DONE;
      f->finished = 1;
      if (f->end_status || f->state_every <= 0)
        return f->end_status ? status_of(f->end_status) : ETL_DONE;
      *out = make_state(f, 0); /* the next run starts over: a full listing */
      return ETL_OK;
    }
    if (f->crash_after >= 0 && f->emitted == f->crash_after)
      kill(getpid(), SIGKILL);
    if (f->sleep_ms > 0) {
      struct timespec ts = {f->sleep_ms / 1000, (f->sleep_ms % 1000) * 1000000L};
      nanosleep(&ts, NULL);
      if (__atomic_load_n(&f->stop, __ATOMIC_SEQ_CST))
        return ETL_ERR_CANCELLED;
    }
    long i = f->next++;
    f->emitted++;
    f->svc->count(f->run, ETL_COUNTER_REQUESTS, 1);
    if (f->state_every > 0 && f->next % f->state_every == 0)
      f->pending_state = 1;
    snprintf(f->id, sizeof f->id, "%s%ld", f->prefix, i);
    if (f->warn_every > 0 && (i + 1) % f->warn_every == 0)
      f->svc->diag(f->run, ETL_SEV_WARNING, 0, f->id,
                   f->echo_secret && f->token ? f->token : "a scripted warning");
    if (f->lose_every > 0 && (i + 1) % f->lose_every == 0) {
      f->svc->diag(f->run, ETL_SEV_ERROR, ETL_DIAG_ITEM_LOST, f->id, "lost as scripted");
      if (f->pending_state) {
        f->pending_state = 0;
        *out = make_state(f, f->next);
        return ETL_OK;
      }
      continue;
    }
    snprintf(f->kind, sizeof f->kind, "%s", kind_at(f, i));
    if (i == f->bad_json_at)
      snprintf(f->json, sizeof f->json, "{\"data\": not json");
    else
      snprintf(f->json, sizeof f->json, "{\"data\": {\"name\": \"%s\", \"n\": %ld}}", f->id, i);
    test_plugin_entity(&f->entity, f->kind, f->id, f->json);
    *out = &f->entity;
    return ETL_OK;
  }
}

TEST_PLUGIN_DEFINE(fake, .name = "fake", .version = "9.9.9",
                   .description = "a scriptable plugin for the runner's tests", .open = fake_open,
                   .test = fake_test, .next_entity = fake_next, .close = fake_close,
                   .interrupt = fake_interrupt)
