/*
 * omrest_client.c -- concurrent JSON requests to OpenMetadata over libcurl multi (see
 * omrest_client.h).
 *
 * The idea: a request is in one of three lists -- ready (FIFO, in the order queued), delayed
 * (a retry waiting out its backoff) or running (it owns a curl easy handle attached to the
 * multi). The loop moves due retries to the front of the ready list, starts ready requests while
 * fewer than `concurrency` run, polls, and reaps finished transfers: a retryable failure goes to
 * the delayed list, anything else is called back and freed. Every step is O(1) per request
 * (the delayed and running lists stay small), so a window of 100,000 requests costs nothing
 * extra. The multi handle keeps the connection cache, so fresh easy handles reuse connections.
 */
#include "config.h"

#include "omrest_client.h"

#include "log.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OM_MAX_BODY (16u * 1024u * 1024u) /* a response larger than this is refused */
#define OM_MAX_BACKOFF_MS 30000L
#define OM_MAX_RETRY_AFTER_MS 60000L

struct host_om_request {
  struct host_om_request *next;
  char *method; /* owned */
  char *url;    /* owned */
  char *body;   /* owned, may be NULL */
  host_om_done_fn done;
  void *ctx;
  CURL *easy; /* owned while running */
  char *resp; /* owned: response body being received */
  size_t resp_len;
  size_t resp_cap;
  bool too_big;
  long attempts;
  bool probe; /* its last attempt could not connect: its retry probes the server */
  long long not_before_ms;
  char errbuf[CURL_ERROR_SIZE];
};

struct host_om_client {
  CURLM *multi;               /* owned */
  struct curl_slist *headers; /* owned: shared by every transfer; holds the JWT */
  char *base_url;             /* owned, without trailing slash */
  char *ca_file;              /* owned, may be NULL */
  bool verify_tls;
  long concurrency, retries, timeout_ms, backoff_ms;
  struct host_om_request *ready, *ready_tail; /* owned: FIFO of requests to start */
  struct host_om_request *delayed;            /* owned: retries waiting for their time */
  struct host_om_request *running_list;       /* owned: transfers in flight */
  long running;
  unsigned long n_requests, n_retries, n_throttled;
  unsigned int seed;    /* jitter */
  struct host_log *log; /* borrowed */
  /* Set when a request failed for good during this run(): the rest fail fast with this reason
   * instead of each spending its own retries on a server that is gone. */
  bool down;
  bool down_connect; /* ... and the server was never reached */
  long probing;      /* requests whose retry will tell whether the server takes connections */
  char down_reason[CURL_ERROR_SIZE + 96];
};

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void request_free(struct host_om_request *r) {
  if (!r)
    return;
  free(r->method);
  free(r->url);
  free(r->body);
  free(r->resp);
  free(r);
}

struct host_om_client *host_om_client_new(const struct host_om_client_config *cfg,
                                          struct host_log *log) {
  struct host_om_client *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->log = log;
  c->verify_tls = cfg->verify_tls;
  c->concurrency = cfg->concurrency > 0 ? cfg->concurrency : 1;
  c->retries = cfg->retries >= 0 ? cfg->retries : 0;
  c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 30000;
  c->backoff_ms = cfg->backoff_ms > 0 ? cfg->backoff_ms : 1;
  c->seed = (unsigned int)now_ms();
  c->base_url = strdup(cfg->base_url);
  if (!c->base_url)
    goto fail;
  size_t n = strlen(c->base_url);
  while (n > 0 && c->base_url[n - 1] == '/')
    c->base_url[--n] = '\0';
  if (cfg->ca_file && !(c->ca_file = strdup(cfg->ca_file)))
    goto fail;
  c->multi = curl_multi_init();
  if (!c->multi)
    goto fail;
  curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, c->concurrency);
  struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
  if (h)
    c->headers = h;
  if (!h || !(h = curl_slist_append(c->headers, "Accept: application/json")))
    goto fail;
  if (cfg->jwt) {
    char *auth = NULL;
    if (asprintf(&auth, "Authorization: Bearer %s", cfg->jwt) < 0)
      goto fail;
    h = curl_slist_append(c->headers, auth);
    memset(auth, 0, strlen(auth)); /* do not leave the token lying around in freed memory */
    free(auth);
    if (!h)
      goto fail;
  }
  return c;
