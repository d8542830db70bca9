/*
 * lineage_graph.c -- reading the catalog's lineage into a graph, and picking a view of it.
 *
 * Loading. The catalog is opened read-only and checked by catalog_read.c (the site's reader
 * too), so a state store, another program's SQLite file or a newer catalog is refused by name.
 * SQLite's own JSON functions pull the few members we need out of each row, after one
 * json_valid() pass that names the first row whose JSON is broken. Nodes are keyed by
 * "<kind>:<fqn>", so several sources in one catalog merge where they name the same table.
 *
 * Selecting. A breadth-first walk from the focus, upstream along in-edges and downstream along
 * out-edges, each node keeping the direction it was reached in (lineage, not connectivity: the
 * siblings of a dashboard's data model are not its lineage). At each node at most max_fanout
 * neighbours per direction are followed; the rest, and everything beyond the depth limit, are
 * counted per kind into "more" marks. Every edge between two drawn nodes is drawn, so a
 * neighbour cut at one node but reached by another path still shows its edge, and the marks
 * count only what is really missing from the picture. The whole graph is the walk downstream
 * from every node nothing feeds (the tables, mostly).
 */
#include "config.h"

#include "lineage_graph.h"

#include "log.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog_read.h"

/* ---- a string -> index map (open addressing; keys copied) ---- */

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

void lg_map_clear(struct lg_map *m) {
  for (size_t i = 0; i < m->cap; i++)
    free(m->keys[i]);
  free(m->keys);
  free(m->vals);
  *m = (struct lg_map){0};
}

void lg_map_free(struct lg_map **m) {
  if (!*m)
    return;
  lg_map_clear(*m);
  free(*m);
  *m = NULL;
}

