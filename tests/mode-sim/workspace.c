/*
 * Workspace storage: an arena for every string and array of the model, and two open-addressing
 * hash indexes (token -> report or space, username -> user) built once after generation.
 */
#include "config.h"

#include "workspace.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prng.h"

struct sim_arena {
  struct sim_arena *next;
  size_t used, cap;
  _Alignas(16) unsigned char data[];
};

enum { ARENA_BLOCK = 1 << 20 };

/* Slot values: kind in the top bits, index below. */
enum { KIND_REPORT = 1, KIND_SPACE = 2, KIND_USER = 3 };

struct sim_index {
  size_t cap; /* a power of two */
  const char **keys;
  uint64_t *vals;
};

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n, size);
  if (!p) {
    fputs("mode-sim: out of memory\n", stderr);
    abort();
  }
  return p;
}

struct sim_workspace *ws_new(const char *name) {
  struct sim_workspace *ws = calloc(1, sizeof *ws);
  if (!ws)
    return NULL;
  ws->name = ws_strdup(ws, name);
  return ws;
}

static void index_free(struct sim_index *ix) {
  if (!ix)
    return;
  free(ix->keys);
  free(ix->vals);
  free(ix);
}

void ws_free(struct sim_workspace **wsp) {
  if (!wsp || !*wsp)
    return;
  struct sim_workspace *ws = *wsp;
  index_free(ws->by_token);
  index_free(ws->by_username);
  struct sim_arena *a = ws->arena;
  while (a) {
    struct sim_arena *next = a->next;
    free(a);
    a = next;
  }
  free(ws);
  *wsp = NULL;
}

void *ws_alloc(struct sim_workspace *ws, size_t size) {
  size = (size + 15) & ~(size_t)15;
  struct sim_arena *a = ws->arena;
  if (!a || a->cap - a->used < size) {
    size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK;
    struct sim_arena *b = xcalloc(1, sizeof *b + cap);
    b->cap = cap;
    b->next = a;
    ws->arena = a = b;
  }
  void *p = a->data + a->used;
  a->used += size;
  return p;
}

const char *ws_strdup(struct sim_workspace *ws, const char *s) {
  size_t n = strlen(s) + 1;
  char *p = ws_alloc(ws, n);
  memcpy(p, s, n);
  return p;
}

const char *ws_printf(struct sim_workspace *ws, const char *fmt, ...) {
  char small[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0)
    return "";
  char *p = ws_alloc(ws, (size_t)n + 1);
  if ((size_t)n < sizeof small) {
    memcpy(p, small, (size_t)n + 1);
    return p;
  }
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return p;
}

static struct sim_index *index_new(size_t n) {
  struct sim_index *ix = xcalloc(1, sizeof *ix);
  ix->cap = 16;
  while (ix->cap < n * 2)
    ix->cap <<= 1;
  ix->keys = xcalloc(ix->cap, sizeof *ix->keys);
  ix->vals = xcalloc(ix->cap, sizeof *ix->vals);
  return ix;
}

static void index_put(struct sim_index *ix, const char *key, uint64_t val) {
  size_t i = prng_hash_str(0, key) & (ix->cap - 1);
  while (ix->keys[i] && strcmp(ix->keys[i], key) != 0)
    i = (i + 1) & (ix->cap - 1);
  ix->keys[i] = key;
  ix->vals[i] = val;
}

static int index_get(const struct sim_index *ix, const char *key, uint64_t *val) {
  if (!ix)
    return -1;
  size_t i = prng_hash_str(0, key) & (ix->cap - 1);
  while (ix->keys[i]) {
    if (strcmp(ix->keys[i], key) == 0) {
      *val = ix->vals[i];
      return 0;
    }
    i = (i + 1) & (ix->cap - 1);
  }
  return -1;
}

static uint64_t tag(unsigned kind, size_t i) {
  return ((uint64_t)kind << 56) | i;
}

void ws_index(struct sim_workspace *ws) {
  ws->by_token = index_new(ws->nreports + ws->nspaces);
  for (size_t i = 0; i < ws->nreports; i++)
    index_put(ws->by_token, ws->reports[i].token, tag(KIND_REPORT, i));
  for (size_t i = 0; i < ws->nspaces; i++)
    index_put(ws->by_token, ws->spaces[i].token, tag(KIND_SPACE, i));
  ws->by_username = index_new(ws->nusers);
  for (size_t i = 0; i < ws->nusers; i++)
    index_put(ws->by_username, ws->users[i].username, tag(KIND_USER, i));
}

static long lookup(const struct sim_index *ix, const char *key, unsigned kind) {
  uint64_t v;
  if (index_get(ix, key, &v) != 0 || (v >> 56) != kind)
    return -1;
  return (long)(v & ((1ULL << 56) - 1));
}

const struct sim_report *ws_report(const struct sim_workspace *ws, const char *token) {
  long i = lookup(ws->by_token, token, KIND_REPORT);
  return i < 0 ? NULL : &ws->reports[i];
}

const struct sim_space *ws_space(const struct sim_workspace *ws, const char *token) {
  long i = lookup(ws->by_token, token, KIND_SPACE);
  return i < 0 ? NULL : &ws->spaces[i];
}

const struct sim_user *ws_user(const struct sim_workspace *ws, const char *username) {
  long i = lookup(ws->by_username, username, KIND_USER);
  return i < 0 ? NULL : &ws->users[i];
}

const struct sim_query *ws_query(const struct sim_report *r, const char *token) {
  for (size_t i = 0; i < r->nqueries; i++)
    if (strcmp(r->queries[i].token, token) == 0)
      return &r->queries[i];
  return NULL;
}
