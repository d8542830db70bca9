/*
 * liquid.c -- renders the Liquid in Mode queries into SQL whose tables can be extracted.
 *
 * The template is parsed into a tree (text, {{ output }}, conditionals with their branches,
 * for loops, assign, capture); {% form %} blocks are removed and their fields' `default:`
 * values become variables; {% comment %} disappears; {% raw %} is kept verbatim; `{%-`/`-%}`
 * and `{{-`/`-}}` strip the whitespace next to them.
 *
 * Conditions on parameters are never evaluated: lineage wants the tables of every branch, whatever
 * the parameters. Emitting all branches side by side would not be SQL (`FROM {% if %}a{% else %}b{%
 * endif %}` would read as `FROM a b`, making b an alias), so the template is rendered once per
 * variant instead: variant 0 takes the first branch of every conditional, and each other branch
 * that renders anything gets a variant of its own in which it (and the branches that enclose it)
 * are taken and everything else is as in variant 0. Variants are joined with "\n;\n", so each is
 * read as its own statement. An `if` without `else` thus costs nothing: its body is in variant 0,
 * and its empty else needs no variant. A for loop runs over its collection (a form default, a
 * range, a split string), and at least once so that a loop over an unknown collection still shows
 * its tables.
 *
 * The one kind of condition that is evaluated is one on the loop itself (`forloop.first`,
 * `forloop.index > 1`, `unless forloop.last`): it separates the iterations' SQL (`UNION ALL`,
 * `WHERE`/`OR`, commas), is the same whatever the parameters, and taking its first branch in
 * every iteration would leave a trailing `UNION ALL`. A branch that no iteration takes (the
 * `else` of `forloop.first` in a loop run once) still gets a variant, so its tables show.
 *
 * Bounds: block nesting SQL_MAX_DEPTH, 64 variants, 100000 loop iterations in all, rendered
 * size SQL_MAX_RENDERED. The parser is a loop with an explicit stack; rendering recurses once
 * per block level.
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

#define MAX_VARIANTS 64
#define MAX_ITERATIONS 100000
#define MAX_RANGE 10000
#define ARRAY_SEP '\x1f' /* separates the items of an array value */
#define MAX_LOOP_TAG 256 /* bytes of a tag whose condition on forloop is evaluated */

enum node_kind { N_ROOT, N_TEXT, N_OUTPUT, N_IF, N_BRANCH, N_FOR, N_ASSIGN, N_CAPTURE };

struct node {
  enum node_kind kind;
  size_t start, len; /* TEXT: the text; OUTPUT, ASSIGN, FOR, CAPTURE: the tag's markup */
  int parent;        /* enclosing node, -1 for the root */
  int first, last;   /* children */
  int next;          /* next sibling */
  int n_children;
  int choice;  /* N_IF: branch rendered in the current variant */
  int index;   /* N_BRANCH: its position among its siblings */
  bool forced; /* N_IF: choice is the current variant's, whatever the loop says */
  bool taken;  /* N_BRANCH: rendered in some variant so far (its tables are out) */
};

struct value {
  char *s; /* owned, NUL-terminated; arrays hold items separated by ARRAY_SEP */
  size_t len;
  bool array;
};

struct var {
  char *name; /* owned */
  size_t name_len;
  struct value v;
};

/* Variables by name: items in order of creation, and an open-addressing index over them so a
 * template with 100k form fields or assigns costs 100k lookups, not 100k squared. */
struct vars {
  struct var *items; /* owned */
  size_t n, cap;
  uint32_t *slots; /* owned; item index + 1, 0 = empty; a power of two, at most half full */
  size_t n_slots;
};

struct tmpl {
  const char *t;
  size_t len;
  struct node *nodes; /* owned */
  int n_nodes, cap_nodes;
  struct vars defaults; /* form defaults */
  struct vars vars;     /* while rendering */
  long iterations;
  int loop_depth;                /* for loops being rendered around the current node */
  size_t loop_index, loop_count; /* the innermost one's iteration (from 0) and length */
  struct sql_poll *poll;         /* the caller's */
  char *err;
  size_t errlen;
};

/* ---- values and variables --------------------------------------------------------------- */

static void value_free(struct value *v) {
  free(v->s);
  v->s = NULL;
  v->len = 0;
  v->array = false;
}

static int value_set(struct value *v, const char *s, size_t len, bool array) {
  char *p = malloc(len + 1);
  if (!p)
    return SQL_ERR_NOMEM;
  memcpy(p, s, len);
  p[len] = '\0';
  value_free(v);
  v->s = p;
  v->len = len;
  v->array = array;
  return SQL_OK;
}

static size_t name_hash(const char *name, size_t len) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char)name[i]) * 1099511628211ull;
  return (size_t)h;
}

/* The slot holding name, or the empty slot where it would go. */
static size_t var_slot(const struct vars *vs, const char *name, size_t len) {
  size_t mask = vs->n_slots - 1, k = name_hash(name, len) & mask;
  for (; vs->slots[k]; k = (k + 1) & mask) {
    const struct var *v = &vs->items[vs->slots[k] - 1];
    if (v->name_len == len && memcmp(v->name, name, len) == 0)
      break;
  }
  return k;
}

static struct var *var_find(struct vars *vs, const char *name, size_t len) {
  if (!vs->n_slots)
    return NULL;
  uint32_t id = vs->slots[var_slot(vs, name, len)];
  return id ? &vs->items[id - 1] : NULL;
}

/* Makes room for one more variable in the index (kept at most half full). */
static int vars_reserve(struct vars *vs) {
  if ((vs->n + 1) * 2 <= vs->n_slots)
    return SQL_OK;
  size_t n_slots = vs->n_slots ? vs->n_slots * 2 : 64;
  uint32_t *slots = calloc(n_slots, sizeof *slots), *old = vs->slots;
  if (!slots)
    return SQL_ERR_NOMEM;
  vs->slots = slots;
  vs->n_slots = n_slots;
  for (size_t i = 0; i < vs->n; i++)
    slots[var_slot(vs, vs->items[i].name, vs->items[i].name_len)] = (uint32_t)(i + 1);
  free(old);
  return SQL_OK;
}

