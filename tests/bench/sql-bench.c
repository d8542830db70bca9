/*
 * sql-bench -- speed of SQL lineage extraction and Mode template rendering.
 *
 *   tests/bench/sql-bench [--columns] [CASES_JSON] [SECONDS]
 *
 * With --columns it also reports MB/s with column lineage (sql_extract_lineage with columns)
 * next to tables only, over the corpus and the synthetic query (issue 10: >= 30 MB/s).
 *
 * Reports MB/s and queries/s over the SQL corpus (default
 * $ETL_TOP_SRCDIR/tests/fixtures/sql-lineage-corpus/cases.json, ETL_TOP_SRCDIR defaulting to
 * the current directory), microseconds per query
 * for a synthetic 5 KB analyst query (CTEs, joins, subqueries, Liquid, a definition), and the
 * peak RSS of the process. Not a test: numbers go to docs/sql-lineage.md.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <yajl_tree.h>

#include "plugin/sql/sql_lineage.h"

struct query {
  char *sql; /* owned */
  size_t len;
  enum sql_dialect dialect;
};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  if (buf)
    buf[n] = '\0';
  fclose(f);
  return buf;
}

static struct query *load_corpus(const char *path, size_t *n) {
  char *text = slurp(path), errbuf[256];
  if (!text)
    return NULL;
  yajl_val root = yajl_tree_parse(text, errbuf, sizeof errbuf);
  free(text);
  if (!root || !YAJL_IS_ARRAY(root))
    return NULL;
  size_t count = YAJL_GET_ARRAY(root)->len;
  struct query *qs = calloc(count, sizeof *qs);
  for (size_t i = 0; i < count; i++) {
    yajl_val c = YAJL_GET_ARRAY(root)->values[i];
    const char *ps[] = {"sql", NULL}, *pd[] = {"dialect", NULL};
    const char *sql = YAJL_GET_STRING(yajl_tree_get(c, ps, yajl_t_string));
    const char *dn = YAJL_GET_STRING(yajl_tree_get(c, pd, yajl_t_string));
    qs[i].sql = strdup(sql ? sql : "");
    qs[i].len = strlen(qs[i].sql);
    sql_dialect_from_name(dn, &qs[i].dialect);
  }
  yajl_tree_free(root);
  *n = count;
  return qs;
}

/* A typical analyst query of about 5 KB: CTEs, joins, a subquery, Liquid, a definition. */
static char *synthetic_query(size_t *len) {
  const char *head =
      "-- Weekly revenue by region, with cohort retention\n"
      "WITH orders AS (\n"
      "  SELECT o.order_id, o.customer_id, o.created_at, o.amount_usd, o.region\n"
      "  FROM analytics.fct_orders o\n"
      "  WHERE o.created_at >= '{{ start_date }}' AND o.status NOT IN ('void', 'test')\n"
      "), customers AS (\n"
      "  SELECT c.customer_id, c.signup_at, c.segment, COALESCE(c.country, 'unknown') AS country\n"
      "  FROM analytics.dim_customers c\n"
      "  LEFT JOIN analytics.customer_flags f ON f.customer_id = c.customer_id\n"
      "  WHERE NOT f.is_internal\n"
      "), cohorts AS (\n"
      "  SELECT customer_id, DATE_TRUNC('week', signup_at) AS cohort_week FROM customers\n"
      ")\n";
  const char *block =
      "SELECT DATE_TRUNC('week', o.created_at) AS week, o.region, c.segment, ch.cohort_week,\n"
      "       COUNT(DISTINCT o.customer_id) AS buyers, SUM(o.amount_usd) AS revenue,\n"
      "       SUM(CASE WHEN o.amount_usd > 100 THEN 1 ELSE 0 END) AS big_orders,\n"
      "       (SELECT MAX(r.rate) FROM finance.fx_rates r WHERE r.day = o.created_at::date) AS fx\n"
      "FROM orders o\n"
      "JOIN customers c ON c.customer_id = o.customer_id\n"
      "JOIN cohorts ch ON ch.customer_id = o.customer_id\n"
      "LEFT JOIN {{ @regions as reg }} ON reg.region = o.region\n"
      "WHERE 1 = 1 {% if segment != 'all' %} AND c.segment = '{{ segment }}' {% endif %}\n"
      "GROUP BY 1, 2, 3, 4\n";
  const char *tail = "ORDER BY 1 DESC\n"
                     "{% form %}\nstart_date:\n  type: date\n  default: 2024-01-01\n"
                     "segment:\n  type: select\n  default: all\n{% endform %}\n";
  size_t cap = 8192, o = 0;
  char *q = malloc(cap);
  o += (size_t)snprintf(q + o, cap - o, "%s", head);
  for (int i = 0; o < 4600; i++)
    o += (size_t)snprintf(q + o, cap - o, "%s%s", i ? "UNION ALL\n" : "", block);
  o += (size_t)snprintf(q + o, cap - o, "%s", tail);
  *len = o;
  return q;
}