size_t lg_map_get(const struct lg_map *m, const char *key) {
  if (!m || m->cap == 0)
    return SIZE_MAX;
  for (size_t i = hash_str(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
    if (!m->keys[i])
      return SIZE_MAX;
    if (strcmp(m->keys[i], key) == 0)
      return m->vals[i];
  }
}

static int map_grow(struct lg_map *m) {
  size_t cap = m->cap ? m->cap * 2 : 64;
  char **keys = calloc(cap, sizeof *keys);
  size_t *vals = calloc(cap, sizeof *vals);
  if (!keys || !vals) {
    free(keys);
    free(vals);
    return -1;
  }
  for (size_t j = 0; j < m->cap; j++) {
    if (!m->keys[j])
      continue;
    size_t i = hash_str(m->keys[j]) & (cap - 1);
    while (keys[i])
      i = (i + 1) & (cap - 1);
    keys[i] = m->keys[j];
    vals[i] = m->vals[j];
  }
  free(m->keys);
  free(m->vals);
  m->keys = keys;
  m->vals = vals;
  m->cap = cap;
  return 0;
}

int lg_map_put(struct lg_map *m, const char *key, size_t val) {
  if ((m->len + 1) * 2 > m->cap && map_grow(m) != 0)
    return -1;
  char *copy = strdup(key);
  if (!copy)
    return -1;
  size_t i = hash_str(key) & (m->cap - 1);
  while (m->keys[i])
    i = (i + 1) & (m->cap - 1);
  m->keys[i] = copy;
  m->vals[i] = val;
  m->len++;
  return 0;
}

/* ---- small helpers ---- */

static char *sprintf_dup(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *sprintf_dup(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  return n < 0 ? NULL : s;
}

/* Appends name to a list unless it is there (ignoring case). 0, or -1 on OOM. */
static int list_add_unique(char ***list, size_t *n, const char *name) {
  for (size_t i = 0; i < *n; i++)
    if (strcasecmp((*list)[i], name) == 0)
      return 0;
  char **grown = realloc(*list, (*n + 1) * sizeof *grown);
  if (!grown)
    return -1;
  *list = grown;
  if (!(grown[*n] = strdup(name)))
    return -1;
  (*n)++;
  return 0;
}

static bool list_has(char *const *list, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcasecmp(list[i], name) == 0)
      return true;
  return false;
}

static void list_free(char ***list, size_t *n) {
  for (size_t i = 0; i < *n; i++)
    free((*list)[i]);
  free(*list);
  *list = NULL;
  *n = 0;
}

static const char *static_kind(const char *kind) {
  static const char *const kinds[] = {"table", "dashboardDataModel", "chart", "dashboard"};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (kind && strcmp(kind, kinds[i]) == 0)
      return kinds[i];
  return NULL;
}

/* Order of kinds in listings: the direction data flows. */
static int kind_rank(const char *kind) {
  return kind[0] == 't' ? 0 : kind[0] == 'd' && kind[9] == 'D' ? 1 : kind[0] == 'c' ? 2 : 3;
}

const char *lg_kind_plural(const char *kind) {
  switch (kind_rank(kind)) {
  case 0:
    return "tables";
  case 1:
    return "data models";
  case 2:
    return "charts";
  default:
    return "dashboards";
  }
}

size_t lg_find(const struct host_lineage_graph *g, const char *kind, const char *fqn) {
  char *id = sprintf_dup("%s:%s", kind, fqn);
  size_t at = id ? lg_map_get(g->ids, id) : SIZE_MAX;
  free(id);
  return at;
}

/* ---- building the graph ---- */

struct loader {
  struct host_lineage_graph *g;
  struct host_log *log;
  const char *path;
  sqlite3 *db; /* borrowed */
  size_t node_cap, edge_cap;
  char **svc_names, **svc_types; /* owned: dashboardService name -> serviceType */
  size_t n_svc;
};

static int oom(struct loader *ld) {
  host_log_msg(ld->log, ETL_SEV_ERROR, NULL, NULL, "catalog '%s': out of memory", ld->path);
  return -1;
}

/* The node "<kind>:<fqn>", created (with the FQN as its label) if it is not there yet. */
static int node_get(struct loader *ld, const char *kind, const char *fqn, size_t *at) {
  struct host_lineage_graph *g = ld->g;
  const char *k = static_kind(kind);
  if (!k)
    return 1; /* not a kind we draw */
  char *id = sprintf_dup("%s:%s", k, fqn);
  if (!id)
    return oom(ld);
  *at = lg_map_get(g->ids, id);
  if (*at != SIZE_MAX) {
    free(id);
    return 0;
  }
  if (g->n_nodes == ld->node_cap) {
    size_t cap = ld->node_cap ? ld->node_cap * 2 : 256;
    struct lg_node *grown = realloc(g->nodes, cap * sizeof *grown);
    if (!grown) {
      free(id);
      return oom(ld);
    }
    g->nodes = grown;
    ld->node_cap = cap;
  }
  struct lg_node *n = &g->nodes[g->n_nodes];
  *n = (struct lg_node){.kind = k, .id = id, .fqn = id + strlen(k) + 1};
  if (!(n->label = strdup(n->fqn)) || lg_map_put(g->ids, id, g->n_nodes) != 0) {
    free(n->label);
    free(id);
    return oom(ld);
  }
  *at = g->n_nodes++;
  return 0;
}

/* The edge from -> to, created if it is not there yet (*created says which). */
static int edge_get(struct loader *ld, size_t from, size_t to, enum lg_edge_kind kind, bool deleted,
                    size_t *at) {
  struct host_lineage_graph *g = ld->g;
  char *key = sprintf_dup("%s->%s", g->nodes[from].id, g->nodes[to].id);
  if (!key)
    return oom(ld);
  *at = lg_map_get(g->eids, key);
  if (*at != SIZE_MAX) {
    /* Named by two sources, or by a lineage row and a dashboard: live if either is. */
    g->edges[*at].deleted &= deleted;
    free(key);
    return 0;
  }
  if (g->n_edges == ld->edge_cap) {
    size_t cap = ld->edge_cap ? ld->edge_cap * 2 : 256;
    struct lg_edge *grown = realloc(g->edges, cap * sizeof *grown);
    if (!grown) {
      free(key);
      return oom(ld);
    }
    g->edges = grown;
    ld->edge_cap = cap;
  }
  g->edges[g->n_edges] = (struct lg_edge){.from = from, .to = to, .kind = kind, .deleted = deleted};
  int rc = lg_map_put(g->eids, key, g->n_edges);
  free(key);
  if (rc != 0)
    return oom(ld);
  *at = g->n_edges++;
  return 0;
}

static const char *col_text(sqlite3_stmt *st, int i) {
  return (const char *)sqlite3_column_text(st, i);
}

/* OpenMetadata's FullyQualifiedName.quoteName: a name holding a dot is wrapped in quotes. */
static char *entity_fqn(const char *service, const char *kind, const char *name) {
  const char *qs = strchr(service, '.') ? "\"" : "";
  const char *qn = strchr(name, '.') ? "\"" : "";
  bool model = strcmp(kind, "dashboardDataModel") == 0;
  return sprintf_dup("%s%s%s.%s%s%s%s", qs, service, qs, model ? "model." : "", qn, name, qn);
}

static int on_service(void *ctx, sqlite3_stmt *st) {
  struct loader *ld = ctx;
  const char *name = col_text(st, 0), *type = col_text(st, 1);
  if (!name)
    return 0;
  char **n = realloc(ld->svc_names, (ld->n_svc + 1) * sizeof *n);
  if (!n)
    return oom(ld);
  ld->svc_names = n;
  char **t = realloc(ld->svc_types, (ld->n_svc + 1) * sizeof *t);
  if (!t)
    return oom(ld);
  ld->svc_types = t;
  n[ld->n_svc] = strdup(name);
  t[ld->n_svc] = strdup(type ? type : "");
  ld->n_svc++;
  return n[ld->n_svc - 1] && t[ld->n_svc - 1] ? 0 : oom(ld);
}

static char *service_label(const struct loader *ld, const char *service) {
  for (size_t i = 0; i < ld->n_svc; i++)
    if (strcmp(ld->svc_names[i], service) == 0 && *ld->svc_types[i])
      return sprintf_dup("%s (%s workspace)", service, ld->svc_types[i]);
  return sprintf_dup("%s (service)", service);
}

/* source kind id deleted name displayName service */
static int on_entity(void *ctx, sqlite3_stmt *st) {
  struct loader *ld = ctx;
  const char *kind = col_text(st, 1), *name = col_text(st, 4), *display = col_text(st, 5);
  const char *service = col_text(st, 6);
  bool deleted = sqlite3_column_int(st, 3) != 0;
  if (!name || !service) {
    host_log_msg(ld->log, ETL_SEV_WARNING, NULL, NULL,
                 "catalog '%s': %s '%s' of source '%s' has no name or service, left out", ld->path,
                 kind, col_text(st, 2), col_text(st, 0));
    return 0;
  }
  char *fqn = entity_fqn(service, kind, name);
  if (!fqn)
    return oom(ld);
  size_t at;
  int rc = node_get(ld, kind, fqn, &at);
  free(fqn);
  if (rc != 0)
    return rc < 0 ? -1 : 0;
  struct lg_node *n = &ld->g->nodes[at];
  if (n->in_catalog && !n->deleted)
    return 0; /* a live row of another source already describes it */
  char *label = strdup(display && *display ? display : name);
  char *group = strdup(service);
  char *group_label = service_label(ld, service);
  if (!label || !group || !group_label) {
    free(label);
    free(group);
    free(group_label);
    return oom(ld);
  }
  free(n->label);
  free(n->group);
  free(n->group_label);
  n->label = label;
  n->group = group;
  n->group_label = group_label;
  n->deleted = deleted;
  n->in_catalog = true;
  return 0;
}

/* A list member of an entity (a model's column, a chart's field): service kind name value */
static int on_member(void *ctx, sqlite3_stmt *st) {
  struct loader *ld = ctx;
  const char *service = col_text(st, 0), *kind = col_text(st, 1), *name = col_text(st, 2);
  const char *value = col_text(st, 3);
  if (!service || !name || !value)
    return 0;
  char *fqn = entity_fqn(service, kind, name);
  if (!fqn)
    return oom(ld);
  size_t at = lg_find(ld->g, kind, fqn);
  free(fqn);
  if (at == SIZE_MAX)
    return 0;
  struct lg_node *n = &ld->g->nodes[at];
  int rc = strcmp(kind, "chart") == 0 ? list_add_unique(&n->fields, &n->n_fields, value)
                                      : list_add_unique(&n->columns, &n->n_columns, value);
  return rc == 0 ? 0 : oom(ld);
}

/* A dashboard's chart or data model: service name deleted member-kind member-fqn */
static int on_dashboard_part(void *ctx, sqlite3_stmt *st) {
  struct loader *ld = ctx;
  const char *service = col_text(st, 0), *name = col_text(st, 1), *kind = col_text(st, 3);
  const char *part = col_text(st, 4);
  if (!service || !name || !part)
    return 0;
  char *fqn = entity_fqn(service, "dashboard", name);
  if (!fqn)
    return oom(ld);
  size_t dash = lg_find(ld->g, "dashboard", fqn), at, e;
  free(fqn);
  if (dash == SIZE_MAX)
    return 0;
  int rc = node_get(ld, kind, part, &at);
  if (rc != 0)
    return rc < 0 ? -1 : 0;
  bool deleted = sqlite3_column_int(st, 2) != 0;
  bool chart = strcmp(kind, "chart") == 0;
  return edge_get(ld, at, dash, chart ? LG_EDGE_PART_OF : LG_EDGE_LINEAGE, deleted, &e);
}

/* A table's label and cluster from the lineage row's fromTable. */
static int describe_table(struct loader *ld, struct lg_node *n, sqlite3_stmt *st) {
  if (n->group)
    return 0;
  const char *service = col_text(st, 7), *database = col_text(st, 8);
  const char *schema = col_text(st, 9), *name = col_text(st, 10);
  char *label =
      name ? sprintf_dup("%s%s%s", schema ? schema : "", schema ? "." : "", name) : strdup(n->fqn);
  char *group = NULL, *group_label = NULL;
  if (service) {
    group = sprintf_dup("%s.%s", service, database ? database : "*");
    group_label = sprintf_dup("%s (database)", group ? group : "");
  }
  if (!label || (service && (!group || !group_label))) {
    free(label);
    free(group);
    free(group_label);
    return oom(ld);
  }
  free(n->label);
  n->label = label;
  n->group = group;
  n->group_label = group_label;
  return 0;
}

/* source id deleted from-type from-fqn to-type to-fqn svc db schema name */
static int on_lineage(void *ctx, sqlite3_stmt *st) {
  struct loader *ld = ctx;
  const char *ft = col_text(st, 3), *ff = col_text(st, 4), *tt = col_text(st, 5);
  const char *tf = col_text(st, 6);
  if (!ft || !ff || !tt || !tf || !static_kind(ft) || !static_kind(tt)) {
    host_log_msg(ld->log, ETL_SEV_DEBUG, NULL, NULL,
                 "catalog '%s': lineage '%s' is not between kinds drawn, left out", ld->path,
                 col_text(st, 1));
    return 0;
  }
  size_t from, to, e;
  if (node_get(ld, ft, ff, &from) != 0 || node_get(ld, tt, tf, &to) != 0)
    return -1;
  if (strcmp(ft, "table") == 0 && describe_table(ld, &ld->g->nodes[from], st) != 0)
    return -1;
  return edge_get(ld, from, to, LG_EDGE_LINEAGE, sqlite3_column_int(st, 2) != 0, &e);
}

/* One column pair: from-type from-fqn to-type to-fqn to-column from-column */
static int on_column_pair(void *ctx, sqlite3_stmt *st) {
  struct loader *ld = ctx;
  const char *ft = col_text(st, 0), *ff = col_text(st, 1), *tt = col_text(st, 2);
  const char *tf = col_text(st, 3), *tc = col_text(st, 4), *fc = col_text(st, 5);
  if (!ft || !ff || !tt || !tf || !tc || !fc)
    return 0;
  size_t from = lg_find(ld->g, ft, ff), to = lg_find(ld->g, tt, tf);
  if (from == SIZE_MAX || to == SIZE_MAX)
    return 0;
  size_t ffl = strlen(ff), tfl = strlen(tf);
  /* Column FQNs are "<entity FQN>.<column>"; anything else is not ours to guess. */
  if (strncmp(fc, ff, ffl) != 0 || fc[ffl] != '.' || strncmp(tc, tf, tfl) != 0 || tc[tfl] != '.')
    return 0;
  struct host_lineage_graph *g = ld->g;
  char *key = sprintf_dup("%s->%s", g->nodes[from].id, g->nodes[to].id);
  size_t at = key ? lg_map_get(g->eids, key) : SIZE_MAX;
  free(key);
  if (at == SIZE_MAX)
    return 0;
  struct lg_edge *e = &g->edges[at];
  for (size_t i = 0; i < e->n_pairs; i++)
    if (strcmp(e->pairs[i].from, fc + ffl + 1) == 0 && strcmp(e->pairs[i].to, tc + tfl + 1) == 0)
      return 0; /* the same pair from another source */
  struct lg_colpair *grown = realloc(e->pairs, (e->n_pairs + 1) * sizeof *grown);
  if (!grown)
    return oom(ld);
  e->pairs = grown;
  struct lg_colpair *p = &e->pairs[e->n_pairs];
  p->from = strdup(fc + ffl + 1);
  p->to = strdup(tc + tfl + 1);
  e->n_pairs++;
  if (!p->from || !p->to)
    return oom(ld);
  if (list_add_unique(&g->nodes[from].columns, &g->nodes[from].n_columns, p->from) != 0 ||
      list_add_unique(&g->nodes[to].columns, &g->nodes[to].n_columns, p->to) != 0)
    return oom(ld);
  return 0;
}

static const struct host_lineage_graph *sort_graph;

static int cmp_nodes(size_t a, size_t b) {
  const struct lg_node *x = &sort_graph->nodes[a], *y = &sort_graph->nodes[b];
  int r = kind_rank(x->kind) - kind_rank(y->kind);
  if (r == 0)
    r = strcmp(x->label, y->label);
  return r != 0 ? r : strcmp(x->fqn, y->fqn);
}

static int cmp_out(const void *a, const void *b) {
  return cmp_nodes(sort_graph->edges[*(const size_t *)a].to,
                   sort_graph->edges[*(const size_t *)b].to);
}

static int cmp_in(const void *a, const void *b) {
  return cmp_nodes(sort_graph->edges[*(const size_t *)a].from,
                   sort_graph->edges[*(const size_t *)b].from);
}

/* Adjacency lists sorted by the far end (kind, label, FQN): the cap keeps a stable choice. */
static int link_edges(struct loader *ld) {
  struct host_lineage_graph *g = ld->g;
  for (size_t i = 0; i < g->n_nodes; i++) {
    struct lg_node *n = &g->nodes[i];
    if (strcmp(n->kind, "table") == 0)
      n->deleted = true; /* until a live lineage row names it */
  }
  for (size_t i = 0; i < g->n_edges; i++) {
    g->nodes[g->edges[i].from].n_out++;
    g->nodes[g->edges[i].to].n_in++;
  }
  for (size_t i = 0; i < g->n_nodes; i++) {
    struct lg_node *n = &g->nodes[i];
    n->out = calloc(n->n_out + 1, sizeof *n->out);
    n->in = calloc(n->n_in + 1, sizeof *n->in);
    if (!n->out || !n->in)
      return oom(ld);
    n->n_out = n->n_in = 0;
  }
  for (size_t i = 0; i < g->n_edges; i++) {
    struct lg_edge *e = &g->edges[i];
    struct lg_node *from = &g->nodes[e->from], *to = &g->nodes[e->to];
    from->out[from->n_out++] = i;
    to->in[to->n_in++] = i;
    if (!e->deleted && strcmp(from->kind, "table") == 0)
      from->deleted = false;
  }
  sort_graph = g;
  for (size_t i = 0; i < g->n_nodes; i++) {
    qsort(g->nodes[i].out, g->nodes[i].n_out, sizeof(size_t), cmp_out);
    qsort(g->nodes[i].in, g->nodes[i].n_in, sizeof(size_t), cmp_in);
  }
  sort_graph = NULL;
  return 0;
}

/* ---- reading the rows ---- */

#define DRAWN_KINDS "('dashboard', 'chart', 'dashboardDataModel', 'lineage', 'dashboardService')"

static int on_bad_json(void *ctx, sqlite3_stmt *st) {
  struct loader *ld = ctx;
  host_log_msg(ld->log, ETL_SEV_ERROR, NULL, NULL,
               "catalog '%s': the JSON of row (source '%s', kind '%s', id '%s') is not valid",
               ld->path, col_text(st, 0), col_text(st, 1), col_text(st, 2));
  return -1;
}

static int read_catalog(struct loader *ld) {
  static const struct {
    const char *sql;
    host_catalog_row_fn fn;
    const char *action;
  } steps[] = {
      {"SELECT source, kind, id FROM entities WHERE kind IN " DRAWN_KINDS
       " AND NOT json_valid(json) LIMIT 1",
       on_bad_json, "check the JSON"},
      {"SELECT json_extract(json, '$.data.name'), json_extract(json, '$.data.serviceType')"
       " FROM entities WHERE kind = 'dashboardService' AND NOT deleted ORDER BY source, id",
       on_service, "read services"},
      {"SELECT source, kind, id, deleted, json_extract(json, '$.data.name'),"
       " json_extract(json, '$.data.displayName'), json_extract(json, '$.data.service')"
       " FROM entities WHERE kind IN ('dashboard', 'chart', 'dashboardDataModel')"
       " ORDER BY deleted, kind, source, id",
       on_entity, "read entities"},
      {"SELECT json_extract(e.json, '$.data.service'), e.kind, json_extract(e.json, '$.data.name'),"
       " json_extract(c.value, '$.name') FROM entities e, json_each(e.json, '$.data.columns') c"
       " WHERE e.kind = 'dashboardDataModel' ORDER BY e.deleted, e.source, e.id, c.key",
       on_member, "read data model columns"},
      {"SELECT json_extract(e.json, '$.data.service'), e.kind, json_extract(e.json, '$.data.name'),"
       " f.value FROM entities e, json_each(e.json, '$.query.fields') f"
       " WHERE e.kind = 'chart' ORDER BY e.deleted, e.source, e.id, f.key",
       on_member, "read chart fields"},
      {"SELECT source, id, deleted, json_extract(json, '$.data.fromEntity.type'),"
       " json_extract(json, '$.data.fromEntity.fullyQualifiedName'),"
       " json_extract(json, '$.data.toEntity.type'),"
       " json_extract(json, '$.data.toEntity.fullyQualifiedName'),"
       " json_extract(json, '$.fromTable.service'), json_extract(json, '$.fromTable.database'),"
       " json_extract(json, '$.fromTable.schema'), json_extract(json, '$.fromTable.name')"
       " FROM entities WHERE kind = 'lineage' ORDER BY deleted, source, id",
       on_lineage, "read lineage"},
      {"SELECT json_extract(e.json, '$.data.service'), json_extract(e.json, '$.data.name'),"
       " e.deleted, 'chart', p.value FROM entities e, json_each(e.json, '$.data.charts') p"
       " WHERE e.kind = 'dashboard' UNION ALL"
       " SELECT json_extract(e.json, '$.data.service'), json_extract(e.json, '$.data.name'),"
       " e.deleted, 'dashboardDataModel', p.value FROM entities e,"
       " json_each(e.json, '$.data.dataModels') p WHERE e.kind = 'dashboard'",
       on_dashboard_part, "read dashboards"},
      {"SELECT json_extract(e.json, '$.data.fromEntity.type'),"
       " json_extract(e.json, '$.data.fromEntity.fullyQualifiedName'),"
       " json_extract(e.json, '$.data.toEntity.type'),"
       " json_extract(e.json, '$.data.toEntity.fullyQualifiedName'),"
       " json_extract(j.value, '$.toColumn'), f.value FROM entities e,"
       " json_each(e.json, '$.data.lineageDetails.columnsLineage') j,"
       " json_each(j.value, '$.fromColumns') f"
       " WHERE e.kind = 'lineage' ORDER BY e.deleted, e.source, e.id, j.key, f.key",
       on_column_pair, "read column lineage"},
  };
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    if (host_catalog_each_row(ld->db, ld->path, ld->log, steps[i].sql, NULL, steps[i].fn, ld,
                              steps[i].action) != 0)
      return -1;
  }
  return 0;
}