fail:
  host_om_client_free(&c);
  return NULL;
}

void host_om_client_free(struct host_om_client **cp) {
  if (!cp || !*cp)
    return;
  struct host_om_client *c = *cp;
  struct host_om_request *lists[3] = {c->ready, c->delayed, c->running_list};
  for (int i = 0; i < 3; i++)
    while (lists[i]) {
      struct host_om_request *r = lists[i];
      lists[i] = r->next;
      if (r->easy) {
        curl_multi_remove_handle(c->multi, r->easy);
        curl_easy_cleanup(r->easy);
      }
      request_free(r);
    }
  if (c->multi)
    curl_multi_cleanup(c->multi);
  curl_slist_free_all(c->headers);
  free(c->base_url);
  free(c->ca_file);
  free(c);
  *cp = NULL;
}

int host_om_client_add(struct host_om_client *c, const char *method, const char *path,
                       const char *body, host_om_done_fn done, void *ctx) {
  struct host_om_request *r = calloc(1, sizeof *r);
  if (!r)
    return -1;
  r->method = strdup(method);
  if (asprintf(&r->url, "%s%s", c->base_url, path) < 0)
    r->url = NULL;
  r->body = body ? strdup(body) : NULL;
  if (!r->method || !r->url || (body && !r->body)) {
    request_free(r);
    return -1;
  }
  r->done = done;
  r->ctx = ctx;
  /* Appended at the tail so requests start in the order they were queued. */
  if (c->ready_tail)
    c->ready_tail->next = r;
  else
    c->ready = r;
  c->ready_tail = r;
  return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp) {
  struct host_om_request *r = userp;
  size_t n = size * nmemb;
  if (r->resp_len + n + 1 > OM_MAX_BODY) {
    r->too_big = true;
    return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
  }
  if (r->resp_len + n + 1 > r->resp_cap) {
    size_t cap = r->resp_cap ? r->resp_cap : 4096;
    while (cap < r->resp_len + n + 1)
      cap *= 2;
    char *p = realloc(r->resp, cap);
    if (!p)
      return 0;
    r->resp = p;
    r->resp_cap = cap;
  }
  memcpy(r->resp + r->resp_len, data, n);
  r->resp_len += n;
  r->resp[r->resp_len] = '\0';
  return n;
}

static int start_transfer(struct host_om_client *c, struct host_om_request *r) {
  CURL *e = curl_easy_init();
  if (!e)
    return -1;
  r->resp_len = 0;
  r->too_big = false;
  r->errbuf[0] = '\0';
  curl_easy_setopt(e, CURLOPT_URL, r->url);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
  curl_easy_setopt(e, CURLOPT_PRIVATE, r);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms < 10000 ? c->timeout_ms : 10000L);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->verify_tls ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->verify_tls ? 2L : 0L);
  if (c->ca_file)
    curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
  if (strcmp(r->method, "GET") != 0)
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
  if (r->body) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(r->body));
  }
  if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
    curl_easy_cleanup(e);
    return -1;
  }
  r->easy = e;
  r->attempts++;
  c->running++;
  c->n_requests++;
  return 0;
}

static bool retryable_transport(CURLcode rc) {
  switch (rc) {
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_COULDNT_CONNECT:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
    return true;
  default:
    return false;
  }
}

