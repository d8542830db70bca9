/*
 * site_pages.h -- the body of each page of the site (site_html.c writes the files). Shared by
 * site_html.c and site_pages.c only.
 */
#ifndef HOST_SITE_PAGES_H
#define HOST_SITE_PAGES_H

#include "site_html.h"
#include "site_model.h"

/* The head, header and navigation (current: the file name of the page's section), and the
 * footer of every page. title is catalog text (escaped). */
void site_page_begin(struct site_out *o, const struct site_options *opts, const char *title,
                     const char *current);
void site_page_end(struct site_out *o, const struct site_options *opts);

/* A link to the source system when url is http(s), else the url as text. */
void site_out_url(struct site_out *o, const char *url, const char *label);

/* order: indexes of the live dashboards, by name (the rows, in search-index.js order). */
void site_pages_index(struct site_out *o, const struct site_catalog *cat,
                      const struct site_options *opts, const size_t *order, size_t n);
void site_pages_tables(struct site_out *o, const struct site_catalog *cat,
                       const struct site_options *opts);
void site_pages_attention(struct site_out *o, const struct site_catalog *cat,
                          const struct site_options *opts);
/* picture: an inline SVG fragment or NULL; failed: drawing it failed. */
void site_pages_dashboard(struct site_out *o, const struct site_catalog *cat,
                          const struct site_options *opts, const struct site_dashboard *d,
                          const char *picture, bool failed);
void site_pages_table(struct site_out *o, const struct site_catalog *cat,
                      const struct site_options *opts, const struct site_table *t,
                      const char *picture, bool failed);

#endif
