/*
 * extract.c -- which tables a SQL text reads and writes.
 *
 * No full grammar: a scanner walks the tokens one parenthesised level at a time and keeps just
 * enough state to know when the next name is a table. A level is the top of a statement or
 * the inside of one pair of parentheses; each level knows whether it is a query (a SELECT,
 * UPDATE or DELETE was seen, so FROM starts a table list rather than being the FROM of
 * EXTRACT(x FROM y)), whether it is inside a FROM list (a comma starts another table) and
 * whether the next name is expected to be a table read (after FROM, JOIN, APPLY, MERGE's
 * USING) or written (after INSERT INTO, CREATE TABLE, MERGE INTO, UPDATE, SELECT INTO).
 *
 * An opening parenthesis where a table is expected opens a level that still expects one
 * (`FROM ((a JOIN b))`), and a SELECT inside it turns it into a subquery. A name followed by
 * a parenthesis is a table function (UNNEST, FLATTEN, generate_series, TABLE(...)) unless it
 * is T-SQL's `t(NOLOCK)`, Snowflake's IDENTIFIER('t') or SEMANTIC_VIEW(v ...). WITH adds CTE
 * names (bare or quoted) to a scope that ends with the level that declared them, so a CTE
 * shadows a real table only there, and only unqualified names. A dotted name whose first part
 * is an earlier item of the same FROM list (`FROM t, t.arr`) is a column path (BigQuery
 * implicit UNNEST, Redshift PartiQL).
 *
 * Statements end at ';' or, at the top level, where INSERT/UPDATE/DELETE/MERGE/CREATE start a
 * new one (T-SQL scripts often omit ';'). Reads of a statement are buffered until its end so
 * that T-SQL's `UPDATE alias SET ... FROM real AS alias` can resolve the alias into the target.
 *
 * Recursion happens only per parenthesis level and is bounded by SQL_MAX_DEPTH; every loop
 * consumes a token, so time is linear in the number of tokens.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql_internal.h"
#include "sql_keywords.h"

#define MAX_ITEMS 16 /* FROM items per level remembered for column-path detection */
#define MAX_PARTS 32 /* parts of a dotted name; longer ones are not tables */
#define CTE_BUCKETS 64
#define NO_TOK ((size_t)-1)

enum expect { EXP_NONE, EXP_SOURCE, EXP_TARGET };
enum role { ROLE_INSERT, ROLE_CREATE, ROLE_UPDATE, ROLE_DELETE, ROLE_MERGE, ROLE_INTO };
enum stmt_kind {
  ST_NONE,
  ST_WITH,
  ST_SELECT,
  ST_INSERT,
  ST_UPDATE,
  ST_DELETE,
  ST_MERGE,
  ST_CREATE,
  ST_OTHER
};

struct pending {
  struct sql_table t; /* owned */
  size_t alias;       /* token of its alias, or NO_TOK */
};

struct stmt {
  enum stmt_kind kind;
  bool merge_using; /* MERGE's USING seen */
  bool target_done; /* the statement's target has been read */
  bool has_alias_target;
  struct sql_table alias_target; /* UPDATE/DELETE target, resolved at the end; owned */
  size_t alias_target_tok;
  struct pending *pend; /* reads buffered until the statement ends; owned */
  size_t n_pend, cap_pend;
};

struct cte {
  size_t tok;
  int prev; /* previous entry of the same bucket, -1 for none */
};

struct scan {
  const char *s;
  size_t n;
  const struct sql_token *tk; /* owned by the caller of run_scan */
  unsigned char *kw;          /* enum kw of each token; owned */
  unsigned char *kwf;         /* F_* flags of each token; owned */
  uint32_t *match;            /* for each '(' its ')' (sql_match_parens); owned */
  size_t ntk, i;
  enum sql_dialect d;
  struct sql_table_set sources, targets;
  struct stmt st;
  struct cte *ctes; /* owned; a stack, popped as levels close */
  size_t n_cte, cap_cte;
  int buckets[CTE_BUCKETS];
  struct sql_poll *poll;
  char *err;
  size_t errlen;
};

struct level {
  int depth;
  size_t open_tok; /* its '(' */
  bool query;      /* FROM starts a table list here */
  bool select_seen;
  bool in_from;
  enum expect expect;
  enum role role; /* of EXP_TARGET */
  size_t n_items;
  size_t items[MAX_ITEMS]; /* token naming each FROM item (alias or last part) */
  size_t cte_mark;
};

static int scan_level(struct scan *sc, struct level *lv);

/* ---- keywords ---------------------------------------------------------------------------- */

static int kw_cmp(const void *key, const void *elem) {
  return strcmp(key, ((const struct kw_entry *)elem)->word);
}

static const struct kw_entry *kw_find(const char *s, const struct sql_token *t) {
  char up[20];
  if (t->kind != TK_WORD || t->len >= sizeof up)
    return NULL;
  for (size_t i = 0; i < t->len; i++) {
    char c = s[t->start + i];
    up[i] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
  }
  up[t->len] = '\0';
  return bsearch(up, keywords, sizeof keywords / sizeof keywords[0], sizeof keywords[0], kw_cmp);
}

