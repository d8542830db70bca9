/*
 * http.c -- libcurl multi engine (see http.h).
 *
 * One CURLM holds every transfer; curl's connection cache gives reuse, CURLOPT_ACCEPT_ENCODING
 * "" asks for every compression curl supports. Cancellation: the xferinfo callback returns
 * non-zero once the interrupt flag is set, which curl turns into CURLE_ABORTED_BY_CALLBACK;
 * mode_http_poll also waits at most 100 ms at a time so an idle wait notices the flag.
 * Redirects are not followed: Basic credentials must not travel to another host.
 */
#include "config.h"

#include "http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

struct http_xfer {
  CURL *easy;
  char *url; /* owned */
  const struct mode_http_handlers *handlers;
  void *ctx;
  struct mode_http *engine;
  size_t received;
  int too_big;
  int handler_abort;
  char errbuf[CURL_ERROR_SIZE];
  struct http_xfer *next, *prev; /* in engine->xfers */
};

struct mode_http {
  CURLM *multi;
  struct mode_http_opts opts;
  char *username; /* owned */
  char *password; /* owned */
  char *ca_bundle;
  struct curl_slist *headers; /* owned */
  struct http_xfer *xfers;    /* every running transfer */
  int running;
};

static int interrupted(const struct mode_http *h) {
  return h->opts.interrupt != NULL && atomic_load(h->opts.interrupt) != 0;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userp) {
  struct http_xfer *x = userp;
  size_t n = size * nmemb;
  if (x->engine->opts.max_body && x->received + n > x->engine->opts.max_body) {
    x->too_big = 1;
    return 0;
  }
  x->received += n;
  long status = 0;
  curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
  if (x->handlers->on_body && x->handlers->on_body(x->ctx, status, data, n) != 0) {
    x->handler_abort = 1;
    return 0;
  }
  return n;
}

static char *trim(char *s, char *end) {
  while (s < end && isspace((unsigned char)*s))
    s++;
  while (end > s && isspace((unsigned char)end[-1]))
    end--;
  *end = '\0';
  return s;
}

static size_t header_cb(char *data, size_t size, size_t nmemb, void *userp) {
  struct http_xfer *x = userp;
  size_t n = size * nmemb;
  if (x->handlers->on_header == NULL || n == 0 || n > 4096)
    return n;
  char line[4097];
  memcpy(line, data, n);
  line[n] = '\0';
  char *colon = strchr(line, ':');
  if (colon == NULL)
    return n;
  char *name = trim(line, colon);
  char *value = trim(colon + 1, line + n);
  x->handlers->on_header(x->ctx, name, value);
  return n;
}

static int xferinfo_cb(void *userp, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
  (void)dt, (void)dn, (void)ut, (void)un;
  struct http_xfer *x = userp;
  return interrupted(x->engine) ? 1 : 0;
}

struct mode_http *mode_http_new(const struct mode_http_opts *opts) {
  struct mode_http *h = calloc(1, sizeof *h);
  if (h == NULL)
    return NULL;
  h->opts = *opts;
  h->username = opts->username ? strdup(opts->username) : NULL;
  h->password = opts->password ? strdup(opts->password) : NULL;
  h->ca_bundle = opts->ca_bundle ? strdup(opts->ca_bundle) : NULL;
  h->headers = curl_slist_append(NULL, "Accept: application/hal+json");
  int bearer_failed = 0;
  if (h->headers && opts->bearer) {
    /* The header holds a secret: it lives in the list only, never in a message. */
    size_t n = strlen(opts->bearer) + sizeof "Authorization: Bearer ";
    char *hdr = malloc(n);
    struct curl_slist *l = NULL;
    if (hdr) {
      snprintf(hdr, n, "Authorization: Bearer %s", opts->bearer);
      l = curl_slist_append(h->headers, hdr); /* copies; NULL leaves the list as it was */
      memset(hdr, 0, n);
      free(hdr);
    }
    if (l)
      h->headers = l;
    else
      bearer_failed = 1;
  }
  h->multi = curl_multi_init();
  if (h->multi == NULL || h->headers == NULL || bearer_failed || (opts->username && !h->username) ||
      (opts->password && !h->password) || (opts->ca_bundle && !h->ca_bundle)) {
    mode_http_free(&h, NULL);
    return NULL;
  }
  curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                    opts->max_host_connections > 0 ? opts->max_host_connections : 8L);
  curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
  return h;
}

