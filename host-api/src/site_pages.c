/*
 * site_pages.c -- the body of each page of the site (see site_pages.h). Everything from the
 * catalog goes through site_out_text; our own markup through site_out_raw.
 */
#include "config.h"

#include "site_pages.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- small pieces ---------------------------------------------------------------------------- */

static void text_or(struct site_out *o, const char *s, const char *none) {
  if (s && *s)
    site_out_text(o, s);
  else
    site_out_printf(o, "<span class=\"none\">%s</span>", none);
}

/* An ISO 8601 time as its date, the whole value in the title and datetime. */
static void out_time(struct site_out *o, const char *iso) {
  if (!iso || !*iso) {
    site_out_raw(o, "<span class=\"none\">never</span>");
    return;
  }
  char date[11];
  snprintf(date, sizeof date, "%s", iso);
  site_out_raw(o, "<time datetime=\"");
  site_out_text(o, iso);
  site_out_raw(o, "\" title=\"");
  site_out_text(o, iso);
  site_out_raw(o, "\">");
  site_out_text(o, date);
  site_out_raw(o, "</time>");
}

static void out_state(struct site_out *o, const char *state) {
  if (!state)
    return;
  const char *cls = strcmp(state, "failed") == 0      ? "failed"
                    : strcmp(state, "succeeded") == 0 ? "ok"
                                                      : "other";
  site_out_printf(o, " <span class=\"state state-%s\">", cls);
  site_out_text(o, state);
  site_out_raw(o, "</span>");
}

static void out_list(struct site_out *o, const struct site_strs *s, const char *none) {
  if (s->n == 0) {
    site_out_printf(o, "<span class=\"none\">%s</span>", none);
    return;
  }
  for (size_t i = 0; i < s->n; i++) {
    if (i)
      site_out_raw(o, ", ");
    site_out_text(o, s->v[i]);
  }
}

static void link_to(struct site_out *o, const char *page, const char *anchor, const char *label) {
  site_out_raw(o, "<a href=\"");
  site_out_text(o, page);
  if (anchor) {
    site_out_raw(o, "#");
    site_out_text(o, anchor);
  }
  site_out_raw(o, "\">");
  site_out_text(o, label);
  site_out_raw(o, "</a>");
}

static void link_dashboard(struct site_out *o, const struct site_dashboard *d) {
  link_to(o, d->page, NULL, d->name);
  if (d->deleted)
    site_out_raw(o, " <span class=\"state state-failed\">deleted</span>");
}

static void link_table(struct site_out *o, const struct site_catalog *cat, const char *fqn) {
  const struct site_table *t = site_find_table(cat, fqn);
  if (t)
    link_to(o, t->page, NULL, fqn);
  else
    site_out_text(o, fqn);
}

/* The anchor of a dashboard's k-th data model on its page. */
static void model_anchor(char *buf, size_t cap, size_t k) {
  snprintf(buf, cap, "m-%zu", k);
}

/* A link to a data model: its section on the first live dashboard page that lists it. */
static void link_model(struct site_out *o, const struct site_catalog *cat,
                       const struct site_model *m) {
  for (size_t i = 0; i < m->dashboards.n; i++) {
    const struct site_dashboard *d = &cat->dashboards[m->dashboards.v[i]];
    for (size_t k = 0; k < d->models.n; k++)
      if (strcmp(d->models.v[k], m->fqn) == 0) {
        char anchor[32];
        model_anchor(anchor, sizeof anchor, k);
        link_to(o, d->page, anchor, m->name);
        return;
      }
  }
  site_out_text(o, m->name);
}

static void section(struct site_out *o, const char *id, const char *title, size_t count) {
  site_out_printf(o, "<section id=\"%s\">\n<h2>%s <span class=\"count\">%zu</span></h2>\n", id,
                  title, count);
}

static void picture(struct site_out *o, const char *svg, bool failed) {
  site_out_raw(o, "<section id=\"lineage-picture\">\n<h2>Lineage</h2>\n");
  if (svg) {
    site_out_raw(o, "<div class=\"picture\">\n");
    site_out_raw(o, svg);
    site_out_raw(o, "\n</div>\n");
  } else {
    site_out_printf(o, "<p class=\"none\">%s</p>\n",
                    failed ? "The lineage picture could not be drawn (see etlhost's messages)."
                           : "No lineage picture.");
  }
}

