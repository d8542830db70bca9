/*
 * rude.c -- a plugin whose descriptor is right but whose behaviour breaks the runtime rules of
 * <etl/plugin.h>, so that tests/e2e/test_plugin_check.sh can show etl-plugin-check catches each:
 *   - open() calls count() without ETL_HAS_MEMBER (a 1.0 host's table has no count): min-services;
 *   - open() accepts, and reports through diag(), under a host of another major: other-major;
 *   - its entity formats a number with the host's locale ("1,5" under de_DE): locale;
 *   - interrupt() is offered but does nothing: interrupt.
 */
#include "config.h"

#include <etl/plugin.h>

#include <stdio.h>
#include <stdlib.h>

#include "test_plugin.h"

/* One instance: the run handle, the services and how many entities were produced. Owned by the
 * host between open() and close(). */
struct rude {
  struct etl_run *run;
  const struct etl_host_services *svc;
  int produced;
  char json[64];
  struct etl_entity entity;
};

static etl_status rude_open(const struct etl_open_args *args, void **instance) {
  *instance = NULL;
  struct rude *r = calloc(1, sizeof *r);
  if (!r)
    return ETL_ERR_NOMEM;
  r->run = args->run;
  r->svc = args->services;
  r->svc->diag(r->run, ETL_SEV_INFO, 0, NULL, "opening, whatever the host's major");
  r->svc->count(r->run, ETL_COUNTER_REQUESTS, 1);
  *instance = r;
  return ETL_OK;
}

static etl_status rude_next(void *instance, const struct etl_entity **out) {
  struct rude *r = instance;
  *out = NULL;
  if (r->produced == 3)
    return ETL_DONE;
  r->produced++;
  snprintf(r->json, sizeof r->json, "{\"data\": {\"ratio\": \"%.1f\"}}", 1.5);
  test_plugin_entity(&r->entity, "chart", r->produced == 1 ? "a" : r->produced == 2 ? "b" : "c",
                     r->json);
  *out = &r->entity;
  return ETL_OK;
}

static void rude_close(void *instance) {
  free(instance);
}

static void rude_interrupt(void *instance) {
  (void)instance; /* deliberately ignored */
}

TEST_PLUGIN_DEFINE(rude, .name = "rude", .version = "0.0.1",
                   .description = "a plugin that breaks the runtime rules", .open = rude_open,
                   .next_entity = rude_next, .close = rude_close, .interrupt = rude_interrupt)