/* MB per second of this process's CPU time of extraction over texts, with or without columns,
 * for about `seconds` of wall time: CPU time, because on a shared machine (load 20 on 2 cores
 * was seen) wall-clock rates fall 4-5 times while the work per byte does not change. */
static double rate(const struct query *qs, size_t n, int columns, double seconds) {
  struct sql_extract_options opts = {.columns = columns};
  size_t bytes = 0;
  long rounds = 0;
  double t0 = now(), t;
  clock_t c0 = clock();
  for (size_t i = 0; i < n; i++)
    bytes += qs[i].len;
  do {
    for (size_t i = 0; i < n; i++) {
      struct sql_lineage *l = NULL;
      sql_extract_lineage(qs[i].sql, qs[i].len, qs[i].dialect, &opts, &l, NULL, 0);
      sql_lineage_free(&l);
    }
    rounds++;
  } while ((t = now() - t0) < seconds);
  double cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
  return (double)bytes * (double)rounds / (cpu > 0 ? cpu : t) / 1e6;
}

static void columns_report(const struct query *qs, size_t n, const char *sql, size_t sql_len,
                           double seconds) {
  struct query syn = {.sql = (char *)sql, .len = sql_len, .dialect = SQL_DIALECT_SNOWFLAKE};
  double c0 = rate(qs, n, 0, seconds), c1 = rate(qs, n, 1, seconds);
  double s0 = rate(&syn, 1, 0, seconds), s1 = rate(&syn, 1, 1, seconds);
  printf("columns: corpus %.1f MB/s tables only, %.1f MB/s with columns (%.0f%%; CPU time)\n",
         c0, c1, 100.0 * c1 / c0);
  printf("columns: synthetic %.1f MB/s tables only, %.1f MB/s with columns (%.0f%%; CPU time)\n",
         s0, s1, 100.0 * s1 / s0);
}

static long peak_rss_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

