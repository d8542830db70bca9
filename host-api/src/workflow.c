/*
 * workflow.c -- the workflow file (see workflow.h).
 *
 * The tree is built from libyaml's event stream (yaml_parser_parse), not its document loader:
 * the limits on depth, nodes and aliases (an alias is a copy of its anchor's subtree) are
 * checked as each event arrives, so an alias bomb or a deep nest is refused after a few events
 * instead of after the loader has built it. Every node keeps its line and every scalar carries
 * its substituted value. Validation then walks a fixed description of OpenMetadata's workflow
 * shape.
 * Values are never echoed in messages: any of them may be a secret.
 */
#include "config.h"

#include "workflow.h"

#include "cnum.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

/* Limits of a workflow file, checked while it is read, so that a hostile file is refused
 * before it costs anything: a 600-byte alias bomb would otherwise expand to a billion nodes. */
#define CONFIG_MAX_BYTES (16 * 1024 * 1024)
#define CONFIG_MAX_DEPTH 64          /* levels of nesting, aliases expanded */
#define CONFIG_MAX_NODES 100000      /* nodes and keys, aliases expanded */
#define CONFIG_MAX_ALIASES 1000      /* alias uses (*name) */
#define CONFIG_MAX_ALIAS_NODES 10000 /* nodes and keys that all alias uses copy together */

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

/* A collection being read: its node (owned by the frame until its end event attaches it to its
 * parent), its key path, and, in a mapping, the key waiting for its value. */
struct yaml_frame {
  struct host_node *node; /* owned until attached */
  char *keypath;          /* owned */
  char *anchor;           /* owned: the collection's &name, registered at its end, or NULL */
  size_t cap;             /* slots allocated in node->kids (and node->keys) */
  size_t size;            /* nodes in the subtree so far, itself and its keys included */
  int height;             /* levels below the node so far */
  char *key;              /* MAP: the key read, waiting for its value (owned), or NULL */
};

/* An &anchor and the node it names. The node belongs to the tree, except for an anchored
 * mapping key, which is no node of the tree: the anchor then owns a scalar node of its own. */
struct yaml_anchor {
  char *name;             /* owned */
  struct host_node *node; /* borrowed from the tree, or owned when `owned` */
  bool owned;
  size_t size; /* nodes in node's subtree: what an alias of it costs */
  int height;  /* levels below node: an alias of it nests that much deeper */
};

/* Names seen, for lookups in constant time: every mapping's keys (owner: the mapping) and the
 * anchors (owner: the table itself). A linear search would make a mapping of 50000 keys cost
 * over a billion comparisons. Open addressing; the names are borrowed from the tree and the
 * anchors, which outlive the table. */
struct name_slot {
  const void *owner; /* NULL: the slot is free */
  const char *name;
  size_t value; /* for an anchor: its index in yaml_ctx.anchors */
};

struct name_table {
  struct name_slot *slots; /* owned array of cap (a power of two) */
  size_t cap, used;
};

/* Context of one read: where messages go, the open collections, the anchors seen, and the
 * counts the limits are checked against. */
struct yaml_ctx {
  const char *name; /* file name for messages */
  struct host_log *log;
  struct yaml_frame stack[CONFIG_MAX_DEPTH + 1]; /* stack[0] is the root collection */
  int depth;                                     /* frames in use */
  struct yaml_anchor *anchors;                   /* owned array */
  size_t n_anchors, cap_anchors;
  struct name_table names; /* keys of every mapping, and the anchors by name */
  size_t nodes;            /* every node and key so far, aliases expanded */
  size_t aliases;          /* alias uses */
  size_t alias_nodes;      /* nodes copied by alias uses */
  int documents;           /* documents started */
  struct host_node *root;  /* owned: the document's node once read */
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

static size_t name_hash(const void *owner, const char *name) {
  size_t h = (size_t)14695981039346656037ULL ^ (size_t)(uintptr_t)owner;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++)
    h = (h ^ *p) * (size_t)1099511628211ULL;
  return h;
}

