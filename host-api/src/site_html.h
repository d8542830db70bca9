/*
 * site_html.h -- the pages of `etlhost site`: an index with client-side search and filters, a
 * page per dashboard and per table, a table list and a "needs attention" page, plus the
 * stylesheet, the script and the search index they load. Everything is relative to one flat
 * directory, so the site works from file:// and can be copied anywhere.
 *
 * Every string that comes from the catalog goes through the escaping writer (site_out_text):
 * names are hostile input. Links to the source system are written only for http(s) URLs.
 */
#ifndef HOST_SITE_HTML_H
#define HOST_SITE_HTML_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

struct host_log;
struct site_catalog;

/* A page being written: the stream (borrowed) and whether a write failed. */
struct site_out {
  FILE *f;
  bool failed;
};

/* Writes s as is (markup of our own). */
void site_out_raw(struct site_out *o, const char *s);
/* Writes s as HTML text or attribute value: & < > " ' become entities; NULL writes nothing. */
void site_out_text(struct site_out *o, const char *s);
/* Formatted, unescaped: only for numbers and strings of our own. */
void site_out_printf(struct site_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The lineage picture of one node's page: a malloc'd HTML fragment (an inline <svg>, already
 * safe to embed) owned by the caller, or NULL when there is none. kind is "dashboard" or
 * "table". *failed is set when drawing failed (the page says so). */
typedef char *(*site_picture_fn)(void *ctx, const char *kind, const char *fqn, bool deleted,
                                 bool *failed);

struct site_options {
  const char *title;       /* the site's name in every header; NULL: "etlhost catalog" */
  const char *source;      /* what it was built from (the catalog's file name), in the footer */
  time_t now;              /* freshness is judged against this time */
  int stale_days;          /* a report whose last run is older than this is stale */
  site_picture_fn picture; /* may be NULL: no pictures */
  void *picture_ctx;
};

/* What a build wrote. */
struct site_stats {
  size_t pages, files, bytes;
  size_t pictures, pictures_failed;
};

/* Writes the whole site into the existing, empty directory dir. 0 on success (stats filled);
 * -1 with an error logged naming the file that could not be written. */
int site_write(const struct site_catalog *cat, const struct site_options *opts, const char *dir,
               struct host_log *log, struct site_stats *stats);

#endif
