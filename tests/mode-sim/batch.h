/*
 * batch.h -- Mode's Discovery API ("batch") over the generated workspace, consistent with the
 * regular API's (same tokens, names, timestamps), so that a regular crawl and a batch crawl
 * of one simulated workspace can be compared record for record (docs/mode-sim.md).
 *
 *   GET  /batch/{ws}/reports|queries|charts|spaces|report_stats   Bearer base64(t:k:s)
 *   POST /batch/{ws}/signature_tokens                              Basic (the API key)
 *
 * Strict as Mode documents it: a wrong or Basic Authorization is 401, an unknown workspace
 * 404, per_page outside 1..1000, a page below 1 or include_spaces other than "all" 400.
 */
#ifndef SIM_BATCH_H
#define SIM_BATCH_H

#include "routes.h"

/* The request as the server sees it; get_arg returns a query parameter or NULL. */
struct batch_req {
  const char *method, *path;
  const char *authorization; /* the header, NULL when absent */
  const char *basic_expected;  /* "Basic base64(token:secret)" of the regular API */
  const char *bearer_expected; /* "Bearer base64(token:access_key:access_secret)" */
  const char *(*get_arg)(void *ctx, const char *name);
  void *ctx;
  const char *body; /* a POST's body (NUL-terminated), NULL when none or too big */
  size_t body_len;
};

/* Whether path is under /batch/. */
int batch_is(const char *path);

/* Answers req into *resp (status, body). Returns 0, or -1 on OOM (answer 500). Generated
 * workspaces only: with fixtures every batch path is 404. */
int batch_route(const struct route_source *src, const struct batch_req *req,
                struct route_resp *resp);

#endif
