/*
 * sink_sqlite.c -- the `sqlite` sink, etlhost's default: an embedded catalog file.
 *
 * The idea. Every entity is one row keyed by (source, kind, id), upserted, so delivering a
 * record twice is harmless. A row remembers the catalog run that first and last delivered it
 * (first_seen, last_seen) and the run that last changed it (changed_run): a record whose JSON
 * is byte-identical to the stored one only moves last_seen. At the end of a complete run, rows
 * of the source that no run since the previous complete run delivered are marked deleted (never
 * removed); a deleted row that comes back is revived by the upsert.
 *
 * "Since the previous complete run" rather than "this run": a run killed half-way resumes from
 * its stored state, so the run that finally completes may deliver only the second half; what
 * the killed run delivered must not then count as gone. The sweep therefore spares everything
 * seen by any run after the source's last complete one (its "epoch").
 *
 * Writes go into one open transaction (BEGIN IMMEDIATE, taken at the first write) that commit()
 * closes; every HOST_CATALOG_AUTOCOMMIT_RECORDS records (sink_common.h) it is committed early to
 * bound the WAL. That is safe because early data never hurts: state is written only by
 * store_state(), in the same transaction as everything before it, which it then commits.
 * destroy() rolls back what was not committed, as a crash would.
 */
#include "config.h"

#include "log.h"
#include "sink.h"
#include "sink_builtin.h"
#include "sink_common.h"
#include "sqldb.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CATALOG_DEFAULT_PATH "etlhost-catalog.db"
#define CATALOG_SCHEMA_VERSION 1
#define BUSY_TIMEOUT_MS_DEFAULT 5000

#define NOW_SQL "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"

/* One column per line reads as a table definition. */
/* clang-format off */
static const char catalog_schema[] =
    "CREATE TABLE entities ("
    " source TEXT NOT NULL,"
    " kind TEXT NOT NULL,"
    " id TEXT NOT NULL,"
    " json TEXT NOT NULL,"
    " first_seen INTEGER NOT NULL,"
    " last_seen INTEGER NOT NULL,"
    " changed_run INTEGER NOT NULL,"
    " changed_at TEXT NOT NULL,"
    " deleted INTEGER NOT NULL DEFAULT 0,"
    " deleted_at TEXT,"
    " PRIMARY KEY (source, kind, id));"
    "CREATE TABLE runs ("
    " run_id INTEGER NOT NULL,"
    " source TEXT NOT NULL,"
    " plugin TEXT,"
    " host_run_id INTEGER,"
    " started TEXT NOT NULL,"
    " finished TEXT,"
    " complete INTEGER NOT NULL DEFAULT 0,"
    " records INTEGER NOT NULL DEFAULT 0,"
    " inserted INTEGER NOT NULL DEFAULT 0,"
    " updated INTEGER NOT NULL DEFAULT 0,"
    " unchanged INTEGER NOT NULL DEFAULT 0,"
    " rejected INTEGER NOT NULL DEFAULT 0,"
    " deleted INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (run_id, source));"
    "CREATE TABLE state ("
    " source TEXT PRIMARY KEY,"
    " json TEXT NOT NULL,"
    " run_id INTEGER,"
    " saved_at TEXT NOT NULL);";
/* clang-format on */

static const struct host_sqldb_kind catalog_kind = {
    .what = "catalog",
    .application_id = HOST_SQLDB_CATALOG_ID,
    .schema_version = CATALOG_SCHEMA_VERSION,
    .schema_sql = catalog_schema,
};

/* ?1 source ?2 kind ?3 id ?4 json ?5 run. The WHERE skips a record delivered twice in one run
 * unchanged; RETURNING tells new / changed / unchanged apart. In the SET list every bare column
 * is the old value, so the CASEs compare old with new. */
