/*
 * http.h -- an HTTP GET engine on libcurl's multi interface: many transfers driven from one
 * thread, connections reused, responses decompressed, each body capped, every transfer
 * abandoned promptly once the interrupt flag is set. It knows nothing of Mode.
 */
#ifndef MODE_HTTP_H
#define MODE_HTTP_H

#include <stdatomic.h>
#include <stddef.h>

struct mode_http;

struct mode_http_opts {
  const char *username;  /* HTTP Basic user (copied); NULL = no auth */
  const char *password;  /* HTTP Basic password (copied) */
  const char *bearer;    /* instead of Basic: "Authorization: Bearer <this>" (copied); NULL = none */
  const char *ca_bundle; /* CA file, NULL = the system's */
  long connect_timeout_ms;
  long timeout_ms;             /* whole transfer */
  long low_speed_seconds;      /* a transfer that receives nothing for this long fails; 0 = never */
  long max_host_connections;   /* connections kept to one host */
  size_t max_body;             /* bytes; a larger body fails the transfer */
  const atomic_int *interrupt; /* non-zero: abort every transfer; may be NULL */
};

/* What became of one transfer. */
struct mode_http_outcome {
  long status;        /* HTTP status, 0 if none was received */
  int curl_code;      /* CURLcode, 0 on transport success */
  int interrupted;    /* stopped because the interrupt flag was set */
  int too_big;        /* stopped because the body passed max_body */
  int handler_abort;  /* stopped because on_body asked to */
  int tls_unverified; /* the server's certificate could not be verified (or caBundle read) */
  const char *error;  /* one line when curl_code != 0 (valid during on_done) */
};

/* Callbacks of one transfer; ctx is passed back. All run on the thread calling
 * mode_http_poll. */
struct mode_http_handlers {
  /* Response bytes with the response's status; return non-zero to abort the transfer. */
  int (*on_body)(void *ctx, long status, const char *data, size_t len);
  /* One response header, name and value NUL-terminated and trimmed. May be NULL. */
  void (*on_header)(void *ctx, const char *name, const char *value);
  /* The transfer ended (exactly once). */
  void (*on_done)(void *ctx, const struct mode_http_outcome *outcome);
};

/* Creates an engine. Returns NULL on failure. */
struct mode_http *mode_http_new(const struct mode_http_opts *opts);
/* Starts a GET of url (copied). handlers must outlive the transfer. Returns 0 or -1. */
int mode_http_get(struct mode_http *h, const char *url, const struct mode_http_handlers *handlers,
                  void *ctx);
/* Drives transfers for up to timeout_ms and reports those that ended. Returns the number
 * still running, or -1 on a curl multi failure. */
int mode_http_poll(struct mode_http *h, int timeout_ms);
/* Number of transfers started and not yet reported. */
int mode_http_running(const struct mode_http *h);
/* Aborts every transfer (their on_done is NOT called; drop, if not NULL, receives each one's
 * ctx so its owner can free it) and frees the engine. NULL-safe. */
void mode_http_free(struct mode_http **h, void (*drop)(void *ctx));

#endif
