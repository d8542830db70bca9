/*
 * Request flow (the access handler is called twice per request, then once more after a
 * resume):
 *   1. the /__sim/ control endpoints (no auth, not counted);
 *   2. auth (401), rate limit (429), burst/5xx/reset/204/truncate/malformed faults;
 *   3. route() renders the body;
 *   4. with --latency-ms the connection is suspended and the timer thread resumes it when due;
 *      the handler then queues the prepared response.
 * Slow bodies use the same timer: the content reader hands out one piece, suspends the
 * connection and is resumed 50 ms later.
 */
#include "config.h"

#include "server.h"

#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "batch.h"
#include "faults.h"
#include "prng.h"
#include "ratelimit.h"
#include "stats.h"

enum { SLOW_PIECE = 512, SLOW_GAP_MS = 50, ATTEMPT_SLOTS = 1 << 16 };

/* ---- timer: a min-heap of connections to resume ---- */

struct timer_entry {
  uint64_t due_ns;
  struct MHD_Connection *conn;
};

static struct {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  struct timer_entry *heap; /* owned */
  size_t n, cap;
  int stopping;
  pthread_t thread;
} timer = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0, 0, 0};

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void heap_swap(size_t a, size_t b) {
  struct timer_entry t = timer.heap[a];
  timer.heap[a] = timer.heap[b];
  timer.heap[b] = t;
}

/* Schedules conn to be resumed after delay_ms. Returns -1 on OOM (the caller answers now). */
static int timer_add(struct MHD_Connection *conn, unsigned delay_ms) {
  pthread_mutex_lock(&timer.lock);
  if (timer.n == timer.cap) {
    size_t cap = timer.cap ? timer.cap * 2 : 1024;
    struct timer_entry *h = realloc(timer.heap, cap * sizeof *h);
    if (!h) {
      pthread_mutex_unlock(&timer.lock);
      return -1;
    }
    timer.heap = h;
    timer.cap = cap;
  }
  size_t i = timer.n++;
  timer.heap[i] = (struct timer_entry){now_ns() + (uint64_t)delay_ms * 1000000ULL, conn};
  while (i && timer.heap[(i - 1) / 2].due_ns > timer.heap[i].due_ns) {
    heap_swap(i, (i - 1) / 2);
    i = (i - 1) / 2;
  }
  pthread_cond_signal(&timer.cond);
  pthread_mutex_unlock(&timer.lock);
  return 0;
}

static struct timer_entry heap_pop(void) {
  struct timer_entry top = timer.heap[0];
  timer.heap[0] = timer.heap[--timer.n];
  size_t i = 0;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < timer.n && timer.heap[l].due_ns < timer.heap[m].due_ns)
      m = l;
    if (r < timer.n && timer.heap[r].due_ns < timer.heap[m].due_ns)
      m = r;
    if (m == i)
      break;
    heap_swap(i, m);
    i = m;
  }
  return top;
}

static void *timer_main(void *arg) {
  (void)arg;
  pthread_mutex_lock(&timer.lock);
  for (;;) {
    if (timer.n == 0) {
      if (timer.stopping)
        break;
      pthread_cond_wait(&timer.cond, &timer.lock);
      continue;
    }
    uint64_t now = now_ns();
    if (timer.heap[0].due_ns > now && !timer.stopping) {
      uint64_t due = timer.heap[0].due_ns;
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      uint64_t abs = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec + (due - now);
      ts.tv_sec = (time_t)(abs / 1000000000ULL);
      ts.tv_nsec = (long)(abs % 1000000000ULL);
      pthread_cond_timedwait(&timer.cond, &timer.lock, &ts);
      continue;
    }
    struct timer_entry e = heap_pop();
    pthread_mutex_unlock(&timer.lock);
    MHD_resume_connection(e.conn);
    pthread_mutex_lock(&timer.lock);
  }
  pthread_mutex_unlock(&timer.lock);
  return NULL;
}

/* ---- per-request state ---- */

struct req {
  struct MHD_Response *resp; /* prepared while suspended; owned until queued */
  unsigned status;
  int suspended;
  char *body; /* owned: a POST's body, NUL-terminated, at most REQ_BODY_MAX bytes kept */
  size_t body_len;
  int body_too_big;
};

/* A POST body the simulator reads (signature_tokens) is a few hundred bytes. */
enum { REQ_BODY_MAX = 64 * 1024 };