int host_lineage_load(const char *catalog_path, struct host_log *log,
                      struct host_lineage_graph **out) {
  *out = NULL;
  struct loader ld = {.log = log, .path = catalog_path};
  int status = -1;
  ld.g = calloc(1, sizeof *ld.g);
  if (!ld.g || !(ld.g->ids = calloc(1, sizeof *ld.g->ids)) ||
      !(ld.g->eids = calloc(1, sizeof *ld.g->eids))) {
    oom(&ld);
    goto out;
  }
  if (host_catalog_open(catalog_path, log, &ld.db) != 0 || read_catalog(&ld) != 0 ||
      link_edges(&ld) != 0)
    goto out;
  *out = ld.g;
  ld.g = NULL;
  status = 0;
out:
  sqlite3_close(ld.db);
  for (size_t i = 0; i < ld.n_svc; i++) {
    free(ld.svc_names[i]);
    free(ld.svc_types[i]);
  }
  free(ld.svc_names);
  free(ld.svc_types);
  host_lineage_free(&ld.g);
  return status;
}

void host_lineage_free(struct host_lineage_graph **graph) {
  struct host_lineage_graph *g = *graph;
  if (!g)
    return;
  for (size_t i = 0; i < g->n_nodes; i++) {
    struct lg_node *n = &g->nodes[i];
    free(n->id);
    free(n->label);
    free(n->group);
    free(n->group_label);
    list_free(&n->columns, &n->n_columns);
    list_free(&n->fields, &n->n_fields);
    free(n->out);
    free(n->in);
  }
  for (size_t i = 0; i < g->n_edges; i++) {
    for (size_t j = 0; j < g->edges[i].n_pairs; j++) {
      free(g->edges[i].pairs[j].from);
      free(g->edges[i].pairs[j].to);
    }
    free(g->edges[i].pairs);
  }
  free(g->nodes);
  free(g->edges);
  lg_map_free(&g->ids);
  lg_map_free(&g->eids);
  free(g);
  *graph = NULL;
}

