/*
 * omrest_map.c -- chained hash map with FNV-1a, doubling when the load passes 1 (see
 * omrest_map.h). Small and boring on purpose: it holds a few thousand names at most.
 */
#include "config.h"

#include "omrest_map.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct map_entry {
  struct map_entry *next;
  char *key;   /* owned */
  char *value; /* owned */
};

struct host_om_map {
  struct map_entry **slots; /* owned */
  size_t n_slots;
  size_t size;
};

static uint64_t fnv1a(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ull;
  }
  return h;
}

struct host_om_map *host_om_map_new(void) {
  struct host_om_map *m = calloc(1, sizeof *m);
  if (!m)
    return NULL;
  m->n_slots = 64;
  m->slots = calloc(m->n_slots, sizeof *m->slots);
  if (!m->slots) {
    free(m);
    return NULL;
  }
  return m;
}

void host_om_map_clear(struct host_om_map *m) {
  if (!m)
    return;
  for (size_t i = 0; i < m->n_slots; i++) {
    struct map_entry *e = m->slots[i];
    while (e) {
      struct map_entry *next = e->next;
      free(e->key);
      free(e->value);
      free(e);
      e = next;
    }
    m->slots[i] = NULL;
  }
  m->size = 0;
}

void host_om_map_free(struct host_om_map **mp) {
  if (!mp || !*mp)
    return;
  host_om_map_clear(*mp);
  free((*mp)->slots);
  free(*mp);
  *mp = NULL;
}

static struct map_entry *find(const struct host_om_map *m, const char *key) {
  for (struct map_entry *e = m->slots[fnv1a(key) % m->n_slots]; e; e = e->next)
    if (strcmp(e->key, key) == 0)
      return e;
  return NULL;
}

static void grow(struct host_om_map *m) {
  size_t n = m->n_slots * 2;
  struct map_entry **slots = calloc(n, sizeof *slots);
  if (!slots)
    return; /* keep the longer chains; still correct */
  for (size_t i = 0; i < m->n_slots; i++) {
    struct map_entry *e = m->slots[i];
    while (e) {
      struct map_entry *next = e->next;
      size_t j = fnv1a(e->key) % n;
      e->next = slots[j];
      slots[j] = e;
      e = next;
    }
  }
  free(m->slots);
  m->slots = slots;
  m->n_slots = n;
}

int host_om_map_set(struct host_om_map *m, const char *key, const char *value) {
  char *v = strdup(value ? value : "");
  if (!v)
    return -1;
  struct map_entry *e = find(m, key);
  if (e) {
    free(e->value);
    e->value = v;
    return 0;
  }
  e = calloc(1, sizeof *e);
  if (!e || !(e->key = strdup(key))) {
    free(e);
    free(v);
    return -1;
  }
  e->value = v;
  if (m->size >= m->n_slots)
    grow(m);
  size_t i = fnv1a(key) % m->n_slots;
  e->next = m->slots[i];
  m->slots[i] = e;
  m->size++;
  return 0;
}

const char *host_om_map_get(const struct host_om_map *m, const char *key) {
  struct map_entry *e = find(m, key);
  return e ? e->value : NULL;
}

size_t host_om_map_size(const struct host_om_map *m) {
  return m ? m->size : 0;
}

size_t host_om_map_keys(const struct host_om_map *m, char ***keys) {
  *keys = NULL;
  if (!m || m->size == 0)
    return 0;
  char **out = calloc(m->size, sizeof *out);
  if (!out)
    return 0;
  size_t n = 0;
  for (size_t i = 0; i < m->n_slots; i++)
    for (struct map_entry *e = m->slots[i]; e; e = e->next) {
      if (!(out[n] = strdup(e->key))) {
        while (n > 0)
          free(out[--n]);
        free(out);
        return 0;
      }
      n++;
    }
  *keys = out;
  return n;
}