/* Keeps the next piece of a request's body; past REQ_BODY_MAX only notes it was too big. */
static int keep_body(struct req *rq, const char *data, size_t n) {
  if (rq->body_too_big || rq->body_len + n > REQ_BODY_MAX) {
    rq->body_too_big = 1;
    return 0;
  }
  char *grown = realloc(rq->body, rq->body_len + n + 1);
  if (grown == NULL)
    return -1;
  memcpy(grown + rq->body_len, data, n);
  rq->body = grown;
  rq->body_len += n;
  rq->body[rq->body_len] = '\0';
  return 0;
}

struct slow_body {
  struct MHD_Connection *conn;
  char *body; /* owned */
  size_t len;
};

static const struct route_source *source;
static struct ratelimit *limiter;
static FILE *log_file;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_ullong request_seq;
static atomic_int stopping;
static char expected_auth[512]; /* "Basic base64(token:secret)" */
static char expected_bearer[768]; /* "Bearer base64(token:access_key:access_secret)" (batch.h) */

/* Per-URL attempt counters, for reproducible faults: hashed slots, collisions share. */
static atomic_uint attempts[ATTEMPT_SLOTS];

static void base64(const char *in, char *out, size_t cap) {
  static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t n = strlen(in), o = 0;
  for (size_t i = 0; i < n && o + 5 < cap; i += 3) {
    unsigned v = (unsigned char)in[i] << 16;
    if (i + 1 < n)
      v |= (unsigned char)in[i + 1] << 8;
    if (i + 2 < n)
      v |= (unsigned char)in[i + 2];
    out[o++] = A[(v >> 18) & 63];
    out[o++] = A[(v >> 12) & 63];
    out[o++] = i + 1 < n ? A[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < n ? A[v & 63] : '=';
  }
  out[o] = '\0';
}

static void log_request(const char *method, const char *url, unsigned status, size_t bytes,
                        const char *fault) {
  if (!log_file)
    return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char when[32];
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
  pthread_mutex_lock(&log_lock);
  fprintf(log_file, "%s.%03ldZ %s %s %u %zu %s\n", when, ts.tv_nsec / 1000000, method, url, status,
          bytes, fault ? fault : "-");
  fflush(log_file);
  pthread_mutex_unlock(&log_lock);
}

static struct MHD_Response *json_response(char *body, size_t len) {
  struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(len, body, free);
  if (r)
    MHD_add_response_header(r, "Content-Type", "application/hal+json; charset=utf-8");
  else
    free(body);
  return r;
}

static ssize_t slow_reader(void *cls, uint64_t pos, char *buf, size_t max) {
  struct slow_body *sb = cls;
  if (pos >= sb->len)
    return MHD_CONTENT_READER_END_OF_STREAM;
  size_t n = sb->len - pos;
  if (n > SLOW_PIECE)
    n = SLOW_PIECE;
  if (n > max)
    n = max;
  memcpy(buf, sb->body + pos, n);
  if (pos + n < sb->len && !atomic_load(&stopping) && timer_add(sb->conn, SLOW_GAP_MS) == 0)
    MHD_suspend_connection(sb->conn);
  return (ssize_t)n;
}

static void slow_free(void *cls) {
  struct slow_body *sb = cls;
  free(sb->body);
  free(sb);
}

static struct MHD_Response *slow_response(struct MHD_Connection *conn, char *body, size_t len) {
  struct slow_body *sb = malloc(sizeof *sb);
  if (!sb) {
    free(body);
    return NULL;
  }
  *sb = (struct slow_body){conn, body, len};
  struct MHD_Response *r =
      MHD_create_response_from_callback(len, SLOW_PIECE, slow_reader, sb, slow_free);
  if (r)
    MHD_add_response_header(r, "Content-Type", "application/hal+json; charset=utf-8");
  else
    slow_free(sb);
  return r;
}

static void add_limit_headers(struct MHD_Response *r, const struct ratelimit_verdict *v) {
  char buf[32];
  if (!v->limit)
    return;
  snprintf(buf, sizeof buf, "%u", v->limit);
  MHD_add_response_header(r, "X-RateLimit-Limit", buf);
  snprintf(buf, sizeof buf, "%u", v->remaining);
  MHD_add_response_header(r, "X-RateLimit-Remaining", buf);
  snprintf(buf, sizeof buf, "%lld", v->reset);
  MHD_add_response_header(r, "X-RateLimit-Reset", buf);
  if (!v->allowed) {
    snprintf(buf, sizeof buf, "%u", v->retry_after);
    MHD_add_response_header(r, "Retry-After", buf);
  }
}

/* Closes the socket with RST rather than FIN: SO_LINGER 0, then MHD drops the connection. */
static enum MHD_Result reset_connection(struct MHD_Connection *conn) {
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (ci) {
    struct linger lg = {1, 0};
    setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  return MHD_NO;
}

static enum MHD_Result answer_control(struct MHD_Connection *conn, const char *method,
                                      const char *url) {
  struct route_resp rr = {0};
  const char *reset = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "reset");
  if (strcmp(url, "/__sim/stats") == 0) {
    yajl_gen g = yajl_gen_alloc(NULL);
    const unsigned char *buf;
    size_t len;
    if (!g)
      return MHD_NO;
    stats_render(g, strcmp(method, "POST") == 0 || (reset && strcmp(reset, "1") == 0));
    yajl_gen_get_buf(g, &buf, &len);
    rr.body = malloc(len);
    if (rr.body)
      memcpy(rr.body, buf, len);
    rr.len = len;
    rr.status = 200;
    yajl_gen_free(g);
  } else if (route_error(&rr, 404, "not_found", "unknown simulator control endpoint") != 0) {
    return MHD_NO;
  }
  if (!rr.body)
    return MHD_NO;
  struct MHD_Response *r = json_response(rr.body, rr.len);
  if (!r)
    return MHD_NO;
  enum MHD_Result ret = MHD_queue_response(conn, rr.status, r);
  MHD_destroy_response(r);
  return ret;
}

static int authorized(struct MHD_Connection *conn) {
  const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
  return auth && strncasecmp(auth, "Basic ", 6) == 0 && strcmp(auth + 6, expected_auth + 6) == 0;
}

static unsigned delay_ms(uint64_t seq) {
  const struct sim_config *c = source->cfg;
  if (!c->latency_ms && !c->jitter_ms)
    return 0;
  unsigned j = c->jitter_ms ? (unsigned)(prng_mix(c->gen.seed ^ seq) % (c->jitter_ms + 1)) : 0;
  return c->latency_ms + j;
}

struct args_buf {
  char s[512];
  size_t n;
};

static enum MHD_Result append_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value) {
  (void)kind;
  struct args_buf *b = cls;
  int w = snprintf(b->s + b->n, sizeof b->s - b->n, "%c%s=%s", b->n ? '&' : '?', key,
                   value ? value : "");
  if (w > 0 && (size_t)w < sizeof b->s - b->n)
    b->n += (size_t)w;
  return MHD_YES;
}