/* The slot of (owner, name), or the free slot where it would go. The table is never full. */
static struct name_slot *name_slot(const struct name_table *t, const void *owner,
                                   const char *name) {
  size_t i = name_hash(owner, name) & (t->cap - 1);
  while (t->slots[i].owner && (t->slots[i].owner != owner || strcmp(t->slots[i].name, name) != 0))
    i = (i + 1) & (t->cap - 1);
  return &t->slots[i];
}

static const struct name_slot *name_find(const struct name_table *t, const void *owner,
                                         const char *name) {
  if (t->cap == 0)
    return NULL;
  const struct name_slot *slot = name_slot(t, owner, name);
  return slot->owner ? slot : NULL;
}

/* Adds (owner, name) with value, or gives an existing one the new value and name. */
static int name_put(struct name_table *t, const void *owner, const char *name, size_t value) {
  if (2 * (t->used + 1) > t->cap) { /* at most half full, so probes stay short */
    struct name_table bigger = {.cap = t->cap ? 2 * t->cap : 64};
    if (!(bigger.slots = calloc(bigger.cap, sizeof *bigger.slots)))
      return -1;
    for (size_t i = 0; i < t->cap; i++)
      if (t->slots[i].owner)
        *name_slot(&bigger, t->slots[i].owner, t->slots[i].name) = t->slots[i];
    bigger.used = t->used;
    free(t->slots);
    *t = bigger;
  }
  struct name_slot *slot = name_slot(t, owner, name);
  if (!slot->owner)
    t->used++;
  *slot = (struct name_slot){.owner = owner, .name = name, .value = value};
  return 0;
}

static struct host_node *node_new(enum host_node_type type, int line) {
  struct host_node *node = calloc(1, sizeof *node);
  if (node) {
    node->type = type;
    node->line = line;
  }
  return node;
}

/* A deep copy of src: what an alias stands for. NULL when out of memory. The recursion is
 * bounded: no node is deeper than CONFIG_MAX_DEPTH. */
static struct host_node *node_copy(const struct host_node *src) {
  struct host_node *node = node_new(src->type, src->line);
  if (!node)
    return NULL;
  node->plain = src->plain;
  if (src->scalar && !(node->scalar = strdup(src->scalar)))
    goto fail;
  if (src->n == 0)
    return node;
  if (!(node->kids = calloc(src->n, sizeof *node->kids)) ||
      (src->keys && !(node->keys = calloc(src->n, sizeof *node->keys))))
    goto fail;
  for (size_t i = 0; i < src->n; i++) {
    node->n = i + 1; /* so that a failure frees what was copied */
    if ((src->keys && !(node->keys[i] = strdup(src->keys[i]))) ||
        !(node->kids[i] = node_copy(src->kids[i])))
      goto fail;
  }
  return node;
fail:
  host_node_free(node);
  return NULL;
}

static int read_oom(const struct yaml_ctx *ctx) {
  config_error(ctx->log, ctx->name, 0, NULL, "out of memory reading the file");
  return -1;
}

/* Counts n more nodes against the file's limit, before they are made. */
static int charge_nodes(struct yaml_ctx *ctx, size_t n, int line, const char *keypath) {
  if (ctx->nodes + n > CONFIG_MAX_NODES) {
    config_error(ctx->log, ctx->name, line, keypath,
                 "the file has more than %d nodes (aliases expanded), refused", CONFIG_MAX_NODES);
    return -1;
  }
  ctx->nodes += n;
  return 0;
}

/* Records &name for node (of size nodes and height levels). Takes node when owned, even on
 * failure. */
static int anchor_add(struct yaml_ctx *ctx, const char *name, struct host_node *node, bool owned,
                      size_t size, int height) {
  char *copy = strdup(name);
  if (copy && ctx->n_anchors == ctx->cap_anchors) {
    size_t cap = ctx->cap_anchors ? 2 * ctx->cap_anchors : 8;
    struct yaml_anchor *grown = realloc(ctx->anchors, cap * sizeof *grown);
    if (grown) {
      ctx->anchors = grown;
      ctx->cap_anchors = cap;
    }
  }
  if (!copy || ctx->n_anchors == ctx->cap_anchors) {
    free(copy);
    if (owned)
      host_node_free(node);
    return read_oom(ctx);
  }
  ctx->anchors[ctx->n_anchors] = (struct yaml_anchor){
      .name = copy, .node = node, .owned = owned, .size = size, .height = height};
  ctx->n_anchors++; /* the array owns the name and the node now */
  /* A later &name replaces an earlier one, as YAML says. */
  return name_put(&ctx->names, &ctx->names, copy, ctx->n_anchors - 1) == 0 ? 0 : read_oom(ctx);
}

