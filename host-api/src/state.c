/*
 * state.c -- the host's state store (see state.h): one row per source in a SQLite file,
 * written in its own transaction so that a save that returned is on disk (WAL,
 * synchronous=FULL; sqldb.c).
 *
 * What is read back is checked before a plugin sees it (host_state_check), and a file or a row
 * that cannot be used says what to do: the store only records where each source stopped, so
 * removing it (or a source's row) costs one full run, never data.
 */
#include "config.h"

#include "state.h"

#include "log.h"
#include "sqldb.h"
#ifdef HAVE_LIBPQ
#include "state_postgres.h"
#endif

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

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
#ifdef HAVE_LIBPQ
  struct host_pg_state *pg; /* owned: the store is PostgreSQL (stateStore: postgresql://...) */
#endif
};

/* A stateStore that is a PostgreSQL URL: the calls below go to state_postgres.c. */
#ifdef HAVE_LIBPQ
#define PG_BACKEND(store, call)                                                                   \
  do {                                                                                             \
    if ((store)->pg)                                                                               \
      return call;                                                                                 \
  } while (0)
#else
#define PG_BACKEND(store, call) ((void)0)
#endif

static bool is_pg_url(const char *path) {
  return strncmp(path, "postgresql://", 13) == 0 || strncmp(path, "postgres://", 11) == 0;
}

/* ---- a damaged store ---------------------------------------------------------------------- */

/* Whether SQLite finds the file at path damaged: not readable as a database, or failing its
 * quick check. A file that is fine but not ours, or that cannot be opened, is not damaged. */
static bool is_damaged(const char *path) {
  sqlite3 *db = NULL;
  sqlite3_stmt *check = NULL;
  bool damaged = false;
  int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &check, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step(check)) == SQLITE_ROW) {
    const unsigned char *verdict = sqlite3_column_text(check, 0);
    damaged = !verdict || strcmp((const char *)verdict, "ok") != 0;
  }
  damaged = damaged || (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB;
  sqlite3_finalize(check);
  sqlite3_close(db);
  return damaged;
}

/* Whether the file's header says it is (or was) a state store: SQLite's magic, and our
 * application_id at offset 68 or a header cut short. */
static bool looks_like_a_store(const char *path) {
  unsigned char head[100];
  FILE *f = fopen(path, "rb");
  if (!f)
    return false;
  size_t n = fread(head, 1, sizeof head, f);
  fclose(f);
  if (n < 16 || memcmp(head, "SQLite format 3", 16) != 0)
    return false;
  if (n < sizeof head)
    return true;
  unsigned long id = (unsigned long)head[68] << 24 | (unsigned long)head[69] << 16 |
                     (unsigned long)head[70] << 8 | head[71];
  return id == HOST_SQLDB_STATE_ID;
}

/* After SQLite refused the store: if the file is damaged, says what to do about it. */
static void damage_hint(struct host_log *log, const char *path) {
  if (!is_damaged(path))
    return;
  if (looks_like_a_store(path))
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL,
                 "state store '%s' is damaged. It only records where each source stopped: "
                 "remove it or move it aside (with any '-wal' and '-shm' file beside it), and "
                 "the next run starts every source afresh, reading everything again",
                 path);
  else
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL,
                 "state store '%s': if this was etlhost's state store, it is damaged beyond "
                 "recognition: remove it or move it aside, and the next run starts every source "
                 "afresh; otherwise set workflowConfig.stateStore to another path",
                 path);
}

/* ---- checking a stored state ---------------------------------------------------------------- */

/* Depth while parsing, without building anything: the parse stops at the first level too
 * many. */
struct depth_count {
  int depth;
  bool too_deep;
};

static int on_open(void *ctx) {
  struct depth_count *d = ctx;
  if (++d->depth <= HOST_STATE_MAX_DEPTH)
    return 1;
  d->too_deep = true;
  return 0;
}