/* A batch request is logged with its query string: which pages and parameters were asked for
 * is what its tests check. */
static void log_batch(struct MHD_Connection *conn, const char *method, const char *url,
                      unsigned status, size_t bytes) {
  struct args_buf b = {.n = 0};
  char full[1024];
  b.s[0] = '\0';
  MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, append_arg, &b);
  snprintf(full, sizeof full, "%s%s", url, b.s);
  log_request(method, full, status, bytes, NULL);
}

static const char *batch_arg(void *ctx, const char *name) {
  return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

/* A Discovery API request (batch.h): its own auth, Mode's rate limit, no injected faults. */
static struct MHD_Response *build_batch(struct MHD_Connection *conn, const struct req *rq,
                                        const char *method, const char *url, unsigned *status,
                                        size_t *bytes) {
  struct route_resp rr = {0};
  struct ratelimit_verdict v = {.allowed = 1};
  atomic_fetch_add(&request_seq, 1);
  ratelimit_take(limiter, source->cfg->token, &v);
  if (!v.allowed) {
    if (route_error(&rr, 429, "too_many_requests", "Rate limit exceeded. Please retry later."))
      return NULL;
    rr.endpoint = EP_BATCH;
  } else {
    struct batch_req req = {
        .method = method,
        .path = url,
        .authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"),
        .basic_expected = expected_auth,
        .bearer_expected = expected_bearer,
        .get_arg = batch_arg,
        .ctx = conn,
        .body = rq->body_too_big ? NULL : rq->body,
        .body_len = rq->body_too_big ? 0 : rq->body_len};
    if (batch_route(source, &req, &rr) != 0)
      return NULL;
  }
  struct MHD_Response *r = json_response(rr.body, rr.len);
  if (!r)
    return NULL;
  add_limit_headers(r, &v);
  *status = rr.status;
  *bytes = rr.len;
  stats_count(rr.endpoint, rr.status, rr.len, NULL);
  return r;
}

/* Builds the response for an API request: status in *status, fault in *fault. NULL means
 * "drop the connection" (reset fault or OOM). */
static struct MHD_Response *build(struct MHD_Connection *conn, const char *url, unsigned *status,
                                  size_t *bytes, const char **fault) {
  const struct sim_config *cfg = source->cfg;
  struct route_resp rr = {0};
  struct ratelimit_verdict v = {.allowed = 1};
  uint64_t seq = atomic_fetch_add(&request_seq, 1) + 1;
  enum fault_action fa = FAULT_NONE;
  unsigned fstatus = 0;
  *fault = NULL;
  if (!authorized(conn)) {
    if (route_error(&rr, 401, "unauthorized", "You must be authenticated to access this resource."))
      return NULL;
    rr.endpoint = route_endpoint(url);
    goto respond;
  }
  ratelimit_take(limiter, cfg->token, &v);
  if (!v.allowed) {
    if (route_error(&rr, 429, "too_many_requests", "Rate limit exceeded. Please retry later."))
      return NULL;
    rr.endpoint = route_endpoint(url);
    goto respond;
  }
  uint64_t attempt =
      atomic_fetch_add(&attempts[prng_hash_str(0, url) & (ATTEMPT_SLOTS - 1)], 1) + 1;
  fa = faults_pick(&cfg->faults, url, attempt, seq, &fstatus);
  *fault = fa == FAULT_NONE ? NULL : faults_name(fa);
  struct route_req req = {
      .path = url,
      .filter = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "filter"),
      .page = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "page"),
      .per_page = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "per_page"),
  };
  if (route(source, &req, &rr) != 0)
    return NULL;
  switch (fa) {
  case FAULT_RESET:
    free(rr.body);
    stats_count(rr.endpoint, 0, 0, *fault);
    *status = 0;
    return NULL;
  case FAULT_5XX:
  case FAULT_BURST:
    free(rr.body);
    rr.body = NULL;
    if (route_error(&rr, fstatus, "server_error", "Something went wrong on our end."))
      return NULL;
    break;
  case FAULT_204:
    free(rr.body);
    rr.body = NULL;
    rr.len = 0;
    rr.status = 204;
    break;
  case FAULT_TRUNCATE:
    rr.len /= 2;
    break;
  case FAULT_MALFORMED:
    if (rr.len)
      rr.len = 1, rr.body[0] = '{';
    break;
  default:
    break;
  }
