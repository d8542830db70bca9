/*
 * The generator. One splitmix64 stream seeded by --seed draws every choice in a fixed order, so
 * the workspace depends only on the parameters. --mutate draws from a second stream seeded from
 * the same seed, so run 2 (with --mutate) changes a reproducible subset of run 1's reports.
 *
 * Each query is built from a pattern and a pool of table names, quoted as the data source's
 * dialect quotes; the pattern knows which tables the SQL reads once definitions are expanded,
 * in every branch of its Liquid conditionals (which branch a run takes depends on its
 * parameters), which is what the ground truth records.
 */
#include "config.h"

#include "generate.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prng.h"

/* ---- vocabulary ---- */

/* Tables by their parts, dotted, case kept: the ground truth names them so. `quoted` ones are
 * written with identifier quotes in the data source's dialect (table_sql), the others bare. */
static const struct {
  const char *name;
  bool quoted;
} TABLES[] = {
    {"orders", false},
    {"customers", false},
    {"payment", false},
    {"rental", false},
    {"analytics.orders", false},
    {"analytics.daily_revenue", false},
    {"public.customers", false},
    {"marketing.campaigns", false},
    {"finance.invoices", false},
    {"staging.raw_events", false},
    {"Reporting.MonthlyKPIs", false},
    {"warehouse.analytics.sessions", false},
    {"prod_db.sales.opportunities", false},
    {"DATAHUB_COMMUNITY.POSTGRES_PUBLIC.COMPANY", false},
    {"Sales.Orders", true},
    {"analytics.userEvents", true},
    {"CRM.public.Accounts", true},
    {"analytics-prod.web.pageviews", true},
};
enum { NTABLES = sizeof TABLES / sizeof TABLES[0], FIRST_QUOTED = 14 };

static const char *const FIRST[] = {"José",  "Zoë",   "Ana",  "Chen", "Priya",  "Olu",
                                    "Marta", "Søren", "Yuki", "Liam", "Fatima", "Noah"};
static const char *const FIRST_ASCII[] = {"jose",  "zoe",   "ana",  "chen", "priya",  "olu",
                                          "marta", "soren", "yuki", "liam", "fatima", "noah"};
static const char *const LAST[] = {"Álvarez", "Ng",   "Kowalski", "Wei",   "Patel",  "Adeyemi",
                                   "Müller",  "Berg", "Tanaka",   "Walsh", "Haddad", "Kim"};
static const char *const LAST_ASCII[] = {"alvarez", "ng",      "kowalski", "wei",
                                         "patel",   "adeyemi", "muller",   "berg",
                                         "tanaka",  "walsh",   "haddad",   "kim"};
enum { NNAMES = sizeof FIRST / sizeof FIRST[0] };

static const char *const SPACE_NAMES[] = {
    "Finance",        "Growth Analytics", "Customer Success", "Marketing",      "Product",
    "Ops Dashboards", "Données clients",  "営業チーム",       "Executive KPIs", "Data Platform"};
static const char *const REPORT_TOPICS[] = {
    "Revenue by region",     "Weekly signups",  "Churn cohort",    "Umsätze nach Region",
    "売上ダッシュボード",    "Café KPIs 📈",     "Pipeline health", "Payment failures",
    "Marketing attribution", "Rental activity", "Support backlog", "Ad spend vs. ROI"};
/* Every chart type Mode has (v2 view_vegas.chartType). */
static const char *const CHART_TYPES[] = {
    "table",          "bar",      "line",       "stackedBar100", "stackedBar", "hStackedBar",
    "hStackedBar100", "hBar",     "area",       "totalArea",     "pie",        "donut",
    "scatter",        "bigValue", "pivotTable", "linePlusBar"};
enum { NCHART_TYPES = sizeof CHART_TYPES / sizeof CHART_TYPES[0] };
/* v1 charts (view.selectedChart). */
static const char *const CHART_TYPES_V1[] = {"bar", "line", "area", "pie", "table", "scatter"};