/* ---- selecting a view ---- */

/* A focus on a column narrows the edges next to it (see edge_passes). */
struct colfilter {
  const char *col; /* the focus column, or NULL: every edge passes */
  size_t node;     /* the node holding it */
  bool of_table;
  char ***reached; /* owned per node: a data model's columns fed by the focus column */
  size_t *n_reached;
};

static bool chart_shows(const struct lg_node *chart, char *const *cols, size_t n) {
  if (chart->n_fields == 0)
    return true; /* the chart does not say which columns it shows */
  for (size_t i = 0; i < n; i++)
    if (list_has(chart->fields, chart->n_fields, cols[i]))
      return true;
  return false;
}

static bool edge_passes(const struct host_lineage_graph *g, const struct colfilter *cf, size_t ei) {
  if (!cf->col)
    return true;
  const struct lg_edge *e = &g->edges[ei];
  const struct lg_node *to = &g->nodes[e->to];
  bool to_chart = strcmp(to->kind, "chart") == 0;
  if (cf->of_table && e->from == cf->node) {
    for (size_t i = 0; i < e->n_pairs; i++)
      if (strcasecmp(e->pairs[i].from, cf->col) == 0 || strcmp(e->pairs[i].from, "*") == 0)
        return true;
    return false;
  }
  if (!cf->of_table && e->to == cf->node) {
    for (size_t i = 0; i < e->n_pairs; i++)
      if (strcasecmp(e->pairs[i].to, cf->col) == 0)
        return true;
    return false;
  }
  if (!cf->of_table && e->from == cf->node && to_chart)
    return chart_shows(to, (char *const *)&cf->col, 1);
  if (cf->of_table && to_chart && cf->n_reached[e->from] > 0)
    return chart_shows(to, cf->reached[e->from], cf->n_reached[e->from]);
  return true;
}

