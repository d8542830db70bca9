/*
 * entities.c -- entity records (see entities.h and docs/entities.md).
 *
 * Every builder opens a generator, writes `{"data": {...}, <extras>}` and hands the buffer
 * to a new struct mode_entity. Text from Mode is passed through a UTF-8 check first: yajl
 * refuses invalid UTF-8, and one bad byte in a title must not cost the whole record.
 */
#include "config.h"

#include "entities.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yajl/yajl_gen.h>

#include "util.h"

void mode_entity_free(struct mode_entity *e) {
  if (e == NULL)
    return;
  free(e->id);
  free(e->json);
  free(e);
}

char *mode_fqn(const char *const *parts, size_t n) {
  struct mode_buf b = {0};
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    const char *p = parts[i] ? parts[i] : "*";
    if (i > 0)
      rc |= mode_buf_append(&b, ".", 1);
    int quote = parts[i] && strchr(p, '.') != NULL;
    if (quote)
      rc |= mode_buf_append(&b, "\"", 1);
    rc |= mode_buf_append(&b, p, strlen(p));
    if (quote)
      rc |= mode_buf_append(&b, "\"", 1);
  }
  if (rc != 0 || b.data == NULL) {
    mode_buf_free(&b);
    return NULL;
  }
  return b.data;
}

struct chart_type_map {
  const char *mode;
  const char *om;
};

/* Mode's view_vegas.chartType / view.selectedChart values (DataHub's list plus Mode's newer
 * ones) to OpenMetadata's ChartType enum. Compared case-insensitively. */
static const struct chart_type_map chart_types[] = {
    {"table", "Table"},         {"pivotTable", "Table"},  {"vegasPivotTable", "Table"},
    {"flatTable", "Table"},     {"bar", "Bar"},           {"hBar", "Bar"},
    {"stackedBar", "Bar"},      {"stackedBar100", "Bar"}, {"hStackedBar", "Bar"},
    {"hStackedBar100", "Bar"},  {"groupedBar", "Bar"},    {"column", "Bar"},
    {"line", "Line"},           {"stackedLine", "Line"},  {"linePlusBar", "Bar"},
    {"lineBar", "Bar"},         {"area", "Area"},         {"totalArea", "Area"},
    {"stackedArea", "Area"},    {"pie", "Pie"},           {"donut", "Pie"},
    {"scatter", "Scatter"},     {"bubble", "Scatter"},    {"bigValue", "Text"},
    {"bigNumber", "Text"},      {"text", "Text"},         {"markdown", "Text"},
    {"histogram", "Histogram"}, {"boxPlot", "BoxPlot"},   {"box", "BoxPlot"},
    {"gauge", "Gauge"},         {"map", "Map"},           {"geo", "Map"},
    {"choropleth", "Map"},      {"pointMap", "Map"},      {"heatmap", "Heatmap"},
    {"heatMap", "Heatmap"},     {"timeline", "Timeline"}, {"graph", "Graph"},
    {"network", "Graph"},       {"sankey", "Graph"},      {"funnel", "Other"},
    {"vegas", "Other"},
};

const char *mode_chart_type(const char *mode_type) {
  if (mode_type == NULL)
    return "Other";
  for (size_t i = 0; i < sizeof chart_types / sizeof chart_types[0]; i++)
    if (strcasecmp(chart_types[i].mode, mode_type) == 0)
      return chart_types[i].om;
  return "Other";
}

/* Replaces every byte that is not part of valid UTF-8 with U+FFFD; NULL when s is valid. */
static char *utf8_fixed(const char *s, size_t len) {
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0;
  int bad = 0;
  struct mode_buf b = {0};
  while (i < len) {
    size_t n = u[i] < 0x80         ? 1
               : (u[i] >> 5) == 6  ? 2
               : (u[i] >> 4) == 14 ? 3
               : (u[i] >> 3) == 30 ? 4
                                   : 0;
    int ok = n > 0 && i + n <= len;
    for (size_t k = 1; ok && k < n; k++)
      ok = (u[i + k] & 0xC0) == 0x80;
    if (ok && n == 2 && u[i] < 0xC2)
      ok = 0;
    if (ok) {
      if (mode_buf_append(&b, s + i, n) != 0)
        goto oom;
      i += n;
    } else {
      bad = 1;
      if (mode_buf_append(&b, "\xEF\xBF\xBD", 3) != 0)
        goto oom;
      i++;
    }
  }
  if (!bad) {
    mode_buf_free(&b);
    return NULL;
  }
  return b.data;
oom:
  mode_buf_free(&b);
  return NULL;
}

static void gen_str(yajl_gen g, const char *s) {
  size_t len = strlen(s);
  char *fixed = utf8_fixed(s, len);
  if (fixed) {
    yajl_gen_string(g, (const unsigned char *)fixed, strlen(fixed));
    free(fixed);
  } else {
    yajl_gen_string(g, (const unsigned char *)s, len);
  }
}

