/*
 * assemble.c -- one complete report (or dataset) into its entities (see assemble.h): charts,
 * data models, the dashboard, lineage edges and usage, in that order, each kept unique across
 * the run.
 */
#include "config.h"

#include "assemble.h"

#include <etl/plugin.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lineage.h"
#include "plugin/sql/sql_lineage.h"

static void diagf(struct mode_assembler *a, int sev, unsigned flags, const char *item,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void diagf(struct mode_assembler *a, int sev, unsigned flags, const char *item,
                  const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (a->diag)
    a->diag(a->ctx, sev, flags, item, msg);
}

static void emit(struct mode_assembler *a, struct mode_entity *e) {
  a->emit(a->ctx, e);
}

/* Once per data source: an adapter with no SQL dialect of ours (teradata, dremio, ...) is read
 * as ANSI by lineage.c, which is usually right; the user should know it is a guess. */
static void warn_unknown_dialect(struct mode_assembler *a, const struct mode_data_source *ds) {
  enum sql_dialect d;
  if (ds->adapter == NULL || sql_dialect_from_name(ds->adapter, &d) == SQL_OK)
    return;
  char *key = mode_asprintf("dialect of %s", ds->id);
  if (key && mode_strset_add(&a->warned_sources, key) == 1)
    diagf(a, ETL_SEV_WARNING, 0, "data sources",
          "data source %s (%s): adapter '%s' is no SQL dialect we know; its queries are read "
          "as ANSI SQL",
          ds->id, ds->name ? ds->name : "unnamed", ds->adapter);
  free(key);
}

static const struct mode_data_source *find_source(struct mode_assembler *a, const char *id) {
  if (id == NULL)
    return NULL;
  for (size_t i = 0; i < a->n_sources; i++) {
    if (a->sources[i].id && strcmp(a->sources[i].id, id) == 0) {
      warn_unknown_dialect(a, &a->sources[i]);
      return &a->sources[i];
    }
  }
  if (mode_strset_add(&a->warned_sources, id) == 1 && a->sources_known)
    diagf(a, ETL_SEV_WARNING, 0, "data sources",
          "data source %s is not in the workspace's list: tables read through it get an "
          "unknown database service (\"*\")",
          id);
  return NULL;
}

struct edge_set {
  struct mode_strset ids;
};

/* A query's column sources grouped by table (a counting sort), so that each table's edge
 * reads only its own: a query of many tables and many columns stays linear. */
struct by_table {
  size_t *start; /* owned: table t's entries are at [start[t], start[t + 1]) */
  struct {
    size_t column, source;
  } *e; /* owned; in column order within a table */
};

static int by_table_build(const struct mode_lineage *l, struct by_table *bt) {
  size_t total = 0;
  for (size_t i = 0; i < l->n_columns; i++)
    total += l->columns[i].n_sources;
  bt->start = calloc(l->n_tables + 2, sizeof *bt->start);
  bt->e = calloc(total ? total : 1, sizeof *bt->e);
  if (bt->start == NULL || bt->e == NULL)
    return -1;
  for (size_t i = 0; i < l->n_columns; i++)
    for (size_t k = 0; k < l->columns[i].n_sources; k++)
      bt->start[l->columns[i].sources[k].table + 2]++;
  for (size_t t = 2; t < l->n_tables + 2; t++)
    bt->start[t] += bt->start[t - 1];
  for (size_t i = 0; i < l->n_columns; i++)
    for (size_t k = 0; k < l->columns[i].n_sources; k++) {
      size_t at = bt->start[l->columns[i].sources[k].table + 1]++;
      bt->e[at].column = i;
      bt->e[at].source = k;
    }
  return 0;
}

static void by_table_free(struct by_table *bt) {
  free(bt->start);
  free(bt->e);
}

/* lineageDetails.columnsLineage of the edge from table `table` of l into data model to_fqn:
 * one entry per model column that reads that table (docs/entities.md). *out and its strings
 * are owned by the caller (free_column_edges with *n_out). Returns 0, or -1 on OOM. */
static int column_edges(const struct mode_lineage *l, const struct by_table *bt, size_t table,
                        const char *to_fqn, struct mode_column_edge **out, size_t *n_out) {
  const char *from_fqn = l->tables[table].fqn;
  size_t b = bt->start[table], e = bt->start[table + 1], n = 0;
  struct mode_column_edge *v = calloc(e > b ? e - b : 1, sizeof *v);
  *out = v;
  *n_out = 0;
  if (v == NULL)
    return -1;
  for (size_t i = b; i < e; i++) {
    const struct mode_lineage_column *c = &l->columns[bt->e[i].column];
    if (i == b || bt->e[i].column != bt->e[i - 1].column) {
      *n_out = ++n;
      size_t run = 1;
      while (i + run < e && bt->e[i + run].column == bt->e[i].column)
        run++;
      if ((v[n - 1].to_column = mode_asprintf("%s.%s", to_fqn, c->name)) == NULL ||
          (v[n - 1].from_columns = calloc(run, sizeof *v[n - 1].from_columns)) == NULL)
        return -1;
    }
    struct mode_column_edge *d = &v[n - 1];
    d->from_columns[d->n_from] =
        mode_asprintf("%s.%s", from_fqn, c->sources[bt->e[i].source].column);
    if (d->from_columns[d->n_from++] == NULL)
      return -1;
  }
  return 0;
}

static void free_column_edges(struct mode_column_edge *v, size_t n) {
  for (size_t i = 0; v && i < n; i++) {
    for (size_t k = 0; k < v[i].n_from; k++)
      free(v[i].from_columns[k]);
    free(v[i].from_columns);
    free(v[i].to_column);
  }
  free(v);
}

/* Emits one edge, once per run's report; from table `table` of l when l is given, with its
 * column lineage when bt is given too. */
static void emit_edge(struct mode_assembler *a, struct edge_set *seen, const char *from_type,
                      const char *from_fqn, const char *to_type, const char *to_fqn,
                      const char *sql, const struct mode_lineage *l, size_t table,
                      const struct by_table *bt) {
  char *id = mode_asprintf("%s -> %s", from_fqn, to_fqn);
  if (id == NULL || mode_strset_add(&seen->ids, id) != 1) {
    free(id);
    return;
  }
  free(id);
  struct mode_table_end end;
  struct mode_column_edge *cols = NULL;
  size_t n_cols = 0;
  if (l) {
    const struct mode_lineage_table *t = &l->tables[table];
    end = (struct mode_table_end){t->service, t->database, t->schema, t->name};
    if (bt && column_edges(l, bt, table, to_fqn, &cols, &n_cols) != 0) {
      free_column_edges(cols, n_cols);
      emit(a, NULL);
      return;
    }
  }
  emit(a, mode_entity_lineage_columns(from_type, from_fqn, to_type, to_fqn, sql, l ? &end : NULL,
                                      cols, n_cols));
  free_column_edges(cols, n_cols);
}

/* A query's lineage, or -1 after a warning naming the query. */
static int lineage_of_query(struct mode_assembler *a, const struct mode_report *r,
                            const struct mode_query *q, struct mode_lineage *l) {
  char err[256];
  const struct mode_data_source *ds = find_source(a, q->data_source_id);
  if (mode_lineage_of(a->cfg, a->defs, ds, q->raw_query, a->cancel, l, err, sizeof err) == 0)
    return 0;
  char item[64];
  snprintf(item, sizeof item, "query %s", q->token);
  diagf(a, ETL_SEV_WARNING, 0, item, "of report %s: lineage skipped: %s", r->token, err);
  return -1;
}

/* The lineage of each of a report's queries, computed once: a query data model's columns
 * and its edges come from the same run of the SQL library. */
struct lineages {
  struct mode_lineage *l; /* owned, one per query */
  signed char *state;     /* owned: 0 not computed, 1 computed, -1 failed */
};

static const struct mode_lineage *lineage_cached(struct mode_assembler *a,
                                                 const struct mode_report *r, struct lineages *ls,
                                                 size_t i) {
  if (ls->state[i] == 0)
    ls->state[i] = lineage_of_query(a, r, &r->queries[i], &ls->l[i]) == 0 ? 1 : -1;
  return ls->state[i] == 1 ? &ls->l[i] : NULL;
}

static int lineages_init(struct lineages *ls, size_t n) {
  ls->l = calloc(n ? n : 1, sizeof *ls->l);
  ls->state = calloc(n ? n : 1, sizeof *ls->state);
  return ls->l && ls->state ? 0 : -1;
}

static void lineages_clear(struct lineages *ls, size_t n) {
  for (size_t i = 0; ls->l && i < n; i++)
    mode_lineage_clear(&ls->l[i]);
  free(ls->l);
  free(ls->state);
}

/* Emits the table -> `to` edges of one query's lineage. Output stays linear in the query's
 * size (see MODE_LINEAGE_SQL_MAX): edges into a data model carry no SQL (and carry column
 * lineage when with_columns), edges into a dashboard an excerpt while the budget lasts. */
static void query_edges(struct mode_assembler *a, const struct mode_lineage *l,
                        const char *to_type, const char *to_fqn, int with_columns,
                        struct edge_set *seen) {
  char *excerpt = NULL;
  if (strcmp(to_type, "dashboardDataModel") != 0 &&
      (excerpt = mode_lineage_sql_excerpt(l->sql, MODE_LINEAGE_SQL_MAX)) == NULL)
    emit(a, NULL);
  struct by_table bt = {0};
  int columns = with_columns && strcmp(to_type, "dashboardDataModel") == 0 && l->n_columns;
  if (columns && by_table_build(l, &bt) != 0) {
    emit(a, NULL);
    columns = 0;
  }
  size_t budget = MODE_LINEAGE_SQL_BUDGET;
  for (size_t i = 0; i < l->n_tables; i++) {
    size_t cost = excerpt ? strlen(excerpt) : 0;
    const char *sql = excerpt && cost <= budget ? excerpt : NULL;
    emit_edge(a, seen, "table", l->tables[i].fqn, to_type, to_fqn, sql, l, i,
              columns ? &bt : NULL);
    if (sql)
      budget -= cost;
  }
  by_table_free(&bt);
  free(excerpt);
}

/* A data model's columns from a lineage (pointing into it), or NULL/0 without one. */
static struct mode_model_column *model_columns(const struct mode_lineage *l, size_t *n) {
  *n = 0;
  if (l == NULL || l->n_columns == 0)
    return NULL;
  struct mode_model_column *c = calloc(l->n_columns, sizeof *c);
  if (c == NULL)
    return NULL;
  for (size_t i = 0; i < l->n_columns; i++)
    c[i] = (struct mode_model_column){l->columns[i].name, l->columns[i].data_type,
                                      l->columns[i].data_type_display, l->columns[i].data_length};
  *n = l->n_columns;
  return c;
}

static char *fqn2(struct mode_assembler *a, const char *name) {
  const char *parts[2] = {a->ectx.service, name};
  return mode_fqn(parts, 2);
}

static char *model_fqn(struct mode_assembler *a, const char *name) {
  return mode_model_fqn(a->ectx.service, name);
}

static void finalize_dataset(struct mode_assembler *a, const struct mode_report *r) {
  if (r->queries_lost || !mode_strset_add(&a->seen_models, r->token))
    return;
  struct mode_buf sql = {0};
  for (size_t i = 0; i < r->n_queries; i++) {
    const char *raw = r->queries[i].raw_query ? r->queries[i].raw_query : "";
    if (i > 0)
      mode_buf_append(&sql, ";\n", 2);
    mode_buf_append(&sql, raw, strlen(raw));
  }
  /* The dataset's columns are its last query's result (a dataset is usually one query). */
  struct lineages ls = {0};
  size_t last = (size_t)-1, n_cols = 0;
  if (lineages_init(&ls, r->n_queries) != 0) {
    emit(a, NULL);
    goto out;
  }
  for (size_t i = 0; i < r->n_queries; i++) {
    const struct mode_lineage *l = lineage_cached(a, r, &ls, i);
    if (l && l->n_columns)
      last = i;
  }
  struct mode_model_column *cols = model_columns(last != (size_t)-1 ? &ls.l[last] : NULL, &n_cols);
  emit(a, mode_entity_datamodel_columns(&a->ectx, r->token, r->name, sql.data ? sql.data : "",
                                        r->space_name, cols, n_cols));
  free(cols);
  char *fqn = model_fqn(a, r->token);
  struct edge_set seen = {0};
  for (size_t i = 0; fqn && i < r->n_queries; i++)
    if (ls.state[i] == 1)
      query_edges(a, &ls.l[i], "dashboardDataModel", fqn, i == last, &seen);
  mode_strset_clear(&seen.ids);
  free(fqn);
out:
  lineages_clear(&ls, r->n_queries);
  mode_buf_free(&sql);
}

/* The columns of query q's data model: its SQL result's columns (from l, which may be NULL), in
 * order, then each field its charts show that the SQL did not name (compared ignoring case), of
 * unknown type, in the order the charts list them. Returns a malloc'd array of borrowed names
 * with their count in *n (NULL and 0 when there are none), or NULL with *n == (size_t)-1 on
 * OOM. */
static struct mode_model_column *query_model_columns(const struct mode_report *r, size_t q,
                                                     const struct mode_lineage *l, size_t *n) {
  size_t cap = l ? l->n_columns : 0, k = 0;
  *n = 0;
  for (size_t i = 0; i < r->n_charts; i++)
    cap += r->charts[i].query_pos == q ? r->charts[i].n_fields : 0;
  if (cap == 0)
    return NULL;
  struct mode_model_column *cols = calloc(cap, sizeof *cols);
  if (cols == NULL) {
    *n = (size_t)-1;
    return NULL;
  }
  for (size_t i = 0; l && i < l->n_columns; i++)
    cols[k++] = (struct mode_model_column){l->columns[i].name, l->columns[i].data_type,
                                           l->columns[i].data_type_display,
                                           l->columns[i].data_length};
  for (size_t i = 0; i < r->n_charts; i++) {
    const struct mode_chart *ch = &r->charts[i];
    for (size_t f = 0; ch->query_pos == q && f < ch->n_fields; f++) {
      int dup = 0;
      for (size_t j = 0; j < k && !dup; j++)
        dup = strcasecmp(cols[j].name, ch->fields[f]) == 0;
      if (!dup)
        cols[k++] = (struct mode_model_column){ch->fields[f], NULL, NULL, 0};
    }
  }
  *n = k;
  return cols;
}

static void emit_query_model(struct mode_assembler *a, const struct mode_report *r, size_t q,
                             const struct mode_lineage *l) {
  size_t n = 0;
  struct mode_model_column *cols = query_model_columns(r, q, l, &n);
  if (n == (size_t)-1) {
    emit(a, NULL);
    return;
  }
  const struct mode_query *qu = &r->queries[q];
  emit(a, mode_entity_datamodel_columns(&a->ectx, qu->token, qu->name, qu->raw_query,
                                        r->space_name, cols, n));
  free(cols);
}

static void finalize_report(struct mode_assembler *a, const struct mode_report *r) {
  const struct mode_owner_entry *oe = r->creator ? mode_owners_find(a->owners, r->creator) : NULL;
  struct mode_user creator_only = {r->creator, NULL, NULL};
  const struct mode_user *owner = oe ? &oe->user : (r->creator ? &creator_only : NULL);
  size_t cap = r->n_charts + r->n_queries + r->n_imported + 1;
  char **charts = calloc(cap, sizeof *charts), **models = calloc(cap, sizeof *models);
  char **qmodel = calloc(cap, sizeof *qmodel); /* FQN of query i's data model, or NULL */
  size_t *chart_of = calloc(cap, sizeof *chart_of); /* charts[k] is r->charts[chart_of[k]] */
  size_t n_charts = 0, n_models = 0;
  struct edge_set seen = {0};
  struct lineages ls = {0};
  char *dash = fqn2(a, r->token);
  if (charts == NULL || models == NULL || qmodel == NULL || chart_of == NULL || dash == NULL ||
      lineages_init(&ls, r->n_queries) != 0) {
    emit(a, NULL);
    goto out;
  }
  for (size_t i = 0; a->cfg->include_data_models && i < r->n_queries; i++) {
    const struct mode_query *q = &r->queries[i];
    if (!mode_filter_allows(&a->cfg->data_models, q->name ? q->name : q->token)) {
      if (a->filtered)
        a->filtered(a->ctx);
      continue;
    }
    if ((qmodel[i] = model_fqn(a, q->token)) == NULL)
      emit(a, NULL);
  }
  for (size_t i = 0; i < r->n_charts; i++) {
    const struct mode_chart *ch = &r->charts[i];
    if (!mode_filter_allows(&a->cfg->charts, ch->title ? ch->title : "")) {
      if (a->filtered)
        a->filtered(a->ctx);
      continue;
    }
    if (mode_strset_add(&a->seen_charts, ch->token) != 1)
      continue;
    int has_query = ch->query_pos < r->n_queries;
    emit(a, mode_entity_chart(&a->ectx, r, ch, owner,
                              has_query ? r->queries[ch->query_pos].token : NULL,
                              has_query ? qmodel[ch->query_pos] : NULL));
    if ((charts[n_charts] = fqn2(a, ch->token)) != NULL)
      chart_of[n_charts++] = i;
  }
  for (size_t i = 0; i < r->n_queries; i++) {
    if (qmodel[i] == NULL || mode_strset_add(&a->seen_models, r->queries[i].token) != 1)
      continue;
    emit_query_model(a, r, i, lineage_cached(a, r, &ls, i));
    if ((models[n_models] = strdup(qmodel[i])) != NULL)
      n_models++;
  }
  for (size_t i = 0; a->cfg->include_data_models && i < r->n_imported; i++)
    if ((models[n_models] = model_fqn(a, r->imported[i])) != NULL)
      n_models++;
  /* A report whose queries or some charts could not be fetched (an error already counted as
   * a lost item) gives no dashboard: its chart and data model lists would be short, and a sink
   * would overwrite the complete dashboard it holds with them. */
  if (!r->queries_lost && !r->charts_lost)
    emit(a, mode_entity_dashboard(&a->ectx, r, charts, n_charts, models, n_models, owner));
  for (size_t i = 0; i < r->n_queries; i++) {
    const struct mode_lineage *l = lineage_cached(a, r, &ls, i);
    if (qmodel[i]) {
      if (l)
        query_edges(a, l, "dashboardDataModel", qmodel[i], 1, &seen);
      emit_edge(a, &seen, "dashboardDataModel", qmodel[i], "dashboard", dash, NULL, NULL, 0, NULL);
    } else if (l) {
      query_edges(a, l, "dashboard", dash, 0, &seen);
    }
  }
  /* Data model -> chart: the query each chart draws (its fields are the chart's `query`). */
  for (size_t k = 0; k < n_charts; k++) {
    size_t qp = r->charts[chart_of[k]].query_pos;
    if (qp < r->n_queries && qmodel[qp])
      emit_edge(a, &seen, "dashboardDataModel", qmodel[qp], "chart", charts[k], NULL, NULL, 0,
                NULL);
  }
  for (size_t i = 0; a->cfg->include_data_models && i < r->n_imported; i++) {
    char *m = model_fqn(a, r->imported[i]);
    if (m)
      emit_edge(a, &seen, "dashboardDataModel", m, "dashboard", dash, NULL, NULL, 0, NULL);
    free(m);
  }
  if (r->view_count >= 0)
    emit(a, mode_entity_usage(&a->ectx, r->token, r->view_count, a->today));
out:
  for (size_t i = 0; charts && i < n_charts; i++)
    free(charts[i]);
  for (size_t i = 0; models && i < n_models; i++)
    free(models[i]);
  for (size_t i = 0; qmodel && i < r->n_queries; i++)
    free(qmodel[i]);
  free(charts), free(models), free(qmodel), free(chart_of), free(dash);
  lineages_clear(&ls, r->n_queries);
  mode_strset_clear(&seen.ids);
}

void mode_assemble(struct mode_assembler *a, const struct mode_report *r) {
  if (r->gone)
    return;
  if (r->is_dataset)
    finalize_dataset(a, r);
  else
    finalize_report(a, r);
}

void mode_assembler_clear(struct mode_assembler *a) {
  if (a == NULL)
    return;
  mode_strset_clear(&a->seen_charts);
  mode_strset_clear(&a->seen_models);
  mode_strset_clear(&a->warned_sources);
}
