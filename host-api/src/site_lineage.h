/*
 * site_lineage.h -- the site's lineage pictures, drawn by the lineage library (lineage.h) as
 * inline SVG whose nodes link to the site's pages.
 */
#ifndef HOST_SITE_LINEAGE_H
#define HOST_SITE_LINEAGE_H

#include <stdbool.h>

struct host_log;
struct site_catalog;
struct site_lineage;

/* Loads the lineage of the catalog at path; cat (borrowed, must outlive the result) gives the
 * pages nodes link to. 0 with *out owned by the caller (site_lineage_close), or -1 logged. */
int site_lineage_open(const char *path, const struct site_catalog *cat, struct host_log *log,
                      struct site_lineage **out);

/* NULL-safe; sets *l to NULL. */
void site_lineage_close(struct site_lineage **l);

/* A site_picture_fn (site_html.h): ctx is a struct site_lineage. */
char *site_lineage_picture(void *ctx, const char *kind, const char *fqn, bool deleted,
                           bool *failed);

#endif