static int var_set(struct vars *vs, const char *name, size_t nlen, const char *s, size_t len,
                   bool array) {
  struct var *v = var_find(vs, name, nlen);
  if (!v) {
    if (vs->n >= UINT32_MAX - 1 || vars_reserve(vs))
      return SQL_ERR_NOMEM;
    if (vs->n == vs->cap) {
      size_t cap = vs->cap ? vs->cap * 2 : 16;
      struct var *p = realloc(vs->items, cap * sizeof *p);
      if (!p)
        return SQL_ERR_NOMEM;
      vs->items = p;
      vs->cap = cap;
    }
    char *n = malloc(nlen + 1); /* not strndup: a name may hold a NUL byte */
    if (!n)
      return SQL_ERR_NOMEM;
    memcpy(n, name, nlen);
    n[nlen] = '\0';
    vs->slots[var_slot(vs, name, nlen)] = (uint32_t)(vs->n + 1);
    v = &vs->items[vs->n++];
    *v = (struct var){.name = n, .name_len = nlen};
  }
  return value_set(&v->v, s, len, array);
}

static void vars_free(struct vars *vs) {
  for (size_t i = 0; i < vs->n; i++) {
    free(vs->items[i].name);
    value_free(&vs->items[i].v);
  }
  free(vs->items);
  free(vs->slots);
  memset(vs, 0, sizeof *vs);
}

static int vars_copy(struct vars *dst, struct vars *src) {
  vars_free(dst);
  for (size_t i = 0; i < src->n; i++) {
    struct var *v = &src->items[i];
    int rc = var_set(dst, v->name, v->name_len, v->v.s, v->v.len, v->v.array);
    if (rc)
      return rc;
  }
  return SQL_OK;
}

/* ---- parsing --------------------------------------------------------------------------- */

static bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int fail_at(struct tmpl *tp, int rc, size_t off, const char *what) {
  char pos[64];
  sql_position(tp->t, tp->len, off, pos, sizeof pos);
  return sql_fail(rc, tp->err, tp->errlen, "template: %s at %s", what, pos);
}

static int add_node(struct tmpl *tp, int parent, enum node_kind kind, size_t start, size_t len) {
  if (tp->n_nodes == tp->cap_nodes) {
    int cap = tp->cap_nodes ? tp->cap_nodes * 2 : 32;
    struct node *p = realloc(tp->nodes, (size_t)cap * sizeof *p);
    if (!p)
      return -1;
    tp->nodes = p;
    tp->cap_nodes = cap;
  }
  int id = tp->n_nodes++;
  tp->nodes[id] = (struct node){.kind = kind,
                                .start = start,
                                .len = len,
                                .parent = parent,
                                .first = -1,
                                .last = -1,
                                .next = -1};
  if (parent >= 0) {
    struct node *p = &tp->nodes[parent];
    tp->nodes[id].index = p->n_children++;
    if (p->last >= 0)
      tp->nodes[p->last].next = id;
    else
      p->first = id;
    p->last = id;
  }
  return id;
}

/* A tag's name and markup: `{%- name markup -%}` spans [open, close). */
struct tag {
  size_t open, end; /* end: just past the closing braces */
  size_t name, name_len, markup, markup_len;
  bool strip_before, strip_after;
};

/* Reads the tag opening at t[i] ("{%" or "{{") and closing before t[len]. Returns false if it
 * does not. */
static bool read_tag_within(const struct tmpl *tp, size_t i, size_t len, char closer,
                            struct tag *tg) {
  const char *t = tp->t;
  size_t j = i + 2;
  tg->open = i;
  tg->strip_before = j < len && t[j] == '-';
  if (tg->strip_before)
    j++;
  for (size_t k = j; k + 1 < len; k++) {
    if (t[k] == closer && t[k + 1] == '}') {
      size_t body_end = k;
      tg->strip_after = body_end > j && t[body_end - 1] == '-';
      if (tg->strip_after)
        body_end--;
      while (j < body_end && is_space(t[j]))
        j++;
      while (body_end > j && is_space(t[body_end - 1]))
        body_end--;
      tg->name = j;
      while (j < body_end && !is_space(t[j]))
        j++;
      tg->name_len = j - tg->name;
      while (j < body_end && is_space(t[j]))
        j++;
      tg->markup = j;
      tg->markup_len = body_end - j;
      tg->end = k + 2;
      return true;
    }
  }
  return false;
}

/* Reads the tag opening at t[i] ("{%" or "{{"). Returns false if it never closes. */
static bool read_tag(const struct tmpl *tp, size_t i, char closer, struct tag *tg) {
  return read_tag_within(tp, i, tp->len, closer, tg);
}

static bool tag_is(const struct tmpl *tp, const struct tag *tg, const char *name) {
  return tg->name_len == strlen(name) && memcmp(tp->t + tg->name, name, tg->name_len) == 0;
}

/* Whether the "{%" at t[i] opens a tag named `name`, judged from the name alone: what
 * read_tag would find, without its scan to the closing "%}". */
static bool tag_named_at(const struct tmpl *tp, size_t i, const char *name) {
  const char *t = tp->t;
  size_t len = tp->len, j = i + 2, n = strlen(name);
  if (j < len && t[j] == '-')
    j++;
  while (j < len && is_space(t[j]))
    j++;
  if (len - j < n + 2 || memcmp(t + j, name, n) != 0)
    return false;
  j += n;
  if (t[j] == '-' && j + 2 < len && t[j + 1] == '%' && t[j + 2] == '}')
    return true; /* `endform-%}`; `endform- %}` is a tag named "endform-" */
  return is_space(t[j]) || (t[j] == '%' && t[j + 1] == '}');
}

/* Finds `{% endNAME %}` from i and fills *end. Linear: a "{%" that is not the end tag costs
 * only a look at its name (reading each tag in full to its "%}" made a form full of
 * unclosed "{%" quadratic). */
