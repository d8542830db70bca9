/*
 * assemble.h -- turns one complete report or dataset (queries, charts and creator fetched)
 * into its entities: charts, data models, the dashboard, lineage edges (via lineage.c) and
 * usage. Keeps charts and data models unique across the run. Knows the model, not HTTP.
 */
#ifndef MODE_ASSEMBLE_H
#define MODE_ASSEMBLE_H

#include <stddef.h>

#include "conf.h"
#include "entities.h"
#include "model.h"
#include "owners.h"
#include "util.h"

struct sql_cancel;
struct sql_definitions;

struct mode_assembler {
  const struct mode_config *cfg;
  struct mode_entity_ctx ectx;
  const struct sql_definitions *defs;     /* the workspace's definitions, may be NULL */
  const struct mode_data_source *sources; /* the workspace's data sources */
  size_t n_sources;
  int sources_known;                /* the list was read: a miss deserves a warning */
  const struct mode_owners *owners; /* resolved creators */
  /* Stops SQL rendering and lineage of a huge query when the run is interrupted; may be NULL. */
  const struct sql_cancel *cancel;
  char today[16];                   /* usage date, YYYY-MM-DD */
  struct mode_strset seen_charts, seen_models, warned_sources; /* owned */
  void *ctx;
  /* Receives each entity (ownership passes); NULL means an allocation failed. */
  void (*emit)(void *ctx, struct mode_entity *e);
  void (*diag)(void *ctx, int severity, unsigned flags, const char *item, const char *message);
  void (*filtered)(void *ctx); /* one item left out by a filter; may be NULL */
};

/* Emits the entities of r (a report, or a dataset when r->is_dataset); nothing for a report
 * that is gone. */
void mode_assemble(struct mode_assembler *a, const struct mode_report *r);
/* Releases the sets; NULL-safe. */
void mode_assembler_clear(struct mode_assembler *a);

#endif