static unsigned kw_flags(const struct scan *sc, size_t i) {
  return i < sc->ntk ? sc->kwf[i] : 0;
}

static int kw_at(const struct scan *sc, size_t i) {
  return i < sc->ntk ? sc->kw[i] : KW_NONE;
}

static const struct sql_token *tok(const struct scan *sc, size_t i) {
  return &sc->tk[i < sc->ntk ? i : sc->ntk - 1];
}

static bool is_name_tok(const struct sql_token *t) {
  return t->kind == TK_WORD || t->kind == TK_QUOTED;
}

static int fail_at(struct scan *sc, int rc, size_t ti, const char *what) {
  char pos[64];
  sql_position(sc->s, sc->n, tok(sc, ti)->start, pos, sizeof pos);
  return sql_fail(rc, sc->err, sc->errlen, "%s at %s", what, pos);
}

static int nomem(struct scan *sc) {
  return sql_fail(SQL_ERR_NOMEM, sc->err, sc->errlen, "out of memory");
}

/* Case-insensitive comparison of two name tokens' text (quotes excluded). */
static bool tok_text_eq(const struct scan *sc, size_t a, size_t b) {
  const struct sql_token *x = tok(sc, a), *y = tok(sc, b);
  if (x->len != y->len)
    return false;
  for (size_t i = 0; i < x->len; i++) {
    unsigned char p = (unsigned char)sc->s[x->start + i], q = (unsigned char)sc->s[y->start + i];
    if (p >= 'A' && p <= 'Z')
      p = (unsigned char)(p - 'A' + 'a');
    if (q >= 'A' && q <= 'Z')
      q = (unsigned char)(q - 'A' + 'a');
    if (p != q)
      return false;
  }
  return true;
}

/* ---- CTE scope ------------------------------------------------------------------------- */

static unsigned tok_hash(const struct scan *sc, size_t ti) {
  const struct sql_token *t = tok(sc, ti);
  unsigned h = 2166136261u;
  for (size_t i = 0; i < t->len; i++) {
    unsigned char c = (unsigned char)sc->s[t->start + i];
    if (c >= 'A' && c <= 'Z')
      c = (unsigned char)(c - 'A' + 'a');
    h = (h ^ c) * 16777619u;
  }
  return h % CTE_BUCKETS;
}

static int cte_push(struct scan *sc, size_t ti) {
  if (sc->n_cte == sc->cap_cte) {
    size_t cap = sc->cap_cte ? sc->cap_cte * 2 : 16;
    struct cte *p = realloc(sc->ctes, cap * sizeof *p);
    if (!p)
      return nomem(sc);
    sc->ctes = p;
    sc->cap_cte = cap;
  }
  unsigned h = tok_hash(sc, ti);
  sc->ctes[sc->n_cte] = (struct cte){.tok = ti, .prev = sc->buckets[h]};
  sc->buckets[h] = (int)sc->n_cte++;
  return SQL_OK;
}

static void cte_pop_to(struct scan *sc, size_t mark) {
  while (sc->n_cte > mark) {
    struct cte *c = &sc->ctes[--sc->n_cte];
    sc->buckets[tok_hash(sc, c->tok)] = c->prev;
  }
}

static bool cte_visible(const struct scan *sc, size_t ti) {
  for (int e = sc->buckets[tok_hash(sc, ti)]; e >= 0; e = sc->ctes[e].prev)
    if (tok_text_eq(sc, sc->ctes[e].tok, ti))
      return true;
  return false;
}

/* ---- building tables ------------------------------------------------------------------- */

struct parts {
  char *p[MAX_PARTS]; /* owned */
  size_t n;
};

static void parts_free(struct parts *ps) {
  for (size_t i = 0; i < ps->n; i++)
    free(ps->p[i]);
  ps->n = 0;
}

/* Appends s (owned) split at dots when split is set. Returns false when too many parts. */
static bool parts_add(struct parts *ps, char *s, bool split) {
  if (!s)
    return false;
  if (split && strchr(s, '.')) {
    char *save = s;
    for (char *dot; (dot = strchr(s, '.'));) {
      if (ps->n == MAX_PARTS)
        return free(save), false;
      ps->p[ps->n] = strndup(s, (size_t)(dot - s));
      if (!ps->p[ps->n])
        return free(save), false;
      ps->n++;
      s = dot + 1;
    }
    char *last = strdup(s);
    free(save);
    return parts_add(ps, last, false);
  }
  if (ps->n == MAX_PARTS)
    return free(s), false;
  ps->p[ps->n++] = s;
  return true;
}

/* Moves the parts into t: name, schema.name, or catalog(s).schema.name. */
static int parts_to_table(struct parts *ps, struct sql_table *t) {
  memset(t, 0, sizeof *t);
  if (ps->n == 0)
    return SQL_ERR_SYNTAX;
  t->name = ps->p[--ps->n];
  if (ps->n)
    t->schema = ps->p[--ps->n];
  if (ps->n) {
    size_t len = 0;
    for (size_t i = 0; i < ps->n; i++)
      len += strlen(ps->p[i]) + 1;
    t->catalog = malloc(len);
    if (!t->catalog) {
      sql_table_clear(t);
      parts_free(ps);
      return SQL_ERR_NOMEM;
    }
    t->catalog[0] = '\0';
    for (size_t i = 0; i < ps->n; i++) {
      if (i)
        strcat(t->catalog, ".");
      strcat(t->catalog, ps->p[i]);
    }
    parts_free(ps);
  }
  return SQL_OK;
}