int main(int argc, char **argv) {
  int columns = argc > 1 && strcmp(argv[1], "--columns") == 0;
  if (columns) {
    argv++;
    argc--;
  }
  const char *path = argc > 1 ? argv[1] : NULL;
  double seconds = argc > 2 ? atof(argv[2]) : 1.0;
  char fallback[4096];
  if (!path) {
    const char *top = getenv("ETL_TOP_SRCDIR");
    snprintf(fallback, sizeof fallback, "%s/tests/fixtures/sql-lineage-corpus/cases.json",
             top && *top ? top : ".");
    path = fallback;
  }
  size_t n = 0;
  struct query *qs = load_corpus(path, &n);
  if (!qs) {
    fprintf(stderr, "sql-bench: cannot load %s\n", path);
    return 2;
  }
  size_t bytes = 0;
  for (size_t i = 0; i < n; i++)
    bytes += qs[i].len;
  long rss0 = peak_rss_kb();

  /* Corpus: extraction only. */
  long rounds = 0;
  double t0 = now(), t;
  do {
    for (size_t i = 0; i < n; i++) {
      struct sql_lineage *l = NULL;
      sql_extract_tables(qs[i].sql, qs[i].len, qs[i].dialect, &l, NULL, 0);
      sql_lineage_free(&l);
    }
    rounds++;
  } while ((t = now() - t0) < seconds);
  printf("corpus: %zu queries, %zu bytes; %.1f MB/s, %.0f queries/s (extract)\n", n, bytes,
         (double)bytes * (double)rounds / t / 1e6, (double)n * (double)rounds / t);

  /* Synthetic 5 KB query: render + extract, and extract alone. */
  size_t qlen;
  char *q = synthetic_query(&qlen);
  struct sql_definitions *defs = sql_definitions_new();
  const char *region_def = "SELECT region, manager FROM ops.region_owners\\nWHERE active";
  sql_definitions_add(defs, "regions", region_def, strlen(region_def));
  char *sql = NULL, err[256];
  size_t sql_len = 0;
  if (sql_render_template(q, qlen, defs, &sql, &sql_len, err, sizeof err) != SQL_OK) {
    fprintf(stderr, "sql-bench: synthetic query: %s\n", err);
    return 1;
  }
  struct sql_lineage *l = NULL;
  if (sql_extract_tables(sql, sql_len, SQL_DIALECT_SNOWFLAKE, &l, err, sizeof err) != SQL_OK) {
    fprintf(stderr, "sql-bench: synthetic query: %s\n", err);
    return 1;
  }
  printf("synthetic: %zu bytes template, %zu bytes rendered, %zu sources\n", qlen, sql_len,
         l->n_sources);
  sql_lineage_free(&l);
  long iters = 0;
  t0 = now();
  do {
    sql_extract_tables(sql, sql_len, SQL_DIALECT_SNOWFLAKE, &l, NULL, 0);
    sql_lineage_free(&l);
    iters++;
  } while ((t = now() - t0) < seconds);
  printf("synthetic extract: %.1f us/query, %.1f MB/s\n", t / (double)iters * 1e6,
         (double)sql_len * (double)iters / t / 1e6);
  iters = 0;
  t0 = now();
  do {
    char *s = NULL;
    size_t sl;
    sql_render_template(q, qlen, defs, &s, &sl, NULL, 0);
    sql_extract_tables(s, sl, SQL_DIALECT_SNOWFLAKE, &l, NULL, 0);
    sql_lineage_free(&l);
    free(s);
    iters++;
  } while ((t = now() - t0) < seconds);
  printf("synthetic render+extract: %.1f us/query\n", t / (double)iters * 1e6);
  printf("peak RSS: %ld KB (%ld KB before the runs)\n", peak_rss_kb(), rss0);
  if (columns)
    columns_report(qs, n, sql, sql_len, seconds);

  /* One big text: the rendered query 2000 times (~10 MB), for memory against input size. */
  size_t copies = 2000, big_len = copies * (sql_len + 2);
  char *big = malloc(big_len + 1);
  for (size_t i = 0; i < copies; i++) {
    memcpy(big + i * (sql_len + 2), sql, sql_len);
    memcpy(big + i * (sql_len + 2) + sql_len, ";\n", 2);
  }
  long before = peak_rss_kb();
  t0 = now();
  if (sql_extract_tables(big, big_len, SQL_DIALECT_SNOWFLAKE, &l, err, sizeof err) != SQL_OK) {
    fprintf(stderr, "sql-bench: big text: %s\n", err);
    return 1;
  }
  t = now() - t0;
  sql_lineage_free(&l);
  printf("big text: %.1f MB in %.1f ms (%.1f MB/s); peak RSS grew %ld KB (%.1f x input)\n",
         (double)big_len / 1e6, t * 1e3, (double)big_len / t / 1e6, peak_rss_kb() - before,
         (double)(peak_rss_kb() - before) * 1024.0 / (double)big_len);
  free(big);

  free(sql);
  free(q);
  sql_definitions_free(&defs);
  for (size_t i = 0; i < n; i++)
    free(qs[i].sql);
  free(qs);
  return 0;
}