static int colfilter_init(const struct host_lineage_graph *g, struct colfilter *cf) {
  if (!cf->col || !cf->of_table)
    return 0;
  cf->reached = calloc(g->n_nodes, sizeof *cf->reached);
  cf->n_reached = calloc(g->n_nodes, sizeof *cf->n_reached);
  if (!cf->reached || !cf->n_reached)
    return -1;
  const struct lg_node *t = &g->nodes[cf->node];
  for (size_t i = 0; i < t->n_out; i++) {
    const struct lg_edge *e = &g->edges[t->out[i]];
    for (size_t j = 0; j < e->n_pairs; j++)
      if ((strcasecmp(e->pairs[j].from, cf->col) == 0 || strcmp(e->pairs[j].from, "*") == 0) &&
          list_add_unique(&cf->reached[e->to], &cf->n_reached[e->to], e->pairs[j].to) != 0)
        return -1;
  }
  return 0;
}

static void colfilter_free(const struct host_lineage_graph *g, struct colfilter *cf) {
  if (cf->reached)
    for (size_t i = 0; i < g->n_nodes; i++)
      list_free(&cf->reached[i], &cf->n_reached[i]);
  free(cf->reached);
  free(cf->n_reached);
}

/* Finds a dashboard by FQN, or by id (its name) when that names exactly one. */
static size_t find_dashboard(const struct host_lineage_graph *g, const char *name,
                             struct host_log *log) {
  size_t at = lg_find(g, "dashboard", name), found = 0;
  if (at != SIZE_MAX)
    return at;
  size_t nl = strlen(name);
  for (size_t i = 0; i < g->n_nodes; i++) {
    const struct lg_node *n = &g->nodes[i];
    size_t fl = strlen(n->fqn);
    if (strcmp(n->kind, "dashboard") != 0 || fl <= nl + 1)
      continue;
    const char *tail = n->fqn + fl - nl;
    bool quoted = fl > nl + 3 && n->fqn[fl - 1] == '"' && strncmp(tail - 1, name, nl) == 0 &&
                  tail[-2] == '"' && tail[-3] == '.';
    if ((strcmp(tail, name) == 0 && tail[-1] == '.') || quoted) {
      if (found++ == 0)
        at = i;
      else
        host_log_msg(log, ETL_SEV_ERROR, NULL, NULL,
                     "dashboard id '%s' names '%s' and '%s' (several sources): give its FQN", name,
                     g->nodes[at].fqn, n->fqn);
    }
  }
  return found == 1 ? at : found > 1 ? SIZE_MAX - 1 : SIZE_MAX;
}

