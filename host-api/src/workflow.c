/*
 * workflow.c -- the workflow file (see workflow.h).
 *
 * libyaml's document loader builds the node graph (it resolves anchors and aliases for us); we
 * copy it into our own small tree so that every node keeps its line and every scalar carries its
 * substituted value. Validation then walks a fixed description of OpenMetadata's workflow shape.
 * Values are never echoed in messages: any of them may be a secret.
 */
#include "config.h"

#include "workflow.h"

#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define CONFIG_MAX_DEPTH 64
#define CONFIG_MAX_BYTES (16 * 1024 * 1024)

/* ---- the tree ----------------------------------------------------------------------------- */

void host_node_free(struct host_node *node) {
  if (!node)
    return;
  for (size_t i = 0; i < node->n; i++) {
    if (node->keys)
      free(node->keys[i]);
    host_node_free(node->kids[i]);
  }
  free(node->keys);
  free(node->kids);
  free(node->scalar);
  free(node);
}

const struct host_node *host_node_get(const struct host_node *map, const char *key) {
  if (!map || map->type != HOST_NODE_MAP)
    return NULL;
  for (size_t i = 0; i < map->n; i++)
    if (strcmp(map->keys[i], key) == 0)
      return map->kids[i];
  return NULL;
}

int host_source_line(const struct host_source_cfg *src, const char *relpath) {
  const struct host_node *node = src ? src->node : NULL;
  if (!node)
    return 0;
  int line = node->line;
  const char *p = relpath;
  while (*p && node) {
    char key[256];
    size_t n = strcspn(p, ".[");
    if (n >= sizeof key)
      break;
    memcpy(key, p, n);
    key[n] = '\0';
    p += n;
    if (n > 0 && !(node = host_node_get(node, key)))
      break;
    if (n > 0)
      line = node->line;
    while (node && *p == '[') { /* one or more [index] */
      char *end = NULL;
      unsigned long i = strtoul(p + 1, &end, 10);
      if (!end || *end != ']' || node->type != HOST_NODE_SEQ || i >= node->n) {
        node = NULL;
        break;
      }
      node = node->kids[i];
      line = node->line;
      p = end + 1;
    }
    if (*p == '.')
      p++;
    else if (*p)
      break;
  }
  return line;
}

/* Context of one conversion: where messages go and what they are prefixed with. */
struct yaml_ctx {
  const char *name; /* file name for messages */
  struct host_log *log;
  yaml_document_t *doc;
};

static void config_error(struct host_log *log, const char *file, int line, const char *keypath,
                         const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* "file:line: error: key.path: message", the shape compilers use, so editors can jump to it. */
static void config_error(struct host_log *log, const char *file, int line, const char *keypath,
                         const char *fmt, ...) {
  char where[4096];
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (line > 0)
    snprintf(where, sizeof where, "%s:%d", file, line);
  else
    snprintf(where, sizeof where, "%s", file);
  host_log_msg(log, ETL_SEV_ERROR, where, keypath && *keypath ? keypath : NULL, "%s", msg);
}

static int is_name_char(char c, int first) {
  return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (!first && c >= '0' && c <= '9');
}

/* Substitutes ${VAR} and ${VAR:-default} in `in` ($${ stays a literal ${). Returns a malloc'd
 * string, or NULL after logging what is wrong. */
static char *substitute_env(const struct yaml_ctx *ctx, int line, const char *keypath,
                            const char *in) {
  char *buf = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&buf, &size);
  if (!out)
    return NULL;
  const char *p = in;
  while (*p) {
    if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
      fputs("${", out);
      p += 3;
      continue;
    }
    if (!(p[0] == '$' && p[1] == '{')) {
      fputc(*p++, out);
      continue;
    }
    const char *name = p + 2;
    const char *end = strchr(name, '}');
    size_t name_len = 0;
    while (is_name_char(name[name_len], name_len == 0))
      name_len++;
    if (!end || name_len == 0 ||
        (name + name_len != end && strncmp(name + name_len, ":-", 2) != 0)) {
      config_error(ctx->log, ctx->name, line, keypath,
                   "malformed ${...}: write ${NAME} or ${NAME:-default}");
      goto fail;
    }
    char var[256];
    if (name_len >= sizeof var) {
      config_error(ctx->log, ctx->name, line, keypath, "environment variable name too long");
      goto fail;
    }
    memcpy(var, name, name_len);
    var[name_len] = '\0';
    const char *value = getenv(var);
    int has_default = name + name_len != end;
    if (has_default && (!value || !*value)) {
      const char *def = name + name_len + 2;
      fwrite(def, 1, (size_t)(end - def), out);
    } else if (value) {
      fputs(value, out);
    } else {
      config_error(ctx->log, ctx->name, line, keypath,
                   "environment variable %s is not set (use ${%s:-default} for a default)", var,
                   var);
      goto fail;
    }
    p = end + 1;
  }
  if (fclose(out) != 0) {
    free(buf);
    return NULL;
  }
  return buf;