/* The anchor an alias event names, after charging its expansion against the limits; NULL
 * after logging. */
static const struct yaml_anchor *resolve_alias(struct yaml_ctx *ctx, const yaml_event_t *ev,
                                               const char *keypath) {
  int line = (int)ev->start_mark.line + 1;
  const char *name = (const char *)ev->data.alias.anchor;
  const struct name_slot *slot = name_find(&ctx->names, &ctx->names, name);
  const struct yaml_anchor *a = slot ? &ctx->anchors[slot->value] : NULL;
  if (!a) {
    config_error(ctx->log, ctx->name, line, keypath, "alias *%.64s: no anchor &%.64s before it",
                 name, name);
    return NULL;
  }
  if (++ctx->aliases > CONFIG_MAX_ALIASES) {
    config_error(ctx->log, ctx->name, line, keypath,
                 "alias *%.64s: more than %d aliases in the file, refused (a guard against "
                 "alias bombs)",
                 name, CONFIG_MAX_ALIASES);
    return NULL;
  }
  if (ctx->alias_nodes + a->size > CONFIG_MAX_ALIAS_NODES) {
    config_error(ctx->log, ctx->name, line, keypath,
                 "alias *%.64s: aliases expand to more than %d nodes in all, refused (a guard "
                 "against alias bombs)",
                 name, CONFIG_MAX_ALIAS_NODES);
    return NULL;
  }
  if (ctx->depth + a->height > CONFIG_MAX_DEPTH) {
    config_error(ctx->log, ctx->name, line, keypath,
                 "alias *%.64s: nested deeper than %d levels once expanded", name,
                 CONFIG_MAX_DEPTH);
    return NULL;
  }
  ctx->alias_nodes += a->size;
  return charge_nodes(ctx, a->size, line, keypath) == 0 ? a : NULL;
}

/* Makes room for one more entry in the frame's collection. */
static int frame_grow(struct yaml_frame *f) {
  if (f->node->n < f->cap)
    return 0;
  size_t cap = f->cap ? 2 * f->cap : 4;
  struct host_node **kids = realloc(f->node->kids, cap * sizeof *kids);
  if (!kids)
    return -1;
  f->node->kids = kids;
  if (f->node->type == HOST_NODE_MAP) {
    char **keys = realloc(f->node->keys, cap * sizeof *keys);
    if (!keys)
      return -1;
    f->node->keys = keys;
  }
  f->cap = cap;
  return 0;
}

/* Hands a finished node (size nodes, height levels) to the open collection, or makes it the
 * document's root. Takes node, even on failure. */
static int attach(struct yaml_ctx *ctx, struct host_node *node, size_t size, int height) {
  if (ctx->depth == 0) {
    host_node_free(ctx->root); /* never set: a second document is refused before */
    ctx->root = node;
    return 0;
  }
  struct yaml_frame *f = &ctx->stack[ctx->depth - 1];
  if (frame_grow(f) != 0) {
    host_node_free(node);
    return read_oom(ctx);
  }
  if (f->node->type == HOST_NODE_MAP) {
    f->node->keys[f->node->n] = f->key;
    f->key = NULL;
  }
  f->node->kids[f->node->n++] = node;
  f->size += size;
  if (height + 1 > f->height)
    f->height = height + 1;
  return 0;
}

