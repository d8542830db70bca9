/*
 * sql_internal.h -- what the lineage library's modules share and nobody else sees: a bounded
 * growable buffer (strbuf.c), the tokens of the lexer (lexer.c), de-duplicated table sets
 * (table.c) and the expansion of Mode definition references (definitions.c).
 */
#ifndef SQL_INTERNAL_H
#define SQL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sql_lineage.h"

/* Built-in bounds: beyond them a call fails with SQL_ERR_LIMIT instead of exhausting the stack
 * or memory. */
#define SQL_MAX_DEPTH 256                   /* nested parentheses or template blocks */
#define SQL_MAX_INPUT ((size_t)256 << 20)   /* bytes of SQL or template text */
#define SQL_MAX_RENDERED ((size_t)64 << 20) /* bytes a template may render to */
#define SQL_MAX_DEF_DEPTH 32                /* definitions referencing definitions */

/* ---- strbuf.c: a growable byte buffer with a maximum set at creation (curl's dynbuf) ---- */

struct strbuf {
  char *data; /* owned; NUL-terminated when len > 0 or after sb_finish */
  size_t len;
  size_t cap;
  size_t max; /* appending beyond this fails with SQL_ERR_LIMIT */
};

void sb_init(struct strbuf *sb, size_t max);
/* Appends n bytes. Returns SQL_OK, SQL_ERR_NOMEM or SQL_ERR_LIMIT. */
int sb_append(struct strbuf *sb, const char *s, size_t n);
int sb_append_str(struct strbuf *sb, const char *s);
/* Hands the NUL-terminated text to the caller (never NULL on SQL_OK) and resets sb. */
int sb_finish(struct strbuf *sb, char **out, size_t *out_len);
void sb_free(struct strbuf *sb);

/* Writes "line L, column C" of byte offset off in text into buf. */
void sql_position(const char *text, size_t len, size_t off, char *buf, size_t buflen);
/* snprintf into err when errlen > 0; returns rc for `return sql_fail(...)`. */
int sql_fail(int rc, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- cancellation (strbuf.c) ---------------------------------------------------------- */

/* Long loops call sql_poll_cancelled once per round; it asks the caller's callback only every
 * SQL_POLL_EVERY rounds, so the check costs nothing measurable and a cancelled call still
 * stops within milliseconds. */
#define SQL_POLL_EVERY 4096

struct sql_poll {
  const struct sql_cancel *cancel; /* the caller's; NULL: never cancelled */
  unsigned rounds;
  bool cancelled; /* sticky once the callback said so */
};

/* True once the caller asked to stop (p may be NULL: never); the caller then returns
 * sql_cancelled(...). */
bool sql_poll_cancelled(struct sql_poll *p);
/* Writes "cancelled" into err and returns SQL_ERR_CANCELLED. */
int sql_cancelled(char *err, size_t errlen);

/* ---- lexer.c ------------------------------------------------------------------------- */

enum sql_tok_kind {
  TK_EOF = 0,
  TK_WORD,   /* bare identifier or keyword */
  TK_QUOTED, /* quoted identifier: "..", `..`, [..]; span excludes the quotes */
  TK_STRING, /* string literal (any quoting, dollar-quoting) */
  TK_NUMBER,
  TK_LPAREN,
  TK_RPAREN,
  TK_COMMA,
  TK_DOT,
  TK_SEMI,
  TK_PARAM, /* ?, :name, $1, $name, %s */
  TK_OP     /* anything else, one or more punctuation bytes */
};

struct sql_token {
  uint32_t start; /* byte offset of the span (inputs are below SQL_MAX_INPUT) */
  uint32_t len;
  uint8_t kind;      /* enum sql_tok_kind */
  char quote;        /* TK_QUOTED: the opening quote character */
  bool space_before; /* whitespace or a comment separates it from the previous token */
};

/* Splits sql into tokens, ending with one TK_EOF. *out is malloc'd, owned by the caller.
 * Returns SQL_OK, SQL_ERR_SYNTAX (unterminated quote or comment, message names where it
 * starts) or SQL_ERR_NOMEM. Linear in len. SQL_ERR_CANCELLED when poll says so. */
int sql_lex(const char *sql, size_t len, enum sql_dialect dialect, struct sql_poll *poll,
            struct sql_token **out, size_t *n_out, char *err, size_t errlen);

/* Fills match[0..ntk) (tk as sql_lex gives it, ending with TK_EOF): for each '(' the index of
 * the ')' that closes it, else ntk - 1 (the TK_EOF); ntk - 1 for every other token. A ')' never
 * closes a '(' of another statement: a ';' leaves the '(' before it unclosed. The one rule by
 * which extract.c and columns.c skip a parenthesised group. Linear; SQL_OK or SQL_ERR_NOMEM. */
int sql_match_parens(const struct sql_token *tk, size_t ntk, uint32_t *match);

/* True when the token is an unquoted word equal to kw (upper-case ASCII) ignoring case. */
bool sql_tok_is(const char *sql, const struct sql_token *t, const char *kw);

/* Copies the token's identifier text, unquoted ("" `` ]] un-doubled), into a new string. */
char *sql_tok_ident(const char *sql, const struct sql_token *t);

/* ---- table.c ------------------------------------------------------------------------- */

/* An ordered, de-duplicated (ASCII case-insensitively) set of tables. */
struct sql_table_set {
  struct sql_table *items; /* owned */
  size_t n, cap;
  uint32_t *slots; /* open-addressing index: item index + 1, 0 = empty */
  size_t n_slots;
};

/* Adds t, taking ownership of its strings (freed at once if it is a duplicate). Returns
 * SQL_OK or SQL_ERR_NOMEM (t's strings freed). */
int sql_table_set_add(struct sql_table_set *set, struct sql_table *t);
void sql_table_set_free(struct sql_table_set *set);
void sql_table_clear(struct sql_table *t);

/* ---- extract.c ----------------------------------------------------------------------- */

/* sql_extract_tables_cancellable that also hands the tokens out (*toks_out, malloc'd, owned by
 * the caller, *ntk_out of them) when toks_out is not NULL and the call succeeds. */
int sql_extract_keep_tokens(const char *sql, size_t len, enum sql_dialect dialect,
                            struct sql_poll *poll, struct sql_token **toks_out, size_t *ntk_out,
                            struct sql_lineage **out, char *err, size_t errlen);

/* ---- columns.c ---------------------------------------------------------------------- */

/* Frees n columns and the array (sql_lineage_free's part for columns). */
void sql_columns_free(struct sql_column *cols, size_t n);

/* ---- definitions.c -------------------------------------------------------------------- */

/* Replaces every `{{ @name as alias }}` in text by `(body) AS alias`, recursively, appending
 * the result to out. Unknown names (or defs NULL) become `(SELECT 1) AS alias`. */
int sql_definitions_expand(const struct sql_definitions *defs, const char *text, size_t len,
                           struct sql_poll *poll, struct strbuf *out, char *err, size_t errlen);

/* ---- liquid.c ------------------------------------------------------------------------ */

/* Renders Liquid markup (definitions already expanded) into out; see sql_render_template.
 * With all_variants false, only variant 0 (every conditional's first branch). */
int sql_liquid_render(const char *text, size_t len, bool all_variants, struct sql_poll *poll,
                      struct strbuf *out, char *err, size_t errlen);

#endif
