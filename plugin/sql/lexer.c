/*
 * lexer.c -- splits SQL text into tokens with each dialect's quoting rules.
 *
 * The extractor only needs to know where identifiers, strings, parentheses, commas, dots and
 * semicolons are, so everything else collapses into TK_OP. What differs between dialects is
 * what a quote means: "..." is an identifier in ANSI, Postgres, Snowflake, Redshift, T-SQL,
 * Trino, Oracle and SQLite but a string in MySQL, BigQuery, Hive and Databricks; backslash
 * escapes apply inside strings in the latter group and Snowflake; [..] is an identifier in
 * T-SQL (and, when it looks like one, elsewhere: Redshift queries carry it too); `#` starts a
 * comment in MySQL and BigQuery but a temp table name in T-SQL and Redshift; BigQuery allows
 * dashes in project names. Every loop advances at least one byte, so the lexer is linear and
 * never hangs; NUL and invalid UTF-8 are just bytes (>= 0x80 count as identifier characters).
 *
 * Mode's recorded bodies sometimes carry the two characters "\n" where a line break was
 * meant; outside quotes a backslash followed by n, t or r is read as whitespace.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "sql_internal.h"

struct lexer {
  const char *s;
  size_t n;
  size_t i;
  enum sql_dialect d;
  struct sql_token *toks; /* owned until handed out */
  size_t ntok, cap;
  bool space; /* whitespace seen since the last token */
  char *err;
  size_t errlen;
};

static bool is_word_start(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool is_word_char(unsigned char c) {
  return is_word_start(c) || (c >= '0' && c <= '9') || c == '$';
}

static bool is_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}

static bool double_quote_is_string(enum sql_dialect d) {
  return d == SQL_DIALECT_MYSQL || d == SQL_DIALECT_BIGQUERY || d == SQL_DIALECT_HIVE ||
         d == SQL_DIALECT_DATABRICKS;
}

static bool backslash_escapes(enum sql_dialect d) {
  return double_quote_is_string(d) || d == SQL_DIALECT_SNOWFLAKE;
}

static bool hash_is_comment(enum sql_dialect d) {
  return d == SQL_DIALECT_MYSQL || d == SQL_DIALECT_BIGQUERY;
}

/* T-SQL's #temp and ##global tables; Redshift's `CREATE TABLE #tmp` temp tables, where '#'
 * is no operator, so only when a name follows at once. */
static bool hash_starts_name(const struct lexer *lx) {
  if (lx->d == SQL_DIALECT_TSQL)
    return true;
  return lx->d == SQL_DIALECT_REDSHIFT && lx->i + 1 < lx->n &&
         is_word_start((unsigned char)lx->s[lx->i + 1]);
}

static bool dollar_quoting(enum sql_dialect d) {
  return d == SQL_DIALECT_POSTGRES || d == SQL_DIALECT_REDSHIFT || d == SQL_DIALECT_SNOWFLAKE ||
         d == SQL_DIALECT_ANSI;
}

static int push(struct lexer *lx, enum sql_tok_kind kind, size_t start, size_t len, char quote) {
  if (lx->ntok == lx->cap) {
    size_t cap = lx->cap ? lx->cap * 2 : 64;
    struct sql_token *p = realloc(lx->toks, cap * sizeof *p);
    if (!p)
      return SQL_ERR_NOMEM;
    lx->toks = p;
    lx->cap = cap;
  }
  lx->toks[lx->ntok++] = (struct sql_token){.start = (uint32_t)start,
                                            .len = (uint32_t)len,
                                            .kind = (uint8_t)kind,
                                            .quote = quote,
                                            .space_before = lx->space};
  lx->space = false;
  return SQL_OK;
}

static int unterminated(struct lexer *lx, const char *what, size_t start) {
  char pos[64];
  sql_position(lx->s, lx->n, start, pos, sizeof pos);
  return sql_fail(SQL_ERR_SYNTAX, lx->err, lx->errlen, "unterminated %s starting at %s", what, pos);
}

/* Skips a quoted run that ends at `close`; a doubled close is an escaped one, and with
 * backslash escapes `\x` is one character. On success lx->i is just past the close. */