static int add_pending(struct scan *sc, struct sql_table *t, size_t alias) {
  struct stmt *st = &sc->st;
  if (st->n_pend == st->cap_pend) {
    size_t cap = st->cap_pend ? st->cap_pend * 2 : 8;
    struct pending *p = realloc(st->pend, cap * sizeof *p);
    if (!p) {
      sql_table_clear(t);
      return nomem(sc);
    }
    st->pend = p;
    st->cap_pend = cap;
  }
  st->pend[st->n_pend++] = (struct pending){.t = *t, .alias = alias};
  memset(t, 0, sizeof *t);
  return SQL_OK;
}

static int add_target(struct scan *sc, struct sql_table *t) {
  return sql_table_set_add(&sc->targets, t) ? nomem(sc) : SQL_OK;
}

/* ---- statements ------------------------------------------------------------------------ */

/* Words that start a writing statement (or are a clause of another one: statement_word). */
static bool is_statement_word(int k) {
  return k == KW_INSERT || k == KW_UPDATE || k == KW_DELETE || k == KW_MERGE || k == KW_CREATE ||
         k == KW_REPLACE || k == KW_UPSERT;
}

static void stmt_reset(struct scan *sc) {
  struct stmt *st = &sc->st;
  for (size_t k = 0; k < st->n_pend; k++)
    sql_table_clear(&st->pend[k].t);
  sql_table_clear(&st->alias_target);
  struct pending *pend = st->pend;
  size_t cap = st->cap_pend;
  memset(st, 0, sizeof *st);
  st->pend = pend;
  st->cap_pend = cap;
}

/* Ends the current statement: resolves an UPDATE/DELETE target that names an alias of its
 * FROM list, and moves the buffered reads into the result. */
static int end_statement(struct scan *sc) {
  struct stmt *st = &sc->st;
  int rc = SQL_OK;
  if (st->has_alias_target) {
    bool resolved = false;
    if (!st->alias_target.schema && !st->alias_target.catalog) {
      for (size_t k = 0; k < st->n_pend; k++) {
        if (st->pend[k].alias != NO_TOK &&
            tok_text_eq(sc, st->pend[k].alias, st->alias_target_tok)) {
          rc = add_target(sc, &st->pend[k].t);
          st->pend[k].alias = NO_TOK;
          resolved = true;
          break;
        }
      }
    }
    if (!resolved && !rc)
      rc = add_target(sc, &st->alias_target);
  }
  for (size_t k = 0; k < st->n_pend && !rc; k++)
    if (st->pend[k].t.name && sql_table_set_add(&sc->sources, &st->pend[k].t))
      rc = nomem(sc);
  stmt_reset(sc);
  cte_pop_to(sc, 0);
  return rc;
}

/* Advances to the ';' (or end) that closes a statement irrelevant to lineage. */
static void skip_statement(struct scan *sc) {
  long parens = 0;
  for (; sc->i < sc->ntk - 1; sc->i++) {
    enum sql_tok_kind k = sc->tk[sc->i].kind;
    if (k == TK_LPAREN)
      parens++;
    else if (k == TK_RPAREN)
      parens--;
    else if (k == TK_SEMI && parens <= 0)
      return;
  }
}

/* Checks the first token of a top-level statement: text that does not start like SQL is an
 * error rather than silently giving no tables. */
