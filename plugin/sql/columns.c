/*
 * columns.c -- column lineage: which base-table columns each result column is computed from.
 *
 * A second pass over the tokens, after extract.c has found the tables (sources[] is the truth
 * about what is a table: a name this pass reads in a FROM is a base table only if extract.c
 * listed it, so CTE shadowing, stages, table functions and paths are decided in one place).
 *
 * Unlike extract.c this pass needs the shape of a query, so it works on token ranges: every
 * '(' knows its ')' (match[]), which makes "the next clause keyword at this level" a skip over
 * parenthesised groups. A query is [WITH ctes] core {UNION|INTERSECT|EXCEPT core}; a core is
 * SELECT list [INTO t] [FROM items] [...]. The FROM items are read first into a scope (base
 * tables, CTEs and subqueries with their computed columns, table functions such as UNNEST with
 * the columns of their arguments), then each select item's expression is walked flat: every
 * name that is not a keyword, a function name, a cast's type or a date part is a column
 * reference resolved in that scope (then the enclosing ones, for correlated subqueries). What
 * must not count (window specs, FILTER, WITHIN GROUP, ORDER BY inside aggregates, types) is
 * skipped by jumping to the ')' of its group.
 *
 * A source set is a list of (table, column name id) pairs, sorted and made unique when its
 * column is complete, so copying a CTE's column into a reference costs its distinct sources.
 * Column names are interned (one id per normalised name) so comparisons are integer ones. A
 * work budget linear in the number of tokens bounds the adversarial cases (a column with many
 * sources referenced many times, many FROM items times many references): past it, the tables
 * are kept and columns_status says SQL_ERR_LIMIT.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sql_internal.h"

#define NONE UINT32_MAX
#define STAR 0u /* name id of "*" */
#define MAX_NAME_PARTS 8
#define MAX_EXPR_NAME 200 /* bytes of an expression's text used as its column's name */

/* ---- word classes ------------------------------------------------------------------------ */

enum {
  C_EXPR = 1,     /* a keyword inside expressions: never a column, never an implicit alias */
  C_CLAUSE = 2,   /* ends a select list or a FROM list at its level */
  C_JOIN = 4,     /* starts the next FROM item */
  C_NOALIAS = 8,  /* never a FROM item's alias */
  C_TYPELIT = 16, /* DATE '2020-01-01' */
  C_DATEPART = 32 /* a unit in DATEADD(day, ...), EXTRACT(year FROM ...), INTERVAL 1 DAY */
};

struct word {
  const char *w; /* upper case; the table is sorted for bsearch */
  unsigned char cls;
};

static const struct word words[] = {
    {"AND", C_EXPR},
    {"ANTI", C_JOIN | C_NOALIAS},
    {"ANY", C_EXPR},
    {"APPLY", C_JOIN | C_NOALIAS},
    {"AS", C_EXPR | C_NOALIAS},
    {"ASC", C_EXPR},
    {"ASOF", C_JOIN | C_NOALIAS},
    {"AT", C_EXPR | C_NOALIAS},
    {"BEFORE", C_NOALIAS},
    {"BETWEEN", C_EXPR},
    {"BOTH", C_EXPR},
    {"BY", C_EXPR},
    {"CASE", C_EXPR},
    {"CHANGES", C_NOALIAS},
    {"CONNECT", C_CLAUSE | C_NOALIAS},
    {"CROSS", C_JOIN | C_NOALIAS},
    {"CURRENT_DATE", C_EXPR},
    {"CURRENT_TIME", C_EXPR},
    {"CURRENT_TIMESTAMP", C_EXPR},
    {"CURRENT_USER", C_EXPR},
    {"DATE", C_TYPELIT},
    {"DATETIME", C_TYPELIT},
    {"DAY", C_DATEPART},
    {"DAYOFWEEK", C_DATEPART},
    {"DAYOFYEAR", C_DATEPART},
    {"DAYS", C_DATEPART},
    {"DD", C_DATEPART},
    {"DESC", C_EXPR},
    {"DISTINCT", C_EXPR},
    {"DOW", C_DATEPART},
    {"DOY", C_DATEPART},
    {"ELSE", C_EXPR},
    {"END", C_EXPR},
    {"EPOCH", C_DATEPART},
    {"ESCAPE", C_EXPR},
    {"EXCEPT", C_CLAUSE | C_NOALIAS},
    {"EXISTS", C_EXPR},
    {"FALSE", C_EXPR},
    {"FETCH", C_CLAUSE | C_NOALIAS},
    {"FILTER", C_EXPR},
    {"FOR", C_EXPR | C_NOALIAS},
    {"FROM", C_EXPR | C_CLAUSE | C_NOALIAS},
    {"FULL", C_JOIN | C_NOALIAS},
    {"GLOBAL", C_JOIN | C_NOALIAS},
    {"GROUP", C_CLAUSE | C_NOALIAS},
    {"HAVING", C_CLAUSE | C_NOALIAS},
    {"HH", C_DATEPART},
    {"HOUR", C_DATEPART},
    {"HOURS", C_DATEPART},
    {"IGNORE", C_EXPR},
    {"ILIKE", C_EXPR},
    {"IN", C_EXPR},
    {"INNER", C_JOIN | C_NOALIAS},
    {"INTERSECT", C_CLAUSE | C_NOALIAS},
    {"INTERVAL", C_EXPR},
    {"INTO", C_CLAUSE | C_NOALIAS},
    {"IS", C_EXPR},
    {"ISOWEEK", C_DATEPART},
    {"ISOYEAR", C_DATEPART},
    {"JOIN", C_JOIN | C_NOALIAS},
    {"LATERAL", C_JOIN | C_NOALIAS},
    {"LEADING", C_EXPR},
    {"LEFT", C_JOIN | C_NOALIAS},
    {"LIKE", C_EXPR},
    {"LIMIT", C_CLAUSE | C_NOALIAS},
    {"LOCALTIME", C_EXPR},
    {"LOCALTIMESTAMP", C_EXPR},
    {"MATCH_RECOGNIZE", C_NOALIAS},
    {"MI", C_DATEPART},
    {"MICROSECOND", C_DATEPART},
    {"MILLISECOND", C_DATEPART},
    {"MINUS", C_CLAUSE | C_NOALIAS},
    {"MINUTE", C_DATEPART},
    {"MINUTES", C_DATEPART},
    {"MM", C_DATEPART},
    {"MONTH", C_DATEPART},
    {"MONTHS", C_DATEPART},
    {"NATURAL", C_JOIN | C_NOALIAS},
    {"NOT", C_EXPR},
    {"NULL", C_EXPR},
    {"NULLS", C_EXPR},
    {"OFFSET", C_CLAUSE | C_NOALIAS},
    {"ON", C_EXPR | C_NOALIAS},
    {"OR", C_EXPR},
    {"ORDER", C_CLAUSE | C_NOALIAS},
    {"OUTER", C_JOIN | C_NOALIAS},
    {"OVER", C_EXPR},
    {"PARTITION", C_EXPR},
    {"PIVOT", C_NOALIAS},
    {"PREWHERE", C_CLAUSE | C_NOALIAS},
    {"QUALIFY", C_CLAUSE | C_NOALIAS},
    {"QUARTER", C_DATEPART},
    {"RESPECT", C_EXPR},
    {"RIGHT", C_JOIN | C_NOALIAS},
    {"RLIKE", C_EXPR},
    {"SAMPLE", C_NOALIAS},
    {"SECOND", C_DATEPART},
    {"SECONDS", C_DATEPART},
    {"SEMI", C_JOIN | C_NOALIAS},
    {"SEPARATOR", C_EXPR},
    {"SESSION_USER", C_EXPR},
    {"SIMILAR", C_EXPR},
    {"SOME", C_EXPR},
    {"SS", C_DATEPART},
    {"STRAIGHT_JOIN", C_JOIN | C_NOALIAS},
    {"SYSDATE", C_EXPR},
    {"SYSTIMESTAMP", C_EXPR},
    {"TABLESAMPLE", C_NOALIAS},
    {"THEN", C_EXPR},
    {"TIME", C_TYPELIT},
    {"TIMESTAMP", C_TYPELIT},
    {"TIMESTAMPTZ", C_TYPELIT},
    {"TIMESTAMP_LTZ", C_TYPELIT},
    {"TIMESTAMP_NTZ", C_TYPELIT},
    {"TIMESTAMP_TZ", C_TYPELIT},
    {"TRAILING", C_EXPR},
    {"TRUE", C_EXPR},
    {"UNION", C_CLAUSE | C_NOALIAS},
    {"UNKNOWN", C_EXPR},
    {"UNPIVOT", C_NOALIAS},
    {"USING", C_EXPR | C_NOALIAS},
    {"WEEK", C_DATEPART},
    {"WEEKS", C_DATEPART},
    {"WHEN", C_EXPR},
    {"WHERE", C_CLAUSE | C_NOALIAS},
    {"WINDOW", C_CLAUSE | C_NOALIAS},
    {"WITH", C_NOALIAS},
    {"WITHIN", C_EXPR},
    {"YEAR", C_DATEPART},
    {"YEARS", C_DATEPART},
    {"YY", C_DATEPART},
    {"YYYY", C_DATEPART},
};

#define N_WORDS (sizeof words / sizeof words[0])

/* Where the words of each initial letter start in words[] (bucket[26] = N_WORDS), so that a
 * token is searched among a handful of words. */
struct word_index {
  unsigned char bucket[27];
};

static void word_index_init(struct word_index *wi) {
  unsigned char count[27] = {0};
  for (size_t k = 0; k < N_WORDS; k++)
    count[words[k].w[0] - 'A' + 1]++;
  wi->bucket[0] = 0;
  for (int c = 1; c <= 26; c++)
    wi->bucket[c] = (unsigned char)(wi->bucket[c - 1] + count[c]);
}

/* A binary search written out (no callback, no strcmp call): this runs once per token. */
static unsigned char classify(const struct word_index *wi, const char *s,
                              const struct sql_token *t) {
  char up[20];
  if (t->kind != TK_WORD || t->len >= sizeof up || t->len < 2)
    return 0;
  for (size_t i = 0; i < t->len; i++) {
    char c = s[t->start + i];
    up[i] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
  }
  up[t->len] = '\0';
  if (up[0] < 'A' || up[0] > 'Z')
    return 0;
  size_t lo = wi->bucket[up[0] - 'A'], hi = wi->bucket[up[0] - 'A' + 1];
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    const unsigned char *a = (const unsigned char *)up, *b = (const unsigned char *)words[mid].w;
    while (*a && *a == *b)
      a++, b++;
    if (*a == *b)
      return words[mid].cls;
    if (*a < *b)
      hi = mid;
    else
      lo = mid + 1;
  }
  return 0;
}

/* ---- the schema (public) ------------------------------------------------------------------- */

struct schema_table {
  char *name;     /* lower-cased dotted name; owned */
  char **columns; /* lower-cased; owned */
  size_t n, cap;
};

