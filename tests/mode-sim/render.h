/*
 * HAL+JSON bodies of the generated workspace, rendered from Mode's templates (templates.c) into
 * a yajl_gen. Every function writes one complete JSON document and returns 0, or -1 if the
 * generator fails. Thread-safe after render_init (templates are read-only).
 */
#ifndef SIM_RENDER_H
#define SIM_RENDER_H

#include <stddef.h>
#include <yajl/yajl_gen.h>

#include "workspace.h"

/* Parses the templates. Returns 0, or -1 with a message on stderr. */
int render_init(void);
void render_cleanup(void);

/* Page selection of a listing: 1-based page, per_page already capped. */
struct render_page {
  size_t page, per_page;
};

int render_verify(yajl_gen g, const struct sim_workspace *ws);
int render_user(yajl_gen g, const struct sim_workspace *ws, const struct sim_user *u);
int render_workspace(yajl_gen g, const struct sim_workspace *ws);
int render_memberships(yajl_gen g, const struct sim_workspace *ws, const struct render_page *pg);
/* personal: also list members' personal collections (filter=all). */
int render_spaces(yajl_gen g, const struct sim_workspace *ws, int personal,
                  const struct render_page *pg);
int render_space(yajl_gen g, const struct sim_workspace *ws, const struct sim_space *s);
/* datasets: the space's datasets instead of its reports. */
int render_space_reports(yajl_gen g, const struct sim_workspace *ws, const struct sim_space *s,
                         int datasets, const struct render_page *pg);
int render_report(yajl_gen g, const struct sim_workspace *ws, const struct sim_report *r);
int render_queries(yajl_gen g, const struct sim_workspace *ws, const struct sim_report *r);
int render_query(yajl_gen g, const struct sim_workspace *ws, const struct sim_report *r,
                 const struct sim_query *q);
int render_charts(yajl_gen g, const struct sim_workspace *ws, const struct sim_report *r,
                  const struct sim_query *q);
int render_data_sources(yajl_gen g, const struct sim_workspace *ws);
int render_definitions(yajl_gen g, const struct sim_workspace *ws);
int render_runs(yajl_gen g, const struct sim_workspace *ws, const struct sim_report *r);
int render_run(yajl_gen g, const struct sim_workspace *ws, const struct sim_report *r);
int render_query_runs(yajl_gen g, const struct sim_workspace *ws, const struct sim_report *r);

/* Mode's error body {"id": id, "message": message}. */
int render_error(yajl_gen g, const char *id, const char *message);

/* An empty page {"_links":{"self":{"href":self}},"_embedded":{key:[]}}. */
int render_empty_page(yajl_gen g, const char *self, const char *key);

#endif
