/*
 * definitions.c -- a Mode workspace's definitions (name -> SQL body) and the expansion of
 * `{{ @name as alias }}` references into `(body) AS alias`.
 *
 * Expansion is textual and happens before Liquid is rendered, so that Liquid in a body (and
 * references in it) is handled exactly as if the analyst had written it inline. It recurses
 * into bodies with the chain of names being expanded on a stack: a name already on it is a
 * cycle (SQL_ERR_CYCLE naming the chain), a chain deeper than SQL_MAX_DEF_DEPTH is
 * SQL_ERR_LIMIT, and the output buffer's maximum stops a diamond of references from growing
 * exponentially.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sql_internal.h"

struct sql_definition {
  char *name; /* without '@'; owned */
  size_t name_len;
  char *body; /* escapes decoded; owned */
  size_t len;
};

/* Definitions in order of addition, and an open-addressing index over them by name (ASCII
 * case-insensitive, as Mode matches them): a workspace of 100k definitions and a query with
 * 100k references cost 200k lookups, not 10^10 name comparisons. */
struct sql_definitions {
  struct sql_definition *items; /* owned */
  size_t n, cap;
  size_t *slots; /* owned; item index + 1, 0 = empty; a power of two, at most half full */
  size_t n_slots;
};

struct sql_definitions *sql_definitions_new(void) {
  return calloc(1, sizeof(struct sql_definitions));
}

void sql_definitions_free(struct sql_definitions **defs) {
  if (!defs || !*defs)
    return;
  for (size_t i = 0; i < (*defs)->n; i++) {
    free((*defs)->items[i].name);
    free((*defs)->items[i].body);
  }
  free((*defs)->items);
  free((*defs)->slots);
  free(*defs);
  *defs = NULL;
}

static size_t name_hash(const char *name, size_t len) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a over the lower-cased name */
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)name[i];
    h = (h ^ (c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c)) * 1099511628211ull;
  }
  return (size_t)h;
}

/* The slot holding name, or the empty slot where it would go. */
static size_t slot_of(const struct sql_definitions *defs, const char *name, size_t len) {
  size_t mask = defs->n_slots - 1, k = name_hash(name, len) & mask;
  for (; defs->slots[k]; k = (k + 1) & mask) {
    const struct sql_definition *d = &defs->items[defs->slots[k] - 1];
    if (d->name_len == len && strncasecmp(d->name, name, len) == 0)
      break;
  }
  return k;
}

static struct sql_definition *find(const struct sql_definitions *defs, const char *name,
                                   size_t len) {
  if (!defs || !defs->n_slots)
    return NULL;
  size_t id = defs->slots[slot_of(defs, name, len)];
  return id ? &defs->items[id - 1] : NULL;
}

/* Makes room in the index for one more definition (kept at most half full). */
static int reserve_slot(struct sql_definitions *defs) {
  if ((defs->n + 1) * 2 <= defs->n_slots)
    return SQL_OK;
  size_t n_slots = defs->n_slots ? defs->n_slots * 2 : 32;
  size_t *slots = calloc(n_slots, sizeof *slots), *old = defs->slots;
  if (!slots)
    return SQL_ERR_NOMEM;
  defs->slots = slots;
  defs->n_slots = n_slots;
  for (size_t i = 0; i < defs->n; i++)
    slots[slot_of(defs, defs->items[i].name, defs->items[i].name_len)] = i + 1;
  free(old);
  return SQL_OK;
}

/* Mode's recorded bodies carry "\n", "\t", "\r" as two characters. */
static char *decode_body(const char *body, size_t len, size_t *out_len) {
  char *out = malloc(len + 1);
  size_t o = 0;
  if (!out)
    return NULL;
  for (size_t i = 0; i < len; i++) {
    if (body[i] == '\\' && i + 1 < len && strchr("ntr", body[i + 1]) && body[i + 1]) {
      out[o++] = body[i + 1] == 'n' ? '\n' : body[i + 1] == 't' ? '\t' : '\r';
      i++;
    } else {
      out[o++] = body[i];
    }
  }
  out[o] = '\0';
  *out_len = o;
  return out;
}

int sql_definitions_add(struct sql_definitions *defs, const char *name, const char *body,
                        size_t len) {
  if (!defs || !name || (!body && len))
    return SQL_ERR_SYNTAX;
  if (name[0] == '@')
    name++;
  size_t blen;
  char *b = decode_body(body ? body : "", len, &blen);
  if (!b)
    return SQL_ERR_NOMEM;
  struct sql_definition *old = find(defs, name, strlen(name));
  if (old) {
    free(old->body);
    old->body = b;
    old->len = blen;
    return SQL_OK;
  }
  if (reserve_slot(defs)) {
    free(b);
    return SQL_ERR_NOMEM;
  }
  if (defs->n == defs->cap) {
    size_t cap = defs->cap ? defs->cap * 2 : 8;
    struct sql_definition *p = realloc(defs->items, cap * sizeof *p);
    if (!p) {
      free(b);
      return SQL_ERR_NOMEM;
    }
    defs->items = p;
    defs->cap = cap;
  }
  char *n = strdup(name);
  if (!n) {
    free(b);
    return SQL_ERR_NOMEM;
  }
  size_t name_len = strlen(n);
  defs->slots[slot_of(defs, n, name_len)] = defs->n + 1;
  defs->items[defs->n++] =
      (struct sql_definition){.name = n, .name_len = name_len, .body = b, .len = blen};
  return SQL_OK;
}