static const char upsert_sql[] =
    "INSERT INTO entities (source, kind, id, json, first_seen, last_seen, changed_run, "
    "changed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?5, " NOW_SQL ") "
    "ON CONFLICT (source, kind, id) DO UPDATE SET"
    " last_seen = excluded.last_seen,"
    " json = excluded.json,"
    " changed_run = CASE WHEN json IS excluded.json AND NOT deleted THEN changed_run"
    " ELSE excluded.changed_run END,"
    " changed_at = CASE WHEN json IS excluded.json AND NOT deleted THEN changed_at"
    " ELSE excluded.changed_at END,"
    " deleted = 0, deleted_at = NULL "
    "WHERE json IS NOT excluded.json OR last_seen IS NOT excluded.last_seen OR deleted "
    "RETURNING first_seen, changed_run";

/* ?1 source ?2 kind ?3 id ?4 run: a `retain` -- the row is seen by this run, its data and
 * change stamps untouched. A deleted row stays deleted (a retain is no evidence it is back). */
static const char retain_sql[] =
    "UPDATE entities SET last_seen = ?4 WHERE source = ?1 AND kind = ?2 AND id = ?3"
    " AND NOT deleted";

static const char next_run_sql[] = "SELECT COALESCE(MAX(run_id), 0) + 1 FROM runs";

/* ?1 run ?2 source ?3 plugin */
static const char begin_run_sql[] =
    "INSERT INTO runs (run_id, source, plugin, started) VALUES (?1, ?2, ?3, " NOW_SQL ") "
    "ON CONFLICT (run_id, source) DO UPDATE SET plugin = excluded.plugin";

/* ?1 source ?2 this run: the first run after the source's last complete one. */
static const char epoch_sql[] =
    "SELECT COALESCE(MIN(run_id), ?2) FROM runs WHERE source = ?1 AND run_id > "
    "(SELECT COALESCE(MAX(run_id), 0) FROM runs WHERE source = ?1 AND complete)";

/* ?1 source ?2 epoch ?3 run */
static const char sweep_sql[] =
    "UPDATE entities SET deleted = 1, deleted_at = " NOW_SQL ", changed_run = ?3,"
    " changed_at = " NOW_SQL " WHERE source = ?1 AND NOT deleted AND last_seen < ?2";

/* ?1 source ?2 epoch: the live rows of the source, and how many of them the sweep would mark. */
static const char census_sql[] = "SELECT count(*), coalesce(sum(last_seen < ?2), 0) FROM entities"
                                 " WHERE source = ?1 AND NOT deleted";

/* ?1 run ?2 source ?3 host run ?4 complete ?5..?10 counts */
static const char end_run_sql[] =
    "UPDATE runs SET host_run_id = ?3, finished = " NOW_SQL ", complete = ?4, records = ?5,"
    " inserted = ?6, updated = ?7, unchanged = ?8, rejected = ?9, deleted = ?10"
    " WHERE run_id = ?1 AND source = ?2";

/* ?1 source ?2 json ?3 run */
static const char put_state_sql[] =
    "INSERT INTO state (source, json, run_id, saved_at) VALUES (?1, ?2, ?3, " NOW_SQL ") "
    "ON CONFLICT (source) DO UPDATE SET json = excluded.json, run_id = excluded.run_id,"
    " saved_at = excluded.saved_at";

static const char get_state_sql[] = "SELECT json FROM state WHERE source = ?1";

struct sqlite_sink {
  sqlite3 *db;           /* owned */
  char *path;            /* owned: for messages */
  struct host_log *log;  /* borrowed */
  bool in_txn;           /* a transaction is open (BEGIN IMMEDIATE) */
  struct host_catalog_batch batch; /* early commits, the retain-miss note */
  long long run_id;      /* this catalog run, allocated at the first begin_source; 0 before */
  char *source;          /* owned: the source between begin_source and end_source, or NULL */
  long long epoch;       /* of the current source; see the comment at the top */
  struct host_catalog_counts counts;
  sqlite3_stmt *upsert, *next_run, *begin_run, *epoch_st, *sweep, *end_run, *put_state, *get_state,
      *retain, *census; /* owned, prepared once */
};