fail:
  fclose(out);
  free(buf);
  return NULL;
}

static char *join_path(const char *base, const char *key) {
  char *out = NULL;
  if (asprintf(&out, "%s%s%s", base, *base ? "." : "", key) < 0)
    return NULL;
  return out;
}

static char *index_path(const char *base, size_t i) {
  char *out = NULL;
  if (asprintf(&out, "%s[%zu]", base, i) < 0)
    return NULL;
  return out;
}

static struct host_node *convert(const struct yaml_ctx *ctx, yaml_node_t *yn, const char *keypath,
                                 int depth);

static int convert_map(const struct yaml_ctx *ctx, yaml_node_t *yn, const char *keypath, int depth,
                       struct host_node *node) {
  size_t n = (size_t)(yn->data.mapping.pairs.top - yn->data.mapping.pairs.start);
  node->keys = calloc(n ? n : 1, sizeof *node->keys);
  node->kids = calloc(n ? n : 1, sizeof *node->kids);
  if (!node->keys || !node->kids)
    return -1;
  for (yaml_node_pair_t *pair = yn->data.mapping.pairs.start; pair < yn->data.mapping.pairs.top;
       pair++) {
    yaml_node_t *k = yaml_document_get_node(ctx->doc, pair->key);
    yaml_node_t *v = yaml_document_get_node(ctx->doc, pair->value);
    int kline = k ? (int)k->start_mark.line + 1 : 0;
    if (!k || k->type != YAML_SCALAR_NODE || !v) {
      config_error(ctx->log, ctx->name, kline, keypath, "keys must be plain strings");
      return -1;
    }
    const char *key = (const char *)k->data.scalar.value;
    if (host_node_get(node, key)) {
      config_error(ctx->log, ctx->name, kline, keypath, "duplicate key `%s`", key);
      return -1;
    }
    char *sub = join_path(keypath, key);
    if (!sub)
      return -1;
    struct host_node *kid = convert(ctx, v, sub, depth + 1);
    free(sub);
    if (!kid)
      return -1;
    node->keys[node->n] = strdup(key);
    node->kids[node->n] = kid;
    node->n++;
    if (!node->keys[node->n - 1])
      return -1;
  }
  return 0;
}

static int convert_seq(const struct yaml_ctx *ctx, yaml_node_t *yn, const char *keypath, int depth,
                       struct host_node *node) {
  size_t n = (size_t)(yn->data.sequence.items.top - yn->data.sequence.items.start);
  node->kids = calloc(n ? n : 1, sizeof *node->kids);
  if (!node->kids)
    return -1;
  for (yaml_node_item_t *it = yn->data.sequence.items.start; it < yn->data.sequence.items.top;
       it++) {
    char *sub = index_path(keypath, node->n);
    if (!sub)
      return -1;
    struct host_node *kid = convert(ctx, yaml_document_get_node(ctx->doc, *it), sub, depth + 1);
    free(sub);
    if (!kid)
      return -1;
    node->kids[node->n++] = kid;
  }
  return 0;
}

