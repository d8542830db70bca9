/*
 * conntest.c -- the connection test (see conntest.h). Requests go one at a time through the
 * same fetch layer as a run (same auth, TLS, retries), so a pass means a run can start.
 */
#include "config.h"

#include "conntest.h"

#include <etl/plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "discovery.h"
#include "fetch.h"
#include "mint.h"
#include "util.h"

struct sync_get {
  int done;
  long status;
  int ok, interrupted, tls_unverified;
  size_t n;
  char *first_token; /* owned */
  char *first_name;  /* owned */
  char detail[512];
};

static void sync_done(void *owner, void *arg, struct mode_fetch_result *res) {
  (void)arg;
  struct sync_get *s = owner;
  s->done = 1;
  s->status = res->status;
  s->ok = res->ok;
  s->interrupted = res->interrupted;
  s->tls_unverified = res->tls_unverified;
  s->n = res->n_records;
  snprintf(s->detail, sizeof s->detail, "%s", res->detail);
  if (res->n_records > 0) {
    s->first_token = mode_strdup(mode_hal_get(&res->records[0], 0));
    s->first_name = mode_strdup(mode_hal_get(&res->records[0], 1));
  }
}

static void sync_clear(struct sync_get *s) {
  free(s->first_token);
  free(s->first_name);
  memset(s, 0, sizeof *s);
}

static const char *const two_fields[] = {"token", "name"};
static const struct mode_hal_spec root_spec = {NULL, two_fields, 2};
static const struct mode_hal_spec spaces_spec = {"spaces", two_fields, 2};
static const struct mode_hal_spec reports_spec = {"reports", two_fields, 2};
static const struct mode_hal_spec sources_spec = {"data_sources", two_fields, 2};

struct test_run {
  const struct mode_config *cfg;
  mode_test_step_fn step;
  mode_test_cancelled_fn cancelled; /* may be NULL */
  void *ctx;
  struct mode_fetch *fetch;
  int status;  /* first failure class */
  int stopped; /* the host cancelled: no request is started or driven any more */
};

/* GETs url and waits for its end, or until the host cancels through cancelled() (checked
 * between steps of at most 100 ms, so a hung server is left within a second); then s says
 * `interrupted` and the request is dropped with the fetch engine. The interrupt flag stops
 * transfers itself, through curl's progress callback. */
static int get(struct test_run *t, const char *url, const struct mode_hal_spec *spec,
               struct sync_get *s) {
  sync_clear(s);
  if (!t->stopped &&
      mode_fetch_get(t->fetch, url, spec, MODE_FETCH_URGENT, sync_done, s, NULL) != 0)
    return -1;
  while (!s->done) {
    if (t->stopped || (t->cancelled && t->cancelled(t->ctx))) {
      t->stopped = 1;
      s->interrupted = 1;
      snprintf(s->detail, sizeof s->detail, "cancelled");
      break;
    }
    if (mode_fetch_step(t->fetch, 100) < 0)
      return -1;
  }
  return 0;
}

/* Turns a failed GET into a verdict sentence and a status class. */
static int fail_step(struct test_run *t, const char *step, const struct sync_get *s,
                     const char *what) {
  char msg[768];
  int status;
  if (s->interrupted) {
    snprintf(msg, sizeof msg, "interrupted");
    status = ETL_ERR_CANCELLED;
  } else if (s->tls_unverified) { /* already a whole sentence naming the server and caBundle */
    snprintf(msg, sizeof msg, "%s", s->detail);
    status = ETL_ERR_CONNECT;
  } else if (s->status == 0) {
    snprintf(msg, sizeof msg, "cannot reach %s: %s (check hostPort, the network, caBundle)",
             t->cfg->host, s->detail);
    status = ETL_ERR_CONNECT;
  } else if (s->status == 401) {
    snprintf(msg, sizeof msg,
             "Mode refused the credentials: the token or secret is wrong (check accessToken "
             "and accessTokenPassword)");
    status = ETL_ERR_AUTH;
  } else if (s->status == 403) {
    snprintf(msg, sizeof msg, "the API token lacks access to %s (ask a workspace admin)", what);
    status = ETL_ERR_AUTH;
  } else if (s->status == 404) {
    snprintf(msg, sizeof msg, "%s was not found (HTTP 404)", what);
    status = ETL_ERR_CONFIG;
  } else {
    snprintf(msg, sizeof msg, "could not read %s: %s", what, s->detail);
    status = s->status == 429 || s->status >= 500 ? ETL_ERR_TRANSIENT : ETL_ERR_PROTOCOL;
  }
  t->step(t->ctx, step, ETL_TEST_FAIL, msg);
  if (t->status == ETL_OK)
    t->status = status;
  return -1;
}

