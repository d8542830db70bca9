/*
 * state.c -- the host's state store (see state.h): one row per source in a SQLite file,
 * written in its own transaction so that a save that returned is on disk (WAL,
 * synchronous=FULL; sqldb.c).
 */
#include "config.h"

#include "state.h"

#include "log.h"
#include "sqldb.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define STATE_SCHEMA_VERSION 1
#define STATE_BUSY_TIMEOUT_MS 5000

static const struct host_sqldb_kind state_kind = {
    .what = "state store",
    .application_id = HOST_SQLDB_STATE_ID,
    .schema_version = STATE_SCHEMA_VERSION,
    .schema_sql = "CREATE TABLE state (source TEXT PRIMARY KEY, json TEXT NOT NULL,"
                  " saved_at TEXT NOT NULL)",
};

struct host_state_store {
  sqlite3 *db;               /* owned */
  char *path;                /* owned: for messages */
  struct host_log *log;      /* borrowed */
  sqlite3_stmt *load, *save; /* owned */
};

etl_status host_state_open(const char *path, struct host_log *log, struct host_state_store **out) {
  *out = NULL;
  struct host_state_store *store = calloc(1, sizeof *store);
  if (!store || !(store->path = strdup(path))) {
    free(store);
    return ETL_ERR_NOMEM;
  }
  store->log = log;
  etl_status st = host_sqldb_open(path, &state_kind, STATE_BUSY_TIMEOUT_MS, log, &store->db);
  if (st != ETL_OK)
    goto out_close;
  int rc = sqlite3_prepare_v2(store->db, "SELECT json FROM state WHERE source = ?1", -1,
                              &store->load, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(store->db,
                            "INSERT INTO state (source, json, saved_at) VALUES (?1, ?2, "
                            "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) ON CONFLICT (source) DO "
                            "UPDATE SET json = excluded.json, saved_at = excluded.saved_at",
                            -1, &store->save, NULL);
  if (rc != SQLITE_OK) {
    st = host_sqldb_fail(log, store->db, rc, state_kind.what, path, "prepare statements");
    goto out_close;
  }
  *out = store;
  return ETL_OK;
out_close:
  host_state_close(&store);
  return st;
}

etl_status host_state_load(struct host_state_store *store, const char *source, char **json,
                           size_t *len) {
  etl_status st = ETL_OK;
  *json = NULL;
  *len = 0;
  sqlite3_bind_text(store->load, 1, source, -1, SQLITE_STATIC);
  int rc = sqlite3_step(store->load);
  if (rc == SQLITE_ROW) {
    const unsigned char *text = sqlite3_column_text(store->load, 0);
    size_t n = (size_t)sqlite3_column_bytes(store->load, 0);
    *json = malloc(n + 1);
    if (*json) {
      memcpy(*json, text ? (const char *)text : "", n);
      (*json)[n] = '\0';
      *len = n;
    } else {
      st = ETL_ERR_NOMEM;
    }
  } else if (rc != SQLITE_DONE) {
    st = host_sqldb_fail(store->log, store->db, rc, state_kind.what, store->path, "load state");
  }
  sqlite3_reset(store->load);
  sqlite3_clear_bindings(store->load);
  return st;
}

etl_status host_state_save(struct host_state_store *store, const char *source, const char *json,
                           size_t len) {
  if (len > INT_MAX) {
    host_log_msg(store->log, ETL_SEV_ERROR, source, NULL,
                 "state store '%s': state of %zu bytes is too large", store->path, len);
    return ETL_ERR_INTERNAL;
  }
  /* Outside a transaction the statement is its own, committed (and, with
   * synchronous=FULL, synced) when sqlite3_step returns. */
  sqlite3_bind_text(store->save, 1, source, -1, SQLITE_STATIC);
  sqlite3_bind_text(store->save, 2, json, (int)len, SQLITE_STATIC);
  int rc = sqlite3_step(store->save);
  sqlite3_reset(store->save);
  sqlite3_clear_bindings(store->save);
  if (rc != SQLITE_DONE)
    return host_sqldb_fail(store->log, store->db, rc, state_kind.what, store->path, "save state");
  return ETL_OK;
}

void host_state_close(struct host_state_store **storep) {
  if (!storep || !*storep)
    return;
  struct host_state_store *store = *storep;
  sqlite3_finalize(store->load);
  sqlite3_finalize(store->save);
  sqlite3_close(store->db);
  free(store->path);
  free(store);
  *storep = NULL;
}

/* ---- the file sink's committed offsets ---------------------------------------------------
 *
 * A JSON Lines file cannot roll back, so the file sink records, with each state it stores, how
 * long the file was when that state's data had been fsync'd; after a kill the next run cuts the
 * file back to it (sink_file.c). The mark and the state go in one transaction: a state is never
 * stored without the offset that matches it. The table is created on first use, so state stores
 * written before it existed stay valid and an older etlhost still reads the `state` table. */

static const char marks_schema[] =
    "CREATE TABLE IF NOT EXISTS file_marks (path TEXT PRIMARY KEY, offset INTEGER NOT NULL,"
    " dev INTEGER NOT NULL, ino INTEGER NOT NULL, clean INTEGER NOT NULL,"
    " saved_at TEXT NOT NULL)";

static etl_status marks_table(struct host_state_store *store) {
  return host_sqldb_exec(store->db, marks_schema, store->log, state_kind.what, store->path,
                         "create the file sink's offsets");
}

etl_status host_state_mark_save(struct host_state_store *store, const char *file,
                                const struct host_state_mark *mark) {
  sqlite3_stmt *put = NULL;
  etl_status st = marks_table(store);
  if (st != ETL_OK)
    return st;
  int rc = sqlite3_prepare_v2(store->db,
                              "INSERT OR REPLACE INTO file_marks VALUES (?1, ?2, ?3, ?4, ?5,"
                              " strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                              -1, &put, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(put, 1, file, -1, SQLITE_STATIC);
    sqlite3_bind_int64(put, 2, mark->offset);
    sqlite3_bind_int64(put, 3, mark->dev);
    sqlite3_bind_int64(put, 4, mark->ino);
    sqlite3_bind_int(put, 5, mark->clean);
    rc = sqlite3_step(put);
  }
  sqlite3_finalize(put);
  if (rc != SQLITE_DONE)
    return host_sqldb_fail(store->log, store->db, rc, state_kind.what, store->path,
                           "save the file sink's committed offset");
  return ETL_OK;
}

etl_status host_state_mark_load(struct host_state_store *store, const char *file,
                                struct host_state_mark *mark, bool *found) {
  sqlite3_stmt *get = NULL;
  *found = false;
  etl_status st = marks_table(store);
  if (st != ETL_OK)
    return st;
  int rc = sqlite3_prepare_v2(store->db,
                              "SELECT offset, dev, ino, clean FROM file_marks WHERE path = ?1",
                              -1, &get, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(get, 1, file, -1, SQLITE_STATIC);
    rc = sqlite3_step(get);
  }
  if (rc == SQLITE_ROW) {
    mark->offset = sqlite3_column_int64(get, 0);
    mark->dev = sqlite3_column_int64(get, 1);
    mark->ino = sqlite3_column_int64(get, 2);
    mark->clean = sqlite3_column_int(get, 3) != 0;
    *found = true;
  } else if (rc != SQLITE_DONE) {
    st = host_sqldb_fail(store->log, store->db, rc, state_kind.what, store->path,
                         "load the file sink's committed offset");
  }
  sqlite3_finalize(get);
  return st;
}

etl_status host_state_save_marked(struct host_state_store *store, const char *source,
                                  const char *json, size_t len, const char *file,
                                  const struct host_state_mark *mark) {
  etl_status st = host_sqldb_exec(store->db, "BEGIN IMMEDIATE", store->log, state_kind.what,
                                  store->path, "save state");
  if (st != ETL_OK)
    return st;
  st = host_state_save(store, source, json, len);
  if (st == ETL_OK)
    st = host_state_mark_save(store, file, mark);
  if (st == ETL_OK)
    return host_sqldb_exec(store->db, "COMMIT", store->log, state_kind.what, store->path,
                           "save state");
  sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
  return st;
}
