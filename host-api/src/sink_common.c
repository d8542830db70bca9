/*
 * sink_common.c -- config reading, record naming and the catalog sinks' shared checks and
 * bookkeeping (see sink_common.h).
 */
#include "config.h"

#include "sink_common.h"

#include "log.h"
#include "omrest_json.h"

#include <stdio.h>
#include <string.h>

etl_status host_sink_config_parse(const char *json, const char *type, const char *const *allowed,
                                  struct host_log *log, yajl_val *out) {
  char err[256] = "";
  *out = NULL;
  const char *text = json ? json : "{}";
  yajl_val cfg = host_json_parse(text, strlen(text), err, sizeof err);
  if (!cfg) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL, "sink.config: %s sink: invalid JSON: %s", type,
                 err[0] ? err : "out of memory");
    return ETL_ERR_CONFIG;
  }
  if (YAJL_IS_NULL(cfg)) { /* "config:" with nothing under it */
    yajl_tree_free(cfg);
    cfg = yajl_tree_parse("{}", NULL, 0);
    if (!cfg)
      return ETL_ERR_NOMEM;
  }
  if (!YAJL_IS_OBJECT(cfg)) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL, "sink.config: %s sink: expected a mapping", type);
    yajl_tree_free(cfg);
    return ETL_ERR_CONFIG;
  }
  for (size_t i = 0; i < cfg->u.object.len; i++) {
    const char *key = cfg->u.object.keys[i];
    bool known = false;
    for (size_t k = 0; allowed[k] && !known; k++)
      known = strcmp(key, allowed[k]) == 0;
    if (!known) {
      char list[256] = "";
      for (size_t k = 0; allowed[k]; k++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", k ? ", " : "", allowed[k]);
      }
      host_log_msg(log, ETL_SEV_ERROR, NULL, NULL,
                   "sink.config.%s: unknown key for the %s sink (known keys: %s)", key, type, list);
      yajl_tree_free(cfg);
      return ETL_ERR_CONFIG;
    }
  }
  *out = cfg;
  return ETL_OK;
}

static yajl_val config_get(yajl_val cfg, const char *key) {
  const char *path[] = {key, NULL};
  yajl_val v = yajl_tree_get(cfg, path, yajl_t_any);
  return v && !YAJL_IS_NULL(v) ? v : NULL;
}

etl_status host_sink_config_string(yajl_val cfg, const char *key, const char *dflt,
                                   struct host_log *log, const char **out) {
  yajl_val v = config_get(cfg, key);
  *out = dflt;
  if (!v)
    return ETL_OK;
  if (!YAJL_IS_STRING(v)) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL, "sink.config.%s: expected a string", key);
    return ETL_ERR_CONFIG;
  }
  *out = YAJL_GET_STRING(v);
  return ETL_OK;
}

etl_status host_sink_config_int(yajl_val cfg, const char *key, long long dflt, long long min,
                                long long max, struct host_log *log, long long *out) {
  yajl_val v = config_get(cfg, key);
  *out = dflt;
  if (!v)
    return ETL_OK;
  if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < min || YAJL_GET_INTEGER(v) > max) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL,
                 "sink.config.%s: expected an integer from %lld to %lld", key, min, max);
    return ETL_ERR_CONFIG;
  }
  *out = YAJL_GET_INTEGER(v);
  return ETL_OK;
}