static int begin_statement(struct scan *sc) {
  const struct sql_token *t = tok(sc, sc->i);
  sc->st.kind = ST_OTHER;
  if (t->kind == TK_LPAREN) {
    sc->st.kind = ST_SELECT;
    return SQL_OK;
  }
  const struct kw_entry *e = kw_find(sc->s, t);
  if (!e || !(e->flags & F_STMT)) {
    char what[96], word[24];
    size_t n = t->len < sizeof word - 1 ? t->len : sizeof word - 1;
    size_t o = 0;
    for (size_t k = 0; k < n; k++) {
      unsigned char c = (unsigned char)sc->s[t->start + k];
      word[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    word[o] = '\0';
    snprintf(what, sizeof what, "not SQL: a statement cannot start with '%s'", word);
    return fail_at(sc, SQL_ERR_SYNTAX, sc->i, what);
  }
  if (e->flags & F_SKIPSTMT) {
    skip_statement(sc);
    return SQL_OK;
  }
  if (is_statement_word(e->id)) {
    sc->st.kind = ST_NONE; /* statement_word() decides */
    return SQL_OK;
  }
  if (e->id == KW_WITH)
    sc->st.kind = ST_WITH;
  else if (e->id == KW_SELECT || e->id == KW_FROM || e->id == KW_VALUES)
    sc->st.kind = ST_SELECT;
  return SQL_OK;
}

/* ---- levels ---------------------------------------------------------------------------- */

/* Scans the parenthesised level opening at sc->i, as a FROM item when from_item. */
static int scan_paren(struct scan *sc, struct level *lv, bool from_item) {
  struct level sub = {.depth = lv->depth + 1, .open_tok = sc->i, .cte_mark = sc->n_cte};
  if (sub.depth > SQL_MAX_DEPTH)
    return fail_at(sc, SQL_ERR_LIMIT, sc->i, "parentheses nested deeper than 256 levels");
  if (from_item) {
    sub.expect = EXP_SOURCE;
    sub.in_from = true;
  }
  sc->i++;
  int rc = scan_level(sc, &sub);
  cte_pop_to(sc, sub.cte_mark);
  if (rc)
    return rc;
  sc->i++; /* the ')' scan_level stopped at */
  return SQL_OK;
}

static void remember_item(struct level *lv, size_t ti) {
  if (ti != NO_TOK && lv->n_items < MAX_ITEMS)
    lv->items[lv->n_items++] = ti;
}

/* Reads an optional `[AS] alias [(columns)]`. Returns the alias token or NO_TOK. */
static int parse_alias(struct scan *sc, struct level *lv, size_t *alias) {
  size_t j = sc->i;
  *alias = NO_TOK;
  if (kw_at(sc, j) == KW_AS) {
    const struct sql_token *n = tok(sc, j + 1);
    if (!(n->kind == TK_QUOTED || (n->kind == TK_WORD && !(kw_flags(sc, j + 1) & F_NOALIAS))))
      return SQL_OK;
    j++;
  }
  const struct sql_token *t = tok(sc, j);
  if (t->kind == TK_QUOTED || (t->kind == TK_WORD && !(kw_flags(sc, j) & F_NOALIAS))) {
    *alias = j;
    sc->i = j + 1;
    if (tok(sc, sc->i)->kind == TK_LPAREN)
      return scan_paren(sc, lv, false);
  }
  return SQL_OK;
}

/* T-SQL table hints: `t (NOLOCK)`, `t WITH (NOLOCK, INDEX(ix))`. */
static bool is_table_hint(const struct scan *sc, size_t lparen) {
  static const char *const hints[] = {
      "NOLOCK",       "READUNCOMMITTED", "READCOMMITTED", "READPAST",  "UPDLOCK",  "HOLDLOCK",
      "ROWLOCK",      "TABLOCK",         "TABLOCKX",      "PAGLOCK",   "NOWAIT",   "REPEATABLEREAD",
      "SERIALIZABLE", "XLOCK",           "SNAPSHOT",      "FORCESEEK", "FORCESCAN"};
  const struct sql_token *t = tok(sc, lparen + 1);
  for (size_t k = 0; k < sizeof hints / sizeof hints[0]; k++)
    if (sql_tok_is(sc->s, t, hints[k]))
      return true;
  return false;
}

/* Snowflake IDENTIFIER('db.s.t'): the string names the table. */
static int identifier_table(struct scan *sc, struct parts *ps) {
  const struct sql_token *str = tok(sc, sc->i + 1);
  if (str->len < 2 || sc->s[str->start] != '\'')
    return SQL_ERR_SYNTAX;
  char *text = strndup(sc->s + str->start + 1, str->len - 2);
  if (!text)
    return nomem(sc);
  if (!parts_add(ps, text, true))
    return SQL_ERR_SYNTAX;
  sc->i += 3;
  return SQL_OK;
}

/* Reads the dotted name at sc->i into ps; *first and *last get its first and last part's
 * tokens. Returns false when a part could not be stored (too many parts, or no memory). */
static bool read_name(struct scan *sc, struct parts *ps, size_t *first, size_t *last) {
  bool ok = true;
  *first = sc->i;
  for (;;) {
    const struct sql_token *t = tok(sc, sc->i);
    bool split = t->kind == TK_QUOTED && sc->d == SQL_DIALECT_BIGQUERY;
    *last = sc->i;
    if (ok)
      ok = parts_add(ps, sql_tok_ident(sc->s, t), split);
    sc->i++;
    if (tok(sc, sc->i)->kind != TK_DOT)
      break;
    while (tok(sc, sc->i)->kind == TK_DOT && tok(sc, sc->i + 1)->kind == TK_DOT) {
      if (ok)
        ok = parts_add(ps, strdup(""), false); /* T-SQL db..t */
      sc->i++;
    }
    if (!is_name_tok(tok(sc, sc->i + 1)))
      break;
    sc->i++;
  }
  return ok;
}

/* Snowflake SEMANTIC_VIEW(db.s.sv DIMENSIONS ... METRICS ... WHERE ...) at its '(': the view
 * named first is read; what follows names its dimensions and metrics, never tables, so it is
 * skipped to the matching ')'. Returns false in *ok when the name could not be stored. */
static int semantic_view(struct scan *sc, struct parts *ps, size_t *first, size_t *last, bool *ok) {
  size_t open = sc->i, close = sc->match[open];
  sc->i++;
  parts_free(ps);
  *ok = read_name(sc, ps, first, last);
  if (tok(sc, close)->kind != TK_RPAREN)
    return fail_at(sc, SQL_ERR_SYNTAX, open, "unclosed parenthesis");
  sc->i = close + 1;
  return SQL_OK;
}

/* A name where a table is expected: a table, a CTE, a table function or a column path. */
static int table_ref(struct scan *sc, struct level *lv) {
  enum expect ex = lv->expect;
  enum role role = lv->role;
  struct parts ps = {.n = 0};
  struct sql_table t = {0};
  size_t first, last, alias = NO_TOK;
  int rc = SQL_OK;
  bool is_table = true;

  lv->expect = EXP_NONE;
  bool ok = read_name(sc, &ps, &first, &last);
  const struct sql_token *ft = tok(sc, first);
  size_t nparts = ps.n;

  if (ex == EXP_SOURCE && tok(sc, sc->i)->kind == TK_LPAREN) {
    if (first == last && sql_tok_is(sc->s, ft, "IDENTIFIER") &&
        tok(sc, sc->i + 1)->kind == TK_STRING && tok(sc, sc->i + 2)->kind == TK_RPAREN) {
      parts_free(&ps);
      rc = identifier_table(sc, &ps);
      if (rc == SQL_ERR_NOMEM)
        goto out;
      ok = rc == SQL_OK;
      rc = SQL_OK;
    } else if (first == last && sql_tok_is(sc->s, ft, "SEMANTIC_VIEW") &&
               is_name_tok(tok(sc, sc->i + 1))) {
      rc = semantic_view(sc, &ps, &first, &last, &ok);
      ft = tok(sc, first);
      nparts = ps.n;
    } else if (is_table_hint(sc, sc->i)) {
      rc = scan_paren(sc, lv, false);
    } else {
      is_table = false; /* a table function */
      rc = scan_paren(sc, lv, false);
    }
    if (rc)
      goto out;
  }
  if (ft->kind == TK_WORD && sc->s[ft->start] == '@')
    is_table = false; /* Snowflake stages, T-SQL table variables */
  if (ex == EXP_SOURCE && is_table && nparts == 1 && first == last && cte_visible(sc, first))
    is_table = false;
  if (ex == EXP_SOURCE && is_table && nparts >= 2 && ft->kind == TK_WORD) {
    for (size_t k = 0; k < lv->n_items; k++)
      if (tok_text_eq(sc, lv->items[k], first))
        is_table = false; /* FROM t, t.arr: a column path */
  }
  if (!ok)
    is_table = false;

  bool wants_alias =
      ex == EXP_SOURCE || role == ROLE_UPDATE || role == ROLE_DELETE || role == ROLE_MERGE;
  if (wants_alias) {
    rc = parse_alias(sc, lv, &alias);
    if (rc)
      goto out;
  }
  remember_item(lv, alias != NO_TOK ? alias : last);
  if (!is_table)
    goto out;
  rc = parts_to_table(&ps, &t);
  if (rc == SQL_ERR_NOMEM) {
    rc = nomem(sc);
    goto out;
  }
  rc = SQL_OK;
  if (!t.name || !t.name[0])
    goto out;
  /* Spark/Databricks file reads (delta.`/mnt/x`, parquet.`s3://b/k`) are paths, not tables. */
  if (strchr(t.name, '/') || (t.schema && strchr(t.schema, '/')))
    goto out;

  if (ex == EXP_SOURCE) {
    rc = add_pending(sc, &t, alias);
  } else if ((role == ROLE_UPDATE || role == ROLE_DELETE) && lv->depth == 0 &&
             !sc->st.has_alias_target) {
    sc->st.alias_target = t;
    memset(&t, 0, sizeof t);
    sc->st.alias_target_tok = first;
    sc->st.has_alias_target = true;
  } else {
    rc = add_target(sc, &t);
  }
  sc->st.target_done = sc->st.target_done || ex == EXP_TARGET;
  if (ex == EXP_TARGET && (role == ROLE_UPDATE || role == ROLE_DELETE))
    lv->in_from = true; /* MySQL: UPDATE t1 JOIN t2 / UPDATE t1, t2 */
out:
  sql_table_clear(&t);
  parts_free(&ps);
  return rc;
}

/* WITH [RECURSIVE] name [(cols)] [AS] [[NOT] MATERIALIZED] (body) [, ...] */
static int parse_with(struct scan *sc, struct level *lv) {
  int rc;
  sc->i++;
  if (kw_at(sc, sc->i) == KW_RECURSIVE)
    sc->i++;
  for (;;) {
    size_t name = sc->i;
    if (!is_name_tok(tok(sc, name)))
      return SQL_OK;
    sc->i++;
    if (tok(sc, sc->i)->kind == TK_LPAREN) {
      int k = kw_at(sc, sc->i + 1);
      bool body =
          k == KW_SELECT || k == KW_WITH || k == KW_VALUES || tok(sc, sc->i + 1)->kind == TK_LPAREN;
      if (!body && (rc = scan_paren(sc, lv, false)))
        return rc;
    }
    if (kw_at(sc, sc->i) == KW_AS)
      sc->i++;
    if (kw_at(sc, sc->i) == KW_NOT)
      sc->i++;
    if (kw_at(sc, sc->i) == KW_MATERIALIZED)
      sc->i++;
    /* Declared before its body: recursive CTEs (with or without RECURSIVE) see themselves. */
    if ((rc = cte_push(sc, name)))
      return rc;
    if (tok(sc, sc->i)->kind != TK_LPAREN)
      return SQL_OK;
    if ((rc = scan_paren(sc, lv, false)))
      return rc;
    if (tok(sc, sc->i)->kind != TK_COMMA)
      return SQL_OK;
    sc->i++;
  }
}

static void skip_words(struct scan *sc, const int *ids, size_t n) {
  for (bool again = true; again;) {
    again = false;
    for (size_t k = 0; k < n; k++) {
      if (kw_at(sc, sc->i) == ids[k]) {
        sc->i++;
        again = true;
      }
    }
  }
}

static void expect_target(struct level *lv, enum role role) {
  lv->expect = EXP_TARGET;
  lv->role = role;
}

static int start_create(struct scan *sc, struct level *lv) {
  size_t j = sc->i + 1;
  for (int n = 0; n < 12 && tok(sc, j)->kind == TK_WORD; n++, j++) {
    int k = kw_at(sc, j);
    if (k == KW_TABLE || k == KW_VIEW) {
      sc->i = j + 1;
      if (kw_at(sc, sc->i) == KW_IF && kw_at(sc, sc->i + 1) == KW_NOT &&
          kw_at(sc, sc->i + 2) == KW_EXISTS)
        sc->i += 3;
      if (lv->depth == 0)
        sc->st.kind = ST_CREATE;
      expect_target(lv, ROLE_CREATE);
      return SQL_OK;
    }
  }
  /* CREATE INDEX / FUNCTION / SCHEMA ...: nothing to read here. */
  skip_statement(sc);
  return SQL_OK;
}

/* INSERT, UPDATE, DELETE, MERGE, CREATE, REPLACE, UPSERT. */
static int statement_word(struct scan *sc, struct level *lv, int k) {
  static const int insert_skip[] = {
      KW_INTO, KW_OVERWRITE, KW_TABLE, KW_IGNORE,  KW_LOW_PRIORITY, KW_DELAYED, KW_HIGH_PRIORITY,
      KW_ALL,  KW_FIRST,     KW_OR,    KW_REPLACE, KW_ROLLBACK,     KW_ABORT,   KW_FAIL};
  static const int update_skip[] = {KW_ONLY, KW_LOW_PRIORITY, KW_IGNORE};
  static const int delete_skip[] = {KW_LOW_PRIORITY, KW_QUICK, KW_IGNORE, KW_FROM, KW_ONLY};
  size_t i = sc->i;
  int prev = i > 0 ? kw_at(sc, i - 1) : KW_NONE;
  enum sql_tok_kind prevk = i > 0 ? sc->tk[i - 1].kind : TK_SEMI;

  if (k == KW_REPLACE && kw_at(sc, i + 1) != KW_INTO) {
    sc->i++;
    return SQL_OK; /* REPLACE(...) the function, OR REPLACE */
  }
  if (lv->depth == 0) {
    bool clause = prev == KW_THEN || prev == KW_FOR || prev == KW_KEY || prev == KW_DO ||
                  prev == KW_ON || prev == KW_AFTER || prev == KW_BEFORE || prev == KW_OF ||
                  prev == KW_INSTEAD || prev == KW_GRANT || prev == KW_REVOKE || prev == KW_DENY ||
                  prevk == TK_COMMA || sc->st.kind == ST_MERGE || sc->st.kind == ST_OTHER;
    if (sc->st.kind != ST_NONE && sc->st.kind != ST_WITH) {
      if (clause) {
        sc->i++;
        return SQL_OK;
      }
      int rc = end_statement(sc); /* statements not separated by ';' */
      if (rc)
        return rc;
    }
  } else if (prevk != TK_LPAREN) {
    sc->i++;
    return SQL_OK;
  }
  bool top = lv->depth == 0;
  sc->i++;
  switch (k) {
  case KW_INSERT:
  case KW_REPLACE:
  case KW_UPSERT:
    if (top)
      sc->st.kind = ST_INSERT;
    skip_words(sc, insert_skip, sizeof insert_skip / sizeof insert_skip[0]);
    if (kw_at(sc, sc->i) == KW_LOCAL || kw_at(sc, sc->i) == KW_DIRECTORY)
      return SQL_OK; /* INSERT OVERWRITE [LOCAL] DIRECTORY: a file */
    expect_target(lv, ROLE_INSERT);
    return SQL_OK;
  case KW_UPDATE:
    if (top)
      sc->st.kind = ST_UPDATE;
    skip_words(sc, update_skip, sizeof update_skip / sizeof update_skip[0]);
    if (kw_at(sc, sc->i) == KW_TOP) {
      sc->i++;
      if (tok(sc, sc->i)->kind == TK_LPAREN) {
        int rc = scan_paren(sc, lv, false);
        if (rc)
          return rc;
      }
    }
    lv->query = true;
    expect_target(lv, ROLE_UPDATE);
    return SQL_OK;
  case KW_DELETE:
    if (top)
      sc->st.kind = ST_DELETE;
    skip_words(sc, delete_skip, sizeof delete_skip / sizeof delete_skip[0]);
    lv->query = true;
    if (is_name_tok(tok(sc, sc->i)))
      expect_target(lv, ROLE_DELETE);
    return SQL_OK;
  case KW_MERGE:
    if (top)
      sc->st.kind = ST_MERGE;
    if (kw_at(sc, sc->i) == KW_INTO)
      sc->i++;
    expect_target(lv, ROLE_MERGE);
    return SQL_OK;
  default: /* KW_CREATE */
    sc->i--;
    return start_create(sc, lv);
  }
}

static void end_from(struct level *lv) {
  lv->in_from = false;
  lv->expect = EXP_NONE;
}

static int on_word(struct scan *sc, struct level *lv) {
  size_t i = sc->i;
  int k = kw_at(sc, i);
  unsigned flags = kw_flags(sc, i);

  if (lv->expect != EXP_NONE && !(flags & F_NOTABLE))
    return table_ref(sc, lv);
  if (is_statement_word(k))
    return statement_word(sc, lv, k);

  switch (k) {
  case KW_SELECT:
    lv->query = lv->select_seen = true;
    end_from(lv);
    if (lv->depth == 0 && sc->st.kind == ST_WITH)
      sc->st.kind = ST_SELECT;
    break;
  case KW_FROM:
    if (i > 0 && kw_at(sc, i - 1) == KW_DISTINCT)
      break; /* IS [NOT] DISTINCT FROM */
    if (lv->query) {
      lv->in_from = true;
      lv->expect = EXP_SOURCE;
      lv->n_items = 0;
    }
    break;
  case KW_JOIN:
  case KW_APPLY:
  case KW_STRAIGHT_JOIN:
    lv->in_from = true;
    lv->expect = EXP_SOURCE;
    break;
  case KW_LATERAL:
    if (kw_at(sc, i + 1) == KW_VIEW) {
      end_from(lv); /* Hive LATERAL VIEW explode(...) t AS a, b */
      sc->i += 2;
      return SQL_OK;
    }
    break; /* LATERAL (subquery) / LATERAL func(): still expecting a FROM item */
  case KW_ONLY:
  case KW_AS:
    break;
  case KW_ON:
    lv->expect = EXP_NONE;
    break;
  case KW_USING:
    if (lv->depth == 0 &&
        ((sc->st.kind == ST_MERGE && !sc->st.merge_using) || sc->st.kind == ST_DELETE)) {
      sc->st.merge_using = true;
      lv->in_from = true;
      lv->expect = EXP_SOURCE;
    } else {
      lv->expect = EXP_NONE;
    }
    break;
  case KW_WITH: {
    int n = kw_at(sc, i + 1);
    /* Not a CTE name, bare or quoted (WITH "c" AS ...): WITH (options), WITH (NOLOCK). */
    if (!is_name_tok(tok(sc, i + 1))) {
      lv->expect = EXP_NONE;
      break;
    }
    if (n == KW_ORDINALITY || n == KW_OFFSET) {
      sc->i += 2;
      return SQL_OK;
    }
    lv->expect = EXP_NONE;
    return parse_with(sc, lv);
  }
  case KW_INTO:
    if (lv->depth == 0 && sc->st.kind == ST_INSERT) {
      sc->i++;
      expect_target(lv, ROLE_INSERT);
      return SQL_OK;
    }
    if (lv->select_seen && sc->st.kind == ST_SELECT) {
      static const int into_skip[] = {KW_TEMP, KW_TEMPORARY, KW_UNLOGGED, KW_TABLE};
      sc->i++;
      skip_words(sc, into_skip, sizeof into_skip / sizeof into_skip[0]);
      int n = kw_at(sc, sc->i);
      if (n != KW_OUTFILE && n != KW_DUMPFILE && is_name_tok(tok(sc, sc->i)))
        expect_target(lv, ROLE_INTO);
      return SQL_OK;
    }
    break;
  case KW_LIKE:
  case KW_CLONE:
    if (lv->depth == 0 && sc->st.kind == ST_CREATE && sc->st.target_done && !lv->select_seen)
      lv->expect = EXP_SOURCE;
    break;
  case KW_WHERE:
  case KW_GROUP:
  case KW_HAVING:
  case KW_ORDER:
  case KW_LIMIT:
  case KW_QUALIFY:
  case KW_WINDOW:
  case KW_UNION:
  case KW_INTERSECT:
  case KW_EXCEPT:
  case KW_MINUS:
  case KW_SET:
  case KW_VALUES:
  case KW_RETURNING:
  case KW_WHEN:
  case KW_FETCH:
  case KW_CONNECT:
  case KW_PREWHERE:
  case KW_CLUSTER:
  case KW_DISTRIBUTE:
  case KW_SORT:
    end_from(lv);
    break;
  case KW_PIVOT:
  case KW_UNPIVOT:
  case KW_TABLESAMPLE:
  case KW_MATCH_RECOGNIZE:
    lv->expect = EXP_NONE;
    break;
  default:
    break;
  }
  sc->i++;
  return SQL_OK;
}

static int scan_level(struct scan *sc, struct level *lv) {
  int rc = SQL_OK;
  for (;;) {
    const struct sql_token *t = &sc->tk[sc->i];
    if (sql_poll_cancelled(sc->poll))
      return sql_cancelled(sc->err, sc->errlen);
    if (lv->depth == 0 && sc->st.kind == ST_NONE && t->kind != TK_SEMI && t->kind != TK_EOF) {
      if ((rc = begin_statement(sc)))
        return rc;
      t = &sc->tk[sc->i];
      if (t->kind == TK_SEMI || t->kind == TK_EOF)
        continue;
    }
    switch (t->kind) {
    case TK_EOF:
      if (lv->depth > 0)
        return fail_at(sc, SQL_ERR_SYNTAX, lv->open_tok, "unclosed parenthesis");
      return end_statement(sc);
    case TK_SEMI:
      if (lv->depth > 0)
        return fail_at(sc, SQL_ERR_SYNTAX, sc->i, "';' inside parentheses");
      if ((rc = end_statement(sc)))
        return rc;
      *lv = (struct level){.query = true};
      sc->i++;
      break;
    case TK_RPAREN:
      if (lv->depth == 0)
        return fail_at(sc, SQL_ERR_SYNTAX, sc->i, "unmatched ')'");
      return SQL_OK;
    case TK_LPAREN: {
      bool from_item = lv->expect == EXP_SOURCE;
      lv->expect = EXP_NONE;
      if ((rc = scan_paren(sc, lv, from_item)))
        return rc;
      if (from_item) {
        size_t alias;
        if ((rc = parse_alias(sc, lv, &alias)))
          return rc;
        remember_item(lv, alias);
      }
      break;
    }
    case TK_WORD:
      if ((rc = on_word(sc, lv)))
        return rc;
      break;
    case TK_QUOTED:
      if (lv->expect != EXP_NONE) {
        if ((rc = table_ref(sc, lv)))
          return rc;
      } else {
        sc->i++;
      }
      break;
    case TK_COMMA:
      if (lv->in_from && lv->expect == EXP_NONE)
        lv->expect = EXP_SOURCE;
      sc->i++;
      break;
    default:
      lv->expect = EXP_NONE;
      sc->i++;
      break;
    }
  }
}

static int build_lineage(struct scan *sc, struct sql_lineage **out) {
  struct sql_lineage *l = calloc(1, sizeof *l);
  if (!l)
    return nomem(sc);
  l->sources = sc->sources.items;
  l->n_sources = sc->sources.n;
  l->targets = sc->targets.items;
  l->n_targets = sc->targets.n;
  sc->sources.items = sc->targets.items = NULL;
  sc->sources.n = sc->targets.n = 0;
  *out = l;
  return SQL_OK;
}

int sql_extract_tables(const char *sql, size_t len, enum sql_dialect dialect,
                       struct sql_lineage **out, char *err, size_t errlen) {
  return sql_extract_tables_cancellable(sql, len, dialect, NULL, out, err, errlen);
}

int sql_extract_tables_cancellable(const char *sql, size_t len, enum sql_dialect dialect,
                                   const struct sql_cancel *cancel, struct sql_lineage **out,
                                   char *err, size_t errlen) {
  struct sql_poll poll = {.cancel = cancel};
  return sql_extract_keep_tokens(sql, len, dialect, &poll, NULL, NULL, out, err, errlen);
}

int sql_extract_keep_tokens(const char *sql, size_t len, enum sql_dialect dialect,
                            struct sql_poll *poll, struct sql_token **toks_out, size_t *ntk_out,
                            struct sql_lineage **out, char *err, size_t errlen) {
  struct scan sc = {.s = sql, .n = len, .d = dialect, .poll = poll, .err = err, .errlen = errlen};
  struct sql_token *toks = NULL;
  int rc;

  if (err && errlen)
    err[0] = '\0';
  *out = NULL;
  if (!sql && len)
    return sql_fail(SQL_ERR_SYNTAX, err, errlen, "no SQL text");
  if (len > SQL_MAX_INPUT)
    return sql_fail(SQL_ERR_LIMIT, err, errlen, "SQL text of %zu bytes exceeds the limit of %zu",
                    len, SQL_MAX_INPUT);
  rc = sql_lex(sql ? sql : "", len, dialect, poll, &toks, &sc.ntk, err, errlen);
  if (rc)
    return rc;
  sc.tk = toks;
  sc.kw = malloc(sc.ntk);
  sc.kwf = malloc(sc.ntk);
  sc.match = malloc(sc.ntk * sizeof *sc.match);
  if (!sc.kw || !sc.kwf || !sc.match || sql_match_parens(toks, sc.ntk, sc.match) != SQL_OK) {
    rc = nomem(&sc);
    goto out;
  }
  for (size_t k = 0; k < sc.ntk; k++) {
    const struct kw_entry *e = kw_find(sql, &toks[k]);
    sc.kw[k] = (unsigned char)(e ? e->id : KW_NONE);
    sc.kwf[k] = (unsigned char)(e ? e->flags : 0);
  }
  for (int b = 0; b < CTE_BUCKETS; b++)
    sc.buckets[b] = -1;
  struct level top = {.query = true};
  rc = scan_level(&sc, &top);
  if (!rc)
    rc = build_lineage(&sc, out);
  if (!rc && toks_out) { /* columns.c reads the same tokens */
    *toks_out = toks;
    *ntk_out = sc.ntk;
    toks = NULL;
  }
out:
  stmt_reset(&sc);
  free(sc.st.pend);
  free(sc.ctes);
  free(sc.kw);
  free(sc.kwf);
  free(sc.match);
  free(toks);
  sql_table_set_free(&sc.sources);
  sql_table_set_free(&sc.targets);
  return rc;
}