static bool find_end(const struct tmpl *tp, size_t i, const char *name, struct tag *end) {
  while (i + 1 < tp->len && !sql_poll_cancelled(tp->poll)) {
    const char *p = memchr(tp->t + i, '{', tp->len - i - 1);
    if (!p)
      return false;
    i = (size_t)(p - tp->t);
    if (tp->t[i + 1] == '%' && tag_named_at(tp, i, name))
      return read_tag(tp, i, '%', end) && tag_is(tp, end, name);
    i++;
  }
  return false;
}

static size_t trim_value(const char *s, size_t *len) {
  size_t a = 0, b = *len;
  while (a < b && is_space(s[a]))
    a++;
  while (b > a && is_space(s[b - 1]))
    b--;
  if (b - a >= 2 && (s[a] == '\'' || s[a] == '"') && s[b - 1] == s[a]) {
    a++;
    b--;
  }
  *len = b - a;
  return a;
}

/* `[a, 'b', c]` into an array value. */
static int set_flow_list(struct vars *vs, const char *name, size_t nlen, const char *s,
                         size_t len) {
  struct strbuf sb;
  int rc = SQL_OK;
  sb_init(&sb, SQL_MAX_RENDERED);
  size_t i = 1;
  while (i < len - 1 && !rc) {
    size_t j = i;
    while (j < len - 1 && s[j] != ',')
      j++;
    size_t ilen = j - i, off = trim_value(s + i, &ilen);
    if (sb.len)
      rc = sb_append(&sb, (const char[]){ARRAY_SEP}, 1);
    if (!rc)
      rc = sb_append(&sb, s + i + off, ilen);
    i = j + 1;
  }
  if (!rc)
    rc = var_set(vs, name, nlen, sb.data ? sb.data : "", sb.len, true);
  sb_free(&sb);
  return rc;
}

/* The YAML-ish body of {% form %}: top-level `name:` lines start a field, an indented
 * `default: value` gives its value (a scalar, a quoted string or a [flow, list]). */
static int parse_form(struct tmpl *tp, size_t start, size_t end) {
  const char *t = tp->t;
  size_t field = 0, field_len = 0;
  for (size_t i = start; i < end;) {
    if (sql_poll_cancelled(tp->poll))
      return sql_cancelled(tp->err, tp->errlen);
    const char *nl = memchr(t + i, '\n', end - i);
    size_t line_end = nl ? (size_t)(nl - t) : end;
    size_t j = i;
    while (j < line_end && (t[j] == ' ' || t[j] == '\t'))
      j++;
    const char *colon = memchr(t + j, ':', line_end - j);
    if (colon && j == i) {
      field = j;
      field_len = (size_t)(colon - (t + j));
      while (field_len && is_space(t[field + field_len - 1]))
        field_len--;
    } else if (colon && field_len && (size_t)(colon - (t + j)) == 7 &&
               memcmp(t + j, "default", 7) == 0) {
      size_t vstart = (size_t)(colon - t) + 1, vlen = line_end - vstart;
      size_t off = trim_value(t + vstart, &vlen);
      int rc;
      if (vlen >= 2 && t[vstart + off] == '[' && t[vstart + off + vlen - 1] == ']')
        rc = set_flow_list(&tp->defaults, t + field, field_len, t + vstart + off, vlen);
      else
        rc = var_set(&tp->defaults, t + field, field_len, t + vstart + off, vlen, false);
      if (rc)
        return sql_fail(rc, tp->err, tp->errlen, "out of memory");
    }
    i = line_end + 1;
  }
  return SQL_OK;
}

struct parser {
  struct tmpl *tp;
  int stack[SQL_MAX_DEPTH + 1]; /* open blocks (N_IF, N_FOR, N_CAPTURE) */
  size_t stack_open[SQL_MAX_DEPTH + 1];
  int depth;
  int container; /* where new nodes go */
  bool strip_next;
  bool case_header; /* between {% case %} and its first {% when %} */
};

static int add_text(struct parser *ps, size_t start, size_t end, bool strip_after) {
  const char *t = ps->tp->t;
  if (ps->strip_next)
    while (start < end && is_space(t[start]))
      start++;
  if (strip_after)
    while (end > start && is_space(t[end - 1]))
      end--;
  ps->strip_next = false;
  if (end <= start || ps->case_header)
    return SQL_OK;
  return add_node(ps->tp, ps->container, N_TEXT, start, end - start) < 0 ? SQL_ERR_NOMEM : SQL_OK;
}

static int open_block(struct parser *ps, enum node_kind kind, const struct tag *tg) {
  struct tmpl *tp = ps->tp;
  if (ps->depth == SQL_MAX_DEPTH)
    return fail_at(tp, SQL_ERR_LIMIT, tg->open, "blocks nested deeper than 256 levels");
  int id = add_node(tp, ps->container, kind, tg->markup, tg->markup_len);
  if (id < 0)
    return SQL_ERR_NOMEM;
  ps->stack[ps->depth] = id;
  ps->stack_open[ps->depth++] = tg->open;
  if (kind == N_CAPTURE) {
    ps->container = id;
    return SQL_OK;
  }
  int branch = add_node(tp, id, N_BRANCH, tg->open, 0);
  if (branch < 0)
    return SQL_ERR_NOMEM;
  ps->container = branch;
  return SQL_OK;
}

static int new_branch(struct parser *ps, const struct tag *tg) {
  int top = ps->depth ? ps->stack[ps->depth - 1] : -1;
  if (top < 0 || ps->tp->nodes[top].kind == N_CAPTURE)
    return fail_at(ps->tp, SQL_ERR_SYNTAX, tg->open,
                   "{% else %}/{% elsif %}/{% when %} outside a block");
  if (ps->case_header) {
    /* The first {% when %} of a case: reuse the branch opened by {% case %}. */
    ps->case_header = false;
    return SQL_OK;
  }
  int branch = add_node(ps->tp, top, N_BRANCH, tg->open, 0);
  if (branch < 0)
    return SQL_ERR_NOMEM;
  ps->container = branch;
  return SQL_OK;
}

