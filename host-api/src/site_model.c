/*
 * site_model.c -- reads a sqlite catalog into the site's model (see site_model.h).
 *
 * One pass per kind over `entities`, each row's JSON parsed with yajl's tree parser; then the
 * arrays are sorted by FQN and the relations the pages need both ways (data model -> dashboards
 * that list it, data model -> tables it reads, table -> edges) are resolved by binary search.
 * Lineage records marked deleted are not read: the site shows what the catalog believes now.
 */
#include "config.h"

#include "site_model.h"

#include "catalog_read.h"
#include "log.h"
#include "site_names.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

/* What one load needs at hand: the open file, its path for messages, the log. */
struct reader {
  sqlite3 *db;
  const char *path;
  struct host_log *log;
  struct site_catalog *cat;
};

static char *dup_or_null(const char *s) {
  return s ? strdup(s) : NULL;
}

/* A string at path in node, or NULL. */
static const char *jstr(yajl_val node, const char **path) {
  yajl_val v = yajl_tree_get(node, path, yajl_t_string);
  return v ? YAJL_GET_STRING(v) : NULL;
}

static long long jint(yajl_val node, const char **path) {
  yajl_val v = yajl_tree_get(node, path, yajl_t_number);
  return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : -1;
}

/* Copies the strings at member (a path; {NULL}: the element itself) of each element of the
 * array at path; elements without one are skipped. 0, or -1 on OOM. */
static int jstrs_at(yajl_val node, const char **path, const char **member, struct site_strs *out) {
  yajl_val a = yajl_tree_get(node, path, yajl_t_array);
  out->v = NULL;
  out->n = 0;
  if (!a || YAJL_GET_ARRAY(a)->len == 0)
    return 0;
  size_t len = YAJL_GET_ARRAY(a)->len;
  if (!(out->v = calloc(len, sizeof *out->v)))
    return -1;
  for (size_t i = 0; i < len; i++) {
    const char *s = jstr(YAJL_GET_ARRAY(a)->values[i], member);
    if (s && !(out->v[out->n++] = strdup(s)))
      return -1;
  }
  return 0;
}

/* The strings of the array at path (other values are skipped). 0, or -1 on OOM. */
static int jstrs(yajl_val node, const char **path, struct site_strs *out) {
  static const char *itself[] = {NULL};
  return jstrs_at(node, path, itself, out);
}

static void strs_free(struct site_strs *s) {
  for (size_t i = 0; i < s->n; i++)
    free(s->v[i]);
  free(s->v);
}

static int refs_add(struct site_refs *r, size_t index) {
  size_t *v = realloc(r->v, (r->n + 1) * sizeof *v);
  if (!v)
    return -1;
  v[r->n++] = index;
  r->v = v;
  return 0;
}

/* "<service>.<name>", the name wrapped in double quotes when it holds a '.'
 * (OpenMetadata's FullyQualifiedName.quoteName), with "model." between for data models. */
static char *make_fqn(const char *service, const char *middle, const char *name) {
  bool quote = strchr(name, '.') != NULL;
  size_t len = strlen(service) + strlen(middle) + strlen(name) + 4;
  char *fqn = malloc(len);
  if (fqn)
    snprintf(fqn, len, quote ? "%s.%s\"%s\"" : "%s.%s%s", service, middle, name);
  return fqn;
}

/* A catalog row's columns besides its JSON (borrowed from the statement). */
struct row {
  const char *source, *id, *deleted_at;
  bool deleted;
};

static const char *p_data_name[] = {"data", "name", NULL};
static const char *p_data_display[] = {"data", "displayName", NULL};
static const char *p_data_service[] = {"data", "service", NULL};

/* The fields every entity page names: source, id, fqn, name. */
static int read_identity(yajl_val j, const char *source, const char *id, const char *middle,
                         char **o_source, char **o_id, char **o_fqn, char **o_name) {
  const char *name = jstr(j, p_data_name), *service = jstr(j, p_data_service);
  const char *display = jstr(j, p_data_display);
  *o_source = strdup(source);
  *o_id = strdup(id);
  *o_fqn = make_fqn(service ? service : source, middle, name ? name : id);
  *o_name = strdup(display && *display ? display : name ? name : id);
  return *o_source && *o_id && *o_fqn && *o_name ? 0 : -1;
}

/* The owners' names. */
static int read_owners(yajl_val j, struct site_strs *out) {
  static const char *p_owners[] = {"owners", NULL};
  static const char *p_name[] = {"name", NULL};
  return jstrs_at(j, p_owners, p_name, out);
}

