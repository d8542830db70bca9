/*
 * Shared helpers of the mode-sim suites (see test_sim_helpers.h).
 */
#include "config.h"

#include "test_sim_helpers.h"

#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void sim_start(struct test_server *srv, const char *const *args) {
  char *bin = test_path("%s/tests/mode-sim/mode-sim", test_builddir());
  const char *argv[40] = {bin, "--port", "0"};
  size_t n = 3;
  for (size_t i = 0; args && args[i] && n < 39; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  int rc = test_server_start(srv, (char *const *)argv);
  free(bin);
  ck_assert_msg(rc == 0, "mode-sim did not start");
}

struct body {
  char *data;
  size_t len;
};

static size_t on_body(char *p, size_t s, size_t n, void *u) {
  struct body *b = u;
  char *grown = realloc(b->data, b->len + s * n + 1);
  if (!grown)
    return 0;
  memcpy(grown + b->len, p, s * n);
  b->data = grown;
  b->len += s * n;
  b->data[b->len] = '\0';
  return s * n;
}

static void copy_header(const char *line, size_t n, const char *name, char *out, size_t cap) {
  size_t k = strlen(name);
  if (n <= k + 1 || strncasecmp(line, name, k) != 0 || line[k] != ':')
    return;
  const char *v = line + k + 1;
  while (*v == ' ')
    v++;
  size_t len = strcspn(v, "\r\n");
  snprintf(out, cap, "%.*s", (int)len, v);
}

static size_t on_header(char *p, size_t s, size_t n, void *u) {
  struct sim_http *h = u;
  copy_header(p, s * n, "Retry-After", h->retry_after, sizeof h->retry_after);
  copy_header(p, s * n, "X-RateLimit-Limit", h->ratelimit_limit, sizeof h->ratelimit_limit);
  return s * n;
}

void sim_get_as(const struct test_server *srv, const char *path, const char *userpwd,
                struct sim_http *out) {
  memset(out, 0, sizeof *out);
  struct body b = {NULL, 0};
  char *url = test_path("%s%s", srv->base_url, path);
  CURL *c = curl_easy_init();
  ck_assert_ptr_nonnull(c);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (userpwd)
    curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
  out->curl_error = (int)curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
  curl_easy_cleanup(c);
  free(url);
  out->body = b.data ? b.data : strdup("");
  out->len = b.len;
}

void sim_get(const struct test_server *srv, const char *path, struct sim_http *out) {
  sim_get_as(srv, path, "test-token:test-secret", out);
}

void sim_http_free(struct sim_http *h) {
  free(h->body);
  h->body = NULL;
}

yajl_val sim_get_json(const struct test_server *srv, const char *path) {
  struct sim_http h;
  char err[256] = "";
  sim_get(srv, path, &h);
  ck_assert_msg(h.status == 200, "GET %s: HTTP %ld: %s", path, h.status, h.body);
  yajl_val v = yajl_tree_parse(h.body, err, sizeof err);
  ck_assert_msg(v != NULL, "GET %s: not JSON: %s", path, err);
  sim_http_free(&h);
  return v;
}

yajl_val sim_load_json(const char *path) {
  char err[256] = "";
  char *text = test_read_file(path, NULL);
  ck_assert_msg(text != NULL, "cannot read %s", path);
  yajl_val v = yajl_tree_parse(text, err, sizeof err);
  free(text);
  ck_assert_msg(v != NULL, "%s: %s", path, err);
  return v;
}

static int find_key(yajl_val obj, const char *key) {
  for (size_t i = 0; i < obj->u.object.len; i++)
    if (strcmp(obj->u.object.keys[i], key) == 0)
      return (int)i;
  return -1;
}

static int same_keys(yajl_val a, yajl_val b, int (*skip)(yajl_val), char *where, size_t cap,
                     const char *path) {
  char sub[1024];
  if (YAJL_IS_OBJECT(a)) {
    if (!YAJL_IS_OBJECT(b)) {
      snprintf(where, cap, "%s: an object in the sample", path);
      return -1;
    }
    for (size_t i = 0; i < a->u.object.len; i++) {
      int j = find_key(b, a->u.object.keys[i]);
      snprintf(sub, sizeof sub, "%s.%s", path, a->u.object.keys[i]);
      if (j < 0) {
        snprintf(where, cap, "%s: missing", sub);
        return -1;
      }
      if (same_keys(a->u.object.values[i], b->u.object.values[j], skip, where, cap, sub))
        return -1;
    }
    for (size_t i = 0; i < b->u.object.len; i++)
      if (find_key(a, b->u.object.keys[i]) < 0) {
        snprintf(where, cap, "%s.%s: not in the sample", path, b->u.object.keys[i]);
        return -1;
      }
    return 0;
  }
  if (YAJL_IS_ARRAY(a) && YAJL_IS_ARRAY(b) && a->u.array.len && b->u.array.len) {
    for (size_t k = 0; k < b->u.array.len; k++) {
      yajl_val e = b->u.array.values[k];
      if (skip && skip(e))
        continue;
      int matched = 0;
      for (size_t i = 0; i < a->u.array.len && !matched; i++)
        matched = same_keys(a->u.array.values[i], e, skip, where, cap, path) == 0;
      if (!matched) {
        snprintf(sub, sizeof sub, "%s[%zu]", path, k);
        /* re-run against the first element for a precise message */
        same_keys(a->u.array.values[0], e, skip, where, cap, sub);
        return -1;
      }
    }
  }
  return 0;
}

int sim_same_keys(yajl_val sample, yajl_val sim, int (*skip)(yajl_val), char *where,
                  size_t wherelen) {
  where[0] = '\0';
  return same_keys(sample, sim, skip, where, wherelen, "$");
}

const char *sim_str(yajl_val v, const char *const *path) {
  yajl_val s = yajl_tree_get(v, (const char **)path, yajl_t_string);
  return s ? s->u.string : NULL;
}
