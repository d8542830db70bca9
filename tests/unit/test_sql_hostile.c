/*
 * Hostile input never crashes, hangs or grows without bound: unterminated quotes and
 * comments get a clear error naming where they start, deep nesting gets SQL_ERR_LIMIT instead
 * of a stack overflow, NUL bytes and megabyte lines are just input, and random bytes (seeded,
 * so a failure can be replayed) go through rendering and extraction in every dialect.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plugin/sql/sql_lineage.h"
#include "testutil.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Extracts and returns the status; *err gets the message. */
static int extract(const char *sql, size_t len, enum sql_dialect d, char *err, size_t errlen,
                   struct sql_lineage **out) {
  struct sql_lineage *l = NULL;
  int rc = sql_extract_tables(sql, len, d, &l, err, errlen);
  if (out)
    *out = l;
  else
    sql_lineage_free(&l);
  if (rc != SQL_OK)
    ck_assert_ptr_null(l);
  return rc;
}

static const struct {
  const char *name, *sql;
  enum sql_dialect dialect;
  const char *msg;
} unterminated[] = {
    {"string", "SELECT * FROM t WHERE a = 'abc", SQL_DIALECT_ANSI,
     "unterminated string literal starting at line 1, column 27"},
    {"quoted identifier", "SELECT * FROM \"tab", SQL_DIALECT_POSTGRES,
     "unterminated quoted identifier starting at line 1, column 15"},
    {"backtick", "SELECT * FROM `p.d.t", SQL_DIALECT_BIGQUERY, "unterminated quoted identifier"},
    {"bracket", "SELECT * FROM [tab", SQL_DIALECT_TSQL, "unterminated quoted identifier"},
    {"block comment", "SELECT 1\n/* never closed", SQL_DIALECT_ANSI,
     "unterminated comment starting at line 2, column 1"},
    {"dollar quote", "SELECT $$abc", SQL_DIALECT_POSTGRES, "unterminated dollar-quoted string"},
    {"backslash escape at end", "SELECT 'abc\\'", SQL_DIALECT_MYSQL, "unterminated string"},
    {"unclosed paren", "SELECT * FROM (SELECT 1", SQL_DIALECT_ANSI,
     "unclosed parenthesis at line 1, column 15"},
    {"stray paren", "SELECT 1)", SQL_DIALECT_ANSI, "unmatched ')' at line 1, column 9"},
    {"unclosed semantic view", "SELECT * FROM SEMANTIC_VIEW(db.s.sv DIMENSIONS (a",
     SQL_DIALECT_SNOWFLAKE, "unclosed parenthesis at line 1, column 28"},
    /* A ')' of the next statement does not close it (sql_match_parens). */
    {"semantic view closed past ';'", "SELECT * FROM SEMANTIC_VIEW(db.s.sv; SELECT 1)",
     SQL_DIALECT_SNOWFLAKE, "unclosed parenthesis at line 1, column 28"},
    {"not SQL", "hello world", SQL_DIALECT_ANSI, "not SQL"},
    {"binary garbage", "\x01\x02\x03", SQL_DIALECT_ANSI, "not SQL"},
};

START_TEST(unterminated_input_is_a_clear_error) {
  char err[256] = "";
  const char *sql = unterminated[_i].sql;
  int rc = extract(sql, strlen(sql), unterminated[_i].dialect, err, sizeof err, NULL);
  ck_assert_msg(rc == SQL_ERR_SYNTAX, "%s: rc %d", unterminated[_i].name, rc);
  ck_assert_msg(strstr(err, unterminated[_i].msg), "%s: [%s] lacks [%s]", unterminated[_i].name,
                err, unterminated[_i].msg);
}
END_TEST

START_TEST(comments_and_strings_never_yield_tables) {
  const char *sql = "SELECT 'FROM fake1' AS x, \"col\" -- FROM fake2\n"
                    "FROM real /* JOIN fake3 */ WHERE y = $$ FROM fake4 $$";
  struct sql_lineage *l = NULL;
  char err[128];
  ck_assert_int_eq(extract(sql, strlen(sql), SQL_DIALECT_POSTGRES, err, sizeof err, &l), SQL_OK);
  ck_assert_uint_eq(l->n_sources, 1);
  ck_assert_str_eq(l->sources[0].name, "real");
  sql_lineage_free(&l);
}
END_TEST