/* A mapping key: a scalar or an alias of one, taken as written (no substitution). */
static int read_key(struct yaml_ctx *ctx, const yaml_event_t *ev) {
  struct yaml_frame *f = &ctx->stack[ctx->depth - 1];
  int line = (int)ev->start_mark.line + 1;
  const char *key = NULL;
  size_t len = 0;
  if (ev->type == YAML_SCALAR_EVENT) {
    key = (const char *)ev->data.scalar.value;
    len = ev->data.scalar.length;
  } else if (ev->type == YAML_ALIAS_EVENT) {
    const struct yaml_anchor *a = resolve_alias(ctx, ev, f->keypath);
    if (!a)
      return -1;
    key = a->node->type == HOST_NODE_SCALAR ? a->node->scalar : NULL;
    len = key ? strlen(key) : 0;
  }
  if (!key || memchr(key, '\0', len)) {
    config_error(ctx->log, ctx->name, line, f->keypath, "keys must be plain strings");
    return -1;
  }
  if (name_find(&ctx->names, f->node, key)) {
    config_error(ctx->log, ctx->name, line, f->keypath, "duplicate key `%s`", key);
    return -1;
  }
  if (charge_nodes(ctx, 1, line, f->keypath) != 0)
    return -1;
  if (!(f->key = strdup(key)) || name_put(&ctx->names, f->node, f->key, 0) != 0)
    return read_oom(ctx);
  f->size++;
  if (ev->type != YAML_SCALAR_EVENT || !ev->data.scalar.anchor)
    return 0;
  /* An anchored key is no node of the tree: its anchor keeps a scalar of its own. */
  struct host_node *node = node_new(HOST_NODE_SCALAR, line);
  if (!node || !(node->scalar = strdup(key))) {
    host_node_free(node);
    return read_oom(ctx);
  }
  node->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
  return anchor_add(ctx, (const char *)ev->data.scalar.anchor, node, true, 1, 0);
}

static int read_scalar(struct yaml_ctx *ctx, const yaml_event_t *ev, const char *keypath) {
  int line = (int)ev->start_mark.line + 1;
  const char *value = (const char *)ev->data.scalar.value;
  if (memchr(value, '\0', ev->data.scalar.length)) { /* a "\0" escape would cut it short */
    config_error(ctx->log, ctx->name, line, keypath, "contains a NUL character");
    return -1;
  }
  if (charge_nodes(ctx, 1, line, keypath) != 0)
    return -1;
  struct host_node *node = node_new(HOST_NODE_SCALAR, line);
  if (!node)
    return read_oom(ctx);
  node->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
  if (!(node->scalar = substitute_env(ctx, line, keypath, value))) {
    host_node_free(node);
    return -1;
  }
  if (attach(ctx, node, 1, 0) != 0)
    return -1;
  const char *anchor = (const char *)ev->data.scalar.anchor;
  return anchor ? anchor_add(ctx, anchor, node, false, 1, 0) : 0;
}

static int read_alias(struct yaml_ctx *ctx, const yaml_event_t *ev, const char *keypath) {
  const struct yaml_anchor *a = resolve_alias(ctx, ev, keypath);
  if (!a)
    return -1;
  size_t size = a->size;
  int height = a->height;
  struct host_node *copy = node_copy(a->node);
  return copy ? attach(ctx, copy, size, height) : read_oom(ctx);
}

/* Opens a mapping or a sequence; it is attached to its parent at its end event. Takes
 * keypath. */
static int start_collection(struct yaml_ctx *ctx, const yaml_event_t *ev, char *keypath) {
  int line = (int)ev->start_mark.line + 1;
  bool map = ev->type == YAML_MAPPING_START_EVENT;
  const char *anchor =
      (const char *)(map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor);
  struct yaml_frame *f = &ctx->stack[ctx->depth]; /* depth <= CONFIG_MAX_DEPTH: checked */
  if (charge_nodes(ctx, 1, line, keypath) != 0) {
    free(keypath);
    return -1;
  }
  *f = (struct yaml_frame){.node = node_new(map ? HOST_NODE_MAP : HOST_NODE_SEQ, line),
                           .keypath = keypath,
                           .anchor = anchor ? strdup(anchor) : NULL,
                           .size = 1};
  ctx->depth++; /* the frame is the context's now, for the cleanup */
  return f->node && (!anchor || f->anchor) ? 0 : read_oom(ctx);
}

static int end_collection(struct yaml_ctx *ctx) {
  struct yaml_frame f = ctx->stack[--ctx->depth];
  ctx->stack[ctx->depth] = (struct yaml_frame){0};
  free(f.keypath);
  free(f.key); /* NULL: libyaml gives every key a value */
  int rc = attach(ctx, f.node, f.size, f.height);
  if (rc == 0 && f.anchor)
    rc = anchor_add(ctx, f.anchor, f.node, false, f.size, f.height);
  free(f.anchor);
  return rc;
}