/* Copies a libyaml node (and what it contains) into a host_node, substituting scalars. */
static struct host_node *convert(const struct yaml_ctx *ctx, yaml_node_t *yn, const char *keypath,
                                 int depth) {
  if (!yn)
    return NULL;
  int line = (int)yn->start_mark.line + 1;
  if (depth > CONFIG_MAX_DEPTH) {
    config_error(ctx->log, ctx->name, line, keypath, "nested deeper than %d levels",
                 CONFIG_MAX_DEPTH);
    return NULL;
  }
  struct host_node *node = calloc(1, sizeof *node);
  if (!node)
    return NULL;
  node->line = line;
  int rc = 0;
  switch (yn->type) {
  case YAML_SCALAR_NODE:
    node->type = HOST_NODE_SCALAR;
    node->plain = yn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    node->scalar = substitute_env(ctx, line, keypath, (const char *)yn->data.scalar.value);
    rc = node->scalar ? 0 : -1;
    break;
  case YAML_MAPPING_NODE:
    node->type = HOST_NODE_MAP;
    rc = convert_map(ctx, yn, keypath, depth, node);
    break;
  case YAML_SEQUENCE_NODE:
    node->type = HOST_NODE_SEQ;
    rc = convert_seq(ctx, yn, keypath, depth, node);
    break;
  default:
    rc = -1;
  }
  if (rc != 0) {
    host_node_free(node);
    return NULL;
  }
  return node;
}

int host_yaml_parse(const char *name, const char *text, size_t len, struct host_log *log,
                    struct host_node **out) {
  *out = NULL;
  yaml_parser_t parser;
  yaml_document_t doc;
  int rc = -1;
  if (!yaml_parser_initialize(&parser))
    return -1;
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  if (!yaml_parser_load(&parser, &doc)) {
    config_error(log, name, (int)parser.problem_mark.line + 1, NULL, "invalid YAML: %s%s%s",
                 parser.problem ? parser.problem : "parse error", parser.context ? " " : "",
                 parser.context ? parser.context : "");
    goto out_parser;
  }
  yaml_node_t *root = yaml_document_get_root_node(&doc);
  if (!root) {
    config_error(log, name, 0, NULL, "the file is empty");
    goto out_doc;
  }
  struct yaml_ctx ctx = {.name = name, .log = log, .doc = &doc};
  *out = convert(&ctx, root, "", 0);
  rc = *out ? 0 : -1;
out_doc:
  yaml_document_delete(&doc);
out_parser:
  yaml_parser_delete(&parser);
  return rc;
}

/* ---- secrets ------------------------------------------------------------------------------ */

static int key_looks_secret(const char *key) {
  static const char *const words[] = {"token", "password", "secret", "jwt", "key"};
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
    if (strcasestr(key, words[i]))
      return 1;
  return 0;
}

/* Registers every scalar under a secret-looking key (and anything nested beneath one). */
static void register_secrets(const struct host_node *node, int under_secret, struct host_log *log) {
  if (!node)
    return;
  if (node->type == HOST_NODE_SCALAR) {
    if (under_secret)
      host_log_add_secret(log, node->scalar);
    return;
  }
  for (size_t i = 0; i < node->n; i++) {
    int secret = under_secret || (node->keys && key_looks_secret(node->keys[i]));
    register_secrets(node->kids[i], secret, log);
  }
}

/* ---- validation of the workflow shape ----------------------------------------------------- */

struct check_ctx {
  const char *file;
  struct host_log *log;
  int errors;
};

static const char *type_word(enum host_node_type t) {
  switch (t) {
  case HOST_NODE_MAP:
    return "a mapping";
  case HOST_NODE_SEQ:
    return "a list";
  default:
    return "a string";
  }
}