START_TEST(deep_nesting_is_a_limit_not_a_crash) {
  size_t n = 100000;
  char *sql = malloc(2 * n + 16);
  strcpy(sql, "SELECT ");
  size_t o = 7;
  for (size_t i = 0; i < n; i++)
    sql[o++] = '(';
  sql[o++] = '1';
  for (size_t i = 0; i < n; i++)
    sql[o++] = ')';
  char err[256];
  double t0 = now();
  ck_assert_int_eq(extract(sql, o, SQL_DIALECT_ANSI, err, sizeof err, NULL), SQL_ERR_LIMIT);
  ck_assert_ptr_nonnull(strstr(err, "deeper than 256"));
  /* Same depth as a FROM item. */
  memcpy(sql, "SELECT * FROM ", 14);
  ck_assert_int_eq(extract(sql, o, SQL_DIALECT_ANSI, err, sizeof err, NULL), SQL_ERR_LIMIT);
  ck_assert_double_lt(now() - t0, 2.0);
  free(sql);
  /* 200 levels are fine. */
  char ok[1024] = "SELECT * FROM ";
  for (int i = 0; i < 200; i++)
    strcat(ok, "(");
  strcat(ok, "deep");
  for (int i = 0; i < 200; i++)
    strcat(ok, ")");
  struct sql_lineage *l = NULL;
  ck_assert_int_eq(extract(ok, strlen(ok), SQL_DIALECT_ANSI, err, sizeof err, &l), SQL_OK);
  ck_assert_uint_eq(l->n_sources, 1);
  ck_assert_str_eq(l->sources[0].name, "deep");
  sql_lineage_free(&l);
}
END_TEST

START_TEST(deep_template_nesting_is_a_limit) {
  size_t n = 100000;
  const char *open = "{% if a %}";
  char *t = malloc(n * strlen(open) + 1);
  for (size_t i = 0; i < n; i++)
    memcpy(t + i * strlen(open), open, strlen(open));
  char *out = NULL, err[256];
  size_t len;
  int rc = sql_render_template(t, n * strlen(open), NULL, &out, &len, err, sizeof err);
  ck_assert_int_eq(rc, SQL_ERR_LIMIT);
  ck_assert_ptr_nonnull(strstr(err, "deeper than 256"));
  free(t);
  /* Nested loops with big ranges stop at the iteration bound. */
  const char *loops = "{% for a in (1..10000) %}{% for b in (1..10000) %}{% endfor %}{% endfor %}";
  double t0 = now();
  rc = sql_render_template(loops, strlen(loops), NULL, &out, &len, err, sizeof err);
  ck_assert_int_eq(rc, SQL_ERR_LIMIT);
  ck_assert_ptr_nonnull(strstr(err, "iterations"));
  ck_assert_double_lt(now() - t0, 5.0);
}
END_TEST

/* Conditions on forloop are evaluated in every iteration: a huge one (a chain of `and`) must not
 * cost its length times the iterations times the chain's depth. */
START_TEST(long_forloop_conditions_stay_cheap) {
  const char *head = "{% for i in (1..20000) %}{% if forloop.first", *link = " and forloop.first",
             *tail = " %}A{% endif %}{% endfor %}";
  size_t n = 2000, o = 0;
  char *t = malloc(strlen(head) + n * strlen(link) + strlen(tail) + 1);
  o += (size_t)sprintf(t + o, "%s", head);
  for (size_t i = 0; i < n; i++)
    o += (size_t)sprintf(t + o, "%s", link);
  o += (size_t)sprintf(t + o, "%s", tail);
  char *out = NULL, err[256];
  size_t len;
  double t0 = now();
  ck_assert_int_eq(sql_render_template(t, o, NULL, &out, &len, err, sizeof err), SQL_OK);
  ck_assert_double_lt(now() - t0, 5.0);
  ck_assert_uint_ge(len, 1);
  free(out);
  free(t);
}
END_TEST