static int read_dashboard(yajl_val j, const struct row *row, void *item) {
  struct site_dashboard *d = item;
  static const char *p_desc[] = {"data", "description", NULL};
  static const char *p_url[] = {"data", "sourceUrl", NULL};
  static const char *p_project[] = {"data", "project", NULL};
  static const char *p_charts[] = {"data", "charts", NULL};
  static const char *p_models[] = {"data", "dataModels", NULL};
  static const char *p_created[] = {"extension", "createdAt", NULL};
  static const char *p_saved[] = {"extension", "lastSavedAt", NULL};
  static const char *p_run[] = {"extension", "lastRunAt", NULL};
  static const char *p_state[] = {"extension", "lastRunState", NULL};
  static const char *p_success[] = {"extension", "lastSuccessfulRunAt", NULL};
  static const char *p_creator[] = {"extension", "creator", NULL};
  static const char *p_views[] = {"extension", "viewCount", NULL};
  static const char *p_schedules[] = {"extension", "scheduleCount", NULL};
  d->deleted = row->deleted;
  d->deleted_at = dup_or_null(row->deleted_at);
  if (read_identity(j, row->source, row->id, "", &d->source, &d->id, &d->fqn, &d->name) != 0)
    return -1;
  d->description = dup_or_null(jstr(j, p_desc));
  d->url = dup_or_null(jstr(j, p_url));
  d->collection = dup_or_null(jstr(j, p_project));
  d->created_at = dup_or_null(jstr(j, p_created));
  d->last_saved_at = dup_or_null(jstr(j, p_saved));
  d->last_run_at = dup_or_null(jstr(j, p_run));
  d->last_run_state = dup_or_null(jstr(j, p_state));
  d->last_success_at = dup_or_null(jstr(j, p_success));
  d->creator = dup_or_null(jstr(j, p_creator));
  d->view_count = jint(j, p_views);
  d->schedule_count = jint(j, p_schedules);
  if (read_owners(j, &d->owners) != 0 || jstrs(j, p_charts, &d->charts) != 0 ||
      jstrs(j, p_models, &d->models) != 0)
    return -1;
  return 0;
}

static int read_chart(yajl_val j, const struct row *row, void *item) {
  struct site_chart *c = item;
  static const char *p_type[] = {"data", "chartType", NULL};
  static const char *p_url[] = {"data", "sourceUrl", NULL};
  static const char *p_model[] = {"query", "dataModel", NULL};
  static const char *p_fields[] = {"query", "fields", NULL};
  c->deleted = row->deleted;
  if (read_identity(j, row->source, row->id, "", &c->source, &c->id, &c->fqn, &c->name) != 0)
    return -1;
  c->type = dup_or_null(jstr(j, p_type));
  c->url = dup_or_null(jstr(j, p_url));
  c->model = dup_or_null(jstr(j, p_model));
  return jstrs(j, p_fields, &c->fields);
}

static int read_model(yajl_val j, const struct row *row, void *item) {
  struct site_model *m = item;
  static const char *p_sql[] = {"data", "sql", NULL};
  static const char *p_columns[] = {"data", "columns", NULL};
  static const char *p_name[] = {"name", NULL};
  static const char *p_display[] = {"dataTypeDisplay", NULL};
  static const char *p_type[] = {"dataType", NULL};
  m->deleted = row->deleted;
  if (read_identity(j, row->source, row->id, "model.", &m->source, &m->id, &m->fqn, &m->name) != 0)
    return -1;
  m->sql = dup_or_null(jstr(j, p_sql));
  yajl_val a = yajl_tree_get(j, p_columns, yajl_t_array);
  if (!a || YAJL_GET_ARRAY(a)->len == 0)
    return 0;
  size_t len = YAJL_GET_ARRAY(a)->len;
  if (!(m->columns = calloc(len, sizeof *m->columns)))
    return -1;
  for (size_t i = 0; i < len; i++) {
    yajl_val c = YAJL_GET_ARRAY(a)->values[i];
    const char *name = jstr(c, p_name), *type = jstr(c, p_display);
    if (!name)
      continue;
    struct site_column *col = &m->columns[m->n_columns++];
    col->name = strdup(name);
    col->type = dup_or_null(type ? type : jstr(c, p_type));
    if (!col->name)
      return -1;
  }
  return 0;
}