static int close_block(struct parser *ps, const struct tag *tg, enum node_kind kind) {
  struct tmpl *tp = ps->tp;
  if (ps->depth == 0 || tp->nodes[ps->stack[ps->depth - 1]].kind != kind) {
    char what[96];
    snprintf(what, sizeof what, "unexpected {%% %.*s %%}",
             (int)(tg->name_len < 40 ? tg->name_len : 40), tp->t + tg->name);
    return fail_at(tp, SQL_ERR_SYNTAX, tg->open, what);
  }
  int id = ps->stack[--ps->depth];
  ps->container = tp->nodes[id].parent;
  ps->case_header = false;
  return SQL_OK;
}

static int on_tag(struct parser *ps, const struct tag *tg, size_t *next) {
  struct tmpl *tp = ps->tp;
  struct tag end;
  int rc = SQL_OK;
  *next = tg->end;
  if (tag_is(tp, tg, "if") || tag_is(tp, tg, "unless")) {
    rc = open_block(ps, N_IF, tg);
  } else if (tag_is(tp, tg, "case")) {
    rc = open_block(ps, N_IF, tg);
    ps->case_header = true;
  } else if (tag_is(tp, tg, "elsif") || tag_is(tp, tg, "else") || tag_is(tp, tg, "when")) {
    rc = new_branch(ps, tg);
  } else if (tag_is(tp, tg, "endif") || tag_is(tp, tg, "endunless") || tag_is(tp, tg, "endcase")) {
    rc = close_block(ps, tg, N_IF);
  } else if (tag_is(tp, tg, "for") || tag_is(tp, tg, "tablerow")) {
    rc = open_block(ps, N_FOR, tg);
  } else if (tag_is(tp, tg, "endfor") || tag_is(tp, tg, "endtablerow")) {
    rc = close_block(ps, tg, N_FOR);
  } else if (tag_is(tp, tg, "capture")) {
    rc = open_block(ps, N_CAPTURE, tg);
  } else if (tag_is(tp, tg, "endcapture")) {
    rc = close_block(ps, tg, N_CAPTURE);
  } else if (tag_is(tp, tg, "assign")) {
    rc = add_node(tp, ps->container, N_ASSIGN, tg->markup, tg->markup_len) < 0 ? SQL_ERR_NOMEM : 0;
  } else if (tag_is(tp, tg, "echo")) {
    rc = add_node(tp, ps->container, N_OUTPUT, tg->markup, tg->markup_len) < 0 ? SQL_ERR_NOMEM : 0;
  } else if (tag_is(tp, tg, "comment") || tag_is(tp, tg, "raw") || tag_is(tp, tg, "form")) {
    const char *endname = tag_is(tp, tg, "comment") ? "endcomment"
                          : tag_is(tp, tg, "raw")   ? "endraw"
                                                    : "endform";
    if (!find_end(tp, tg->end, endname, &end)) {
      if (sql_poll_cancelled(tp->poll))
        return sql_cancelled(tp->err, tp->errlen);
      char what[64];
      snprintf(what, sizeof what, "{%% %s %%} without {%% %s %%}", endname + 3, endname);
      return fail_at(tp, SQL_ERR_SYNTAX, tg->open, what);
    }
    if (tag_is(tp, tg, "raw"))
      rc = add_text(ps, tg->end, end.open, false);
    else if (tag_is(tp, tg, "form"))
      rc = parse_form(tp, tg->end, end.open);
    *next = end.end;
    ps->strip_next = end.strip_after;
    return rc;
  }
  /* Anything else ({% break %}, {% increment %}, {% include %}, ...) renders nothing. */
  ps->strip_next = tg->strip_after;
  return rc;
}

static int parse(struct tmpl *tp) {
  struct parser ps = {.tp = tp, .container = 0};
  size_t i = 0, text = 0;
  int rc;
  if (add_node(tp, -1, N_ROOT, 0, 0) < 0)
    return SQL_ERR_NOMEM;
  while (i + 1 < tp->len) {
    const char *p = memchr(tp->t + i, '{', tp->len - i - 1);
    struct tag tg;
    if (!p)
      break;
    if (sql_poll_cancelled(tp->poll))
      return sql_cancelled(tp->err, tp->errlen);
    i = (size_t)(p - tp->t);
    char kind = tp->t[i + 1];
    if (kind != '%' && kind != '{') {
      i++;
      continue;
    }
    if (!read_tag(tp, i, kind == '%' ? '%' : '}', &tg))
      return fail_at(tp, SQL_ERR_SYNTAX, i, kind == '%' ? "unterminated {%" : "unterminated {{");
    if ((rc = add_text(&ps, text, i, tg.strip_before)))
      return rc;
    if (kind == '{') {
      /* The whole {{ ... }} markup, name and rest. */
      size_t start = tg.name, len = tg.markup + tg.markup_len - tg.name;
      if (tg.markup_len == 0)
        len = tg.name_len;
      if (!ps.case_header && add_node(tp, ps.container, N_OUTPUT, start, len) < 0)
        return SQL_ERR_NOMEM;
      ps.strip_next = tg.strip_after;
      i = text = tg.end;
      continue;
    }
    bool strip_after = tg.strip_after;
    if ((rc = on_tag(&ps, &tg, &i)))
      return rc == SQL_ERR_NOMEM ? sql_fail(rc, tp->err, tp->errlen, "out of memory") : rc;
    if (!ps.strip_next)
      ps.strip_next = strip_after;
    text = i;
  }
  if ((rc = add_text(&ps, text, tp->len, false)))
    return rc;
  if (ps.depth > 0)
    return fail_at(tp, SQL_ERR_SYNTAX, ps.stack_open[ps.depth - 1], "block never closed");
  return SQL_OK;
}

/* ---- expressions ----------------------------------------------------------------------- */

struct span {
  const char *s;
  size_t len;
};

static struct span trim(struct span x) {
  while (x.len && is_space(x.s[0])) {
    x.s++;
    x.len--;
  }
  while (x.len && is_space(x.s[x.len - 1]))
    x.len--;
  return x;
}

/* Splits x at the first top-level c (outside quotes): head in *a, rest after c in *b. */
static bool split_at(struct span x, char c, struct span *a, struct span *b) {
  char q = 0;
  for (size_t i = 0; i < x.len; i++) {
    char ch = x.s[i];
    if (q) {
      if (ch == q)
        q = 0;
    } else if (ch == '\'' || ch == '"') {
      q = ch;
    } else if (ch == c) {
      *a = (struct span){x.s, i};
      *b = (struct span){x.s + i + 1, x.len - i - 1};
      return true;
    }
  }
  *a = x;
  *b = (struct span){x.s + x.len, 0};
  return false;
}