struct sql_schema {
  struct schema_table *tables; /* owned */
  size_t n, cap;
};

static char *lower_dup(const char *s) {
  char *d = strdup(s);
  for (char *p = d; p && *p; p++)
    if (*p >= 'A' && *p <= 'Z')
      *p = (char)(*p - 'A' + 'a');
  return d;
}

struct sql_schema *sql_schema_new(void) {
  return calloc(1, sizeof(struct sql_schema));
}

static struct schema_table *schema_find(const struct sql_schema *sc, const char *lower) {
  for (size_t i = 0; sc && i < sc->n; i++)
    if (strcmp(sc->tables[i].name, lower) == 0)
      return &sc->tables[i];
  return NULL;
}

int sql_schema_add(struct sql_schema *sc, const char *table, const char *column) {
  char *tname = lower_dup(table), *cname = lower_dup(column);
  int rc = SQL_ERR_NOMEM;
  if (!tname || !cname)
    goto out;
  struct schema_table *t = schema_find(sc, tname);
  if (!t) {
    if (sc->n == sc->cap) {
      size_t cap = sc->cap ? sc->cap * 2 : 8;
      struct schema_table *p = realloc(sc->tables, cap * sizeof *p);
      if (!p)
        goto out;
      sc->tables = p;
      sc->cap = cap;
    }
    t = &sc->tables[sc->n++];
    *t = (struct schema_table){.name = tname};
    tname = NULL;
  }
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 8;
    char **p = realloc(t->columns, cap * sizeof *p);
    if (!p)
      goto out;
    t->columns = p;
    t->cap = cap;
  }
  t->columns[t->n++] = cname;
  cname = NULL;
  rc = SQL_OK;
out:
  free(tname);
  free(cname);
  return rc;
}

void sql_schema_free(struct sql_schema **schema) {
  if (!schema || !*schema)
    return;
  struct sql_schema *sc = *schema;
  for (size_t i = 0; i < sc->n; i++) {
    for (size_t k = 0; k < sc->tables[i].n; k++)
      free(sc->tables[i].columns[k]);
    free(sc->tables[i].columns);
    free(sc->tables[i].name);
  }
  free(sc->tables);
  free(sc);
  *schema = NULL;
}

/* ---- relations: columns with their source sets ---------------------------------------------- */

struct csrc {
  uint32_t table; /* index into the lineage's sources */
  uint32_t col;   /* name id, STAR for every column */
};

struct col {
  uint32_t name; /* name id */
  uint32_t type; /* name id of the cast's type text, or NONE */
  bool star;     /* every column of the tables in src (each (t, STAR)) */
  struct csrc *src; /* owned */
  size_t n, cap;
};

struct rel {
  struct col *cols; /* owned */
  size_t n, cap;
};

enum item_kind { IT_NONE, IT_TABLE, IT_REL, IT_FUNC };

/* One FROM item of a scope. */
struct item {
  enum item_kind kind;
  uint32_t alias;       /* name id it is referred to by (alias, else the table's last part) */
  uint32_t table;       /* IT_TABLE */
  bool owns;            /* IT_REL: a subquery's relation, in own; else the CTE cte's */
  size_t cte;           /* IT_REL: index into cx->ctes (a pointer would move on realloc) */
  struct rel own;       /* owned */
  struct col fsrc;      /* IT_FUNC: the columns its arguments read; owned */
  uint32_t calias[16];  /* IT_FUNC / IT_REL column aliases: `AS x(a, b)` */
  size_t n_calias;
};

struct scope {
  struct item *items; /* owned by the core that built it */
  size_t n, cap;
  const struct scope *outer;
  const struct rel *sel; /* select items so far, for lateral alias references */
};

struct cte {
  uint32_t name;
  uint32_t prev; /* cte_top's previous value for this name */
  struct rel rel;
};

/* Interned names: their bytes in one arena (each NUL-terminated), found by offset. */
struct names {
  char *buf; /* owned */
  size_t used, bufcap;
  uint32_t *off, *len; /* owned; per id */
  size_t n, cap;
  uint32_t *slots; /* id + 1, 0 empty */
  size_t n_slots;
};

struct cx {
  const char *s;
  const struct sql_token *tk; /* extract.c's, owned by sql_extract_lineage */
  size_t ntk;
  uint32_t *match;    /* for '(' : its ')'; owned */
  unsigned char *cls; /* word class per token; owned */
  enum sql_dialect d;
  struct sql_poll *poll;
  const struct sql_lineage *lin;
  char **dotted; /* lower-cased dotted name per source; owned */
  char **asis;   /* dotted name per source as sql_table_dotted writes it; owned */
  uint32_t *tslots; /* open-addressing index of dotted: source index + 1, 0 empty; owned */
  size_t n_tslots;
  uint32_t **known; /* per source: name ids of its schema columns, or NULL; owned */
  size_t *n_known;
  struct names names;
  uint32_t *tokname; /* per token: its name id once asked, NONE before; owned */
  unsigned char *pq;  /* per '(': PQ_YES / PQ_NO once paren_query asked, 0 before; owned */
  unsigned polls;
  uint32_t *cte_top; /* per name id: index + 1 of the visible CTE; owned */
  size_t cap_top;
  struct cte *ctes; /* owned; a stack */
  size_t n_cte, cap_cte;
  struct strbuf scratch;
  char *scratch_buf; /* tok_name's; owned */
  size_t scratch_cap;
  size_t budget; /* units of work left */
  int depth;
  char *err;
  size_t errlen;
};

enum { PQ_NO = 1, PQ_YES = 2 };

#define E_BUDGET 1 /* internal: out of budget (becomes columns_status SQL_ERR_LIMIT) */

static int cx_nomem(struct cx *cx) {
  return sql_fail(SQL_ERR_NOMEM, cx->err, cx->errlen, "out of memory");
}

static bool spend(struct cx *cx, size_t units) {
  if (cx->budget < units) {
    cx->budget = 0;
    return false;
  }
  cx->budget -= units;
  return true;
}

static const struct sql_token *tok(const struct cx *cx, size_t i) {
  return &cx->tk[i < cx->ntk ? i : cx->ntk - 1];
}

static unsigned char cls_at(const struct cx *cx, size_t i) {
  return i < cx->ntk ? cx->cls[i] : 0;
}

/* A word equal to kw (upper case, n bytes) ignoring ASCII case; the length test first, as
 * most calls fail there. Called as is_word(cx, i, "KW"). */
static bool word_eq(const struct cx *cx, size_t i, const char *kw, size_t n) {
  const struct sql_token *t = tok(cx, i);
  if (t->len != n || t->kind != TK_WORD)
    return false;
  const char *p = cx->s + t->start;
  for (size_t k = 0; k < n; k++)
    if ((p[k] & ~0x20) != kw[k] && p[k] != kw[k])
      return false;
  return true;
}

#define is_word(cx, i, kw) word_eq((cx), (i), kw, sizeof(kw) - 1)

static bool is_name(const struct cx *cx, size_t i) {
  enum sql_tok_kind k = tok(cx, i)->kind;
  return k == TK_WORD || k == TK_QUOTED;
}

static bool is_op(const struct cx *cx, size_t i, char c) {
  const struct sql_token *t = tok(cx, i);
  return t->kind == TK_OP && cx->s[t->start] == c;
}

/* The token after the one at i, skipping a parenthesised group as one. */
static size_t next(const struct cx *cx, size_t i) {
  if (tok(cx, i)->kind == TK_LPAREN)
    return (size_t)cx->match[i] + 1;
  return i + 1;
}

/* ---- name interning ---------------------------------------------------------------------- */

static uint32_t hash_bytes(const char *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)p[i]) * 16777619u;
  return h;
}

static int names_grow(struct names *nm) {
  size_t ns = nm->n_slots ? nm->n_slots * 2 : 64;
  uint32_t *slots = calloc(ns, sizeof *slots);
  if (!slots)
    return SQL_ERR_NOMEM;
  for (size_t i = 0; i < nm->n; i++) {
    size_t h = hash_bytes(nm->buf + nm->off[i], nm->len[i]) & (ns - 1);
    while (slots[h])
      h = (h + 1) & (ns - 1);
    slots[h] = (uint32_t)i + 1;
  }
  free(nm->slots);
  nm->slots = slots;
  nm->n_slots = ns;
  return SQL_OK;
}

/* The id of p[0..n); *id NONE never on SQL_OK. */
static int intern(struct cx *cx, const char *p, size_t n, uint32_t *id) {
  struct names *nm = &cx->names;
  if ((nm->n + 1) * 2 > nm->n_slots && names_grow(nm))
    return cx_nomem(cx);
  size_t h = hash_bytes(p, n) & (nm->n_slots - 1);
  for (; nm->slots[h]; h = (h + 1) & (nm->n_slots - 1)) {
    uint32_t k = nm->slots[h] - 1;
    if (nm->len[k] == n && memcmp(nm->buf + nm->off[k], p, n) == 0) {
      *id = k;
      return SQL_OK;
    }
  }
  if (nm->n == nm->cap) {
    size_t cap = nm->cap ? nm->cap * 2 : 64;
    uint32_t *o = realloc(nm->off, cap * sizeof *o);
    if (!o)
      return cx_nomem(cx);
    nm->off = o;
    uint32_t *l = realloc(nm->len, cap * sizeof *l);
    if (!l)
      return cx_nomem(cx);
    nm->len = l;
    nm->cap = cap;
  }
  if (nm->used + n + 1 > nm->bufcap) {
    size_t cap = nm->bufcap ? nm->bufcap : 1024;
    while (cap < nm->used + n + 1)
      cap *= 2;
    char *b = realloc(nm->buf, cap);
    if (!b)
      return cx_nomem(cx);
    nm->buf = b;
    nm->bufcap = cap;
  }
  memmove(nm->buf + nm->used, p, n); /* p may point into buf's scratch: never, but be safe */
  nm->buf[nm->used + n] = '\0';
  nm->off[nm->n] = (uint32_t)nm->used;
  nm->used += n + 1;
  nm->len[nm->n] = (uint32_t)n;
  nm->slots[h] = (uint32_t)nm->n + 1;
  *id = (uint32_t)nm->n++;
  return SQL_OK;
}

static const char *name_str(const struct cx *cx, uint32_t id) {
  return cx->names.buf + cx->names.off[id];
}

/* A name token's id: a word lower-cased, a quoted name as written without its quotes, a
 * string literal (an alias in some dialects) without its quotes. */
