/*
 * The ground truth walks the same model the server renders: spaces in listing order (custom,
 * then personal), each space's reports then its datasets. Deleted reports (--mutate) are not in
 * any listing, so they are not in the truth either.
 */
#include "config.h"

#include "groundtruth.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <yajl/yajl_gen.h>

static void s(yajl_gen g, const char *v) {
  if (v)
    yajl_gen_string(g, (const unsigned char *)v, strlen(v));
  else
    yajl_gen_null(g);
}

static void kv(yajl_gen g, const char *k, const char *v) {
  s(g, k);
  s(g, v);
}

static void kn(yajl_gen g, const char *k, long long v) {
  s(g, k);
  yajl_gen_integer(g, v);
}

static void kb(yajl_gen g, const char *k, int v) {
  s(g, k);
  yajl_gen_bool(g, v);
}

/* Where a correct connector places a data source's tables in OpenMetadata (docs/mode.md,
 * "Warehouses"), written out independently of the connector's table: BigQuery's project is
 * `host`; MySQL's database is "default" and its `database` the schema. */
static const char *om_database(const struct sim_data_source *d) {
  if (strcmp(d->adapter, "jdbc:bigquery") == 0)
    return d->host;
  if (strcmp(d->adapter, "jdbc:mysql") == 0)
    return "default";
  return d->database;
}

static const char *om_schema(const struct sim_data_source *d) {
  return strcmp(d->adapter, "jdbc:mysql") == 0 ? d->database : NULL;
}

static void write_query(yajl_gen g, const struct sim_workspace *ws, const struct sim_query *q) {
  yajl_gen_map_open(g);
  kv(g, "token", q->token);
  kv(g, "name", q->name);
  kn(g, "data_source_id", ws->data_sources[q->data_source].id);
  s(g, "tables");
  yajl_gen_array_open(g);
  for (size_t i = 0; i < q->ntables; i++)
    s(g, q->tables[i]);
  yajl_gen_array_close(g);
  yajl_gen_map_close(g);
}

/* The query columns a chart shows, in the order its view names them: the x axis, then the
 * fields the chart templates draw (templates.c sim_tpl_view_vegas; templates_api.c
 * sim_tpl_view_v1). */
static void write_chart_fields(yajl_gen g, const struct sim_chart *c) {
  static const char *const v2[] = {"payment_date", "Staff First Name", "Staff Last Name", "amount"};
  s(g, "fields");
  yajl_gen_array_open(g);
  s(g, c->field);
  if (c->view_version == 1)
    s(g, "total");
  for (size_t i = 0; c->view_version == 2 && i < sizeof v2 / sizeof v2[0]; i++)
    s(g, v2[i]);
  yajl_gen_array_close(g);
}

/* Freshness as a correct connector records it (docs/entities.md, the dashboard's extension). */
static void write_freshness(yajl_gen g, const struct sim_report *r) {
  s(g, "extension");
  yajl_gen_map_open(g);
  kv(g, "createdAt", r->created_at);
  kv(g, "lastSavedAt", r->last_saved_at ? r->last_saved_at : r->edited_at);
  kv(g, "lastRunAt", r->last_run_at);
  kv(g, "lastRunState", !r->last_run_at                   ? NULL
                        : r->last_success_at == r->last_run_at ? "succeeded"
                                                               : "failed");
  kv(g, "lastSuccessfulRunAt", r->last_success_at);
  kn(g, "scheduleCount", r->schedules_count);
  kn(g, "viewCount", r->view_count);
  yajl_gen_map_close(g);
}