/* The cells every list of dashboards has after the name: collection, owners, last run. */
static void dashboard_cells(struct site_out *o, const struct site_dashboard *d) {
  site_out_raw(o, "</td><td>");
  text_or(o, d->collection, "none");
  site_out_raw(o, "</td><td>");
  out_list(o, &d->owners, "none");
  site_out_raw(o, "</td><td>");
  out_time(o, d->last_run_at);
  out_state(o, d->last_run_state);
}

/* --- the index --------------------------------------------------------------------------- */

static size_t count_attention(const struct site_catalog *cat) {
  size_t n = 0;
  for (size_t i = 0; i < cat->n_dashboards; i++) {
    const struct site_dashboard *d = &cat->dashboards[i];
    n += (!d->deleted && d->last_run_state && strcmp(d->last_run_state, "failed") == 0) ||
         d->lost_last_run;
  }
  return n;
}

void site_pages_index(struct site_out *o, const struct site_catalog *cat,
                      const struct site_options *opts, const size_t *order, size_t n) {
  site_page_begin(o, opts, "Dashboards", "index.html");
  site_out_printf(o,
                  "<h1>Dashboards</h1>\n<p class=\"lede\">%zu dashboards reading "
                  "<a href=\"tables.html\">%zu tables</a>; "
                  "<a href=\"attention.html\">%zu failing or lost</a>.</p>\n",
                  n, cat->n_tables, count_attention(cat));
  site_out_raw(
      o,
      "<form id=\"filters\" class=\"filters\" role=\"search\">\n"
      "<input type=\"search\" id=\"q\" name=\"q\" autocomplete=\"off\" "
      "placeholder=\"Search names, collections, owners, charts, tables\" aria-label=\"Search\">\n"
      "<select id=\"f-collection\" aria-label=\"Collection\"><option value=\"\">All "
      "collections</option></select>\n"
      "<select id=\"f-owner\" aria-label=\"Owner\"><option value=\"\">All owners</option>"
      "</select>\n"
      "<select id=\"f-fresh\" aria-label=\"Freshness\"><option value=\"\">Any freshness</option>"
      "<option value=\"30\">Run within 30 days</option>"
      "<option value=\"90\">Run within 90 days</option>"
      "<option value=\"365\">Run within a year</option>"
      "<option value=\"old\">Not run for over a year</option>"
      "<option value=\"never\">Never run</option>"
      "<option value=\"failed\">Last run failed</option></select>\n"
      "</form>\n");
  site_out_printf(o, "<p id=\"count\" aria-live=\"polite\">%zu dashboards</p>\n", n);
  site_out_raw(o, "<div class=\"scroll\"><table id=\"dashboards\">\n<thead><tr><th>Dashboard</th>"
                  "<th>Collection</th><th>Owners</th><th>Last run</th><th>Charts</th>"
                  "<th>Data models</th></tr></thead>\n<tbody>\n");
  for (size_t i = 0; i < n; i++) {
    const struct site_dashboard *d = &cat->dashboards[order[i]];
    site_out_printf(o, "<tr data-i=\"%zu\"><td>", i);
    link_dashboard(o, d);
    if (d->description && *d->description) {
      site_out_raw(o, "<div class=\"desc\">");
      site_out_text(o, d->description);
      site_out_raw(o, "</div>");
    }
    dashboard_cells(o, d);
    site_out_printf(o, "</td><td class=\"num\">%zu</td><td class=\"num\">%zu</td></tr>\n",
                    d->charts.n, d->models.n);
  }
  site_out_raw(o, "</tbody></table></div>\n<p id=\"empty\" class=\"none\" hidden>No dashboard "
                  "matches.</p>\n<script src=\"search-index.js\"></script>\n"
                  "<script src=\"site.js\"></script>\n");
  site_page_end(o, opts);
  site_out_raw(o, "</body>\n</html>\n");
}