/* True when node has type t; otherwise reports "expected ..." and counts an error. */
static int expect_type(struct check_ctx *c, const struct host_node *node, const char *keypath,
                       enum host_node_type t) {
  if (node->type == t)
    return 1;
  config_error(c->log, c->file, node->line, keypath, "expected %s, found %s", type_word(t),
               type_word(node->type));
  c->errors++;
  return 0;
}

/* Reports every key of map that is not in `allowed` (NULL-terminated). */
static void reject_unknown_keys(struct check_ctx *c, const struct host_node *map,
                                const char *keypath, const char *const allowed[]) {
  for (size_t i = 0; i < map->n; i++) {
    int known = 0;
    for (size_t a = 0; allowed[a] && !known; a++)
      known = strcmp(map->keys[i], allowed[a]) == 0;
    if (known)
      continue;
    char *sub = join_path(keypath, map->keys[i]);
    char list[512] = "";
    for (size_t a = 0; allowed[a]; a++) {
      strncat(list, a ? ", " : "", sizeof list - strlen(list) - 1);
      strncat(list, allowed[a], sizeof list - strlen(list) - 1);
    }
    config_error(c->log, c->file, map->kids[i]->line, sub ? sub : keypath,
                 "unknown key (expected one of: %s)", list);
    free(sub);
    c->errors++;
  }
}

/* The value of a required key of map, checked for type t; NULL (after reporting) if missing
 * or of the wrong type. */
static const struct host_node *require(struct check_ctx *c, const struct host_node *map,
                                       const char *keypath, const char *key,
                                       enum host_node_type t) {
  char *sub = join_path(keypath, key);
  const struct host_node *v = host_node_get(map, key);
  if (!v) {
    config_error(c->log, c->file, map->line, sub ? sub : key, "required key is missing");
    c->errors++;
  } else if (!expect_type(c, v, sub ? sub : key, t)) {
    v = NULL;
  } else if (t == HOST_NODE_SCALAR && !*v->scalar) {
    config_error(c->log, c->file, v->line, sub ? sub : key, "must not be empty");
    c->errors++;
    v = NULL;
  }
  free(sub);
  return v;
}

/* Like require() for a key that may be absent. */
static const struct host_node *optional(struct check_ctx *c, const struct host_node *map,
                                        const char *keypath, const char *key,
                                        enum host_node_type t) {
  if (!host_node_get(map, key))
    return NULL;
  return require(c, map, keypath, key, t);
}

static void check_source(struct check_ctx *c, const struct host_node *node, const char *keypath,
                         struct host_source_cfg *out) {
  static const char *const source_keys[] = {"type", "serviceName", "serviceConnection",
                                            "sourceConfig", NULL};
  static const char *const config_only[] = {"config", NULL};
  if (!expect_type(c, node, keypath, HOST_NODE_MAP))
    return;
  out->line = node->line;
  out->node = node;
  out->file = c->file;
  snprintf(out->keypath, sizeof out->keypath, "%s", keypath);
  reject_unknown_keys(c, node, keypath, source_keys);
  const struct host_node *type = require(c, node, keypath, "type", HOST_NODE_SCALAR);
  const struct host_node *name = require(c, node, keypath, "serviceName", HOST_NODE_SCALAR);
  out->type = type ? type->scalar : NULL;
  out->name = name ? name->scalar : NULL;

  char *conn_path = join_path(keypath, "serviceConnection");
  const struct host_node *conn = require(c, node, keypath, "serviceConnection", HOST_NODE_MAP);
  if (conn && conn_path) {
    reject_unknown_keys(c, conn, conn_path, config_only);
    out->connection = require(c, conn, conn_path, "config", HOST_NODE_MAP);
  }
  free(conn_path);

  char *sc_path = join_path(keypath, "sourceConfig");
  const struct host_node *sc = optional(c, node, keypath, "sourceConfig", HOST_NODE_MAP);
  if (sc && sc_path) {
    reject_unknown_keys(c, sc, sc_path, config_only);
    out->source_config = optional(c, sc, sc_path, "config", HOST_NODE_MAP);
  }
  free(sc_path);
}