static int skip_quoted(struct lexer *lx, char close, bool backslash, const char *what) {
  size_t start = lx->i;
  lx->i++;
  while (lx->i < lx->n) {
    char c = lx->s[lx->i];
    if (backslash && c == '\\') {
      lx->i += 2;
      continue;
    }
    if (c == close) {
      if (lx->i + 1 < lx->n && lx->s[lx->i + 1] == close) {
        lx->i += 2;
        continue;
      }
      lx->i++;
      return SQL_OK;
    }
    lx->i++;
  }
  lx->i = lx->n;
  return unterminated(lx, what, start);
}

/* BigQuery ''' and """ strings. */
static int skip_triple(struct lexer *lx, char q) {
  size_t start = lx->i;
  lx->i += 3;
  while (lx->i + 2 < lx->n) {
    if (lx->s[lx->i] == '\\') {
      lx->i += 2;
      continue;
    }
    if (lx->s[lx->i] == q && lx->s[lx->i + 1] == q && lx->s[lx->i + 2] == q) {
      lx->i += 3;
      return SQL_OK;
    }
    lx->i++;
  }
  lx->i = lx->n;
  return unterminated(lx, "triple-quoted string", start);
}

/* $tag$ ... $tag$ (tag may be empty). Returns 1 if this was not a dollar quote. */
static int skip_dollar(struct lexer *lx) {
  size_t start = lx->i, j = lx->i + 1;
  if (j < lx->n && is_digit((unsigned char)lx->s[j]))
    return 1;
  while (j < lx->n && (is_word_start((unsigned char)lx->s[j]) || is_digit((unsigned char)lx->s[j])))
    j++;
  if (j >= lx->n || lx->s[j] != '$')
    return 1;
  size_t taglen = j + 1 - start;
  const char *tag = lx->s + start;
  for (size_t k = j + 1; k + taglen <= lx->n; k++) {
    if (lx->s[k] == '$' && memcmp(lx->s + k, tag, taglen) == 0) {
      lx->i = k + taglen;
      return SQL_OK;
    }
  }
  lx->i = lx->n;
  return unterminated(lx, "dollar-quoted string", start);
}

/* A bracketed identifier outside T-SQL: only where it cannot be a subscript or an array
 * literal (not right after a name or a closing bracket, content a plain name). */
static bool bracket_is_ident(struct lexer *lx) {
  if (lx->d == SQL_DIALECT_TSQL)
    return true;
  if (lx->i > 0) {
    unsigned char p = (unsigned char)lx->s[lx->i - 1];
    if (is_word_char(p) || p == ']' || p == ')' || p == '"' || p == '`')
      return false;
  }
  size_t j = lx->i + 1;
  for (; j < lx->n && j - lx->i <= 128; j++) {
    char c = lx->s[j];
    if (c == ']')
      return j > lx->i + 1 && !is_digit((unsigned char)lx->s[lx->i + 1]);
    if (strchr("'\"[](),\n\r:", c) || c == '\0')
      return false;
  }
  return false;
}

static bool skip_space_and_comments(struct lexer *lx, int *rc) {
  const char *s = lx->s;
  size_t n = lx->n;
  char c = s[lx->i];
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
    lx->i++;
    return true;
  }
  if (c == '\\' && lx->i + 1 < n && strchr("ntr", s[lx->i + 1]) && s[lx->i + 1] != '\0') {
    lx->i += 2;
    return true;
  }
  bool line = (c == '-' && lx->i + 1 < n && s[lx->i + 1] == '-') ||
              (c == '#' && hash_is_comment(lx->d)) ||
              (c == '/' && lx->d == SQL_DIALECT_SNOWFLAKE && lx->i + 1 < n && s[lx->i + 1] == '/');
  if (line) {
    const char *nl = memchr(s + lx->i, '\n', n - lx->i);
    lx->i = nl ? (size_t)(nl - s) + 1 : n;
    return true;
  }
  if (c == '/' && lx->i + 1 < n && s[lx->i + 1] == '*') {
    size_t start = lx->i;
    for (size_t j = lx->i + 2; j + 1 < n; j++) {
      if (s[j] == '*' && s[j + 1] == '/') {
        lx->i = j + 2;
        return true;
      }
    }
    lx->i = n;
    *rc = unterminated(lx, "comment", start);
    return true;
  }
  return false;
}

