/*
 * site_model.h -- what `etlhost site` shows, read from a sqlite catalog (the default sink's file)
 * into memory: dashboards with their freshness, charts, data models, lineage edges, and the
 * warehouse tables those edges name (a table is not an entity of the catalog: it exists as the
 * from-end of `table -> dashboardDataModel` lineage records).
 *
 * The catalog is opened read-only and never created; a missing file, a file that is not an
 * etlhost catalog, or one with a newer schema is an error naming the file. Every string is a
 * malloc'd copy owned by the catalog; site_catalog_free releases all of it.
 */
#ifndef HOST_SITE_MODEL_H
#define HOST_SITE_MODEL_H

#include <stdbool.h>
#include <stddef.h>

struct host_log;

/* A list of strings, each malloc'd, owned by the list's owner. */
struct site_strs {
  char **v;
  size_t n;
};

/* A list of indexes into one of the catalog's arrays. */
struct site_refs {
  size_t *v;
  size_t n;
};

struct site_dashboard {
  char *source, *id, *fqn;              /* fqn: "<service>.<name>", as lineage records name it */
  char *name;                           /* displayName, else name */
  char *description, *url, *collection; /* NULL when absent; url as the source gave it */
  struct site_strs owners;              /* owner names */
  struct site_strs charts, models;      /* FQNs, as the dashboard lists them */
  /* extension: freshness, NULL when absent (never run, or not told) */
  char *created_at, *last_saved_at, *last_run_at, *last_run_state, *last_success_at, *creator;
  long long view_count, schedule_count; /* -1: not told */
  bool deleted;
  char *deleted_at;
  bool lost_last_run; /* marked deleted by the last run of its source */
  char *page;         /* file name of its page, set by site_catalog_load */
};

struct site_chart {
  char *source, *id, *fqn, *name, *type, *url; /* type, url: NULL when absent */
  char *model;                                 /* query.dataModel FQN, NULL when none */
  struct site_strs fields;                     /* query.fields */
  bool deleted;
};

struct site_column {
  char *name, *type; /* type: dataTypeDisplay, else dataType; NULL when absent */
};

struct site_model {
  char *source, *id, *fqn, *name, *sql; /* sql: NULL when absent */
  struct site_column *columns;
  size_t n_columns;
  bool deleted;
  struct site_refs dashboards; /* indexes of the dashboards that list it */
  struct site_refs upstream;   /* indexes of the table -> model edges into it */
};

/* One column of a table read into one column of a data model (short names, without the FQNs). */
struct site_colmap {
  char *from, *to;
};

/* A live lineage record (deleted ones are not read). kind: "table", "dashboardDataModel", ... */
struct site_edge {
  char *from_kind, *from_fqn, *to_kind, *to_fqn;
  struct site_colmap *cols; /* columnsLineage, when the record has it */
  size_t n_cols;
};

struct site_table {
  char *fqn;
  struct site_refs edges; /* indexes of the table -> data model edges out of it */
  char *page;             /* file name of its page */
};

struct site_run {
  char *source, *started, *finished; /* finished: NULL when the run never finished */
  long long run_id;
  bool complete;
};

/* Arrays sorted by fqn (runs: one per source, its last run, sorted by source). */
struct site_catalog {
  struct site_dashboard *dashboards;
  size_t n_dashboards;
  struct site_chart *charts;
  size_t n_charts;
  struct site_model *models;
  size_t n_models;
  struct site_edge *edges;
  size_t n_edges;
  struct site_table *tables;
  size_t n_tables;
  struct site_run *runs;
  size_t n_runs;
};

/* Reads the catalog at path. 0 on success with *out owned by the caller (site_catalog_free);
 * -1 with an error logged naming the file (missing, not a catalog, newer schema, bad JSON). */
int site_catalog_load(const char *path, struct host_log *log, struct site_catalog **out);

/* NULL-safe; sets *cat to NULL. */
void site_catalog_free(struct site_catalog **cat);

/* Lookups by FQN (binary search); NULL when the catalog has none. */
const struct site_dashboard *site_find_dashboard(const struct site_catalog *cat, const char *fqn);
const struct site_chart *site_find_chart(const struct site_catalog *cat, const char *fqn);
const struct site_model *site_find_model(const struct site_catalog *cat, const char *fqn);
const struct site_table *site_find_table(const struct site_catalog *cat, const char *fqn);

/* Unresolved lineage: a live data model that has SQL but no table upstream of it (the SQL could
 * not be read, or reads nothing the connector could name). */
bool site_model_unresolved(const struct site_model *m);

#endif
