/*
 * state.h -- the host's store of each source's incremental state (an opaque JSON document a
 * plugin emitted as an entity of kind "state"), in a SQLite file. Used for sinks that cannot
 * store state in their own transaction; the sqlite sink keeps state in its catalog instead
 * (sink.h: load_state/store_state), so that data and state commit together.
 *
 * Not thread-safe; one store per process.
 */
#ifndef HOST_STATE_H
#define HOST_STATE_H

#include <etl/plugin.h>
#include <stddef.h>

struct host_log;
struct host_state_store;

/* Opens (creating if needed) the store at path. Logs and returns ETL_ERR_CONFIG when the file
 * cannot be opened or is not a state store. *out is owned by the caller. */
etl_status host_state_open(const char *path, struct host_log *log, struct host_state_store **out);

/* Loads the last saved state of source into *json (malloc'd, NUL-terminated, caller frees) and
 * its length into *len; *json is NULL when there is none. */
etl_status host_state_load(struct host_state_store *store, const char *source, char **json,
                           size_t *len);

/* Saves the state of source durably (committed and synced when this returns ETL_OK). */
etl_status host_state_save(struct host_state_store *store, const char *source, const char *json,
                           size_t len);

/* Closes the store; NULL-safe; sets *store to NULL. */
void host_state_close(struct host_state_store **store);

#endif
