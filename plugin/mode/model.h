/*
 * model.h -- what the connector remembers of Mode's objects while it assembles entities.
 * Plain data: every char * is owned by the struct that holds it (free with the matching
 * mode_*_clear function in crawl.c / owners.c).
 */
#ifndef MODE_MODEL_H
#define MODE_MODEL_H

#include <stddef.h>

struct mode_data_source {
  char *id; /* numeric id as text */
  char *token;
  char *name;
  char *adapter;  /* "jdbc:postgresql", "bigquery", ... */
  char *database; /* OpenMetadata's database (adapters.h: BigQuery's project, MySQL's "default") */
  char *schema;   /* the default schema when the adapter puts Mode's `database` there, or NULL */
};

struct mode_query {
  char *token;
  char *name;
  char *raw_query;
  char *data_source_id;
};

struct mode_chart {
  char *token;
  char *title;
  char *type;     /* Mode's chart type as it says it ("table", "bar", ...) */
  char *viz_href; /* _links.report_viz_web.href */
  char *description;
  char *query_name; /* the query it draws, for a fallback title */
  size_t query_pos; /* index of that query in the report's queries, and of the chart in its */
  size_t pos;       /* query's listing: charts arrive in any order, are emitted in this one */
  char **fields;    /* the query's columns it shows (view_vegas formulas, v1 view columns) */
  size_t n_fields;
};

struct mode_report {
  char *token;
  char *name;
  char *description;
  char *space_name; /* the collection's name: the dashboard's project */
  char *creator;    /* username from _links.creator.href */
  char *share_href;
  char *web_href;
  long chart_count; /* -1 when the listing did not say */
  long view_count;  /* -1 when unknown */
  /* Freshness and activity (Mode's timestamps as sent, NULL when absent or null). */
  char *created_at, *last_saved_at, *last_run_at, *last_success_at;
  long schedules_count; /* -1 when unknown */
  int is_dataset;
  int archived;
  char **imported; /* tokens of imported datasets */
  size_t n_imported;
  struct mode_query *queries;
  size_t n_queries;
  struct mode_chart *charts;
  size_t n_charts;
  int pending;      /* requests not yet answered */
  int queries_lost; /* its queries could not be fetched */
  int charts_lost;  /* some charts could not be fetched (not a 404: those are gone) */
  int gone;         /* 404 since it was listed: emit nothing */
  int waiting_user; /* waiting for its creator's details */
  char *stamp;      /* incremental runs: the stamp of its listing fields (owned), else NULL */
  int candidate;    /* unchanged since the previous run: waits for the workspace stamp */
  int deferred;     /* its queries wait for bytes held by other reports to go (crawl.c) */
  size_t held;      /* bytes of query text it holds until it is finalized */
  struct mode_report *next;
};

struct mode_user {
  char *username;
  char *name;
  char *email;
};

#endif