static int range_value(struct span x, struct value *out) {
  /* (a..b) with integer bounds */
  char buf[64];
  long a, b;
  if (x.len >= sizeof buf)
    return value_set(out, "", 0, true);
  memcpy(buf, x.s + 1, x.len - 2);
  buf[x.len - 2] = '\0';
  if (sscanf(buf, "%ld..%ld", &a, &b) != 2 || b < a)
    return value_set(out, "", 0, true);
  if (b - a >= MAX_RANGE)
    b = a + MAX_RANGE - 1;
  struct strbuf sb;
  sb_init(&sb, SQL_MAX_RENDERED);
  int rc = SQL_OK;
  for (long k = a; k <= b && !rc; k++) {
    char num[32];
    int n = snprintf(num, sizeof num, "%s%ld", k > a ? "\x1f" : "", k);
    rc = sb_append(&sb, num, (size_t)n);
  }
  if (!rc)
    rc = value_set(out, sb.data ? sb.data : "", sb.len, true);
  sb_free(&sb);
  return rc;
}

/* Looks up `name`, `name.first`, `name.size`, `name[0]`, `forloop.index`. */
static int lookup(struct tmpl *tp, struct span x, struct value *out) {
  struct var *v = var_find(&tp->vars, x.s, x.len);
  if (v)
    return value_set(out, v->v.s, v->v.len, v->v.array);
  size_t base = 0;
  while (base < x.len && x.s[base] != '.' && x.s[base] != '[')
    base++;
  v = var_find(&tp->vars, x.s, base);
  if (!v)
    return value_set(out, "", 0, false);
  struct span prop = {x.s + base, x.len - base};
  const char *s = v->v.s;
  size_t n = v->v.len;
  if (v->v.array && (prop.len >= 6 && memcmp(prop.s, ".first", 6) == 0)) {
    const char *sep = memchr(s, ARRAY_SEP, n);
    return value_set(out, s, sep ? (size_t)(sep - s) : n, false);
  }
  if (v->v.array && prop.len >= 5 && memcmp(prop.s, ".last", 5) == 0) {
    const char *sep = s + n;
    while (sep > s && sep[-1] != ARRAY_SEP)
      sep--;
    return value_set(out, sep, (size_t)(s + n - sep), false);
  }
  if (prop.len >= 5 && memcmp(prop.s, ".size", 5) == 0) {
    size_t count = v->v.array ? (n ? 1 : 0) : n;
    if (v->v.array)
      for (size_t k = 0; k < n; k++)
        count += s[k] == ARRAY_SEP;
    char num[32];
    int w = snprintf(num, sizeof num, "%zu", count);
    return value_set(out, num, (size_t)w, false);
  }
  return value_set(out, s, n, v->v.array);
}

static int primary(struct tmpl *tp, struct span x, struct value *out) {
  x = trim(x);
  if (x.len >= 2 && (x.s[0] == '\'' || x.s[0] == '"') && x.s[x.len - 1] == x.s[0])
    return value_set(out, x.s + 1, x.len - 2, false);
  if (x.len >= 5 && x.s[0] == '(' && x.s[x.len - 1] == ')')
    return range_value(x, out);
  if (x.len == 0 || (x.len == 3 && memcmp(x.s, "nil", 3) == 0) ||
      (x.len == 5 && memcmp(x.s, "empty", 5) == 0) || (x.len == 5 && memcmp(x.s, "blank", 5) == 0))
    return value_set(out, "", 0, false);
  if ((x.s[0] >= '0' && x.s[0] <= '9') || x.s[0] == '-' ||
      (x.len == 4 && !memcmp(x.s, "true", 4)) || (x.len == 5 && !memcmp(x.s, "false", 5)))
    return value_set(out, x.s, x.len, false);
  return lookup(tp, x, out);
}

/* Replaces every occurrence of `from` in v by `to` (all, or the first only). */
static int replace_all(struct value *v, const char *from, size_t flen, const char *to, size_t tlen,
                       bool first_only) {
  struct strbuf sb;
  int rc = SQL_OK;
  sb_init(&sb, SQL_MAX_RENDERED);
  size_t i = 0;
  bool done = false;
  while (i < v->len && !rc) {
    if (flen && !done && i + flen <= v->len && memcmp(v->s + i, from, flen) == 0) {
      rc = sb_append(&sb, to, tlen);
      i += flen;
      done = first_only;
    } else {
      rc = sb_append(&sb, v->s + i, 1);
      i++;
    }
  }
  if (!rc)
    rc = value_set(v, sb.data ? sb.data : "", sb.len, v->array);
  sb_free(&sb);
  return rc;
}

