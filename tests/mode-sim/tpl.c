/*
 * Template rendering: a recursive walk of the yajl_tree, copying keys and constants through
 * and resolving "${...}" in string values. Numbers are re-emitted from their original text so
 * "1.55649" stays "1.55649".
 */
#include "config.h"

#include "tpl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

struct tpl {
  yajl_val root; /* owned */
};

int tpl_parse(const char *text, const char *what_for, struct tpl **out, char *err, size_t errlen) {
  char perr[256] = "";
  yajl_val root = yajl_tree_parse(text, perr, sizeof perr);
  if (!root) {
    snprintf(err, errlen, "template %s: %s", what_for, perr);
    return -1;
  }
  struct tpl *t = malloc(sizeof *t);
  if (!t) {
    yajl_tree_free(root);
    snprintf(err, errlen, "template %s: out of memory", what_for);
    return -1;
  }
  t->root = root;
  *out = t;
  return 0;
}

void tpl_free(struct tpl **t) {
  if (!t || !*t)
    return;
  yajl_tree_free((*t)->root);
  free(*t);
  *t = NULL;
}

static int gen_ok(yajl_gen_status st) {
  return st == yajl_gen_status_ok ? 0 : -1;
}

static int emit_value(yajl_gen g, const struct tpl_value *v, const struct tpl_resolver *r) {
  switch (v->kind) {
  case TPL_STR:
    return gen_ok(yajl_gen_string(g, (const unsigned char *)v->s, strlen(v->s)));
  case TPL_INT:
    return gen_ok(yajl_gen_integer(g, v->i));
  case TPL_BOOL:
    return gen_ok(yajl_gen_bool(g, (int)v->i));
  case TPL_NULL:
    return gen_ok(yajl_gen_null(g));
  case TPL_EMIT:
    return v->emit(g, r->ctx);
  }
  return -1;
}

/* Appends the text of one placeholder to buf; only strings and integers have a text. */
static int append_value(char *buf, size_t cap, size_t *len, const struct tpl_value *v) {
  int n;
  if (v->kind == TPL_STR)
    n = snprintf(buf + *len, cap - *len, "%s", v->s);
  else if (v->kind == TPL_INT)
    n = snprintf(buf + *len, cap - *len, "%lld", v->i);
  else
    return -1;
  if (n < 0 || (size_t)n >= cap - *len)
    return -1;
  *len += (size_t)n;
  return 0;
}

static int render_string(yajl_gen g, const char *s, const struct tpl_resolver *r) {
  size_t slen = strlen(s);
  const char *open = strstr(s, "${");
  if (!open)
    return gen_ok(yajl_gen_string(g, (const unsigned char *)s, slen));
  const char *close = strchr(open, '}');
  struct tpl_value v;
  if (open == s && close && close[1] == '\0') { /* the whole value: typed */
    if (r->resolve(r->ctx, s + 2, (size_t)(close - s - 2), &v) != 0) {
      fprintf(stderr, "mode-sim: template placeholder %s has no value\n", s);
      return -1;
    }
    return emit_value(g, &v, r);
  }
  char buf[2048];
  size_t len = 0;
  const char *p = s;
  while ((open = strstr(p, "${")) != NULL && (close = strchr(open, '}')) != NULL) {
    size_t lit = (size_t)(open - p);
    if (len + lit >= sizeof buf)
      return -1;
    memcpy(buf + len, p, lit);
    len += lit;
    if (r->resolve(r->ctx, open + 2, (size_t)(close - open - 2), &v) != 0 ||
        append_value(buf, sizeof buf, &len, &v) != 0) {
      fprintf(stderr, "mode-sim: template placeholder in \"%s\" has no text value\n", s);
      return -1;
    }
    p = close + 1;
  }
  size_t rest = strlen(p);
  if (len + rest >= sizeof buf)
    return -1;
  memcpy(buf + len, p, rest);
  len += rest;
  return gen_ok(yajl_gen_string(g, (const unsigned char *)buf, len));
}

static int render_node(yajl_gen g, yajl_val v, const struct tpl_resolver *r) {
  if (YAJL_IS_STRING(v))
    return render_string(g, v->u.string, r);
  if (YAJL_IS_NUMBER(v))
    return gen_ok(yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r)));
  if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
    return gen_ok(yajl_gen_bool(g, YAJL_IS_TRUE(v)));
  if (YAJL_IS_NULL(v))
    return gen_ok(yajl_gen_null(g));
  if (YAJL_IS_ARRAY(v)) {
    if (gen_ok(yajl_gen_array_open(g)))
      return -1;
    for (size_t i = 0; i < v->u.array.len; i++)
      if (render_node(g, v->u.array.values[i], r))
        return -1;
    return gen_ok(yajl_gen_array_close(g));
  }
  if (gen_ok(yajl_gen_map_open(g)))
    return -1;
  for (size_t i = 0; i < v->u.object.len; i++) {
    const char *k = v->u.object.keys[i];
    if (gen_ok(yajl_gen_string(g, (const unsigned char *)k, strlen(k))) ||
        render_node(g, v->u.object.values[i], r))
      return -1;
  }
  return gen_ok(yajl_gen_map_close(g));
}

int tpl_render(const struct tpl *t, yajl_gen g, const struct tpl_resolver *r) {
  return render_node(g, t->root, r);
}
