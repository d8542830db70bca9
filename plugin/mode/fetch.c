/*
 * fetch.c -- request queue over the HTTP engine (see fetch.h).
 *
 * A request's life: queued (urgent or listing) -> started when a slot is free and the limiter
 * allows -> body streamed into its HAL parser (only for 200; an error body goes to a small
 * buffer for its message) -> on a transient failure it is queued again, at the head, not
 * before its backoff; otherwise its done callback runs with the result.
 */
#include "config.h"

#include "fetch.h"

#include <etl/plugin.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <yajl/yajl_tree.h>

#include "util.h"

struct fetch_req {
  struct mode_fetch *f;
  char *url; /* owned */
  const struct mode_hal_spec *spec;
  mode_fetch_done_fn done;
  void *owner, *arg;
  int prio;
  int attempts;
  double first_start; /* when the first attempt started: the deadline counts from here */
  double not_before;
  struct mode_hal_parser *parser; /* owned, per attempt */
  int parse_failed;
  struct mode_buf errbody; /* owned; error bodies, capped */
  double retry_after;
  long rl_remaining;
  double rl_reset;
  struct fetch_req *next;
};

struct fetch_queue {
  struct fetch_req *head, *tail;
};

struct mode_fetch {
  struct mode_fetch_opts opts;
  struct mode_http *http;
  struct mode_ratelimit rl;
  struct mode_retry_policy retry;
  struct fetch_queue queues[2];
  int in_flight;
  int queued;
  struct mode_fetch_stats stats;
  void (*drop)(void *owner, void *arg); /* set only while freeing */
};

static const struct mode_http_handlers fetch_handlers;

static void queue_push(struct fetch_queue *q, struct fetch_req *r, int front) {
  r->next = NULL;
  if (q->head == NULL) {
    q->head = q->tail = r;
  } else if (front) {
    r->next = q->head;
    q->head = r;
  } else {
    q->tail->next = r;
    q->tail = r;
  }
}

static void req_free(struct fetch_req *r) {
  if (r == NULL)
    return;
  free(r->url);
  mode_hal_parser_free(&r->parser);
  mode_buf_free(&r->errbody);
  free(r);
}

struct mode_fetch *mode_fetch_new(const struct mode_fetch_opts *opts) {
  struct mode_fetch *f = calloc(1, sizeof *f);
  if (f == NULL)
    return NULL;
  f->opts = *opts;
  if (f->opts.concurrency < 1)
    f->opts.concurrency = 1;
  f->retry = opts->retry;
  mode_ratelimit_init(&f->rl, opts->rate, opts->burst, mode_now());
  if (opts->retry.max_server_delay > 0)
    f->rl.max_pause = opts->retry.max_server_delay;
  f->http = mode_http_new(&opts->http);
  if (f->http == NULL) {
    free(f);
    return NULL;
  }
  return f;
}

int mode_fetch_get(struct mode_fetch *f, const char *url, const struct mode_hal_spec *spec,
                   enum mode_fetch_priority prio, mode_fetch_done_fn done, void *owner, void *arg) {
  struct fetch_req *r = calloc(1, sizeof *r);
  if (r == NULL)
    return -1;
  r->url = strdup(url);
  if (r->url == NULL) {
    free(r);
    return -1;
  }
  r->f = f;
  r->spec = spec;
  r->done = done;
  r->owner = owner;
  r->arg = arg;
  r->prio = prio == MODE_FETCH_URGENT ? 0 : 1;
  queue_push(&f->queues[r->prio], r, 0);
  f->queued++;
  return 0;
}

/* Takes the first request of the queues whose backoff has passed; *next_ready gets the
 * earliest time a waiting one becomes ready. */
static struct fetch_req *take_ready(struct mode_fetch *f, double now, double *next_ready) {
  for (int q = 0; q < 2; q++) {
    struct fetch_req *prev = NULL;
    for (struct fetch_req *r = f->queues[q].head; r; prev = r, r = r->next) {
      if (r->not_before <= now) {
        if (prev)
          prev->next = r->next;
        else
          f->queues[q].head = r->next;
        if (f->queues[q].tail == r)
          f->queues[q].tail = prev;
        r->next = NULL;
        return r;
      }
      if (*next_ready == 0 || r->not_before < *next_ready)
        *next_ready = r->not_before;
    }
  }
  return NULL;
}

static int start(struct mode_fetch *f, struct fetch_req *r) {
  mode_hal_parser_free(&r->parser);
  mode_buf_free(&r->errbody);
  r->errbody.max = 2048;
  r->parse_failed = 0;
  r->retry_after = -1;
  r->rl_remaining = -1;
  r->rl_reset = -1;
  r->parser = mode_hal_parser_new(r->spec, f->opts.max_value);
  if (r->parser == NULL || mode_http_get(f->http, r->url, &fetch_handlers, r) != 0)
    return -1;
  if (r->attempts == 0)
    r->first_start = mode_now();
  r->attempts++;
  f->in_flight++;
  f->stats.requests++;
  if (r->attempts > 1)
    f->stats.retries++;
  return 0;
}