static int apply_filter(struct tmpl *tp, struct span f, struct value *v) {
  struct span name, args, a1, a2;
  split_at(f, ':', &name, &args);
  name = trim(name);
  split_at(args, ',', &a1, &a2);
  struct value x = {0}, y = {0};
  int rc = primary(tp, a1, &x);
  if (!rc)
    rc = primary(tp, a2, &y);
#define IS(lit) (name.len == sizeof(lit) - 1 && memcmp(name.s, lit, name.len) == 0)
  if (rc) {
  } else if (IS("default")) {
    if (v->len == 0)
      rc = value_set(v, x.s, x.len, x.array);
  } else if (IS("upcase") || IS("downcase") || IS("capitalize")) {
    for (size_t k = 0; k < v->len; k++) {
      char c = v->s[k];
      bool up = IS("upcase") || (IS("capitalize") && k == 0);
      if (up && c >= 'a' && c <= 'z')
        v->s[k] = (char)(c - 'a' + 'A');
      else if (IS("downcase") && c >= 'A' && c <= 'Z')
        v->s[k] = (char)(c - 'A' + 'a');
    }
  } else if (IS("append") || IS("prepend")) {
    struct strbuf sb;
    sb_init(&sb, SQL_MAX_RENDERED);
    if (IS("prepend"))
      rc = sb_append(&sb, x.s, x.len);
    if (!rc)
      rc = sb_append(&sb, v->s, v->len);
    if (!rc && IS("append"))
      rc = sb_append(&sb, x.s, x.len);
    if (!rc)
      rc = value_set(v, sb.data ? sb.data : "", sb.len, false);
    sb_free(&sb);
  } else if (IS("replace") || IS("replace_first")) {
    rc = replace_all(v, x.s, x.len, y.s, y.len, IS("replace_first"));
  } else if (IS("remove") || IS("remove_first")) {
    rc = replace_all(v, x.s, x.len, "", 0, IS("remove_first"));
  } else if (IS("split")) {
    rc = replace_all(v, x.s, x.len, (const char[]){ARRAY_SEP}, 1, false);
    v->array = true;
  } else if (IS("join")) {
    if (v->array)
      rc = replace_all(v, (const char[]){ARRAY_SEP}, 1, x.s, x.len, false);
    v->array = false;
  } else if (IS("strip") || IS("lstrip") || IS("rstrip")) {
    size_t a = 0, b = v->len;
    while (!IS("rstrip") && a < b && is_space(v->s[a]))
      a++;
    while (!IS("lstrip") && b > a && is_space(v->s[b - 1]))
      b--;
    memmove(v->s, v->s + a, b - a);
    v->len = b - a;
    v->s[v->len] = '\0';
  } else if (IS("first") || IS("last")) {
    if (v->array) {
      const char *s = v->s, *e = s + v->len;
      const char *a = s, *b = memchr(s, ARRAY_SEP, v->len);
      if (IS("last")) {
        a = e;
        while (a > s && a[-1] != ARRAY_SEP)
          a--;
        b = e;
      }
      rc = value_set(v, a, (size_t)((b ? b : e) - a), false);
    }
  }
  /* Other filters (date, size, escape, ...) leave the value as it is: for lineage, the table
   * names matter, and they rarely go through a filter. */
#undef IS
  value_free(&x);
  value_free(&y);
  return rc;
}

/* `primary | filter: args | ...` */
static int eval(struct tmpl *tp, struct span x, struct value *out) {
  struct span head, rest;
  bool more = split_at(x, '|', &head, &rest);
  int rc = primary(tp, head, out);
  while (!rc && more) {
    struct span f;
    more = split_at(rest, '|', &f, &rest);
    rc = apply_filter(tp, f, out);
  }
  return rc;
}

/* ---- conditions on the loop ---------------------------------------------------------------- */

/* Finds the first top-level occurrence of word (" and ", " or ") or operator in x. */
static bool find_op(struct span x, const char *op, struct span *a, struct span *b) {
  size_t n = strlen(op);
  char q = 0;
  for (size_t i = 0; i + n <= x.len; i++) {
    char ch = x.s[i];
    if (q) {
      if (ch == q)
        q = 0;
    } else if (ch == '\'' || ch == '"') {
      q = ch;
    } else if (memcmp(x.s + i, op, n) == 0) {
      *a = (struct span){x.s, i};
      *b = (struct span){x.s + i + n, x.len - i - n};
      return true;
    }
  }
  return false;
}

/* An operand whose value the loop fixes: `forloop.*` inside a loop, an integer, true, false.
 * Anything else (a parameter, a string) is not decided here. */
static bool loop_operand(struct tmpl *tp, struct span x, struct value *out) {
  x = trim(x);
  if (x.len > 8 && memcmp(x.s, "forloop.", 8) == 0) {
    const struct var *v = var_find(&tp->vars, x.s, x.len);
    return v && value_set(out, v->v.s, v->v.len, false) == SQL_OK;
  }
  bool number = x.len > 0;
  for (size_t k = 0; k < x.len; k++)
    number = number && ((x.s[k] >= '0' && x.s[k] <= '9') || (k == 0 && x.s[k] == '-' && x.len > 1));
  if (number || (x.len == 4 && !memcmp(x.s, "true", 4)) || (x.len == 5 && !memcmp(x.s, "false", 5)))
    return value_set(out, x.s, x.len, false) == SQL_OK;
  return false;
}

/* `a OP b` or a lone operand (true unless false). */
static bool loop_comparison(struct tmpl *tp, struct span x, bool *out) {
  static const char *const ops[] = {"==", "!=", "<>", ">=", "<=", ">", "<"};
  struct span a, b;
  struct value va = {0}, vb = {0};
  size_t k = 0;
  bool ok;
  while (k < sizeof ops / sizeof ops[0] && !find_op(x, ops[k], &a, &b))
    k++;
  if (k == sizeof ops / sizeof ops[0]) {
    ok = loop_operand(tp, x, &va);
    *out = ok && strcmp(va.s, "false") != 0;
    value_free(&va);
    return ok;
  }
  ok = loop_operand(tp, a, &va) && loop_operand(tp, b, &vb);
  if (ok) {
    char *ea, *eb;
    long na = strtol(va.s, &ea, 10), nb = strtol(vb.s, &eb, 10);
    bool numbers = *va.s && *vb.s && !*ea && !*eb;
    int cmp = numbers ? (na > nb) - (na < nb) : strcmp(va.s, vb.s);
    if (k <= 2)
      *out = (cmp == 0) == (k == 0);
    else if (!numbers)
      ok = false;
    else
      *out = k == 3 ? cmp >= 0 : k == 4 ? cmp <= 0 : k == 5 ? cmp > 0 : cmp < 0;
  }
  value_free(&va);
  value_free(&vb);
  return ok;
}

/* Evaluates x when the loop alone decides it; `and`/`or` group from the right, as in Liquid.
 * Returns false when it depends on anything else, or chains more than 16 of them (the
 * recursion stays shallow whatever the template). */