static void skip_rest(struct test_run *t, const char *const *steps, size_t n) {
  for (size_t i = 0; i < n; i++)
    t->step(t->ctx, steps[i], ETL_TEST_SKIP, "skipped: an earlier step failed");
}

static char *url_of(const struct mode_config *cfg, const char *ws_tail) {
  return mode_api_url(cfg->host, cfg->workspace, ws_tail);
}

static int run_steps(struct test_run *t) {
  static const char *const steps[] = {"credentials", "workspace", "collections", "reports",
                                      "data sources"};
  const struct mode_config *cfg = t->cfg;
  struct sync_get s = {0};
  char msg[512], what[300];
  char *url = mode_asprintf("%s/api/verify", cfg->host);
  int rc = -1;
  if (url == NULL || get(t, url, &root_spec, &s) != 0)
    goto oom;
  if (!s.ok) {
    fail_step(t, steps[0], &s, "the credentials check");
    skip_rest(t, steps + 1, 4);
    goto out;
  }
  t->step(t->ctx, steps[0], ETL_TEST_PASS, "Mode accepted the API token and secret");
  free(url);
  url = url_of(cfg, "");
  snprintf(what, sizeof what, "workspace '%s' (check workspaceName)", cfg->workspace);
  if (url == NULL || get(t, url, &root_spec, &s) != 0)
    goto oom;
  char *spaces_url = url_of(cfg, cfg->filter_custom ? "/spaces?filter=custom&per_page=30&page=1"
                                                    : "/spaces?filter=all&per_page=30&page=1");
  int have_spaces = 0;
  if (!s.ok && s.status == 404 && spaces_url) {
    /* Some deployments (and recorded fixtures) do not answer GET /api/{ws}: the workspace
     * exists if its collections can be listed. That answer serves the next step too. */
    if (get(t, spaces_url, &spaces_spec, &s) != 0) {
      free(spaces_url);
      goto oom;
    }
    have_spaces = s.ok;
    if (!s.ok && s.status != 404)
      snprintf(what, sizeof what, "workspace '%s'", cfg->workspace);
  }
  if (!s.ok) {
    free(spaces_url);
    fail_step(t, steps[1], &s, what);
    skip_rest(t, steps + 2, 3);
    goto out;
  }
  snprintf(msg, sizeof msg, "workspace '%s' is reachable", cfg->workspace);
  t->step(t->ctx, steps[1], ETL_TEST_PASS, msg);
  free(url);
  url = spaces_url;
  if (url == NULL || (!have_spaces && get(t, url, &spaces_spec, &s) != 0))
    goto oom;
  char *space = NULL, *space_name = NULL;
  if (!s.ok) {
    fail_step(t, steps[2], &s, "the workspace's collections");
  } else {
    snprintf(msg, sizeof msg, "listed %zu collection%s on the first page", s.n,
             s.n == 1 ? "" : "s");
    t->step(t->ctx, steps[2], ETL_TEST_PASS, msg);
    space = s.first_token, s.first_token = NULL;
    space_name = s.first_name, s.first_name = NULL;
  }
  free(url);
  url = NULL;
  if (space == NULL) {
    t->step(t->ctx, steps[3], ETL_TEST_SKIP, "no collection to list reports of");
  } else {
    char *st = mode_url_segment(space);
    char *tail = st ? mode_asprintf("/spaces/%s/reports?per_page=30&page=1", st) : NULL;
    free(st);
    url = tail ? url_of(cfg, tail) : NULL;
    free(tail);
    snprintf(what, sizeof what, "the reports of collection '%s'", space_name ? space_name : space);
    if (url && get(t, url, &reports_spec, &s) == 0) {
      if (s.ok) {
        snprintf(msg, sizeof msg, "listed %zu report%s in collection '%s'", s.n,
                 s.n == 1 ? "" : "s", space_name ? space_name : space);
        t->step(t->ctx, steps[3], ETL_TEST_PASS, msg);
      } else {
        fail_step(t, steps[3], &s, what);
      }
    }
    free(url);
  }
  free(space), free(space_name);
  url = url_of(cfg, "/data_sources");
  if (url == NULL || get(t, url, &sources_spec, &s) != 0)
    goto oom;
  if (s.ok) {
    snprintf(msg, sizeof msg, "listed %zu data source%s", s.n, s.n == 1 ? "" : "s");
    t->step(t->ctx, steps[4], ETL_TEST_PASS, msg);
  } else {
    fail_step(t, steps[4], &s, "the workspace's data sources");
  }
  rc = 0;
  goto out;
oom:
  if (t->status == ETL_OK)
    t->status = ETL_ERR_NOMEM;
out:
  free(url);
  sync_clear(&s);
  return rc;
}