/* A node event: a key of the open mapping, or a value placed in the open collection or at the
 * root. */
static int read_node(struct yaml_ctx *ctx, const yaml_event_t *ev) {
  const struct yaml_frame *f = ctx->depth ? &ctx->stack[ctx->depth - 1] : NULL;
  if (f && f->node->type == HOST_NODE_MAP && !f->key)
    return read_key(ctx, ev);
  char *keypath = !f                               ? strdup("")
                  : f->node->type == HOST_NODE_SEQ ? index_path(f->keypath, f->node->n)
                                                   : join_path(f->keypath, f->key);
  if (!keypath)
    return read_oom(ctx);
  int rc = -1;
  if (ctx->depth > CONFIG_MAX_DEPTH)
    config_error(ctx->log, ctx->name, (int)ev->start_mark.line + 1, keypath,
                 "nested deeper than %d levels", CONFIG_MAX_DEPTH);
  else if (ev->type == YAML_SCALAR_EVENT)
    rc = read_scalar(ctx, ev, keypath);
  else if (ev->type == YAML_ALIAS_EVENT)
    rc = read_alias(ctx, ev, keypath);
  else
    return start_collection(ctx, ev, keypath);
  free(keypath);
  return rc;
}

static int read_event(struct yaml_ctx *ctx, const yaml_event_t *ev) {
  switch (ev->type) {
  case YAML_DOCUMENT_START_EVENT:
    if (ctx->documents++ == 0)
      return 0;
    config_error(ctx->log, ctx->name, (int)ev->start_mark.line + 1, NULL,
                 "a second YAML document starts here; a workflow file holds one");
    return -1;
  case YAML_SCALAR_EVENT:
  case YAML_ALIAS_EVENT:
  case YAML_MAPPING_START_EVENT:
  case YAML_SEQUENCE_START_EVENT:
    return read_node(ctx, ev);
  case YAML_MAPPING_END_EVENT:
  case YAML_SEQUENCE_END_EVENT:
    return end_collection(ctx);
  default: /* stream start and end, document end */
    return 0;
  }
}

static void read_ctx_free(struct yaml_ctx *ctx) {
  for (int i = 0; i < ctx->depth; i++) {
    host_node_free(ctx->stack[i].node);
    free(ctx->stack[i].keypath);
    free(ctx->stack[i].anchor);
    free(ctx->stack[i].key);
  }
  for (size_t i = 0; i < ctx->n_anchors; i++) {
    free(ctx->anchors[i].name);
    if (ctx->anchors[i].owned)
      host_node_free(ctx->anchors[i].node);
  }
  free(ctx->anchors);
  free(ctx->names.slots);
  host_node_free(ctx->root);
}

int host_yaml_parse(const char *name, const char *text, size_t len, struct host_log *log,
                    struct host_node **out) {
  *out = NULL;
  struct yaml_ctx ctx = {.name = name, .log = log};
  yaml_parser_t parser;
  int rc = -1;
  if (!yaml_parser_initialize(&parser))
    return -1;
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  for (bool end = false; !end;) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&parser, &ev)) {
      config_error(log, name, (int)parser.problem_mark.line + 1, NULL, "invalid YAML: %s%s%s",
                   parser.problem ? parser.problem : "parse error", parser.context ? " " : "",
                   parser.context ? parser.context : "");
      goto out;
    }
    end = ev.type == YAML_STREAM_END_EVENT;
    int st = read_event(&ctx, &ev);
    yaml_event_delete(&ev);
    if (st != 0)
      goto out;
  }
  if (!ctx.root) {
    config_error(log, name, 0, NULL, "the file is empty");
    goto out;
  }
  *out = ctx.root;
  ctx.root = NULL;
  rc = 0;
out:
  read_ctx_free(&ctx);
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

/* "file:line: warning: key.path: message": a key accepted that changes nothing here. */
static void config_warning(struct check_ctx *c, const struct host_node *node, const char *keypath,
                           const char *message) {
  char where[4096];
  snprintf(where, sizeof where, "%s:%d", c->file, node->line);
  host_log_msg(c->log, ETL_SEV_WARNING, where, keypath, "%s", message);
}