/* Appends s to buf at *used, control characters as '?'; returns false once buf is full. */
static bool item_append(char *buf, size_t cap, size_t *used, const char *s) {
  for (; s && *s; s++) {
    if (*used + 1 >= cap)
      return false;
    unsigned char c = (unsigned char)*s;
    buf[(*used)++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
  }
  buf[*used] = '\0';
  return true;
}

const char *host_sink_item(const struct host_record *rec, char *buf, size_t cap) {
  size_t used = 0;
  buf[0] = '\0';
  if (item_append(buf, cap, &used, rec->kind) && item_append(buf, cap, &used, " ") &&
      item_append(buf, cap, &used, rec->id))
    return buf;
  if (cap > 4)
    memcpy(buf + cap - 4, "...", 4);
  return buf;
}

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. yajl's own
 * check only looks at the byte pattern, which lets CESU-8 surrogates through, and those make
 * strict readers (Python's json, OpenMetadata) refuse the whole line. */
bool host_sink_utf8_valid(const char *text, size_t len) {
  const unsigned char *s = (const unsigned char *)text;
  size_t i = 0;
  while (i < len) {
    unsigned char c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (c >= 0xc2 && c <= 0xdf) {
      n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 3;
      lo = c == 0xe0 ? 0xa0 : 0x80; /* overlong */
      hi = c == 0xed ? 0x9f : 0xbf; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 4;
      lo = c == 0xf0 ? 0x90 : 0x80; /* overlong */
      hi = c == 0xf4 ? 0x8f : 0xbf; /* above U+10FFFF */
    } else {
      return false;
    }
    if (len - i < n || s[i + 1] < lo || s[i + 1] > hi)
      return false;
    for (size_t k = 2; k < n; k++)
      if ((s[i + k] & 0xc0) != 0x80)
        return false;
    i += n;
  }
  return true;
}

bool host_sink_names_ok(const struct host_record *rec, char *why, size_t cap) {
  const char *names[] = {"kind", "id", "source"};
  const char *values[] = {rec->kind, rec->id, rec->source};
  for (size_t i = 0; i < 3; i++) {
    if (!values[i] || !values[i][0]) {
      snprintf(why, cap, "the record's %s is empty", names[i]);
      return false;
    }
    if (!host_sink_utf8_valid(values[i], strlen(values[i]))) {
      snprintf(why, cap, "the record's %s is not valid UTF-8", names[i]);
      return false;
    }
  }
  return true;
}

bool host_sink_parse_entity(const char *json, size_t len, const yajl_callbacks *callbacks,
                            void *ctx, char *why, size_t cap) {
  if (!json || len == 0) {
    snprintf(why, cap, "entity json is empty");
    return false;
  }
  if (!host_sink_utf8_valid(json, len)) {
    snprintf(why, cap, "entity json is not valid UTF-8");
    return false;
  }
  yajl_handle h = yajl_alloc(callbacks, NULL, ctx);
  if (!h) {
    snprintf(why, cap, "out of memory");
    return false;
  }
  yajl_status ys = yajl_parse(h, (const unsigned char *)json, len);
  if (ys == yajl_status_ok)
    ys = yajl_complete_parse(h);
  if (ys == yajl_status_error) {
    unsigned char *err = yajl_get_error(h, 0, NULL, 0);
    const char *msg = err ? (const char *)err : "parse error";
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' ' || msg[n - 1] == '.'))
      n--; /* yajl ends its messages with ".\n" */
    snprintf(why, cap, "entity json is not valid JSON at byte %zu: %.*s",
             yajl_get_bytes_consumed(h), (int)n, msg);
    yajl_free_error(h, err);
  }
  yajl_free(h);
  return ys == yajl_status_ok;
}

bool host_fail_safe_allows(struct host_log *log, const char *source, const char *where,
                           const struct host_source_outcome *o, long long n_delete,
                           long long n_live) {
  double threshold =
      o && o->fail_safe_threshold > 0 ? o->fail_safe_threshold : HOST_FAIL_SAFE_DEFAULT;
  if (n_delete <= 0 || n_live <= 0)
    return true;
  double share = 100.0 * (double)n_delete / (double)n_live;
  if (share <= threshold)
    return true;
  host_log_msg(log, ETL_SEV_WARNING, source, where,
               "fail-safe: this run would mark %lld of %lld entities deleted (%.1f%%, more than "
               "failSafeThreshold %g%%): nothing marked deleted; if they are really gone, "
               "raise workflowConfig.failSafeThreshold",
               n_delete, n_live, share, threshold);
  if (o && o->held)
    *o->held = (struct host_deletions_held){.n = n_delete, .of = n_live};
  return false;
}

bool host_catalog_json_object_ok(const char *json, size_t len, char *why, size_t cap) {
  if (len > HOST_CATALOG_MAX_RECORD_BYTES) {
    snprintf(why, cap, "entity json is %zu bytes, more than the catalog takes (%d)", len,
             HOST_CATALOG_MAX_RECORD_BYTES);
    return false;
  }
  if (!host_sink_parse_entity(json, len, NULL, NULL, why, cap))
    return false;
  size_t i = 0;
  while (json[i] == ' ' || json[i] == '\t' || json[i] == '\r' || json[i] == '\n')
    i++; /* well-formed, so it does not end in whitespace */
  if (json[i] != '{') {
    snprintf(why, cap, "entity json is not a JSON object");
    return false;
  }
  return true;
}

void host_catalog_count_upsert(struct host_catalog_counts *c, long long run_id, bool returned,
                               long long first_seen, long long changed_run) {
  if (!returned || changed_run != run_id)
    c->unchanged++;
  else if (first_seen == run_id)
    c->inserted++;
  else
    c->updated++;
}

bool host_catalog_batch_add(struct host_catalog_batch *b, size_t n) {
  b->pending += n;
  return b->pending >= HOST_CATALOG_AUTOCOMMIT_RECORDS;
}

void host_catalog_batch_committed(struct host_catalog_batch *b) { b->pending = 0; }

void host_catalog_retain_missed(struct host_catalog_batch *b, struct host_log *log,
                                const char *label, const char *source, const char *kind,
                                size_t missing) {
  if (!missing || b->retain_miss_logged)
    return;
  b->retain_miss_logged = true;
  host_log_msg(log, ETL_SEV_DEBUG, source, kind,
               "catalog '%s': %zu retained %s id(s) not in the catalog (or deleted); ignored",
               label, missing, kind);
}
