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
#include <stdbool.h>
#include <stddef.h>

struct host_log;
struct host_state_store;

/* Opens (creating if needed) the store at path. Logs and returns ETL_ERR_CONFIG when the file
 * cannot be opened or is not a state store; for a damaged file, also what to do about it.
 * *out is owned by the caller. */
etl_status host_state_open(const char *path, struct host_log *log, struct host_state_store **out);

/* Loads the last saved state of source into *json (malloc'd, NUL-terminated, caller frees) and
 * its length into *len; *json is NULL when there is none. A state that fails host_state_check
 * is ETL_ERR_CONFIG (logged), with *json NULL. */
etl_status host_state_load(struct host_state_store *store, const char *source, char **json,
                           size_t *len);

/* A stored state nested deeper than this is refused: yajl_gen, which plugins write with, stops
 * at 128 levels, and a plugin's yajl_tree_free recurses once per level. */
#define HOST_STATE_MAX_DEPTH 128

/* Checks a state read from the file at path (`what`: "state store" or "catalog") before it
 * reaches a plugin: JSON, nested at most HOST_STATE_MAX_DEPTH levels, without recursion. An
 * empty state passes. Otherwise logs what is wrong and how to reset the source's state (delete
 * its row) and returns ETL_ERR_CONFIG. */
etl_status host_state_check(const char *what, const char *path, const char *source,
                            const char *json, size_t len, struct host_log *log);

/* Saves the state of source durably (committed and synced when this returns ETL_OK). */
etl_status host_state_save(struct host_state_store *store, const char *source, const char *json,
                           size_t len);

/* ---- the file sink's committed offsets (sink_file.c) ----
 * A file sink's mark: how long its file was at its last committed state, which file that was
 * (st_dev, st_ino), and whether the run that wrote it ended cleanly. Keyed by the file's real
 * path. */
struct host_state_mark {
  long long offset; /* bytes of the file that belong to stored states */
  long long dev, ino;
  bool clean; /* the last run ended with every source complete: nothing to cut */
};

/* Loads the mark of file into *mark; *found is false when there is none. */
etl_status host_state_mark_load(struct host_state_store *store, const char *file,
                                struct host_state_mark *mark, bool *found);

/* Saves the mark of file durably. */
etl_status host_state_mark_save(struct host_state_store *store, const char *file,
                                const struct host_state_mark *mark);

/* Saves the state of source and the mark of file in one transaction (both or neither). */
etl_status host_state_save_marked(struct host_state_store *store, const char *source,
                                  const char *json, size_t len, const char *file,
                                  const struct host_state_mark *mark);

/* Closes the store; NULL-safe; sets *store to NULL. */
void host_state_close(struct host_state_store **store);

#endif
