/*
 * usage.c -- the ledger of view counts (see usage.h).
 */
#include "config.h"

#include "usage.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yajl/yajl_tree.h>

#include "incremental.h"

static int by_token(const void *a, const void *b) {
  return strcmp(((const struct mode_usage_entry *)a)->token,
                ((const struct mode_usage_entry *)b)->token);
}

/* "YYYY-MM-DD" with digits where digits belong (enough to compare days as strings). */
static int is_day(const char *s) {
  if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
    return 0;
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
      return 0;
  return 1;
}

static int append(struct mode_usage *u, const char *token, long total, const char *day) {
  if (u->n == u->cap) {
    size_t cap = u->cap ? u->cap * 2 : 64;
    struct mode_usage_entry *grown = realloc(u->v, cap * sizeof *grown);
    if (grown == NULL)
      return -1;
    u->v = grown;
    u->cap = cap;
  }
  struct mode_usage_entry *e = &u->v[u->n];
  if ((e->token = strdup(token)) == NULL)
    return -1;
  e->total = total;
  snprintf(e->day, sizeof e->day, "%s", day);
  u->n++;
  return 0;
}

/* One entry of the stored ledger: "<token>": [total, "YYYY-MM-DD"]; -1 malformed, -2 OOM. */
static int load_entry(struct mode_usage *u, const char *token, yajl_val v) {
  if (!YAJL_IS_ARRAY(v) || v->u.array.len != 2)
    return -1;
  yajl_val total = v->u.array.values[0], day = v->u.array.values[1];
  if (!YAJL_IS_INTEGER(total) || YAJL_GET_INTEGER(total) < 0 || !is_day(YAJL_GET_STRING(day)))
    return -1;
  return append(u, token, (long)YAJL_GET_INTEGER(total), YAJL_GET_STRING(day)) ? -2 : 0;
}

int mode_usage_load(struct mode_usage *u, const char *state_json, size_t len, char *err,
                    size_t errlen) {
  char *text = malloc(len + 1);
  yajl_val root = NULL;
  int rc = -2;
  if (text == NULL)
    goto out;
  memcpy(text, state_json, len);
  text[len] = '\0';
  root = yajl_tree_parse(text, NULL, 0);
  const char *path[] = {"usage", NULL};
  yajl_val usage = root ? yajl_tree_get(root, path, yajl_t_any) : NULL;
  rc = -1;
  if (root == NULL) {
    snprintf(err, errlen, "the stored state is not JSON");
    goto out;
  }
  if (usage == NULL) {
    rc = 0; /* a state from before usage was kept: every report is a first sighting */
    goto out;
  }
  if (!YAJL_IS_OBJECT(usage)) {
    snprintf(err, errlen, "the stored state's \"usage\" is not an object");
    goto out;
  }
  for (size_t i = 0; i < usage->u.object.len; i++) {
    int r = load_entry(u, usage->u.object.keys[i], usage->u.object.values[i]);
    if (r == -1)
      snprintf(err, errlen, "the stored state's usage of report '%.64s' is malformed",
               usage->u.object.keys[i]);
    if (r != 0) {
      rc = r;
      goto out;
    }
  }
  if (u->n > 0) /* an empty ledger has no array to sort (qsort wants one) */
    qsort(u->v, u->n, sizeof *u->v, by_token);
  u->n_sorted = u->n;
  rc = 0;
out:
  if (rc != 0) {
    mode_usage_clear(u);
    if (rc == -2)
      snprintf(err, errlen, "out of memory reading the stored state");
  }
  yajl_tree_free(root);
  free(text);
  return rc;
}

static struct mode_usage_entry *find(struct mode_usage *u, const char *token) {
  struct mode_usage_entry key = {.token = (char *)token};
  return u->n_sorted ? bsearch(&key, u->v, u->n_sorted, sizeof *u->v, by_token) : NULL;
}

int mode_usage_due(struct mode_usage *u, const char *token, long total, const char *today,
                   long *count) {
  /* A report listed twice in a run (two collections) is decided once; new tokens are only
   * appended, so the sorted part stays searchable. */
  int fresh = mode_strset_add(&u->handled, token);
  if (fresh <= 0)
    return fresh < 0 ? -1 : 0;
  struct mode_usage_entry *e = find(u, token);
  if (e == NULL) {
    *count = total;
    return append(u, token, total, today) ? -1 : 1;
  }
  if (strcmp(e->day, today) >= 0)
    return 0; /* sent today already (or the clock went back): tomorrow's run sends the rest */
  *count = total >= e->total ? total - e->total : total;
  e->total = total;
  snprintf(e->day, sizeof e->day, "%s", today);
  return 1;
}

int mode_usage_rewrite(struct mode_usage *u, const struct mode_entity_ctx *ctx, const char *today,
                       struct mode_entity **e) {
  const char *path[] = {"data", "count", NULL};
  yajl_val root = yajl_tree_parse((*e)->json, NULL, 0);
  yajl_val total = root ? yajl_tree_get(root, path, yajl_t_number) : NULL;
  long count = 0;
  int rc = -1;
  if (total == NULL || !YAJL_IS_INTEGER(total) || YAJL_GET_INTEGER(total) < 0)
    goto out;
  int due = mode_usage_due(u, (*e)->id, (long)YAJL_GET_INTEGER(total), today, &count);
  if (due < 0)
    goto out;
  /* Nothing due: a `retain` says the day's record stands, so that no sink takes its absence
   * for a deletion. */
  const char *ids[1] = {(*e)->id};
  struct mode_entity *fresh = due ? mode_entity_usage(ctx, (*e)->id, count, today)
                                  : mode_incr_retain_entity((*e)->id, "usage", ids, 1);
  if (fresh == NULL)
    goto out;
  mode_entity_free(*e);
  *e = fresh;
  rc = 0;
out:
  yajl_tree_free(root);
  return rc;
}

static void gen_s(yajl_gen g, const char *s) {
  yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

void mode_usage_gen(const struct mode_usage *u, yajl_gen g) {
  yajl_gen_map_open(g);
  for (size_t i = 0; u && i < u->n; i++) {
    gen_s(g, u->v[i].token);
    yajl_gen_array_open(g);
    yajl_gen_integer(g, u->v[i].total);
    gen_s(g, u->v[i].day);
    yajl_gen_array_close(g);
  }
  yajl_gen_map_close(g);
}

int mode_usage_today(const char *override, char *out) {
  if (override && is_day(override)) {
    snprintf(out, 11, "%s", override);
    return 1;
  }
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(out, 11, "%Y-%m-%d", &tm);
  return override && *override ? -1 : 0;
}

void mode_usage_clear(struct mode_usage *u) {
  if (u == NULL)
    return;
  for (size_t i = 0; i < u->n; i++)
    free(u->v[i].token);
  free(u->v);
  mode_strset_clear(&u->handled);
  memset(u, 0, sizeof *u);
}
