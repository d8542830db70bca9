/*
 * conf.c -- configuration parsing and checking (see conf.h).
 *
 * Each key is looked up in a table that says where it may appear and how to read it, so that
 * an error can always name the key ("serviceConnection.config.workspaceName: required").
 * snake_case spellings (OpenMetadata's own examples use them) are accepted with a warning.
 */
#include "config.h"

#include "conf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yajl/yajl_tree.h>

#include "util.h"

#define CONN "serviceConnection.config"
#define SRC "sourceConfig.config"

enum key_kind {
  K_STRING,
  K_BOOL,
  K_INT,
  K_NUMBER,
  K_FILTER,
  K_STRLIST,
  K_MAP,
  K_LINEAGE,
  K_TYPE, /* the document's `type`: must name what this connector is */
  K_NOOP, /* an OpenMetadata switch with no effect for Mode: warns when it asks for one */
  K_IGNORED
};
enum { IN_CONN = 1, IN_SRC = 2 };

struct key_def {
  const char *name;
  enum key_kind kind;
  int where;
  size_t offset;   /* into struct mode_config */
  double min, max; /* K_INT / K_NUMBER */
};

#define OFF(m) offsetof(struct mode_config, m)
static const struct key_def keys[] = {
    {"type", K_TYPE, IN_CONN | IN_SRC, 0, 0, 0},
    {"supportsMetadataExtraction", K_NOOP, IN_CONN, 0, 0, 0},
    {"hostPort", K_STRING, IN_CONN, OFF(host), 0, 0},
    {"accessToken", K_STRING, IN_CONN, OFF(token), 0, 0},
    {"accessTokenPassword", K_STRING, IN_CONN, OFF(secret), 0, 0},
    {"workspaceName", K_STRING, IN_CONN, OFF(workspace), 0, 0},
    {"discoveryToken", K_STRING, IN_CONN, OFF(discovery_token), 0, 0},
    {"discoveryAccessKey", K_STRING, IN_CONN, OFF(discovery_key), 0, 0},
    {"discoveryAccessSecret", K_STRING, IN_CONN, OFF(discovery_secret), 0, 0},
    {"discoveryMintToken", K_BOOL, IN_CONN, OFF(discovery_mint), 0, 0},
    {"discoveryChartFields", K_BOOL, IN_CONN, OFF(discovery_chart_fields), 0, 0},
    {"filterQueryParam", K_STRING, IN_CONN, 0, 0, 0},
    {"caBundle", K_STRING, IN_CONN, OFF(ca_bundle), 0, 0},
    {"allowInsecureHttp", K_BOOL, IN_CONN, OFF(allow_insecure_http), 0, 0},
    {"concurrency", K_INT, IN_CONN, OFF(concurrency), 1, 256},
    {"requestsPerSecond", K_NUMBER, IN_CONN, OFF(rate), 0, 100000},
    {"rateBurst", K_NUMBER, IN_CONN, OFF(burst), 1, 100000},
    {"connectTimeoutSeconds", K_NUMBER, IN_CONN, 0, 0.001, 3600},
    {"requestTimeoutSeconds", K_NUMBER, IN_CONN, 0, 0.001, 86400},
    {"lowSpeedSeconds", K_INT, IN_CONN, OFF(low_speed_seconds), 1, 3600},
    {"requestDeadlineSeconds", K_NUMBER, IN_CONN, OFF(request_deadline), 1, 86400},
    {"maxRetryAfterSeconds", K_NUMBER, IN_CONN, OFF(max_retry_after), 1, 86400},
    {"maxRetries", K_INT, IN_CONN, OFF(max_attempts), 0, 100},
    {"retryBudget", K_INT, IN_CONN, 0, 0, 1e9},
    {"maxBodyBytes", K_INT, IN_CONN, 0, 1024, 2147483647.0},
    {"pageSize", K_INT, IN_CONN, OFF(page_size), 1, 1000},
    {"maxPages", K_INT, IN_CONN, OFF(max_pages), 1, 1e9},
    {"dashboardFilterPattern", K_FILTER, IN_CONN | IN_SRC, OFF(dashboards), 0, 0},
    {"chartFilterPattern", K_FILTER, IN_CONN | IN_SRC, OFF(charts), 0, 0},
    {"dataModelFilterPattern", K_FILTER, IN_CONN | IN_SRC, OFF(data_models), 0, 0},
    {"projectFilterPattern", K_FILTER, IN_CONN | IN_SRC, OFF(projects), 0, 0},
    {"includeOwners", K_BOOL, IN_SRC, OFF(include_owners), 0, 0},
    {"includeDataModels", K_BOOL, IN_SRC, OFF(include_data_models), 0, 0},
    {"includeTags", K_NOOP, IN_SRC, 0, 0, 0},
    {"markDeletedDashboards", K_BOOL, IN_SRC, OFF(mark_deleted), 0, 0},
    {"markDeletedDataModels", K_BOOL, IN_SRC, OFF(mark_deleted_models), 0, 0},
    {"excludeArchivedReports", K_BOOL, IN_CONN | IN_SRC, OFF(exclude_archived), 0, 0},
    {"incremental", K_BOOL, IN_CONN, OFF(incremental), 0, 0},
    {"excludePersonalCollections", K_BOOL, IN_CONN | IN_SRC, OFF(exclude_personal), 0, 0},
    {"excludeRestrictedCollections", K_BOOL, IN_CONN | IN_SRC, OFF(exclude_restricted), 0, 0},
    {"dataSourceServiceMap", K_MAP, IN_CONN | IN_SRC, 0, 0, 0},
    {"lineageInformation", K_LINEAGE, IN_SRC, 0, 0, 0},
    {"dbServiceNames", K_STRLIST, IN_SRC, OFF(db_service_names), 0, 0},
    /* Pipeline switches OpenMetadata defines that change nothing for this connector. */
    {"includeDraftDashboard", K_NOOP, IN_SRC, 0, 0, 0},
    {"overrideMetadata", K_NOOP, IN_SRC, 0, 0, 0},
    {"overrideLineage", K_NOOP, IN_SRC, 0, 0, 0},
};