/* "<fqn>.<column>" -> "<column>"; a name without the prefix is kept whole. */
static char *short_column(const char *full, const char *fqn) {
  size_t len = strlen(fqn);
  if (strncmp(full, fqn, len) == 0 && full[len] == '.' && full[len + 1])
    return strdup(full + len + 1);
  return strdup(full);
}

static int read_colmaps(yajl_val j, struct site_edge *e) {
  static const char *p_lineage[] = {"data", "lineageDetails", "columnsLineage", NULL};
  static const char *p_from[] = {"fromColumns", NULL};
  static const char *p_to[] = {"toColumn", NULL};
  yajl_val a = yajl_tree_get(j, p_lineage, yajl_t_array);
  if (!a)
    return 0;
  size_t total = 0;
  for (size_t i = 0; i < YAJL_GET_ARRAY(a)->len; i++) {
    yajl_val f = yajl_tree_get(YAJL_GET_ARRAY(a)->values[i], p_from, yajl_t_array);
    total += f ? YAJL_GET_ARRAY(f)->len : 0;
  }
  if (total == 0 || !(e->cols = calloc(total, sizeof *e->cols)))
    return total == 0 ? 0 : -1;
  for (size_t i = 0; i < YAJL_GET_ARRAY(a)->len; i++) {
    yajl_val entry = YAJL_GET_ARRAY(a)->values[i];
    yajl_val f = yajl_tree_get(entry, p_from, yajl_t_array);
    const char *to = jstr(entry, p_to);
    for (size_t k = 0; to && f && k < YAJL_GET_ARRAY(f)->len; k++) {
      yajl_val from = YAJL_GET_ARRAY(f)->values[k];
      if (!YAJL_IS_STRING(from))
        continue;
      struct site_colmap *cm = &e->cols[e->n_cols++];
      cm->from = short_column(from->u.string, e->from_fqn);
      cm->to = short_column(to, e->to_fqn);
      if (!cm->from || !cm->to)
        return -1;
    }
  }
  return 0;
}

static int read_edge(yajl_val j, const struct row *row, void *item) {
  struct site_edge *e = item;
  (void)row;
  static const char *p_fk[] = {"data", "fromEntity", "type", NULL};
  static const char *p_ff[] = {"data", "fromEntity", "fullyQualifiedName", NULL};
  static const char *p_tk[] = {"data", "toEntity", "type", NULL};
  static const char *p_tf[] = {"data", "toEntity", "fullyQualifiedName", NULL};
  const char *fk = jstr(j, p_fk), *ff = jstr(j, p_ff), *tk = jstr(j, p_tk), *tf = jstr(j, p_tf);
  if (!fk || !ff || !tk || !tf)
    return 1; /* not an edge this site can draw */
  e->from_kind = strdup(fk);
  e->from_fqn = strdup(ff);
  e->to_kind = strdup(tk);
  e->to_fqn = strdup(tf);
  if (!e->from_kind || !e->from_fqn || !e->to_kind || !e->to_fqn)
    return -1;
  return read_colmaps(j, e);
}

/* Grows an array of elem-sized items to hold one more, zeroed; returns it or NULL. */
static void *grow(void **array, size_t *n, size_t elem) {
  char *v = realloc(*array, (*n + 1) * elem);
  if (!v)
    return NULL;
  *array = v;
  memset(v + *n * elem, 0, elem);
  return v + (*n)++ * elem;
}

static int oom(struct reader *r) {
  host_log_msg(r->log, ETL_SEV_ERROR, NULL, NULL, "catalog '%s': out of memory", r->path);
  return -1;
}

/* One kind's walk: where its items go and how a row becomes one. */
struct kind_walk {
  struct reader *r;
  const char *kind;
  void **array;
  size_t *n, elem;
  int (*read_row)(yajl_val, const struct row *, void *);
};