static bool retryable_status(long status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

/* The delay before the next attempt: Retry-After when the server gave one, else exponential
 * backoff with +-25% jitter so many requests do not come back at the same instant. */
static long retry_delay_ms(struct host_om_client *c, struct host_om_request *r, long status) {
  if (status == 429) {
    curl_off_t after = -1;
    if (curl_easy_getinfo(r->easy, CURLINFO_RETRY_AFTER, &after) == CURLE_OK && after > 0)
      return after * 1000 > OM_MAX_RETRY_AFTER_MS ? OM_MAX_RETRY_AFTER_MS : (long)after * 1000;
  }
  long d = c->backoff_ms;
  for (long i = 1; i < r->attempts && d < OM_MAX_BACKOFF_MS; i++)
    d *= 2;
  if (d > OM_MAX_BACKOFF_MS)
    d = OM_MAX_BACKOFF_MS;
  long jitter = d / 4;
  if (jitter > 0)
    d += (long)(rand_r(&c->seed) % (unsigned)(2 * jitter + 1)) - jitter;
  return d > 0 ? d : 1;
}

static void unlink_running(struct host_om_client *c, struct host_om_request *r) {
  for (struct host_om_request **p = &c->running_list; *p; p = &(*p)->next)
    if (*p == r) {
      *p = r->next;
      return;
    }
}

/* The server failed for good on r (its last retry failed, or it cannot be reached at all):
 * remembers why, so that the requests still queued fail at once with that reason. */
static void mark_down(struct host_om_client *c, const struct host_om_request *r,
                      const struct host_om_response *resp) {
  c->down = true;
  c->down_connect = resp->connect_failed;
  if (resp->transport_error)
    snprintf(c->down_reason, sizeof c->down_reason, "%s %s failed after %ld attempt%s: %s",
             r->method, r->url + strlen(c->base_url), r->attempts, r->attempts == 1 ? "" : "s",
             resp->transport_error);
  else
    snprintf(c->down_reason, sizeof c->down_reason, "%s %s failed after %ld attempt%s: HTTP %ld",
             r->method, r->url + strlen(c->base_url), r->attempts, r->attempts == 1 ? "" : "s",
             resp->status);
}

/* Calls back a request that will not be sent because the server is down, and frees it. */
static void fail_fast(struct host_om_client *c, struct host_om_request *r) {
  if (r->probe) {
    r->probe = false;
    c->probing--;
  }
  char why[sizeof c->down_reason + 64];
  snprintf(why, sizeof why, "not sent: the server failed for good (%s)", c->down_reason);
  struct host_om_response resp = {
      .body = "", .transport_error = why, .connect_failed = c->down_connect, .not_sent = true};
  r->done(r->ctx, &resp);
  request_free(r);
}

/* Ends one transfer: either schedules a retry or calls the request back and frees it. */
static void finish_transfer(struct host_om_client *c, struct host_om_request *r, CURLcode rc) {
  long status = 0;
  curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
  bool retry = rc == CURLE_OK ? retryable_status(status) : retryable_transport(rc);
  if (rc == CURLE_OK && status == 429)
    c->n_throttled++;
  if (r->probe) {
    r->probe = false;
    c->probing--;
  }
  if (retry && r->attempts <= c->retries && !c->down) {
    /* A refused connection says the server is not there: new requests wait for this one's
     * retry instead of each being refused in turn and spending its own retries. */
    if (rc == CURLE_COULDNT_CONNECT) {
      r->probe = true;
      c->probing++;
    }
    r->not_before_ms = now_ms() + retry_delay_ms(c, r, rc == CURLE_OK ? status : 0);
    c->n_retries++;
    curl_multi_remove_handle(c->multi, r->easy);
    curl_easy_cleanup(r->easy);
    r->easy = NULL;
    c->running--;
    unlink_running(c, r);
    r->next = c->delayed;
    c->delayed = r;
    return;
  }
  struct host_om_response resp = {0};
  char why[CURL_ERROR_SIZE + 64];
  if (rc != CURLE_OK) {
    if (r->too_big)
      snprintf(why, sizeof why, "reply larger than the %u MiB cap, dropped",
               OM_MAX_BODY / (1024u * 1024u));
    else
      snprintf(why, sizeof why, "%s", r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
    resp.transport_error = why;
    resp.too_big = r->too_big;
    resp.connect_failed = rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
                          rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION;
    resp.tls_failed = rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ||
                      rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CERTPROBLEM;
  } else {
    resp.status = status;
  }
  if (!c->down && (retry || resp.connect_failed))
    mark_down(c, r, &resp);
  resp.body = r->resp ? r->resp : "";
  resp.body_len = r->resp_len;
  curl_multi_remove_handle(c->multi, r->easy);
  curl_easy_cleanup(r->easy);
  r->easy = NULL;
  c->running--;
  unlink_running(c, r);
  r->done(r->ctx, &resp);
  request_free(r);
}

/* Moves due retries to the front of the ready list and starts ready requests while there is
 * room. Returns the delay until the next retry is due, or -1 when none waits. */
static long start_ready(struct host_om_client *c, etl_status *err) {
  long long now = now_ms();
  long wait = -1;
  for (struct host_om_request **p = &c->delayed; *p;) {
    struct host_om_request *r = *p;
    if (r->not_before_ms <= now || c->down) {
      *p = r->next;
      r->next = c->ready;
      c->ready = r;
      if (!c->ready_tail)
        c->ready_tail = r;
      continue;
    }
    long d = (long)(r->not_before_ms - now);
    if (wait < 0 || d < wait)
      wait = d;
    p = &r->next;
  }
  while (c->ready && (c->running < c->concurrency || c->down)) {
    struct host_om_request *r = c->ready;
    if (r->attempts == 0 && c->probing > 0 && !c->down)
      break; /* retries come first in the list: wait for what they find */
    c->ready = r->next;
    if (!c->ready)
      c->ready_tail = NULL;
    if (c->down) {
      fail_fast(c, r); /* may queue more: they end up here too */
      continue;
    }
    if (start_transfer(c, r) != 0) {
      request_free(r);
      *err = ETL_ERR_NOMEM;
      return -1;
    }
    r->next = c->running_list;
    c->running_list = r;
  }
  return wait;
}

etl_status host_om_client_run(struct host_om_client *c) {
  etl_status err = ETL_OK;
  c->down = false; /* each run asks the server afresh: it may be back */
  while (c->ready || c->delayed || c->running_list) {
    long wait = start_ready(c, &err);
    if (err != ETL_OK)
      return err;
    if (c->running == 0) {
      /* Nothing in flight: only backoffs remain. Sleep until the first is due. */
      struct timespec ts = {wait / 1000, (wait % 1000) * 1000000L};
      if (wait > 0)
        nanosleep(&ts, NULL);
      continue;
    }
    int still = 0;
    if (curl_multi_perform(c->multi, &still) != CURLM_OK)
      return ETL_ERR_INTERNAL;
    int left = 0, reaped = 0;
    CURLMsg *m;
    while ((m = curl_multi_info_read(c->multi, &left))) {
      if (m->msg != CURLMSG_DONE)
        continue;
      struct host_om_request *r = NULL;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
      finish_transfer(c, r, m->data.result);
      reaped++;
    }
    if (reaped || still == 0)
      continue; /* start what the finished transfers made room for (or queued) */
    int timeout = wait >= 0 && wait < 1000 ? (int)wait : 1000;
    if (curl_multi_poll(c->multi, NULL, 0, timeout, NULL) != CURLM_OK)
      return ETL_ERR_INTERNAL;
  }
  return ETL_OK;
}

char *host_om_client_escape(struct host_om_client *c, const char *text) {
  (void)c;
  char *e = curl_easy_escape(NULL, text, 0);
  if (!e)
    return NULL;
  char *out = strdup(e);
  curl_free(e);
  return out;
}

void host_om_client_counts(const struct host_om_client *c, unsigned long *requests,
                           unsigned long *retries, unsigned long *throttled) {
  if (requests)
    *requests = c->n_requests;
  if (retries)
    *retries = c->n_retries;
  if (throttled)
    *throttled = c->n_throttled;
}