static int tok_name(struct cx *cx, size_t i, uint32_t *id) {
  if (i >= cx->ntk)
    i = cx->ntk - 1;
  if (cx->tokname[i] != NONE) {
    *id = cx->tokname[i];
    return SQL_OK;
  }
  const struct sql_token *t = &cx->tk[i];
  const char *p = cx->s + t->start;
  size_t n = t->len, o = 0;
  char close = t->kind == TK_QUOTED ? (t->quote == '[' ? ']' : t->quote) : 0;
  if (t->kind == TK_STRING && n >= 2) {
    if (*p == '\'' || *p == '"')
      close = *p; /* 'it''s' */
    p++;
    n -= 2;
  }
  if (n + 1 > cx->scratch_cap) {
    char *b = realloc(cx->scratch_buf, n + 1);
    if (!b)
      return cx_nomem(cx);
    cx->scratch_buf = b;
    cx->scratch_cap = n + 1;
  }
  for (size_t k = 0; k < n; k++) {
    char c = p[k];
    if (t->kind == TK_WORD && c >= 'A' && c <= 'Z')
      c = (char)(c - 'A' + 'a');
    cx->scratch_buf[o++] = c;
    if (close && p[k] == close && k + 1 < n && p[k + 1] == close)
      k++;
  }
  int rc = intern(cx, cx->scratch_buf, o, id);
  if (!rc)
    cx->tokname[i] = *id;
  return rc;
}

/* The text of tokens [b, e) as written (words lower-cased, or upper-cased for types), single
 * spaces where the text had space, at most MAX_EXPR_NAME bytes. */
static int range_text(struct cx *cx, size_t b, size_t e, bool upper, uint32_t *id) {
  cx->scratch.len = 0;
  for (size_t i = b; i < e && cx->scratch.len < MAX_EXPR_NAME; i++) {
    const struct sql_token *t = tok(cx, i);
    if (i > b && t->space_before && sb_append(&cx->scratch, " ", 1))
      return cx_nomem(cx);
    size_t from = t->start, n = t->len;
    if (t->kind == TK_QUOTED && from > 0) {
      from--; /* keep the quotes */
      n += 2;
      if (from + n > tok(cx, cx->ntk - 1)->start)
        n = tok(cx, cx->ntk - 1)->start - from;
    }
    for (size_t k = 0; k < n && cx->scratch.len < MAX_EXPR_NAME; k++) {
      char c = cx->s[from + k];
      if (t->kind == TK_WORD && !upper && c >= 'A' && c <= 'Z')
        c = (char)(c - 'A' + 'a');
      if ((t->kind == TK_WORD || t->kind == TK_PARAM) && upper && c >= 'a' && c <= 'z')
        c = (char)(c - 'a' + 'A');
      if (sb_append(&cx->scratch, &c, 1))
        return cx_nomem(cx);
    }
  }
  return intern(cx, cx->scratch.data ? cx->scratch.data : "", cx->scratch.len, id);
}

/* ---- source sets ------------------------------------------------------------------------- */

static int col_add(struct cx *cx, struct col *c, uint32_t table, uint32_t name) {
  if (!spend(cx, 1))
    return E_BUDGET;
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 4;
    struct csrc *p = realloc(c->src, cap * sizeof *p);
    if (!p)
      return cx_nomem(cx);
    c->src = p;
    c->cap = cap;
  }
  c->src[c->n++] = (struct csrc){table, name};
  return SQL_OK;
}

static int col_add_all(struct cx *cx, struct col *dst, const struct col *src) {
  int rc = SQL_OK;
  for (size_t i = 0; i < src->n && !rc; i++)
    rc = col_add(cx, dst, src->src[i].table, src->src[i].col);
  return rc;
}

static int csrc_cmp(const void *a, const void *b) {
  const struct csrc *x = a, *y = b;
  if (x->table != y->table)
    return x->table < y->table ? -1 : 1;
  return x->col < y->col ? -1 : x->col > y->col;
}

/* Sorts and de-duplicates the set (by ids; the output sorts by text later). */
static void col_finish(struct col *c) {
  if (c->n < 2)
    return;
  qsort(c->src, c->n, sizeof *c->src, csrc_cmp);
  size_t o = 1;
  for (size_t i = 1; i < c->n; i++)
    if (csrc_cmp(&c->src[i], &c->src[o - 1]) != 0)
      c->src[o++] = c->src[i];
  c->n = o;
}

static void col_free(struct col *c) {
  free(c->src);
  c->src = NULL;
  c->n = c->cap = 0;
}

static void rel_free(struct rel *r) {
  for (size_t i = 0; i < r->n; i++)
    col_free(&r->cols[i]);
  free(r->cols);
  *r = (struct rel){0};
}

/* Appends a new empty column named name; *out points at it until the next append. */
static int rel_push(struct cx *cx, struct rel *r, uint32_t name, struct col **out) {
  if (!spend(cx, 1))
    return E_BUDGET;
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 8;
    struct col *p = realloc(r->cols, cap * sizeof *p);
    if (!p)
      return cx_nomem(cx);
    r->cols = p;
    r->cap = cap;
  }
  r->cols[r->n] = (struct col){.name = name, .type = NONE};
  *out = &r->cols[r->n++];
  return SQL_OK;
}

static int rel_copy_col(struct cx *cx, struct rel *r, const struct col *c) {
  struct col *d;
  int rc = rel_push(cx, r, c->name, &d);
  if (rc)
    return rc;
  d->type = c->type;
  d->star = c->star;
  return col_add_all(cx, d, c);
}

/* ---- resolving a column reference ----------------------------------------------------------- */

static const struct rel *item_rel(const struct cx *cx, const struct item *it) {
  return it->owns ? &it->own : &cx->ctes[it->cte].rel;
}

static bool known_has(const struct cx *cx, uint32_t table, uint32_t name) {
  for (size_t k = 0; k < cx->n_known[table]; k++)
    if (cx->known[table][k] == name)
      return true;
  return false;
}

static const struct col *rel_find(const struct rel *r, uint32_t name) {
  for (size_t k = 0; k < r->n; k++)
    if (!r->cols[k].star && r->cols[k].name == name)
      return &r->cols[k];
  return NULL;
}

static bool rel_has_star(const struct rel *r) {
  for (size_t k = 0; k < r->n; k++)
    if (r->cols[k].star)
      return true;
  return false;
}

static bool func_names(const struct item *it, uint32_t name) {
  if (it->alias == name)
    return true;
  for (size_t k = 0; k < it->n_calias; k++)
    if (it->calias[k] == name)
      return true;
  return false;
}

/* Adds what column `name` of item it reads. */
static int from_item(struct cx *cx, const struct item *it, uint32_t name, struct col *acc) {
  int rc = SQL_OK;
  const struct rel *rel = it->kind == IT_REL ? item_rel(cx, it) : NULL;
  if (!spend(cx, 1 + (rel ? rel->n : 0)))
    return E_BUDGET;
  switch (it->kind) {
  case IT_TABLE:
    return col_add(cx, acc, it->table, name);
  case IT_REL: {
    const struct col *c = rel_find(rel, name);
    if (c)
      return col_add_all(cx, acc, c);
    for (size_t k = 0; k < rel->n && !rc; k++) {
      const struct col *s = &rel->cols[k];
      for (size_t j = 0; s->star && j < s->n && !rc; j++)
        rc = col_add(cx, acc, s->src[j].table, name);
    }
    return rc;
  }
  case IT_FUNC:
    return col_add_all(cx, acc, &it->fsrc);
  default:
    return SQL_OK;
  }
}

/* Whether the item is known to have the column (its cost goes to the budget: a wide CTE or
 * schema table looked up by many names). */
static bool item_knows(struct cx *cx, const struct item *it, uint32_t name) {
  switch (it->kind) {
  case IT_TABLE:
    spend(cx, cx->n_known[it->table]);
    return cx->known[it->table] && known_has(cx, it->table, name);
  case IT_REL:
    spend(cx, item_rel(cx, it)->n);
    return rel_find(item_rel(cx, it), name) != NULL;
  case IT_FUNC:
    return func_names(it, name);
  default:
    return false;
  }
}

/* Whether the item may have the column although nobody says so. */
static bool item_may(struct cx *cx, const struct item *it, size_t n_items) {
  switch (it->kind) {
  case IT_TABLE:
    return cx->known[it->table] == NULL;
  case IT_REL:
    spend(cx, item_rel(cx, it)->n);
    return rel_has_star(item_rel(cx, it));
  case IT_FUNC:
    return n_items == 1;
  default:
    return false;
  }
}

static bool lateral_aliases(enum sql_dialect d) {
  return d == SQL_DIALECT_SNOWFLAKE || d == SQL_DIALECT_REDSHIFT || d == SQL_DIALECT_DATABRICKS;
}

/* An unqualified name: the items that know it; else (Snowflake, Redshift, Databricks) an
 * earlier select item's alias; else every item that may have it; else the enclosing scope. */
static int resolve_bare(struct cx *cx, const struct scope *sc, uint32_t name, struct col *acc) {
  for (; sc; sc = sc->outer) {
    bool found = false;
    int rc = SQL_OK;
    if (!spend(cx, 1 + sc->n))
      return E_BUDGET;
    for (size_t k = 0; k < sc->n && !rc; k++) {
      if (item_knows(cx, &sc->items[k], name)) {
        found = true;
        rc = from_item(cx, &sc->items[k], name, acc);
      }
    }
    if (rc || found)
      return rc;
    if (!cx->budget)
      return E_BUDGET;
    if (sc->sel && lateral_aliases(cx->d) && spend(cx, sc->sel->n)) {
      const struct col *c = rel_find(sc->sel, name);
      if (c)
        return col_add_all(cx, acc, c);
    }
    for (size_t k = 0; k < sc->n && !rc; k++) {
      if (item_may(cx, &sc->items[k], sc->n)) {
        found = true;
        rc = from_item(cx, &sc->items[k], name, acc);
      }
    }
    if (rc || found)
      return rc;
  }
  return SQL_OK;
}

static const struct item *find_item(const struct scope *sc, uint32_t alias) {
  for (size_t k = 0; k < sc->n; k++)
    if (sc->items[k].alias == alias)
      return &sc->items[k];
  return NULL;
}

/* parts[0..np) of a dotted reference: `t.c`, `s.t.c`, `t.c.field`, or a struct path `c.f`. */
static int resolve_ref(struct cx *cx, const struct scope *sc, const uint32_t *parts, size_t np,
                       struct col *acc) {
  for (const struct scope *s = sc; np >= 2 && s; s = s->outer) {
    if (!spend(cx, 1 + s->n))
      return E_BUDGET;
    for (size_t k = 0; k + 1 < np && k < 3; k++) {
      const struct item *it = find_item(s, parts[k]);
      if (it)
        return from_item(cx, it, parts[k + 1], acc);
    }
  }
  return resolve_bare(cx, sc, parts[0], acc);
}

/* ---- expressions ------------------------------------------------------------------------- */

static int eval_query(struct cx *cx, size_t b, size_t e, const struct scope *outer,
                      struct rel *out);

/* Whether the tokens at i start a query (after any number of '('). */
static bool starts_query(const struct cx *cx, size_t i, size_t e) {
  while (i < e && tok(cx, i)->kind == TK_LPAREN)
    i++;
  return is_word(cx, i, "SELECT") || is_word(cx, i, "WITH") || is_word(cx, i, "VALUES");
}