static etl_status db_fail(struct sqlite_sink *s, int rc, const char *action) {
  etl_status st = host_sqldb_fail(s->log, s->db, rc, "catalog", s->path, action);
  /* Some errors (disk full, I/O) roll the transaction back by themselves. */
  s->in_txn = !sqlite3_get_autocommit(s->db);
  return st;
}

static etl_status prepare_all(struct sqlite_sink *s) {
  struct {
    sqlite3_stmt **st;
    const char *sql;
  } list[] = {
      {&s->upsert, upsert_sql},       {&s->next_run, next_run_sql},
      {&s->begin_run, begin_run_sql}, {&s->epoch_st, epoch_sql},
      {&s->sweep, sweep_sql},         {&s->end_run, end_run_sql},
      {&s->put_state, put_state_sql}, {&s->get_state, get_state_sql},
      {&s->retain, retain_sql},       {&s->census, census_sql},
  };
  for (size_t i = 0; i < sizeof list / sizeof list[0]; i++) {
    int rc =
        sqlite3_prepare_v3(s->db, list[i].sql, -1, SQLITE_PREPARE_PERSISTENT, list[i].st, NULL);
    if (rc != SQLITE_OK)
      return db_fail(s, rc, "prepare statements");
  }
  return ETL_OK;
}

/* Runs a statement that returns no rows, then resets it. */
static int step_done(sqlite3_stmt *st) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Runs a statement returning one integer, then resets it. */
static int step_int(sqlite3_stmt *st, long long *value) {
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *value = sqlite3_column_int64(st, 0);
    rc = SQLITE_OK;
  }
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc;
}

static etl_status ensure_txn(struct sqlite_sink *s) {
  if (s->in_txn)
    return ETL_OK;
  int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    return db_fail(s, rc, "begin a write transaction");
  s->in_txn = true;
  return ETL_OK;
}

static etl_status sqlite_commit(void *sink) {
  struct sqlite_sink *s = sink;
  if (!s->in_txn)
    return ETL_OK;
  int rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    return db_fail(s, rc, "commit");
  s->in_txn = false;
  host_catalog_batch_committed(&s->batch);
  return ETL_OK;
}

static void sqlite_destroy(void **sinkp) {
  if (!sinkp || !*sinkp)
    return;
  struct sqlite_sink *s = *sinkp;
  /* What was not committed was never acknowledged: drop it, as a crash would. */
  if (s->in_txn)
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
  sqlite3_stmt *all[] = {s->upsert,  s->next_run,  s->begin_run, s->epoch_st, s->sweep,
                         s->end_run, s->put_state, s->get_state, s->retain,   s->census};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    sqlite3_finalize(all[i]);
  sqlite3_close(s->db);
  free(s->source);
  free(s->path);
  free(s);
  *sinkp = NULL;
}

static etl_status sqlite_create(const char *config_json, const char *workflow_json,
                                struct host_log *log, void **sinkp) {
  static const char *const keys[] = {"path", "busyTimeoutMs", NULL};
  yajl_val cfg = NULL;
  const char *path;
  long long busy_ms;
  *sinkp = NULL;
  etl_status st = host_sink_config_parse(config_json, "sqlite", keys, log, &cfg);
  if (st != ETL_OK)
    return st;
  st = host_sink_config_string(cfg, "path", CATALOG_DEFAULT_PATH, log, &path);
  if (st == ETL_OK && !path[0]) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL, "sink.config.path: must not be empty");
    st = ETL_ERR_CONFIG;
  }
  if (st == ETL_OK)
    st = host_sink_config_int(cfg, "busyTimeoutMs", BUSY_TIMEOUT_MS_DEFAULT, 0, 3600000, log,
                              &busy_ms);
  if (st != ETL_OK)
    goto out_cfg;
  struct sqlite_sink *s = calloc(1, sizeof *s);
  if (!s || !(s->path = strdup(path))) {
    free(s);
    st = ETL_ERR_NOMEM;
    goto out_cfg;
  }
  s->log = log;
  st = host_sqldb_open(path, &catalog_kind, (int)busy_ms, log, &s->db);
  if (st == ETL_OK)
    st = prepare_all(s);
  if (st != ETL_OK) {
    void *tmp = s;
    sqlite_destroy(&tmp);
    goto out_cfg;
  }
  *sinkp = s;
