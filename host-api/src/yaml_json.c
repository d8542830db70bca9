/*
 * yaml_json.c -- a workflow subtree as JSON text (workflow.h: host_node_to_json), for a plugin's
 * open() and a sink's create().
 *
 * Typing follows YAML 1.2's core schema for plain (unquoted) scalars: null/~/empty, true/false
 * and numbers keep their type; a quoted scalar is always a string, so `"0123"` stays a string.
 */
#include "config.h"

#include "workflow.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yajl/yajl_gen.h>

static int matches(const char *pattern, const char *text) {
  regex_t re;
  if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
    return 0;
  int hit = regexec(&re, text, 0, NULL, 0) == 0;
  regfree(&re);
  return hit;
}

static yajl_gen_status gen_scalar(yajl_gen g, const struct host_node *node) {
  const char *s = node->scalar;
  size_t len = strlen(s);
  if (!node->plain)
    return yajl_gen_string(g, (const unsigned char *)s, len);
  if (len == 0 || strcmp(s, "~") == 0 || strcasecmp(s, "null") == 0)
    return yajl_gen_null(g);
  if (strcasecmp(s, "true") == 0)
    return yajl_gen_bool(g, 1);
  if (strcasecmp(s, "false") == 0)
    return yajl_gen_bool(g, 0);
  /* JSON's own number grammar, so the text can be passed through verbatim. */
  if (matches("^-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][-+]?[0-9]+)?$", s))
    return yajl_gen_number(g, s, len);
  return yajl_gen_string(g, (const unsigned char *)s, len);
}

static yajl_gen_status gen_node(yajl_gen g, const struct host_node *node) {
  yajl_gen_status st = yajl_gen_status_ok;
  switch (node->type) {
  case HOST_NODE_SCALAR:
    return gen_scalar(g, node);
  case HOST_NODE_MAP:
    st = yajl_gen_map_open(g);
    for (size_t i = 0; st == yajl_gen_status_ok && i < node->n; i++) {
      st = yajl_gen_string(g, (const unsigned char *)node->keys[i], strlen(node->keys[i]));
      if (st == yajl_gen_status_ok)
        st = gen_node(g, node->kids[i]);
    }
    return st == yajl_gen_status_ok ? yajl_gen_map_close(g) : st;
  case HOST_NODE_SEQ:
    st = yajl_gen_array_open(g);
    for (size_t i = 0; st == yajl_gen_status_ok && i < node->n; i++)
      st = gen_node(g, node->kids[i]);
    return st == yajl_gen_status_ok ? yajl_gen_array_close(g) : st;
  }
  return yajl_gen_generation_complete;
}

char *host_node_to_json(const struct host_node *node, size_t *len) {
  char *out = NULL;
  yajl_gen g = yajl_gen_alloc(NULL);
  if (!g)
    return NULL;
  yajl_gen_config(g, yajl_gen_validate_utf8, 1);
  yajl_gen_status st;
  if (node) {
    st = gen_node(g, node);
  } else {
    st = yajl_gen_map_open(g);
    if (st == yajl_gen_status_ok)
      st = yajl_gen_map_close(g);
  }
  const unsigned char *buf = NULL;
  size_t n = 0;
  if (st != yajl_gen_status_ok || yajl_gen_get_buf(g, &buf, &n) != yajl_gen_status_ok)
    goto out_gen;
  out = malloc(n + 1);
  if (!out)
    goto out_gen;
  memcpy(out, buf, n);
  out[n] = '\0';
  if (len)
    *len = n;
out_gen:
  yajl_gen_free(g);
  return out;
}
