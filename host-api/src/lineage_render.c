/*
 * lineage_render.c -- drawing a selection of the lineage graph with Graphviz (libcgraph builds
 * the graph, libgvc lays it out with dot and renders it); the only file that knows Graphviz.
 *
 * Every Graphviz string attribute of ours goes through one of two escapers: escstr() for the
 * "escString" attributes (label, id, tooltip, href: Graphviz expands \N, \G, \n... in them, so a
 * backslash in a name is doubled) and html() for HTML-like labels (columns as table cells).
 * Graphviz's own messages are routed to our log (agseterrf has no context pointer, hence the one
 * file-local pointer, set only for the duration of a render: Graphviz is not thread-safe anyway).
 *
 * One Graphviz context serves every render of the process: creating one reads Graphviz's plugin
 * configuration and loads plugins, which costs more than laying out a small picture, and in
 * Graphviz 2.43 leaks that configuration's text each time. The context stays for the life of
 * the process (still reachable at exit, like a loaded library).
 *
 * Graphviz 2.43 also leaks inside its dot layout (virtual and auxiliary edges of clusters),
 * and its pango/fontconfig text plugin leaks while measuring text: none of it is ours to free.
 * tests/e2e/graphviz.supp (valgrind) and lsan_suppressions below (LeakSanitizer) name exactly
 * those libraries and gvconfig (not libgvc or libcgraph as a whole), so an allocation of ours
 * is still reported.
 */
#include "config.h"

#include "lineage.h"
#include "lineage_graph.h"
#include "log.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct render {
  const struct host_lineage_graph *g;
  const struct host_lineage_view *v;
  const struct lg_selection *sel;
  struct host_log *log;
  Agraph_t *root;      /* owned: agclose */
  Agnode_t **gv_nodes; /* owned array, per graph node (NULL: not drawn) */
  char **groups;       /* borrowed from nodes: cluster names in order of first use */
  Agraph_t **clusters; /* owned array (subgraphs belong to root) */
  size_t n_groups;
  int failed; /* an allocation failed somewhere */
};

static struct host_log *gv_log; /* the log of the render running now (see the top) */
static GVC_t *gv_context;       /* shared by every render (see the top); never freed */

/* LeakSanitizer's hook (used only in -fsanitize=address builds): Graphviz's own leaks. LSan's
 * fast unwinder stops in Graphviz's libraries (built without frame pointers), so a leak of the
 * dot layout shows only malloc <- gmalloc: gmalloc/grealloc/zmalloc are libgvc's allocator,
 * which libgvc and its plugins use and libcgraph (our graph) and our code never do; glib is
 * pango's, never ours. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
  return "leak:gmalloc\n"
         "leak:grealloc\n"
         "leak:zmalloc\n"
         "leak:libgvplugin_dot_layout.so\n"
         "leak:libgvplugin_pango.so\n"
         "leak:libpango\n"
         "leak:libglib-2.0.so\n" /* pango's markup attributes: g_malloc <- pango, unwound no further
                                  */
         "leak:libfontconfig.so\n"
         "leak:gvconfig\n";
}

static int gv_error(char *msg) {
  size_t n = strlen(msg);
  while (n > 0 && msg[n - 1] == '\n')
    n--;
  host_log_msg(gv_log, ETL_SEV_WARNING, "graphviz", NULL, "%.*s", (int)n, msg);
  return 0;
}

/*
 * Graphviz object ids. cgraph's default id discipline makes a name's id the address of its
 * interned string, and keeps subgraphs ordered by id: the clusters, and so the layout, came in
 * the order malloc placed their names, which changes from one picture to the next in a process
 * that draws many (the site). These ids are 2, 4, 6... in order of first use (anonymous objects
 * odd, as in the default), so the same graph gives the same bytes.
 */
struct gv_ids {
  struct lg_map names; /* name -> index into list */
  char **list;         /* owned */
  size_t n;
  IDTYPE anonymous;
};