respond:;
  struct MHD_Response *r;
  if (!rr.body)
    r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
  else if (fa == FAULT_SLOW)
    r = slow_response(conn, rr.body, rr.len);
  else
    r = json_response(rr.body, rr.len);
  if (!r)
    return NULL;
  add_limit_headers(r, &v);
  *status = rr.status;
  *bytes = rr.len;
  stats_count(rr.endpoint, rr.status, rr.len, *fault);
  return r;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls) {
  (void)cls, (void)version;
  struct req *rq = *con_cls;
  if (!rq) { /* first call: headers only */
    rq = calloc(1, sizeof *rq);
    if (!rq)
      return MHD_NO;
    *con_cls = rq;
    return MHD_YES;
  }
  if (*upload_size) { /* a POST's body, kept for batch's signature_tokens */
    int rc = keep_body(rq, upload, *upload_size);
    *upload_size = 0;
    return rc == 0 ? MHD_YES : MHD_NO;
  }
  if (rq->suspended) { /* resumed after the latency */
    enum MHD_Result ret = MHD_queue_response(conn, rq->status, rq->resp);
    MHD_destroy_response(rq->resp);
    rq->resp = NULL;
    return ret;
  }
  if (strncmp(url, "/__sim/", 7) == 0)
    return answer_control(conn, method, url);
  const char *fault = NULL;
  unsigned status = 0;
  size_t bytes = 0;
  struct MHD_Response *r = batch_is(url) ? build_batch(conn, rq, method, url, &status, &bytes)
                                         : build(conn, url, &status, &bytes, &fault);
  if (batch_is(url))
    log_batch(conn, method, url, status, bytes);
  else
    log_request(method, url, status, bytes, fault);
  if (!r)
    return fault ? reset_connection(conn) : MHD_NO;
  uint64_t seq = atomic_load(&request_seq);
  unsigned ms = atomic_load(&stopping) ? 0 : delay_ms(seq);
  if (source->cfg->faults.stall_users && route_endpoint(url) == EP_USER && !atomic_load(&stopping))
    ms += source->cfg->faults.stall_users;
  if (ms) {
    rq->resp = r;
    rq->status = status;
    rq->suspended = 1;
    MHD_suspend_connection(conn);
    if (timer_add(conn, ms) == 0)
      return MHD_YES;
    MHD_resume_connection(conn); /* OOM: answer now */
    return MHD_YES;
  }
  enum MHD_Result ret = MHD_queue_response(conn, status, r);
  MHD_destroy_response(r);
  return ret;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe) {
  (void)cls, (void)conn, (void)toe;
  struct req *rq = *con_cls;
  if (!rq)
    return;
  if (rq->resp)
    MHD_destroy_response(rq->resp);
  free(rq->body);
  free(rq);
  *con_cls = NULL;
}