static void gen_kv(yajl_gen g, const char *k, const char *v) {
  if (v == NULL)
    return;
  gen_str(g, k);
  gen_str(g, v);
}

static void gen_kv_nonempty(yajl_gen g, const char *k, const char *v) {
  if (v != NULL && *v != '\0')
    gen_kv(g, k, v);
}

static void gen_key(yajl_gen g, const char *k) {
  gen_str(g, k);
}

static void gen_str_or_null(yajl_gen g, const char *v) {
  if (v)
    gen_str(g, v);
  else
    yajl_gen_null(g);
}

static yajl_gen gen_begin(void) {
  yajl_gen g = yajl_gen_alloc(NULL);
  if (g == NULL)
    return NULL;
  yajl_gen_config(g, yajl_gen_validate_utf8, 1);
  yajl_gen_map_open(g);
  gen_key(g, "data");
  yajl_gen_map_open(g);
  return g;
}

/* Finishes the outer object and wraps the buffer in an entity. */
static struct mode_entity *gen_end(yajl_gen g, const char *kind, const char *id) {
  struct mode_entity *e = NULL;
  const unsigned char *buf;
  size_t len;
  if (g == NULL)
    return NULL;
  yajl_gen_map_close(g);
  if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
    goto out;
  e = calloc(1, sizeof *e);
  if (e == NULL)
    goto out;
  e->kind = kind;
  e->id = strdup(id);
  e->json = mode_strndup((const char *)buf, len);
  e->json_len = len;
  if (e->id == NULL || e->json == NULL) {
    mode_entity_free(e);
    e = NULL;
  }
out:
  yajl_gen_free(g);
  return e;
}

static char *url_of(const struct mode_entity_ctx *ctx, const char *href, const char *fallback) {
  if (href && (strncmp(href, "http://", 7) == 0 || strncmp(href, "https://", 8) == 0))
    return strdup(href);
  if (href && href[0] == '/')
    return mode_asprintf("%s%s", ctx->host, href);
  return mode_asprintf("%s%s", ctx->host, fallback);
}

static void gen_owners(yajl_gen g, const struct mode_entity_ctx *ctx, const struct mode_user *o) {
  if (!ctx->include_owners || o == NULL || o->username == NULL)
    return;
  gen_key(g, "owners");
  yajl_gen_array_open(g);
  yajl_gen_map_open(g);
  gen_kv(g, "type", "user");
  gen_kv(g, "name", o->username);
  gen_key(g, "email");
  gen_str_or_null(g, o->email);
  yajl_gen_map_close(g);
  yajl_gen_array_close(g);
}

struct mode_entity *mode_entity_service(const struct mode_entity_ctx *ctx) {
  yajl_gen g = gen_begin();
  if (g == NULL)
    return NULL;
  char *desc = mode_asprintf("Mode workspace %s at %s", ctx->workspace, ctx->host);
  gen_kv(g, "name", ctx->service);
  gen_kv(g, "serviceType", "Mode");
  gen_kv(g, "description", desc);
  free(desc);
  yajl_gen_map_close(g);
  return gen_end(g, "dashboardService", ctx->service);
}

static char *entity_fqn(const char *service, const char *name) {
  const char *parts[2] = {service, name};
  return mode_fqn(parts, 2);
}

char *mode_model_fqn(const char *service, const char *name) {
  char *quoted = mode_fqn(&name, 1);
  char *fqn = quoted ? mode_asprintf("%s.model.%s", service, quoted) : NULL;
  free(quoted);
  return fqn;
}

/* The chart's query, its data model and the fields it shows: OpenMetadata's chart has no
 * columns, so this travels beside `data` (docs/entities.md). */
static void gen_chart_query(yajl_gen g, const struct mode_chart *c, const char *query_token,
                            const char *model_fqn) {
  gen_key(g, "query");
  yajl_gen_map_open(g);
  gen_key(g, "token");
  gen_str_or_null(g, query_token);
  gen_key(g, "dataModel");
  gen_str_or_null(g, model_fqn);
  gen_key(g, "fields");
  yajl_gen_array_open(g);
  for (size_t i = 0; i < c->n_fields; i++)
    gen_str(g, c->fields[i]);
  yajl_gen_array_close(g);
  yajl_gen_map_close(g);
}