/* --- a dashboard --------------------------------------------------------------------------- */

/* One term of the facts list: fact() opens its value, fact_end() closes it. */
static void fact(struct site_out *o, const char *label) {
  site_out_printf(o, "<dt>%s</dt><dd>", label);
}

static void fact_end(struct site_out *o) {
  site_out_raw(o, "</dd>\n");
}

static void dashboard_facts(struct site_out *o, const struct site_dashboard *d) {
  site_out_raw(o, "<dl class=\"facts\">\n");
  fact(o, "Collection");
  text_or(o, d->collection, "none");
  fact_end(o);
  fact(o, "Owners");
  out_list(o, &d->owners, "none");
  fact_end(o);
  fact(o, "Last run");
  out_time(o, d->last_run_at);
  out_state(o, d->last_run_state);
  fact_end(o);
  fact(o, "Last successful run");
  out_time(o, d->last_success_at);
  fact_end(o);
  fact(o, "Last saved");
  out_time(o, d->last_saved_at);
  fact_end(o);
  fact(o, "Created");
  out_time(o, d->created_at);
  if (d->creator) {
    site_out_raw(o, " by ");
    site_out_text(o, d->creator);
  }
  if (d->schedule_count >= 0) {
    fact_end(o);
    fact(o, "Schedules");
    site_out_printf(o, "%lld", d->schedule_count);
  }
  if (d->view_count >= 0) {
    fact_end(o);
    fact(o, "Views");
    site_out_printf(o, "%lld", d->view_count);
  }
  fact_end(o);
  fact(o, "Source");
  site_out_url(o, d->url, "open in the source system");
  fact_end(o);
  fact(o, "FQN");
  site_out_raw(o, "<code>");
  site_out_text(o, d->fqn);
  site_out_raw(o, "</code>");
  fact_end(o);
  site_out_raw(o, "</dl>\n");
}

/* Tables read by the dashboard's models, and the other dashboards reading any of them. */
static void dashboard_neighbours(struct site_out *o, const struct site_catalog *cat,
                                 const struct site_dashboard *d) {
  bool *table_seen = calloc(cat->n_tables ? cat->n_tables : 1, sizeof *table_seen);
  bool *dash_seen = calloc(cat->n_dashboards ? cat->n_dashboards : 1, sizeof *dash_seen);
  size_t tables = 0, others = 0;
  if (!table_seen || !dash_seen) {
    o->failed = true;
    goto out;
  }
  site_out_raw(o, "<p>Reads: ");
  for (size_t k = 0; k < d->models.n; k++) {
    const struct site_model *m = site_find_model(cat, d->models.v[k]);
    for (size_t u = 0; m && u < m->upstream.n; u++) {
      const struct site_table *t = site_find_table(cat, cat->edges[m->upstream.v[u]].from_fqn);
      size_t ti = (size_t)(t - cat->tables);
      if (!t || table_seen[ti])
        continue;
      table_seen[ti] = true;
      site_out_raw(o, tables++ ? ", " : "");
      link_to(o, t->page, NULL, t->fqn);
    }
  }
  if (!tables)
    site_out_raw(o, "<span class=\"none\">no known table</span>");
  site_out_raw(o, ".</p>\n<p>Dashboards reading the same tables: ");
  dash_seen[d - cat->dashboards] = true;
  for (size_t ti = 0; ti < cat->n_tables; ti++) {
    for (size_t e = 0; table_seen[ti] && e < cat->tables[ti].edges.n; e++) {
      const struct site_model *m =
          site_find_model(cat, cat->edges[cat->tables[ti].edges.v[e]].to_fqn);
      for (size_t k = 0; m && k < m->dashboards.n; k++) {
        const struct site_dashboard *other = &cat->dashboards[m->dashboards.v[k]];
        if (dash_seen[m->dashboards.v[k]] || other->deleted)
          continue;
        dash_seen[m->dashboards.v[k]] = true;
        site_out_raw(o, others++ ? ", " : "");
        link_dashboard(o, other);
      }
    }
  }
  if (!others)
    site_out_raw(o, "<span class=\"none\">none</span>");
  site_out_raw(o, ".</p>\n");
out:
  free(table_seen);
  free(dash_seen);
}

