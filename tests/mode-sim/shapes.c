/*
 * shapes.c -- hostile listing shapes (see shapes.h). The body is parsed into a yajl tree and
 * generated again, with the listing's `_embedded.<key>` or its first item replaced on the way.
 */
#include "config.h"

#include "shapes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

struct rewrite {
  enum fault_shape shape; /* SHAPE_NONE when only the suffix applies */
  const char *key;        /* "spaces" or "reports" */
  const char *suffix;     /* appended to every item's token, or NULL */
  size_t pad;             /* raw_query padded to this many bytes, 0: as it is */
};

static int ok(yajl_gen_status st) {
  return st == yajl_gen_status_ok ? 0 : -1;
}

static int gen_str(yajl_gen g, const char *s, size_t len) {
  return ok(yajl_gen_string(g, (const unsigned char *)s, len));
}

static int gen_value(yajl_gen g, yajl_val v) {
  if (YAJL_IS_OBJECT(v)) {
    if (ok(yajl_gen_map_open(g)))
      return -1;
    for (size_t i = 0; i < v->u.object.len; i++)
      if (gen_str(g, v->u.object.keys[i], strlen(v->u.object.keys[i])) ||
          gen_value(g, v->u.object.values[i]))
        return -1;
    return ok(yajl_gen_map_close(g));
  }
  if (YAJL_IS_ARRAY(v)) {
    if (ok(yajl_gen_array_open(g)))
      return -1;
    for (size_t i = 0; i < v->u.array.len; i++)
      if (gen_value(g, v->u.array.values[i]))
        return -1;
    return ok(yajl_gen_array_close(g));
  }
  if (YAJL_IS_STRING(v))
    return gen_str(g, v->u.string, strlen(v->u.string));
  if (YAJL_IS_NUMBER(v))
    return ok(yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r)));
  if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
    return ok(yajl_gen_bool(g, YAJL_IS_TRUE(v)));
  return ok(yajl_gen_null(g));
}

/* One item's token, as the rewrite wants it (first is the listing's first item). */
static int gen_token(yajl_gen g, const struct rewrite *rw, const char *token, int first) {
  char buf[512];
  if (first && rw->shape == SHAPE_NULTOKEN) {
    /* A NUL first: a client that cuts at it reads an empty token. */
    buf[0] = '\0';
    int n = snprintf(buf + 1, sizeof buf - 1, "%s", token);
    return gen_str(g, buf, (size_t)n + 1);
  }
  int n = snprintf(buf, sizeof buf, "%s%s", token, rw->suffix ? rw->suffix : "");
  return gen_str(g, buf, (size_t)n);
}

/* sql followed by a comment that brings it to `size` bytes. */
static int gen_padded(yajl_gen g, const char *sql, size_t size) {
  size_t len = strlen(sql);
  if (len >= size)
    return gen_str(g, sql, len);
  char *buf = malloc(size);
  if (buf == NULL)
    return -1;
  memcpy(buf, sql, len);
  memcpy(buf + len, "\n-- ", 4 < size - len ? 4 : size - len);
  for (size_t i = len + 4; i < size; i++)
    buf[i] = "padding "[i % 8];
  int rc = gen_str(g, buf, size);
  free(buf);
  return rc;
}

static int gen_item(yajl_gen g, const struct rewrite *rw, yajl_val item, int first) {
  if (first && rw->shape == SHAPE_NOTOBJECT)
    return ok(yajl_gen_number(g, "42", 2));
  if (!YAJL_IS_OBJECT(item))
    return gen_value(g, item);
  if (ok(yajl_gen_map_open(g)))
    return -1;
  for (size_t i = 0; i < item->u.object.len; i++) {
    const char *k = item->u.object.keys[i];
    yajl_val v = item->u.object.values[i];
    if (strcmp(k, "raw_query") == 0 && rw->pad && YAJL_IS_STRING(v)) {
      if (gen_str(g, k, strlen(k)) || gen_padded(g, v->u.string, rw->pad))
        return -1;
    } else if (strcmp(k, "token") == 0 && YAJL_IS_STRING(v)) {
      if (first && rw->shape == SHAPE_NOTOKEN)
        continue;
      if (gen_str(g, k, strlen(k)) || gen_token(g, rw, v->u.string, first))
        return -1;
    } else if (gen_str(g, k, strlen(k)) || gen_value(g, v)) {
      return -1;
    }
  }
  return ok(yajl_gen_map_close(g));
}