/* The node holding a column FQN (the longest table or data model FQN before a dot). */
static size_t find_column(const struct host_lineage_graph *g, const char *name, char **col) {
  char *buf = strdup(name);
  size_t at = SIZE_MAX;
  if (!buf)
    return SIZE_MAX;
  for (char *dot = strrchr(buf, '.'); dot && at == SIZE_MAX; dot = strrchr(buf, '.')) {
    *dot = '\0';
    at = lg_find(g, "table", buf);
    if (at == SIZE_MAX)
      at = lg_find(g, "dashboardDataModel", buf);
    if (at != SIZE_MAX && !(*col = strdup(name + (dot - buf) + 1)))
      at = SIZE_MAX;
  }
  free(buf);
  return at;
}

static int resolve_focus(const struct host_lineage_graph *g, const struct host_lineage_view *v,
                         struct lg_selection *sel, struct host_log *log) {
  const char *name = v->focus_name ? v->focus_name : "";
  const char *what = "dashboard";
  size_t at = SIZE_MAX;
  switch (v->focus) {
  case HOST_LINEAGE_FOCUS_ALL:
    sel->focus = SIZE_MAX;
    return 0;
  case HOST_LINEAGE_FOCUS_DASHBOARD:
    at = find_dashboard(g, name, log);
    if (at == SIZE_MAX - 1)
      return -1;
    break;
  case HOST_LINEAGE_FOCUS_TABLE:
    what = "table";
    at = lg_find(g, "table", name);
    break;
  case HOST_LINEAGE_FOCUS_COLUMN:
    what = "column";
    at = find_column(g, name, &sel->focus_column);
    if (at != SIZE_MAX && strcmp(sel->focus_column, "*") != 0 &&
        !list_has(g->nodes[at].columns, g->nodes[at].n_columns, sel->focus_column)) {
      host_log_msg(log, ETL_SEV_ERROR, NULL, NULL,
                   "no column '%s' of %s '%s' in the catalog's column lineage", sel->focus_column,
                   g->nodes[at].kind, g->nodes[at].fqn);
      return -1;
    }
    break;
  }
  if (at == SIZE_MAX) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL, "no %s '%s' in the catalog%s", what, name,
                 v->focus == HOST_LINEAGE_FOCUS_DASHBOARD
                     ? ""
                     : " (tables and their columns are known from lineage rows only)");
    return -1;
  }
  if (g->nodes[at].deleted && !v->show_deleted) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL,
                 "%s '%s' is deleted in the catalog (--show-deleted draws it)", g->nodes[at].kind,
                 g->nodes[at].fqn);
    return -1;
  }
  sel->focus = at;
  return 0;
}