static void dashboard_charts(struct site_out *o, const struct site_catalog *cat,
                             const struct site_dashboard *d) {
  section(o, "charts", "Charts", d->charts.n);
  if (d->charts.n == 0) {
    site_out_raw(o, "<p class=\"none\">No charts.</p>\n</section>\n");
    return;
  }
  site_out_raw(o, "<div class=\"scroll\"><table>\n<thead><tr><th>Chart</th><th>Type</th>"
                  "<th>Fields</th><th>Data model</th></tr></thead>\n<tbody>\n");
  for (size_t k = 0; k < d->charts.n; k++) {
    const struct site_chart *c = site_find_chart(cat, d->charts.v[k]);
    site_out_printf(o, "<tr id=\"c-%zu\"><td>", k);
    if (!c) {
      site_out_text(o, d->charts.v[k]);
      site_out_raw(o, "</td><td colspan=\"3\" class=\"none\">not in the catalog</td></tr>\n");
      continue;
    }
    site_out_url(o, c->url, c->name);
    site_out_raw(o, "</td><td>");
    text_or(o, c->type, "unknown");
    site_out_raw(o, "</td><td>");
    out_list(o, &c->fields, "none");
    site_out_raw(o, "</td><td>");
    size_t at = d->models.n;
    for (size_t m = 0; c->model && m < d->models.n; m++)
      if (strcmp(d->models.v[m], c->model) == 0)
        at = m;
    const struct site_model *model = c->model ? site_find_model(cat, c->model) : NULL;
    if (at < d->models.n) {
      char anchor[32];
      model_anchor(anchor, sizeof anchor, at);
      link_to(o, "", anchor, model ? model->name : c->model);
    } else {
      text_or(o, model ? model->name : c->model, "none");
    }
    site_out_raw(o, "</td></tr>\n");
  }
  site_out_raw(o, "</tbody></table></div>\n</section>\n");
}

/* The table columns one data model column is read from, "table.column, ...". */
static void column_sources(struct site_out *o, const struct site_catalog *cat,
                           const struct site_model *m, const char *column) {
  size_t n = 0;
  for (size_t u = 0; u < m->upstream.n; u++) {
    const struct site_edge *e = &cat->edges[m->upstream.v[u]];
    for (size_t k = 0; k < e->n_cols; k++) {
      if (strcmp(e->cols[k].to, column) != 0)
        continue;
      const struct site_table *t = site_find_table(cat, e->from_fqn);
      site_out_raw(o, n++ ? ", " : "");
      if (t)
        link_to(o, t->page, NULL, e->from_fqn);
      else
        site_out_text(o, e->from_fqn);
      site_out_raw(o, ".<b>");
      site_out_text(o, e->cols[k].from);
      site_out_raw(o, "</b>");
    }
  }
  if (!n)
    site_out_raw(o, "<span class=\"none\">unknown</span>");
}