/* OpenMetadata's workflowConfig keys that etlhost accepts (so that a user's file runs unchanged)
 * but cannot honour: one warning each saying so. */
static void warn_workflow_noops(struct check_ctx *c, const struct host_node *wc,
                                const struct host_workflow *wf) {
  const struct host_node *om = host_node_get(wc, "openMetadataServerConfig");
  const struct host_node *raise = host_node_get(wc, "raiseOnError");
  const struct host_node *threshold = host_node_get(wc, "successThreshold");
  const struct host_node *config = host_node_get(wc, "config");
  if (om && strcmp(wf->sink_type, "metadata-rest") != 0) {
    char msg[256];
    snprintf(msg, sizeof msg,
             "does nothing here: only the metadata-rest sink talks to OpenMetadata, and the "
             "sink is `%.64s`",
             wf->sink_type);
    config_warning(c, om, "workflowConfig.openMetadataServerConfig", msg);
  }
  if (raise && (raise->type != HOST_NODE_SCALAR || strcasecmp(raise->scalar, "true") != 0))
    config_warning(c, raise, "workflowConfig.raiseOnError",
                   "does nothing: etlhost always exits 1 when a record failed (see exit status)");
  bool reported = host_node_get(wf->root, "ingestionPipelineFQN") &&
                  strcmp(wf->sink_type, "metadata-rest") == 0;
  if (threshold)
    config_warning(c, threshold, "workflowConfig.successThreshold",
                   reported ? "only parts partialSuccess from failed in the status sent to "
                              "ingestionPipelineFQN: etlhost exits 1 when any record failed, "
                              "whatever the share"
                            : "does nothing: etlhost exits 1 when any record failed, whatever "
                              "the share");
  if (config)
    config_warning(c, config, "workflowConfig.config",
                   "does nothing: etlhost has no free-form workflow settings");
}

/* markDeletedDashboards is a source's wish that only the sink can carry out: the sqlite catalog
 * marks what a complete run did not deliver whatever it says, the file sinks write no
 * deletions. A value the sink cannot honour says so (metadata-rest honours both). */
static void warn_mark_deleted(struct check_ctx *c, const struct host_workflow *wf) {
  for (size_t i = 0; i < wf->n_sources; i++) {
    const struct host_node *mark =
        host_node_get(wf->sources[i].source_config, "markDeletedDashboards");
    if (!mark || mark->type != HOST_NODE_SCALAR)
      continue;
    int yes = strcasecmp(mark->scalar, "true") == 0;
    const char *why = NULL;
    if (strcmp(wf->sink_type, "sqlite") == 0 && !yes)
      why = "the sqlite catalog marks what a complete run did not deliver as deleted, always";
    else if ((strcmp(wf->sink_type, "file") == 0 || strcmp(wf->sink_type, "stdout") == 0) && yes)
      why = "the file and stdout sinks write records, never deletions";
    if (!why)
      continue;
    char kp[320], msg[320];
    snprintf(kp, sizeof kp, "%s.sourceConfig.config.markDeletedDashboards", wf->sources[i].keypath);
    snprintf(msg, sizeof msg, "does nothing with the %s sink: %s", wf->sink_type, why);
    config_warning(c, mark, kp, msg);
  }
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
  double v = host_strtod_c(n->scalar, &end);
  if (end == n->scalar || *end != '\0' || !(v > 0 && v <= 100)) {
    config_error(c->log, c->file, n->line, "workflowConfig.failSafeThreshold",
                 "expected a percentage above 0 and at most 100 (the default is 20)");
    c->errors++;
    return;
  }
  wf->fail_safe_threshold = v;
}

/* workflowConfig.parallelSources: how many sources fetch at once (runner.h); an integer from 1
 * (one after another, as before) to HOST_MAX_PARALLEL_SOURCES. */