static bool node_visible(const struct lg_node *n, const struct host_lineage_view *v) {
  return !n->deleted || v->show_deleted;
}

static bool edge_visible(const struct host_lineage_graph *g, size_t ei,
                         const struct host_lineage_view *v) {
  const struct lg_edge *e = &g->edges[ei];
  return (!e->deleted || v->show_deleted) && node_visible(&g->nodes[e->from], v) &&
         node_visible(&g->nodes[e->to], v);
}

struct walk {
  const struct host_lineage_graph *g;
  const struct host_lineage_view *v;
  struct colfilter *cf;
  struct lg_selection *sel;
  int *depth[2]; /* owned: per direction, the depth a node was reached at, or -1 */
  size_t *queue; /* owned: node * 2 + direction */
  size_t q_head, q_tail;
  size_t fanout;
};

static void reach(struct walk *w, size_t node, enum lg_dir dir, int depth) {
  if (w->depth[dir][node] >= 0)
    return;
  w->depth[dir][node] = depth;
  w->sel->node_on[node] = true;
  w->queue[w->q_tail++] = node * 2 + dir;
}

static void expand(struct walk *w, size_t node, enum lg_dir dir) {
  const struct lg_node *n = &w->g->nodes[node];
  int d = w->depth[dir][node];
  if (w->v->depth > 0 && d >= w->v->depth)
    return;
  const size_t *list = dir == LG_DOWN ? n->out : n->in;
  size_t len = dir == LG_DOWN ? n->n_out : n->n_in, taken = 0;
  for (size_t i = 0; i < len && taken < w->fanout; i++) {
    if (!edge_visible(w->g, list[i], w->v) || !edge_passes(w->g, w->cf, list[i]))
      continue;
    const struct lg_edge *e = &w->g->edges[list[i]];
    reach(w, dir == LG_DOWN ? e->to : e->from, dir, d + 1);
    taken++;
  }
}

/* Adds a "more" mark, merging marks of the same node, direction and kind. */
static int add_more(struct lg_selection *sel, size_t node, enum lg_dir dir, const char *kind,
                    bool by_depth) {
  for (size_t i = sel->n_more; i-- > 0;) {
    struct lg_more *m = &sel->more[i];
    if (m->node != node || m->dir != dir)
      break;
    if (m->kind == kind) {
      m->count++;
      return 0;
    }
  }
  struct lg_more *grown = realloc(sel->more, (sel->n_more + 1) * sizeof *grown);
  if (!grown)
    return -1;
  sel->more = grown;
  sel->more[sel->n_more++] =
      (struct lg_more){.node = node, .dir = dir, .kind = kind, .count = 1, .by_depth = by_depth};
  return 0;
}