static void dashboard_model(struct site_out *o, const struct site_catalog *cat,
                            const struct site_dashboard *d, size_t k) {
  const struct site_model *m = site_find_model(cat, d->models.v[k]);
  char anchor[32];
  model_anchor(anchor, sizeof anchor, k);
  site_out_printf(o, "<article class=\"model\" id=\"%s\">\n<h3>", anchor);
  site_out_text(o, m ? m->name : d->models.v[k]);
  site_out_raw(o, "</h3>\n");
  if (!m) {
    site_out_raw(o, "<p class=\"none\">Not in the catalog.</p>\n</article>\n");
    return;
  }
  if (m->deleted)
    site_out_raw(o, "<p class=\"banner\">This data model was deleted.</p>\n");
  site_out_raw(o, "<p class=\"fqn\"><code>");
  site_out_text(o, m->fqn);
  site_out_raw(o, "</code></p>\n<p>Reads: ");
  for (size_t u = 0; u < m->upstream.n; u++) {
    site_out_raw(o, u ? ", " : "");
    link_table(o, cat, cat->edges[m->upstream.v[u]].from_fqn);
  }
  if (m->upstream.n == 0)
    site_out_raw(o, site_model_unresolved(m) ? "<span class=\"state state-failed\">no table "
                                               "found in its SQL</span>"
                                             : "<span class=\"none\">no table</span>");
  site_out_raw(o, ".</p>\n");
  if (m->n_columns) {
    site_out_raw(o, "<div class=\"scroll\"><table>\n<thead><tr><th>Column</th><th>Type</th>"
                    "<th>Read from</th></tr></thead>\n<tbody>\n");
    for (size_t c = 0; c < m->n_columns; c++) {
      site_out_raw(o, "<tr><td>");
      site_out_text(o, m->columns[c].name);
      site_out_raw(o, "</td><td>");
      text_or(o, m->columns[c].type, "unknown");
      site_out_raw(o, "</td><td>");
      column_sources(o, cat, m, m->columns[c].name);
      site_out_raw(o, "</td></tr>\n");
    }
    site_out_raw(o, "</tbody></table></div>\n");
  }
  if (m->sql) {
    site_out_raw(o, "<details open><summary>SQL</summary><pre><code>");
    site_out_text(o, m->sql);
    site_out_raw(o, "</code></pre></details>\n");
  }
  site_out_raw(o, "</article>\n");
}

void site_pages_dashboard(struct site_out *o, const struct site_catalog *cat,
                          const struct site_options *opts, const struct site_dashboard *d,
                          const char *svg, bool failed) {
  site_page_begin(o, opts, d->name, "index.html");
  site_out_raw(o, "<p class=\"crumbs\"><a href=\"index.html\">Dashboards</a>");
  if (d->collection) {
    site_out_raw(o, " › ");
    site_out_text(o, d->collection);
  }
  site_out_raw(o, "</p>\n<h1>");
  site_out_text(o, d->name);
  site_out_raw(o, "</h1>\n");
  if (d->description && *d->description) {
    site_out_raw(o, "<p class=\"lede\">");
    site_out_text(o, d->description);
    site_out_raw(o, "</p>\n");
  }
  if (d->deleted) {
    site_out_raw(o, "<p class=\"banner\">Deleted: no longer in the source since ");
    out_time(o, d->deleted_at);
    site_out_raw(o, ".</p>\n");
  }
  dashboard_facts(o, d);
  picture(o, svg, failed);
  dashboard_neighbours(o, cat, d);
  site_out_raw(o, "</section>\n");
  dashboard_charts(o, cat, d);
  section(o, "models", "Data models", d->models.n);
  for (size_t k = 0; k < d->models.n; k++)
    dashboard_model(o, cat, d, k);
  if (d->models.n == 0)
    site_out_raw(o, "<p class=\"none\">No data models.</p>\n");
  site_out_raw(o, "</section>\n");
  site_page_end(o, opts);
  site_out_raw(o, "</body>\n</html>\n");
}

/* --- a table ------------------------------------------------------------------------------- */

/* One row of a table page's column list: a column of the table read into a data model. */
struct column_use {
  const char *column;           /* of the table */
  const struct site_edge *edge; /* table -> model */
  const struct site_colmap *map;
};

static int cmp_use(const void *a, const void *b) {
  const struct column_use *x = a, *y = b;
  int c = strcasecmp(x->column, y->column);
  if (!c)
    c = strcmp(x->edge->to_fqn, y->edge->to_fqn);
  return c ? c : strcmp(x->map->to, y->map->to);
}

static void model_dashboards(struct site_out *o, const struct site_catalog *cat,
                             const struct site_model *m) {
  for (size_t k = 0; m && k < m->dashboards.n; k++) {
    site_out_raw(o, k ? ", " : "");
    link_dashboard(o, &cat->dashboards[m->dashboards.v[k]]);
  }
  if (!m || m->dashboards.n == 0)
    site_out_raw(o, "<span class=\"none\">none</span>");
}