static void write_report(yajl_gen g, const struct sim_workspace *ws, const struct sim_report *r) {
  yajl_gen_map_open(g);
  kv(g, "token", r->token);
  kv(g, "name", r->name);
  kv(g, "space_token", ws->spaces[r->space].token);
  kb(g, "archived", r->archived);
  kv(g, "creator", ws->users[r->creator].username);
  kn(g, "chart_count", (long long)r->chart_count);
  kn(g, "view_count", r->view_count);
  kb(g, "is_dataset", r->is_dataset);
  write_freshness(g, r);
  s(g, "queries");
  yajl_gen_array_open(g);
  for (size_t i = 0; i < r->nqueries; i++)
    write_query(g, ws, &r->queries[i]);
  yajl_gen_array_close(g);
  s(g, "charts");
  yajl_gen_array_open(g);
  for (size_t i = 0; i < r->nqueries; i++)
    for (size_t k = 0; k < r->queries[i].ncharts; k++) {
      const struct sim_chart *c = &r->queries[i].charts[k];
      yajl_gen_map_open(g);
      kv(g, "token", c->token);
      kv(g, "query_token", r->queries[i].token);
      kv(g, "title", c->title);
      kv(g, "chart_type", c->chart_type);
      write_chart_fields(g, c);
      yajl_gen_map_close(g);
    }
  yajl_gen_array_close(g);
  yajl_gen_map_close(g);
}

static void write_reports(yajl_gen g, const struct sim_workspace *ws, int datasets) {
  s(g, datasets ? "datasets" : "reports");
  yajl_gen_array_open(g);
  for (size_t i = 0; i < ws->nspaces; i++) {
    const struct sim_space *sp = &ws->spaces[i];
    size_t n = datasets ? sp->ndatasets : sp->nreports;
    for (size_t k = 0; k < n; k++)
      write_report(g, ws, &ws->reports[datasets ? sp->datasets[k] : sp->reports[k]]);
  }
  yajl_gen_array_close(g);
}

static void write_truth(yajl_gen g, const struct sim_workspace *ws) {
  yajl_gen_map_open(g);
  kv(g, "workspace", ws->name);
  kv(g, "filter", "all");
  s(g, "users");
  yajl_gen_array_open(g);
  for (size_t i = 0; i < ws->nusers; i++) {
    const struct sim_user *u = &ws->users[i];
    yajl_gen_map_open(g);
    kv(g, "username", u->username);
    kv(g, "name", u->name);
    kv(g, "email", u->email);
    kb(g, "active", u->active);
    yajl_gen_map_close(g);
  }
  yajl_gen_array_close(g);
  s(g, "data_sources");
  yajl_gen_array_open(g);
  for (size_t i = 0; i < ws->ndata_sources; i++) {
    const struct sim_data_source *d = &ws->data_sources[i];
    yajl_gen_map_open(g);
    kn(g, "id", d->id);
    kv(g, "token", d->token);
    kv(g, "name", d->name);
    kv(g, "adapter", d->adapter);
    kv(g, "database", om_database(d));
    kv(g, "schema", om_schema(d));
    yajl_gen_map_close(g);
  }
  yajl_gen_array_close(g);
  s(g, "spaces");
  yajl_gen_array_open(g);
  for (size_t i = 0; i < ws->nspaces; i++) {
    const struct sim_space *sp = &ws->spaces[i];
    yajl_gen_map_open(g);
    kv(g, "token", sp->token);
    kv(g, "name", sp->name);
    kv(g, "type", sp->personal ? "personal" : "custom");
    kb(g, "restricted", sp->restricted);
    yajl_gen_map_close(g);
  }
  yajl_gen_array_close(g);
  write_reports(g, ws, 0);
  write_reports(g, ws, 1);
  yajl_gen_map_close(g);
}

int groundtruth_write(const struct sim_workspace *ws, const char *path) {
  int rc = -1;
  yajl_gen g = yajl_gen_alloc(NULL);
  FILE *f = NULL;
  const unsigned char *buf;
  size_t len;
  if (!g)
    goto out;
  yajl_gen_config(g, yajl_gen_beautify, 1);
  write_truth(g, ws);
  if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
    goto out;
  f = fopen(path, "w");
  if (!f || fwrite(buf, 1, len, f) != len || fputc('\n', f) == EOF)
    goto out;
  rc = 0;
out:
  if (f && fclose(f) != 0)
    rc = -1;
  if (rc != 0)
    fprintf(stderr, "mode-sim: --ground-truth %s: cannot write: %s\n", path, strerror(errno));
  if (g)
    yajl_gen_free(g);
  return rc;
}
