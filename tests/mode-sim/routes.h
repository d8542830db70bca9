/*
 * URL -> handler: parses a Mode API path, finds the object in the generated workspace or the
 * recorded fixtures, and renders the body. Knows nothing of HTTP transport, auth or faults
 * beyond the two listing quirks (404 after list, repeated pages) that depend on the object.
 */
#ifndef SIM_ROUTES_H
#define SIM_ROUTES_H

#include <stddef.h>
#include <yajl/yajl_gen.h>

#include "fixtures.h"
#include "sim.h"
#include "stats.h"
#include "workspace.h"

struct route_req {
  const char *path;
  const char *filter, *page, *per_page; /* query parameters, NULL when absent */
};

struct route_resp {
  unsigned status;
  char *body; /* malloc'd, owned by the caller; NULL for no body */
  size_t len;
  enum endpoint endpoint;
};

/* The data a router serves: exactly one of ws and fx is non-NULL. Read-only. */
struct route_source {
  const struct sim_config *cfg;
  const struct sim_workspace *ws;
  const struct fixtures *fx;
};

/* Answers req into *resp. Returns 0, or -1 on OOM/generator failure (answer 500). */
int route(const struct route_source *src, const struct route_req *req, struct route_resp *resp);

/* The endpoint template a path falls under, for stats of requests refused before routing. */
enum endpoint route_endpoint(const char *path);

/* Copies g's JSON into *resp (body, len) with status. Returns 0 or -1 on OOM. */
int route_finish(yajl_gen g, struct route_resp *resp, unsigned status);

/* Renders Mode's error body into *resp with status. Returns 0 or -1 on OOM. */
int route_error(struct route_resp *resp, unsigned status, const char *id, const char *message);

#endif