static void table_columns(struct site_out *o, const struct site_catalog *cat,
                          const struct site_table *t) {
  size_t n = 0;
  for (size_t e = 0; e < t->edges.n; e++)
    n += cat->edges[t->edges.v[e]].n_cols;
  struct column_use *uses = calloc(n ? n : 1, sizeof *uses);
  if (!uses) {
    o->failed = true;
    return;
  }
  n = 0;
  for (size_t e = 0; e < t->edges.n; e++) {
    const struct site_edge *edge = &cat->edges[t->edges.v[e]];
    for (size_t k = 0; k < edge->n_cols; k++)
      uses[n++] = (struct column_use){edge->cols[k].from, edge, &edge->cols[k]};
  }
  qsort(uses, n, sizeof *uses, cmp_use);
  section(o, "columns", "Columns read", n);
  if (n == 0) {
    site_out_raw(o, "<p class=\"none\">No column lineage is known for this table.</p>\n");
  } else {
    site_out_raw(o, "<p>Column by column: which data model reads each column of this table, "
                    "under which name, and the dashboards that list that data model. "
                    "<code>*</code>: every column (the SQL does not list them).</p>\n"
                    "<div class=\"scroll\"><table>\n<thead><tr><th>Column</th>"
                    "<th>Data model</th><th>As</th><th>Dashboards</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < n; i++) {
      const struct site_model *m = site_find_model(cat, uses[i].edge->to_fqn);
      site_out_raw(o, "<tr><td><b>");
      site_out_text(o, uses[i].column);
      site_out_raw(o, "</b></td><td>");
      if (m)
        link_model(o, cat, m);
      else
        site_out_text(o, uses[i].edge->to_fqn);
      site_out_raw(o, "</td><td>");
      site_out_text(o, uses[i].map->to);
      site_out_raw(o, "</td><td>");
      model_dashboards(o, cat, m);
      site_out_raw(o, "</td></tr>\n");
    }
    site_out_raw(o, "</tbody></table></div>\n");
  }
  site_out_raw(o, "</section>\n");
  free(uses);
}

void site_pages_table(struct site_out *o, const struct site_catalog *cat,
                      const struct site_options *opts, const struct site_table *t, const char *svg,
                      bool failed) {
  site_page_begin(o, opts, t->fqn, "tables.html");
  site_out_raw(o, "<p class=\"crumbs\"><a href=\"tables.html\">Tables</a></p>\n<h1>");
  const char *dot = strrchr(t->fqn, '.');
  site_out_text(o, dot && dot[1] ? dot + 1 : t->fqn);
  site_out_raw(o, "</h1>\n<p class=\"fqn\"><code>");
  site_out_text(o, t->fqn);
  site_out_raw(o, "</code></p>\n");
  if (strchr(t->fqn, '*'))
    site_out_raw(o, "<p class=\"banner\">The SQL does not say this table's database or schema "
                    "(<code>*</code> in its name): it may be the same table as another "
                    "listed under a full name.</p>\n");
  picture(o, svg, failed);
  site_out_raw(o, "</section>\n");
  table_columns(o, cat, t);
  section(o, "models", "Data models reading it", t->edges.n);
  site_out_raw(o, "<div class=\"scroll\"><table>\n<thead><tr><th>Data model</th>"
                  "<th>Dashboards</th></tr></thead>\n<tbody>\n");
  for (size_t e = 0; e < t->edges.n; e++) {
    const struct site_edge *edge = &cat->edges[t->edges.v[e]];
    const struct site_model *m = site_find_model(cat, edge->to_fqn);
    site_out_raw(o, "<tr><td>");
    if (m)
      link_model(o, cat, m);
    else
      site_out_text(o, edge->to_fqn);
    site_out_raw(o, "</td><td>");
    model_dashboards(o, cat, m);
    site_out_raw(o, "</td></tr>\n");
  }
  site_out_raw(o, "</tbody></table></div>\n</section>\n");
  site_page_end(o, opts);
  site_out_raw(o, "</body>\n</html>\n");
}

/* --- the table list ------------------------------------------------------------------------ */

