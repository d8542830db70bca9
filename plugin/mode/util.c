/*
 * util.c -- string set, bounded buffer and string helpers (see util.h).
 */
#include "config.h"

#include "util.h"

#include <curl/curl.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t mode_hash(uint64_t h, const void *p, size_t n) {
  const unsigned char *c = p;
  for (size_t i = 0; i < n; i++) {
    h ^= c[i];
    h *= 1099511628211ULL;
  }
  return h;
}

static size_t strset_find(char *const *slots, size_t cap, const char *s) {
  size_t i = (size_t)mode_hash(MODE_HASH_INIT, s, strlen(s)) & (cap - 1);
  while (slots[i] != NULL && strcmp(slots[i], s) != 0)
    i = (i + 1) & (cap - 1);
  return i;
}

static int strset_grow(struct mode_strset *set) {
  size_t cap = set->capacity ? set->capacity * 2 : 64;
  char **slots = calloc(cap, sizeof *slots);
  if (slots == NULL)
    return -1;
  for (size_t i = 0; i < set->capacity; i++)
    if (set->slots[i] != NULL)
      slots[strset_find(slots, cap, set->slots[i])] = set->slots[i];
  free(set->slots);
  set->slots = slots;
  set->capacity = cap;
  return 0;
}

int mode_strset_add(struct mode_strset *set, const char *s) {
  if ((set->count + 1) * 2 > set->capacity && strset_grow(set) != 0)
    return -1;
  size_t i = strset_find(set->slots, set->capacity, s);
  if (set->slots[i] != NULL)
    return 0;
  set->slots[i] = strdup(s);
  if (set->slots[i] == NULL)
    return -1;
  set->count++;
  return 1;
}

int mode_strset_has(const struct mode_strset *set, const char *s) {
  if (set->capacity == 0)
    return 0;
  return set->slots[strset_find(set->slots, set->capacity, s)] != NULL;
}

void mode_strset_clear(struct mode_strset *set) {
  if (set == NULL)
    return;
  for (size_t i = 0; i < set->capacity; i++)
    free(set->slots[i]);
  free(set->slots);
  set->slots = NULL;
  set->capacity = 0;
  set->count = 0;
}

int mode_buf_append(struct mode_buf *b, const char *p, size_t n) {
  if (b->max && b->len + n > b->max)
    return -2;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *d = realloc(b->data, cap);
    if (d == NULL)
      return -1;
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

void mode_buf_free(struct mode_buf *b) {
  if (b == NULL)
    return;
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

char *mode_strdup(const char *s) {
  return s ? strdup(s) : NULL;
}

char *mode_strndup(const char *s, size_t n) {
  if (s == NULL)
    return NULL;
  char *d = malloc(n + 1);
  if (d == NULL)
    return NULL;
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

char *mode_asprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    return NULL;
  char *s = malloc((size_t)n + 1);
  if (s == NULL)
    return NULL;
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return s;
}

double mode_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

char *mode_url_segment(const char *s) {
  char *e = curl_easy_escape(NULL, s ? s : "", 0);
  char *copy = mode_strdup(e);
  curl_free(e);
  return copy;
}

char *mode_api_url(const char *host, const char *workspace, const char *tail) {
  char *ws = mode_url_segment(workspace);
  char *u = ws ? mode_asprintf("%s/api/%s%s", host, ws, tail) : NULL;
  free(ws);
  return u;
}

double mode_strtod_c(const char *s, char **end) {
  locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
  if (c == (locale_t)0) /* out of memory: the process's locale is the best left */
    return strtod(s, end);
  locale_t old = uselocale(c);
  double v = strtod(s, end);
  uselocale(old);
  freelocale(c);
  return v;
}