static void *ids_open(Agraph_t *g, Agdisc_t *disc) {
  return calloc(1, sizeof(struct gv_ids));
}

static long ids_map(void *state, int objtype, char *str, IDTYPE *id, int createflag) {
  struct gv_ids *s = state;
  if (!str) {
    *id = 2 * ++s->anonymous + 1;
    return 1;
  }
  size_t at = lg_map_get(&s->names, str);
  if (at == SIZE_MAX) {
    char **grown = createflag ? realloc(s->list, (s->n + 1) * sizeof *grown) : NULL;
    if (!grown)
      return 0; /* not known (or out of memory): cgraph treats it as absent */
    s->list = grown;
    if (!(grown[s->n] = strdup(str)) || lg_map_put(&s->names, str, s->n) != 0)
      return 0;
    at = s->n++;
  }
  *id = 2 * ((IDTYPE)at + 1);
  return 1;
}

static long ids_alloc(void *state, int objtype, IDTYPE request) {
  return 0;
}
static void ids_free(void *state, int objtype, IDTYPE id) {} /* names live until close */

static char *ids_print(void *state, int objtype, IDTYPE id) {
  const struct gv_ids *s = state;
  return id % 2 == 0 && id / 2 - 1 < s->n ? s->list[id / 2 - 1] : NULL;
}

static void ids_close(void *state) {
  struct gv_ids *s = state;
  for (size_t i = 0; i < s->n; i++)
    free(s->list[i]);
  free(s->list);
  lg_map_clear(&s->names);
  free(s);
}

static void ids_register(void *state, int objtype, void *obj) {}

static Agiddisc_t gv_id_disc = {ids_open,  ids_map,   ids_alloc,   ids_free,
                                ids_print, ids_close, ids_register};

/* Appends to a malloc'd string; on OOM frees it and sets it to NULL. */
static void cat(char **s, size_t *len, const char *add, size_t n) {
  if (!*s)
    return;
  char *grown = realloc(*s, *len + n + 1);
  if (!grown) {
    free(*s);
    *s = NULL;
    return;
  }
  memcpy(grown + *len, add, n);
  *len += n;
  grown[*len] = '\0';
  *s = grown;
}

/* s with every backslash doubled (Graphviz's escString). Caller frees; NULL on OOM. */
static char *escstr(const char *s) {
  size_t len = 0;
  char *out = calloc(1, 1);
  for (const char *p = s; *p && out; p++)
    cat(&out, &len, *p == '\\' ? "\\\\" : p, *p == '\\' ? 2 : 1);
  return out;
}

/* Appends s with XML's five characters escaped (HTML-like labels). */
static void cat_html(char **out, size_t *len, const char *s) {
  for (const char *p = s; *p && *out; p++) {
    const char *e = *p == '&'    ? "&amp;"
                    : *p == '<'  ? "&lt;"
                    : *p == '>'  ? "&gt;"
                    : *p == '"'  ? "&quot;"
                    : *p == '\'' ? "&#39;"
                                 : NULL;
    cat(out, len, e ? e : p, e ? strlen(e) : 1);
  }
}

static void cat_str(char **out, size_t *len, const char *s) {
  cat(out, len, s, strlen(s));
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  char *s = NULL;
  int n = vasprintf(&s, f, ap);
  va_end(ap);
  return n < 0 ? NULL : s;
}

/* Sets a plain attribute (value used as is). */
static void set(struct render *r, void *obj, const char *name, const char *value) {
  if (!value) {
    r->failed = 1;
    return;
  }
  agsafeset(obj, (char *)name, (char *)value, "");
}

/* Sets an escString attribute from arbitrary text; takes ownership of a malloc'd value. */
static void set_esc(struct render *r, void *obj, const char *name, char *value) {
  char *e = value ? escstr(value) : NULL;
  set(r, obj, name, e);
  free(e);
  free(value);
}