static bool loop_condition(struct tmpl *tp, struct span x, int depth, bool *out) {
  struct span a, b, c, d;
  if (depth > 16)
    return false;
  bool has_and = find_op(x, " and ", &a, &b), has_or = find_op(x, " or ", &c, &d);
  if (has_and && (!has_or || a.len < c.len)) {
    bool l, r;
    if (!loop_comparison(tp, a, &l) || !loop_condition(tp, b, depth + 1, &r))
      return false;
    *out = l && r;
    return true;
  }
  if (has_or) {
    bool l, r;
    if (!loop_comparison(tp, c, &l) || !loop_condition(tp, d, depth + 1, &r))
      return false;
    *out = l || r;
    return true;
  }
  return loop_comparison(tp, x, out);
}

/* The branch of `if`/`unless` node id that the current loop iteration takes (-1: none), when
 * its conditions are all on the loop. The conditions are in the tags that open the branches;
 * one longer than MAX_LOOP_TAG is not evaluated, so each iteration costs little whatever the
 * template. */
static bool loop_branch(struct tmpl *tp, int id, int *choice) {
  if (tp->loop_depth == 0)
    return false;
  int k = 0;
  for (int b = tp->nodes[id].first; b >= 0; b = tp->nodes[b].next, k++) {
    struct tag tg;
    bool val;
    size_t start = tp->nodes[b].start;
    size_t end = tp->len - start > MAX_LOOP_TAG ? start + MAX_LOOP_TAG : tp->len;
    if (!read_tag_within(tp, start, end, '%', &tg))
      return false;
    struct span cond = {tp->t + tg.markup, tg.markup_len};
    if (tag_is(tp, &tg, "else")) {
      *choice = k;
      return true;
    }
    if (!(tag_is(tp, &tg, "if") || tag_is(tp, &tg, "unless") || tag_is(tp, &tg, "elsif")) ||
        !loop_condition(tp, cond, 0, &val))
      return false;
    if (val != tag_is(tp, &tg, "unless")) {
      *choice = k;
      return true;
    }
  }
  *choice = -1;
  return true;
}

/* ---- rendering ------------------------------------------------------------------------- */

static int render_children(struct tmpl *tp, int id, struct strbuf *out);

static int out_fail(struct tmpl *tp, int rc) {
  if (tp->err && tp->errlen && tp->err[0])
    return rc; /* already explained */
  if (rc == SQL_ERR_LIMIT)
    return sql_fail(rc, tp->err, tp->errlen, "template renders to more than %zu bytes",
                    (size_t)SQL_MAX_RENDERED);
  if (rc == SQL_ERR_NOMEM)
    return sql_fail(rc, tp->err, tp->errlen, "out of memory");
  return rc;
}

static int emit_value(struct strbuf *out, const struct value *v) {
  if (!v->array)
    return sb_append(out, v->s, v->len);
  for (size_t k = 0; k < v->len; k++) {
    int rc = v->s[k] == ARRAY_SEP ? sb_append(out, ",", 1) : sb_append(out, v->s + k, 1);
    if (rc)
      return rc;
  }
  return SQL_OK;
}

/* `name = expr` */
static int render_assign(struct tmpl *tp, const struct node *n) {
  struct span all = {tp->t + n->start, n->len}, name, expr;
  if (!split_at(all, '=', &name, &expr))
    return SQL_OK;
  name = trim(name);
  struct value v = {0};
  int rc = eval(tp, expr, &v);
  if (!rc)
    rc = var_set(&tp->vars, name.s, name.len, v.s, v.len, v.array);
  value_free(&v);
  return rc;
}

static int render_capture(struct tmpl *tp, int id) {
  const struct node *n = &tp->nodes[id];
  struct span name = trim((struct span){tp->t + n->start, n->len});
  struct strbuf sb;
  sb_init(&sb, SQL_MAX_RENDERED);
  int rc = render_children(tp, id, &sb);
  if (!rc)
    rc = var_set(&tp->vars, name.s, name.len, sb.data ? sb.data : "", sb.len, false);
  sb_free(&sb);
  return rc;
}

static int set_forloop(struct tmpl *tp, size_t k, size_t count) {
  char num[32];
  tp->loop_index = k;
  tp->loop_count = count;
  int rc, w = snprintf(num, sizeof num, "%zu", k + 1);
  if ((rc = var_set(&tp->vars, "forloop.index", 13, num, (size_t)w, false)))
    return rc;
  w = snprintf(num, sizeof num, "%zu", k);
  if ((rc = var_set(&tp->vars, "forloop.index0", 14, num, (size_t)w, false)))
    return rc;
  w = snprintf(num, sizeof num, "%zu", count);
  if ((rc = var_set(&tp->vars, "forloop.length", 14, num, (size_t)w, false)))
    return rc;
  if ((rc = var_set(&tp->vars, "forloop.first", 13, k == 0 ? "true" : "false", k == 0 ? 4 : 5,
                    false)))
    return rc;
  w = snprintf(num, sizeof num, "%zu", count - k);
  if ((rc = var_set(&tp->vars, "forloop.rindex", 14, num, (size_t)w, false)))
    return rc;
  w = snprintf(num, sizeof num, "%zu", count - k - 1);
  if ((rc = var_set(&tp->vars, "forloop.rindex0", 15, num, (size_t)w, false)))
    return rc;
  bool last = k + 1 >= count;
  return var_set(&tp->vars, "forloop.last", 12, last ? "true" : "false", last ? 4 : 5, false);
}