START_TEST(nul_bytes_are_input) {
  static const char sql[] = "SELECT * FROM t\0x JOIN u ON 1=1 WHERE a = 'b\0c'";
  struct sql_lineage *l = NULL;
  char err[256];
  ck_assert_int_eq(extract(sql, sizeof sql - 1, SQL_DIALECT_ANSI, err, sizeof err, &l), SQL_OK);
  ck_assert_uint_eq(l->n_sources, 2);
  ck_assert_str_eq(l->sources[1].name, "u");
  sql_lineage_free(&l);
  char *out = NULL;
  size_t len;
  ck_assert_int_eq(sql_render_template(sql, sizeof sql - 1, NULL, &out, &len, err, sizeof err),
                   SQL_OK);
  ck_assert_uint_eq(len, sizeof sql - 1);
  ck_assert_int_eq(memcmp(out, sql, len), 0);
  free(out);
}
END_TEST

START_TEST(megabyte_lines_are_linear) {
  /* A 2 MB single line: a select list of 200k columns, and a FROM list of 100k tables. */
  size_t cols = 200000;
  char *sql = malloc(cols * 12 + 64);
  size_t o = (size_t)sprintf(sql, "SELECT ");
  for (size_t i = 0; i < cols; i++)
    o += (size_t)sprintf(sql + o, "column_%03zu, ", i % 1000);
  o += (size_t)sprintf(sql + o, "1 FROM big");
  ck_assert_uint_gt(o, 2000000);
  struct sql_lineage *l = NULL;
  char err[256];
  double t0 = now();
  ck_assert_int_eq(extract(sql, o, SQL_DIALECT_SNOWFLAKE, err, sizeof err, &l), SQL_OK);
  ck_assert_uint_eq(l->n_sources, 1);
  sql_lineage_free(&l);
  o = (size_t)sprintf(sql, "SELECT 1 FROM ");
  for (size_t i = 0; i < 100000; i++)
    o += (size_t)sprintf(sql + o, "%ss%zu.t%zu", i ? ", " : "", i % 7, i);
  ck_assert_int_eq(extract(sql, o, SQL_DIALECT_SNOWFLAKE, err, sizeof err, &l), SQL_OK);
  ck_assert_uint_eq(l->n_sources, 100000);
  sql_lineage_free(&l);
  /* And through the renderer. */
  char *out = NULL;
  size_t len;
  ck_assert_int_eq(sql_render_template(sql, o, NULL, &out, &len, err, sizeof err), SQL_OK);
  ck_assert_uint_eq(len, o);
  free(out);
  ck_assert_double_lt(now() - t0, 5.0);
  free(sql);
}
END_TEST

START_TEST(many_ctes_stay_linear) {
  size_t n = 20000;
  char *sql = malloc(n * 64 + 64);
  size_t o = (size_t)sprintf(sql, "WITH ");
  for (size_t i = 0; i < n; i++)
    o += (size_t)sprintf(sql + o, "%scte%zu AS (SELECT * FROM t%zu)", i ? ", " : "", i, i);
  o += (size_t)sprintf(sql + o, " SELECT * FROM cte0");
  for (size_t i = 1; i < n; i++)
    o += (size_t)sprintf(sql + o, " JOIN cte%zu USING (k)", i);
  struct sql_lineage *l = NULL;
  char err[256];
  double t0 = now();
  ck_assert_int_eq(extract(sql, o, SQL_DIALECT_ANSI, err, sizeof err, &l), SQL_OK);
  ck_assert_uint_eq(l->n_sources, n);
  ck_assert_double_lt(now() - t0, 5.0);
  sql_lineage_free(&l);
  free(sql);
}
END_TEST

/* xorshift64*: the same bytes on every run and machine. */
static uint64_t next_rand(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 2685821657736338717ull;
}

static void run_both(const char *buf, size_t len, enum sql_dialect d) {
  char err[256];
  char *out = NULL;
  size_t olen = 0;
  struct sql_lineage *l = NULL;
  int rc = sql_extract_tables(buf, len, d, &l, err, sizeof err);
  ck_assert(rc == SQL_OK || rc == SQL_ERR_SYNTAX || rc == SQL_ERR_LIMIT);
  sql_lineage_free(&l);
  rc = sql_render_template(buf, len, NULL, &out, &olen, err, sizeof err);
  ck_assert(rc == SQL_OK || rc == SQL_ERR_SYNTAX || rc == SQL_ERR_LIMIT);
  if (rc == SQL_OK) {
    rc = sql_extract_tables(out, olen, d, &l, err, sizeof err);
    sql_lineage_free(&l);
  }
  free(out);
}