static Agraph_t *cluster_of(struct render *r, const struct lg_node *n) {
  if (!n->group)
    return r->root;
  for (size_t i = 0; i < r->n_groups; i++)
    if (strcmp(r->groups[i], n->group) == 0)
      return r->clusters[i];
  char name[32];
  snprintf(name, sizeof name, "cluster_%zu", r->n_groups);
  Agraph_t *sub = agsubg(r->root, name, 1);
  if (!sub) {
    r->failed = 1;
    return r->root;
  }
  r->groups[r->n_groups] = n->group;
  r->clusters[r->n_groups++] = sub;
  bool table = strcmp(n->kind, "table") == 0;
  set_esc(r, sub, "id", fmt("cluster:%s", n->group));
  set_esc(r, sub, "label", strdup(n->group_label ? n->group_label : n->group));
  set(r, sub, "style", "rounded,filled");
  set(r, sub, "fillcolor", table ? "#f4f6f8" : "#f8f6f2");
  set(r, sub, "color", "#b0b8c0");
  return sub;
}

static const char *fill_of(const char *kind) {
  switch (kind[0]) {
  case 't':
    return "#dbe8fb";
  case 'c':
    return "#dcf0e2";
  default:
    return kind[9] == 'D' ? "#fdf0cc" : "#f9dcd9";
  }
}

/* Whether node columns are drawn: asked for (or a column focus), and the node has some. */
static bool draws_columns(const struct render *r, const struct lg_node *n) {
  bool asked = r->v->columns || r->sel->focus_column;
  bool kind = strcmp(n->kind, "table") == 0 || strcmp(n->kind, "dashboardDataModel") == 0;
  return asked && kind && n->n_columns > 0;
}

/* An HTML-like label: the name, then one cell per column (port "c<i>", id "column:<fqn>.<c>").
 * Graphviz 2.43 writes a cell's ID and TOOLTIP into SVG only for a cell with a link, so the
 * cells get the node's link when there is one (the DOT has the ids either way). */
static char *columns_label(const struct render *r, size_t at, const char *link) {
  const struct lg_node *n = &r->g->nodes[at];
  size_t len = 0;
  char *s = calloc(1, 1);
  cat_str(&s, &len,
          "<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"0\" CELLPADDING=\"3\""
          " BGCOLOR=\"white\">"
          "<TR><TD BGCOLOR=\"");
  cat_str(&s, &len, fill_of(n->kind));
  cat_str(&s, &len, "\"><B>");
  cat_html(&s, &len, n->label);
  cat_str(&s, &len, n->deleted ? " (deleted)</B></TD></TR>" : "</B></TD></TR>");
  for (size_t i = 0; i < n->n_columns; i++) {
    bool focus = at == r->sel->focus && r->sel->focus_column &&
                 strcasecmp(r->sel->focus_column, n->columns[i]) == 0;
    char port[96];
    snprintf(port, sizeof port, "<TR><TD PORT=\"c%zu\" ALIGN=\"LEFT\"%s ID=\"", i,
             focus ? " BGCOLOR=\"#ffe08a\"" : "");
    cat_str(&s, &len, port);
    cat_html(&s, &len, "column:");
    cat_html(&s, &len, n->fqn);
    cat_str(&s, &len, ".");
    cat_html(&s, &len, n->columns[i]);
    if (link) {
      cat_str(&s, &len, "\" HREF=\"");
      cat_html(&s, &len, link);
    }
    cat_str(&s, &len, "\" TOOLTIP=\"");
    cat_html(&s, &len, n->fqn);
    cat_str(&s, &len, ".");
    cat_html(&s, &len, n->columns[i]);
    cat_str(&s, &len, "\">");
    cat_html(&s, &len, n->columns[i]);
    cat_str(&s, &len, "</TD></TR>");
  }
  cat_str(&s, &len, "</TABLE>");
  return s;
}