static void check_sink(struct check_ctx *c, const struct host_node *sink,
                       struct host_workflow *wf) {
  static const char *const sink_keys[] = {"type", "config", NULL};
  if (!expect_type(c, sink, "sink", HOST_NODE_MAP))
    return;
  reject_unknown_keys(c, sink, "sink", sink_keys);
  const struct host_node *type = require(c, sink, "sink", "type", HOST_NODE_SCALAR);
  if (type)
    wf->sink_type = type->scalar;
  wf->sink_config = optional(c, sink, "sink", "config", HOST_NODE_MAP);
}

/* workflowConfig.failSafeThreshold: the largest share (percent, above 0, at most 100) of a
 * source's entities one run may mark deleted (sink.h). */
static void check_fail_safe(struct check_ctx *c, const struct host_node *wc,
                            struct host_workflow *wf) {
  const struct host_node *n =
      optional(c, wc, "workflowConfig", "failSafeThreshold", HOST_NODE_SCALAR);
  if (!n)
    return;
  char *end = NULL;
  double v = strtod(n->scalar, &end);
  if (end == n->scalar || *end != '\0' || !(v > 0 && v <= 100)) {
    config_error(c->log, c->file, n->line, "workflowConfig.failSafeThreshold",
                 "expected a percentage above 0 and at most 100 (the default is 20)");
    c->errors++;
    return;
  }
  wf->fail_safe_threshold = v;
}

static void check_workflow_config(struct check_ctx *c, const struct host_node *wc,
                                  struct host_workflow *wf) {
  /* openMetadataServerConfig, raiseOnError and successThreshold are OpenMetadata's own keys:
   * accepted so a user's existing file works; the metadata-rest sink reads the first. */
  static const char *const wc_keys[] = {
      "loggerLevel",      "openMetadataServerConfig", "stateStore", "raiseOnError",
      "successThreshold", "failSafeThreshold",        NULL};
  static const char *const levels[] = {"DEBUG", "INFO", "WARN", "WARNING", "ERROR", NULL};
  if (!expect_type(c, wc, "workflowConfig", HOST_NODE_MAP))
    return;
  wf->workflow_config = wc;
  reject_unknown_keys(c, wc, "workflowConfig", wc_keys);
  optional(c, wc, "workflowConfig", "openMetadataServerConfig", HOST_NODE_MAP);
  const struct host_node *store = optional(c, wc, "workflowConfig", "stateStore", HOST_NODE_SCALAR);
  if (store)
    wf->state_store = store->scalar;
  check_fail_safe(c, wc, wf);
  const struct host_node *level =
      optional(c, wc, "workflowConfig", "loggerLevel", HOST_NODE_SCALAR);
  if (!level)
    return;
  for (size_t i = 0; levels[i]; i++)
    if (strcasecmp(level->scalar, levels[i]) == 0) {
      wf->logger_level = level->scalar;
      return;
    }
  config_error(c->log, c->file, level->line, "workflowConfig.loggerLevel",
               "expected DEBUG, INFO, WARN or ERROR");
  c->errors++;
}

