/*
 * state_postgres.h -- the state store (state.h) in PostgreSQL, for
 * workflowConfig.stateStore: postgresql://... (built with libpq). state.c hands its calls
 * here when the store is a PostgreSQL URL; the meaning of each is the one state.h gives.
 * Tables: state_store (source, json, saved_at) and file_marks (the file sink's offsets), apart
 * from the postgres sink's own `state` table, so one database may hold both.
 */
#ifndef HOST_STATE_POSTGRES_H
#define HOST_STATE_POSTGRES_H

#include "state.h"

#include <stdbool.h>

struct host_pg_state;

etl_status host_pg_state_open(const char *url, struct host_log *log, struct host_pg_state **out);
etl_status host_pg_state_load(struct host_pg_state *ps, const char *source, char **json,
                              size_t *len);
etl_status host_pg_state_save(struct host_pg_state *ps, const char *source, const char *json,
                              size_t len);
etl_status host_pg_state_mark_load(struct host_pg_state *ps, const char *file,
                                   struct host_state_mark *mark, bool *found);
etl_status host_pg_state_mark_save(struct host_pg_state *ps, const char *file,
                                   const struct host_state_mark *mark);
etl_status host_pg_state_save_marked(struct host_pg_state *ps, const char *source,
                                     const char *json, size_t len, const char *file,
                                     const struct host_state_mark *mark);
void host_pg_state_close(struct host_pg_state **ps);

#endif