static void draw_node(struct render *r, size_t at) {
  const struct lg_node *n = &r->g->nodes[at];
  Agnode_t *gn = agnode(cluster_of(r, n), n->id, 1);
  if (!gn) {
    r->failed = 1;
    return;
  }
  r->gv_nodes[at] = gn;
  set_esc(r, gn, "id", strdup(n->id));
  set_esc(r, gn, "tooltip", fmt("%s %s%s", n->kind, n->fqn, n->deleted ? " (deleted)" : ""));
  char *link = r->v->href ? r->v->href(r->v->href_ctx, n->kind, n->fqn) : NULL; /* owned */
  if (draws_columns(r, n)) {
    char *html = columns_label(r, at, link);
    char *label = html ? agstrdup_html(r->root, html) : NULL;
    set(r, gn, "shape", "plain");
    set(r, gn, "label", label);
    if (label)
      agstrfree(r->root, label);
    free(html);
  } else {
    char *label = escstr(n->label); /* then a Graphviz line break, not an escaped one */
    char *full = label ? fmt("%s%s", label, n->deleted ? "\\n(deleted)" : "") : NULL;
    set(r, gn, "label", full);
    free(full);
    free(label);
    set(r, gn, "fillcolor", fill_of(n->kind));
    set(r, gn, "style", n->deleted ? "rounded,filled,dashed" : "rounded,filled");
  }
  if (n->deleted) {
    set(r, gn, "color", "#9aa0a6");
    set(r, gn, "fontcolor", "#80868b");
  }
  if (at == r->sel->focus)
    set(r, gn, "penwidth", "3");
  if (link)
    set_esc(r, gn, "href", link); /* takes link */
}

static size_t column_index(const struct lg_node *n, const char *name) {
  for (size_t i = 0; i < n->n_columns; i++)
    if (strcasecmp(n->columns[i], name) == 0)
      return i;
  return SIZE_MAX;
}

static void draw_column_edges(struct render *r, const struct lg_edge *e, Agnode_t *t, Agnode_t *h) {
  const struct lg_node *from = &r->g->nodes[e->from], *to = &r->g->nodes[e->to];
  if (!draws_columns(r, from) || !draws_columns(r, to))
    return;
  const char *focus = r->sel->focus_column;
  for (size_t i = 0; i < e->n_pairs; i++) {
    const struct lg_colpair *p = &e->pairs[i];
    if (focus && e->from == r->sel->focus && strcasecmp(p->from, focus) != 0 &&
        strcmp(p->from, "*") != 0)
      continue; /* a column focus draws the focus column's edges only */
    if (focus && e->to == r->sel->focus && strcasecmp(p->to, focus) != 0)
      continue;
    size_t fi = column_index(from, e->pairs[i].from), ti = column_index(to, e->pairs[i].to);
    Agedge_t *ge = fi == SIZE_MAX || ti == SIZE_MAX ? NULL : agedge(r->root, t, h, NULL, 1);
    if (!ge)
      continue;
    char port[32];
    set_esc(
        r, ge, "id",
        fmt("column:%s.%s->column:%s.%s", from->fqn, e->pairs[i].from, to->fqn, e->pairs[i].to));
    snprintf(port, sizeof port, "c%zu:e", fi);
    set(r, ge, "tailport", port);
    snprintf(port, sizeof port, "c%zu:w", ti);
    set(r, ge, "headport", port);
    set(r, ge, "color", "#5f8fd0");
    set(r, ge, "arrowsize", "0.6");
  }
}

static void draw_edge(struct render *r, size_t at) {
  const struct lg_edge *e = &r->g->edges[at];
  Agnode_t *t = r->gv_nodes[e->from], *h = r->gv_nodes[e->to];
  Agedge_t *ge = t && h ? agedge(r->root, t, h, NULL, 1) : NULL;
  if (!ge) {
    r->failed = 1;
    return;
  }
  const struct lg_node *from = &r->g->nodes[e->from], *to = &r->g->nodes[e->to];
  set_esc(r, ge, "id", fmt("%s->%s", from->id, to->id));
  set_esc(r, ge, "tooltip",
          fmt("%s %s %s", from->fqn, e->kind == LG_EDGE_PART_OF ? "is part of" : "->", to->fqn));
  if (e->kind == LG_EDGE_PART_OF) {
    set(r, ge, "style", "dotted");
    set(r, ge, "arrowhead", "odiamond");
  }
  if (e->deleted) {
    set(r, ge, "style", "dashed");
    set(r, ge, "color", "#9aa0a6");
  }
  if (draws_columns(r, from) && draws_columns(r, to) && e->n_pairs > 0) {
    set(r, ge, "color", "#c0c4c8"); /* the column edges carry the detail */
    draw_column_edges(r, e, t, h);
  }
}