static int gen_list(yajl_gen g, const struct rewrite *rw, yajl_val list) {
  switch (rw->shape) {
  case SHAPE_NULL:
    return ok(yajl_gen_null(g));
  case SHAPE_STRING:
    return gen_str(g, "none", 4);
  case SHAPE_NUMBER:
    return ok(yajl_gen_number(g, "7", 1));
  case SHAPE_OBJECT:
    return ok(yajl_gen_map_open(g)) || ok(yajl_gen_map_close(g)) ? -1 : 0;
  default:
    break;
  }
  if (!YAJL_IS_ARRAY(list))
    return gen_value(g, list);
  if (ok(yajl_gen_array_open(g)))
    return -1;
  for (size_t i = 0; i < list->u.array.len; i++)
    if (gen_item(g, rw, list->u.array.values[i], i == 0))
      return -1;
  return ok(yajl_gen_array_close(g));
}

static int gen_body(yajl_gen g, const struct rewrite *rw, yajl_val root) {
  if (!YAJL_IS_OBJECT(root))
    return gen_value(g, root);
  if (ok(yajl_gen_map_open(g)))
    return -1;
  for (size_t i = 0; i < root->u.object.len; i++) {
    const char *k = root->u.object.keys[i];
    yajl_val v = root->u.object.values[i];
    if (gen_str(g, k, strlen(k)))
      return -1;
    if (strcmp(k, "_embedded") != 0 || !YAJL_IS_OBJECT(v)) {
      if (gen_value(g, v))
        return -1;
      continue;
    }
    if (ok(yajl_gen_map_open(g)))
      return -1;
    for (size_t j = 0; j < v->u.object.len; j++) {
      const char *k2 = v->u.object.keys[j];
      if (gen_str(g, k2, strlen(k2)) ||
          (strcmp(k2, rw->key) == 0 ? gen_list(g, rw, v->u.object.values[j])
                                    : gen_value(g, v->u.object.values[j])))
        return -1;
    }
    if (ok(yajl_gen_map_close(g)))
      return -1;
  }
  return ok(yajl_gen_map_close(g));
}

int shapes_apply(const struct faults *f, enum endpoint ep, size_t page, const char *suffix,
                 char **body, size_t *len) {
  int is_spaces = ep == EP_SPACES, is_reports = ep == EP_REPORTS || ep == EP_DATASETS;
  struct rewrite rw = {SHAPE_NONE, is_spaces ? "spaces" : "reports", suffix, 0};
  if (f->shape != SHAPE_NONE && page == 1 &&
      ((is_spaces && f->shape_target == SHAPE_AT_SPACES) ||
       (is_reports && f->shape_target == SHAPE_AT_REPORTS)))
    rw.shape = f->shape;
  if (ep == EP_QUERIES && f->pad_queries) {
    rw.key = "queries";
    rw.pad = f->pad_queries;
    is_reports = 1; /* rewritten like a listing */
  }
  if ((!is_spaces && !is_reports) || (rw.shape == SHAPE_NONE && suffix == NULL && !rw.pad) ||
      *body == NULL)
    return 0;
  char *text = malloc(*len + 1);
  if (text == NULL)
    return -1;
  memcpy(text, *body, *len);
  text[*len] = '\0';
  yajl_val root = yajl_tree_parse(text, NULL, 0);
  free(text);
  yajl_gen g = root ? yajl_gen_alloc(NULL) : NULL;
  int rc = -1;
  const unsigned char *out = NULL;
  size_t out_len = 0;
  if (g && gen_body(g, &rw, root) == 0 && ok(yajl_gen_get_buf(g, &out, &out_len)) == 0) {
    char *copy = malloc(out_len ? out_len : 1);
    if (copy) {
      memcpy(copy, out, out_len);
      free(*body);
      *body = copy;
      *len = out_len;
      rc = 0;
    }
  }
  if (g)
    yajl_gen_free(g);
  yajl_tree_free(root);
  return rc;
}
