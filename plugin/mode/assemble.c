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

static const struct mode_data_source *find_source(struct mode_assembler *a, const char *id) {
  if (id == NULL)
    return NULL;
  for (size_t i = 0; i < a->n_sources; i++)
    if (a->sources[i].id && strcmp(a->sources[i].id, id) == 0)
      return &a->sources[i];
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

static void emit_edge(struct mode_assembler *a, struct edge_set *seen, const char *from_type,
                      const char *from_fqn, const char *to_type, const char *to_fqn,
                      const char *sql, const struct mode_lineage_table *t) {
  char *id = mode_asprintf("%s -> %s", from_fqn, to_fqn);
  if (id == NULL || mode_strset_add(&seen->ids, id) != 1) {
    free(id);
    return;
  }
  free(id);
  struct mode_table_end end;
  if (t)
    end = (struct mode_table_end){t->service, t->database, t->schema, t->name};
  emit(a, mode_entity_lineage(from_type, from_fqn, to_type, to_fqn, sql, t ? &end : NULL));
}

/* Emits the table -> `to` edges of one query. Output stays linear in the query's size (see
 * MODE_LINEAGE_SQL_MAX): edges into a data model carry no SQL, edges into a dashboard an
 * excerpt while the query's budget lasts. */
static void query_lineage(struct mode_assembler *a, const struct mode_report *r,
                          const struct mode_query *q, const char *to_type, const char *to_fqn,
                          struct edge_set *seen) {
  struct mode_lineage l;
  char err[256];
  const struct mode_data_source *ds = find_source(a, q->data_source_id);
  if (mode_lineage_of(a->cfg, a->defs, ds, q->raw_query, a->cancel, &l, err, sizeof err) != 0) {
    char item[64];
    snprintf(item, sizeof item, "query %s", q->token);
    diagf(a, ETL_SEV_WARNING, 0, item, "of report %s: lineage skipped: %s", r->token, err);
    return;
  }
  char *excerpt = NULL;
  if (strcmp(to_type, "dashboardDataModel") != 0 &&
      (excerpt = mode_lineage_sql_excerpt(l.sql, MODE_LINEAGE_SQL_MAX)) == NULL)
    emit(a, NULL);
  size_t budget = MODE_LINEAGE_SQL_BUDGET;
  for (size_t i = 0; i < l.n_tables; i++) {
    size_t cost = excerpt ? strlen(excerpt) : 0;
    const char *sql = excerpt && cost <= budget ? excerpt : NULL;
    emit_edge(a, seen, "table", l.tables[i].fqn, to_type, to_fqn, sql, &l.tables[i]);
    if (sql)
      budget -= cost;
  }
  free(excerpt);
  mode_lineage_clear(&l);
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
  emit(a, mode_entity_datamodel(&a->ectx, r->token, r->name, sql.data ? sql.data : "",
                                r->space_name, NULL, 0));
  mode_buf_free(&sql);
  char *fqn = model_fqn(a, r->token);
  struct edge_set seen = {0};
  for (size_t i = 0; fqn && i < r->n_queries; i++)
    query_lineage(a, r, &r->queries[i], "dashboardDataModel", fqn, &seen);
  mode_strset_clear(&seen.ids);
  free(fqn);
}

/* The columns of query q's data model: the fields its charts show, each once (names compare
 * ignoring case), in the order the charts list them. *cols is a malloc'd array of borrowed
 * names. Returns the count, or (size_t)-1 on OOM. */
static size_t query_columns(const struct mode_report *r, size_t q, const char ***cols) {
  size_t n = 0, cap = 0;
  *cols = NULL;
  for (size_t i = 0; i < r->n_charts; i++) {
    const struct mode_chart *ch = &r->charts[i];
    cap += ch->query_pos == q ? ch->n_fields : 0;
  }
  if (cap == 0)
    return 0;
  if ((*cols = calloc(cap, sizeof **cols)) == NULL)
    return (size_t)-1;
  for (size_t i = 0; i < r->n_charts; i++) {
    const struct mode_chart *ch = &r->charts[i];
    for (size_t f = 0; ch->query_pos == q && f < ch->n_fields; f++) {
      int dup = 0;
      for (size_t k = 0; k < n && !dup; k++)
        dup = strcasecmp((*cols)[k], ch->fields[f]) == 0;
      if (!dup)
        (*cols)[n++] = ch->fields[f];
    }
  }
  return n;
}

static void emit_query_model(struct mode_assembler *a, const struct mode_report *r, size_t q) {
  const char **cols;
  size_t n = query_columns(r, q, &cols);
  if (n == (size_t)-1) {
    emit(a, NULL);
    return;
  }
  const struct mode_query *qu = &r->queries[q];
  emit(a, mode_entity_datamodel(&a->ectx, qu->token, qu->name, qu->raw_query, r->space_name,
                                (char *const *)cols, n));
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
  char *dash = fqn2(a, r->token);
  if (charts == NULL || models == NULL || qmodel == NULL || chart_of == NULL || dash == NULL) {
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
    emit_query_model(a, r, i);
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
    const struct mode_query *q = &r->queries[i];
    if (qmodel[i]) {
      query_lineage(a, r, q, "dashboardDataModel", qmodel[i], &seen);
      emit_edge(a, &seen, "dashboardDataModel", qmodel[i], "dashboard", dash, NULL, NULL);
    } else {
      query_lineage(a, r, q, "dashboard", dash, &seen);
    }
  }
  /* Data model -> chart: the query each chart draws (its fields are the chart's `query`). */
  for (size_t k = 0; k < n_charts; k++) {
    size_t qp = r->charts[chart_of[k]].query_pos;
    if (qp < r->n_queries && qmodel[qp])
      emit_edge(a, &seen, "dashboardDataModel", qmodel[qp], "chart", charts[k], NULL, NULL);
  }
  for (size_t i = 0; a->cfg->include_data_models && i < r->n_imported; i++) {
    char *m = model_fqn(a, r->imported[i]);
    if (m)
      emit_edge(a, &seen, "dashboardDataModel", m, "dashboard", dash, NULL, NULL);
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