/* Counts, for every node reached in a direction, the neighbours there that are not drawn. */
static int mark_left_out(struct walk *w) {
  const struct host_lineage_graph *g = w->g;
  bool *counted = calloc(g->n_nodes + 1, sizeof *counted);
  if (!counted)
    return -1;
  for (size_t node = 0; node < g->n_nodes; node++) {
    for (int dir = LG_UP; dir <= LG_DOWN; dir++) {
      int d = w->depth[dir][node];
      if (d < 0)
        continue;
      const struct lg_node *n = &g->nodes[node];
      const size_t *list = dir == LG_DOWN ? n->out : n->in;
      size_t len = dir == LG_DOWN ? n->n_out : n->n_in;
      for (size_t i = 0; i < len; i++) {
        const struct lg_edge *e = &g->edges[list[i]];
        size_t far = dir == LG_DOWN ? e->to : e->from;
        if (w->sel->node_on[far] || !edge_visible(g, list[i], w->v) ||
            !edge_passes(g, w->cf, list[i]))
          continue;
        bool by_depth = w->v->depth > 0 && d >= w->v->depth;
        if (add_more(w->sel, node, (enum lg_dir)dir, g->nodes[far].kind, by_depth) != 0) {
          free(counted);
          return -1;
        }
        if (!counted[far]) {
          counted[far] = true;
          w->sel->omitted++;
        }
      }
    }
  }
  free(counted);
  return 0;
}

static void pick_edges(struct walk *w) {
  const struct host_lineage_graph *g = w->g;
  for (size_t i = 0; i < g->n_edges; i++) {
    const struct lg_edge *e = &g->edges[i];
    w->sel->edge_on[i] = w->sel->node_on[e->from] && w->sel->node_on[e->to] &&
                         edge_visible(g, i, w->v) && edge_passes(g, w->cf, i);
    w->sel->edges += w->sel->edge_on[i];
  }
  for (size_t i = 0; i < g->n_nodes; i++)
    w->sel->nodes += w->sel->node_on[i];
}

static void seed(struct walk *w) {
  const struct host_lineage_graph *g = w->g;
  if (w->sel->focus != SIZE_MAX) {
    bool both = !w->v->upstream && !w->v->downstream;
    if (both || w->v->upstream)
      reach(w, w->sel->focus, LG_UP, 0);
    if (both || w->v->downstream)
      reach(w, w->sel->focus, LG_DOWN, 0);
    return;
  }
  for (size_t i = 0; i < g->n_nodes; i++) {
    const struct lg_node *n = &g->nodes[i];
    bool fed = false;
    for (size_t j = 0; j < n->n_in && !fed; j++)
      fed = edge_visible(g, n->in[j], w->v);
    if (node_visible(n, w->v) && !fed)
      reach(w, i, LG_DOWN, 0);
  }
}

int lg_select(const struct host_lineage_graph *g, const struct host_lineage_view *view,
              struct lg_selection *sel, struct host_log *log) {
  *sel = (struct lg_selection){0};
  struct colfilter cf = {0};
  struct walk w = {.g = g, .v = view, .cf = &cf, .sel = sel};
  int status = -1;
  w.fanout = view->max_fanout > 0 ? (size_t)view->max_fanout : HOST_LINEAGE_DEFAULT_FANOUT;
  if (resolve_focus(g, view, sel, log) != 0)
    goto out;
  cf.col = sel->focus_column;
  cf.node = sel->focus;
  cf.of_table = sel->focus != SIZE_MAX && strcmp(g->nodes[sel->focus].kind, "table") == 0;
  sel->node_on = calloc(g->n_nodes + 1, sizeof *sel->node_on);
  sel->edge_on = calloc(g->n_edges + 1, sizeof *sel->edge_on);
  w.depth[LG_UP] = malloc((g->n_nodes + 1) * sizeof(int));
  w.depth[LG_DOWN] = malloc((g->n_nodes + 1) * sizeof(int));
  w.queue = malloc((2 * g->n_nodes + 1) * sizeof *w.queue);
  if (!sel->node_on || !sel->edge_on || !w.depth[0] || !w.depth[1] || !w.queue ||
      colfilter_init(g, &cf) != 0) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL, "lineage: out of memory");
    goto out;
  }
  for (size_t i = 0; i < g->n_nodes; i++)
    w.depth[LG_UP][i] = w.depth[LG_DOWN][i] = -1;
  seed(&w);
  while (w.q_head < w.q_tail) {
    size_t item = w.queue[w.q_head++];
    expand(&w, item / 2, (enum lg_dir)(item % 2));
  }
  if (mark_left_out(&w) != 0) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL, "lineage: out of memory");
    goto out;
  }
  pick_edges(&w);
  status = 0;
out:
  colfilter_free(g, &cf);
  free(w.depth[LG_UP]);
  free(w.depth[LG_DOWN]);
  free(w.queue);
  if (status != 0)
    lg_selection_free(sel);
  return status;
}

int host_lineage_check_focus(const struct host_lineage_graph *graph,
                             const struct host_lineage_view *view, struct host_log *log) {
  struct lg_selection sel = {0};
  int rc = resolve_focus(graph, view, &sel, log);
  free(sel.focus_column);
  return rc;
}

void lg_selection_free(struct lg_selection *sel) {
  free(sel->node_on);
  free(sel->edge_on);
  free(sel->focus_column);
  free(sel->more);
  *sel = (struct lg_selection){0};
}