void site_pages_tables(struct site_out *o, const struct site_catalog *cat,
                       const struct site_options *opts) {
  site_page_begin(o, opts, "Tables", "tables.html");
  site_out_printf(o,
                  "<h1>Tables</h1>\n<p class=\"lede\">%zu warehouse tables that data models "
                  "read, as their SQL names them.</p>\n",
                  cat->n_tables);
  site_out_raw(o, "<div class=\"scroll\"><table id=\"tables\">\n<thead><tr><th>Table</th>"
                  "<th>Data models</th><th>Columns known</th></tr></thead>\n<tbody>\n");
  for (size_t i = 0; i < cat->n_tables; i++) {
    const struct site_table *t = &cat->tables[i];
    size_t cols = 0;
    for (size_t e = 0; e < t->edges.n; e++)
      cols += cat->edges[t->edges.v[e]].n_cols;
    site_out_raw(o, "<tr><td>");
    link_to(o, t->page, NULL, t->fqn);
    site_out_printf(o, "</td><td class=\"num\">%zu</td><td class=\"num\">%zu</td></tr>\n",
                    t->edges.n, cols);
  }
  site_out_raw(o, "</tbody></table></div>\n");
  site_page_end(o, opts);
  site_out_raw(o, "</body>\n</html>\n");
}

/* --- needs attention ----------------------------------------------------------------------- */

typedef bool (*dash_pred)(const struct site_dashboard *d, const char *threshold);

static bool is_failing(const struct site_dashboard *d, const char *threshold) {
  (void)threshold;
  return !d->deleted && d->last_run_state && strcmp(d->last_run_state, "failed") == 0;
}
static bool is_stale(const struct site_dashboard *d, const char *threshold) {
  return !d->deleted && d->last_run_at && strcmp(d->last_run_at, threshold) < 0;
}
static bool is_never_run(const struct site_dashboard *d, const char *threshold) {
  (void)threshold;
  return !d->deleted && !d->last_run_at;
}
static bool is_lost(const struct site_dashboard *d, const char *threshold) {
  (void)threshold;
  return d->lost_last_run;
}

static void dashboard_list(struct site_out *o, const struct site_catalog *cat, const char *id,
                           const char *title, const char *explain, dash_pred pred,
                           const char *threshold) {
  size_t n = 0;
  for (size_t i = 0; i < cat->n_dashboards; i++)
    n += pred(&cat->dashboards[i], threshold);
  section(o, id, title, n);
  site_out_printf(o, "<p>%s</p>\n", explain);
  if (n == 0) {
    site_out_raw(o, "<p class=\"none\">None.</p>\n</section>\n");
    return;
  }
  site_out_raw(o, "<div class=\"scroll\"><table>\n<thead><tr><th>Dashboard</th>"
                  "<th>Collection</th><th>Owners</th><th>Last run</th>"
                  "<th>Last successful run</th></tr></thead>\n<tbody>\n");
  for (size_t i = 0; i < cat->n_dashboards; i++) {
    const struct site_dashboard *d = &cat->dashboards[i];
    if (!pred(d, threshold))
      continue;
    site_out_raw(o, "<tr><td>");
    link_dashboard(o, d);
    dashboard_cells(o, d);
    site_out_raw(o, "</td><td>");
    out_time(o, d->last_success_at);
    site_out_raw(o, "</td></tr>\n");
  }
  site_out_raw(o, "</tbody></table></div>\n</section>\n");
}

static void unresolved_models(struct site_out *o, const struct site_catalog *cat) {
  size_t n = 0;
  for (size_t i = 0; i < cat->n_models; i++)
    n += site_model_unresolved(&cat->models[i]);
  section(o, "unresolved", "Unresolved lineage", n);
  site_out_raw(o, "<p>Data models that have SQL but no table upstream: the SQL could not be "
                  "read, or reads nothing that names a table, so their dashboards have no "
                  "known source.</p>\n");
  if (n == 0) {
    site_out_raw(o, "<p class=\"none\">None.</p>\n</section>\n");
    return;
  }
  site_out_raw(o, "<div class=\"scroll\"><table>\n<thead><tr><th>Data model</th>"
                  "<th>Dashboards</th></tr></thead>\n<tbody>\n");
  for (size_t i = 0; i < cat->n_models; i++) {
    const struct site_model *m = &cat->models[i];
    if (!site_model_unresolved(m))
      continue;
    site_out_raw(o, "<tr><td>");
    link_model(o, cat, m);
    site_out_raw(o, "</td><td>");
    model_dashboards(o, cat, m);
    site_out_raw(o, "</td></tr>\n");
  }
  site_out_raw(o, "</tbody></table></div>\n</section>\n");
}