/* Whether the '(' at p holds a whole query: SELECT ..., or (query) followed by nothing, a set
 * operation or ORDER BY / LIMIT. Not `(SELECT a) + c`, an expression starting with a subquery.
 * The answer goes into cx->pq for every '(' of the chain walked down, so that the '(' of
 * ((((x)))) do not each walk the chain below them again: linear, not quadratic in depth. */
static bool set_op(const struct cx *cx, size_t i);

static bool paren_query(struct cx *cx, size_t p) {
  size_t q = p;
  unsigned char yes = PQ_NO;
  for (;;) {
    if (cx->pq[q]) {
      yes = cx->pq[q];
      break;
    }
    size_t i = q + 1, e = cx->match[q];
    if (is_word(cx, i, "SELECT") || is_word(cx, i, "WITH") || is_word(cx, i, "VALUES")) {
      yes = PQ_YES;
      break;
    }
    if (i >= e || tok(cx, i)->kind != TK_LPAREN || cx->match[i] >= e)
      break;
    size_t after = (size_t)cx->match[i] + 1;
    if (after < e && !set_op(cx, after) && !(cls_at(cx, after) & C_CLAUSE))
      break;
    q = i; /* (( ... ) UNION ...): the answer is the inner '(''s */
  }
  for (size_t k = p; k <= q; k++) /* the chain is the consecutive '(' p .. q */
    cx->pq[k] = yes;
  return yes == PQ_YES;
}

/* Reads a dotted name at *i (name {. name}) into parts; *i ends after it. */
static int read_parts(struct cx *cx, size_t *i, size_t e, uint32_t *parts, size_t *np) {
  *np = 0;
  for (;;) {
    uint32_t id;
    int rc = tok_name(cx, *i, &id);
    if (rc)
      return rc;
    if (*np < MAX_NAME_PARTS)
      parts[(*np)++] = id;
    (*i)++;
    if (*i + 1 < e && tok(cx, *i)->kind == TK_DOT && is_name(cx, *i + 1))
      (*i)++;
    else
      return SQL_OK;
  }
}

/* Whether a `::` cast starts at i: two ':' tokens, or ':' then the lexer's parameter ':type'
 * (its rule for `:name`). Sets *type to the first token of the type. */
static bool double_colon(const struct cx *cx, size_t i, size_t *type) {
  if (!is_op(cx, i, ':'))
    return false;
  if (is_op(cx, i + 1, ':')) {
    *type = i + 2;
    return true;
  }
  const struct sql_token *p = tok(cx, i + 1);
  if (p->kind == TK_PARAM && cx->s[p->start] == ':' && !p->space_before) {
    *type = i + 1;
    return true;
  }
  return false;
}

/* Past the type after `::` or a cast's AS: words, dotted, with (args), multi-word types. */
static size_t skip_type(const struct cx *cx, size_t i, size_t e) {
  while (i < e && (is_name(cx, i) || tok(cx, i)->kind == TK_PARAM)) {
    i++;
    if (i < e && tok(cx, i)->kind == TK_LPAREN)
      i = next(cx, i);
    if (i < e && tok(cx, i)->kind == TK_DOT) {
      i++;
      continue;
    }
    if (is_word(cx, i, "PRECISION") || is_word(cx, i, "VARYING") || is_word(cx, i, "WITH") ||
        is_word(cx, i, "WITHOUT")) {
      if (is_word(cx, i, "WITH") || is_word(cx, i, "WITHOUT")) {
        if (!is_word(cx, i + 1, "TIME"))
          return i;
      }
      continue;
    }
    if (is_word(cx, i, "TIME") || is_word(cx, i, "ZONE"))
      continue;
    return i;
  }
  return i;
}

/* Is the function whose '(' is at lp one that takes a date part as a bare word? */
static bool datepart_function(const struct cx *cx, size_t lp) {
  if (lp == 0 || tok(cx, lp - 1)->kind != TK_WORD)
    return false;
  const struct sql_token *f = tok(cx, lp - 1);
  if (sql_tok_is(cx->s, f, "EXTRACT") || sql_tok_is(cx->s, f, "LAST_DAY"))
    return true;
  for (size_t k = 0; k + 4 <= f->len; k++) {
    const char *p = cx->s + f->start + k;
    if ((strncasecmp(p, "DATE", 4) == 0) || (strncasecmp(p, "TIME", 4) == 0))
      return true;
  }
  return false;
}

/* Adds the columns expression [b, e) reads to acc. */
static int eval_expr(struct cx *cx, size_t b, size_t e, const struct scope *sc, struct col *acc) {
  size_t stack[SQL_MAX_DEPTH];
  size_t depth = 0;
  int rc = SQL_OK;
  for (size_t i = b; i < e && !rc;) {
    const struct sql_token *t = tok(cx, i);
    if ((++cx->polls & 15) == 0 && sql_poll_cancelled(cx->poll))
      return sql_cancelled(cx->err, cx->errlen);
    if (!spend(cx, 1))
      return E_BUDGET;
    switch (t->kind) {
    case TK_LPAREN: {
      size_t m = cx->match[i];
      bool skip = i > b && (is_word(cx, i - 1, "OVER") || is_word(cx, i - 1, "FILTER") ||
                            (is_word(cx, i - 1, "GROUP") && i >= b + 2 && is_word(cx, i - 2, "WITHIN")));
      if (skip) {
        i = m + 1;
      } else if (paren_query(cx, i)) {
        struct rel r = {0};
        rc = eval_query(cx, i + 1, m, sc, &r);
        for (size_t k = 0; k < r.n && !rc; k++)
          rc = col_add_all(cx, acc, &r.cols[k]);
        rel_free(&r);
        i = m + 1;
      } else {
        if (depth == SQL_MAX_DEPTH)
          return E_BUDGET;
        stack[depth++] = i;
        i++;
      }
      break;
    }
    case TK_RPAREN:
      if (depth)
        depth--;
      i++;
      break;
    case TK_OP: {
      size_t ty;
      if (double_colon(cx, i, &ty)) {
        i = skip_type(cx, ty, e); /* x::type */
      } else if (is_op(cx, i, ':') && !t->space_before) {
        i++; /* Snowflake payload:a.b: the path below a column */
        while (i < e && (is_name(cx, i) || tok(cx, i)->kind == TK_DOT))
          i++;
      } else {
        i++;
      }
      break;
    }
    case TK_WORD:
    case TK_QUOTED: {
      unsigned char c = t->kind == TK_WORD ? cx->cls[i] : 0;
      bool in_paren = depth > 0;
      size_t lp = in_paren ? stack[depth - 1] : 0;
      if (c & C_EXPR) {
        if (in_paren && (is_word(cx, i, "AS") || (is_word(cx, i, "ORDER") && is_word(cx, i + 1, "BY")))) {
          i = cx->match[lp]; /* CAST(x AS type), agg(x ORDER BY y): the rest does not count */
        } else if (is_word(cx, i, "INTERVAL")) {
          i++;
          if (tok(cx, i)->kind == TK_STRING || tok(cx, i)->kind == TK_NUMBER)
            i++;
          while (i < e && (cls_at(cx, i) & C_DATEPART))
            i++;
        } else if (is_word(cx, i, "NULLS") || is_word(cx, i, "AT")) {
          i += 2; /* NULLS FIRST, AT TIME ZONE */
          if (is_word(cx, i - 1, "TIME") && is_word(cx, i, "ZONE"))
            i++;
        } else {
          i++;
        }
        break;
      }
      if (is_word(cx, i, "ORDER") && is_word(cx, i + 1, "BY") && in_paren) {
        i = cx->match[lp];
        break;
      }
      if ((c & C_TYPELIT) && tok(cx, i + 1)->kind == TK_STRING) {
        i += 2;
        break;
      }
      if ((c & C_DATEPART) && in_paren && datepart_function(cx, lp)) {
        i++;
        break;
      }
      uint32_t parts[MAX_NAME_PARTS];
      size_t np, j = i;
      if ((rc = read_parts(cx, &j, e, parts, &np)))
        break;
      if (j < e && tok(cx, j)->kind == TK_LPAREN) {
        i = j; /* a function: its arguments are walked next */
      } else if (j < e && tok(cx, j)->kind == TK_DOT) {
        i = j + 1; /* t.* inside an expression (COUNT(t.*)) */
      } else if (np == 1 && is_op(cx, j, '=') && is_op(cx, j + 1, '>')) {
        i = j + 2; /* a named argument: FLATTEN(input => ...) */
      } else if (np == 1 && in_paren && is_op(cx, j, '-') && is_op(cx, j + 1, '>') &&
                 (is_name(cx, j + 2) || tok(cx, j + 2)->kind == TK_LPAREN)) {
        i = j + 2; /* a lambda's parameter: transform(arr, x -> x + 1); not JSON's c->'k' */
      } else {
        rc = resolve_ref(cx, sc, parts, np, acc);
        i = j;
      }
      break;
    }
    default:
      i++;
      break;
    }
  }
  return rc;
}

/* ---- select items ------------------------------------------------------------------------ */

/* The names a star leaves out: `* EXCEPT (a, b)`, `* EXCLUDE (a)`, `* EXCLUDE a`. */
struct except {
  uint32_t names[32];
  size_t n;
};

static int read_except(struct cx *cx, size_t i, size_t e, struct except *ex) {
  ex->n = 0;
  if (!(is_word(cx, i, "EXCEPT") || is_word(cx, i, "EXCLUDE")))
    return SQL_OK;
  i++;
  size_t end = e;
  if (tok(cx, i)->kind == TK_LPAREN) {
    end = cx->match[i];
    i++;
  }
  for (; i < end && i < e; i++) {
    if (!is_name(cx, i))
      continue;
    uint32_t id;
    int rc = tok_name(cx, i, &id);
    if (rc)
      return rc;
    if (ex->n < 32)
      ex->names[ex->n++] = id;
    if (end == e)
      break;
  }
  return SQL_OK;
}

static bool excepted(const struct except *ex, uint32_t name) {
  for (size_t k = 0; k < ex->n; k++)
    if (ex->names[k] == name)
      return true;
  return false;
}