static int on_body(void *ctx, long status, const char *data, size_t len) {
  struct fetch_req *r = ctx;
  r->f->stats.bytes += (int64_t)len;
  if (status == 200) {
    if (!r->parse_failed && mode_hal_feed(r->parser, data, len) != 0)
      r->parse_failed = 1;
    return 0; /* keep draining so the connection stays reusable */
  }
  if (mode_buf_append(&r->errbody, data, len) == -1)
    return 1;
  return 0;
}

static void on_header(void *ctx, const char *name, const char *value) {
  struct fetch_req *r = ctx;
  if (strcasecmp(name, "Retry-After") == 0)
    r->retry_after = mode_ratelimit_parse_retry_after(value, (double)time(NULL));
  else if (strcasecmp(name, "X-RateLimit-Remaining") == 0)
    r->rl_remaining = strtol(value, NULL, 10);
  else if (strcasecmp(name, "X-RateLimit-Reset") == 0)
    r->rl_reset = mode_strtod_c(value, NULL);
}

/* Mode's error bodies are {"id": ..., "message": ...}: the message is added to out ("HTTP
 * 503"), the body never is. */
static void error_detail(struct fetch_req *r, char *out, size_t outlen) {
  if (r->errbody.len == 0)
    return;
  yajl_val tree = yajl_tree_parse(r->errbody.data, NULL, 0);
  const char *path[] = {"message", NULL};
  yajl_val msg = tree ? yajl_tree_get(tree, path, yajl_t_string) : NULL;
  size_t used = strlen(out); /* "HTTP 503": the status stays, the message follows it */
  if (msg && used < outlen)
    snprintf(out + used, outlen - used, ": %.200s", YAJL_GET_STRING(msg));
  yajl_tree_free(tree);
}

