/*
 * incremental.c -- the map of an incremental run (see incremental.h).
 */
#include "config.h"

#include "incremental.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "usage.h"

const char *const mode_incr_kinds[MODE_INCR_KINDS] = {"dashboard", "chart", "dashboardDataModel",
                                                      "lineage"};

uint64_t mode_incr_hash(uint64_t h, const char *field) {
  /* A leading tag tells NULL from "" and ends each field, so ("ab","c") != ("a","bc"). */
  h = (h ^ (field ? 1u : 2u)) * UINT64_C(0x100000001b3);
  for (const unsigned char *p = (const unsigned char *)field; p && *p; p++)
    h = (h ^ *p) * UINT64_C(0x100000001b3);
  return h;
}

void mode_incr_hex(uint64_t h, char *out) {
  snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static uint64_t hash_value(uint64_t h, yajl_val v) {
  char num[32];
  if (YAJL_IS_OBJECT(v)) {
    h = mode_incr_hash(h, "{");
    for (size_t i = 0; i < v->u.object.len; i++) {
      const char *k = v->u.object.keys[i];
      if (strcmp(k, "accessToken") == 0 || strcmp(k, "accessTokenPassword") == 0 ||
          strncmp(k, "discovery", 9) == 0)
        continue; /* never in a stamp, not even hashed */
      h = hash_value(mode_incr_hash(h, k), v->u.object.values[i]);
    }
    return mode_incr_hash(h, "}");
  }
  if (YAJL_IS_ARRAY(v)) {
    h = mode_incr_hash(h, "[");
    for (size_t i = 0; i < v->u.array.len; i++)
      h = hash_value(h, v->u.array.values[i]);
    return mode_incr_hash(h, "]");
  }
  if (YAJL_IS_STRING(v))
    return mode_incr_hash(mode_incr_hash(h, "s"), YAJL_GET_STRING(v));
  if (YAJL_IS_NUMBER(v))
    return mode_incr_hash(h, YAJL_GET_NUMBER(v));
  snprintf(num, sizeof num, "%d", YAJL_IS_TRUE(v) ? 1 : YAJL_IS_FALSE(v) ? 0 : -1);
  return mode_incr_hash(h, num);
}

uint64_t mode_incr_hash_config(uint64_t h, const char *json, size_t len) {
  char *text = json ? malloc(len + 1) : NULL;
  if (text == NULL)
    return mode_incr_hash(h, NULL);
  memcpy(text, json, len);
  text[len] = '\0';
  yajl_val v = yajl_tree_parse(text, NULL, 0);
  h = v ? hash_value(h, v) : mode_incr_hash(h, text);
  yajl_tree_free(v);
  free(text);
  return h;
}

static int kind_index(const char *kind) {
  for (int k = 0; k < MODE_INCR_KINDS; k++)
    if (strcmp(kind, mode_incr_kinds[k]) == 0)
      return k;
  return -1;
}

static void entry_clear(struct mode_incr_entry *e) {
  free(e->token), free(e->stamp), free(e->ids);
  memset(e, 0, sizeof *e);
}

/* Appends "<k><id>\0" to e's block. */
static int entry_append(struct mode_incr_entry *e, int k, const char *id) {
  size_t n = strlen(id);
  char *grown = realloc(e->ids, e->len + n + 2);
  if (grown == NULL)
    return -1;
  e->ids = grown;
  grown[e->len] = (char)('0' + k);
  memcpy(grown + e->len + 1, id, n + 1);
  e->len += n + 2;
  return 0;
}

static int by_token(const void *a, const void *b) {
  return strcmp(((const struct mode_incr_entry *)a)->token,
                ((const struct mode_incr_entry *)b)->token);
}

/* One report of the state: {"s": S, "e": {kind: [ids]}}; -1 malformed, -2 OOM. */
static int load_entry(struct mode_incr_entry *e, const char *token, yajl_val v) {
  const char *sp[] = {"s", NULL}, *ep[] = {"e", NULL};
  yajl_val s = yajl_tree_get(v, sp, yajl_t_string);
  yajl_val ents = yajl_tree_get(v, ep, yajl_t_object);
  const char *stamp = s ? YAJL_GET_STRING(s) : NULL;
  if (stamp == NULL || ents == NULL)
    return -1;
  if ((e->token = strdup(token)) == NULL || (e->stamp = strdup(stamp)) == NULL)
    return -2;
  for (size_t i = 0; i < ents->u.object.len; i++) {
    int k = kind_index(ents->u.object.keys[i]);
    yajl_val ids = ents->u.object.values[i];
    if (k < 0 || !YAJL_IS_ARRAY(ids))
      return -1;
    for (size_t j = 0; j < ids->u.array.len; j++) {
      const char *id = YAJL_GET_STRING(ids->u.array.values[j]);
      if (id == NULL || *id == '\0')
        return -1;
      if (entry_append(e, k, id) != 0)
        return -2;
    }
  }
  return 0;
}

int mode_incr_load(struct mode_incr *inc, const char *json, size_t len, char *err, size_t cap) {
  char perr[256] = "";
  char *text = malloc(len + 1);
  yajl_val root = NULL;
  int rc = -2;
  if (text == NULL)
    goto out;
  memcpy(text, json, len);
  text[len] = '\0';
  root = yajl_tree_parse(text, perr, sizeof perr);
  const char *vp[] = {"version", NULL}, *sp[] = {"stamp", NULL}, *rp[] = {"reports", NULL};
  const char *bp[] = {"batch", NULL};
  yajl_val version = root ? yajl_tree_get(root, vp, yajl_t_number) : NULL;
  yajl_val stamp = root ? yajl_tree_get(root, sp, yajl_t_string) : NULL;
  yajl_val reports = root ? yajl_tree_get(root, rp, yajl_t_object) : NULL;
  yajl_val batch = root ? yajl_tree_get(root, bp, yajl_t_string) : NULL;
  rc = -1;
  if (root == NULL) {
    snprintf(err, cap, "the stored state is not JSON (%.*s)", (int)strcspn(perr, "\n"), perr);
    goto out;
  }
  if (version == NULL || !YAJL_IS_INTEGER(version) || YAJL_GET_INTEGER(version) != 1) {
    snprintf(err, cap, "the stored state is not version 1 of this plugin's state");
    goto out;
  }
  const char *stamp_text = stamp ? YAJL_GET_STRING(stamp) : NULL;
  if (stamp_text == NULL || reports == NULL) {
    snprintf(err, cap, "the stored state lacks \"stamp\" or \"reports\"");
    goto out;
  }
  const char *batch_text = batch ? YAJL_GET_STRING(batch) : NULL;
  size_t n = reports->u.object.len;
  if ((inc->prev = calloc(n ? n : 1, sizeof *inc->prev)) == NULL ||
      (inc->prev_stamp = strdup(stamp_text)) == NULL ||
      (batch_text && (inc->prev_batch = strdup(batch_text)) == NULL)) {
    rc = -2;
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    int r = load_entry(&inc->prev[inc->n_prev++], reports->u.object.keys[i],
                       reports->u.object.values[i]);
    if (r == -1)
      snprintf(err, cap, "the stored state's report '%.64s' is malformed",
               reports->u.object.keys[i]);
    if (r != 0) {
      rc = r;
      goto out;
    }
  }
  qsort(inc->prev, inc->n_prev, sizeof *inc->prev, by_token);
  rc = 0;
out:
  if (rc != 0) {
    for (size_t i = 0; i < inc->n_prev; i++)
      entry_clear(&inc->prev[i]);
    free(inc->prev), free(inc->prev_stamp), free(inc->prev_batch);
    inc->prev = NULL, inc->prev_stamp = NULL, inc->prev_batch = NULL, inc->n_prev = 0;
    if (rc == -2)
      snprintf(err, cap, "out of memory reading the stored state");
  }
  yajl_tree_free(root);
  free(text);
  return rc;
}

const struct mode_incr_entry *mode_incr_find(const struct mode_incr *inc, const char *token) {
  if (inc->n_prev == 0 || token == NULL)
    return NULL;
  struct mode_incr_entry key = {.token = (char *)token};
  return bsearch(&key, inc->prev, inc->n_prev, sizeof *inc->prev, by_token);
}

int mode_incr_begin(struct mode_incr *inc, const char *token, const char *stamp,
                    const struct mode_incr_entry *from) {
  if (inc->n_next == inc->cap_next) {
    size_t cap = inc->cap_next ? inc->cap_next * 2 : 64;
    struct mode_incr_entry *grown = realloc(inc->next, cap * sizeof *grown);
    if (grown == NULL)
      return -1;
    inc->next = grown;
    inc->cap_next = cap;
  }
  struct mode_incr_entry *e = &inc->next[inc->n_next];
  memset(e, 0, sizeof *e);
  e->token = strdup(token);
  e->stamp = strdup(stamp);
  if (from && from->len && (e->ids = malloc(from->len)) != NULL) {
    memcpy(e->ids, from->ids, from->len);
    e->len = from->len;
  }
  if (e->token == NULL || e->stamp == NULL || (from && from->len && e->ids == NULL)) {
    entry_clear(e);
    return -1;
  }
  inc->n_next++;
  return 0;
}

int mode_incr_add_id(struct mode_incr *inc, const char *kind, const char *id) {
  int k = kind_index(kind);
  if (k < 0 || inc->n_next == 0)
    return 0;
  return entry_append(&inc->next[inc->n_next - 1], k, id);
}

/* The ids of kind k in e, into *ids (malloc'd array of borrowed pointers) and *n; -1 on OOM. */
static int ids_of(const struct mode_incr_entry *e, int k, const char ***ids, size_t *n) {
  *n = 0;
  *ids = NULL;
  for (size_t off = 0; off < e->len; off += strlen(e->ids + off) + 1)
    *n += e->ids[off] == '0' + k;
  if (*n == 0)
    return 0;
  if ((*ids = malloc(*n * sizeof **ids)) == NULL)
    return -1;
  size_t i = 0;
  for (size_t off = 0; off < e->len; off += strlen(e->ids + off) + 1)
    if (e->ids[off] == '0' + k)
      (*ids)[i++] = e->ids + off + 1;
  return 0;
}

int mode_incr_each_kind(const struct mode_incr_entry *e,
                        int (*fn)(void *ctx, const char *kind, const char *const *ids, size_t n),
                        void *ctx) {
  for (int k = 0; k < MODE_INCR_KINDS; k++) {
    const char **ids = NULL;
    size_t n = 0;
    int rc = ids_of(e, k, &ids, &n);
    if (rc == 0 && n)
      rc = fn(ctx, mode_incr_kinds[k], ids, n);
    free(ids);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static void gen_s(yajl_gen g, const char *s) {
  yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

/* Takes g's buffer into a new entity of `kind`/`id`; NULL on OOM. Frees g. */
static struct mode_entity *take(yajl_gen g, const char *kind, const char *id) {
  const unsigned char *buf;
  size_t len;
  struct mode_entity *e = NULL;
  if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok || (e = calloc(1, sizeof *e)) == NULL)
    goto out;
  e->kind = kind;
  e->id = strdup(id);
  e->json = malloc(len + 1);
  if (e->id == NULL || e->json == NULL) {
    mode_entity_free(e);
    e = NULL;
    goto out;
  }
  memcpy(e->json, buf, len);
  e->json[len] = '\0';
  e->json_len = len;
out:
  yajl_gen_free(g);
  return e;
}

struct mode_entity *mode_incr_retain_entity(const char *token, const char *kind,
                                            const char *const *ids, size_t n) {
  yajl_gen g = yajl_gen_alloc(NULL);
  char *id = malloc(strlen(token) + strlen(kind) + 2);
  struct mode_entity *e = NULL;
  if (g == NULL || id == NULL) {
    if (g)
      yajl_gen_free(g);
    goto out;
  }
  sprintf(id, "%s/%s", token, kind);
  yajl_gen_map_open(g);
  gen_s(g, "data");
  yajl_gen_map_open(g);
  gen_s(g, "kind");
  gen_s(g, kind);
  gen_s(g, "ids");
  yajl_gen_array_open(g);
  for (size_t i = 0; i < n; i++)
    gen_s(g, ids[i]);
  yajl_gen_array_close(g);
  yajl_gen_map_close(g);
  yajl_gen_map_close(g);
  e = take(g, "retain", id);
out:
  free(id);
  return e;
}

static int gen_kind(void *ctx, const char *kind, const char *const *ids, size_t n) {
  yajl_gen g = ctx;
  gen_s(g, kind);
  yajl_gen_array_open(g);
  for (size_t i = 0; i < n; i++)
    gen_s(g, ids[i]);
  yajl_gen_array_close(g);
  return 0;
}

struct mode_entity *mode_incr_state_entity(const struct mode_incr *inc, const char *stamp) {
  yajl_gen g = yajl_gen_alloc(NULL);
  if (g == NULL)
    return NULL;
  yajl_gen_map_open(g);
  gen_s(g, "version");
  yajl_gen_integer(g, 1);
  gen_s(g, "stamp");
  gen_s(g, stamp);
  if (inc->batch[0]) {
    gen_s(g, "batch");
    gen_s(g, inc->batch);
  }
  gen_s(g, "reports");
  yajl_gen_map_open(g);
  for (size_t i = 0; i < inc->n_next; i++) {
    const struct mode_incr_entry *e = &inc->next[i];
    gen_s(g, e->token);
    yajl_gen_map_open(g);
    gen_s(g, "s");
    gen_s(g, e->stamp);
    gen_s(g, "e");
    yajl_gen_map_open(g);
    if (mode_incr_each_kind(e, gen_kind, g) != 0) {
      yajl_gen_free(g);
      return NULL;
    }
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
  }
  yajl_gen_map_close(g);
  if (inc->usage) {
    gen_s(g, "usage");
    mode_usage_gen(inc->usage, g);
  }
  yajl_gen_map_close(g);
  return take(g, "state", "state");
}

void mode_incr_clear(struct mode_incr *inc) {
  if (inc == NULL)
    return;
  for (size_t i = 0; i < inc->n_prev; i++)
    entry_clear(&inc->prev[i]);
  for (size_t i = 0; i < inc->n_next; i++)
    entry_clear(&inc->next[i]);
  free(inc->prev), free(inc->next), free(inc->prev_stamp), free(inc->prev_batch);
  memset(inc, 0, sizeof *inc);
}