/* The Discovery API, when its keys are set: one batch request with the signature token. */
static void discovery_step(struct test_run *t, const struct mode_fetch_opts *fo) {
  char msg[768], err[512];
  long status = 0, reports = -1;
  char *tok = NULL, *key = NULL, *sec = NULL;
  if (t->cfg->discovery_mint &&
      mode_mint_token(t->cfg, &tok, &key, &sec, &status, err, sizeof err) != 0) {
    snprintf(msg, sizeof msg,
             "cannot mint a signature token (POST /batch/%.64s/signature_tokens: %.300s)%s",
             t->cfg->workspace, err,
             status == 401 || status == 403 ? ": it needs a workspace admin's API token" : "");
    t->step(t->ctx, "discovery", ETL_TEST_FAIL, msg);
    if (t->status == ETL_OK)
      t->status = status == 401 || status == 403 ? ETL_ERR_AUTH : ETL_ERR_TRANSIENT;
    return;
  }
  struct mode_discovery *d =
      t->cfg->discovery_mint
          ? mode_discovery_new(t->cfg, fo, tok, key, sec)
          : mode_discovery_new(t->cfg, fo, t->cfg->discovery_token, t->cfg->discovery_key,
                               t->cfg->discovery_secret);
  mode_wipe_free(&key), mode_wipe_free(&sec), free(tok);
  if (d == NULL) {
    t->status = t->status == ETL_OK ? ETL_ERR_NOMEM : t->status;
    return;
  }
  if (mode_discovery_probe(d, &status, &reports, err, sizeof err) == 0) {
    snprintf(msg, sizeof msg, "the Discovery API accepted the signature token (%ld report%s)",
             reports, reports == 1 ? "" : "s");
    t->step(t->ctx, "discovery", ETL_TEST_PASS, msg);
  } else {
    if (status == 401)
      snprintf(msg, sizeof msg,
               "the Discovery API refused the signature token (HTTP 401): check "
               "discoveryToken, discoveryAccessKey and discoveryAccessSecret");
    else
      snprintf(msg, sizeof msg,
               "the Discovery API (/batch/%.64s/reports) failed: %.400s; runs will list through "
               "the regular API",
               t->cfg->workspace, err);
    t->step(t->ctx, "discovery", ETL_TEST_FAIL, msg);
    if (t->status == ETL_OK)
      t->status = status == 401 ? ETL_ERR_AUTH : ETL_ERR_TRANSIENT;
  }
  mode_discovery_free(&d);
}

int mode_conntest_run(const struct mode_config *cfg, mode_test_step_fn step,
                      mode_test_cancelled_fn cancelled, void *ctx, const atomic_int *interrupt) {
  struct mode_fetch_opts fo;
  mode_config_fetch_opts(cfg, interrupt, &fo);
  fo.http.max_host_connections = 2;
  fo.concurrency = 1;
  /* A test should answer quickly: two tries, short backoff. */
  fo.retry.max_attempts = 2;
  fo.retry.cap = 2;
  fo.retry.budget = 10;
  fo.retry.rng = 12345;
  struct test_run t = {cfg, step, cancelled, ctx, mode_fetch_new(&fo), ETL_OK, 0};
  if (t.fetch == NULL)
    return ETL_ERR_NOMEM;
  run_steps(&t);
  mode_fetch_free(&t.fetch, NULL);
  if (cfg->discovery_token || cfg->discovery_mint)
    discovery_step(&t, &fo);
  return t.status;
}