/* source id json deleted deleted_at: one item of the array from the row's JSON and columns. */
static int on_kind_row(void *ctx, sqlite3_stmt *st) {
  struct kind_walk *w = ctx;
  const char *source = (const char *)sqlite3_column_text(st, 0);
  const char *id = (const char *)sqlite3_column_text(st, 1);
  const char *json = (const char *)sqlite3_column_text(st, 2);
  struct row row = {.source = source ? source : "",
                    .id = id ? id : "",
                    .deleted = sqlite3_column_int(st, 3) != 0,
                    .deleted_at = (const char *)sqlite3_column_text(st, 4)};
  char err[256] = "";
  yajl_val j = json ? yajl_tree_parse(json, err, sizeof err) : NULL;
  if (!j || !YAJL_IS_OBJECT(j)) {
    host_log_msg(w->r->log, ETL_SEV_ERROR, NULL, NULL,
                 "catalog '%s': %s %s of source %s: bad JSON: %s", w->r->path, w->kind,
                 id ? id : "?", source ? source : "?", *err ? err : "not an object");
    yajl_tree_free(j);
    return -1;
  }
  void *item = grow(w->array, w->n, w->elem);
  int got = item ? w->read_row(j, &row, item) : -1;
  yajl_tree_free(j);
  if (got < 0)
    return oom(w->r);
  if (got == 1)
    (*w->n)--;
  return 0;
}

/* Reads every row of one kind: read_row fills a new, zeroed item of the array from the row's
 * JSON and columns; a row it returns 1 for (and allocated nothing for) is dropped. */
static int read_kind(struct reader *r, const char *kind, bool live_only, void **array, size_t *n,
                     size_t elem, int (*read_row)(yajl_val, const struct row *, void *)) {
  const char *sql = live_only ? "SELECT source, id, json, deleted, deleted_at FROM entities"
                                " WHERE kind = ?1 AND NOT deleted ORDER BY rowid"
                              : "SELECT source, id, json, deleted, deleted_at FROM entities"
                                " WHERE kind = ?1 ORDER BY rowid";
  struct kind_walk w = {r, kind, array, n, elem, read_row};
  return host_catalog_each_row(r->db, r->path, r->log, sql, kind, on_kind_row, &w, "read");
}

/* source run_id started finished complete */
static int on_run(void *ctx, sqlite3_stmt *st) {
  struct reader *r = ctx;
  struct site_catalog *cat = r->cat;
  struct site_run *run = grow((void **)&cat->runs, &cat->n_runs, sizeof *run);
  if (!run)
    return oom(r);
  run->source = dup_or_null((const char *)sqlite3_column_text(st, 0));
  run->run_id = sqlite3_column_int64(st, 1);
  run->started = dup_or_null((const char *)sqlite3_column_text(st, 2));
  run->finished = dup_or_null((const char *)sqlite3_column_text(st, 3));
  run->complete = sqlite3_column_int(st, 4);
  return 0;
}

/* The last run of each source, and whether it deleted each dashboard. */
static int read_runs(struct reader *r) {
  static const char sql[] =
      "SELECT source, run_id, started, finished, complete FROM runs r"
      " WHERE run_id = (SELECT max(run_id) FROM runs WHERE source = r.source) ORDER BY source";
  return host_catalog_each_row(r->db, r->path, r->log, sql, NULL, on_run, r, "read runs");
}

/* source id of a dashboard deleted by the last run of its source */
static int on_lost(void *ctx, sqlite3_stmt *st) {
  struct reader *r = ctx;
  const char *source = (const char *)sqlite3_column_text(st, 0);
  const char *id = (const char *)sqlite3_column_text(st, 1);
  for (size_t i = 0; source && id && i < r->cat->n_dashboards; i++) {
    struct site_dashboard *d = &r->cat->dashboards[i];
    if (strcmp(d->source, source) == 0 && strcmp(d->id, id) == 0)
      d->lost_last_run = true;
  }
  return 0;
}

/* Dashboards the last run of their source marked deleted (changed_run is the marking run). */
static int mark_lost(struct reader *r) {
  static const char sql[] =
      "SELECT e.source, e.id FROM entities e WHERE e.kind = 'dashboard' AND e.deleted"
      " AND e.changed_run = (SELECT max(run_id) FROM runs WHERE source = e.source)";
  return host_catalog_each_row(r->db, r->path, r->log, sql, NULL, on_lost, r, "read deletions");
}

/* qsort/bsearch by the fqn every item struct starts its FQN member at a different offset;
 * these compare the item's own member. */
static int cmp_dashboard(const void *a, const void *b) {
  return strcmp(((const struct site_dashboard *)a)->fqn, ((const struct site_dashboard *)b)->fqn);
}
static int cmp_chart(const void *a, const void *b) {
  return strcmp(((const struct site_chart *)a)->fqn, ((const struct site_chart *)b)->fqn);
}
static int cmp_model(const void *a, const void *b) {
  return strcmp(((const struct site_model *)a)->fqn, ((const struct site_model *)b)->fqn);
}
static int cmp_table(const void *a, const void *b) {
  return strcmp(((const struct site_table *)a)->fqn, ((const struct site_table *)b)->fqn);
}
static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