/* `item in collection [limit: n] [offset: n] [reversed]`; the body at least once. */
static int render_for(struct tmpl *tp, int id, struct strbuf *out) {
  const struct node *n = &tp->nodes[id];
  struct span all = trim((struct span){tp->t + n->start, n->len});
  size_t sp = 0;
  while (sp < all.len && !is_space(all.s[sp]))
    sp++;
  struct span var = {all.s, sp}, rest = trim((struct span){all.s + sp, all.len - sp});
  struct value coll = {0};
  int rc = SQL_OK;
  if (rest.len > 3 && memcmp(rest.s, "in", 2) == 0 && is_space(rest.s[2])) {
    rest = trim((struct span){rest.s + 2, rest.len - 2});
    size_t end = 0;
    if (rest.len && rest.s[0] == '(') {
      while (end < rest.len && rest.s[end] != ')')
        end++;
      end++;
    } else {
      while (end < rest.len && !is_space(rest.s[end]))
        end++;
    }
    rc = primary(tp, (struct span){rest.s, end < rest.len ? end : rest.len}, &coll);
  }
  if (!rc && !coll.s)
    rc = value_set(&coll, "", 0, false); /* no `in collection`: run the body once */
  if (rc)
    return rc;
  size_t count = coll.len ? 1 : 0;
  for (size_t k = 0; k < coll.len; k++)
    count += coll.array && coll.s[k] == ARRAY_SEP;
  const struct node *body = &tp->nodes[n->first];
  const char *item = coll.s;
  size_t outer_index = tp->loop_index, outer_count = tp->loop_count;
  tp->loop_depth++;
  for (size_t k = 0; k < (count ? count : 1) && !rc; k++) {
    if (++tp->iterations > MAX_ITERATIONS) {
      rc = sql_fail(SQL_ERR_LIMIT, tp->err, tp->errlen,
                    "template loops run more than %d iterations", MAX_ITERATIONS);
      break;
    }
    const char *sep =
        coll.array ? memchr(item, ARRAY_SEP, (size_t)(coll.s + coll.len - item)) : NULL;
    size_t ilen = sep ? (size_t)(sep - item) : (size_t)(coll.s + coll.len - item);
    if (!count)
      ilen = 0;
    rc = var_set(&tp->vars, var.s, var.len, item, ilen, false);
    if (!rc)
      rc = set_forloop(tp, k, count ? count : 1);
    if (!rc)
      rc = render_children(tp, (int)(body - tp->nodes), out);
    item = sep ? sep + 1 : item + ilen;
  }
  /* The enclosing loop's forloop.* again for the rest of its body. */
  if (--tp->loop_depth > 0 && !rc)
    rc = set_forloop(tp, outer_index, outer_count);
  /* {% else %} of a for: shown when the collection is empty. */
  if (!rc && count == 0 && body->next >= 0)
    rc = render_children(tp, body->next, out);
  value_free(&coll);
  return rc;
}

static int render_node(struct tmpl *tp, int id, struct strbuf *out) {
  const struct node *n = &tp->nodes[id];
  if (sql_poll_cancelled(tp->poll))
    return sql_cancelled(tp->err, tp->errlen);
  switch (n->kind) {
  case N_TEXT:
    return sb_append(out, tp->t + n->start, n->len);
  case N_OUTPUT: {
    struct value v = {0};
    int rc = eval(tp, (struct span){tp->t + n->start, n->len}, &v);
    if (!rc)
      rc = emit_value(out, &v);
    value_free(&v);
    return rc;
  }
  case N_IF: {
    int b = n->first, choice = n->choice;
    if (!n->forced && loop_branch(tp, id, &choice) && choice < 0)
      return SQL_OK;
    for (int k = 0; k < choice && b >= 0 && tp->nodes[b].next >= 0; k++)
      b = tp->nodes[b].next;
    if (b < 0)
      return SQL_OK;
    tp->nodes[b].taken = true;
    return render_children(tp, b, out);
  }
  case N_FOR:
    return render_for(tp, id, out);
  case N_ASSIGN:
    return render_assign(tp, n);
  case N_CAPTURE:
    return render_capture(tp, id);
  default:
    return render_children(tp, id, out);
  }
}

static int render_children(struct tmpl *tp, int id, struct strbuf *out) {
  for (int c = tp->nodes[id].first; c >= 0; c = tp->nodes[c].next) {
    int rc = render_node(tp, c, out);
    if (rc)
      return rc;
  }
  return SQL_OK;
}

/* A branch that renders nothing but whitespace needs no variant of its own. */
static bool branch_blank(const struct tmpl *tp, int id) {
  for (int c = tp->nodes[id].first; c >= 0; c = tp->nodes[c].next) {
    const struct node *n = &tp->nodes[c];
    if (n->kind != N_TEXT)
      return false;
    for (size_t k = 0; k < n->len; k++)
      if (!is_space(tp->t[n->start + k]))
        return false;
  }
  return true;
}

/* Renders with branch `branch` (a N_BRANCH node, or -1 for variant 0) and its enclosing
 * branches chosen, every other conditional on its first branch. */
static int render_variant(struct tmpl *tp, int branch, struct strbuf *out) {
  for (int k = 0; k < tp->n_nodes; k++) {
    tp->nodes[k].choice = 0;
    tp->nodes[k].forced = false;
  }
  for (int b = branch; b >= 0; b = tp->nodes[b].parent) {
    const struct node *n = &tp->nodes[b];
    if (n->kind == N_BRANCH && n->parent >= 0 && tp->nodes[n->parent].kind == N_IF) {
      tp->nodes[n->parent].choice = n->index;
      tp->nodes[n->parent].forced = true;
    }
  }
  int rc = vars_copy(&tp->vars, &tp->defaults);
  if (!rc)
    rc = render_children(tp, 0, out);
  return rc;
}

int sql_liquid_render(const char *text, size_t len, bool all_variants, struct sql_poll *poll,
                      struct strbuf *out, char *err, size_t errlen) {
  struct tmpl tp = {.t = text, .len = len, .poll = poll, .err = err, .errlen = errlen};
  if (err && errlen)
    err[0] = '\0';
  int rc = parse(&tp);
  if (rc) {
    if (rc == SQL_ERR_NOMEM)
      sql_fail(rc, err, errlen, "out of memory");
    goto out;
  }
  if ((rc = render_variant(&tp, -1, out)))
    goto out;
  int variants = 1;
  for (int k = 0; all_variants && k < tp.n_nodes && variants < MAX_VARIANTS; k++) {
    const struct node *n = &tp.nodes[k];
    if (n->kind != N_BRANCH || n->index == 0 || tp.nodes[n->parent].kind != N_IF || n->taken ||
        branch_blank(&tp, k))
      continue;
    if ((rc = sb_append_str(out, "\n;\n")) || (rc = render_variant(&tp, k, out)))
      goto out;
    variants++;
  }
out:
  free(tp.nodes);
  vars_free(&tp.defaults);
  vars_free(&tp.vars);
  return rc ? out_fail(&tp, rc) : SQL_OK;
}