START_TEST(random_bytes_never_crash) {
  /* Pure noise, and noise drawn from SQL and Liquid fragments (which gets much further into
   * the scanner), in every dialect. */
  static const char *const frags[] = {
      "SELECT ",
      "FROM ",
      "JOIN ",
      "(",
      ")",
      ",",
      ".",
      ";",
      "'",
      "\"",
      "`",
      "[",
      "]",
      "--",
      "/*",
      "*/",
      "$$",
      "WITH ",
      "AS ",
      "INSERT INTO ",
      "UPDATE ",
      "SET ",
      "MERGE ",
      "USING ",
      "CREATE TABLE ",
      "LATERAL ",
      "UNNEST(",
      "t1 ",
      "s.t2 ",
      "{% if a %}",
      "{% else %}",
      "{% endif %}",
      "{{ x }}",
      "{% for i in (1..3) %}",
      "{% endfor %}",
      "{{ @d as e }}",
      "\\n",
      "\0",
      "\xff",
      "#",
      "\n",
      " ",
      "{%- raw -%}",
      "{% endraw %}",
      "{% form %}",
      "{% case x %}",
      "{% when 1 %}",
      "{% endcase %}",
      "DELETE FROM ",
      "VALUES ",
      "UNION ",
      "IDENTIFIER('a')",
  };
  uint64_t seed = 0x5eed5eedull;
  char buf[512];
  double t0 = now();
  for (int iter = 0; iter < 4000; iter++) {
    size_t len = 0, want = next_rand(&seed) % sizeof buf;
    bool noise = iter % 2 == 0;
    while (len < want) {
      if (noise) {
        buf[len++] = (char)(next_rand(&seed) & 0xff);
      } else {
        const char *f = frags[next_rand(&seed) % (sizeof frags / sizeof frags[0])];
        size_t fl = f[0] ? strlen(f) : 1;
        if (len + fl > sizeof buf)
          break;
        memcpy(buf + len, f, fl);
        len += fl;
      }
    }
    run_both(buf, len, (enum sql_dialect)(iter % (SQL_DIALECT_SQLITE + 1)));
  }
  ck_assert_double_lt(now() - t0, 20.0);
}
END_TEST

START_TEST(api_edges) {
  struct sql_lineage *l = NULL;
  char err[64];
  ck_assert_int_eq(sql_extract_tables("", 0, SQL_DIALECT_ANSI, &l, err, sizeof err), SQL_OK);
  ck_assert_uint_eq(l->n_sources + l->n_targets, 0);
  sql_lineage_free(&l);
  sql_lineage_free(&l);
  sql_lineage_free(NULL);
  ck_assert_int_eq(sql_extract_tables("-- only a comment\n;;", 20, SQL_DIALECT_ANSI, &l, NULL, 0),
                   SQL_OK);
  sql_lineage_free(&l);
  /* errlen 0 and tiny buffers are respected. */
  ck_assert_int_eq(sql_extract_tables("'", 1, SQL_DIALECT_ANSI, &l, err, 0), SQL_ERR_SYNTAX);
  ck_assert_int_eq(sql_extract_tables("'", 1, SQL_DIALECT_ANSI, &l, err, 4), SQL_ERR_SYNTAX);
  ck_assert_uint_eq(strlen(err), 3);
  enum sql_dialect d;
  ck_assert_int_eq(sql_dialect_from_name("jdbc:postgresql", &d), SQL_OK);
  ck_assert_int_eq(d, SQL_DIALECT_POSTGRES);
  ck_assert_int_eq(sql_dialect_from_name("SnowFlake", &d), SQL_OK);
  ck_assert_int_eq(d, SQL_DIALECT_SNOWFLAKE);
  ck_assert_int_eq(sql_dialect_from_name("athena", &d), SQL_OK);
  ck_assert_int_eq(d, SQL_DIALECT_TRINO);
  ck_assert_int_eq(sql_dialect_from_name("cobol", &d), SQL_ERR_SYNTAX);
  ck_assert_int_eq(d, SQL_DIALECT_ANSI);
  struct sql_table t = {.catalog = (char *)"p", .schema = (char *)"d", .name = (char *)"t"};
  char *dotted = sql_table_dotted(&t);
  ck_assert_str_eq(dotted, "p.d.t");
  free(dotted);
}
END_TEST