/* Why each K_NOOP key does nothing, and the value that asks for something (the other value is
 * what happens anyway, so it is honoured and says nothing). */
static const struct {
  const char *name;
  int warn_when;
  const char *why;
} noops[] = {
    {"includeTags", 1, "Mode's API exposes no tags"},
    {"includeDraftDashboard", 0, "Mode has no draft reports: every report is read"},
    {"overrideMetadata", 0,
     "the sinks always write what Mode has, as OpenMetadata does with overrideMetadata: true"},
    {"overrideLineage", 1, "lineage edges are added to what the server has, never replaced"},
    {"supportsMetadataExtraction", 0, "metadata is what this connector extracts"},
};

/* Spellings found in OpenMetadata's own examples, accepted with a warning naming the key. */
static const struct {
  const char *alias, *name;
} aliases[] = {
    {"includeOwner", "includeOwners"}, /* docs/connectors/dashboard/mode/cli.md */
};

struct parse_ctx {
  struct mode_config *c;
  mode_config_warn_fn warn;
  void *warn_ctx;
  char *err;
  size_t errlen;
};

static int failf(struct parse_ctx *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int failf(struct parse_ctx *p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->err, p->errlen, fmt, ap);
  va_end(ap);
  return -1;
}

static void warnf(struct parse_ctx *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warnf(struct parse_ctx *p, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (p->warn)
    p->warn(p->warn_ctx, msg);
}

/* "access_token_password" -> "accessTokenPassword" into out. */
static void camel_case(const char *in, char *out, size_t outlen) {
  size_t j = 0;
  int up = 0;
  for (size_t i = 0; in[i] && j + 1 < outlen; i++) {
    if (in[i] == '_') {
      up = 1;
      continue;
    }
    out[j++] = up ? (char)toupper((unsigned char)in[i]) : in[i];
    up = 0;
  }
  out[j] = '\0';
}

static const struct key_def *find_key(const char *name) {
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    if (strcmp(keys[i].name, name) == 0)
      return &keys[i];
  return NULL;
}

static int read_string_list(struct parse_ctx *p, const char *where, yajl_val v, char ***out,
                            size_t *n) {
  if (YAJL_IS_STRING(v)) {
    *out = calloc(1, sizeof **out);
    if (*out == NULL || ((*out)[0] = mode_strdup(YAJL_GET_STRING(v))) == NULL)
      return failf(p, "out of memory");
    *n = 1;
    return 0;
  }
  if (!YAJL_IS_ARRAY(v))
    return failf(p, "%s: expected a list of strings", where);
  size_t len = YAJL_GET_ARRAY(v)->len;
  *out = calloc(len ? len : 1, sizeof **out);
  if (*out == NULL)
    return failf(p, "out of memory");
  for (size_t i = 0; i < len; i++) {
    yajl_val s = YAJL_GET_ARRAY(v)->values[i];
    if (!YAJL_IS_STRING(s))
      return failf(p, "%s[%zu]: expected a string", where, i);
    (*out)[i] = mode_strdup(YAJL_GET_STRING(s));
    if ((*out)[i] == NULL)
      return failf(p, "out of memory");
    (*n)++;
  }
  return 0;
}

static void free_list(char **l, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(l[i]);
  free(l);
}

static int read_filter(struct parse_ctx *p, const char *where, yajl_val v, struct mode_filter *f) {
  if (!YAJL_IS_OBJECT(v))
    return failf(p, "%s: expected an object with includes/excludes lists", where);
  /* A later document (sourceConfig) replaces an earlier one (connection). */
  mode_filter_free(f);
  for (size_t i = 0; i < YAJL_GET_OBJECT(v)->len; i++) {
    const char *k = YAJL_GET_OBJECT(v)->keys[i];
    yajl_val list = YAJL_GET_OBJECT(v)->values[i];
    int inc = strcmp(k, "includes") == 0;
    if (!inc && strcmp(k, "excludes") != 0)
      return failf(p, "%s.%s: unknown key (expected includes or excludes)", where, k);
    if (YAJL_IS_NULL(list))
      continue;
    if (!YAJL_IS_ARRAY(list))
      return failf(p, "%s.%s: expected a list of regular expressions", where, k);
    for (size_t j = 0; j < YAJL_GET_ARRAY(list)->len; j++) {
      yajl_val s = YAJL_GET_ARRAY(list)->values[j];
      char why[160];
      if (!YAJL_IS_STRING(s))
        return failf(p, "%s.%s[%zu]: expected a string", where, k, j);
      if (mode_filter_add(f, inc, YAJL_GET_STRING(s), why, sizeof why) != 0)
        return failf(p, "%s.%s[%zu]: invalid regular expression '%s': %s", where, k, j,
                     YAJL_GET_STRING(s), why);
    }
  }
  return 0;
}

static int read_map(struct parse_ctx *p, const char *where, yajl_val v) {
  struct mode_config *c = p->c;
  if (!YAJL_IS_OBJECT(v))
    return failf(p, "%s: expected an object mapping Mode data sources to database services", where);
  free_list(c->ds_map_keys, c->n_ds_map);
  free_list(c->ds_map_values, c->n_ds_map);
  c->n_ds_map = 0;
  size_t len = YAJL_GET_OBJECT(v)->len;
  c->ds_map_keys = calloc(len ? len : 1, sizeof(char *));
  c->ds_map_values = calloc(len ? len : 1, sizeof(char *));
  if (c->ds_map_keys == NULL || c->ds_map_values == NULL)
    return failf(p, "out of memory");
  for (size_t i = 0; i < len; i++) {
    yajl_val s = YAJL_GET_OBJECT(v)->values[i];
    if (!YAJL_IS_STRING(s) || *YAJL_GET_STRING(s) == '\0')
      return failf(p, "%s.%s: expected a database service name", where,
                   YAJL_GET_OBJECT(v)->keys[i]);
    c->ds_map_keys[i] = strdup(YAJL_GET_OBJECT(v)->keys[i]);
    c->ds_map_values[i] = mode_strdup(YAJL_GET_STRING(s));
    c->n_ds_map++;
    if (c->ds_map_keys[i] == NULL || c->ds_map_values[i] == NULL)
      return failf(p, "out of memory");
  }
  return 0;
}

static int read_lineage(struct parse_ctx *p, const char *where, yajl_val v) {
  struct mode_config *c = p->c;
  if (!YAJL_IS_OBJECT(v))
    return failf(p, "%s: expected an object", where);
  for (size_t i = 0; i < YAJL_GET_OBJECT(v)->len; i++) {
    const char *k = YAJL_GET_OBJECT(v)->keys[i];
    yajl_val val = YAJL_GET_OBJECT(v)->values[i];
    char sub[640];
    snprintf(sub, sizeof sub, "%s.%s", where, k);
    if (strcmp(k, "dbServicePrefixes") == 0 || strcmp(k, "db_service_prefixes") == 0) {
      free_list(c->db_service_prefixes, c->n_db_service_prefixes);
      c->db_service_prefixes = NULL;
      c->n_db_service_prefixes = 0;
      if (!YAJL_IS_NULL(val) &&
          read_string_list(p, sub, val, &c->db_service_prefixes, &c->n_db_service_prefixes))
        return -1;
    } else if (strcmp(k, "dbServiceNames") == 0) {
      free_list(c->db_service_names, c->n_db_service_names);
      c->db_service_names = NULL;
      c->n_db_service_names = 0;
      if (!YAJL_IS_NULL(val) &&
          read_string_list(p, sub, val, &c->db_service_names, &c->n_db_service_names))
        return -1;
    } else {
      warnf(p, "%s: unknown key, ignored", sub);
    }
  }
  return 0;
}

static int read_number(struct parse_ctx *p, const char *where, yajl_val v, const struct key_def *d,
                       double *out) {
  if (!YAJL_IS_NUMBER(v))
    return failf(p, "%s: expected a number", where);
  /* The number's own text, not yajl's double: yajl parsed it with strtod in the host's locale,
   * where "1.5" may read as 1. */
  double x = mode_strtod_c(YAJL_GET_NUMBER(v), NULL);
  if (d->kind == K_INT && !YAJL_IS_INTEGER(v))
    return failf(p, "%s: expected a whole number", where);
  if (!isfinite(x) || x < d->min || x > d->max)
    return failf(p, "%s: %g is out of range (%g to %g)", where, x, d->min, d->max);
  *out = x;
  return 0;
}

static int read_filter_param(struct parse_ctx *p, const char *where, const char *s) {
  if (strncmp(s, "filter=", 7) == 0)
    s += 7;
  if (strcmp(s, "all") == 0)
    p->c->filter_custom = 0;
  else if (strcmp(s, "custom") == 0)
    p->c->filter_custom = 1;
  else
    return failf(p, "%s: '%s' is not a filter Mode knows (use all or custom)", where, s);
  return 0;
}

/* `type` names what the document configures: Mode's connection, the dashboard pipeline. */
static int check_type(struct parse_ctx *p, const char *where, yajl_val v) {
  const char *want = strncmp(where, SRC ".", sizeof SRC) == 0 ? "DashboardMetadata" : "Mode";
  const char *got = YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
  if (got == NULL || strcasecmp(got, want) != 0)
    return failf(p, "%s: expected \"%s\" (this is the Mode connector's %s)", where, want,
                 *want == 'M' ? "connection" : "dashboard metadata pipeline");
  return 0;
}

static int check_noop(struct parse_ctx *p, const struct key_def *d, const char *where, yajl_val v) {
  if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
    return failf(p, "%s: expected true or false", where);
  for (size_t i = 0; i < sizeof noops / sizeof noops[0]; i++)
    if (strcmp(noops[i].name, d->name) == 0 && YAJL_IS_TRUE(v) == noops[i].warn_when)
      warnf(p, "%s: does nothing for Mode: %s", where, noops[i].why);
  return 0;
}

static int apply_key(struct parse_ctx *p, const struct key_def *d, const char *where, yajl_val v) {
  struct mode_config *c = p->c;
  char *base = (char *)c;
  double num = 0;
  switch (d->kind) {
  case K_IGNORED:
    return 0;
  case K_TYPE:
    return check_type(p, where, v);
  case K_NOOP:
    return check_noop(p, d, where, v);
  case K_STRING:
    if (!YAJL_IS_STRING(v))
      return failf(p, "%s: expected a string", where);
    if (strcmp(d->name, "filterQueryParam") == 0)
      return read_filter_param(p, where, YAJL_GET_STRING(v));
    {
      char **slot = (char **)(base + d->offset);
      free(*slot);
      *slot = mode_strdup(YAJL_GET_STRING(v));
      return *slot ? 0 : failf(p, "out of memory");
    }
  case K_BOOL:
    if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
      return failf(p, "%s: expected true or false", where);
    *(int *)(base + d->offset) = YAJL_IS_TRUE(v);
    return 0;
  case K_INT:
  case K_NUMBER:
    if (read_number(p, where, v, d, &num) != 0)
      return -1;
    if (strcmp(d->name, "connectTimeoutSeconds") == 0)
      c->connect_timeout_ms = (long)(num * 1000);
    else if (strcmp(d->name, "requestTimeoutSeconds") == 0)
      c->timeout_ms = (long)(num * 1000);
    else if (strcmp(d->name, "retryBudget") == 0)
      c->retry_budget = (long)num;
    else if (strcmp(d->name, "maxBodyBytes") == 0)
      c->max_body = (size_t)num;
    else if (strcmp(d->name, "maxRetries") == 0)
      c->max_attempts = (int)num + 1;
    else if (d->kind == K_INT)
      *(int *)(base + d->offset) = (int)num;
    else
      *(double *)(base + d->offset) = num;
    return 0;
  case K_FILTER:
    return YAJL_IS_NULL(v) ? 0 : read_filter(p, where, v, (struct mode_filter *)(base + d->offset));
  case K_MAP:
    return read_map(p, where, v);
  case K_LINEAGE:
    return YAJL_IS_NULL(v) ? 0 : read_lineage(p, where, v);
  case K_STRLIST:
    free_list(c->db_service_names, c->n_db_service_names);
    c->db_service_names = NULL;
    c->n_db_service_names = 0;
    return YAJL_IS_NULL(v)
               ? 0
               : read_string_list(p, where, v, &c->db_service_names, &c->n_db_service_names);
  }
  return 0;
}

static int parse_doc(struct parse_ctx *p, const char *text, size_t len, int where_bit,
                     const char *prefix) {
  char errbuf[256] = "";
  char *copy = mode_strndup(text, len);
  if (copy == NULL)
    return failf(p, "out of memory");
  yajl_val root = yajl_tree_parse(copy, errbuf, sizeof errbuf);
  free(copy);
  if (root == NULL) {
    char *nl = strchr(errbuf, '\n');
    if (nl)
      *nl = '\0';
    return failf(p, "%s: not valid JSON: %s", prefix, errbuf);
  }
  int rc = 0;
  if (!YAJL_IS_OBJECT(root)) {
    rc = failf(p, "%s: expected an object", prefix);
    goto out;
  }
  for (size_t i = 0; i < YAJL_GET_OBJECT(root)->len && rc == 0; i++) {
    const char *name = YAJL_GET_OBJECT(root)->keys[i];
    char camel[128], where[384];
    snprintf(where, sizeof where, "%s.%s", prefix, name);
    const struct key_def *d = find_key(name);
    for (size_t a = 0; d == NULL && a < sizeof aliases / sizeof aliases[0]; a++)
      if (strcmp(aliases[a].alias, name) == 0 && (d = find_key(aliases[a].name)) != NULL)
        warnf(p, "%s: accepted as '%s'; spell it '%s'", where, d->name, d->name);
    if (d == NULL && strchr(name, '_')) {
      camel_case(name, camel, sizeof camel);
      d = find_key(camel);
      if (d)
        warnf(p, "%s: snake_case key accepted; spell it '%s'", where, camel);
    }
    if (d == NULL || !(d->where & where_bit)) {
      if (where_bit == IN_SRC) {
        warnf(p, "%s: unknown key, ignored", where);
        continue;
      }
      rc = failf(p, "%s: unknown key%s", where,
                 d ? " here (it belongs in sourceConfig.config)" : "");
      break;
    }
    rc = apply_key(p, d, where, YAJL_GET_OBJECT(root)->values[i]);
  }
out:
  yajl_tree_free(root);
  return rc;
}

static void set_defaults(struct mode_config *c) {
  memset(c, 0, sizeof *c);
  c->include_owners = 1;
  c->include_data_models = 1;
  c->discovery_chart_fields = 1;
  c->mark_deleted = 1; /* OpenMetadata's default (dashboardServiceMetadataPipeline.json) */
  c->mark_deleted_models = -1;
  c->concurrency = 8;
  c->rate = 3.8;
  c->burst = 1;
  c->connect_timeout_ms = 10000;
  c->timeout_ms = 120000;
  c->low_speed_seconds = 30;
  c->request_deadline = 600;
  c->max_retry_after = 300;
  c->max_attempts = 7;
  c->retry_budget = 1000;
  c->max_body = 64u << 20;
  c->page_size = 30;
  c->max_pages = 300; /* 9,000 items a listing: an endless one stops in ~40 min */
}

/* Plain http is tolerated only to this machine: an IP literal in 127.0.0.0/8, ::1, or the name
 * localhost itself. host is as libcurl's URL parser gives it (IPv6 in brackets, IPv4 in dotted
 * decimal), so "127.0.0.1.evil.example" is a name, not an address, and is not loopback. */
static int is_loopback(const char *host) {
  unsigned char addr[16];
  char v6[64];
  size_t n = strlen(host);
  if (strcasecmp(host, "localhost") == 0)
    return 1;
  if (inet_pton(AF_INET, host, addr) == 1)
    return addr[0] == 127;
  if (n < 2 || n - 2 >= sizeof v6 || host[0] != '[' || host[n - 1] != ']')
    return 0;
  memcpy(v6, host + 1, n - 2);
  v6[n - 2] = '\0';
  return inet_pton(AF_INET6, v6, addr) == 1 && memcmp(addr, &in6addr_loopback, 16) == 0;
}

/* Whether the URL carries a user name or password (scheme://user:password@host). */
static int has_userinfo(CURLU *u) {
  char *user = NULL, *password = NULL;
  curl_url_get(u, CURLUPART_USER, &user, 0);
  curl_url_get(u, CURLUPART_PASSWORD, &password, 0);
  int found = user != NULL || password != NULL;
  curl_free(user);
  curl_free(password);
  return found;
}

/* Checks hostPort: an absolute http(s) URL without credentials in it; http only to loopback
 * unless allowed. The URL is parsed by libcurl, the parser that will use it, never matched by
 * prefix. Error messages never echo a URL that may hold a password. */
static int check_host(struct parse_ctx *p) {
  struct mode_config *c = p->c;
  int rc = -1;
  char *scheme = NULL, *host = NULL;
  CURLU *u = curl_url();
  if (u == NULL)
    return failf(p, "out of memory");
  if (curl_url_set(u, CURLUPART_URL, c->host, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
    failf(p, CONN ".hostPort: '%s' is not a URL (expected like https://app.mode.com)",
          strchr(c->host, '@') ? "***" : c->host);
    goto out;
  }
  /* Whatever is in hostPort is copied into the service description and every sourceUrl. */
  if (has_userinfo(u)) {
    failf(p,
          CONN ".hostPort: must not contain a user name or password (***@%s); put the API token "
               "in accessToken and its secret in accessTokenPassword",
          host);
    goto out;
  }
  if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
    failf(p, CONN ".hostPort: scheme '%s' is not http or https", scheme);
    goto out;
  }
  if (strcmp(scheme, "http") == 0 && !is_loopback(host) && !c->allow_insecure_http) {
    failf(p,
          CONN ".hostPort: plain http to %s would send the access token in clear; use https "
               "or set allowInsecureHttp: true",
          host);
    goto out;
  }
  size_t n = strlen(c->host);
  while (n > 0 && c->host[n - 1] == '/')
    c->host[--n] = '\0';
  rc = 0;
out:
  curl_free(scheme);
  curl_free(host);
  curl_url_cleanup(u);
  return rc;
}

static int check_required(struct parse_ctx *p) {
  struct mode_config *c = p->c;
  if (c->token == NULL || *c->token == '\0')
    return failf(p, CONN ".accessToken: required (the Mode API token)");
  if (c->secret == NULL || *c->secret == '\0')
    return failf(p, CONN ".accessTokenPassword: required (the Mode API token's secret)");
  if (c->workspace == NULL || *c->workspace == '\0')
    return failf(p, CONN ".workspaceName: required (the workspace as in app.mode.com/<name>)");
  for (const char *s = c->workspace; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
      return failf(p, CONN ".workspaceName: '%s' is not a Mode workspace name", c->workspace);
  int n_disc = (c->discovery_token && *c->discovery_token) +
               (c->discovery_key && *c->discovery_key) +
               (c->discovery_secret && *c->discovery_secret);
  if (n_disc != 0 && n_disc != 3)
    return failf(p, CONN ".%s: required with the other Discovery API keys (discoveryToken, "
                      "discoveryAccessKey and discoveryAccessSecret go together)",
                 !(c->discovery_token && *c->discovery_token)  ? "discoveryToken"
                 : !(c->discovery_key && *c->discovery_key) ? "discoveryAccessKey"
                                                              : "discoveryAccessSecret");
  if (n_disc == 3 && c->discovery_mint)
    return failf(p, CONN ".discoveryMintToken: set it or the three Discovery API keys, not both");
  if (c->host == NULL && (c->host = strdup("https://app.mode.com")) == NULL)
    return failf(p, "out of memory");
  return check_host(p);
}

int mode_config_parse(const char *conn, size_t conn_len, const char *src, size_t src_len,
                      struct mode_config *out, mode_config_warn_fn warn, void *warn_ctx, char *err,
                      size_t errlen) {
  struct parse_ctx p = {out, warn, warn_ctx, err, errlen};
  set_defaults(out);
  if (conn == NULL) {
    failf(&p, CONN ": missing");
    goto fail;
  }
  if (parse_doc(&p, conn, conn_len, IN_CONN, CONN) != 0)
    goto fail;
  if (src != NULL && src_len > 0 && parse_doc(&p, src, src_len, IN_SRC, SRC) != 0)
    goto fail;
  /* The sinks sweep data models with dashboards: a different wish cannot be honoured. */
  if (out->mark_deleted_models >= 0 && out->mark_deleted_models != out->mark_deleted)
    warnf(&p,
          SRC ".markDeletedDataModels: does nothing for Mode: data models are marked deleted "
              "together with dashboards, as markDeletedDashboards says (%s)",
          out->mark_deleted ? "true" : "false");
  if (check_required(&p) != 0)
    goto fail;
  return 0;
fail:
  mode_config_free(out);
  return -1;
}

const char *mode_config_mapped_service(const struct mode_config *c, const char *ds_name,
                                       const char *ds_token, const char *ds_id) {
  const char *keys_in_order[3] = {ds_name, ds_token, ds_id};
  for (int k = 0; k < 3; k++) {
    if (keys_in_order[k] == NULL)
      continue;
    for (size_t i = 0; i < c->n_ds_map; i++)
      if (strcmp(c->ds_map_keys[i], keys_in_order[k]) == 0)
        return c->ds_map_values[i];
  }
  return NULL;
}

void mode_config_free(struct mode_config *c) {
  if (c == NULL)
    return;
  free(c->host);
  free(c->token);
  if (c->secret) {
    memset(c->secret, 0, strlen(c->secret));
    free(c->secret);
  }
  free(c->workspace);
  char *disc[3] = {c->discovery_token, c->discovery_key, c->discovery_secret};
  for (int i = 0; i < 3; i++)
    if (disc[i]) {
      memset(disc[i], 0, strlen(disc[i]));
      free(disc[i]);
    }
  free(c->ca_bundle);
  mode_filter_free(&c->dashboards);
  mode_filter_free(&c->charts);
  mode_filter_free(&c->data_models);
  mode_filter_free(&c->projects);
  free_list(c->db_service_prefixes, c->n_db_service_prefixes);
  free_list(c->db_service_names, c->n_db_service_names);
  free_list(c->ds_map_keys, c->n_ds_map);
  free_list(c->ds_map_values, c->n_ds_map);
  memset(c, 0, sizeof *c);
}

const char mode_config_schema[] =
    "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"title\":\"ModeConnection\","
    "\"description\":\"Mode connection (OpenMetadata modeConnection plus etlhost settings)\","
    "\"type\":\"object\",\"required\":[\"accessToken\",\"accessTokenPassword\","
    "\"workspaceName\"],\"properties\":{"
    "\"type\":{\"type\":\"string\",\"enum\":[\"Mode\"]},"
    "\"hostPort\":{\"type\":\"string\",\"format\":\"uri\",\"default\":\"https://app.mode.com\"},"
    "\"accessToken\":{\"type\":\"string\"},"
    "\"accessTokenPassword\":{\"type\":\"string\",\"format\":\"password\"},"
    "\"discoveryToken\":{\"type\":\"string\"},"
    "\"discoveryAccessKey\":{\"type\":\"string\",\"format\":\"password\"},"
    "\"discoveryAccessSecret\":{\"type\":\"string\",\"format\":\"password\"},"
    "\"discoveryMintToken\":{\"type\":\"boolean\"},"
    "\"discoveryChartFields\":{\"type\":\"boolean\",\"default\":true},"
    "\"workspaceName\":{\"type\":\"string\"},"
    "\"filterQueryParam\":{\"type\":\"string\",\"enum\":[\"all\",\"custom\",\"filter=all\","
    "\"filter=custom\"],\"default\":\"all\"},"
    "\"dashboardFilterPattern\":{\"$ref\":\"#/definitions/filterPattern\"},"
    "\"chartFilterPattern\":{\"$ref\":\"#/definitions/filterPattern\"},"
    "\"dataModelFilterPattern\":{\"$ref\":\"#/definitions/filterPattern\"},"
    "\"projectFilterPattern\":{\"$ref\":\"#/definitions/filterPattern\"},"
    "\"supportsMetadataExtraction\":{\"type\":\"boolean\"},"
    "\"excludeArchivedReports\":{\"type\":\"boolean\",\"default\":false},"
    "\"incremental\":{\"type\":\"boolean\",\"default\":false},"
    "\"excludePersonalCollections\":{\"type\":\"boolean\",\"default\":false},"
    "\"excludeRestrictedCollections\":{\"type\":\"boolean\",\"default\":false},"
    "\"dataSourceServiceMap\":{\"type\":\"object\",\"additionalProperties\":{\"type\":"
    "\"string\"}},"
    "\"allowInsecureHttp\":{\"type\":\"boolean\",\"default\":false},"
    "\"caBundle\":{\"type\":\"string\"},"
    "\"concurrency\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":256,\"default\":8},"
    "\"requestsPerSecond\":{\"type\":\"number\",\"minimum\":0,\"default\":3.8},"
    "\"rateBurst\":{\"type\":\"number\",\"minimum\":1,\"default\":1},"
    "\"connectTimeoutSeconds\":{\"type\":\"number\",\"default\":10},"
    "\"requestTimeoutSeconds\":{\"type\":\"number\",\"default\":120},"
    "\"lowSpeedSeconds\":{\"type\":\"integer\",\"minimum\":1,\"default\":30},"
    "\"requestDeadlineSeconds\":{\"type\":\"number\",\"minimum\":1,\"default\":600},"
    "\"maxRetryAfterSeconds\":{\"type\":\"number\",\"minimum\":1,\"default\":300},"
    "\"maxRetries\":{\"type\":\"integer\",\"minimum\":0,\"default\":6},"
    "\"retryBudget\":{\"type\":\"integer\",\"minimum\":0,\"default\":1000},"
    "\"maxBodyBytes\":{\"type\":\"integer\",\"minimum\":1024,\"default\":67108864},"
    "\"pageSize\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":1000,\"default\":30},"
    "\"maxPages\":{\"type\":\"integer\",\"minimum\":1,\"default\":300}},"
    "\"additionalProperties\":false,\"definitions\":{\"filterPattern\":{\"type\":\"object\","
    "\"properties\":{\"includes\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
    "\"excludes\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}},"
    "\"additionalProperties\":false}}}";

void mode_config_fetch_opts(const struct mode_config *cfg, const atomic_int *interrupt,
                            struct mode_fetch_opts *fo) {
  *fo = (struct mode_fetch_opts){.http = {.username = cfg->token,
                                          .password = cfg->secret,
                                          .ca_bundle = cfg->ca_bundle,
                                          .connect_timeout_ms = cfg->connect_timeout_ms,
                                          .timeout_ms = cfg->timeout_ms,
                                          .low_speed_seconds = cfg->low_speed_seconds,
                                          .max_host_connections = cfg->concurrency,
                                          .max_body = cfg->max_body,
                                          .interrupt = interrupt},
                                 .rate = cfg->rate,
                                 .burst = cfg->burst,
                                 .concurrency = cfg->concurrency,
                                 .retry = {.max_attempts = cfg->max_attempts,
                                           .base = 0.5,
                                           .cap = 30,
                                           .budget = cfg->retry_budget,
                                           .max_server_delay = cfg->max_retry_after,
                                           .deadline = cfg->request_deadline},
                                 .max_value = cfg->max_body};
}