static const struct {
  const char *name, *adapter, *vendor, *database, *host;
  int port;
} DATA_SOURCES[] = {
    {"PostgreSQL", "jdbc:postgresql", "postgresql", "dvdrental", "10.0.12.4", 5432},
    {"Snowflake Warehouse", "jdbc:snowflake", "snowflake", "ANALYTICS",
     "acme.snowflakecomputing.com", 443},
    /* As Mode sends BigQuery: `database` "default", the project in `host` (DataHub's mode.py). */
    {"BigQuery", "jdbc:bigquery", "bigquery", "default", "analytics-prod", 443},
    {"Redshift", "jdbc:redshift", "redshift", "dev", "acme.redshift.amazonaws.com", 5439},
    {"MySQL (legacy)", "jdbc:mysql", "mysql", "shop", "10.0.3.9", 3306},
    /* Only in workspaces of 6 or more data sources, so smaller ones stay as they were. */
    {"SQL Server", "jdbc:sqlserver", "sqlserver", "Reporting", "10.0.7.2", 1433},
    {"Databricks", "jdbc:databricks", "databricks", "main", "acme.cloud.databricks.com", 443},
};
enum { NDS = sizeof DATA_SOURCES / sizeof DATA_SOURCES[0] };

/* ---- helpers ---- */

struct gen {
  struct sim_workspace *ws;
  struct prng rng;
  uint64_t ids;    /* next numeric id */
  uint64_t tokens; /* tokens drawn so far */
  uint64_t seed;
};

static void make_token(struct gen *g, char out[SIM_TOKEN_LEN + 1]) {
  uint64_t v = prng_mix(g->seed ^ prng_mix(++g->tokens)) & 0xFFFFFFFFFFFFULL;
  snprintf(out, SIM_TOKEN_LEN + 1, "%012llx", (unsigned long long)v);
}

/* A timestamp in Mode's format, some days after 2021-06-01. */
static const char *timestamp(struct gen *g, unsigned base_day, unsigned spread_days) {
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  unsigned day = base_day + (unsigned)prng_below(&g->rng, spread_days ? spread_days : 1);
  int y = 2021, m = 5, d = (int)day; /* month index 5 = June */
  while (d >= mdays[m] + (m == 1 && y % 4 == 0)) {
    d -= mdays[m] + (m == 1 && y % 4 == 0);
    if (++m == 12) {
      m = 0;
      y++;
    }
  }
  unsigned secs = (unsigned)prng_below(&g->rng, 86400), ms = (unsigned)prng_below(&g->rng, 1000);
  return ws_printf(g->ws, "%04d-%02d-%02dT%02u:%02u:%02u.%03uZ", y, m + 1, d + 1, secs / 3600,
                   secs / 60 % 60, secs % 60, ms);
}

struct sqlbuf {
  char text[8192];
  size_t len;
  const char *tables[8];
  size_t ntables;
};

