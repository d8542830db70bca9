/*
 * The in-memory Mode workspace the simulator serves: users, data sources, definitions, spaces
 * (collections), reports and datasets with their queries and charts, and one run per report.
 * Built once by generate.c before the server starts and read-only afterwards, so request
 * threads share it without locks. All strings live in the workspace's arena.
 */
#ifndef SIM_WORKSPACE_H
#define SIM_WORKSPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_TOKEN_LEN 12

struct sim_user {
  char token[SIM_TOKEN_LEN + 1];
  char initials[3]; /* the avatar's, e.g. "JA" */
  long id;
  const char *username, *name, *email, *created_at;
  bool active; /* false: left the workspace; /api/{username} is 404 */
  bool admin;
};

struct sim_data_source {
  char token[SIM_TOKEN_LEN + 1];
  long id;
  const char *name, *description, *adapter, *vendor, *database, *host, *created_at;
  int port;
};

struct sim_definition {
  char token[SIM_TOKEN_LEN + 1];
  long id;
  const char *name, *description, *created_at;
  const char *source;  /* as Mode serves it: newlines written as the two characters \n */
  const char *sql;     /* the same SQL with real newlines, for expansion */
  const char **tables; /* tables the SQL reads */
  size_t ntables;
  size_t data_source; /* index */
  size_t creator;     /* user index */
};

struct sim_chart {
  char token[SIM_TOKEN_LEN + 1];
  const char *title, *chart_type, *created_at;
  int view_version; /* 2: view_vegas.chartType; 1: view.selectedChart */
  const char *field; /* the query column on its x axis (templates.c, ground truth "fields") */
};

struct sim_query {
  char token[SIM_TOKEN_LEN + 1];
  char run_token[SIM_TOKEN_LEN + 1]; /* its query run in the report's last run */
  long id;
  const char *name, *raw_query, *rendered, *created_at, *updated_at;
  size_t data_source;
  const char **tables; /* sorted, de-duplicated: what it reads, every Liquid branch included */
  size_t ntables;
  struct sim_chart *charts;
  size_t ncharts;
};

struct sim_report {
  char token[SIM_TOKEN_LEN + 1];
  char run_token[SIM_TOKEN_LEN + 1];
  long id;
  const char *name, *description; /* description may be NULL */
  const char *created_at, *updated_at;
  const char *edited_at, *last_saved_at, *last_run_at; /* may be NULL */
  const char *last_success_at; /* last_successfully_run_at: NULL, or before last_run_at when the
                                  last run failed */
  long schedules_count;
  bool archived, is_dataset;
  size_t space, creator;
  long view_count, runs_count;
  long imported_dataset; /* report index of an imported dataset, or -1 */
  struct sim_query *queries;
  size_t nqueries;
  size_t chart_count; /* the sum of the queries' charts */
};

struct sim_space {
  char token[SIM_TOKEN_LEN + 1];
  long id;
  const char *name, *description; /* description may be NULL */
  bool personal, restricted;
  size_t creator;
  size_t *reports, nreports;   /* report indices, in listing order */
  size_t *datasets, ndatasets; /* dataset (report) indices */
};

struct sim_index;

struct sim_workspace {
  const char *name; /* the workspace's username, e.g. "acme" */
  char token[SIM_TOKEN_LEN + 1];
  long account_id;
  struct sim_user *users;
  size_t nusers;
  struct sim_data_source *data_sources;
  size_t ndata_sources;
  struct sim_definition *definitions;
  size_t ndefinitions;
  struct sim_space *spaces; /* custom spaces first, then personal ones */
  size_t nspaces;
  struct sim_report *reports; /* reports and datasets */
  size_t nreports;
  struct sim_index *by_token;    /* report and space tokens */
  struct sim_index *by_username; /* users */
  struct sim_arena *arena;
};

/* Creates an empty workspace named name (copied). Returns NULL on OOM. */
struct sim_workspace *ws_new(const char *name);

/* Frees *ws and everything in it; sets *ws to NULL. NULL-safe. */
void ws_free(struct sim_workspace **ws);

/* Allocation from the workspace's arena (zeroed); freed with the workspace. Abort on OOM: the
 * workspace is built before serving, where failing fast is the right answer. */
void *ws_alloc(struct sim_workspace *ws, size_t size);
const char *ws_strdup(struct sim_workspace *ws, const char *s);
const char *ws_printf(struct sim_workspace *ws, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Builds the token and username indexes; call once after the arrays are filled. */
void ws_index(struct sim_workspace *ws);

/* Lookups; NULL when absent. */
const struct sim_report *ws_report(const struct sim_workspace *ws, const char *token);
const struct sim_space *ws_space(const struct sim_workspace *ws, const char *token);
const struct sim_user *ws_user(const struct sim_workspace *ws, const char *username);
const struct sim_query *ws_query(const struct sim_report *r, const char *token);

#endif
