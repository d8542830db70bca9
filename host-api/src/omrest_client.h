/*
 * omrest_client.h -- the metadata-rest sink's HTTP engine: a queue of JSON requests to one
 * OpenMetadata server, driven concurrently by libcurl's multi interface, with retries.
 *
 * The sink queues requests (host_om_client_add) and then runs the queue to completion
 * (host_om_client_run). Up to `concurrency` transfers are in flight at once over reused
 * connections, so a large batch lands at the server's speed rather than one round trip at a time.
 * Each request ends exactly once in its callback, after its final attempt:
 *   - 429, 5xx, timeouts and connection failures are retried with exponential backoff and
 *     jitter (429 honours Retry-After), up to `retries` times;
 *   - any other answer (2xx, 4xx) is final at once.
 * Callbacks may queue further requests (a lookup that leads to a write); run() returns when
 * nothing is queued or in flight.
 *
 * The JWT goes into one Authorization header that is never printed: the client sets no
 * CURLOPT_VERBOSE and its messages never contain headers. One thread only.
 */
#ifndef HOST_OMREST_CLIENT_H
#define HOST_OMREST_CLIENT_H

#include <etl/plugin.h>
#include <stdbool.h>
#include <stddef.h>

struct host_log;
struct host_om_client;

struct host_om_client_config {
  const char *base_url; /* "http://host:8585/api" (no trailing slash needed); borrowed */
  const char *jwt;      /* bearer token or NULL for no-auth; copied */
  const char *ca_file;  /* CA bundle path or NULL; copied */
  bool verify_tls;      /* false only when the user asked for verifySSL: ignore */
  long concurrency;     /* transfers in flight at once (>= 1) */
  long retries;         /* further attempts after the first for retryable failures */
  long timeout_ms;      /* per attempt */
  long backoff_ms;      /* first retry delay; doubles each retry, capped at 30 s */
};

/* The final outcome of one request. `status` is the HTTP status, or 0 when the transfer itself
 * failed (then `transport_error` says why, `connect_failed` whether the server was never
 * reached and `tls_failed` whether TLS was the reason). `body` is NUL-terminated and borrowed for
 * the call. */
struct host_om_response {
  long status;
  const char *body;
  size_t body_len;
  const char *transport_error;
  bool connect_failed;
  bool tls_failed; /* the TLS handshake or the certificate check failed */
  bool too_big;    /* the reply passed the client's cap and was dropped (transport_error says so) */
  bool not_sent;   /* never sent: the server had failed for good on an earlier request */
};

typedef void (*host_om_done_fn)(void *ctx, const struct host_om_response *resp);

/* Creates a client. Returns NULL on OOM (or if libcurl cannot start). Owned by the caller. */
struct host_om_client *host_om_client_new(const struct host_om_client_config *cfg,
                                          struct host_log *log);

/* Releases the client, abandoning queued requests without calling them back. NULL-safe. */
void host_om_client_free(struct host_om_client **client);

/* Queues `method` (GET, PUT, DELETE) on base_url + path (path starts with "/v1/", already
 * escaped). body (may be NULL) is copied. done(ctx, ...) is called once from host_om_client_run.
 * Returns 0, or -1 on OOM (done is then never called). */
int host_om_client_add(struct host_om_client *client, const char *method, const char *path,
                       const char *body, host_om_done_fn done, void *ctx);

/* Runs every queued request (and those queued from callbacks) to its end. Returns ETL_OK, or
 * ETL_ERR_NOMEM / ETL_ERR_INTERNAL if the multi interface itself failed. Once one request has
 * failed for good (a retryable failure after its last retry, or a refused connection), the
 * server is taken as down for the rest of this call: transfers in flight end without further
 * retries and every request still queued is called back at once, not_sent, with the reason. */
etl_status host_om_client_run(struct host_om_client *client);

/* Escapes one path segment or query value (curl_easy_escape). Returns malloc'd string. */
char *host_om_client_escape(struct host_om_client *client, const char *text);

/* Counters since creation: requests sent (attempts), retries, 429s received. */
void host_om_client_counts(const struct host_om_client *client, unsigned long *requests,
                           unsigned long *retries, unsigned long *throttled);

#endif
