/*
 * Column lineage (sql_extract_lineage with columns): the contract of issue 10 item 1 case by
 * case -- names (alias, bare column, quoted, expression text), what counts (CASE conditions,
 * casts, aggregates, window arguments) and what does not (WHERE, JOIN ON, GROUP BY, window
 * specs, count(*)), CTEs and subqueries resolved to base tables, UNION by position, struct /
 * VARIANT / UNNEST elements as their top-level column, `*` and `t.*` with and without a
 * schema, INSERT / CTAS / SELECT INTO, Liquid variants merged, a cast's data type -- then
 * hostile input: random bytes, size, work bound and cancellation.
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

/* A schema from "table:col,col;table:col". */
static struct sql_schema *make_schema(const char *spec) {
  if (!spec)
    return NULL;
  struct sql_schema *s = sql_schema_new();
  char *copy = strdup(spec), *save = NULL;
  for (char *t = strtok_r(copy, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
    char *colon = strchr(t, ':'), *save2 = NULL;
    ck_assert_ptr_nonnull(colon);
    *colon = '\0';
    for (char *c = strtok_r(colon + 1, ",", &save2); c; c = strtok_r(NULL, ",", &save2))
      ck_assert_int_eq(sql_schema_add(s, t, c), SQL_OK);
  }
  free(copy);
  return s;
}

/* The columns as "name[t.c t.d] name2[]", the form the cases are written in. */
static char *describe(const struct sql_lineage *l) {
  size_t cap = 4096, n = 0;
  char *out = malloc(cap);
  out[0] = '\0';
  for (size_t i = 0; i < l->n_columns; i++) {
    const struct sql_column *c = &l->columns[i];
    n += (size_t)snprintf(out + n, cap - n, "%s%s[", i ? " " : "", c->name);
    for (size_t k = 0; k < c->n_sources && n < cap; k++) {
      char *t = sql_table_dotted(&l->sources[c->sources[k].table]);
      n += (size_t)snprintf(out + n, cap - n, "%s%s.%s", k ? " " : "", t, c->sources[k].column);
      free(t);
    }
    n += (size_t)snprintf(out + n, cap - n, "]");
    ck_assert_uint_lt(n, cap);
  }
  return out;
}

static struct sql_lineage *columns_of(const char *sql, enum sql_dialect d,
                                      const struct sql_schema *schema) {
  struct sql_extract_options opts = {.columns = 1, .schema = schema};
  struct sql_lineage *l = NULL;
  char err[256] = "";
  int rc = sql_extract_lineage(sql, strlen(sql), d, &opts, &l, err, sizeof err);
  ck_assert_msg(rc == SQL_OK, "%s: rc %d: %s", sql, rc, err);
  ck_assert_int_eq(l->columns_status, SQL_OK);
  return l;
}

#define A SQL_DIALECT_ANSI
#define PG SQL_DIALECT_POSTGRES
#define SF SQL_DIALECT_SNOWFLAKE
#define BQ SQL_DIALECT_BIGQUERY

static const struct {
  const char *name;
  enum sql_dialect d;
  const char *sql, *schema, *want;
} cases[] = {
    /* names */
    {"alias, bare column, qualified, count(*), literal", A,
     "SELECT a, b AS bb, t.c, count(*) n, 1 one FROM t", NULL, "a[t.a] bb[t.b] c[t.c] n[] one[]"},
    {"unquoted names lower-cased, table as written", A, "SELECT ID, Amount AS Total FROM Sales.T",
     NULL, "id[Sales.T.id] total[Sales.T.amount]"},
    {"quoted names kept as written", PG, "SELECT \"MixedCol\", a AS \"Out\" FROM \"S\".\"T\"",
     NULL, "MixedCol[S.T.MixedCol] Out[S.T.a]"},
    {"implicit alias", A, "SELECT a amount_alias, f(b) fb FROM t", NULL,
     "amount_alias[t.a] fb[t.b]"},
    {"expression without alias is named by its text", A, "SELECT a + b, UPPER(Name) FROM t",
     NULL, "a + b[t.a t.b] upper(name)[t.name]"},
    {"T-SQL name = expr", SQL_DIALECT_TSQL, "SELECT total = SUM(amount) FROM o", NULL,
     "total[o.amount]"},
    {"schema.table.column reference", A, "SELECT s.t.a FROM s.t", NULL, "a[s.t.a]"},
    /* what counts */
    {"CASE WHEN condition counts, WHERE does not", A,
     "SELECT CASE WHEN status = 'paid' THEN amount END AS paid FROM o WHERE region = 'eu'", NULL,
     "paid[o.amount o.status]"},
    {"IFF condition counts", SF, "SELECT IFF(flag, a, b) AS v FROM t", NULL,
     "v[t.a t.b t.flag]"},
    {"IIF condition counts", SQL_DIALECT_TSQL, "SELECT IIF(x > 0, y, z) AS v FROM t", NULL,
     "v[t.x t.y t.z]"},
    {"COALESCE and casts", PG,
     "SELECT COALESCE(a, b) AS c, CAST(d AS DECIMAL(10,2)) AS e, f::date AS g FROM t", NULL,
     "c[t.a t.b] e[t.d] g[t.f]"},
    {"window: arguments count, PARTITION BY / ORDER BY do not", A,
     "SELECT SUM(amount) OVER (PARTITION BY cust ORDER BY ts) AS running, "
     "ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts) AS rn FROM o",
     NULL, "running[o.amount] rn[]"},
    {"GROUP BY, HAVING, ORDER BY do not count", A,
     "SELECT region, SUM(amount) AS total FROM o GROUP BY region, yr HAVING COUNT(*) > 1 "
     "ORDER BY total",
     NULL, "region[o.region] total[o.amount]"},
    {"JOIN ON does not count", A, "SELECT a.x FROM a JOIN b ON a.id = b.aid", NULL, "x[a.x]"},
    {"QUALIFY does not count", SF,
     "SELECT id FROM t QUALIFY ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts) = 1", NULL,
     "id[t.id]"},
    {"FILTER and count(DISTINCT)", PG,
     "SELECT COUNT(*) FILTER (WHERE paid) AS n, COUNT(DISTINCT user_id) AS u FROM e", NULL,
     "n[] u[e.user_id]"},
    {"WITHIN GROUP ORDER BY does not count", SF,
     "SELECT LISTAGG(name, ',') WITHIN GROUP (ORDER BY rank) AS names FROM t", NULL,
     "names[t.name]"},
    {"ORDER BY inside an aggregate does not count", PG,
     "SELECT STRING_AGG(name, ',' ORDER BY id) AS names FROM t", NULL, "names[t.name]"},
    {"literals give nothing", A, "SELECT NULL AS a, TRUE AS b, 'x' AS c, 1.5 AS d FROM t", NULL,
     "a[] b[] c[] d[]"},
    {"date parts and typed literals are no columns", SF,
     "SELECT DATEADD(day, 1, created_at) AS nd, DATE_TRUNC('month', ts) AS m, "
     "EXTRACT(year FROM ts) AS y, DATE '2020-01-01' AS d, ts + INTERVAL '1 day' AS t2 FROM t",
     NULL, "nd[t.created_at] m[t.ts] y[t.ts] d[] t2[t.ts]"},
    {"scalar subquery", A, "SELECT id, (SELECT MAX(v) FROM w WHERE w.id = t.id) AS m FROM t",
     NULL, "id[t.id] m[w.v]"},
    {"IN subquery inside CASE WHEN", A,
     "SELECT CASE WHEN id IN (SELECT id FROM vip) THEN 1 ELSE 0 END AS is_vip FROM users", NULL,
     "is_vip[users.id vip.id]"},
    /* CTEs, subqueries, set operations */
    {"CTE resolved", A, "WITH c AS (SELECT x, y + z AS s FROM t) SELECT s, x AS xx FROM c", NULL,
     "s[t.y t.z] xx[t.x]"},
    {"CTE chain", A,
     "WITH a AS (SELECT id, v FROM t), b AS (SELECT id, v * 2 AS w FROM a) SELECT w FROM b",
     NULL, "w[t.v]"},
    {"CTE column list renames", A, "WITH c (k, n) AS (SELECT id, name FROM t) SELECT n FROM c",
     NULL, "n[t.name]"},
    {"subquery in FROM", A, "SELECT s.total FROM (SELECT SUM(amount) AS total FROM o) s", NULL,
     "total[o.amount]"},
    {"subquery column aliases", A, "SELECT v.k FROM (SELECT a, b FROM t) AS v(k, l)", NULL,
     "k[t.a]"},
    {"UNION merges by position, first branch names", A,
     "SELECT a, b FROM t UNION ALL SELECT c, d FROM u", NULL, "a[t.a u.c] b[t.b u.d]"},
    {"parenthesised UNION branches", A, "(SELECT a FROM t) UNION (SELECT b FROM u) ORDER BY 1",
     NULL, "a[t.a u.b]"},
    {"recursive CTE", PG,
     "WITH RECURSIVE r AS (SELECT id, parent FROM nodes UNION ALL SELECT n.id, n.parent FROM "
     "nodes n JOIN r ON n.parent = r.id) SELECT id FROM r",
     NULL, "id[nodes.id]"},
    {"CTE over * passes names through to the table", A,
     "WITH c AS (SELECT * FROM t) SELECT c.x, y FROM c", NULL, "x[t.x] y[t.y]"},
    /* nested values */
    {"struct field is its top-level column", BQ, "SELECT device.category FROM ga.events", NULL,
     "category[ga.events.device]"},
    {"VARIANT path is its top-level column", SF,
     "SELECT payload:status::string AS st, e.payload:a.b AS ab FROM raw.ev e", NULL,
     "st[raw.ev.payload] ab[raw.ev.payload]"},
    {"UNNEST element is the array column", BQ,
     "SELECT o.id, item.sku FROM shop.orders o, UNNEST(o.line_items) AS item", NULL,
     "id[shop.orders.id] sku[shop.orders.line_items]"},
    {"FLATTEN value is the array column", SF,
     "SELECT f.value:name::string AS n FROM t, LATERAL FLATTEN(input => t.arr) f", NULL,
     "n[t.arr]"},
    {"implicit UNNEST path", BQ, "SELECT a.x FROM t, t.arr AS a", NULL, "x[t.arr]"},
    {"Hive LATERAL VIEW", SQL_DIALECT_HIVE,
     "SELECT id, tag FROM t LATERAL VIEW explode(tags) x AS tag", NULL, "id[t.id] tag[t.tags]"},
    /* stars */
    {"* over unknown tables: one entry per table in FROM order", A,
     "SELECT * FROM t JOIN s.u ON t.id = s.u.id", NULL, "*[t.*] *[s.u.*]"},
    {"t.* over one table", A, "SELECT u.*, t.a FROM t JOIN u ON t.id = u.id", NULL,
     "*[u.*] a[t.a]"},
    {"* over a CTE expands", A, "WITH c AS (SELECT a, b + 1 AS x FROM t) SELECT * FROM c", NULL,
     "a[t.a] x[t.b]"},
    {"* EXCEPT over a CTE", BQ,
     "WITH c AS (SELECT a, b, x FROM t) SELECT * EXCEPT (b) FROM c", NULL, "a[t.a] x[t.x]"},
    {"* over a CTE of * stays *", A, "WITH c AS (SELECT * FROM t) SELECT * FROM c", NULL,
     "*[t.*]"},
    {"* with a schema expands", A, "SELECT * FROM t", "t:id,name", "id[t.id] name[t.name]"},
    {"* mixes known and unknown tables", A, "SELECT * FROM t, u", "t:id", "id[t.id] *[u.*]"},
    /* unqualified names with several tables */
    {"ambiguous without schema: every table in scope", A,
     "SELECT x FROM a JOIN b ON a.id = b.id", NULL, "x[a.x b.x]"},
    {"schema resolves unqualified names", A, "SELECT x, y FROM a JOIN b ON a.id = b.k",
     "a:id,x;b:k,y", "x[a.x] y[b.y]"},
    {"a known table without the column leaves the unknown ones", A,
     "SELECT x, y FROM a JOIN b ON true", "a:x", "x[a.x] y[b.y]"},
    {"a CTE's known columns win over an unknown table", A,
     "WITH c AS (SELECT k AS ck FROM t) SELECT ck, other FROM c JOIN u ON true", NULL,
     "ck[t.k] other[u.other]"},
    {"lateral alias reference (Snowflake)", SF, "SELECT a + b AS s, s * 2 AS d FROM t", NULL,
     "s[t.a t.b] d[t.a t.b]"},
    /* writes */
    {"INSERT names by its column list", A, "INSERT INTO dw.out (p, q) SELECT a, b + c FROM t",
     NULL, "p[t.a] q[t.b t.c]"},
    {"INSERT without a list names by the select list", A, "INSERT INTO out SELECT a AS x FROM t",
     NULL, "x[t.a]"},
    {"INSERT with a CTE", A,
     "INSERT INTO out WITH c AS (SELECT a FROM t) SELECT a FROM c", NULL, "a[t.a]"},
    {"CTAS", A, "CREATE TABLE out AS SELECT id, name FROM t", NULL, "id[t.id] name[t.name]"},
    {"CTAS with a column list", SF, "CREATE OR REPLACE TABLE out (k, v) AS SELECT id, name FROM t",
     NULL, "k[t.id] v[t.name]"},
    {"SELECT INTO", SQL_DIALECT_TSQL, "SELECT id, name INTO dbo.copy FROM t", NULL,
     "id[t.id] name[t.name]"},
    {"the last statement that returns rows", A,
     "CREATE TEMP TABLE x AS SELECT a FROM t; SELECT b FROM u; DROP TABLE x", NULL, "b[u.b]"},
    {"DDL has no result columns", A, "CREATE TABLE t (a INT, b TEXT)", NULL, ""},
    /* regressions found by the public column corpus */
    {"JOIN (subquery): its columns, not its tokens (sqllineage-045)", A,
     "SELECT t.id, coalesce(j1.c, j2.c) AS c FROM t LEFT JOIN (SELECT id, c FROM t WHERE f = 1) "
     "AS j1 ON t.id = j1.id JOIN (SELECT id, c FROM u) j2 ON t.id = j2.id",
     NULL, "id[t.id] c[t.c u.c]"},
    {"LATERAL (subquery) is a FROM item", PG,
     "SELECT t.id, l.m FROM t, LATERAL (SELECT max(v) AS m FROM u WHERE u.k = t.id) l", NULL,
     "id[t.id] m[u.v]"},
    {"LEFT() and RIGHT() in a JOIN condition are functions", A,
     "SELECT a.x, b.y FROM a JOIN b ON LEFT(a.k, 2) = RIGHT(b.k, 2) JOIN c ON c.id = a.id",
     NULL, "x[a.x] y[b.y]"},
    {"scalar subqueries inside an expression (datahub-004)", SQL_DIALECT_MYSQL,
     "SELECT SUM((SELECT max(a) a FROM x) + (SELECT min(b) b FROM x) + c) AS y FROM x", NULL,
     "y[x.a x.b x.c]"},
    {"a parenthesised UNION inside an expression is still a query", A,
     "SELECT ((SELECT a FROM t) UNION (SELECT b FROM u)) AS v FROM w", NULL, "v[t.a u.b]"},
    {"a string after an expression is its alias (datahub-005)", SQL_DIALECT_MYSQL,
     "SELECT a.d \"Dept\", a.n / 2 'Half', x 'it''s', DATE '2020-01-01', ts AT TIME ZONE 'UTC' "
     "FROM t a",
     NULL, "Dept[t.d] Half[t.n] it's[t.x] date '2020-01-01'[] ts at time zone 'UTC'[t.ts]"},
};

START_TEST(column_cases) {
  struct sql_schema *schema = make_schema(cases[_i].schema);
  struct sql_lineage *l = columns_of(cases[_i].sql, cases[_i].d, schema);
  char *got = describe(l);
  ck_assert_msg(strcmp(got, cases[_i].want) == 0, "%s:\n  sql  %s\n  got  %s\n  want %s",
                cases[_i].name, cases[_i].sql, got, cases[_i].want);
  free(got);
  sql_lineage_free(&l);
  sql_schema_free(&schema);
  ck_assert_ptr_null(schema);
}
END_TEST

START_TEST(cast_gives_the_data_type) {
  struct sql_lineage *l = columns_of(
      "SELECT CAST(d AS DECIMAL(10,2)) AS e, f::date AS g, TRY_CAST(x AS varchar) AS h, "
      "a AS plain, CAST(a AS INT) + 1 AS notcast FROM t",
      SF, NULL);
  ck_assert_uint_eq(l->n_columns, 5);
  ck_assert_str_eq(l->columns[0].data_type, "DECIMAL(10,2)");
  ck_assert_str_eq(l->columns[1].data_type, "DATE");
  ck_assert_str_eq(l->columns[2].data_type, "VARCHAR");
  ck_assert_ptr_null(l->columns[3].data_type);
  ck_assert_ptr_null(l->columns[4].data_type);
  sql_lineage_free(&l);
}
END_TEST

START_TEST(without_the_option_there_are_no_columns) {
  struct sql_lineage *l = NULL;
  char err[64];
  ck_assert_int_eq(sql_extract_lineage("SELECT a FROM t", 15, A, NULL, &l, err, sizeof err),
                   SQL_OK);
  ck_assert_uint_eq(l->n_sources, 1);
  ck_assert_uint_eq(l->n_columns, 0);
  ck_assert_ptr_null(l->columns);
  sql_lineage_free(&l);
  /* A text that is not SQL fails the same way with or without columns. */
  struct sql_extract_options opts = {.columns = 1};
  ck_assert_int_eq(sql_extract_lineage("SELECT (1", 9, A, &opts, &l, err, sizeof err),
                   SQL_ERR_SYNTAX);
  ck_assert_ptr_null(l);
}
END_TEST

/* Rendered Liquid: every branch's column reaches the one result column. */
static const struct {
  const char *tmpl, *want;
} liquid_cases[] = {
    {"SELECT {% if g == 'rev' %}amount{% else %}cost{% endif %} AS metric, day FROM t",
     "metric[t.amount t.cost] day[t.day]"},
    {"SELECT {% case m %}{% when 'a' %}x{% when 'b' %}y{% endcase %} AS v FROM t", "v[t.x t.y]"},
    {"SELECT {{ col }}, id FROM t\n{% form %}\ncol:\n  default: revenue\n{% endform %}",
     "revenue[t.revenue] id[t.id]"},
    {"SELECT a FROM {% if x %}t1{% else %}t2{% endif %}", "a[t1.a t2.a]"},
};

START_TEST(liquid_variants_merge) {
  char *sql = NULL, err[256];
  size_t len;
  const char *t = liquid_cases[_i].tmpl;
  ck_assert_int_eq(sql_render_template(t, strlen(t), NULL, &sql, &len, err, sizeof err), SQL_OK);
  struct sql_lineage *l = columns_of(sql, SF, NULL);
  char *got = describe(l);
  ck_assert_msg(strcmp(got, liquid_cases[_i].want) == 0, "%s\n  got  %s\n  want %s", t, got,
                liquid_cases[_i].want);
  free(got);
  sql_lineage_free(&l);
  free(sql);
}
END_TEST

/* ---- hostile input -------------------------------------------------------------------------- */

/* CPU seconds of this process: what tells linear from quadratic work on a machine whose load
 * makes wall-clock time meaningless (load 20 on 2 cores was seen while these ran). */
static double now(void) {
  return (double)clock() / CLOCKS_PER_SEC;
}

START_TEST(random_bytes_never_crash) {
  static const char *frags[] = {"SELECT ", "FROM ", "t", ".", "*", ",", "(", ")", "WITH ", " AS ",
                                "UNION ", "JOIN ", " ON ", "CASE WHEN ", "END ", "::", ":", "x",
                                "UNNEST(", "'s'", "\"q\"", "INSERT INTO ", "VALUES ", ";", "1",
                                " OVER (", "PARTITION BY ", "EXCEPT ", "LATERAL VIEW ", "=>"};
  unsigned seed = 20261206u;
  struct sql_schema *schema = make_schema("t:a,b;x:c");
  struct sql_extract_options opts = {.columns = 1, .schema = schema};
  char buf[512];
  for (int round = 0; round < 20000; round++) {
    size_t n = 0;
    int parts = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 24;
    for (int p = 0; p < parts; p++) {
      seed = seed * 1103515245u + 12345u;
      const char *f = frags[(seed >> 16) % (sizeof frags / sizeof frags[0])];
      if (((seed >> 8) & 15) == 0 && n < sizeof buf - 1)
        buf[n++] = (char)(seed >> 3);
      else if (n + strlen(f) < sizeof buf)
        memcpy(buf + n, f, strlen(f)), n += strlen(f);
    }
    struct sql_lineage *l = NULL;
    char err[128];
    enum sql_dialect d = (enum sql_dialect)(round % (SQL_DIALECT_SQLITE + 1));
    if (sql_extract_lineage(buf, n, d, &opts, &l, err, sizeof err) == SQL_OK) {
      for (size_t i = 0; i < l->n_columns; i++)
        for (size_t k = 0; k < l->columns[i].n_sources; k++)
          ck_assert_uint_lt(l->columns[i].sources[k].table, l->n_sources);
    } else {
      ck_assert_ptr_null(l);
    }
    sql_lineage_free(&l);
  }
  sql_schema_free(&schema);
}
END_TEST

START_TEST(wide_and_deep_queries_are_fast) {
  /* 100k select items over 1000 joined tables, and a chain of 2000 CTEs each reading the
   * previous one's 20 columns: both well under a second of CPU (0.3 s here at -O2; quadratic
   * work would take minutes), or a column bound, never a hang. */
  size_t cap = 8 << 20, n = 0;
  char *sql = malloc(cap);
  n += (size_t)snprintf(sql + n, cap - n, "SELECT ");
  for (int i = 0; i < 100000; i++)
    n += (size_t)snprintf(sql + n, cap - n, "%sc%d", i ? ", " : "", i % 50);
  n += (size_t)snprintf(sql + n, cap - n, " FROM t0");
  for (int i = 1; i < 1000; i++)
    n += (size_t)snprintf(sql + n, cap - n, " JOIN t%d ON true", i);
  struct sql_extract_options opts = {.columns = 1};
  struct sql_lineage *l = NULL;
  char err[128];
  double t0 = now();
  ck_assert_int_eq(sql_extract_lineage(sql, n, A, &opts, &l, err, sizeof err), SQL_OK);
  ck_assert(l->columns_status == SQL_OK || l->columns_status == SQL_ERR_LIMIT);
  sql_lineage_free(&l);
  ck_assert_double_lt(now() - t0, 5.0);

  n = (size_t)snprintf(sql, cap, "WITH c0 AS (SELECT * FROM base)");
  for (int i = 1; i < 2000; i++) {
    n += (size_t)snprintf(sql + n, cap - n, ", c%d AS (SELECT ", i);
    for (int k = 0; k < 20; k++)
      n += (size_t)snprintf(sql + n, cap - n, "%sa%d + a%d AS a%d", k ? ", " : "", k, (k + 1) % 20,
                            k);
    n += (size_t)snprintf(sql + n, cap - n, " FROM c%d)", i - 1);
  }
  n += (size_t)snprintf(sql + n, cap - n, " SELECT a0 FROM c1999");
  t0 = now();
  ck_assert_int_eq(sql_extract_lineage(sql, n, A, &opts, &l, err, sizeof err), SQL_OK);
  ck_assert_int_eq(l->columns_status, SQL_OK);
  ck_assert_uint_eq(l->n_columns, 1);
  ck_assert_uint_eq(l->columns[0].n_sources, 20); /* base.a0 .. base.a19 */
  sql_lineage_free(&l);
  ck_assert_double_lt(now() - t0, 5.0);
  free(sql);
}
END_TEST

START_TEST(nested_parentheses_are_linear) {
  /* 20000 select items, each a value inside 200 parentheses (8 MB): deciding whether a '('
   * holds a query is remembered per '(', so the chain below is not walked again for every
   * '(' of it. About 1 s of CPU here at -O2 for the whole extraction; a guard against a
   * blowup, not a fine measure (the nesting depth is bounded, so the re-walk cost at most
   * SQL_MAX_DEPTH times a cheap step per '('). */
  size_t cap = 16 << 20, n = 0;
  char *sql = malloc(cap);
  n += (size_t)snprintf(sql + n, cap - n, "SELECT ");
  for (int i = 0; i < 20000; i++) {
    n += (size_t)snprintf(sql + n, cap - n, "%s", i ? ", " : "");
    for (int k = 0; k < 200; k++)
      sql[n++] = '(';
    n += (size_t)snprintf(sql + n, cap - n, "c%d", i % 50);
    for (int k = 0; k < 200; k++)
      sql[n++] = ')';
  }
  n += (size_t)snprintf(sql + n, cap - n, " FROM t");
  struct sql_extract_options opts = {.columns = 1};
  struct sql_lineage *l = NULL;
  char err[128];
  double t0 = now();
  ck_assert_int_eq(sql_extract_lineage(sql, n, A, &opts, &l, err, sizeof err), SQL_OK);
  double spent = now() - t0;
  ck_assert(l->columns_status == SQL_OK || l->columns_status == SQL_ERR_LIMIT);
  sql_lineage_free(&l);
  ck_assert_msg(spent < 3.0, "%.2f s of CPU", spent);
  free(sql);
}
END_TEST

static int cancel_now(void *ctx) {
  (void)ctx;
  return 1;
}

START_TEST(cancel_stops_the_column_pass) {
  size_t cap = 4 << 20, n = 0;
  char *sql = malloc(cap);
  n += (size_t)snprintf(sql + n, cap - n, "SELECT ");
  for (int i = 0; i < 200000; i++)
    n += (size_t)snprintf(sql + n, cap - n, "%sc%d", i ? ", " : "", i);
  n += (size_t)snprintf(sql + n, cap - n, " FROM t");
  struct sql_cancel cancel = {.cancelled = cancel_now};
  struct sql_extract_options opts = {.columns = 1, .cancel = &cancel};
  struct sql_lineage *l = NULL;
  char err[128];
  ck_assert_int_eq(sql_extract_lineage(sql, n, A, &opts, &l, err, sizeof err), SQL_ERR_CANCELLED);
  ck_assert_ptr_null(l);
  free(sql);
}
END_TEST

int main(void) {
  Suite *s = suite_create("sql_columns");
  TCase *tc = tcase_create("columns");
  tcase_add_loop_test(tc, column_cases, 0, (int)(sizeof cases / sizeof cases[0]));
  tcase_add_test(tc, cast_gives_the_data_type);
  tcase_add_test(tc, without_the_option_there_are_no_columns);
  tcase_add_loop_test(tc, liquid_variants_merge, 0,
                      (int)(sizeof liquid_cases / sizeof liquid_cases[0]));
  suite_add_tcase(s, tc);
  TCase *th = tcase_create("hostile");
  tcase_set_timeout(th, 120);
  tcase_add_test(th, random_bytes_never_crash);
  tcase_add_test(th, wide_and_deep_queries_are_fast);
  tcase_add_test(th, nested_parentheses_are_linear);
  tcase_add_test(th, cancel_stops_the_column_pass);
  suite_add_tcase(s, th);
  return test_run_suite(s);
}