static void xfer_unlink_free(struct mode_http *h, struct http_xfer *x) {
  if (x->prev)
    x->prev->next = x->next;
  else
    h->xfers = x->next;
  if (x->next)
    x->next->prev = x->prev;
  curl_multi_remove_handle(h->multi, x->easy);
  curl_easy_cleanup(x->easy);
  free(x->url);
  free(x);
  h->running--;
}

static void set_options(struct mode_http *h, struct http_xfer *x) {
  CURL *e = x->easy;
  curl_easy_setopt(e, CURLOPT_URL, x->url);
  curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->headers);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
  curl_easy_setopt(e, CURLOPT_USERAGENT, "etlhost-mode/" PACKAGE_VERSION);
  if (h->username) {
    curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(e, CURLOPT_USERNAME, h->username);
    curl_easy_setopt(e, CURLOPT_PASSWORD, h->password ? h->password : "");
  }
  if (h->ca_bundle)
    curl_easy_setopt(e, CURLOPT_CAINFO, h->ca_bundle);
  if (h->opts.connect_timeout_ms > 0)
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, h->opts.connect_timeout_ms);
  if (h->opts.timeout_ms > 0)
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, h->opts.timeout_ms);
  /* A server that accepts and then says nothing must cost lowSpeedSeconds, not the whole
   * transfer timeout of every attempt: below 1 byte/s for that long, curl gives up with
   * CURLE_OPERATION_TIMEDOUT, which the caller retries. */
  if (h->opts.low_speed_seconds > 0) {
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, h->opts.low_speed_seconds);
  }
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
  curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
  curl_easy_setopt(e, CURLOPT_XFERINFODATA, x);
  curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
  curl_easy_setopt(e, CURLOPT_PRIVATE, x);
}

int mode_http_get(struct mode_http *h, const char *url, const struct mode_http_handlers *handlers,
                  void *ctx) {
  struct http_xfer *x = calloc(1, sizeof *x);
  if (x == NULL)
    return -1;
  x->url = strdup(url);
  x->easy = curl_easy_init();
  if (x->url == NULL || x->easy == NULL)
    goto fail;
  x->handlers = handlers;
  x->ctx = ctx;
  x->engine = h;
  set_options(h, x);
  if (curl_multi_add_handle(h->multi, x->easy) != CURLM_OK)
    goto fail;
  x->next = h->xfers;
  if (h->xfers)
    h->xfers->prev = x;
  h->xfers = x;
  h->running++;
  return 0;
fail:
  if (x->easy)
    curl_easy_cleanup(x->easy);
  free(x->url);
  free(x);
  return -1;
}

/* Writes "scheme://host[:port]" of url into out (the URL itself when it does not parse). */
static void url_origin(const char *url, char *out, size_t cap) {
  CURLU *u = curl_url();
  char *scheme = NULL, *host = NULL, *port = NULL;
  snprintf(out, cap, "%s", url);
  if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
    curl_url_get(u, CURLUPART_PORT, &port, 0);
    snprintf(out, cap, "%s://%s%s%s", scheme, host, port ? ":" : "", port ? port : "");
  }
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_url_cleanup(u);
}

/* A failed certificate check gets a sentence that says what to do, not only curl's words:
 * the usual cause is a server whose certificate comes from a private CA. */
static void tls_error(const struct mode_http *h, const struct http_xfer *x, CURLcode code,
                      const char *detail, char *out, size_t cap) {
  char origin[256];
  url_origin(x->url, origin, sizeof origin);
  if (code == CURLE_SSL_CACERT_BADFILE)
    snprintf(out, cap, "caBundle '%s' cannot be used to verify %s (%s): want a readable PEM file",
             h->ca_bundle ? h->ca_bundle : "(system default)", origin, detail);
  else if (h->ca_bundle)
    snprintf(out, cap,
             "the TLS certificate of %s could not be verified with caBundle '%s' (%s): check "
             "that caBundle holds the CA that signed it",
             origin, h->ca_bundle, detail);
  else
    snprintf(out, cap,
             "the TLS certificate of %s could not be verified (%s): if the server uses a private "
             "CA, set caBundle to that CA's PEM file",
             origin, detail);
}