out_cfg:
  yajl_tree_free(cfg);
  return st;
}

/* Records the source's run and commits that row at once (unless the host has a window open),
 * so a run killed before its first commit still leaves a row with finished NULL. */
static etl_status sqlite_begin_source(void *sink, const char *source, const char *plugin_type) {
  struct sqlite_sink *s = sink;
  bool own_txn = !s->in_txn;
  etl_status st = ensure_txn(s);
  if (st != ETL_OK)
    return st;
  int rc = SQLITE_OK;
  if (s->run_id == 0)
    rc = step_int(s->next_run, &s->run_id);
  if (rc == SQLITE_OK) {
    sqlite3_bind_int64(s->begin_run, 1, s->run_id);
    sqlite3_bind_text(s->begin_run, 2, source, -1, SQLITE_STATIC);
    sqlite3_bind_text(s->begin_run, 3, plugin_type, -1, SQLITE_STATIC);
    rc = step_done(s->begin_run);
  }
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(s->epoch_st, 1, source, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s->epoch_st, 2, s->run_id);
    rc = step_int(s->epoch_st, &s->epoch);
  }
  if (rc != SQLITE_OK)
    return db_fail(s, rc, "record the run");
  free(s->source);
  s->source = strdup(source);
  memset(&s->counts, 0, sizeof s->counts);
  if (!s->source)
    return ETL_ERR_NOMEM;
  return own_txn ? sqlite_commit(s) : ETL_OK;
}

/* Counts one upserted record from the RETURNING row (or its absence). */
static void count_upsert(struct sqlite_sink *s, int rc) {
  bool returned = rc == SQLITE_ROW; /* no row: delivered twice in this run, unchanged */
  host_catalog_count_upsert(&s->counts, s->run_id, returned,
                            returned ? sqlite3_column_int64(s->upsert, 0) : 0,
                            returned ? sqlite3_column_int64(s->upsert, 1) : 0);
}

static etl_status sqlite_write(void *sink, const struct host_record *rec, bool *rejected) {
  struct sqlite_sink *s = sink;
  char why[256], item[128];
  *rejected = false;
  if (!s->source) {
    host_log_msg(s->log, ETL_SEV_ERROR, rec->source, NULL,
                 "catalog '%s': write before begin_source (a bug in the runner)", s->path);
    return ETL_ERR_INTERNAL;
  }
  s->counts.records++;
  if (!host_sink_names_ok(rec, why, sizeof why) ||
      !host_catalog_json_object_ok(rec->json, rec->json_len, why, sizeof why)) {
    host_log_msg(s->log, ETL_SEV_ERROR, rec->source, host_sink_item(rec, item, sizeof item),
                 "rejected by the sqlite sink: %s", why);
    s->counts.rejected++;
    *rejected = true;
    return ETL_OK;
  }
  etl_status st = ensure_txn(s);
  if (st != ETL_OK)
    return st;
  sqlite3_bind_text(s->upsert, 1, rec->source, -1, SQLITE_STATIC);
  sqlite3_bind_text(s->upsert, 2, rec->kind, -1, SQLITE_STATIC);
  sqlite3_bind_text(s->upsert, 3, rec->id, -1, SQLITE_STATIC);
  sqlite3_bind_text(s->upsert, 4, rec->json, (int)rec->json_len, SQLITE_STATIC);
  sqlite3_bind_int64(s->upsert, 5, s->run_id);
  int rc = sqlite3_step(s->upsert);
  if (rc == SQLITE_ROW || rc == SQLITE_DONE)
    count_upsert(s, rc);
  sqlite3_reset(s->upsert);
  sqlite3_clear_bindings(s->upsert);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return db_fail(s, rc, "write");
  if (host_catalog_batch_add(&s->batch, 1))
    return sqlite_commit(s);
  return ETL_OK;
}