/* ---- 4 MB templates complete (issue 14: a 4 MB {% form %} took 49 s, quadratic) ---------
 * No timing assertion: the "linear" case's timeout fails these when the work is quadratic
 * (tens of seconds at 4 MB); tests/bench/sql-scale prints the figures. */

#define BIG ((size_t)4 << 20)

/* Appends unit (a '#' in it becomes a counter) to buf until it holds at least size bytes. */
static size_t fill_units(char *buf, size_t o, const char *unit, size_t size) {
  const char *hash = strchr(unit, '#');
  for (size_t i = 0; o < size; i++) {
    if (hash)
      o += (size_t)sprintf(buf + o, "%.*s%zu%s", (int)(hash - unit), unit, i, hash + 1);
    else
      o += (size_t)sprintf(buf + o, "%s", unit);
  }
  return o;
}

/* Renders text and extracts its tables; returns the rendered SQL (caller frees). */
static char *render_ok(const char *text, size_t len, struct sql_lineage **l) {
  char err[256] = "", *out = NULL;
  size_t olen = 0;
  ck_assert_msg(sql_render_template(text, len, NULL, &out, &olen, err, sizeof err) == SQL_OK,
                "render: %s", err);
  ck_assert_msg(sql_extract_tables(out, olen, SQL_DIALECT_POSTGRES, l, err, sizeof err) == SQL_OK,
                "extract: %s", err);
  return out;
}

START_TEST(big_form_with_many_fields_completes) {
  char *t = malloc(BIG + 256);
  size_t o = (size_t)sprintf(t, "{%% form %%}\n");
  o = fill_units(t, o, "field_#:\n  type: text\n  default: sch.tab\n", BIG);
  o += (size_t)sprintf(t + o, "{%% endform %%}\nSELECT * FROM {{ field_77777 }}");
  struct sql_lineage *l = NULL;
  char *sql = render_ok(t, o, &l);
  ck_assert_uint_eq(l->n_sources, 1);
  ck_assert_str_eq(l->sources[0].schema, "sch"); /* field_77777's default */
  ck_assert_str_eq(l->sources[0].name, "tab");
  sql_lineage_free(&l);
  free(sql);
  free(t);
}
END_TEST

START_TEST(big_form_full_of_open_tags_completes) {
  char *t = malloc(BIG + 256);
  size_t o = (size_t)sprintf(t, "{%% form %%}\n");
  o = fill_units(t, o, "{%  {{ ", BIG);
  o += (size_t)sprintf(t + o, "\n{%% endform %%}\nSELECT * FROM after_form");
  struct sql_lineage *l = NULL;
  char *sql = render_ok(t, o, &l);
  ck_assert_str_eq(sql, "\nSELECT * FROM after_form");
  ck_assert_uint_eq(l->n_sources, 1);
  sql_lineage_free(&l);
  free(sql);
  free(t);
}
END_TEST

START_TEST(many_assigns_complete) {
  char *t = malloc(BIG + 256);
  size_t o = fill_units(t, 0, "{% assign v# = 'x' %}", BIG);
  o += (size_t)sprintf(t + o, "SELECT * FROM {{ v1000 }}{{ v99999 }}");
  struct sql_lineage *l = NULL;
  char *sql = render_ok(t, o, &l);
  ck_assert_str_eq(sql, "SELECT * FROM xx");
  sql_lineage_free(&l);
  free(sql);
  free(t);
}
END_TEST

START_TEST(big_string_literal_completes) {
  char *t = malloc(BIG + 256);
  size_t o = (size_t)sprintf(t, "SELECT '");
  o = fill_units(t, o, "it''s \\' a string ", BIG);
  o += (size_t)sprintf(t + o, "' FROM after_string");
  for (int d = SQL_DIALECT_ANSI; d <= SQL_DIALECT_SQLITE; d++) {
    struct sql_lineage *l = NULL;
    char err[256];
    int rc = sql_extract_tables(t, o, (enum sql_dialect)d, &l, err, sizeof err);
    /* With backslash escapes `\'` escapes; without, it ends the string: both are answers. */
    ck_assert_msg(rc == SQL_OK || rc == SQL_ERR_SYNTAX, "dialect %d: %s", d, err);
    sql_lineage_free(&l);
  }
  free(t);
}
END_TEST

