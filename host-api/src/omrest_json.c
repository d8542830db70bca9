/*
 * omrest_json.c -- yajl tree and generator helpers (see omrest_json.h).
 */
#include "config.h"

#include "omrest_json.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

yajl_val host_json_get(yajl_val obj, const char *key) {
  if (!YAJL_IS_OBJECT(obj))
    return NULL;
  for (size_t i = 0; i < obj->u.object.len; i++)
    if (strcmp(obj->u.object.keys[i], key) == 0)
      return obj->u.object.values[i];
  return NULL;
}

const char *host_json_str(yajl_val obj, const char *key) {
  return YAJL_GET_STRING(host_json_get(obj, key));
}

/* The deepest nesting of arrays and objects in text, counted up to limit + 1 (a linear scan
 * that skips strings). Why: yajl builds a tree of any depth but yajl_tree_free recurses once
 * per level, so a reply nested 300,000 deep would overflow the stack when freed. */
static int nesting_depth(const char *text, size_t len, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < len && deepest <= limit; i++) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        i++;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest)
        deepest = depth;
    } else if (c == ']' || c == '}') {
      depth--;
    }
  }
  return deepest;
}

yajl_val host_json_parse(const char *text, size_t len, char *err, size_t err_size) {
  if (nesting_depth(text, len, HOST_JSON_MAX_DEPTH) > HOST_JSON_MAX_DEPTH) {
    snprintf(err, err_size, "nested deeper than %d levels", HOST_JSON_MAX_DEPTH);
    return NULL;
  }
  char *copy = malloc(len + 1);
  if (!copy) {
    snprintf(err, err_size, "out of memory");
    return NULL;
  }
  memcpy(copy, text, len);
  copy[len] = '\0';
  yajl_val v = yajl_tree_parse(copy, err, err_size);
  free(copy);
  if (v && err_size)
    err[0] = '\0';
  return v;
}

yajl_gen_status host_json_gen_str(yajl_gen g, const char *s) {
  return yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

yajl_gen_status host_json_gen_value(yajl_gen g, yajl_val v) {
  yajl_gen_status st = yajl_gen_status_ok;
  if (!v)
    return yajl_gen_null(g);
  switch (v->type) {
  case yajl_t_string:
    return host_json_gen_str(g, v->u.string);
  case yajl_t_number:
    return yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
  case yajl_t_true:
    return yajl_gen_bool(g, 1);
  case yajl_t_false:
    return yajl_gen_bool(g, 0);
  case yajl_t_null:
    return yajl_gen_null(g);
  case yajl_t_object:
    st = yajl_gen_map_open(g);
    for (size_t i = 0; st == yajl_gen_status_ok && i < v->u.object.len; i++) {
      st = host_json_gen_str(g, v->u.object.keys[i]);
      if (st == yajl_gen_status_ok)
        st = host_json_gen_value(g, v->u.object.values[i]);
    }
    return st == yajl_gen_status_ok ? yajl_gen_map_close(g) : st;
  case yajl_t_array:
    st = yajl_gen_array_open(g);
    for (size_t i = 0; st == yajl_gen_status_ok && i < v->u.array.len; i++)
      st = host_json_gen_value(g, v->u.array.values[i]);
    return st == yajl_gen_status_ok ? yajl_gen_array_close(g) : st;
  default:
    return yajl_gen_null(g);
  }
}

char *host_json_gen_take(yajl_gen g) {
  const unsigned char *buf = NULL;
  size_t len = 0;
  if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
    return NULL;
  char *out = malloc(len + 1);
  if (!out)
    return NULL;
  memcpy(out, buf, len);
  out[len] = '\0';
  return out;
}