static int lex_word(struct lexer *lx) {
  size_t start = lx->i;
  lx->i++;
  while (lx->i < lx->n) {
    unsigned char c = (unsigned char)lx->s[lx->i];
    if (is_word_char(c)) {
      lx->i++;
    } else if (c == '-' && lx->d == SQL_DIALECT_BIGQUERY && lx->i + 1 < lx->n &&
               is_word_char((unsigned char)lx->s[lx->i + 1]) && lx->s[lx->i + 1] != '-') {
      lx->i++; /* my-project.dataset.table */
    } else {
      break;
    }
  }
  return push(lx, TK_WORD, start, lx->i - start, 0);
}

static int lex_number(struct lexer *lx) {
  size_t start = lx->i;
  while (lx->i < lx->n && (is_digit((unsigned char)lx->s[lx->i]) || lx->s[lx->i] == '.'))
    lx->i++;
  if (lx->i < lx->n && (lx->s[lx->i] == 'e' || lx->s[lx->i] == 'E')) {
    size_t j = lx->i + 1;
    if (j < lx->n && (lx->s[j] == '+' || lx->s[j] == '-'))
      j++;
    if (j < lx->n && is_digit((unsigned char)lx->s[j]))
      lx->i = j;
  }
  while (lx->i < lx->n && is_word_char((unsigned char)lx->s[lx->i]))
    lx->i++;
  return push(lx, TK_NUMBER, start, lx->i - start, 0);
}

static int lex_string(struct lexer *lx, char q, bool backslash) {
  size_t start = lx->i;
  int rc;
  if (lx->d == SQL_DIALECT_BIGQUERY && lx->i + 2 < lx->n && lx->s[lx->i + 1] == q &&
      lx->s[lx->i + 2] == q)
    rc = skip_triple(lx, q);
  else
    rc = skip_quoted(lx, q, backslash, "string literal");
  if (rc)
    return rc;
  return push(lx, TK_STRING, start, lx->i - start, 0);
}

static int lex_quoted_ident(struct lexer *lx, char open, char close) {
  size_t start = lx->i;
  int rc = skip_quoted(lx, close, false, "quoted identifier");
  if (rc)
    return rc;
  return push(lx, TK_QUOTED, start + 1, lx->i - start - 2, open);
}

/* A single-letter prefix glued to a quote: E'..' N'..' B'..' X'..' R'..' U&'..'. */
static bool string_prefix(struct lexer *lx, bool *backslash) {
  size_t i = lx->i;
  char c = lx->s[i];
  if (i + 1 >= lx->n || lx->s[i + 1] != '\'')
    return false;
  if (i > 0 && is_word_char((unsigned char)lx->s[i - 1]))
    return false;
  switch (c) {
  case 'E':
  case 'e':
    *backslash = true;
    return true;
  case 'R':
  case 'r':
    *backslash = false;
    return true;
  case 'N':
  case 'n':
  case 'B':
  case 'b':
  case 'X':
  case 'x':
    *backslash = backslash_escapes(lx->d);
    return true;
  default:
    return false;
  }
}

static int lex_one(struct lexer *lx) {
  const char *s = lx->s;
  unsigned char c = (unsigned char)s[lx->i];
  size_t start = lx->i;
  bool bs;

  if (string_prefix(lx, &bs)) {
    lx->i++;
    int rc = skip_quoted(lx, '\'', bs, "string literal");
    return rc ? rc : push(lx, TK_STRING, start, lx->i - start, 0);
  }
  if (is_word_start(c) || (c == '@') || (c == '#' && hash_starts_name(lx)))
    return lex_word(lx);
  if (is_digit(c) || (c == '.' && lx->i + 1 < lx->n && is_digit((unsigned char)s[lx->i + 1]) &&
                      (lx->ntok == 0 || lx->toks[lx->ntok - 1].kind != TK_WORD)))
    return lex_number(lx);
  switch (c) {
  case '\'':
    return lex_string(lx, '\'', backslash_escapes(lx->d));
  case '"':
    if (double_quote_is_string(lx->d))
      return lex_string(lx, '"', true);
    return lex_quoted_ident(lx, '"', '"');
  case '`':
    return lex_quoted_ident(lx, '`', '`');
  case '[':
    if (bracket_is_ident(lx))
      return lex_quoted_ident(lx, '[', ']');
    break;
  case '$':
    if (dollar_quoting(lx->d)) {
      int rc = skip_dollar(lx);
      if (rc <= 0)
        return rc ? rc : push(lx, TK_STRING, start, lx->i - start, 0);
    }
    lx->i++;
    while (lx->i < lx->n && is_word_char((unsigned char)s[lx->i]))
      lx->i++;
    return push(lx, TK_PARAM, start, lx->i - start, 0);
  case '?':
    lx->i++;
    return push(lx, TK_PARAM, start, 1, 0);
  case ':':
    if (lx->i + 1 < lx->n && is_word_start((unsigned char)s[lx->i + 1]) &&
        (lx->space || lx->ntok == 0 || lx->toks[lx->ntok - 1].kind == TK_LPAREN ||
         lx->toks[lx->ntok - 1].kind == TK_COMMA || lx->toks[lx->ntok - 1].kind == TK_OP)) {
      lx->i++;
      while (lx->i < lx->n && is_word_char((unsigned char)s[lx->i]))
        lx->i++;
      return push(lx, TK_PARAM, start, lx->i - start, 0);
    }
    break;
  case '(':
    lx->i++;
    return push(lx, TK_LPAREN, start, 1, 0);
  case ')':
    lx->i++;
    return push(lx, TK_RPAREN, start, 1, 0);
  case ',':
    lx->i++;
    return push(lx, TK_COMMA, start, 1, 0);
  case '.':
    lx->i++;
    return push(lx, TK_DOT, start, 1, 0);
  case ';':
    lx->i++;
    return push(lx, TK_SEMI, start, 1, 0);
  default:
    break;
  }
  lx->i++;
  return push(lx, TK_OP, start, 1, 0);
}

