/*
 * lineage.h -- lineage pictures of the default SQLite catalog (issue 15).
 *
 * The idea. The catalog (sink_sqlite.c) holds entities as JSON rows; lineage rows tie tables
 * (which are no entities: they exist only as lineage ends) to data models, data models to
 * dashboards and charts, and a dashboard lists its charts. host_lineage_load reads all of it once
 * into a graph of nodes (table, dashboardDataModel, chart, dashboard) and edges; a view then
 * picks part of it (a focus, a direction, a depth, a fan-out cap) and host_lineage_render draws it
 * with Graphviz's libraries.
 *
 * Node ids in the DOT/SVG output: each node's Graphviz `id` is `<kind>:<fqn>`; an edge's id is
 * `<from-id>-><to-id>`. Columns (view.columns) are cells `column:<node fqn>.<column>` of their
 * node, and column edges are `column:<from>->column:<to>`. A node that stands for neighbours
 * left out is `more:<up|down>:<node-id>:<kind>` ("… and 12 more charts").
 *
 * Not thread-safe: Graphviz keeps global state. Call from one thread at a time.
 */
#ifndef HOST_LINEAGE_H
#define HOST_LINEAGE_H

#include <stdbool.h>
#include <stddef.h>

struct host_log;
/* The lineage of one SQLite catalog (the default sink's file), read once, read-only. */
struct host_lineage_graph;

/* Opens CATALOG read-only (never creates it), reads every entity it needs and closes it.
 * 0 on success (*out owned by the caller, free with host_lineage_free); -1 with a logged error
 * naming the file and what is wrong (missing, not a catalog, newer schema, bad JSON in row X). */
int host_lineage_load(const char *catalog_path, struct host_log *log,
                      struct host_lineage_graph **out);
/* NULL-safe; sets *graph to NULL. */
void host_lineage_free(struct host_lineage_graph **graph);

enum host_lineage_focus {
  HOST_LINEAGE_FOCUS_ALL,       /* the whole graph */
  HOST_LINEAGE_FOCUS_DASHBOARD, /* focus_name: a dashboard's FQN ("mode_demo.3fc3438a1065") or id */
  HOST_LINEAGE_FOCUS_TABLE,     /* focus_name: a table FQN ("warehouse.dev.analytics.orders") */
  HOST_LINEAGE_FOCUS_COLUMN,    /* focus_name: a column FQN (table FQN + "." + column) */
};
enum host_lineage_format { HOST_LINEAGE_DOT, HOST_LINEAGE_SVG, HOST_LINEAGE_PNG };

struct host_lineage_view {
  enum host_lineage_focus focus;
  const char *focus_name;
  bool upstream, downstream; /* neither set: both directions */
  int depth;                 /* edges away from the focus; 0: no limit */
  int max_fanout;            /* neighbours drawn per node and direction; 0: the default (25) */
  bool show_deleted; /* draw deleted entities (marked as deleted) instead of leaving them out */
  bool columns;      /* columns as fields of their node where column lineage exists */
  /* Optional: the link of a drawn node (an SVG href), or NULL for none. Returns a malloc'd
   * string that the renderer frees. kind is "table", "dashboardDataModel", "dashboard" or
   * "chart"; fqn is the node's fullyQualifiedName. */
  char *(*href)(void *ctx, const char *kind, const char *fqn);
  void *href_ctx;
  /* Added: log (as warnings) each group of neighbours left out by max_fanout or depth, naming
   * the node; the command line sets it, a site of many pictures leaves it off. */
  bool log_omitted;
};

#define HOST_LINEAGE_DEFAULT_FANOUT 25

struct host_lineage_stats {
  size_t nodes, edges;  /* drawn: entity nodes and entity edges (not columns, not "more" marks) */
  size_t omitted_nodes; /* left out by max_fanout or depth (the picture says so too) */
};

/* Renders VIEW of GRAPH with Graphviz's libgvc/libcgraph (dot layout) in FORMAT.
 * 0: *out is malloc'd (owned by the caller), *out_len its bytes; stats may be NULL.
 * -1: a logged error (unknown focus: "no dashboard 'X' in the catalog"). */
int host_lineage_render(const struct host_lineage_graph *graph,
                        const struct host_lineage_view *view, enum host_lineage_format format,
                        char **out, size_t *out_len, struct host_lineage_stats *stats,
                        struct host_log *log);

/* Added: whether VIEW's focus is in GRAPH (and not deleted, unless show_deleted). 0, or -1
 * with the same logged error as host_lineage_render gives. */
int host_lineage_check_focus(const struct host_lineage_graph *graph,
                             const struct host_lineage_view *view, struct host_log *log);

#endif
