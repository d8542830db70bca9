/*
 * spool.c -- one source's entities between its fetching thread and the writer (see spool.h).
 *
 * File layout: records back to back, each three native uint64 lengths (kind, id, json) followed
 * by the three byte strings. The producer appends with write(2) and then publishes the new
 * end under the lock; the consumer reads only below the published end with pread(2), so the
 * two never touch the same bytes at the same time.
 */
#include "config.h"

#include "spool.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

struct host_spool {
  pthread_mutex_t *mu; /* borrowed: the run's lock */
  pthread_cond_t *cv;  /* borrowed: broadcast on every put and finish */
  int fd;              /* owned; the file is unlinked at creation */
  off_t published;     /* under mu: bytes of whole records the consumer may read */
  off_t write_at;      /* producer only: where the next record goes */
  off_t read_at;       /* consumer only: where the next record starts */
  bool finished;       /* under mu */
  etl_status end;      /* under mu, once finished */
  bool stop;           /* under mu: the consumer asked the producer to stop */
  char *buf;           /* consumer only: the last record read back (owned) */
  size_t buf_size;
};

etl_status host_spool_new(pthread_mutex_t *mu, pthread_cond_t *cv, struct host_spool **out,
                          char *err, size_t errlen) {
  const char *dir = getenv("TMPDIR");
  char *path = NULL;
  etl_status st = ETL_ERR_NOMEM;
  struct host_spool *s = calloc(1, sizeof *s);
  *out = NULL;
  if (!s || asprintf(&path, "%s/etlhost-spool.XXXXXX", dir && *dir ? dir : "/tmp") < 0) {
    path = NULL;
    goto out;
  }
  s->mu = mu;
  s->cv = cv;
  if ((s->fd = mkstemp(path)) == -1) {
    snprintf(err, errlen, "cannot create a spool file in %s: %s", dir && *dir ? dir : "/tmp",
             strerror(errno));
    st = ETL_ERR_INTERNAL;
    goto out;
  }
  unlink(path); /* gone with the process, whatever way it ends */
  *out = s;
  s = NULL;
  st = ETL_OK;
out:
  free(path);
  free(s);
  return st;
}

static int write_all(int fd, const void *data, size_t len) {
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static int read_all(int fd, void *data, size_t len, off_t at) {
  char *p = data;
  while (len > 0) {
    ssize_t n = pread(fd, p, len, at);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    p += n;
    len -= (size_t)n;
    at += n;
  }
  return 0;
}

etl_status host_spool_put(struct host_spool *s, const char *kind, const char *id,
                          const char *json, size_t json_len) {
  uint64_t head[3] = {strlen(kind), strlen(id), json_len};
  if (write_all(s->fd, head, sizeof head) || write_all(s->fd, kind, head[0]) ||
      write_all(s->fd, id, head[1]) || write_all(s->fd, json, json_len)) {
    /* A short write leaves a partial record past the published end, never read. */
    return ETL_ERR_INTERNAL;
  }
  s->write_at += (off_t)(sizeof head + head[0] + head[1] + json_len);
  pthread_mutex_lock(s->mu);
  s->published = s->write_at;
  pthread_cond_broadcast(s->cv);
  pthread_mutex_unlock(s->mu);
  return ETL_OK;
}

void host_spool_finish(struct host_spool *s, etl_status end) {
  pthread_mutex_lock(s->mu);
  s->finished = true;
  s->end = end;
  pthread_cond_broadcast(s->cv);
  pthread_mutex_unlock(s->mu);
}

bool host_spool_stop_requested(struct host_spool *s) {
  pthread_mutex_lock(s->mu);
  bool stop = s->stop;
  pthread_mutex_unlock(s->mu);
  return stop;
}

void host_spool_request_stop(struct host_spool *s) {
  pthread_mutex_lock(s->mu);
  s->stop = true;
  pthread_mutex_unlock(s->mu);
}

bool host_spool_finished(struct host_spool *s) {
  pthread_mutex_lock(s->mu);
  bool done = s->finished;
  pthread_mutex_unlock(s->mu);
  return done;
}

/* Reads the record at read_at (wholly below the published end) into buf. */
static int read_record(struct host_spool *s, struct host_spool_item *item) {
  uint64_t head[3];
  if (read_all(s->fd, head, sizeof head, s->read_at))
    return -1;
  uint64_t body = head[0] + head[1] + head[2];
  if (body + 3 > s->buf_size) {
    char *grown = realloc(s->buf, (size_t)body + 3);
    if (!grown)
      return -1;
    s->buf = grown;
    s->buf_size = (size_t)body + 3;
  }
  if (read_all(s->fd, s->buf, (size_t)body, s->read_at + (off_t)sizeof head))
    return -1;
  /* Lay the three strings out NUL-terminated: kind \0 id \0 json \0. */
  memmove(s->buf + head[0] + head[1] + 2, s->buf + head[0] + head[1], (size_t)head[2]);
  memmove(s->buf + head[0] + 1, s->buf + head[0], (size_t)head[1]);
  s->buf[head[0]] = '\0';
  s->buf[head[0] + 1 + head[1]] = '\0';
  s->buf[body + 2] = '\0';
  item->kind = s->buf;
  item->id = s->buf + head[0] + 1;
  item->json = s->buf + head[0] + head[1] + 2;
  item->json_len = (size_t)head[2];
  s->read_at += (off_t)(sizeof head + body);
  return 0;
}

int host_spool_next(struct host_spool *s, int timeout_ms, struct host_spool_item *item,
                    etl_status *end) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += timeout_ms / 1000;
  until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(s->mu);
  int rc = 0;
  while (s->read_at >= s->published && !s->finished && rc == 0)
    rc = pthread_cond_timedwait(s->cv, s->mu, &until);
  bool have = s->read_at < s->published, finished = s->finished;
  etl_status fin = s->end;
  pthread_mutex_unlock(s->mu);
  if (have) {
    if (read_record(s, item) == 0)
      return 1;
    *end = ETL_ERR_INTERNAL;
    return -1;
  }
  if (!finished)
    return 0;
  *end = fin;
  return -1;
}

void host_spool_free(struct host_spool **sp) {
  if (!sp || !*sp)
    return;
  struct host_spool *s = *sp;
  if (s->fd >= 0)
    close(s->fd);
  free(s->buf);
  free(s);
  *sp = NULL;
}
