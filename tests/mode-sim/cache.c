/*
 * Open addressing over a fixed slot array, behind a read-write lock: hits (the common case in a
 * benchmark) take the read lock only.
 */
#include "config.h"

#include "cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "prng.h"

enum { SLOTS = 1 << 16, MAX_ENTRIES = SLOTS / 2 };
static const size_t MAX_BYTES = (size_t)256 << 20;

struct entry {
  char *key;  /* owned; NULL: empty slot */
  char *body; /* owned */
  size_t len;
  unsigned status;
};

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static struct entry *slots; /* owned; allocated on the first put */
static size_t entries, bytes;

static size_t find(const char *key) {
  size_t i = prng_hash_str(0, key) & (SLOTS - 1);
  while (slots[i].key && strcmp(slots[i].key, key) != 0)
    i = (i + 1) & (SLOTS - 1);
  return i;
}

int cache_get(const char *key, unsigned *status, char **body, size_t *len) {
  int rc = -1;
  pthread_rwlock_rdlock(&lock);
  if (slots) {
    struct entry *e = &slots[find(key)];
    if (e->key && (*body = malloc(e->len ? e->len : 1)) != NULL) {
      memcpy(*body, e->body, e->len);
      *len = e->len;
      *status = e->status;
      rc = 0;
    }
  }
  pthread_rwlock_unlock(&lock);
  return rc;
}

void cache_put(const char *key, unsigned status, const char *body, size_t len) {
  pthread_rwlock_wrlock(&lock);
  if (!slots)
    slots = calloc(SLOTS, sizeof *slots);
  if (!slots || entries >= MAX_ENTRIES || bytes + len > MAX_BYTES)
    goto out;
  struct entry *e = &slots[find(key)];
  if (e->key)
    goto out; /* another thread rendered it first */
  char *k = strdup(key), *b = malloc(len ? len : 1);
  if (!k || !b) {
    free(k);
    free(b);
    goto out;
  }
  memcpy(b, body, len);
  *e = (struct entry){k, b, len, status};
  entries++;
  bytes += len;
out:
  pthread_rwlock_unlock(&lock);
}

void cache_clear(void) {
  pthread_rwlock_wrlock(&lock);
  for (size_t i = 0; slots && i < SLOTS; i++) {
    free(slots[i].key);
    free(slots[i].body);
  }
  free(slots);
  slots = NULL;
  entries = bytes = 0;
  pthread_rwlock_unlock(&lock);
}