static void check_parallel_sources(struct check_ctx *c, const struct host_node *wc,
                                   struct host_workflow *wf) {
  const struct host_node *n =
      optional(c, wc, "workflowConfig", "parallelSources", HOST_NODE_SCALAR);
  if (!n)
    return;
  char *end = NULL;
  errno = 0;
  long v = strtol(n->scalar, &end, 10);
  if (end == n->scalar || *end != '\0' || errno || v < 1 || v > HOST_MAX_PARALLEL_SOURCES) {
    config_error(c->log, c->file, n->line, "workflowConfig.parallelSources",
                 "expected a whole number from 1 (one source after another) to 64");
    c->errors++;
    return;
  }
  wf->parallel_sources = (int)v;
}

static void check_workflow_config(struct check_ctx *c, const struct host_node *wc,
                                  struct host_workflow *wf) {
  /* openMetadataServerConfig, config, raiseOnError and successThreshold are OpenMetadata's own
   * keys: accepted so a user's existing file works; the metadata-rest sink reads the first,
   * the others warn (warn_workflow_noops). failSafeThreshold is etlhost's own. */
  static const char *const wc_keys[] = {"loggerLevel",      "openMetadataServerConfig",
                                        "stateStore",       "raiseOnError",
                                        "successThreshold", "config",
                                        "failSafeThreshold", "parallelSources", NULL};
  static const char *const levels[] = {"DEBUG", "INFO", "WARN", "WARNING", "ERROR", NULL};
  if (!expect_type(c, wc, "workflowConfig", HOST_NODE_MAP))
    return;
  wf->workflow_config = wc;
  reject_unknown_keys(c, wc, "workflowConfig", wc_keys);
  optional(c, wc, "workflowConfig", "openMetadataServerConfig", HOST_NODE_MAP);
  warn_workflow_noops(c, wc, wf);
  const struct host_node *store = optional(c, wc, "workflowConfig", "stateStore", HOST_NODE_SCALAR);
  if (store)
    wf->state_store = store->scalar;
  check_fail_safe(c, wc, wf);
  check_parallel_sources(c, wc, wf);
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

/* 8-4-4-4-12 hex digits: basic.json's uuid format, which OpenMetadata's server validates. */
static bool is_uuid(const char *s) {
  for (size_t i = 0; i < 36; i++) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
      return false;
  }
  return s[36] == '\0';
}

/* A random (version 4) UUID from /dev/urandom; -1 when it cannot be read. */
static int new_uuid(char out[37]) {
  unsigned char b[16];
  FILE *f = fopen("/dev/urandom", "rb");
  size_t got = f ? fread(b, 1, sizeof b, f) : 0;
  if (f)
    fclose(f);
  if (got != sizeof b)
    return -1;
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
           b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
           b[15]);
  return 0;
}

/* ingestionPipelineFQN and pipelineRunId (OpenMetadataWorkflowConfig): read for the pipeline
 * status (om_pipeline_status.h). The run id must be a UUID, as the server's schema says. */
static void check_pipeline_keys(struct check_ctx *c, struct host_workflow *wf) {
  const struct host_node *fqn = optional(c, wf->root, "", "ingestionPipelineFQN", HOST_NODE_SCALAR);
  const struct host_node *run = optional(c, wf->root, "", "pipelineRunId", HOST_NODE_SCALAR);
  if (fqn && fqn->scalar[0])
    wf->ingestion_pipeline_fqn = fqn->scalar;
  if (run && !is_uuid(run->scalar)) {
    config_error(c->log, c->file, run->line, "pipelineRunId",
                 "expected a UUID such as 3f2a9c1e-0b7d-4e55-9a61-2c8d7f0e4b12");
    c->errors++;
  } else if (run) {
    snprintf(wf->pipeline_run_id, sizeof wf->pipeline_run_id, "%s", run->scalar);
  } else if (new_uuid(wf->pipeline_run_id) != 0) {
    config_error(c->log, c->file, 0, "pipelineRunId", "cannot read /dev/urandom to make one");
    c->errors++;
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
  check_pipeline_keys(c, wf);
  if (c->errors == 0)
    warn_mark_deleted(c, wf);
  if (c->errors == 0 && wf->ingestion_pipeline_fqn && strcmp(wf->sink_type, "metadata-rest") != 0)
    config_warning(c, host_node_get(wf->root, "ingestionPipelineFQN"), "ingestionPipelineFQN",
                   "does nothing here: only the metadata-rest sink reports the run's status to "
                   "OpenMetadata");
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
