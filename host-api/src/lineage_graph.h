/*
 * lineage_graph.h -- the catalog's lineage as plain data, and the selection of a view (no
 * Graphviz here: lineage_render.c draws what this module picks). Internal to the host; the
 * public face is lineage.h.
 */
#ifndef HOST_LINEAGE_GRAPH_H
#define HOST_LINEAGE_GRAPH_H

#include "lineage.h"

#include <stdbool.h>
#include <stddef.h>

/* A column pair of a table -> data model edge: column names, without their node's FQN. */
struct lg_colpair {
  char *from, *to; /* owned */
};

struct lg_node {
  const char *kind;  /* static: "table", "dashboardDataModel", "dashboard", "chart" */
  char *id;          /* owned: "<kind>:<fqn>" */
  const char *fqn;   /* points into id */
  char *label;       /* owned: the display name */
  char *group;       /* owned: the cluster ("service" or "service.database"), may be NULL */
  char *group_label; /* owned: the cluster's caption, may be NULL */
  bool deleted;      /* deleted in the catalog (a table: every lineage row that names it is) */
  bool in_catalog;   /* an entity row exists (tables never have one) */
  char **columns;    /* owned: a data model's columns, a table's columns named by lineage */
  size_t n_columns;
  char **fields; /* owned: a chart's query fields (names of its data model's columns) */
  size_t n_fields;
  size_t *out, n_out, *in, n_in; /* owned: edge indices, sorted by the far end's order */
};

enum lg_edge_kind { LG_EDGE_LINEAGE, LG_EDGE_PART_OF };

struct lg_edge {
  size_t from, to;
  enum lg_edge_kind kind; /* a lineage row, or a chart that is part of a dashboard */
  bool deleted;
  struct lg_colpair *pairs; /* owned: column lineage (table -> data model only) */
  size_t n_pairs;
};

struct host_lineage_graph {
  struct lg_node *nodes; /* owned */
  size_t n_nodes;
  struct lg_edge *edges; /* owned */
  size_t n_edges;
  struct lg_map *ids;  /* owned: node id -> index */
  struct lg_map *eids; /* owned: "<from-id>-><to-id>" -> edge index */
};

enum lg_dir { LG_UP = 0, LG_DOWN = 1 };

/* Neighbours of one node left out in one direction, of one kind. */
struct lg_more {
  size_t node;
  enum lg_dir dir;
  const char *kind; /* static */
  size_t count;
  bool by_depth; /* the depth limit, not the fan-out cap, left them out */
};

/* What a view draws. Owned by the caller; free with lg_selection_free. */
struct lg_selection {
  bool *node_on;        /* owned: per node */
  bool *edge_on;        /* owned: per edge */
  size_t focus;         /* the focus node, or SIZE_MAX for the whole graph */
  char *focus_column;   /* owned: the focus column's name, or NULL */
  struct lg_more *more; /* owned */
  size_t n_more;
  size_t omitted;      /* distinct nodes left out by the cap or the depth */
  size_t nodes, edges; /* drawn */
};

/* Picks the nodes and edges VIEW draws. 0, or -1 with a logged error (unknown focus). */
int lg_select(const struct host_lineage_graph *g, const struct host_lineage_view *view,
              struct lg_selection *sel, struct host_log *log);
void lg_selection_free(struct lg_selection *sel);

/* A string -> index map (open addressing, keys copied): node and edge ids here, Graphviz
 * object names in lineage_render.c. Create with calloc(1, sizeof(struct lg_map)). */
struct lg_map {
  char **keys; /* owned, with their strings */
  size_t *vals;
  size_t cap, len;
};
/* The value of key, or SIZE_MAX. */
size_t lg_map_get(const struct lg_map *m, const char *key);
/* Adds key -> val (key must not be there yet). 0, or -1 on OOM. */
int lg_map_put(struct lg_map *m, const char *key, size_t val);
/* Frees the keys, leaving an empty map (for a map inside another struct). */
void lg_map_clear(struct lg_map *m);
/* lg_map_clear, then frees the map; NULL-safe; sets *m to NULL. */
void lg_map_free(struct lg_map **m);

/* The index of node "<kind>:<fqn>", or SIZE_MAX. */
size_t lg_find(const struct host_lineage_graph *g, const char *kind, const char *fqn);

/* The plural of a kind for messages ("charts", "data models"); static. */
const char *lg_kind_plural(const char *kind);

#endif