static etl_status sqlite_retain(void *sink, const char *source, const char *kind,
                                 const char *const *ids, size_t n) {
  struct sqlite_sink *s = sink;
  if (!s->source) {
    host_log_msg(s->log, ETL_SEV_ERROR, source, NULL,
                 "catalog '%s': retain before begin_source (a bug in the runner)", s->path);
    return ETL_ERR_INTERNAL;
  }
  etl_status st = ensure_txn(s);
  size_t missing = 0;
  for (size_t i = 0; i < n && st == ETL_OK; i++) {
    sqlite3_bind_text(s->retain, 1, source, -1, SQLITE_STATIC);
    sqlite3_bind_text(s->retain, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(s->retain, 3, ids[i], -1, SQLITE_STATIC);
    sqlite3_bind_int64(s->retain, 4, s->run_id);
    int rc = step_done(s->retain);
    if (rc != SQLITE_OK)
      st = db_fail(s, rc, "retain");
    else if (sqlite3_changes(s->db) == 0)
      missing++;
  }
  host_catalog_retain_missed(&s->batch, s->log, s->path, source, kind, missing);
  if (st == ETL_OK && host_catalog_batch_add(&s->batch, n))
    st = sqlite_commit(s);
  return st;
}

static etl_status sqlite_store_state(void *sink, const char *source, const char *state_json,
                                     size_t len) {
  struct sqlite_sink *s = sink;
  if (len > HOST_CATALOG_MAX_RECORD_BYTES) {
    host_log_msg(s->log, ETL_SEV_ERROR, source, NULL,
                 "catalog '%s': state of %zu bytes is too large", s->path, len);
    return ETL_ERR_INTERNAL;
  }
  etl_status st = ensure_txn(s);
  if (st != ETL_OK)
    return st;
  sqlite3_bind_text(s->put_state, 1, source, -1, SQLITE_STATIC);
  sqlite3_bind_text(s->put_state, 2, state_json, (int)len, SQLITE_STATIC);
  sqlite3_bind_int64(s->put_state, 3, s->run_id);
  int rc = step_done(s->put_state);
  if (rc != SQLITE_OK)
    return db_fail(s, rc, "store state");
  return sqlite_commit(s);
}

static etl_status sqlite_load_state(void *sink, const char *source, char **json, size_t *len) {
  struct sqlite_sink *s = sink;
  etl_status st = ETL_OK;
  *json = NULL;
  *len = 0;
  sqlite3_bind_text(s->get_state, 1, source, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s->get_state);
  if (rc == SQLITE_ROW) {
    const unsigned char *text = sqlite3_column_text(s->get_state, 0);
    int n = sqlite3_column_bytes(s->get_state, 0);
    *json = malloc((size_t)n + 1);
    if (!*json) {
      st = ETL_ERR_NOMEM;
    } else {
      memcpy(*json, text ? (const char *)text : "", (size_t)n);
      (*json)[n] = '\0';
      *len = (size_t)n;
    }
  } else if (rc != SQLITE_DONE) {
    st = db_fail(s, rc, "load state");
  }
  sqlite3_reset(s->get_state);
  sqlite3_clear_bindings(s->get_state);
  if (st == ETL_OK && *json &&
      (st = host_state_check("catalog", s->path, source, *json, *len, s->log)) != ETL_OK) {
    free(*json);
    *json = NULL;
    *len = 0;
  }
  return st;
}

/* The source's live rows, and how many of them a sweep from the epoch would mark deleted. */
static int census(struct sqlite_sink *s, const char *source, long long *live, long long *doomed) {
  sqlite3_bind_text(s->census, 1, source, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s->census, 2, s->epoch ? s->epoch : s->run_id);
  int rc = sqlite3_step(s->census);
  if (rc == SQLITE_ROW) {
    *live = sqlite3_column_int64(s->census, 0);
    *doomed = sqlite3_column_int64(s->census, 1);
    rc = SQLITE_OK;
  }
  sqlite3_reset(s->census);
  sqlite3_clear_bindings(s->census);
  return rc;
}

static etl_status sqlite_end_source(void *sink, const char *source,
                                    const struct host_source_outcome *o) {
  struct sqlite_sink *s = sink;
  long long deleted = 0;
  etl_status st = ensure_txn(s);
  if (st != ETL_OK)
    return st;
  int rc = SQLITE_OK;
  bool complete = o->complete;
  if (complete) {
    long long live = 0, doomed = 0;
    rc = census(s, source, &live, &doomed);
    if (rc == SQLITE_OK)
      complete = host_fail_safe_allows(s->log, source, "catalog", o, doomed, live);
  }
  if (rc == SQLITE_OK && complete) {
    sqlite3_bind_text(s->sweep, 1, source, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s->sweep, 2, s->epoch ? s->epoch : s->run_id);
    sqlite3_bind_int64(s->sweep, 3, s->run_id);
    rc = step_done(s->sweep);
    deleted = sqlite3_changes(s->db);
  }
  if (rc == SQLITE_OK) {
    sqlite3_stmt *e = s->end_run;
    sqlite3_bind_int64(e, 1, s->run_id);
    sqlite3_bind_text(e, 2, source, -1, SQLITE_STATIC);
    sqlite3_bind_int64(e, 3, o->run_id);
    sqlite3_bind_int(e, 4, complete ? 1 : 0);
    sqlite3_bind_int64(e, 5, s->counts.records);
    sqlite3_bind_int64(e, 6, s->counts.inserted);
    sqlite3_bind_int64(e, 7, s->counts.updated);
    sqlite3_bind_int64(e, 8, s->counts.unchanged);
    sqlite3_bind_int64(e, 9, s->counts.rejected);
    sqlite3_bind_int64(e, 10, deleted);
    rc = step_done(e);
  }
  if (rc != SQLITE_OK)
    return db_fail(s, rc, o->complete ? "mark deleted entities" : "record the run");
  if (deleted > 0)
    host_log_msg(s->log, ETL_SEV_INFO, source, NULL,
                 "catalog '%s': %lld entities not seen since the last complete run marked "
                 "deleted",
                 s->path, deleted);
  free(s->source);
  s->source = NULL;
  return sqlite_commit(s);
}

/* ---- `etlhost test` ----------------------------------------------------------------------- */

/* An existing file: it must be an SQLite file that is a catalog (or empty, as a new one), and
 * writable. Opened without SQLITE_OPEN_CREATE and nothing is written. */
static etl_status test_existing(const char *path, char *msg, size_t cap) {
  sqlite3 *db = NULL;
  long long app_id = 0, version = 0, objects = 0;
  etl_status st = ETL_ERR_CONFIG;
  int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
  sqlite3_stmt *q = NULL;
  const char *sql = "SELECT (SELECT application_id FROM pragma_application_id),"
                    " (SELECT user_version FROM pragma_user_version),"
                    " (SELECT count(*) FROM sqlite_schema)";
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(db, sql, -1, &q, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
    app_id = sqlite3_column_int64(q, 0);
    version = sqlite3_column_int64(q, 1);
    objects = sqlite3_column_int64(q, 2);
    rc = SQLITE_OK;
  }
  sqlite3_finalize(q);
  if ((rc & 0xff) == SQLITE_NOTADB) {
    snprintf(msg, cap, "'%s' exists and is not an SQLite catalog; choose another path", path);
  } else if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
    snprintf(msg, cap, "'%s' is locked by another process", path);
    st = ETL_ERR_TRANSIENT;
  } else if (rc != SQLITE_OK) {
    snprintf(msg, cap, "cannot open '%s': %s", path, db ? sqlite3_errmsg(db) : "out of memory");
  } else if (app_id != HOST_SQLDB_CATALOG_ID && (app_id != 0 || objects != 0)) {
    snprintf(msg, cap, "'%s' is an SQLite file but not an etlhost catalog; choose another path",
             path);
  } else if (version > CATALOG_SCHEMA_VERSION) {
    snprintf(msg, cap, "catalog '%s' has schema %lld, newer than this etlhost knows (%d)", path,
             version, CATALOG_SCHEMA_VERSION);
  } else if (sqlite3_db_readonly(db, "main") != 0 || access(path, W_OK) != 0) {
    snprintf(msg, cap, "catalog '%s' is not writable", path);
  } else {
    snprintf(msg, cap, "'%s' is %s, writable", path,
             app_id == HOST_SQLDB_CATALOG_ID ? "a catalog" : "empty (becomes a catalog)");
    st = ETL_OK;
  }
  sqlite3_close(db);
  return st;
}