static void noticef(struct mode_fetch *f, int severity, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void noticef(struct mode_fetch *f, int severity, const char *fmt, ...) {
  if (f->opts.notice == NULL)
    return;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  f->opts.notice(f->opts.notice_ctx, severity, msg);
}

/* The path and query of url, for lines whose detail already names the server. */
static const char *url_path(const char *url) {
  const char *p = strstr(url, "://");
  p = p ? strchr(p + 3, '/') : NULL;
  return p ? p : url;
}

/* A server-imposed pause: one line when it is long (asked > 10 s) and new (it moved the end of
 * the pause by all of its length, or by more than 10 s), not one per response that repeats it. */
static void told_pause(struct mode_fetch *f, const struct fetch_req *r, const char *header,
                       double asked, double pushed) {
  double capped = asked < f->rl.max_pause ? asked : f->rl.max_pause;
  if (asked <= 10 || pushed <= 0 || (pushed <= 10 && pushed < capped - 0.001))
    return;
  if (asked > capped)
    noticef(f, ETL_SEV_WARNING,
            "the server asked to pause all requests for %.0f s (%s, %s); pausing %.0f s, the "
            "most maxRetryAfterSeconds allows",
            asked, header, r->url, capped);
  else
    noticef(f, ETL_SEV_WARNING,
            "the server asked to pause all requests for %.0f s (%s, %s); pausing", asked, header,
            r->url);
}

static void finish(struct mode_fetch *f, struct fetch_req *r, struct mode_fetch_result *res) {
  res->attempts = r->attempts;
  r->done(r->owner, r->arg, res);
  mode_hal_records_free(res->records, res->n_records);
  mode_hal_records_free(res->envelope, 1);
  req_free(r);
}

static void on_done(void *ctx, const struct mode_http_outcome *o) {
  struct fetch_req *r = ctx;
  struct mode_fetch *f = r->f;
  struct mode_fetch_result res = {0};
  double now = mode_now();
  f->in_flight--;
  res.status = o->status;
  if (r->rl_remaining >= 0) {
    double asked = 0;
    double pushed = mode_ratelimit_observe(&f->rl, now, (double)time(NULL), r->rl_remaining,
                                           r->rl_reset, &asked);
    told_pause(f, r, "X-RateLimit-Reset", asked, pushed);
  }
  if (o->interrupted) {
    res.interrupted = 1;
    snprintf(res.detail, sizeof res.detail, "interrupted");
    finish(f, r, &res);
    return;
  }
  int transient = 0;
  if (o->curl_code != 0) {
    if (o->too_big)
      snprintf(res.detail, sizeof res.detail, "response body larger than %zu bytes",
               f->opts.http.max_body);
    else
      snprintf(res.detail, sizeof res.detail, "%s", o->error ? o->error : "transfer failed");
    transient = !o->too_big && mode_retry_transient(0, o->curl_code);
    res.tls_unverified = o->tls_unverified;
    res.status = 0;
  } else if (o->status == 200) {
    if (r->parse_failed || mode_hal_finish(r->parser) != 0) {
      snprintf(res.detail, sizeof res.detail, "malformed JSON: %s", mode_hal_error(r->parser));
      res.malformed = 1;
      transient = 1;
    } else {
      res.ok = 1;
      res.list_seen = mode_hal_list_seen(r->parser);
      mode_hal_take(r->parser, &res.records, &res.n_records);
      res.envelope = mode_hal_take_envelope(r->parser);
    }
  } else if (o->status == 204) {
    res.ok = 1;
  } else {
    snprintf(res.detail, sizeof res.detail, "HTTP %ld", o->status);
    error_detail(r, res.detail, sizeof res.detail);
    transient = mode_retry_transient(o->status, 0);
    if (o->status == 429) {
      f->stats.throttled++;
      /* No Retry-After: assume the rest of Mode's 10 s window. */
      double asked = r->retry_after >= 0 ? r->retry_after : 2.0;
      told_pause(f, r, "Retry-After", asked, mode_ratelimit_pause(&f->rl, now, asked));
    }
  }
  if (transient) {
    double delay = mode_retry_next(&f->retry, r->attempts, o->status == 429 ? r->retry_after : -1,
                                   now - r->first_start);
    if (delay >= 0) {
      noticef(f, ETL_SEV_INFO, "retry %d of %d in %.1f s: GET %s: %s", r->attempts,
              f->retry.max_attempts - 1, delay, url_path(r->url), res.detail);
      r->not_before = now + delay;
      queue_push(&f->queues[0], r, 1);
      f->queued++;
      return;
    }
    if (delay == MODE_RETRY_PAST_DEADLINE) {
      size_t used = strlen(res.detail);
      snprintf(res.detail + used, sizeof res.detail - used,
               " (gave up after %d attempt%s in %.0f s: requestDeadlineSeconds is %.0f)",
               r->attempts, r->attempts == 1 ? "" : "s", now - r->first_start, f->retry.deadline);
    }
  }
  finish(f, r, &res);
}

static const struct mode_http_handlers fetch_handlers = {on_body, on_header, on_done};

static void sleep_seconds(double s) {
  if (s <= 0)
    return;
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  nanosleep(&ts, NULL);
}

int mode_fetch_step(struct mode_fetch *f, int max_wait_ms) {
  double now = mode_now();
  double wait = (double)max_wait_ms / 1000.0;
  while (f->in_flight < f->opts.concurrency && f->queued > 0) {
    double delay = mode_ratelimit_delay(&f->rl, now);
    if (delay > 0) {
      if (delay < wait)
        wait = delay;
      break;
    }
    double next_ready = 0;
    struct fetch_req *r = take_ready(f, now, &next_ready);
    if (r == NULL) {
      if (next_ready > now && next_ready - now < wait)
        wait = next_ready - now;
      break;
    }
    f->queued--;
    mode_ratelimit_take(&f->rl, now);
    if (start(f, r) != 0) {
      struct mode_fetch_result res = {0};
      snprintf(res.detail, sizeof res.detail, "out of memory starting a request");
      finish(f, r, &res);
    }
  }
  int ms = (int)(wait * 1000.0);
  if (ms < 1 && wait > 0)
    ms = 1;
  if (f->in_flight > 0) {
    if (mode_http_poll(f->http, ms) < 0)
      return -1;
  } else if (f->queued > 0) {
    sleep_seconds(wait > 0.1 ? 0.1 : wait);
  }
  return f->in_flight + f->queued;
}

const struct mode_fetch_stats *mode_fetch_stats(const struct mode_fetch *f) {
  return &f->stats;
}

static void drop_req(void *ctx) {
  struct fetch_req *r = ctx;
  if (r->f->drop)
    r->f->drop(r->owner, r->arg);
  req_free(r);
}

void mode_fetch_free(struct mode_fetch **fp, void (*drop)(void *owner, void *arg)) {
  if (fp == NULL || *fp == NULL)
    return;
  struct mode_fetch *f = *fp;
  f->drop = drop;
  /* In-flight requests are reachable only as their transfers' ctx. */
  mode_http_free(&f->http, drop_req);
  for (int q = 0; q < 2; q++) {
    struct fetch_req *r = f->queues[q].head;
    while (r) {
      struct fetch_req *n = r->next;
      drop_req(r);
      r = n;
    }
  }
  free(f);
  *fp = NULL;
}