static void log_more(struct render *r, const struct lg_more *m) {
  const struct lg_node *n = &r->g->nodes[m->node];
  const char *plural = lg_kind_plural(m->kind);
  int fanout = r->v->max_fanout > 0 ? r->v->max_fanout : HOST_LINEAGE_DEFAULT_FANOUT;
  char why[64];
  if (m->by_depth)
    snprintf(why, sizeof why, "beyond depth %d", r->v->depth);
  else
    snprintf(why, sizeof why, "over the fan-out cap of %d", fanout);
  host_log_msg(r->log, ETL_SEV_WARNING, "lineage", NULL, "%s '%s': %zu %.*s %s left out (%s)",
               n->kind, n->fqn, m->count, (int)strlen(plural) - (m->count == 1), plural,
               m->dir == LG_DOWN ? "downstream" : "upstream", why);
}

static void draw_more(struct render *r, const struct lg_more *m) {
  const struct lg_node *n = &r->g->nodes[m->node];
  Agnode_t *at = r->gv_nodes[m->node];
  const char *dir = m->dir == LG_DOWN ? "down" : "up";
  char *id = fmt("more:%s:%s:%s", dir, n->id, m->kind);
  Agnode_t *mn = id ? agnode(r->root, id, 1) : NULL;
  if (!mn || !at) {
    free(id);
    r->failed = 1;
    return;
  }
  const char *plural = lg_kind_plural(m->kind);
  set_esc(r, mn, "id", id); /* takes id */
  set_esc(r, mn, "label",
          fmt("… and %zu more %.*s", m->count, (int)strlen(plural) - (m->count == 1), plural));
  set(r, mn, "shape", "note");
  set(r, mn, "style", "dashed");
  set(r, mn, "fontcolor", "#5f6368");
  Agedge_t *ge =
      m->dir == LG_DOWN ? agedge(r->root, at, mn, NULL, 1) : agedge(r->root, mn, at, NULL, 1);
  if (!ge) {
    r->failed = 1;
    return;
  }
  const char *mid = agnameof(mn);
  set_esc(r, ge, "id", m->dir == LG_DOWN ? fmt("%s->%s", n->id, mid) : fmt("%s->%s", mid, n->id));
  set(r, ge, "style", "dashed");
  set(r, ge, "color", "#9aa0a6");
  if (r->v->log_omitted)
    log_more(r, m);
}

static void graph_defaults(struct render *r) {
  Agraph_t *g = r->root;
  set(r, g, "rankdir", "LR");
  set(r, g, "fontname", "Helvetica,Arial,sans-serif");
  set(r, g, "fontsize", "11");
  set(r, g, "nodesep", "0.25");
  set(r, g, "ranksep", "0.9");
  set(r, g, "id", "lineage");
  agattr(g, AGNODE, "shape", "box");
  agattr(g, AGNODE, "fontname", "Helvetica,Arial,sans-serif");
  agattr(g, AGNODE, "fontsize", "11");
  agattr(g, AGNODE, "margin", "0.12,0.05");
  agattr(g, AGEDGE, "color", "#5f6368");
  agattr(g, AGEDGE, "arrowsize", "0.7");
}