/* Writes the directory that would hold `path` ("." for a bare name) into dir; true when it
 * exists as a directory. */
static bool parent_dir_exists(const char *path, char *dir, size_t cap) {
  const char *slash = strrchr(path, '/');
  size_t n = slash ? (slash == path ? 1 : (size_t)(slash - path)) : 0;
  if (n == 0)
    snprintf(dir, cap, ".");
  else
    snprintf(dir, cap, "%.*s", (int)n, path);
  struct stat sb;
  return stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* A new file: creating it in its directory must work. Created with O_EXCL (never touching a
 * file another process made meanwhile) and removed at once, so nothing is left behind. */
static etl_status test_new(const char *path, char *msg, size_t cap) {
  char dir[4096];
  if (!parent_dir_exists(path, dir, sizeof dir)) {
    snprintf(msg, cap,
             "the directory '%s' of '%s' does not exist; create it or choose another path", dir,
             path);
    return ETL_ERR_CONFIG;
  }
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    snprintf(msg, cap, "cannot create '%s' in '%s': %s", path, dir, strerror(errno));
    return ETL_ERR_CONFIG;
  }
  close(fd);
  unlink(path);
  snprintf(msg, cap, "'%s' does not exist yet and can be created", path);
  return ETL_OK;
}

static etl_status sqlite_test(const char *config_json, const char *workflow_json,
                              struct host_log *log, host_sink_step_fn step, void *ctx) {
  (void)workflow_json;
  static const char *const keys[] = {"path", "busyTimeoutMs", NULL};
  yajl_val cfg = NULL;
  const char *path = NULL;
  char msg[4096 + 256];
  struct stat sb;
  etl_status st = host_sink_config_parse(config_json, "sqlite", keys, log, &cfg);
  if (st == ETL_OK)
    st = host_sink_config_string(cfg, "path", CATALOG_DEFAULT_PATH, log, &path);
  if (st == ETL_OK && !path[0]) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL, "sink.config.path: must not be empty");
    st = ETL_ERR_CONFIG;
  }
  if (st != ETL_OK) {
    step(ctx, "catalog", ETL_TEST_FAIL, "the sink's configuration is wrong (see above)");
    goto out;
  }
  if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
    snprintf(msg, sizeof msg, "'%s' is a directory; give the path of a file in it", path);
    st = ETL_ERR_CONFIG;
  } else if (stat(path, &sb) == 0) {
    st = test_existing(path, msg, sizeof msg);
  } else {
    st = test_new(path, msg, sizeof msg);
  }
  step(ctx, "catalog", st == ETL_OK ? ETL_TEST_PASS : ETL_TEST_FAIL, msg);
out:
  yajl_tree_free(cfg);
  return st;
}

const struct host_sink_ops host_sink_sqlite_ops = {
    .type = "sqlite",
    .create = sqlite_create,
    .begin_source = sqlite_begin_source,
    .write = sqlite_write,
    .commit = sqlite_commit,
    .store_state = sqlite_store_state,
    .load_state = sqlite_load_state,
    .end_source = sqlite_end_source,
    .destroy = sqlite_destroy,
    .test = sqlite_test,
    .retain = sqlite_retain,
};