/* The columns `*` (or `t.*`) gives for one item. */
static int expand_item(struct cx *cx, const struct item *it, const struct except *ex,
                       struct rel *out) {
  int rc = SQL_OK;
  struct col *c;
  switch (it->kind) {
  case IT_TABLE:
    if (cx->known[it->table]) {
      for (size_t k = 0; k < cx->n_known[it->table] && !rc; k++) {
        uint32_t name = cx->known[it->table][k];
        if (excepted(ex, name))
          continue;
        if (!(rc = rel_push(cx, out, name, &c)))
          rc = col_add(cx, c, it->table, name);
      }
      return rc;
    }
    if ((rc = rel_push(cx, out, STAR, &c)))
      return rc;
    c->star = true;
    return col_add(cx, c, it->table, STAR);
  case IT_REL: {
    const struct rel *rel = item_rel(cx, it);
    for (size_t k = 0; k < rel->n && !rc; k++)
      if (rel->cols[k].star || !excepted(ex, rel->cols[k].name))
        rc = rel_copy_col(cx, out, &rel->cols[k]);
    return rc;
  }
  case IT_FUNC:
    for (size_t k = 0; k < (it->n_calias ? it->n_calias : 1) && !rc; k++) {
      uint32_t name = it->n_calias ? it->calias[k] : it->alias;
      if (name == NONE || excepted(ex, name))
        continue;
      if (!(rc = rel_push(cx, out, name, &c)))
        rc = col_add_all(cx, c, &it->fsrc);
    }
    return rc;
  default:
    return SQL_OK;
  }
}

/* `*` [EXCEPT ...] or `t.*` [EXCEPT ...] at [b, e): returns true in *done if it was one. */
static int star_item(struct cx *cx, size_t b, size_t e, const struct scope *sc, struct rel *out,
                     bool *done) {
  uint32_t parts[MAX_NAME_PARTS];
  size_t np = 0, i = b;
  struct except ex;
  int rc;
  *done = false;
  if (is_name(cx, i)) {
    if ((rc = read_parts(cx, &i, e, parts, &np)))
      return rc;
    if (tok(cx, i)->kind != TK_DOT)
      return SQL_OK;
    i++;
  }
  if (!is_op(cx, i, '*') || (i + 1 < e && !is_word(cx, i + 1, "EXCEPT") &&
                             !is_word(cx, i + 1, "EXCLUDE") && !is_word(cx, i + 1, "REPLACE") &&
                             !is_word(cx, i + 1, "RENAME")))
    return SQL_OK;
  *done = true;
  if ((rc = read_except(cx, i + 1, e, &ex)))
    return rc;
  for (size_t k = 0; k < sc->n && !rc; k++) {
    const struct item *it = &sc->items[k];
    if (np == 0 || it->alias == parts[np - 1])
      rc = expand_item(cx, it, &ex, out);
  }
  return rc;
}

/* A plain column reference: names and dots only, not a call. */
static bool plain_ref(const struct cx *cx, size_t b, size_t e) {
  if (b >= e || !is_name(cx, b) || (cls_at(cx, b) & (C_EXPR | C_TYPELIT)))
    return false;
  for (size_t i = b; i < e; i++) {
    bool want_name = (i - b) % 2 == 0;
    if (want_name ? !is_name(cx, i) : tok(cx, i)->kind != TK_DOT)
      return false;
  }
  return (e - b) % 2 == 1;
}

/* The cast's type when the whole expression [b, e) is CAST(x AS t), TRY_CAST, SAFE_CAST or
 * x::t; else NONE. */
static int cast_type(struct cx *cx, size_t b, size_t e, uint32_t *type) {
  *type = NONE;
  if (e - b >= 3 && tok(cx, b + 1)->kind == TK_LPAREN && cx->match[b + 1] == e - 1 &&
      (is_word(cx, b, "CAST") || is_word(cx, b, "TRY_CAST") || is_word(cx, b, "SAFE_CAST"))) {
    for (size_t i = b + 2; i < e - 1; i = next(cx, i))
      if (is_word(cx, i, "AS"))
        return range_text(cx, i + 1, e - 1, true, type);
    return SQL_OK;
  }
  size_t ty = NONE, t;
  for (size_t i = b; i + 1 < e; i = next(cx, i))
    if (double_colon(cx, i, &t))
      ty = t;
  if (ty == NONE || skip_type(cx, ty, e) != e)
    return SQL_OK;
  int rc = range_text(cx, ty, e, true, type);
  if (!rc && name_str(cx, *type)[0] == ':') /* the ':type' parameter form */
    rc = intern(cx, name_str(cx, *type) + 1, cx->names.len[*type] - 1, type);
  return rc;
}

/* Whether the string at i, after an expression, is an alias (`expr 'a'`, MySQL's `expr "a"`)
 * rather than an operand: not DATE '...', _utf8'...', N'...', 'a' 'b', AT TIME ZONE 'UTC',
 * a REGEXP 'x' (a keyword before it of class C_EXPR is ruled out by the caller). */
static bool string_alias(const struct cx *cx, size_t i) {
  const struct sql_token *p = tok(cx, i - 1);
  char q = cx->s[tok(cx, i)->start];
  if (p->kind == TK_STRING || (q != '\'' && q != '"'))
    return false; /* 'a' 'b' is one literal; E'..', $$..$$ are no names */
  if (p->kind != TK_WORD)
    return true;
  if (!tok(cx, i)->space_before || (cls_at(cx, i - 1) & C_TYPELIT))
    return false; /* a prefix: N'x', X'0a', _utf8'x', DATE'2020-01-01' */
  static const char *const operand_of[] = {"ZONE", "COLLATE", "TO", "REGEXP", "GLOB", "BINARY",
                                           "XOR", "DIV", "MOD", "SET", "MATCH", "AGAINST"};
  for (size_t k = 0; k < sizeof operand_of / sizeof *operand_of; k++)
    if (sql_tok_is(cx->s, p, operand_of[k]))
      return false;
  return true;
}

/* Where an item's alias starts: `expr AS a`, `expr a`, `expr 'a'`; e when it has none. */
static size_t alias_at(const struct cx *cx, size_t b, size_t e) {
  if (e - b >= 2 && is_word(cx, e - 2, "AS") &&
      (is_name(cx, e - 1) || tok(cx, e - 1)->kind == TK_STRING))
    return e - 1;
  bool str = tok(cx, e - 1)->kind == TK_STRING;
  if (e - b < 2 || !(is_name(cx, e - 1) || (str && string_alias(cx, e - 1))) ||
      (cls_at(cx, e - 1) & (C_EXPR | C_CLAUSE)))
    return e;
  const struct sql_token *p = tok(cx, e - 2);
  switch (p->kind) {
  case TK_QUOTED:
  case TK_RPAREN:
  case TK_STRING:
  case TK_NUMBER:
  case TK_PARAM:
    break;
  case TK_WORD:
    if ((cls_at(cx, e - 2) & C_EXPR) && !is_word(cx, e - 2, "END") &&
        !is_word(cx, e - 2, "NULL") && !is_word(cx, e - 2, "TRUE") && !is_word(cx, e - 2, "FALSE"))
      return e;
    if (is_word(cx, e - 2, "INTERVAL"))
      return e;
    if (cls_at(cx, e - 1) & C_DATEPART) {
      for (size_t i = b; i < e; i++)
        if (is_word(cx, i, "INTERVAL"))
          return e;
    }
    break;
  default:
    return e;
  }
  return e - 1;
}

static int select_item(struct cx *cx, size_t b, size_t e, struct scope *sc, struct rel *out) {
  bool done;
  int rc = star_item(cx, b, e, sc, out, &done);
  if (rc || done)
    return rc;
  size_t a = alias_at(cx, b, e), xb = b, xe = a < e && is_word(cx, a - 1, "AS") ? a - 1 : a;
  uint32_t name, type;
  if (cx->d == SQL_DIALECT_TSQL && e - b >= 3 && is_name(cx, b) && is_op(cx, b + 1, '=') &&
      !is_op(cx, b + 2, '=')) {
    a = b; /* T-SQL: SELECT name = expr */
    xb = b + 2;
    xe = e;
  }
  if (a < e)
    rc = tok_name(cx, a, &name);
  else if (plain_ref(cx, xb, xe))
    rc = tok_name(cx, xe - 1, &name);
  else
    rc = range_text(cx, xb, xe, false, &name);
  if (!rc)
    rc = cast_type(cx, xb, xe, &type);
  if (rc)
    return rc;
  struct col c = {.name = name, .type = type}, *d;
  sc->sel = out; /* the items before this one, for lateral alias references */
  rc = eval_expr(cx, xb, xe, sc, &c);
  col_finish(&c);
  if (!rc)
    rc = rel_push(cx, out, name, &d);
  if (rc) {
    col_free(&c);
    return rc;
  }
  *d = c;
  return SQL_OK;
}

/* ---- FROM items -------------------------------------------------------------------------- */

static void item_free(struct item *it) {
  rel_free(&it->own);
  col_free(&it->fsrc);
}

static void scope_free(struct scope *sc) {
  for (size_t k = 0; k < sc->n; k++)
    item_free(&sc->items[k]);
  free(sc->items);
  sc->items = NULL;
  sc->n = sc->cap = 0;
}

static int scope_push(struct cx *cx, struct scope *sc, struct item **out) {
  if (sc->n == sc->cap) {
    size_t cap = sc->cap ? sc->cap * 2 : 4;
    struct item *p = realloc(sc->items, cap * sizeof *p);
    if (!p)
      return cx_nomem(cx);
    sc->items = p;
    sc->cap = cap;
  }
  sc->items[sc->n] = (struct item){.alias = NONE, .table = NONE};
  *out = &sc->items[sc->n++];
  return SQL_OK;
}