int sql_lex(const char *sql, size_t len, enum sql_dialect dialect, struct sql_poll *poll,
            struct sql_token **out, size_t *n_out, char *err, size_t errlen) {
  struct lexer lx = {.s = sql, .n = len, .d = dialect, .err = err, .errlen = errlen};
  int rc = SQL_OK;
  *out = NULL;
  *n_out = 0;
  while (lx.i < lx.n) {
    if (sql_poll_cancelled(poll)) {
      rc = sql_cancelled(err, errlen);
      goto fail;
    }
    if (skip_space_and_comments(&lx, &rc)) {
      if (rc)
        goto fail;
      lx.space = true;
      continue;
    }
    rc = lex_one(&lx);
    if (rc)
      goto fail;
  }
  rc = push(&lx, TK_EOF, len, 0, 0);
  if (rc)
    goto fail;
  *out = lx.toks;
  *n_out = lx.ntok;
  return SQL_OK;
fail:
  if (rc == SQL_ERR_NOMEM)
    sql_fail(rc, err, errlen, "out of memory");
  free(lx.toks);
  return rc;
}

bool sql_tok_is(const char *sql, const struct sql_token *t, const char *kw) {
  if (t->kind != TK_WORD)
    return false;
  size_t n = strlen(kw);
  if (t->len != n)
    return false;
  const char *p = sql + t->start;
  for (size_t i = 0; i < n; i++) {
    char c = p[i];
    if (c >= 'a' && c <= 'z')
      c = (char)(c - 'a' + 'A');
    if (c != kw[i])
      return false;
  }
  return true;
}

char *sql_tok_ident(const char *sql, const struct sql_token *t) {
  char *out = malloc(t->len + 1);
  if (!out)
    return NULL;
  const char *p = sql + t->start;
  size_t o = 0;
  char close = t->quote == '[' ? ']' : t->quote;
  for (size_t i = 0; i < t->len; i++) {
    out[o++] = p[i];
    if (t->kind == TK_QUOTED && p[i] == close && i + 1 < t->len && p[i + 1] == close)
      i++;
  }
  out[o] = '\0';
  return out;
}

int sql_match_parens(const struct sql_token *tk, size_t ntk, uint32_t *match) {
  uint32_t *stack = malloc((ntk + 1) * sizeof *stack); /* the '(' not closed yet */
  size_t depth = 0;
  if (stack == NULL)
    return SQL_ERR_NOMEM;
  for (size_t i = 0; i < ntk; i++) {
    match[i] = (uint32_t)(ntk - 1);
    if (tk[i].kind == TK_LPAREN)
      stack[depth++] = (uint32_t)i;
    else if (tk[i].kind == TK_RPAREN && depth)
      match[stack[--depth]] = (uint32_t)i;
    else if (tk[i].kind == TK_SEMI)
      depth = 0; /* a ')' never closes a '(' of another statement */
  }
  free(stack);
  return SQL_OK;
}