static int on_close(void *ctx) {
  ((struct depth_count *)ctx)->depth--;
  return 1;
}

static const yajl_callbacks depth_callbacks = {.yajl_start_map = on_open,
                                               .yajl_end_map = on_close,
                                               .yajl_start_array = on_open,
                                               .yajl_end_array = on_close};

etl_status host_state_check(const char *what, const char *path, const char *source,
                            const char *json, size_t len, struct host_log *log) {
  if (len == 0)
    return ETL_OK;
  struct depth_count d = {0};
  yajl_handle h = yajl_alloc(&depth_callbacks, NULL, &d);
  if (!h)
    return ETL_ERR_NOMEM;
  yajl_status st = yajl_parse(h, (const unsigned char *)json, len);
  if (st == yajl_status_ok)
    st = yajl_complete_parse(h);
  char why[256] = "";
  if (d.too_deep) {
    snprintf(why, sizeof why, "nested deeper than %d levels", HOST_STATE_MAX_DEPTH);
  } else if (st != yajl_status_ok) {
    unsigned char *err = yajl_get_error(h, 1, (const unsigned char *)json, len);
    snprintf(why, sizeof why, "not JSON (%.*s)", err ? (int)strcspn((char *)err, "\n") : 0,
             err ? (char *)err : "");
    yajl_free_error(h, err);
  }
  yajl_free(h);
  if (!*why)
    return ETL_OK;
  host_log_msg(log, ETL_SEV_ERROR, source, NULL,
               "%s '%s': the stored state of this source is unusable (%s). Delete it to start "
               "the source afresh (a full run): sqlite3 '%s' \"DELETE FROM state WHERE source = "
               "'%s'\"",
               what, path, why, path, source);
  return ETL_ERR_CONFIG;
}

etl_status host_state_open(const char *path, struct host_log *log, struct host_state_store **out) {
  *out = NULL;
  struct host_state_store *store = calloc(1, sizeof *store);
  if (!store || !(store->path = strdup(path))) {
    free(store);
    return ETL_ERR_NOMEM;
  }
  store->log = log;
  if (is_pg_url(path)) {
#ifdef HAVE_LIBPQ
    etl_status pst = host_pg_state_open(path, log, &store->pg);
    if (pst != ETL_OK) {
      host_state_close(&store);
      return pst;
    }
    *out = store;
    return ETL_OK;
#else
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL,
                 "workflowConfig.stateStore: a PostgreSQL URL, but this etlhost was built "
                 "without libpq; install the Debian package libpq-dev and rebuild");
    host_state_close(&store);
    return ETL_ERR_CONFIG;
#endif
  }
  etl_status st = host_sqldb_open(path, &state_kind, STATE_BUSY_TIMEOUT_MS, log, &store->db);
  if (st == ETL_ERR_CONFIG)
    damage_hint(log, path);
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
  PG_BACKEND(store, host_pg_state_load(store->pg, source, json, len));
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
    if (st == ETL_ERR_CONFIG)
      damage_hint(store->log, store->path);
  }
  sqlite3_reset(store->load);
  sqlite3_clear_bindings(store->load);
  if (st == ETL_OK && *json &&
      (st = host_state_check(state_kind.what, store->path, source, *json, *len, store->log)) !=
          ETL_OK) {
    free(*json);
    *json = NULL;
    *len = 0;
  }
  return st;
}

etl_status host_state_save(struct host_state_store *store, const char *source, const char *json,
                           size_t len) {
  PG_BACKEND(store, host_pg_state_save(store->pg, source, json, len));
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
#ifdef HAVE_LIBPQ
  host_pg_state_close(&store->pg);
#endif
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
  PG_BACKEND(store, host_pg_state_mark_save(store->pg, file, mark));
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
  PG_BACKEND(store, host_pg_state_mark_load(store->pg, file, mark, found));
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
  PG_BACKEND(store, host_pg_state_save_marked(store->pg, source, json, len, file, mark));
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