/* curl says "Operation too slow. Less than 1 bytes/sec transferred the last 30 seconds" or
 * "Operation timed out after 120000 milliseconds with 0 bytes received": say which limit it was
 * in the terms of the settings, with the server's origin. */
static void timeout_error(const struct mode_http *h, const struct http_xfer *x, char *out,
                          size_t cap) {
  char origin[256];
  url_origin(x->url, origin, sizeof origin);
  if (strstr(x->errbuf, "too slow") != NULL)
    snprintf(out, cap, "%s sent no data for %ld s", origin, h->opts.low_speed_seconds);
  else if (x->received == 0 && strstr(x->errbuf, "onnect") != NULL)
    snprintf(out, cap, "could not connect to %s within %ld s", origin,
             h->opts.connect_timeout_ms / 1000);
  else
    snprintf(out, cap, "%s did not finish answering within %.3g s (%zu bytes received)", origin,
             (double)h->opts.timeout_ms / 1000.0, x->received);
}

static void report_done(struct mode_http *h, CURLMsg *msg) {
  struct http_xfer *x = NULL;
  curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
  struct mode_http_outcome o = {0};
  curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &o.status);
  o.curl_code = (int)msg->data.result;
  o.too_big = x->too_big;
  o.handler_abort = x->handler_abort;
  o.interrupted = msg->data.result == CURLE_ABORTED_BY_CALLBACK && interrupted(h);
  if (o.curl_code != 0)
    o.error = x->errbuf[0] ? x->errbuf : curl_easy_strerror(msg->data.result);
  const struct mode_http_handlers *hd = x->handlers;
  void *ctx = x->ctx;
  /* Detach before the callback so that it may start new transfers freely. */
  char errcopy[CURL_ERROR_SIZE + 512];
  if (o.curl_code == CURLE_PEER_FAILED_VERIFICATION || o.curl_code == CURLE_SSL_CACERT_BADFILE) {
    o.tls_unverified = 1;
    tls_error(h, x, msg->data.result, o.error, errcopy, sizeof errcopy);
    o.error = errcopy;
  } else if (o.curl_code == CURLE_OPERATION_TIMEDOUT) {
    timeout_error(h, x, errcopy, sizeof errcopy);
    o.error = errcopy;
  } else if (o.error) {
    strncpy(errcopy, o.error, sizeof errcopy - 1);
    errcopy[sizeof errcopy - 1] = '\0';
    o.error = errcopy;
  }
  xfer_unlink_free(h, x);
  hd->on_done(ctx, &o);
}

int mode_http_poll(struct mode_http *h, int timeout_ms) {
  int still = 0;
  if (curl_multi_perform(h->multi, &still) != CURLM_OK)
    return -1;
  CURLMsg *msg;
  int left;
  int reported = 0;
  while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
    if (msg->msg == CURLMSG_DONE) {
      report_done(h, msg);
      reported++;
    }
  }
  if (reported == 0 && h->running > 0 && timeout_ms > 0) {
    int wait = timeout_ms > 100 ? 100 : timeout_ms;
    if (curl_multi_poll(h->multi, NULL, 0, wait, NULL) != CURLM_OK)
      return -1;
  }
  return h->running;
}

int mode_http_running(const struct mode_http *h) {
  return h->running;
}

void mode_http_free(struct mode_http **hp, void (*drop)(void *ctx)) {
  if (hp == NULL || *hp == NULL)
    return;
  struct mode_http *h = *hp;
  while (h->xfers) {
    void *ctx = h->xfers->ctx;
    xfer_unlink_free(h, h->xfers);
    if (drop)
      drop(ctx);
  }
  if (h->multi)
    curl_multi_cleanup(h->multi);
  curl_slist_free_all(h->headers);
  if (h->password) {
    memset(h->password, 0, strlen(h->password));
    free(h->password);
  }
  free(h->username);
  free(h->ca_bundle);
  free(h);
  *hp = NULL;
}