static void partial_tables(struct site_out *o, const struct site_catalog *cat) {
  size_t n = 0;
  for (size_t i = 0; i < cat->n_tables; i++)
    n += strchr(cat->tables[i].fqn, '*') != NULL;
  section(o, "partial", "Tables named only in part", n);
  site_out_raw(o, "<p>Tables whose database or schema the SQL does not say (<code>*</code>): "
                  "lineage to them cannot be matched to one warehouse table.</p>\n");
  if (n == 0)
    site_out_raw(o, "<p class=\"none\">None.</p>\n");
  else
    site_out_raw(o, "<ul class=\"cols\">\n");
  for (size_t i = 0; i < cat->n_tables; i++) {
    if (!strchr(cat->tables[i].fqn, '*'))
      continue;
    site_out_raw(o, "<li>");
    link_to(o, cat->tables[i].page, NULL, cat->tables[i].fqn);
    site_out_raw(o, "</li>\n");
  }
  site_out_raw(o, n ? "</ul>\n</section>\n" : "</section>\n");
}

static void last_runs(struct site_out *o, const struct site_catalog *cat) {
  section(o, "runs", "Last runs", cat->n_runs);
  site_out_raw(o, "<p>Each source's last run. One that did not complete marked nothing "
                  "deleted: what it missed shows up one complete run later.</p>\n");
  site_out_raw(o, "<div class=\"scroll\"><table>\n<thead><tr><th>Source</th><th>Run</th>"
                  "<th>Started</th><th>Finished</th><th>Complete</th></tr></thead>\n<tbody>\n");
  for (size_t i = 0; i < cat->n_runs; i++) {
    const struct site_run *r = &cat->runs[i];
    site_out_raw(o, "<tr><td>");
    site_out_text(o, r->source);
    site_out_printf(o, "</td><td class=\"num\">%lld</td><td>", r->run_id);
    site_out_text(o, r->started);
    site_out_raw(o, "</td><td>");
    text_or(o, r->finished, "never");
    site_out_printf(o, "</td><td>%s</td></tr>\n",
                    r->complete ? "yes" : "<span class=\"state state-failed\">no</span>");
  }
  site_out_raw(o, "</tbody></table></div>\n</section>\n");
}

void site_pages_attention(struct site_out *o, const struct site_catalog *cat,
                          const struct site_options *opts) {
  char threshold[32], explain[256];
  time_t then = opts->now - (time_t)opts->stale_days * 86400;
  struct tm tm;
  gmtime_r(&then, &tm);
  /* ISO 8601 text sorts in time order, as the catalog's timestamps do */
  strftime(threshold, sizeof threshold, "%Y-%m-%dT%H:%M:%SZ", &tm);
  site_page_begin(o, opts, "Needs attention", "attention.html");
  site_out_raw(o, "<h1>Needs attention</h1>\n");
  dashboard_list(o, cat, "failing", "Last run failed",
                 "Reports whose last run did not succeed: their data is older than it looks.",
                 is_failing, threshold);
  snprintf(explain, sizeof explain,
           "Reports last run more than %d days ago (before %.10s; "
           "<code>etlhost site --stale-days</code>).",
           opts->stale_days, threshold);
  dashboard_list(o, cat, "stale", "Stale", explain, is_stale, threshold);
  dashboard_list(o, cat, "never", "Never run", "Reports with no run at all.", is_never_run,
                 threshold);
  dashboard_list(o, cat, "lost", "Lost in the last run",
                 "Reports the last run of their source no longer found (marked deleted).", is_lost,
                 threshold);
  unresolved_models(o, cat);
  partial_tables(o, cat);
  last_runs(o, cat);
  site_page_end(o, opts);
  site_out_raw(o, "</body>\n</html>\n");
}
