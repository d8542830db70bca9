/*
 * mint.c -- a Discovery API signature token minted for one run (see mint.h).
 *
 * One POST with the API key and secret (HTTP Basic), body as Mode's documentation gives it:
 *   {"signature_token": {"name": ..., "expires_at": ..., "auth_scope":
 *     {"authentication_for": "batch-api", "authorization_type": "read-only"}}}
 * The token expires an hour later, so that tokens minted by runs do not pile up for long. A
 * plain curl easy transfer: it happens once, before anything else, and is not retried.
 */
#include "config.h"

#include "mint.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yajl/yajl_tree.h>

#include "util.h"

enum { MINT_BODY_MAX = 64 * 1024 };

struct body {
  char buf[MINT_BODY_MAX + 1];
  size_t len;
  int too_big;
};

static size_t on_data(char *data, size_t size, size_t n, void *ctx) {
  struct body *b = ctx;
  size_t len = size * n;
  if (b->len + len > MINT_BODY_MAX) {
    b->too_big = 1;
    return 0;
  }
  memcpy(b->buf + b->len, data, len);
  b->len += len;
  b->buf[b->len] = '\0';
  return len;
}

static char *field(yajl_val root, const char *name) {
  const char *path[] = {name, NULL};
  yajl_val v = yajl_tree_get(root, path, yajl_t_string);
  const char *s = v ? YAJL_GET_STRING(v) : NULL;
  return s && *s ? strdup(s) : NULL;
}

void mode_wipe_free(char **s) {
  if (s == NULL || *s == NULL)
    return;
  memset(*s, 0, strlen(*s));
  free(*s);
  *s = NULL;
}

int mode_mint_token(const struct mode_config *cfg, char **token, char **key, char **secret,
                    long *status, char *err, size_t cap) {
  int rc = -1;
  struct body *b = calloc(1, sizeof *b);
  CURL *e = curl_easy_init();
  struct curl_slist *hdr = NULL;
  yajl_val root = NULL;
  char *ws = mode_url_segment(cfg->workspace);
  char *url = ws ? mode_asprintf("%s/batch/%s/signature_tokens", cfg->host, ws) : NULL;
  char when[32], payload[512];
  time_t expires = time(NULL) + 3600;
  struct tm tm;
  *token = *key = *secret = NULL;
  *status = 0;
  gmtime_r(&expires, &tm);
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S+0000", &tm);
  snprintf(payload, sizeof payload,
           "{\"signature_token\":{\"name\":\"etlhost-%ld\",\"expires_at\":\"%s\","
           "\"auth_scope\":{\"authentication_for\":\"batch-api\","
           "\"authorization_type\":\"read-only\"}}}",
           (long)expires, when);
  if (b == NULL || e == NULL || url == NULL ||
      (hdr = curl_slist_append(NULL, "Content-Type: application/json")) == NULL) {
    snprintf(err, cap, "out of memory");
    goto out;
  }
  struct curl_slist *h2 = curl_slist_append(hdr, "Accept: application/json");
  if (h2 == NULL) {
    snprintf(err, cap, "out of memory");
    goto out;
  }
  hdr = h2;
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, payload);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr);
  curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
  curl_easy_setopt(e, CURLOPT_USERNAME, cfg->token);
  curl_easy_setopt(e, CURLOPT_PASSWORD, cfg->secret);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, b);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "etlhost-mode/" PACKAGE_VERSION);
  if (cfg->ca_bundle)
    curl_easy_setopt(e, CURLOPT_CAINFO, cfg->ca_bundle);
  if (cfg->connect_timeout_ms > 0)
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, cfg->connect_timeout_ms);
  if (cfg->timeout_ms > 0)
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, cfg->timeout_ms);
  CURLcode cc = curl_easy_perform(e);
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
  if (cc != CURLE_OK) {
    snprintf(err, cap, "%s", b->too_big ? "the answer is too large" : curl_easy_strerror(cc));
    goto out;
  }
  if (*status != 200 && *status != 201) {
    snprintf(err, cap, "HTTP %ld", *status);
    goto out;
  }
  root = yajl_tree_parse(b->buf, NULL, 0);
  /* The documentation shows the token at the top level; accept it under "signature_token" too. */
  const char *inner[] = {"signature_token", NULL};
  yajl_val obj = root ? yajl_tree_get(root, inner, yajl_t_object) : NULL;
  if (obj == NULL)
    obj = root;
  if (obj == NULL || (*token = field(obj, "token")) == NULL ||
      (*key = field(obj, "access_key")) == NULL || (*secret = field(obj, "access_secret")) == NULL) {
    snprintf(err, cap, "the answer lacks token, access_key or access_secret");
    free(*token), free(*key), free(*secret);
    *token = *key = *secret = NULL;
    goto out;
  }
  rc = 0;
out:
  if (root)
    yajl_tree_free(root);
  if (b) {
    memset(b, 0, sizeof *b); /* it held the secret */
    free(b);
  }
  curl_slist_free_all(hdr);
  if (e)
    curl_easy_cleanup(e);
  free(ws), free(url);
  return rc;
}