const struct site_dashboard *site_find_dashboard(const struct site_catalog *cat, const char *fqn) {
  struct site_dashboard key = {.fqn = (char *)fqn};
  return bsearch(&key, cat->dashboards, cat->n_dashboards, sizeof key, cmp_dashboard);
}
const struct site_chart *site_find_chart(const struct site_catalog *cat, const char *fqn) {
  struct site_chart key = {.fqn = (char *)fqn};
  return bsearch(&key, cat->charts, cat->n_charts, sizeof key, cmp_chart);
}
const struct site_model *site_find_model(const struct site_catalog *cat, const char *fqn) {
  struct site_model key = {.fqn = (char *)fqn};
  return bsearch(&key, cat->models, cat->n_models, sizeof key, cmp_model);
}
const struct site_table *site_find_table(const struct site_catalog *cat, const char *fqn) {
  struct site_table key = {.fqn = (char *)fqn};
  return bsearch(&key, cat->tables, cat->n_tables, sizeof key, cmp_table);
}

bool site_model_unresolved(const struct site_model *m) {
  return !m->deleted && m->sql && m->sql[strspn(m->sql, " \t\r\n")] && m->upstream.n == 0;
}

/* The distinct from-ends of table edges become the tables. */
static int collect_tables(struct site_catalog *cat) {
  char **fqns = calloc(cat->n_edges ? cat->n_edges : 1, sizeof *fqns); /* borrowed strings */
  size_t n = 0;
  if (!fqns)
    return -1;
  for (size_t i = 0; i < cat->n_edges; i++)
    if (strcmp(cat->edges[i].from_kind, "table") == 0)
      fqns[n++] = cat->edges[i].from_fqn;
  qsort(fqns, n, sizeof *fqns, cmp_str);
  int status = -1;
  if (!(cat->tables = calloc(n ? n : 1, sizeof *cat->tables)))
    goto out;
  for (size_t i = 0; i < n; i++)
    if (cat->n_tables == 0 || strcmp(cat->tables[cat->n_tables - 1].fqn, fqns[i]) != 0)
      if (!(cat->tables[cat->n_tables++].fqn = strdup(fqns[i])))
        goto out;
  status = 0;
out:
  free(fqns);
  return status;
}

/* The relations both ways: table -> edges, model -> upstream edges, model -> dashboards. */
static int link(struct site_catalog *cat) {
  for (size_t i = 0; i < cat->n_edges; i++) {
    const struct site_edge *e = &cat->edges[i];
    if (strcmp(e->from_kind, "table") != 0 || strcmp(e->to_kind, "dashboardDataModel") != 0)
      continue;
    struct site_table *t = (struct site_table *)site_find_table(cat, e->from_fqn);
    struct site_model *m = (struct site_model *)site_find_model(cat, e->to_fqn);
    if ((t && refs_add(&t->edges, i) != 0) || (m && refs_add(&m->upstream, i) != 0))
      return -1;
  }
  for (size_t i = 0; i < cat->n_dashboards; i++)
    for (size_t k = 0; k < cat->dashboards[i].models.n; k++) {
      struct site_model *m =
          (struct site_model *)site_find_model(cat, cat->dashboards[i].models.v[k]);
      if (m && refs_add(&m->dashboards, i) != 0)
        return -1;
    }
  return 0;
}

static int assign_pages(struct site_catalog *cat) {
  size_t n = cat->n_dashboards > cat->n_tables ? cat->n_dashboards : cat->n_tables;
  const char **keys = calloc(n ? n : 1, sizeof *keys);
  char **names = calloc(n ? n : 1, sizeof *names);
  int status = -1;
  if (!keys || !names)
    goto out;
  for (size_t i = 0; i < cat->n_dashboards; i++)
    keys[i] = cat->dashboards[i].fqn;
  if (site_page_names("d-", keys, cat->n_dashboards, names) != 0)
    goto out;
  for (size_t i = 0; i < cat->n_dashboards; i++)
    cat->dashboards[i].page = names[i];
  for (size_t i = 0; i < cat->n_tables; i++)
    keys[i] = cat->tables[i].fqn;
  if (site_page_names("t-", keys, cat->n_tables, names) != 0)
    goto out;
  for (size_t i = 0; i < cat->n_tables; i++)
    cat->tables[i].page = names[i];
  status = 0;
out:
  free(keys);
  free(names);
  return status;
}