struct mode_entity *mode_entity_chart(const struct mode_entity_ctx *ctx,
                                      const struct mode_report *r, const struct mode_chart *c,
                                      const struct mode_user *owner, const char *query_token,
                                      const char *model_fqn) {
  yajl_gen g = gen_begin();
  if (g == NULL)
    return NULL;
  const char *type = mode_chart_type(c->type);
  char *fallback_title = NULL;
  const char *title = c->title;
  if (title == NULL || *title == '\0') {
    fallback_title = c->query_name && *c->query_name
                         ? mode_asprintf("%s (%s chart)", c->query_name, type)
                         : mode_asprintf("%s chart %s", type, c->token);
    title = fallback_title;
  }
  char *fallback = mode_asprintf("/%s/reports/%s/viz/%s", ctx->workspace, r->token, c->token);
  char *url = url_of(ctx, c->viz_href, fallback ? fallback : "");
  gen_kv(g, "name", c->token);
  gen_kv(g, "displayName", title);
  gen_kv_nonempty(g, "description", c->description);
  gen_kv(g, "chartType", type);
  gen_kv(g, "sourceUrl", url);
  gen_kv(g, "service", ctx->service);
  /* No "dashboards": the server resolves it on create (ChartMapper), and the dashboard does not
   * exist yet on a first run. The dashboard lists its charts instead, as OpenMetadata's own
   * connectors do. */
  yajl_gen_map_close(g);
  gen_owners(g, ctx, owner);
  gen_chart_query(g, c, query_token, model_fqn);
  free(fallback_title);
  free(fallback);
  free(url);
  return gen_end(g, "chart", c->token);
}

static void gen_list(yajl_gen g, const char *key, char *const *items, size_t n) {
  gen_key(g, key);
  yajl_gen_array_open(g);
  for (size_t i = 0; i < n; i++)
    gen_str(g, items[i]);
  yajl_gen_array_close(g);
}

const char *mode_last_run_state(const char *last_run_at, const char *last_success_at) {
  if (last_run_at == NULL || *last_run_at == '\0')
    return NULL;
  /* Mode's timestamps share one format (2021-12-10T23:12:51.490Z): text order is time order. A
   * successful run stamps last_successfully_run_at at or after its last_run_at. */
  return last_success_at && strcmp(last_success_at, last_run_at) >= 0 ? "succeeded" : "failed";
}

static void gen_count(yajl_gen g, const char *k, long v) {
  if (v < 0)
    return;
  gen_key(g, k);
  yajl_gen_integer(g, v);
}

/* Freshness and activity: the dashboard's custom properties in OpenMetadata (`extension`,
 * docs/entities.md); absent values are left out. */
static void gen_freshness(yajl_gen g, const struct mode_report *r) {
  gen_key(g, "extension");
  yajl_gen_map_open(g);
  gen_kv_nonempty(g, "createdAt", r->created_at);
  gen_kv_nonempty(g, "lastSavedAt", r->last_saved_at);
  gen_kv_nonempty(g, "lastRunAt", r->last_run_at);
  gen_kv(g, "lastRunState", mode_last_run_state(r->last_run_at, r->last_success_at));
  gen_kv_nonempty(g, "lastSuccessfulRunAt", r->last_success_at);
  gen_count(g, "scheduleCount", r->schedules_count);
  gen_count(g, "viewCount", r->view_count);
  gen_kv_nonempty(g, "creator", r->creator);
  yajl_gen_map_close(g);
}

struct mode_entity *mode_entity_dashboard(const struct mode_entity_ctx *ctx,
                                          const struct mode_report *r, char *const *chart_fqns,
                                          size_t n_charts, char *const *model_fqns, size_t n_models,
                                          const struct mode_user *owner) {
  yajl_gen g = gen_begin();
  if (g == NULL)
    return NULL;
  char *fallback = mode_asprintf("/%s/reports/%s", ctx->workspace, r->token);
  char *url = url_of(ctx, r->share_href ? r->share_href : r->web_href, fallback ? fallback : "");
  gen_kv(g, "name", r->token);
  gen_kv(g, "displayName", r->name && *r->name ? r->name : r->token);
  gen_kv_nonempty(g, "description", r->description);
  gen_kv(g, "dashboardType", "Report");
  gen_kv(g, "sourceUrl", url);
  gen_kv(g, "project", r->space_name);
  gen_list(g, "charts", chart_fqns, n_charts);
  gen_list(g, "dataModels", model_fqns, n_models);
  gen_kv(g, "service", ctx->service);
  yajl_gen_map_close(g);
  gen_owners(g, ctx, owner);
  gen_freshness(g, r);
  free(fallback);
  free(url);
  return gen_end(g, "dashboard", r->token);
}

struct mode_entity *mode_entity_datamodel(const struct mode_entity_ctx *ctx, const char *name,
                                          const char *display_name, const char *sql,
                                          const char *project) {
  return mode_entity_datamodel_columns(ctx, name, display_name, sql, project, NULL, 0);
}