/* The lineage source named by the dotted name at [b, e), or NONE. */
static uint32_t find_table(struct cx *cx, size_t b, size_t e) {
  size_t n = 0, o = 0;
  for (size_t i = b; i < e; i++)
    n += tok(cx, i)->len;
  if (n + 1 > cx->scratch_cap) {
    char *p = realloc(cx->scratch_buf, n + 1);
    if (!p)
      return NONE; /* not found: the item reads nothing, nothing worse */
    cx->scratch_buf = p;
    cx->scratch_cap = n + 1;
  }
  for (size_t i = b; i < e; i++) {
    const struct sql_token *t = tok(cx, i);
    char close = t->kind == TK_QUOTED ? (t->quote == '[' ? ']' : t->quote) : 0;
    for (size_t k = 0; k < t->len; k++) {
      char c = cx->s[t->start + k];
      cx->scratch_buf[o++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
      if (close && c == close && k + 1 < t->len)
        k++;
    }
  }
  cx->scratch_buf[o] = '\0';
  if (o == 0 || cx->n_tslots == 0)
    return NONE;
  for (size_t h = hash_bytes(cx->scratch_buf, o) & (cx->n_tslots - 1); cx->tslots[h];
       h = (h + 1) & (cx->n_tslots - 1))
    if (strcmp(cx->dotted[cx->tslots[h] - 1], cx->scratch_buf) == 0)
      return cx->tslots[h] - 1;
  return NONE;
}

/* `[AS] alias [(c1, c2)]` after a FROM item at *i. */
static int item_alias(struct cx *cx, size_t *i, size_t e, struct item *it) {
  size_t j = *i;
  int rc;
  if (is_word(cx, j, "AS"))
    j++;
  if (j >= e || !is_name(cx, j) || (cls_at(cx, j) & C_NOALIAS) ||
      (tok(cx, j + 1)->kind == TK_LPAREN && (cls_at(cx, j) & C_JOIN)))
    return SQL_OK;
  if (tok(cx, j)->kind == TK_WORD && tok(cx, j + 1)->kind == TK_LPAREN &&
      (is_word(cx, j, "WITH") || is_word(cx, j, "TABLESAMPLE")))
    return SQL_OK;
  if ((rc = tok_name(cx, j, &it->alias)))
    return rc;
  j++;
  if (j < e && tok(cx, j)->kind == TK_LPAREN) {
    size_t m = cx->match[j];
    for (size_t k = j + 1; k < m; k++) {
      if (!is_name(cx, k) || it->n_calias == 16)
        continue;
      if ((rc = tok_name(cx, k, &it->calias[it->n_calias++])))
        return rc;
    }
    j = m + 1;
  }
  *i = j;
  return SQL_OK;
}

/* Renames a subquery's columns by `AS x(a, b)`. */
static void rename_cols(struct item *it) {
  for (size_t k = 0; k < it->n_calias && k < it->own.n; k++)
    if (!it->own.cols[k].star)
      it->own.cols[k].name = it->calias[k];
}

static bool join_start(const struct cx *cx, size_t i) {
  if (tok(cx, i)->kind == TK_COMMA)
    return true;
  if (!(cls_at(cx, i) & C_JOIN))
    return false;
  /* LEFT(s, 2) and RIGHT(s, 2) in an ON condition are calls; but JOIN (subquery) and
   * LATERAL (subquery) start an item, whose subquery must not be read as a call's arguments. */
  return tok(cx, i + 1)->kind != TK_LPAREN || !(is_word(cx, i, "LEFT") || is_word(cx, i, "RIGHT"));
}

static int parse_from(struct cx *cx, size_t b, size_t e, struct scope *sc);

/* One FROM item at *i. */
static int from_primary(struct cx *cx, size_t *ip, size_t e, struct scope *sc) {
  size_t i = *ip;
  struct item *it;
  int rc;
  if (tok(cx, i)->kind == TK_LPAREN) {
    size_t m = cx->match[i];
    if (!starts_query(cx, i + 1, m)) {
      *ip = m + 1;
      return parse_from(cx, i + 1, m, sc); /* (a JOIN b) */
    }
    struct rel r = {0};
    rc = eval_query(cx, i + 1, m, sc, &r);
    if (!rc)
      rc = scope_push(cx, sc, &it);
    if (rc) {
      rel_free(&r);
      return rc;
    }
    it->kind = IT_REL;
    it->owns = true;
    it->own = r;
    i = m + 1;
    if ((rc = item_alias(cx, &i, e, it)))
      return rc;
    rename_cols(it);
    *ip = i;
    return SQL_OK;
  }
  if (!is_name(cx, i)) {
    *ip = i + 1;
    return SQL_OK;
  }
  uint32_t parts[MAX_NAME_PARTS];
  size_t np, j = i;
  if ((rc = read_parts(cx, &j, e, parts, &np)) || (rc = scope_push(cx, sc, &it)))
    return rc;
  it->alias = parts[np - 1];
  if (j < e && tok(cx, j)->kind == TK_LPAREN && !is_word(cx, j + 1, "NOLOCK")) {
    size_t m = cx->match[j];
    it->kind = IT_FUNC; /* UNNEST(o.items), FLATTEN(input => t.v), generate_series(...) */
    it->alias = NONE;
    struct col acc = {0};
    rc = eval_expr(cx, j + 1, m, sc, &acc);
    it = &sc->items[sc->n - 1];
    it->fsrc = acc;
    col_finish(&it->fsrc);
    if (rc)
      return rc;
    j = m + 1;
  } else if (np == 1 && parts[0] < cx->cap_top && cx->cte_top[parts[0]]) {
    it->kind = IT_REL;
    it->cte = cx->cte_top[parts[0]] - 1;
  } else if ((it->table = find_table(cx, i, j)) != NONE) {
    it->kind = IT_TABLE;
  } else if (np >= 2 && sc->n > 1) {
    /* FROM t, t.arr: a path into an earlier item (BigQuery, Redshift PartiQL) */
    struct col acc = {0};
    size_t last = sc->n - 1;
    sc->n--; /* not itself in scope */
    rc = resolve_ref(cx, sc, parts, np, &acc);
    sc->n++;
    it = &sc->items[last];
    it->kind = IT_FUNC;
    it->fsrc = acc;
    col_finish(&it->fsrc);
    if (rc)
      return rc;
  }
  if (tok(cx, j)->kind == TK_LPAREN) /* t (NOLOCK) */
    j = next(cx, j);
  if ((rc = item_alias(cx, &j, e, it)))
    return rc;
  *ip = j;
  return SQL_OK;
}

/* The FROM list [b, e) into sc's items, in FROM order. */
static int parse_from(struct cx *cx, size_t b, size_t e, struct scope *sc) {
  size_t i = b;
  int rc = SQL_OK;
  if (++cx->depth > SQL_MAX_DEPTH)
    return E_BUDGET;
  while (i < e && !rc) {
    if (sql_poll_cancelled(cx->poll))
      return sql_cancelled(cx->err, cx->errlen);
    while (i < e && (join_start(cx, i) || is_word(cx, i, "ONLY")))
      i++;
    if (i >= e)
      break;
    if (is_word(cx, i, "VIEW") && i > b && is_word(cx, i - 1, "LATERAL")) {
      i++; /* Hive LATERAL VIEW [OUTER] explode(x) t AS a, b */
      if (is_word(cx, i, "OUTER"))
        i++;
    }
    size_t before = sc->n;
    rc = from_primary(cx, &i, e, sc);
    if (!rc && sc->n > before && is_word(cx, i, "AS")) {
      struct item *it = &sc->items[sc->n - 1]; /* Hive: LATERAL VIEW f(x) t AS a, b */
      for (i++; i < e && is_name(cx, i) && !rc;) {
        if (it->n_calias < 16)
          rc = tok_name(cx, i, &it->calias[it->n_calias++]);
        if (tok(cx, i + 1)->kind == TK_COMMA && is_name(cx, i + 2) && !(cls_at(cx, i + 2) & C_JOIN))
          i += 2;
        else
          i++;
        if (tok(cx, i - 1)->kind != TK_COMMA && tok(cx, i)->kind != TK_COMMA)
          break;
      }
    }
    /* ON ..., USING (...), hints, TABLESAMPLE, PIVOT ...: up to the next item. */
    while (i < e && !join_start(cx, i))
      i = next(cx, i);
  }
  cx->depth--;
  return rc;
}

/* ---- queries ----------------------------------------------------------------------------- */

/* The first token at the level of [b, e) from i that ends a select list or FROM list. */
static size_t clause_end(const struct cx *cx, size_t i, size_t e, bool in_from) {
  for (; i < e; i = next(cx, i)) {
    unsigned char c = cls_at(cx, i);
    if (!(c & C_CLAUSE))
      continue;
    if (in_from && (is_word(cx, i, "FROM") || is_word(cx, i, "INTO")))
      continue;
    if (is_word(cx, i, "GROUP") && i > 0 && is_word(cx, i - 1, "WITHIN"))
      continue;
    if (is_word(cx, i, "EXCEPT") && i > 0 && is_op(cx, i - 1, '*'))
      continue;
    return i;
  }
  return e;
}

/* VALUES (a, b), (c, d): columns column1..n reading what the first row reads. */
static int eval_values(struct cx *cx, size_t b, size_t e, const struct scope *outer,
                       struct rel *out) {
  size_t i = b + 1;
  if (tok(cx, i)->kind != TK_LPAREN || i >= e)
    return SQL_OK;
  size_t m = cx->match[i], s = i + 1;
  int rc = SQL_OK;
  for (size_t j = s, n = 1; j <= m && !rc; j = next(cx, j)) {
    if (j < m && tok(cx, j)->kind != TK_COMMA)
      continue;
    char name[32];
    uint32_t id;
    struct col *c;
    snprintf(name, sizeof name, "column%zu", n++);
    if (!(rc = intern(cx, name, strlen(name), &id)) && !(rc = rel_push(cx, out, id, &c))) {
      struct col acc = {0};
      rc = eval_expr(cx, s, j, outer, &acc);
      col_finish(&acc);
      c = &out->cols[out->n - 1];
      c->src = acc.src;
      c->n = acc.n;
      c->cap = acc.cap;
    }
    s = j + 1;
  }
  return rc;
}

/* SELECT ... at [b, e). */
static int eval_core(struct cx *cx, size_t b, size_t e, const struct scope *outer,
                     struct rel *out) {
  if (tok(cx, b)->kind == TK_LPAREN && cx->match[b] < e)
    return eval_query(cx, b + 1, cx->match[b], outer, out);
  if (is_word(cx, b, "VALUES"))
    return eval_values(cx, b, e, outer, out);
  if (!is_word(cx, b, "SELECT"))
    return SQL_OK;
  size_t i = b + 1;
  for (bool again = true; again && i < e;) {
    again = true;
    if (is_word(cx, i, "DISTINCT") && is_word(cx, i + 1, "ON"))
      i = next(cx, i + 2);
    else if (is_word(cx, i, "ALL") || is_word(cx, i, "DISTINCT") || is_word(cx, i, "DISTINCTROW") ||
             is_word(cx, i, "STRAIGHT_JOIN") || is_word(cx, i, "SQL_CALC_FOUND_ROWS") ||
             is_word(cx, i, "SQL_NO_CACHE") || is_word(cx, i, "HIGH_PRIORITY"))
      i++;
    else if (is_word(cx, i, "TOP")) {
      i = next(cx, i + 1);
      if (is_word(cx, i, "PERCENT"))
        i++;
      if (is_word(cx, i, "WITH") && is_word(cx, i + 1, "TIES"))
        i += 2;
    } else if (is_word(cx, i, "AS") && (is_word(cx, i + 1, "STRUCT") || is_word(cx, i + 1, "VALUE")))
      i += 2;
    else
      again = false;
  }
  size_t list_b = i, list_e = clause_end(cx, i, e, false);
  struct scope sc = {.outer = outer};
  int rc = SQL_OK;
  size_t j = list_e;
  if (is_word(cx, j, "INTO")) {
    j++; /* SELECT ... INTO t FROM */
    while (j < e && !is_word(cx, j, "FROM") && !(cls_at(cx, j) & C_CLAUSE))
      j = next(cx, j);
  }
  if (is_word(cx, j, "FROM")) {
    size_t fe = clause_end(cx, j + 1, e, true);
    rc = parse_from(cx, j + 1, fe, &sc);
  }
  for (size_t s = list_b, k = list_b; !rc && k <= list_e; k = next(cx, k)) {
    if (k < list_e && tok(cx, k)->kind != TK_COMMA)
      continue;
    if (k > s)
      rc = select_item(cx, s, k, &sc, out);
    s = k + 1;
    if (k >= list_e)
      break;
  }
  scope_free(&sc);
  return rc;
}

/* Merges b into a by position: sources unioned, a's names kept, b's extra columns added. */
static int rel_merge(struct cx *cx, struct rel *a, const struct rel *b) {
  int rc = SQL_OK;
  for (size_t k = 0; k < b->n && !rc; k++) {
    if (k < a->n) {
      rc = col_add_all(cx, &a->cols[k], &b->cols[k]);
      col_finish(&a->cols[k]);
      a->cols[k].star = a->cols[k].star && b->cols[k].star;
      if (a->cols[k].type != b->cols[k].type)
        a->cols[k].type = NONE;
    } else {
      rc = rel_copy_col(cx, a, &b->cols[k]);
    }
  }
  return rc;
}

static void cte_pop_to(struct cx *cx, size_t mark) {
  while (cx->n_cte > mark) {
    struct cte *c = &cx->ctes[--cx->n_cte];
    cx->cte_top[c->name] = c->prev;
    rel_free(&c->rel);
  }
}

static int cte_push(struct cx *cx, uint32_t name, struct rel *r) {
  if (name >= cx->cap_top) {
    size_t cap = cx->cap_top ? cx->cap_top : 64;
    while (cap <= name)
      cap *= 2;
    uint32_t *p = realloc(cx->cte_top, cap * sizeof *p);
    if (!p)
      return cx_nomem(cx);
    memset(p + cx->cap_top, 0, (cap - cx->cap_top) * sizeof *p);
    cx->cte_top = p;
    cx->cap_top = cap;
  }
  if (cx->n_cte == cx->cap_cte) {
    size_t cap = cx->cap_cte ? cx->cap_cte * 2 : 8;
    struct cte *p = realloc(cx->ctes, cap * sizeof *p);
    if (!p)
      return cx_nomem(cx);
    cx->ctes = p;
    cx->cap_cte = cap;
  }
  cx->ctes[cx->n_cte] = (struct cte){.name = name, .prev = cx->cte_top[name], .rel = *r};
  *r = (struct rel){0};
  cx->cte_top[name] = (uint32_t)++cx->n_cte;
  return SQL_OK;
}

/* WITH [RECURSIVE] name [(cols)] AS [[NOT] MATERIALIZED] (body), ... at *ip. */
static int parse_ctes(struct cx *cx, size_t *ip, size_t e, const struct scope *outer) {
  size_t i = *ip + 1;
  int rc = SQL_OK;
  if (is_word(cx, i, "RECURSIVE"))
    i++;
  while (i < e && is_name(cx, i) && !rc) {
    uint32_t name, cols[64];
    size_t ncols = 0;
    if ((rc = tok_name(cx, i, &name)))
      break;
    i++;
    if (tok(cx, i)->kind == TK_LPAREN && !starts_query(cx, i + 1, cx->match[i])) {
      for (size_t k = i + 1; k < cx->match[i] && !rc; k++)
        if (is_name(cx, k) && ncols < 64)
          rc = tok_name(cx, k, &cols[ncols++]);
      i = cx->match[i] + 1;
    }
    if (is_word(cx, i, "AS"))
      i++;
    if (is_word(cx, i, "NOT"))
      i++;
    if (is_word(cx, i, "MATERIALIZED"))
      i++;
    if (rc || tok(cx, i)->kind != TK_LPAREN)
      break;
    struct rel r = {0};
    rc = eval_query(cx, i + 1, cx->match[i], outer, &r);
    for (size_t k = 0; k < ncols && k < r.n; k++)
      if (!r.cols[k].star)
        r.cols[k].name = cols[k];
    if (!rc)
      rc = cte_push(cx, name, &r);
    rel_free(&r);
    i = cx->match[i] + 1;
    if (tok(cx, i)->kind != TK_COMMA)
      break;
    i++;
  }
  *ip = i;
  return rc;
}

static bool set_op(const struct cx *cx, size_t i) {
  return is_word(cx, i, "UNION") || is_word(cx, i, "INTERSECT") || is_word(cx, i, "MINUS") ||
         (is_word(cx, i, "EXCEPT") && !(i > 0 && is_op(cx, i - 1, '*')));
}

/* [WITH ...] core {set-op core} at [b, e); set operations merge by position. */
static int eval_query(struct cx *cx, size_t b, size_t e, const struct scope *outer,
                      struct rel *out) {
  size_t mark = cx->n_cte, i = b;
  int rc = SQL_OK;
  if (++cx->depth > SQL_MAX_DEPTH) {
    cx->depth--;
    return E_BUDGET;
  }
  if (is_word(cx, i, "WITH"))
    rc = parse_ctes(cx, &i, e, outer);
  bool first = true;
  while (!rc && i < e) {
    size_t j = i;
    while (j < e && !set_op(cx, j))
      j = next(cx, j);
    if (first) {
      rc = eval_core(cx, i, j, outer, out);
    } else {
      struct rel r = {0};
      rc = eval_core(cx, i, j, outer, &r);
      if (!rc)
        rc = rel_merge(cx, out, &r);
      rel_free(&r);
    }
    first = false;
    if (j >= e)
      break;
    i = j + 1;
    while (i < e && (is_word(cx, i, "ALL") || is_word(cx, i, "DISTINCT") ||
                     is_word(cx, i, "BY") || is_word(cx, i, "NAME")))
      i++;
  }
  cte_pop_to(cx, mark);
  cx->depth--;
  return rc;
}

/* ---- statements -------------------------------------------------------------------------- */

enum res_kind { R_NONE, R_SELECT, R_INSERT, R_CREATE };

struct result {
  enum res_kind kind;
  uint32_t target; /* name id of the target's text, or NONE */
  struct rel rel;
};

/* The target name at *i (a dotted name), as an id; *i ends after it. */
static int read_target(struct cx *cx, size_t *i, size_t e, uint32_t *id) {
  size_t j = *i;
  *id = NONE;
  if (j >= e || !is_name(cx, j))
    return SQL_OK;
  for (j++; j + 1 < e && tok(cx, j)->kind == TK_DOT && is_name(cx, j + 1);)
    j += 2;
  int rc = range_text(cx, *i, j, false, id);
  *i = j;
  return rc;
}

/* A `(a, b)` column list at *i that is not a query: names into cols. */
static int read_col_list(struct cx *cx, size_t *i, size_t e, struct rel *names) {
  if (*i >= e || tok(cx, *i)->kind != TK_LPAREN || starts_query(cx, *i + 1, cx->match[*i]))
    return SQL_OK;
  size_t m = cx->match[*i];
  int rc = SQL_OK;
  bool want = true; /* the first name after '(' or ',' is a column; types follow it */
  for (size_t k = *i + 1; k < m && !rc; k = next(cx, k)) {
    if (tok(cx, k)->kind == TK_COMMA) {
      want = true;
    } else if (want && is_name(cx, k)) {
      uint32_t id;
      struct col *c;
      if (!(rc = tok_name(cx, k, &id)))
        rc = rel_push(cx, names, id, &c);
      want = false;
    }
  }
  *i = m + 1;
  return rc;
}

static void rename_by(struct rel *r, const struct rel *names) {
  for (size_t k = 0; k < names->n && k < r->n; k++)
    r->cols[k].name = names->cols[k].name;
}

/* INSERT [INTO|OVERWRITE [TABLE]] t [(cols)] [PARTITION (...)] query|VALUES. */
static int eval_insert(struct cx *cx, size_t i, size_t e, struct result *res) {
  struct rel names = {0};
  int rc;
  i++;
  while (i < e && (is_word(cx, i, "INTO") || is_word(cx, i, "OVERWRITE") ||
                   is_word(cx, i, "TABLE") || is_word(cx, i, "IGNORE") || is_word(cx, i, "OR") ||
                   is_word(cx, i, "REPLACE")))
    i++;
  if (is_word(cx, i, "ALL") || is_word(cx, i, "FIRST"))
    return SQL_OK; /* Snowflake multi-table insert */
  if ((rc = read_target(cx, &i, e, &res->target)) || (rc = read_col_list(cx, &i, e, &names)))
    goto out;
  if (is_word(cx, i, "PARTITION"))
    i = next(cx, i + 1);
  while (i < e && !starts_query(cx, i, e) && !is_word(cx, i, "SELECT"))
    i = next(cx, i);
  res->kind = R_INSERT;
  if (i < e)
    rc = eval_query(cx, i, e, NULL, &res->rel);
  if (!rc && res->rel.n == 0 && names.n) {
    for (size_t k = 0; k < names.n && !rc; k++) {
      struct col *c;
      rc = rel_push(cx, &res->rel, names.cols[k].name, &c);
    }
  }
  rename_by(&res->rel, &names);
out:
  rel_free(&names);
  return rc;
}

/* CREATE [...] TABLE|VIEW [IF NOT EXISTS] t [(cols)] [...] AS query. */
static int eval_create(struct cx *cx, size_t i, size_t e, struct result *res) {
  struct rel names = {0};
  int rc = SQL_OK;
  size_t n = 0;
  for (i++; i < e && n < 12 && !is_word(cx, i, "TABLE") && !is_word(cx, i, "VIEW"); n++)
    i++;
  if (!is_word(cx, i, "TABLE") && !is_word(cx, i, "VIEW"))
    return SQL_OK;
  i++;
  if (is_word(cx, i, "IF") && is_word(cx, i + 1, "NOT") && is_word(cx, i + 2, "EXISTS"))
    i += 3;
  if ((rc = read_target(cx, &i, e, &res->target)) || (rc = read_col_list(cx, &i, e, &names)))
    goto out;
  while (i < e && !is_word(cx, i, "SELECT") && !is_word(cx, i, "WITH") &&
         !(tok(cx, i)->kind == TK_LPAREN && starts_query(cx, i + 1, cx->match[i])))
    i = next(cx, i);
  if (i >= e)
    goto out; /* DDL: no query */
  res->kind = R_CREATE;
  if ((rc = eval_query(cx, i, e, NULL, &res->rel)))
    goto out;
  rename_by(&res->rel, &names);
out:
  rel_free(&names);
  return rc;
}

static int eval_statement(struct cx *cx, size_t b, size_t e, struct result *res) {
  size_t mark = cx->n_cte, i = b;
  int rc = SQL_OK;
  if (is_word(cx, i, "WITH")) {
    /* WITH before INSERT (Postgres): its CTEs are visible to the whole statement */
    size_t j = i;
    if ((rc = parse_ctes(cx, &j, e, NULL)))
      goto out;
    if (is_word(cx, j, "SELECT") || tok(cx, j)->kind == TK_LPAREN) {
      res->kind = R_SELECT;
      rc = eval_query(cx, j, e, NULL, &res->rel);
      goto out;
    }
    i = j;
  }
  if (is_word(cx, i, "SELECT") || is_word(cx, i, "VALUES") || tok(cx, i)->kind == TK_LPAREN) {
    res->kind = R_SELECT;
    rc = eval_query(cx, i, e, NULL, &res->rel);
  } else if (is_word(cx, i, "INSERT") || is_word(cx, i, "UPSERT") ||
             (is_word(cx, i, "REPLACE") && is_word(cx, i + 1, "INTO"))) {
    rc = eval_insert(cx, i, e, res);
  } else if (is_word(cx, i, "CREATE")) {
    rc = eval_create(cx, i, e, res);
  }
out:
  cte_pop_to(cx, mark);
  return rc;
}

/* ---- the whole text ------------------------------------------------------------------------ */

static int build_match(struct cx *cx) {
  struct word_index wi;
  word_index_init(&wi);
  cx->match = malloc(cx->ntk * sizeof *cx->match);
  cx->cls = malloc(cx->ntk);
  if (!cx->match || !cx->cls || sql_match_parens(cx->tk, cx->ntk, cx->match) != SQL_OK)
    return cx_nomem(cx);
  for (size_t i = 0; i < cx->ntk; i++)
    cx->cls[i] = classify(&wi, cx->s, &cx->tk[i]);
  return SQL_OK;
}

static int prepare_tables(struct cx *cx, const struct sql_schema *schema) {
  size_t n = cx->lin->n_sources;
  cx->dotted = calloc(n ? n : 1, sizeof *cx->dotted);
  cx->asis = calloc(n ? n : 1, sizeof *cx->asis);
  cx->known = calloc(n ? n : 1, sizeof *cx->known);
  cx->n_known = calloc(n ? n : 1, sizeof *cx->n_known);
  for (cx->n_tslots = 16; cx->n_tslots < 2 * n; cx->n_tslots *= 2)
    ;
  cx->tslots = calloc(cx->n_tslots, sizeof *cx->tslots);
  if (!cx->dotted || !cx->asis || !cx->known || !cx->n_known || !cx->tslots)
    return cx_nomem(cx);
  for (size_t k = 0; k < n; k++) {
    cx->asis[k] = sql_table_dotted(&cx->lin->sources[k]);
    char *d = cx->asis[k] ? strdup(cx->asis[k]) : NULL;
    if (!d)
      return cx_nomem(cx);
    for (char *p = d; *p; p++)
      if (*p >= 'A' && *p <= 'Z')
        *p = (char)(*p - 'A' + 'a');
    cx->dotted[k] = d;
    size_t h = hash_bytes(d, strlen(d)) & (cx->n_tslots - 1);
    while (cx->tslots[h])
      h = (h + 1) & (cx->n_tslots - 1);
    cx->tslots[h] = (uint32_t)k + 1;
    const struct schema_table *st = schema_find(schema, d);
    if (!st)
      continue;
    cx->known[k] = malloc((st->n ? st->n : 1) * sizeof **cx->known);
    if (!cx->known[k])
      return cx_nomem(cx);
    for (size_t c = 0; c < st->n; c++) {
      int rc = intern(cx, st->columns[c], strlen(st->columns[c]), &cx->known[k][c]);
      if (rc)
        return rc;
    }
    cx->n_known[k] = st->n;
  }
  return SQL_OK;
}

/* Orders two sources as their "<table>.<column>" texts would sort, without building them. */
struct emit_cmp {
  const struct cx *cx;
  char *const *dotted; /* per source table, as written */
};

static int src_text_cmp(const struct emit_cmp *ec, const struct csrc *x, const struct csrc *y) {
  const char *xa = ec->dotted[x->table], *xb = name_str(ec->cx, x->col);
  const char *ya = ec->dotted[y->table], *yb = name_str(ec->cx, y->col);
  int xs = 0, ys = 0; /* 0: in the table part, 1: the '.', 2: in the column part */
  for (;;) {
    unsigned char p = xs == 0 ? (unsigned char)*xa : xs == 1 ? '.' : (unsigned char)*xb;
    unsigned char q = ys == 0 ? (unsigned char)*ya : ys == 1 ? '.' : (unsigned char)*yb;
    if (xs == 0 && !p) {
      xs = 1;
      continue;
    }
    if (ys == 0 && !q) {
      ys = 1;
      continue;
    }
    if (p != q || (xs == 2 && !p))
      return p < q ? -1 : p > q;
    if (xs == 0)
      xa++;
    else if (xs == 1)
      xs = 2;
    else
      xb++;
    if (ys == 0)
      ya++;
    else if (ys == 1)
      ys = 2;
    else
      yb++;
  }
}

/* Insertion sort: source sets are small (and already de-duplicated by id). */
static void sort_sources(const struct emit_cmp *ec, struct csrc *v, size_t n) {
  for (size_t i = 1; i < n; i++) {
    struct csrc x = v[i];
    size_t j = i;
    for (; j > 0 && src_text_cmp(ec, &v[j - 1], &x) > 0; j--)
      v[j] = v[j - 1];
    v[j] = x;
  }
}

/* The public columns of rel (its source sets are sorted in place). */
static int emit(struct cx *cx, struct rel *rel, struct sql_lineage *lin) {
  if (!rel->n)
    return SQL_OK;
  struct emit_cmp ec = {.cx = cx, .dotted = cx->asis};
  lin->columns = calloc(rel->n, sizeof *lin->columns);
  if (!lin->columns)
    return cx_nomem(cx);
  lin->n_columns = rel->n;
  for (size_t k = 0; k < rel->n; k++) {
    struct col *c = &rel->cols[k];
    struct sql_column *o = &lin->columns[k];
    o->name = strdup(name_str(cx, c->name));
    o->data_type = c->type != NONE ? strdup(name_str(cx, c->type)) : NULL;
    if (!o->name || (c->type != NONE && !o->data_type))
      return cx_nomem(cx);
    if (!c->n)
      continue;
    if (c->n > 64)
      qsort(c->src, c->n, sizeof *c->src, csrc_cmp); /* keeps the sort below short */
    sort_sources(&ec, c->src, c->n);
    if (!(o->sources = calloc(c->n, sizeof *o->sources)))
      return cx_nomem(cx);
    for (size_t j = 0; j < c->n; j++) {
      struct sql_column_source *d = &o->sources[o->n_sources];
      d->table = c->src[j].table;
      if (!(d->column = strdup(name_str(cx, c->src[j].col))))
        return cx_nomem(cx);
      o->n_sources++;
    }
  }
  return SQL_OK;
}

static bool same_key(const struct result *a, const struct result *b) {
  return a->kind == b->kind && a->target == b->target;
}

static int run(struct cx *cx, struct rel *final) {
  struct result last = {.kind = R_NONE, .target = NONE};
  int rc = SQL_OK;
  size_t b = 0;
  for (size_t i = 0; i < cx->ntk && !rc; i++) {
    if (cx->tk[i].kind != TK_SEMI && cx->tk[i].kind != TK_EOF)
      continue;
    struct result r = {.kind = R_NONE, .target = NONE};
    if (i > b)
      rc = eval_statement(cx, b, i, &r);
    if (!rc && r.kind != R_NONE) {
      if (last.kind != R_NONE && same_key(&last, &r)) {
        rc = rel_merge(cx, &last.rel, &r.rel); /* a Liquid variant of the same query */
        rel_free(&r.rel);
      } else {
        rel_free(&last.rel);
        last = r;
        r.rel = (struct rel){0};
      }
    }
    rel_free(&r.rel);
    b = i + 1;
  }
  if (rc)
    rel_free(&last.rel);
  else
    *final = last.rel;
  return rc;
}

void sql_columns_free(struct sql_column *cols, size_t n) {
  for (size_t k = 0; cols && k < n; k++) {
    free(cols[k].name);
    free(cols[k].data_type);
    for (size_t j = 0; j < cols[k].n_sources; j++)
      free(cols[k].sources[j].column);
    free(cols[k].sources);
  }
  free(cols);
}

/* Column lineage of the tokens extract.c read, into lin. */
static int columns(const char *sql, size_t len, enum sql_dialect d, const struct sql_token *toks,
                   size_t ntk, struct sql_poll *poll, const struct sql_extract_options *opts,
                   struct sql_lineage *lin, char *err, size_t errlen) {
  struct cx cx = {.s = sql ? sql : "", .tk = toks, .ntk = ntk, .d = d, .poll = poll, .lin = lin,
                  .err = err, .errlen = errlen};
  struct rel final = {0};
  uint32_t star;
  int rc;
  (void)len;
  cx.tokname = malloc(cx.ntk * sizeof *cx.tokname);
  if (!cx.tokname) {
    rc = cx_nomem(&cx);
    goto out;
  }
  memset(cx.tokname, 0xff, cx.ntk * sizeof *cx.tokname); /* NONE */
  if (!(cx.pq = calloc(cx.ntk ? cx.ntk : 1, 1))) {
    rc = cx_nomem(&cx);
    goto out;
  }
  cx.budget = cx.ntk * 64 + ((size_t)1 << 20);
  sb_init(&cx.scratch, (size_t)1 << 20);
  if ((rc = build_match(&cx)) || (rc = intern(&cx, "*", 1, &star)) ||
      (rc = prepare_tables(&cx, opts->schema)))
    goto out;
  rc = run(&cx, &final);
  if (rc == E_BUDGET) {
    lin->columns_status = SQL_ERR_LIMIT;
    rc = SQL_OK;
  } else if (!rc) {
    rc = emit(&cx, &final, lin);
  }
out:
  rel_free(&final);
  cte_pop_to(&cx, 0);
  free(cx.ctes);
  free(cx.cte_top);
  free(cx.names.buf);
  free(cx.names.off);
  free(cx.names.len);
  free(cx.tokname);
  free(cx.pq);
  free(cx.scratch_buf);
  free(cx.names.slots);
  for (size_t k = 0; cx.dotted && cx.asis && cx.known && k < lin->n_sources; k++) {
    free(cx.dotted[k]);
    free(cx.asis[k]);
    free(cx.known[k]);
  }
  free(cx.dotted);
  free(cx.asis);
  free(cx.tslots);
  free(cx.known);
  free(cx.n_known);
  free(cx.match);
  free(cx.cls);
  sb_free(&cx.scratch);
  return rc;
}

int sql_extract_lineage(const char *sql, size_t len, enum sql_dialect dialect,
                        const struct sql_extract_options *opts, struct sql_lineage **out,
                        char *err, size_t errlen) {
  struct sql_poll poll = {.cancel = opts ? opts->cancel : NULL};
  struct sql_token *toks = NULL;
  size_t ntk = 0;
  bool want = opts && opts->columns;
  int rc = sql_extract_keep_tokens(sql, len, dialect, &poll, want ? &toks : NULL, &ntk, out, err,
                                   errlen);
  if (rc || !want)
    return rc;
  rc = columns(sql, len, dialect, toks, ntk, &poll, opts, *out, err, errlen);
  if (rc)
    sql_lineage_free(out);
  free(toks);
  return rc;
}
