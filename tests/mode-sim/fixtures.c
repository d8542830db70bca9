/*
 * Fixture loading: url-map.json is parsed with yajl_tree; each URL of the 2025 section becomes a
 * key with the host and query string dropped and "/api/acryl/" written "/api/{ws}/".
 */
#include "config.h"

#include "fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

struct fixture {
  char *key;
  char *body;
  size_t len;
};

struct fixtures {
  struct fixture *items;
  size_t n;
};

static const char SECTION_PREFIX[] = "test_mode.py@2025-01 (";
static const char RECORDED_WS[] = "/api/acryl/";

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  if (!f)
    return NULL;
  if (fseek(f, 0, SEEK_END) != 0)
    goto out;
  long size = ftell(f);
  if (size < 0 || fseek(f, 0, SEEK_SET) != 0)
    goto out;
  buf = malloc((size_t)size + 1);
  if (!buf)
    goto out;
  if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
    free(buf);
    buf = NULL;
    goto out;
  }
  buf[size] = '\0';
  *len = (size_t)size;
out:
  fclose(f);
  return buf;
}

/* "https://app.mode.com/api/acryl/spaces?filter=all" -> "/api/{ws}/spaces" */
static char *url_to_key(const char *url) {
  const char *p = strstr(url, "/api/");
  if (!p)
    return NULL;
  size_t n = strcspn(p, "?");
  char *key = malloc(n + 8);
  if (!key)
    return NULL;
  if (strncmp(p, RECORDED_WS, sizeof RECORDED_WS - 1) == 0)
    snprintf(key, n + 8, "/api/{ws}/%.*s", (int)(n - (sizeof RECORDED_WS - 1)),
             p + sizeof RECORDED_WS - 1);
  else
    snprintf(key, n + 8, "%.*s", (int)n, p);
  return key;
}

static yajl_val find_section(yajl_val map) {
  if (!YAJL_IS_OBJECT(map))
    return NULL;
  for (size_t i = 0; i < map->u.object.len; i++)
    if (strncmp(map->u.object.keys[i], SECTION_PREFIX, sizeof SECTION_PREFIX - 1) == 0)
      return map->u.object.values[i];
  return NULL;
}

int fixtures_load(const char *dir, struct fixtures **out) {
  char path[4096], err[256] = "";
  size_t len = 0;
  int rc = -1;
  yajl_val root = NULL;
  struct fixtures *fx = calloc(1, sizeof *fx);
  snprintf(path, sizeof path, "%s/url-map.json", dir);
  char *text = read_file(path, &len);
  if (!fx || !text) {
    fprintf(stderr, "mode-sim: --fixtures: cannot read %s\n", path);
    goto out;
  }
  root = yajl_tree_parse(text, err, sizeof err);
  yajl_val section = root ? find_section(root) : NULL;
  if (!section || !YAJL_IS_OBJECT(section)) {
    fprintf(stderr, "mode-sim: --fixtures: %s: no \"%s...\" section %s\n", path, SECTION_PREFIX,
            err);
    goto out;
  }
  fx->items = calloc(section->u.object.len, sizeof *fx->items);
  if (!fx->items)
    goto out;
  for (size_t i = 0; i < section->u.object.len; i++) {
    yajl_val file = section->u.object.values[i];
    if (!YAJL_IS_STRING(file))
      continue;
    struct fixture *f = &fx->items[fx->n];
    f->key = url_to_key(section->u.object.keys[i]);
    snprintf(path, sizeof path, "%s/%s", dir, file->u.string);
    f->body = read_file(path, &f->len);
    if (!f->key || !f->body) {
      fprintf(stderr, "mode-sim: --fixtures: cannot read %s (for %s)\n", path,
              section->u.object.keys[i]);
      free(f->key);
      free(f->body);
      goto out;
    }
    fx->n++;
  }
  *out = fx;
  fx = NULL;
  rc = 0;
out:
  yajl_tree_free(root);
  free(text);
  fixtures_free(&fx);
  return rc;
}

void fixtures_free(struct fixtures **fxp) {
  if (!fxp || !*fxp)
    return;
  struct fixtures *fx = *fxp;
  for (size_t i = 0; i < fx->n; i++) {
    free(fx->items[i].key);
    free(fx->items[i].body);
  }
  free(fx->items);
  free(fx);
  *fxp = NULL;
}

const char *fixtures_get(const struct fixtures *fx, const char *key, size_t *len) {
  for (size_t i = 0; i < fx->n; i++)
    if (strcmp(fx->items[i].key, key) == 0) {
      *len = fx->items[i].len;
      return fx->items[i].body;
    }
  return NULL;
}