START_TEST(many_definitions_complete) {
  /* A workspace of 200k definitions (the server decides how many), and a 4 MB query that
   * references them: adding and finding a definition must not scan all the others. */
  struct sql_definitions *defs = sql_definitions_new();
  size_t n = 200000;
  for (size_t k = 0; k < n; k++) {
    char name[32], body[64];
    snprintf(name, sizeof name, "@Def_%zu", k);
    int w = snprintf(body, sizeof body, "SELECT * FROM base_%zu", k);
    ck_assert_int_eq(sql_definitions_add(defs, name, body, (size_t)w), SQL_OK);
  }
  /* Replacing one keeps one entry under the name, found case-insensitively. */
  ck_assert_int_eq(sql_definitions_add(defs, "def_7", "SELECT 1 FROM replaced", 22), SQL_OK);
  char *t = malloc(BIG + 256);
  size_t o = (size_t)sprintf(t, "SELECT 1 FROM {{ @DEF_7 }}");
  o = fill_units(t, o, " JOIN {{ @def_# as a }} ON true", BIG);
  char err[256] = "", *out = NULL;
  size_t olen = 0;
  ck_assert_msg(sql_render_template(t, o, defs, &out, &olen, err, sizeof err) == SQL_OK, "%s", err);
  ck_assert_ptr_nonnull(strstr(out, "SELECT 1 FROM (\nSELECT 1 FROM replaced\n) AS DEF_7 JOIN "
                                    "(\nSELECT * FROM base_0\n) AS a ON true"));
  ck_assert_ptr_nonnull(strstr(out, "(\nSELECT * FROM base_100000\n) AS a"));
  free(out);
  free(t);
  sql_definitions_free(&defs);
}
END_TEST

/* ---- cancellation: a plugin interrupted mid-query stops within milliseconds ------------- */

struct canceller {
  int calls;    /* how often the library asked */
  int yes_from; /* answer yes from this call on (1: already cancelled) */
};

static int cancel_cb(void *ctx) {
  struct canceller *c = ctx;
  return ++c->calls >= c->yes_from;
}

/* A big template that would render to tens of MB: 64 variants of a 400 KB body. */
static char *big_template(size_t *len) {
  char *t = malloc(BIG + 4096);
  size_t o = 0;
  for (int k = 0; k < 64; k++)
    o += (size_t)sprintf(
        t + o, "{%% if p%d %%}SELECT 1 FROM a%d{%% else %%}SELECT 1 FROM b%d{%% endif %%}\n", k, k,
        k);
  o = fill_units(t, o, "SELECT c FROM t# WHERE x = '{{ v }}';\n", (size_t)400 << 10);
  *len = o;
  return t;
}

START_TEST(cancelled_before_the_call_stops_at_once) {
  size_t len;
  char *t = big_template(&len), err[64] = "", *out = (char *)"untouched";
  size_t olen = 1;
  struct canceller c = {.yes_from = 1};
  struct sql_cancel cancel = {.cancelled = cancel_cb, .ctx = &c};
  ck_assert_int_eq(
      sql_render_template_cancellable(t, len, NULL, &cancel, &out, &olen, err, sizeof err),
      SQL_ERR_CANCELLED);
  ck_assert_ptr_null(out);
  ck_assert_str_eq(err, "cancelled");
  ck_assert_int_eq(c.calls, 1); /* sticky: asked once, then never again */
  struct sql_lineage *l = NULL;
  c.calls = 0;
  ck_assert_int_eq(
      sql_extract_tables_cancellable(t, len, SQL_DIALECT_ANSI, &cancel, &l, err, sizeof err),
      SQL_ERR_CANCELLED);
  ck_assert_ptr_null(l);
  ck_assert_int_eq(c.calls, 1);
  free(t);
}
END_TEST

