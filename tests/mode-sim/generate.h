/*
 * Deterministic generation of a Mode workspace from a seed: realistic analyst SQL (joins, CTEs,
 * subqueries, 1-/2-/3-part and quoted names, Liquid variables, {% if %} and {% form %} blocks,
 * {{ @definition as alias }} references), every Mode chart type, personal and restricted
 * collections, archived reports, reports without charts, null timestamps, non-ASCII names and
 * creators who left. The same parameters give the same workspace, byte for byte.
 */
#ifndef SIM_GENERATE_H
#define SIM_GENERATE_H

#include <stdint.h>

#include "workspace.h"

struct sim_gen_params {
  const char *workspace; /* the workspace's name (username) */
  uint64_t seed;
  unsigned spaces;             /* shared (custom) collections */
  unsigned reports_per_space;  /* reports in each custom collection */
  unsigned queries_per_report; /* queries of every report */
  unsigned charts_per_query;   /* charts of every query of a report that has charts */
  unsigned users;              /* members, including those who left */
  unsigned data_sources;
  unsigned mutate_percent; /* 0: the base workspace; else change this share of reports */
};

/* Builds the workspace; *out is owned by the caller (ws_free). Returns 0, or -1 on a bad
 * parameter with a message on stderr. */
int sim_generate(const struct sim_gen_params *p, struct sim_workspace **out);

#endif