void server_block_signals(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* Thousands of concurrent connections need as many descriptors. */
static void raise_fd_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

static void wait_for_signal(void) {
  sigset_t set;
  int sig;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  while (sigwait(&set, &sig) != 0)
    ;
}

int server_run(const struct route_source *src) {
  const struct sim_config *cfg = src->cfg;
  struct MHD_Daemon *d = NULL;
  int rc = -1, timer_started = 0;
  char creds[512];
  source = src;
  snprintf(creds, sizeof creds, "%s:%s", cfg->token, cfg->secret);
  memcpy(expected_auth, "Basic ", 6);
  base64(creds, expected_auth + 6, sizeof expected_auth - 6);
  char dcreds[512];
  snprintf(dcreds, sizeof dcreds, "%s:%s:%s", cfg->discovery_token, cfg->discovery_key,
           cfg->discovery_secret);
  memcpy(expected_bearer, "Bearer ", 7);
  base64(dcreds, expected_bearer + 7, sizeof expected_bearer - 7);
  limiter = ratelimit_new(cfg->rate_n, cfg->rate_seconds);
  if (cfg->log_path && !(log_file = fopen(cfg->log_path, "a"))) {
    fprintf(stderr, "mode-sim: --log %s: %s\n", cfg->log_path, strerror(errno));
    goto out;
  }
  raise_fd_limit();
  if (pthread_create(&timer.thread, NULL, timer_main, NULL) != 0)
    goto out;
  timer_started = 1;
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cfg->port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  /* TLS options go in through MHD_OPTION_ARRAY so one call serves both schemes. */
  const int tls = cfg->tls_cert_pem != NULL;
  if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
    fputs("mode-sim: --tls-cert: this libmicrohttpd was built without TLS\n", stderr);
    goto out;
  }
  struct MHD_OptionItem tls_opts[] = {
      {tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, cfg->tls_key_pem},
      {MHD_OPTION_HTTPS_MEM_CERT, 0, cfg->tls_cert_pem},
      {MHD_OPTION_END, 0, NULL},
  };
  d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO |
                           (tls ? MHD_USE_TLS : 0),
                       0, NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, &addr,
                       MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_CONNECTION_LIMIT, 20000u,
                       MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096u, MHD_OPTION_CONNECTION_TIMEOUT, 60u,
                       MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_ARRAY, tls_opts,
                       MHD_OPTION_END);
  if (!d) {
    fprintf(stderr, "mode-sim: cannot listen on 127.0.0.1:%u%s\n", cfg->port,
            tls ? " (or the --tls-cert/--tls-key pair is unusable)" : "");
    goto out;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  printf("listening on %s://127.0.0.1:%u\n", tls ? "https" : "http", info ? info->port : cfg->port);
  fflush(stdout);
  wait_for_signal();
  rc = 0;
out:
  atomic_store(&stopping, 1);
  if (timer_started) { /* resume every suspended connection: MHD must not stop with any */
    pthread_mutex_lock(&timer.lock);
    timer.stopping = 1;
    pthread_cond_signal(&timer.cond);
    pthread_mutex_unlock(&timer.lock);
    pthread_join(timer.thread, NULL);
  }
  if (d) {
    MHD_quiesce_daemon(d);
    struct timespec pause = {0, 100 * 1000000L}; /* let resumed connections finish */
    nanosleep(&pause, NULL);
    MHD_stop_daemon(d);
  }
  free(timer.heap);
  timer.heap = NULL;
  ratelimit_free(&limiter);
  if (log_file)
    fclose(log_file);
  log_file = NULL;
  return rc;
}