int site_catalog_load(const char *path, struct host_log *log, struct site_catalog **out) {
  struct reader r = {.path = path, .log = log};
  int status = -1;
  *out = NULL;
  if (!(r.cat = calloc(1, sizeof *r.cat)))
    goto out;
  if (host_catalog_open(path, log, &r.db) != 0)
    goto out;
  struct site_catalog *cat = r.cat;
  if (read_kind(&r, "dashboard", false, (void **)&cat->dashboards, &cat->n_dashboards,
                sizeof *cat->dashboards, read_dashboard) != 0 ||
      read_kind(&r, "chart", false, (void **)&cat->charts, &cat->n_charts, sizeof *cat->charts,
                read_chart) != 0 ||
      read_kind(&r, "dashboardDataModel", false, (void **)&cat->models, &cat->n_models,
                sizeof *cat->models, read_model) != 0 ||
      read_kind(&r, "lineage", true, (void **)&cat->edges, &cat->n_edges, sizeof *cat->edges,
                read_edge) != 0 ||
      read_runs(&r) != 0 || mark_lost(&r) != 0)
    goto out;
  qsort(cat->dashboards, cat->n_dashboards, sizeof *cat->dashboards, cmp_dashboard);
  qsort(cat->charts, cat->n_charts, sizeof *cat->charts, cmp_chart);
  qsort(cat->models, cat->n_models, sizeof *cat->models, cmp_model);
  if (collect_tables(cat) != 0 || link(cat) != 0 || assign_pages(cat) != 0) {
    oom(&r);
    goto out;
  }
  *out = r.cat;
  r.cat = NULL;
  status = 0;
out:
  if (r.db)
    sqlite3_close(r.db);
  site_catalog_free(&r.cat);
  return status;
}

void site_catalog_free(struct site_catalog **catp) {
  struct site_catalog *cat = catp ? *catp : NULL;
  if (!cat)
    return;
  for (size_t i = 0; i < cat->n_dashboards; i++) {
    struct site_dashboard *d = &cat->dashboards[i];
    char *strings[] = {d->source,
                       d->id,
                       d->fqn,
                       d->name,
                       d->description,
                       d->url,
                       d->collection,
                       d->created_at,
                       d->last_saved_at,
                       d->last_run_at,
                       d->last_run_state,
                       d->last_success_at,
                       d->creator,
                       d->deleted_at,
                       d->page};
    for (size_t k = 0; k < sizeof strings / sizeof *strings; k++)
      free(strings[k]);
    strs_free(&d->owners);
    strs_free(&d->charts);
    strs_free(&d->models);
  }
  for (size_t i = 0; i < cat->n_charts; i++) {
    struct site_chart *c = &cat->charts[i];
    char *strings[] = {c->source, c->id, c->fqn, c->name, c->type, c->url, c->model};
    for (size_t k = 0; k < sizeof strings / sizeof *strings; k++)
      free(strings[k]);
    strs_free(&c->fields);
  }
  for (size_t i = 0; i < cat->n_models; i++) {
    struct site_model *m = &cat->models[i];
    char *strings[] = {m->source, m->id, m->fqn, m->name, m->sql};
    for (size_t k = 0; k < sizeof strings / sizeof *strings; k++)
      free(strings[k]);
    for (size_t k = 0; k < m->n_columns; k++) {
      free(m->columns[k].name);
      free(m->columns[k].type);
    }
    free(m->columns);
    free(m->dashboards.v);
    free(m->upstream.v);
  }
  for (size_t i = 0; i < cat->n_edges; i++) {
    struct site_edge *e = &cat->edges[i];
    free(e->from_kind);
    free(e->from_fqn);
    free(e->to_kind);
    free(e->to_fqn);
    for (size_t k = 0; k < e->n_cols; k++) {
      free(e->cols[k].from);
      free(e->cols[k].to);
    }
    free(e->cols);
  }
  for (size_t i = 0; i < cat->n_tables; i++) {
    free(cat->tables[i].fqn);
    free(cat->tables[i].page);
    free(cat->tables[i].edges.v);
  }
  for (size_t i = 0; i < cat->n_runs; i++) {
    free(cat->runs[i].source);
    free(cat->runs[i].started);
    free(cat->runs[i].finished);
  }
  free(cat->dashboards);
  free(cat->charts);
  free(cat->models);
  free(cat->edges);
  free(cat->tables);
  free(cat->runs);
  free(cat);
  *catp = NULL;
}