/* A parsed `{{ @name [as alias] }}` (whitespace control dashes allowed). */
struct ref {
  const char *name, *alias;
  size_t name_len, alias_len;
  size_t end; /* offset just past the closing braces */
};

static bool is_ident_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c >= 0x80;
}

static size_t skip_ws(const char *t, size_t len, size_t i) {
  while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
    i++;
  return i;
}

/* Parses a reference starting at text[i] == '{'. Returns false when it is not one. */
static bool parse_ref(const char *t, size_t len, size_t i, struct ref *r) {
  if (i + 2 >= len || t[i + 1] != '{')
    return false;
  i += 2;
  if (i < len && t[i] == '-')
    i++;
  i = skip_ws(t, len, i);
  if (i >= len || t[i] != '@')
    return false;
  r->name = t + ++i;
  while (i < len && is_ident_char((unsigned char)t[i]))
    i++;
  r->name_len = (size_t)(t + i - r->name);
  if (!r->name_len)
    return false;
  i = skip_ws(t, len, i);
  r->alias = NULL;
  r->alias_len = 0;
  if (i + 2 < len && strncasecmp(t + i, "as", 2) == 0 && !is_ident_char((unsigned char)t[i + 2])) {
    i = skip_ws(t, len, i + 2);
    r->alias = t + i;
    while (i < len && is_ident_char((unsigned char)t[i]))
      i++;
    r->alias_len = (size_t)(t + i - r->alias);
    i = skip_ws(t, len, i);
  }
  if (i < len && t[i] == '-')
    i++;
  if (i + 1 >= len || t[i] != '}' || t[i + 1] != '}')
    return false;
  r->end = i + 2;
  return true;
}

struct expansion {
  const struct sql_definitions *defs;
  const struct sql_definition *stack[SQL_MAX_DEF_DEPTH]; /* the chain being expanded */
  size_t depth;
  struct strbuf *out;
  struct sql_poll *poll;
  char *err;
  size_t errlen;
};

static int cycle_error(struct expansion *ex, const struct sql_definition *again) {
  char chain[512] = "";
  size_t used = 0;
  for (size_t k = 0; k <= ex->depth; k++) {
    const char *n = k < ex->depth ? ex->stack[k]->name : again->name;
    int w = snprintf(chain + used, sizeof chain - used, "%s@%s", k ? " -> " : "", n);
    if (w < 0 || (size_t)w >= sizeof chain - used)
      break;
    used += (size_t)w;
  }
  return sql_fail(SQL_ERR_CYCLE, ex->err, ex->errlen, "definitions reference each other: %s",
                  chain);
}

static int expand(struct expansion *ex, const char *text, size_t len);

/* The output buffer refused to grow: too big or no memory. */
static int output_error(struct expansion *ex, int rc) {
  if (rc == SQL_ERR_LIMIT)
    return sql_fail(rc, ex->err, ex->errlen, "definitions expand to more than %zu bytes",
                    ex->out->max);
  return sql_fail(rc, ex->err, ex->errlen, "out of memory");
}

static int expand_ref(struct expansion *ex, const struct ref *r) {
  const struct sql_definition *def = find(ex->defs, r->name, r->name_len);
  const char *alias = r->alias ? r->alias : r->name;
  size_t alias_len = r->alias ? r->alias_len : r->name_len;
  int rc;
  if (!def) {
    /* Unknown: a derived table that names nothing, so the alias is never taken for a table. */
    if ((rc = sb_append_str(ex->out, "(SELECT 1) AS ")) ||
        (rc = sb_append(ex->out, alias, alias_len)))
      goto fail;
    return SQL_OK;
  }
  for (size_t k = 0; k < ex->depth; k++)
    if (ex->stack[k] == def)
      return cycle_error(ex, def);
  if (ex->depth == SQL_MAX_DEF_DEPTH)
    return sql_fail(SQL_ERR_LIMIT, ex->err, ex->errlen,
                    "definitions nested deeper than %d levels at @%s", SQL_MAX_DEF_DEPTH,
                    def->name);
  ex->stack[ex->depth++] = def;
  if ((rc = sb_append_str(ex->out, "(\n")))
    goto fail;
  if ((rc = expand(ex, def->body, def->len)))
    return rc;
  ex->depth--;
  if ((rc = sb_append_str(ex->out, "\n) AS ")) || (rc = sb_append(ex->out, alias, alias_len)))
    goto fail;
  return SQL_OK;
fail:
  return output_error(ex, rc);
}

static int expand(struct expansion *ex, const char *text, size_t len) {
  size_t i = 0, plain = 0;
  int rc;
  while (i < len) {
    const char *brace = memchr(text + i, '{', len - i);
    struct ref r;
    if (!brace)
      break;
    if (sql_poll_cancelled(ex->poll))
      return sql_cancelled(ex->err, ex->errlen);
    i = (size_t)(brace - text);
    if (!parse_ref(text, len, i, &r)) {
      i++;
      continue;
    }
    if ((rc = sb_append(ex->out, text + plain, i - plain)))
      goto fail;
    if ((rc = expand_ref(ex, &r)))
      return rc;
    i = plain = r.end;
  }
  if ((rc = sb_append(ex->out, text + plain, len - plain)))
    goto fail;
  return SQL_OK;
fail:
  return output_error(ex, rc);
}

int sql_definitions_expand(const struct sql_definitions *defs, const char *text, size_t len,
                           struct sql_poll *poll, struct strbuf *out, char *err, size_t errlen) {
  struct expansion ex = {.defs = defs, .out = out, .poll = poll, .err = err, .errlen = errlen};
  return expand(&ex, text, len);
}
