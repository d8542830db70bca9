/*
 * site_lineage.c -- lineage pictures for the site's pages (see site_lineage.h).
 *
 * The lineage library draws SVG with Graphviz; each drawn node gets a link through the href
 * callback: a table to its page, a dashboard to its page, a data model or a chart to its section
 * ("#m-K", "#c-K") on the page of the first dashboard that lists it. The SVG document's XML
 * prolog and DOCTYPE are cut off, so what remains can sit inline in an HTML page.
 */
#include "config.h"

#include "site_lineage.h"

#include "lineage.h"
#include "log.h"
#include "site_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct site_lineage {
  struct host_lineage_graph *graph; /* owned */
  const struct site_catalog *cat;   /* borrowed */
  struct host_log *log;             /* borrowed */
};

int site_lineage_open(const char *path, const struct site_catalog *cat, struct host_log *log,
                      struct site_lineage **out) {
  struct site_lineage *l = calloc(1, sizeof *l);
  *out = NULL;
  if (!l)
    return -1;
  l->cat = cat;
  l->log = log;
  if (host_lineage_load(path, log, &l->graph) != 0) {
    free(l);
    return -1;
  }
  *out = l;
  return 0;
}

void site_lineage_close(struct site_lineage **lp) {
  if (!lp || !*lp)
    return;
  host_lineage_free(&(*lp)->graph);
  free(*lp);
  *lp = NULL;
}

static char *page_ref(const char *page, const char *prefix, size_t k) {
  size_t len = strlen(page) + 32;
  char *href = malloc(len);
  if (href && prefix)
    snprintf(href, len, "%s#%s%zu", page, prefix, k);
  else if (href)
    snprintf(href, len, "%s", page);
  return href;
}

/* The first dashboard that lists the chart fqn, or NULL; *at: the chart's place in its list. */
static const struct site_dashboard *chart_dashboard(const struct site_catalog *cat, const char *fqn,
                                                    size_t *at) {
  for (size_t i = 0; i < cat->n_dashboards; i++)
    for (size_t k = 0; k < cat->dashboards[i].charts.n; k++)
      if (strcmp(cat->dashboards[i].charts.v[k], fqn) == 0) {
        *at = k;
        return &cat->dashboards[i];
      }
  return NULL;
}

static char *href(void *ctx, const char *kind, const char *fqn) {
  const struct site_catalog *cat = ((struct site_lineage *)ctx)->cat;
  if (strcmp(kind, "table") == 0) {
    const struct site_table *t = site_find_table(cat, fqn);
    return t ? page_ref(t->page, NULL, 0) : NULL;
  }
  if (strcmp(kind, "dashboard") == 0) {
    const struct site_dashboard *d = site_find_dashboard(cat, fqn);
    return d ? page_ref(d->page, NULL, 0) : NULL;
  }
  if (strcmp(kind, "dashboardDataModel") == 0) {
    const struct site_model *m = site_find_model(cat, fqn);
    const struct site_dashboard *d =
        m && m->dashboards.n ? &cat->dashboards[m->dashboards.v[0]] : NULL;
    for (size_t k = 0; d && k < d->models.n; k++)
      if (strcmp(d->models.v[k], fqn) == 0)
        return page_ref(d->page, "m-", k);
    return NULL;
  }
  if (strcmp(kind, "chart") == 0) {
    size_t at = 0;
    const struct site_dashboard *d = chart_dashboard(cat, fqn, &at);
    return d ? page_ref(d->page, "c-", at) : NULL;
  }
  return NULL;
}

char *site_lineage_picture(void *ctx, const char *kind, const char *fqn, bool deleted,
                           bool *failed) {
  struct site_lineage *l = ctx;
  struct host_lineage_view view = {
      .focus = strcmp(kind, "table") == 0 ? HOST_LINEAGE_FOCUS_TABLE : HOST_LINEAGE_FOCUS_DASHBOARD,
      .focus_name = fqn,
      .show_deleted = deleted,
      .href = href,
      .href_ctx = l,
  };
  char *svg = NULL, *html = NULL;
  size_t len = 0;
  struct host_lineage_stats stats = {0};
  *failed = false;
  if (host_lineage_render(l->graph, &view, HOST_LINEAGE_SVG, &svg, &len, &stats, l->log) != 0) {
    host_log_msg(l->log, ETL_SEV_WARNING, NULL, NULL, "site: %s %s: no lineage picture", kind, fqn);
    *failed = true;
    return NULL;
  }
  /* inline SVG starts at its element: no XML prolog, DOCTYPE or comments before it */
  const char *start = svg ? strstr(svg, "<svg") : NULL;
  if (!start) {
    host_log_msg(l->log, ETL_SEV_WARNING, NULL, NULL, "site: %s %s: the picture is not SVG", kind,
                 fqn);
    *failed = true;
    goto out;
  }
  size_t cap = len - (size_t)(start - svg) + 160;
  if ((html = malloc(cap)))
    snprintf(html, cap, "%s%s", start,
             stats.omitted_nodes ? "\n<p class=\"note\">Some neighbours are left out of this "
                                   "picture (too many to draw); the lists below have them "
                                   "all.</p>"
                                 : "");
out:
  free(svg);
  return html;
}