START_TEST(cancelled_while_rendering_stops_promptly) {
  size_t len;
  char *t = big_template(&len), err[64] = "", *out = NULL;
  size_t olen = 0;
  /* Uncancelled, how often does a whole render and extraction ask? */
  struct canceller never = {.yes_from = 1 << 30};
  struct sql_cancel cancel = {.cancelled = cancel_cb, .ctx = &never};
  ck_assert_int_eq(
      sql_render_template_cancellable(t, len, NULL, &cancel, &out, &olen, err, sizeof err), SQL_OK);
  int render_calls = never.calls;
  never.calls = 0;
  struct sql_lineage *l = NULL;
  ck_assert_int_eq(
      sql_extract_tables_cancellable(out, olen, SQL_DIALECT_ANSI, &cancel, &l, err, sizeof err),
      SQL_OK);
  int extract_calls = never.calls;
  ck_assert_uint_gt(l->n_sources, 128); /* a0..a63, b0..b63 and the t# */
  sql_lineage_free(&l);
  ck_assert_int_gt(render_calls, 10); /* it does ask, all along */
  ck_assert_int_gt(extract_calls, 10);

  /* Cancelled on the third question: no fourth, and nothing is returned. */
  struct canceller c = {.yes_from = 3};
  cancel.ctx = &c;
  char *out2 = NULL;
  ck_assert_int_eq(
      sql_render_template_cancellable(t, len, NULL, &cancel, &out2, &olen, err, sizeof err),
      SQL_ERR_CANCELLED);
  ck_assert_ptr_null(out2);
  ck_assert_int_eq(c.calls, 3);
  c.calls = 0;
  ck_assert_int_eq(sql_extract_tables_cancellable(out, strlen(out), SQL_DIALECT_ANSI, &cancel, &l,
                                                  err, sizeof err),
                   SQL_ERR_CANCELLED);
  ck_assert_ptr_null(l);
  ck_assert_int_eq(c.calls, 3);
  free(out);
  free(t);
}
END_TEST

START_TEST(no_cancel_callback_is_the_plain_call) {
  const char *sql = "SELECT * FROM {% if x %}a{% else %}b{% endif %}";
  char err[64], *a = NULL, *b = NULL;
  size_t alen, blen;
  struct sql_cancel none = {0};
  ck_assert_int_eq(sql_render_template(sql, strlen(sql), NULL, &a, &alen, err, sizeof err), SQL_OK);
  ck_assert_int_eq(
      sql_render_template_cancellable(sql, strlen(sql), NULL, &none, &b, &blen, err, sizeof err),
      SQL_OK);
  ck_assert_str_eq(a, b);
  free(b);
  b = NULL;
  ck_assert_int_eq(
      sql_render_template_cancellable(sql, strlen(sql), NULL, NULL, &b, &blen, err, sizeof err),
      SQL_OK);
  ck_assert_str_eq(a, b);
  free(a);
  free(b);
}
END_TEST

int main(void) {
  Suite *s = suite_create("sql_hostile");
  TCase *tc = tcase_create("hostile");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, unterminated_input_is_a_clear_error, 0,
                      (int)(sizeof unterminated / sizeof unterminated[0]));
  tcase_add_test(tc, comments_and_strings_never_yield_tables);
  tcase_add_test(tc, deep_nesting_is_a_limit_not_a_crash);
  tcase_add_test(tc, deep_template_nesting_is_a_limit);
  tcase_add_test(tc, nul_bytes_are_input);
  tcase_add_test(tc, megabyte_lines_are_linear);
  tcase_add_test(tc, many_ctes_stay_linear);
  tcase_add_test(tc, random_bytes_never_crash);
  tcase_add_test(tc, api_edges);
  suite_add_tcase(s, tc);
  /* Linear work takes well under a second here even under load; quadratic work took 50-70 s
   * at 4 MB, so this timeout is what fails them. */
  TCase *lin = tcase_create("linear");
  tcase_set_timeout(lin, 30);
  tcase_add_test(lin, big_form_with_many_fields_completes);
  tcase_add_test(lin, big_form_full_of_open_tags_completes);
  tcase_add_test(lin, many_assigns_complete);
  tcase_add_test(lin, long_forloop_conditions_stay_cheap);
  tcase_add_test(lin, big_string_literal_completes);
  tcase_add_test(lin, many_definitions_complete);
  tcase_add_test(lin, cancelled_before_the_call_stops_at_once);
  tcase_add_test(lin, cancelled_while_rendering_stops_promptly);
  tcase_add_test(lin, no_cancel_callback_is_the_plain_call);
  suite_add_tcase(s, lin);
  return test_run_suite(s);
}