static int build(struct render *r) {
  const struct host_lineage_graph *g = r->g;
  static Agdisc_t disc; /* AgMemDisc and AgIoDisc are Graphviz's, set at the first call */
  disc = (Agdisc_t){.mem = &AgMemDisc, .id = &gv_id_disc, .io = &AgIoDisc};
  r->root = agopen("lineage", Agdirected, &disc);
  r->gv_nodes = calloc(g->n_nodes + 1, sizeof *r->gv_nodes);
  r->groups = calloc(g->n_nodes + 1, sizeof *r->groups);
  r->clusters = calloc(g->n_nodes + 1, sizeof *r->clusters);
  if (!r->root || !r->gv_nodes || !r->groups || !r->clusters)
    return -1;
  graph_defaults(r);
  for (size_t i = 0; i < g->n_nodes; i++)
    if (r->sel->node_on[i])
      draw_node(r, i);
  for (size_t i = 0; i < g->n_edges; i++)
    if (r->sel->edge_on[i])
      draw_edge(r, i);
  for (size_t i = 0; i < r->sel->n_more; i++)
    draw_more(r, &r->sel->more[i]);
  return r->failed ? -1 : 0;
}

/* The unlaid graph as DOT (agwrite into memory): what `--format dot` promises. */
static int write_dot(struct render *r, char **out, size_t *out_len) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f)
    return -1;
  int rc = agwrite(r->root, f);
  if (fclose(f) != 0 || rc != 0) {
    free(buf);
    return -1;
  }
  *out = buf;
  *out_len = len;
  return 0;
}

static int layout_and_render(struct render *r, const char *format, char **out, size_t *out_len) {
  if (!gv_context)
    gv_context = gvContext();
  GVC_t *gvc = gv_context;
  char *data = NULL;
  unsigned int len = 0;
  int status = -1;
  if (!gvc)
    return -1;
  if (gvLayout(gvc, r->root, "dot") != 0) {
    host_log_msg(r->log, ETL_SEV_ERROR, "lineage", NULL, "graphviz could not lay out the graph");
    return -1;
  }
  if (gvRenderData(gvc, r->root, format, &data, &len) != 0 || !data) {
    host_log_msg(r->log, ETL_SEV_ERROR, "lineage", NULL,
                 "graphviz could not render %s (is its plugin installed?)", format);
    goto out_layout;
  }
  /* Ours to own with free(), not Graphviz's allocator. */
  *out = malloc((size_t)len + 1);
  if (*out) {
    memcpy(*out, data, len);
    (*out)[len] = '\0';
    *out_len = len;
    status = 0;
  }
  gvFreeRenderData(data);
out_layout:
  gvFreeLayout(gvc, r->root);
  return status;
}

int host_lineage_render(const struct host_lineage_graph *graph,
                        const struct host_lineage_view *view, enum host_lineage_format format,
                        char **out, size_t *out_len, struct host_lineage_stats *stats,
                        struct host_log *log) {
  struct lg_selection sel;
  struct render r = {.g = graph, .v = view, .sel = &sel, .log = log};
  int status = -1;
  *out = NULL;
  *out_len = 0;
  if (lg_select(graph, view, &sel, log) != 0)
    return -1;
  gv_log = log;
  agseterrf(gv_error);
  agerrlevel_t level = agseterr(AGERR); /* Graphviz's warnings are about its own choices */
  if (build(&r) != 0) {
    host_log_msg(log, ETL_SEV_ERROR, "lineage", NULL, "out of memory building the graph");
    goto out;
  }
  if (format == HOST_LINEAGE_DOT)
    status = write_dot(&r, out, out_len);
  else
    status = layout_and_render(&r, format == HOST_LINEAGE_SVG ? "svg" : "png", out, out_len);
  if (status == 0 && stats) {
    stats->nodes = sel.nodes;
    stats->edges = sel.edges;
    stats->omitted_nodes = sel.omitted;
  }
out:
  if (r.root)
    agclose(r.root);
  agseterr(level);
  agseterrf(NULL);
  gv_log = NULL;
  free(r.gv_nodes);
  free(r.groups);
  free(r.clusters);
  lg_selection_free(&sel);
  return status;
}