static void check_sources(struct check_ctx *c, struct host_workflow *wf) {
  const struct host_node *one = host_node_get(wf->root, "source");
  const struct host_node *many = host_node_get(wf->root, "sources");
  if (one && many) {
    config_error(c->log, c->file, many->line, "sources",
                 "give either `source` or `sources`, not both");
    c->errors++;
    return;
  }
  if (!one && !many) {
    config_error(c->log, c->file, wf->root->line, "source",
                 "required key is missing (or give a `sources` list)");
    c->errors++;
    return;
  }
  if (many && !expect_type(c, many, "sources", HOST_NODE_SEQ))
    return;
  if (many && many->n == 0) {
    config_error(c->log, c->file, many->line, "sources", "the list is empty");
    c->errors++;
    return;
  }
  size_t n = one ? 1 : many->n;
  wf->sources = calloc(n, sizeof *wf->sources);
  if (!wf->sources) {
    c->errors++;
    return;
  }
  wf->n_sources = n;
  for (size_t i = 0; i < n; i++) {
    char *kp = one ? strdup("source") : index_path("sources", i);
    if (!kp) {
      c->errors++;
      return;
    }
    check_source(c, one ? one : many->kids[i], kp, &wf->sources[i]);
    /* State is kept per serviceName: two sources with one name would overwrite each other. */
    for (size_t j = 0; j < i && wf->sources[i].name; j++)
      if (wf->sources[j].name && strcmp(wf->sources[j].name, wf->sources[i].name) == 0) {
        char *np = join_path(kp, "serviceName");
        config_error(c->log, c->file, wf->sources[i].line, np ? np : kp,
                     "serviceName `%s` is already used by sources[%zu]", wf->sources[i].name, j);
        free(np);
        c->errors++;
      }
    free(kp);
  }
}

static void check_workflow(struct check_ctx *c, struct host_workflow *wf) {
  /* ingestionPipelineFQN and pipelineRunId are added by OpenMetadata's own scheduler. */
  static const char *const top_keys[] = {
      "source", "sources", "sink", "workflowConfig", "ingestionPipelineFQN", "pipelineRunId", NULL};
  if (!expect_type(c, wf->root, "", HOST_NODE_MAP))
    return;
  reject_unknown_keys(c, wf->root, "", top_keys);
  check_sources(c, wf);
  const struct host_node *sink = host_node_get(wf->root, "sink");
  if (sink)
    check_sink(c, sink, wf);
  const struct host_node *wc = host_node_get(wf->root, "workflowConfig");
  if (wc)
    check_workflow_config(c, wc, wf);
}

/* ---- loading ------------------------------------------------------------------------------ */

static char *read_config_file(const char *path, struct host_log *log, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    host_log_msg(log, ETL_SEV_ERROR, path, NULL, "cannot open: %s", strerror(errno));
    return NULL;
  }
  char *buf = malloc(CONFIG_MAX_BYTES + 1);
  size_t n = buf ? fread(buf, 1, CONFIG_MAX_BYTES + 1, f) : 0;
  int bad = !buf || ferror(f);
  fclose(f);
  if (bad) {
    host_log_msg(log, ETL_SEV_ERROR, path, NULL, "cannot read the file");
    free(buf);
    return NULL;
  }
  if (n > CONFIG_MAX_BYTES) {
    host_log_msg(log, ETL_SEV_ERROR, path, NULL, "larger than %d bytes", CONFIG_MAX_BYTES);
    free(buf);
    return NULL;
  }
  buf[n] = '\0';
  *len = n;
  return buf;
}

int host_workflow_load(const char *path, struct host_log *log, struct host_workflow **out) {
  *out = NULL;
  size_t len = 0;
  char *text = read_config_file(path, log, &len);
  if (!text)
    return -1;
  struct host_workflow *wf = calloc(1, sizeof *wf);
  if (!wf || !(wf->path = strdup(path)))
    goto fail;
  if (host_yaml_parse(path, text, len, log, &wf->root) != 0)
    goto fail;
  register_secrets(wf->root, 0, log);
  wf->sink_type = "sqlite";
  wf->state_store = HOST_DEFAULT_STATE_STORE;
  struct check_ctx c = {.file = path, .log = log};
  check_workflow(&c, wf);
  if (c.errors)
    goto fail;
  free(text);
  *out = wf;
  return 0;
fail:
  free(text);
  host_workflow_free(&wf);
  return -1;
}

void host_workflow_free(struct host_workflow **wfp) {
  if (!wfp || !*wfp)
    return;
  struct host_workflow *wf = *wfp;
  host_node_free(wf->root);
  free(wf->sources);
  free(wf->path);
  free(wf);
  *wfp = NULL;
}