static void gen_model_column(yajl_gen g, const struct mode_model_column *c, size_t position) {
  yajl_gen_map_open(g);
  gen_kv(g, "name", c->name);
  gen_kv(g, "dataType", c->data_type ? c->data_type : "UNKNOWN");
  if (c->data_type_display)
    gen_kv(g, "dataTypeDisplay", c->data_type_display);
  if (c->data_length > 0) {
    gen_key(g, "dataLength");
    yajl_gen_integer(g, c->data_length);
  }
  gen_key(g, "ordinalPosition");
  yajl_gen_integer(g, (long long)position);
  yajl_gen_map_close(g);
}

struct mode_entity *mode_entity_datamodel_columns(const struct mode_entity_ctx *ctx,
                                                  const char *name, const char *display_name,
                                                  const char *sql, const char *project,
                                                  const struct mode_model_column *cols,
                                                  size_t n_cols) {
  yajl_gen g = gen_begin();
  if (g == NULL)
    return NULL;
  gen_kv(g, "name", name);
  gen_kv(g, "displayName", display_name && *display_name ? display_name : name);
  gen_kv(g, "service", ctx->service);
  gen_kv(g, "serviceType", "Mode");
  gen_kv(g, "dataModelType", "ModeDataModel");
  gen_kv(g, "sql", sql ? sql : "");
  gen_kv(g, "project", project);
  gen_key(g, "columns");
  yajl_gen_array_open(g);
  for (size_t i = 0; i < n_cols; i++)
    gen_model_column(g, &cols[i], i + 1);
  yajl_gen_array_close(g);
  yajl_gen_map_close(g);
  return gen_end(g, "dashboardDataModel", name);
}

static void gen_ref(yajl_gen g, const char *key, const char *type, const char *fqn) {
  gen_key(g, key);
  yajl_gen_map_open(g);
  gen_kv(g, "type", type);
  gen_kv(g, "fullyQualifiedName", fqn);
  yajl_gen_map_close(g);
}

struct mode_entity *mode_entity_lineage(const char *from_type, const char *from_fqn,
                                        const char *to_type, const char *to_fqn, const char *sql,
                                        const struct mode_table_end *from_table) {
  return mode_entity_lineage_columns(from_type, from_fqn, to_type, to_fqn, sql, from_table, NULL,
                                     0);
}

static void gen_columns_lineage(yajl_gen g, const struct mode_column_edge *cols, size_t n) {
  gen_key(g, "columnsLineage");
  yajl_gen_array_open(g);
  for (size_t i = 0; i < n; i++) {
    yajl_gen_map_open(g);
    gen_list(g, "fromColumns", cols[i].from_columns, cols[i].n_from);
    gen_kv(g, "toColumn", cols[i].to_column);
    yajl_gen_map_close(g);
  }
  yajl_gen_array_close(g);
}

struct mode_entity *mode_entity_lineage_columns(const char *from_type, const char *from_fqn,
                                                const char *to_type, const char *to_fqn,
                                                const char *sql,
                                                const struct mode_table_end *from_table,
                                                const struct mode_column_edge *cols,
                                                size_t n_cols) {
  yajl_gen g = gen_begin();
  if (g == NULL)
    return NULL;
  gen_ref(g, "fromEntity", from_type, from_fqn);
  gen_ref(g, "toEntity", to_type, to_fqn);
  gen_key(g, "lineageDetails");
  yajl_gen_map_open(g);
  if (sql)
    gen_kv(g, "sqlQuery", sql);
  gen_kv(g, "source", "DashboardLineage");
  if (n_cols)
    gen_columns_lineage(g, cols, n_cols);
  yajl_gen_map_close(g);
  yajl_gen_map_close(g);
  if (from_table) {
    gen_key(g, "fromTable");
    yajl_gen_map_open(g);
    gen_key(g, "service");
    gen_str_or_null(g, from_table->service);
    gen_key(g, "database");
    gen_str_or_null(g, from_table->database);
    gen_key(g, "schema");
    gen_str_or_null(g, from_table->schema);
    gen_key(g, "name");
    gen_str_or_null(g, from_table->name);
    yajl_gen_map_close(g);
  }
  char *id = mode_asprintf("%s -> %s", from_fqn, to_fqn);
  struct mode_entity *e = id ? gen_end(g, "lineage", id) : (yajl_gen_free(g), NULL);
  free(id);
  return e;
}

struct mode_entity *mode_entity_usage(const struct mode_entity_ctx *ctx, const char *report_token,
                                      long count, const char *date) {
  yajl_gen g = gen_begin();
  if (g == NULL)
    return NULL;
  gen_kv(g, "date", date);
  gen_key(g, "count");
  yajl_gen_integer(g, count);
  yajl_gen_map_close(g);
  char *fqn = entity_fqn(ctx->service, report_token);
  if (fqn)
    gen_ref(g, "entity", "dashboard", fqn);
  free(fqn);
  return gen_end(g, "usage", report_token);
}