static void sb_add(struct sqlbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(struct sqlbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(b->text + b->len, sizeof b->text - b->len, fmt, ap);
  va_end(ap);
  if (n > 0)
    b->len += (size_t)n < sizeof b->text - b->len ? (size_t)n : sizeof b->text - b->len - 1;
}

/* Appends tmpl with $1..$9 replaced by args[0..8]: SQL templates are data, not printf formats. */
static void sb_sub(struct sqlbuf *b, const char *tmpl, const char *const *args, size_t nargs) {
  for (const char *p = tmpl; *p; p++) {
    if (p[0] == '$' && p[1] >= '1' && p[1] <= '9' && (size_t)(p[1] - '1') < nargs) {
      sb_add(b, "%s", args[p[1] - '1']);
      p++;
    } else if (b->len + 1 < sizeof b->text) {
      b->text[b->len++] = *p;
      b->text[b->len] = '\0';
    }
  }
}

static const char *ws_sub(struct sim_workspace *ws, const char *tmpl, const char *const *args,
                          size_t nargs) {
  struct sqlbuf b = {.len = 0};
  sb_sub(&b, tmpl, args, nargs);
  return ws_strdup(ws, b.text);
}

/* ---- identifier quoting per dialect ---- */

/* How analysts quote a name on a data source. "x" is a string literal, not a name, in BigQuery,
 * MySQL and Spark SQL: writing "Sales"."Orders" there would compare strings, not read a table. */
enum quote_style {
  QUOTE_DOUBLE,   /* "Sales"."Orders": ANSI, Postgres, Snowflake, Redshift, Trino, Oracle */
  QUOTE_PATH,     /* `analytics-prod.web.pageviews`: BigQuery quotes the whole path once */
  QUOTE_BACKTICK, /* `Sales`.`Orders`: MySQL/MariaDB, Databricks/Spark, Hive */
  QUOTE_BRACKET,  /* [Sales].[Orders]: SQL Server (T-SQL) */
};

static enum quote_style quote_style_of(const char *vendor) {
  static const char *const backtick[] = {"mysql", "mariadb", "databricks", "spark", "hive"};
  static const char *const bracket[] = {"sqlserver", "mssql", "azuresql", "synapse"};
  if (strcmp(vendor, "bigquery") == 0)
    return QUOTE_PATH;
  for (size_t i = 0; i < sizeof backtick / sizeof backtick[0]; i++)
    if (strcmp(vendor, backtick[i]) == 0)
      return QUOTE_BACKTICK;
  for (size_t i = 0; i < sizeof bracket / sizeof bracket[0]; i++)
    if (strcmp(vendor, bracket[i]) == 0)
      return QUOTE_BRACKET;
  return QUOTE_DOUBLE;
}

/* Appends one quoted identifier (no quote characters inside: the vocabulary has none). */
static void sb_ident(struct sqlbuf *b, enum quote_style q, const char *s, size_t len) {
  switch (q) {
  case QUOTE_DOUBLE:
    sb_add(b, "\"%.*s\"", (int)len, s);
    break;
  case QUOTE_BRACKET:
    sb_add(b, "[%.*s]", (int)len, s);
    break;
  case QUOTE_PATH:
  case QUOTE_BACKTICK:
    sb_add(b, "`%.*s`", (int)len, s);
    break;
  }
}

/* A quoted column name as the data source's analysts write it (arena string). */
static const char *column_sql(struct sim_workspace *ws, enum quote_style q, const char *name) {
  struct sqlbuf b = {.len = 0};
  sb_ident(&b, q, name, strlen(name));
  return ws_strdup(ws, b.text);
}

/* Table t as written in a query on a data source quoting with q: bare, or each part quoted
 * (BigQuery: the whole dotted path in one pair of backticks). Arena string. */
static const char *table_sql(struct sim_workspace *ws, size_t t, enum quote_style q) {
  const char *name = TABLES[t].name;
  if (!TABLES[t].quoted)
    return name;
  struct sqlbuf b = {.len = 0};
  if (q == QUOTE_PATH) {
    sb_ident(&b, q, name, strlen(name));
  } else {
    for (const char *p = name;;) {
      const char *dot = strchr(p, '.');
      size_t len = dot ? (size_t)(dot - p) : strlen(p);
      sb_ident(&b, q, p, len);
      if (!dot)
        break;
      sb_add(&b, ".");
      p = dot + 1;
    }
  }
  return ws_strdup(ws, b.text);
}

static void sb_reads(struct sqlbuf *b, const char *table) {
  if (b->ntables < sizeof b->tables / sizeof b->tables[0])
    b->tables[b->ntables++] = table;
}

/* Picks a table (index) other than the ones in avoid[0..navoid). */
static size_t pick_table(struct gen *g, size_t lo, size_t hi, const size_t *avoid, size_t navoid) {
  for (;;) {
    size_t t = lo + (size_t)prng_below(&g->rng, hi - lo);
    size_t i = 0;
    while (i < navoid && avoid[i] != t)
      i++;
    if (i == navoid)
      return t;
  }
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Copies the read tables, sorted and de-duplicated, into the arena. */
static const char **finish_tables(struct sim_workspace *ws, const char **tables, size_t n,
                                  size_t *nout) {
  const char **out = ws_alloc(ws, (n ? n : 1) * sizeof *out);
  memcpy(out, tables, n * sizeof *out);
  qsort(out, n, sizeof *out, cmp_str);
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (k == 0 || strcmp(out[k - 1], out[i]) != 0)
      out[k++] = out[i];
  *nout = k;
  return out;
}

/* ---- definitions ---- */

static const char *const DEF_NAMES[] = {"active_customers",   "payments_by_day",
                                        "join_on_definition", "valid_orders",
                                        "marketing_touches",  "fx_rates_latest"};

static void gen_definition(struct gen *g, struct sim_definition *d, size_t i) {
  struct sim_workspace *ws = g->ws;
  size_t a = pick_table(g, 0, FIRST_QUOTED, NULL, 0);
  size_t b = pick_table(g, 0, FIRST_QUOTED, &a, 1);
  make_token(g, d->token);
  d->id = (long)(40000 + g->ids++);
  d->name = i < sizeof DEF_NAMES / sizeof DEF_NAMES[0]
                ? DEF_NAMES[i]
                : ws_printf(ws, "%s_%zu", DEF_NAMES[i % 6], i);
  d->description = ws_printf(ws, "Shared definition #%zu", i + 1);
  d->created_at = timestamp(g, 10, 200);
  d->data_source = i % ws->ndata_sources;
  d->creator = 0;
  /* Mode serves a definition's source with newlines as the two characters '\' 'n'. */
  const char *fmt =
      "SELECT\\n\\tc.customer_id,\\n\\tc.first_name,\\n\\tp.amount,\\n\\tp.payment_date\\n"
      "FROM\\n\\t$1 c\\nINNER JOIN $2 p \\n    ON p.customer_id = c.customer_id\\n"
      "ORDER BY p.payment_date";
  d->source = ws_sub(ws, fmt, (const char *const[]){TABLES[a].name, TABLES[b].name}, 2);
  d->sql = ws_printf(ws,
                     "SELECT\n\tc.customer_id,\n\tc.first_name,\n\tp.amount,\n\tp.payment_date\n"
                     "FROM\n\t%s c\nINNER JOIN %s p \n    ON p.customer_id = c.customer_id\n"
                     "ORDER BY p.payment_date",
                     TABLES[a].name, TABLES[b].name);
  const char *t[2] = {TABLES[a].name, TABLES[b].name};
  d->tables = finish_tables(ws, t, 2, &d->ntables);
}

/* ---- queries ---- */

/* Writes raw (what Mode stores) and rendered (Liquid rendered with the form defaults, as Mode
 * runs it, and definitions expanded) SQL for one of the patterns, quoting names as analysts of
 * the data source's dialect do, and records the tables a lineage reader must find: those of
 * every branch of a conditional, since which branch a run takes depends on its parameters. */
static void gen_sql(struct gen *g, enum quote_style qs, struct sqlbuf *raw, struct sqlbuf *out) {
  struct sim_workspace *ws = g->ws;
  size_t a = pick_table(g, 0, NTABLES, NULL, 0);
  size_t b = pick_table(g, 0, NTABLES, &a, 1);
  size_t ab[2] = {a, b};
  size_t c = pick_table(g, 0, NTABLES, ab, 2);
  const char *A = table_sql(ws, a, qs), *B = table_sql(ws, b, qs), *C = table_sql(ws, c, qs);
  unsigned pattern = (unsigned)prng_below(&g->rng, 9);
  switch (pattern) {
  case 0: { /* join, a variable, a form with a default */
    const char *fmt =
        "-- revenue per customer since a date\n"
        "SELECT o.id, o.created_at, c.name AS customer_name, SUM(o.amount) AS revenue\n"
        "FROM $1 o\nJOIN $2 c ON c.id = o.customer_id\n"
        "WHERE o.created_at >= '$3'\nGROUP BY 1, 2, 3\nORDER BY revenue DESC";
    sb_sub(raw, fmt, (const char *const[]){A, B, "{{ start_date }}"}, 3);
    sb_add(raw,
           "\n{%% form %%}\nstart_date:\n   type: date\n   default: 2024-01-01\n{%% endform %%}");
    sb_sub(out, fmt, (const char *const[]){A, B, "2024-01-01"}, 3);
    sb_reads(out, TABLES[a].name);
    sb_reads(out, TABLES[b].name);
    break;
  }
  case 1: { /* CTEs: their names are not tables */
    const char *fmt =
        "WITH recent AS (\n  SELECT customer_id, MAX(created_at) AS last_seen\n"
        "  FROM $1\n  GROUP BY 1\n), spend AS (\n  SELECT customer_id, SUM(amount) AS total\n"
        "  FROM $2\n  GROUP BY 1\n)\nSELECT r.customer_id, r.last_seen, s.total\n"
        "FROM recent r\nLEFT JOIN spend s ON s.customer_id = r.customer_id";
    sb_sub(raw, fmt, (const char *const[]){A, B}, 2);
    sb_sub(out, fmt, (const char *const[]){A, B}, 2);
    sb_reads(out, TABLES[a].name);
    sb_reads(out, TABLES[b].name);
    break;
  }
  case 2: { /* derived table and IN subquery */
    const char *fmt = "SELECT t.region, COUNT(*) AS n\nFROM (\n  SELECT region, user_id FROM $1 "
                      "WHERE active\n) t\n"
                      "WHERE t.user_id IN (SELECT user_id FROM $2)\nGROUP BY t.region";
    sb_sub(raw, fmt, (const char *const[]){A, B}, 2);
    sb_sub(out, fmt, (const char *const[]){A, B}, 2);
    sb_reads(out, TABLES[a].name);
    sb_reads(out, TABLES[b].name);
    break;
  }
  case 3: { /* a definition reference */
    const struct sim_definition *d = &g->ws->definitions[prng_below(&g->rng, g->ws->ndefinitions)];
    const char *fmt = "SELECT d.*, x.label\nFROM $1\nJOIN $2 x ON x.id = d.customer_id";
    char ref[128], expanded[2048];
    snprintf(ref, sizeof ref, "{{ @%s as d }}", d->name);
    snprintf(expanded, sizeof expanded, "(%s) AS d", d->sql);
    sb_sub(raw, fmt, (const char *const[]){ref, A}, 2);
    sb_sub(out, fmt, (const char *const[]){expanded, A}, 2);
    for (size_t i = 0; i < d->ntables; i++)
      sb_reads(out, d->tables[i]);
    sb_reads(out, TABLES[a].name);
    break;
  }
  case 4: { /* a branch on a form value: {% if %}/{% else %}, or {% case %} with three arms */
    int web = prng_chance(&g->rng, 50);
    bool arms3 = (a + b) % 2 == 1; /* no extra draw: the rest of a seed stays as it was */
    const char *fmt =
        "SELECT date_trunc('week', created_at) AS week, COUNT(*) AS signups\nFROM $1\n"
        "WHERE created_at > now() - interval '$2 days'\nGROUP BY 1";
    char branch[512];
    if (arms3)
      snprintf(branch, sizeof branch,
               "{%% case source %%}{%% when 'web' %%}%s{%% when 'mobile' %%}%s"
               "{%% else %%}%s{%% endcase %%}",
               A, B, C);
    else
      snprintf(branch, sizeof branch, "{%% if source == 'web' %%}%s{%% else %%}%s{%% endif %%}", A,
               B);
    sb_sub(raw, fmt, (const char *const[]){branch, "{{ days }}"}, 2);
    sb_add(raw,
           "\n{%% form %%}\nsource:\n  type: select\n  default: %s\n  options: [web, mobile%s]\n"
           "days:\n  type: number\n  default: 30\n{%% endform %%}",
           web ? "web" : "mobile", arms3 ? ", partner" : "");
    sb_sub(out, fmt, (const char *const[]){web ? A : B, "30"}, 2);
    /* A run with other parameters reads another branch: lineage lists them all. */
    sb_reads(out, TABLES[a].name);
    sb_reads(out, TABLES[b].name);
    if (arms3)
      sb_reads(out, TABLES[c].name);
    break;
  }
  case 5: { /* quoted identifiers */
    size_t q = pick_table(g, FIRST_QUOTED, NTABLES, NULL, 0);
    const char *fmt = "SELECT $2, $3, $4\nFROM $1\nWHERE $5 = 'shipped'";
    const char *args[] = {table_sql(ws, q, qs), column_sql(ws, qs, "Order Id"),
                          column_sql(ws, qs, "Customer Name"), column_sql(ws, qs, "Total"),
                          column_sql(ws, qs, "Status")};
    sb_sub(raw, fmt, args, 5);
    sb_sub(out, fmt, args, 5);
    sb_reads(out, TABLES[q].name);
    break;
  }
  case 6: { /* UNION ALL of three */
    const char *fmt =
        "SELECT 'web' AS channel, id FROM $1\nUNION ALL\nSELECT 'store' AS channel, id FROM $2\n"
        "UNION ALL\nSELECT 'partner' AS channel, id FROM $3";
    sb_sub(raw, fmt, (const char *const[]){A, B, C}, 3);
    sb_sub(out, fmt, (const char *const[]){A, B, C}, 3);
    sb_reads(out, TABLES[a].name);
    sb_reads(out, TABLES[b].name);
    sb_reads(out, TABLES[c].name);
    break;
  }
  case 7: { /* the schema comes from a form variable */
    sb_add(raw,
           "SELECT *\nFROM {{ schema }}.events_daily\nLIMIT {{ row_limit }}\n"
           "{%% form %%}\nschema:\n  type: text\n  default: analytics\nrow_limit:\n  type: number\n"
           "  default: 100\n{%% endform %%}");
    sb_add(out, "SELECT *\nFROM analytics.events_daily\nLIMIT 100");
    sb_reads(out, "analytics.events_daily");
    break;
  }
  default: { /* reads no table at all */
    sb_add(raw, "SELECT CURRENT_DATE AS today, '{{ label }}' AS label\n{%% form %%}\nlabel:\n"
                "  type: text\n  default: daily\n{%% endform %%}");
    sb_add(out, "SELECT CURRENT_DATE AS today, 'daily' AS label");
    break;
  }
  }
}

static void gen_chart(struct gen *g, struct sim_chart *c, size_t i, const char *query_name) {
  make_token(g, c->token);
  c->view_version = prng_chance(&g->rng, 12) ? 1 : 2;
  c->chart_type = c->view_version == 2 ? CHART_TYPES[prng_below(&g->rng, NCHART_TYPES)]
                                       : CHART_TYPES_V1[prng_below(&g->rng, 6)];
  c->title = ws_printf(g->ws, "%s — chart %zu", query_name, i + 1);
  c->created_at = timestamp(g, 100, 300);
  /* From the token, not the stream, so that every other draw stays where it was. */
  static const char *const FIELDS[] = {"week", "region", "revenue", "customer_name", "Signups"};
  c->field = FIELDS[prng_mix(g->tokens) % (sizeof FIELDS / sizeof FIELDS[0])];
}

static void gen_query(struct gen *g, struct sim_query *q, size_t i, unsigned ncharts) {
  struct sim_workspace *ws = g->ws;
  struct sqlbuf raw = {.len = 0}, out = {.len = 0};
  make_token(g, q->token);
  make_token(g, q->run_token);
  q->id = (long)(10000000 + g->ids++);
  q->name = i == 0 ? "Query 1" : ws_printf(ws, "Query %zu", i + 1);
  q->data_source = (size_t)prng_below(&g->rng, ws->ndata_sources);
  q->created_at = timestamp(g, 0, 300);
  q->updated_at = timestamp(g, 300, 200);
  gen_sql(g, quote_style_of(ws->data_sources[q->data_source].vendor), &raw, &out);
  q->raw_query = ws_strdup(ws, raw.text);
  q->rendered = ws_strdup(ws, out.text);
  q->tables = finish_tables(ws, out.tables, out.ntables, &q->ntables);
  q->ncharts = ncharts;
  q->charts = ws_alloc(ws, (ncharts ? ncharts : 1) * sizeof *q->charts);
  for (size_t k = 0; k < ncharts; k++)
    gen_chart(g, &q->charts[k], k, q->name);
}

/* ---- reports ---- */

static void gen_report(struct gen *g, struct sim_report *r, size_t space, size_t n,
                       const struct sim_gen_params *p, bool dataset) {
  struct sim_workspace *ws = g->ws;
  struct sim_space *s = &ws->spaces[space];
  make_token(g, r->token);
  make_token(g, r->run_token);
  r->id = (long)(2900000 + g->ids++);
  r->is_dataset = dataset;
  r->space = space;
  r->imported_dataset = -1;
  const char *topic =
      REPORT_TOPICS[prng_below(&g->rng, sizeof REPORT_TOPICS / sizeof REPORT_TOPICS[0])];
  r->name = dataset ? ws_printf(ws, "Dataset %zu: %s", n + 1, topic)
                    : ws_printf(ws, "%s #%zu", topic, n + 1);
  r->description = prng_chance(&g->rng, 30) ? NULL : ws_printf(ws, "About %s", topic);
  r->created_at = timestamp(g, 0, 300);
  r->updated_at = timestamp(g, 300, 200);
  r->edited_at = prng_chance(&g->rng, 15) ? NULL : timestamp(g, 300, 150);
  r->last_saved_at = prng_chance(&g->rng, 15) ? NULL : timestamp(g, 300, 150);
  r->last_run_at = prng_chance(&g->rng, 10) ? NULL : timestamp(g, 450, 50);
  r->archived = prng_chance(&g->rng, 8);
  r->view_count = (long)prng_below(&g->rng, 500);
  r->runs_count = 1 + (long)prng_below(&g->rng, 40);
  /* Drawn from the id, not the stream, so that every other draw stays where it was: one report
   * in five failed its last run (its last success is older, or it never succeeded); a third
   * have one or two schedules. */
  uint64_t h = prng_mix((uint64_t)r->id * 0x9E3779B97F4A7C15ULL);
  r->last_success_at = r->last_run_at && h % 5 == 0 ? (h % 10 == 0 ? NULL : r->created_at)
                                                     : r->last_run_at;
  r->schedules_count = (long)(h / 5 % 3);
  /* Mostly the collection's owner; some creators have left the workspace since. */
  r->creator = s->personal || prng_chance(&g->rng, 50) ? s->creator
                                                       : (size_t)prng_below(&g->rng, ws->nusers);
  bool charts = !dataset && !prng_chance(&g->rng, 15);
  r->nqueries = dataset ? 1 : p->queries_per_report;
  r->queries = ws_alloc(ws, (r->nqueries ? r->nqueries : 1) * sizeof *r->queries);
  r->chart_count = 0;
  for (size_t i = 0; i < r->nqueries; i++) {
    gen_query(g, &r->queries[i], i, charts ? p->charts_per_query : 0);
    r->chart_count += r->queries[i].ncharts;
  }
}

/* ---- the workspace ---- */

static void gen_users(struct gen *g, unsigned n) {
  struct sim_workspace *ws = g->ws;
  ws->nusers = n;
  ws->users = ws_alloc(ws, n * sizeof *ws->users);
  for (size_t i = 0; i < n; i++) {
    struct sim_user *u = &ws->users[i];
    size_t f = i % NNAMES, l = (i * 7 + 3) % NNAMES;
    make_token(g, u->token);
    u->id = (long)(745240 + g->ids++);
    u->username = i < NNAMES ? ws_printf(ws, "%s.%s", FIRST_ASCII[f], LAST_ASCII[l])
                             : ws_printf(ws, "%s.%s%zu", FIRST_ASCII[f], LAST_ASCII[l], i);
    u->name = ws_printf(ws, "%s %s", FIRST[f], LAST[l]);
    u->initials[0] = (char)(FIRST_ASCII[f][0] - 'a' + 'A');
    u->initials[1] = (char)(LAST_ASCII[l][0] - 'a' + 'A');
    u->email = ws_printf(ws, "%s@example.com", u->username);
    u->created_at = timestamp(g, 0, 100);
    u->active = i % 5 != 4; /* every fifth member has left */
    u->admin = i == 0;
  }
}

static void gen_data_sources(struct gen *g, unsigned n) {
  struct sim_workspace *ws = g->ws;
  ws->ndata_sources = n;
  ws->data_sources = ws_alloc(ws, n * sizeof *ws->data_sources);
  for (size_t i = 0; i < n; i++) {
    struct sim_data_source *d = &ws->data_sources[i];
    size_t k = i % NDS;
    make_token(g, d->token);
    d->id = (long)(34499 + i * 7);
    d->name = i < NDS ? DATA_SOURCES[k].name : ws_printf(ws, "%s %zu", DATA_SOURCES[k].name, i);
    d->description = DATA_SOURCES[k].database;
    d->adapter = DATA_SOURCES[k].adapter;
    d->vendor = DATA_SOURCES[k].vendor;
    d->database = DATA_SOURCES[k].database;
    d->host = DATA_SOURCES[k].host;
    d->port = DATA_SOURCES[k].port;
    d->created_at = timestamp(g, 0, 30);
  }
}

static void gen_space(struct gen *g, struct sim_space *s, size_t i, bool personal, size_t owner) {
  struct sim_workspace *ws = g->ws;
  make_token(g, s->token);
  s->id = (long)(1919717 + g->ids++);
  s->personal = personal;
  s->creator = owner;
  if (personal) {
    s->name = "Personal";
    s->description = NULL;
  } else {
    const char *base = SPACE_NAMES[i % (sizeof SPACE_NAMES / sizeof SPACE_NAMES[0])];
    s->name = i < 10 ? base : ws_printf(ws, "%s %zu", base, i / 10 + 1);
    s->description = prng_chance(&g->rng, 50) ? NULL : ws_printf(ws, "Reports of %s", base);
    s->restricted = prng_chance(&g->rng, 20);
  }
}

static int check_params(const struct sim_gen_params *p) {
  if (p->users < 1 || p->data_sources < 1) {
    fputs("mode-sim: --users and --data-sources must be at least 1\n", stderr);
    return -1;
  }
  if (p->reports_per_space > 100000 || p->spaces > 100000 || p->queries_per_report > 100 ||
      p->charts_per_query > 100 || p->users > 100000 || p->data_sources > 1000 ||
      p->mutate_percent > 100) {
    fputs("mode-sim: a workspace size is out of range (see docs/mode-sim.md)\n", stderr);
    return -1;
  }
  return 0;
}

static size_t personal_reports(size_t user) {
  return user % 3;
}

/* Lays out spaces and reports: custom spaces with their reports and datasets, then one personal
 * collection per active member. */
static void gen_spaces_and_reports(struct gen *g, const struct sim_gen_params *p, size_t extra) {
  struct sim_workspace *ws = g->ws;
  size_t nactive = 0, total = 0;
  size_t dps = 1 + p->reports_per_space / 25; /* datasets per custom space */
  for (size_t u = 0; u < ws->nusers; u++)
    if (ws->users[u].active) {
      nactive++;
      total += personal_reports(u);
    }
  ws->nspaces = p->spaces + nactive;
  ws->spaces = ws_alloc(ws, ws->nspaces * sizeof *ws->spaces);
  total += (size_t)p->spaces * (p->reports_per_space + dps) + extra;
  ws->reports = ws_alloc(ws, (total ? total : 1) * sizeof *ws->reports);
  ws->nreports = 0;
  size_t si = 0;
  for (size_t i = 0; i < p->spaces; i++, si++) {
    struct sim_space *s = &ws->spaces[si];
    gen_space(g, s, i, false, (size_t)prng_below(&g->rng, ws->nusers));
    s->nreports = p->reports_per_space;
    s->reports = ws_alloc(ws, (s->nreports + 1) * sizeof *s->reports);
    s->ndatasets = dps;
    s->datasets = ws_alloc(ws, dps * sizeof *s->datasets);
    for (size_t d = 0; d < dps; d++) {
      s->datasets[d] = ws->nreports;
      gen_report(g, &ws->reports[ws->nreports++], si, d, p, true);
    }
    for (size_t r = 0; r < s->nreports; r++) {
      s->reports[r] = ws->nreports;
      struct sim_report *rep = &ws->reports[ws->nreports++];
      gen_report(g, rep, si, r, p, false);
      if (prng_chance(&g->rng, 20))
        rep->imported_dataset = (long)s->datasets[prng_below(&g->rng, dps)];
    }
  }
  for (size_t u = 0; u < ws->nusers; u++) {
    if (!ws->users[u].active)
      continue;
    struct sim_space *s = &ws->spaces[si];
    gen_space(g, s, si, true, u);
    s->nreports = personal_reports(u);
    s->reports = ws_alloc(ws, (s->nreports + 1) * sizeof *s->reports);
    for (size_t r = 0; r < s->nreports; r++) {
      s->reports[r] = ws->nreports;
      gen_report(g, &ws->reports[ws->nreports++], si, r, p, false);
    }
    si++;
  }
}

/* --mutate: changes mutate_percent of the custom spaces' reports (renamed, re-saved, first query
 * rewritten); a quarter of those are deleted instead and as many new reports added. */
static void mutate(struct gen *g, const struct sim_gen_params *p) {
  struct sim_workspace *ws = g->ws;
  g->rng.state = g->seed ^ 0x6D7574617465ULL; /* "mutate": independent of the base stream */
  size_t changed = 0;
  for (size_t si = 0; si < p->spaces; si++) {
    struct sim_space *s = &ws->spaces[si];
    size_t kept = 0, added = 0;
    for (size_t k = 0; k < s->nreports; k++) {
      struct sim_report *r = &ws->reports[s->reports[k]];
      if (!prng_chance(&g->rng, p->mutate_percent)) {
        s->reports[kept++] = s->reports[k];
        continue;
      }
      if (changed++ % 4 == 3) { /* deleted: gone from the listing and 404 */
        r->token[0] = '-';
        added++;
        continue;
      }
      r->name = ws_printf(ws, "%s (edited)", r->name);
      r->updated_at = r->last_saved_at = r->edited_at = timestamp(g, 600, 30);
      if (r->nqueries) {
        struct sim_query *q = &r->queries[0];
        size_t ncharts = q->ncharts;
        gen_query(g, q, 0, (unsigned)ncharts);
        q->updated_at = r->updated_at;
      }
      s->reports[kept++] = s->reports[k];
    }
    for (size_t a = 0; a < added; a++) {
      s->reports[kept++] = ws->nreports;
      gen_report(g, &ws->reports[ws->nreports++], si, p->reports_per_space + a, p, false);
    }
    s->nreports = kept;
  }
}

int sim_generate(const struct sim_gen_params *p, struct sim_workspace **out) {
  if (check_params(p) != 0)
    return -1;
  struct sim_workspace *ws = ws_new(p->workspace);
  if (!ws)
    return -1;
  struct gen g = {.ws = ws, .rng = {p->seed}, .seed = p->seed};
  make_token(&g, ws->token);
  ws->account_id = 751252;
  gen_users(&g, p->users);
  gen_data_sources(&g, p->data_sources);
  ws->ndefinitions = 2 + p->data_sources;
  ws->definitions = ws_alloc(ws, ws->ndefinitions * sizeof *ws->definitions);
  for (size_t i = 0; i < ws->ndefinitions; i++)
    gen_definition(&g, &ws->definitions[i], i);
  /* Deleting a quarter of the mutated reports adds as many: room for them. */
  size_t extra = p->mutate_percent ? (size_t)p->spaces * p->reports_per_space / 4 + 1 : 0;
  gen_spaces_and_reports(&g, p, extra);
  if (p->mutate_percent)
    mutate(&g, p);
  ws_index(ws);
  *out = ws;
  return 0;
}
