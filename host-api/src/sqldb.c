/*
 * sqldb.c -- opening and checking the host's SQLite files (see sqldb.h).
 *
 * The check reads the two header fields SQLite reserves for applications before touching
 * anything else, so a foreign file is never modified: only a file with no tables at all gets
 * our schema, and that happens inside BEGIN IMMEDIATE so two processes creating the same file
 * at once cannot both do it.
 */
#include "config.h"

#include "sqldb.h"

#include "log.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static const char *rc_reason(sqlite3 *db, int rc, char *buf, size_t cap) {
  int sys = db ? sqlite3_system_errno(db) : 0;
  const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
  case SQLITE_FULL:
    snprintf(buf, cap, "disk full (%s)", msg);
    break;
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    snprintf(buf, cap,
             "locked by another process or connection (%s); is another etlhost "
             "writing to it?",
             msg);
    break;
  default:
    if (sys)
      snprintf(buf, cap, "%s (%s)", msg, strerror(sys));
    else
      snprintf(buf, cap, "%s", msg);
  }
  return buf;
}

static etl_status rc_status(int rc) {
  switch (rc & 0xff) {
  case SQLITE_FULL:
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    return ETL_ERR_TRANSIENT;
  case SQLITE_NOTADB:
  case SQLITE_CANTOPEN:
  case SQLITE_READONLY:
  case SQLITE_PERM:
  case SQLITE_AUTH:
  case SQLITE_CORRUPT:
    return ETL_ERR_CONFIG;
  case SQLITE_NOMEM:
    return ETL_ERR_NOMEM;
  default:
    return ETL_ERR_INTERNAL;
  }
}

etl_status host_sqldb_fail(struct host_log *log, sqlite3 *db, int rc, const char *what,
                           const char *path, const char *action) {
  char reason[512];
  host_log_msg(log, ETL_SEV_ERROR, NULL, NULL, "%s '%s': %s: %s", what, path, action,
               rc_reason(db, rc, reason, sizeof reason));
  return rc_status(rc);
}

etl_status host_sqldb_exec(sqlite3 *db, const char *sql, struct host_log *log, const char *what,
                           const char *path, const char *action) {
  int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    return host_sqldb_fail(log, db, rc, what, path, action);
  return ETL_OK;
}

/* Reads one integer from a statement with a single-value result. */
static int query_int(sqlite3 *db, const char *sql, long long *value) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc != SQLITE_OK)
    return rc;
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *value = sqlite3_column_int64(st, 0);
    rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  return rc;
}

/* Gives an empty file the schema. Called with no transaction open. */
static etl_status create_schema(sqlite3 *db, const char *path, const struct host_sqldb_kind *kind,
                                struct host_log *log) {
  etl_status st = host_sqldb_exec(db, "BEGIN IMMEDIATE", log, kind->what, path, "create schema");
  if (st != ETL_OK)
    return st;
  long long tables = 0, app_id = 0;
  int rc = query_int(db, "SELECT count(*) FROM sqlite_master", &tables);
  if (rc == SQLITE_OK)
    rc = query_int(db, "PRAGMA application_id", &app_id);
  if (rc != SQLITE_OK) {
    st = host_sqldb_fail(log, db, rc, kind->what, path, "create schema");
    goto out_rollback;
  }
  if (app_id == kind->application_id) /* another process created it meanwhile */
    goto out_commit;
  char pragmas[128];
  snprintf(pragmas, sizeof pragmas, "PRAGMA application_id = %d; PRAGMA user_version = %d",
           kind->application_id, kind->schema_version);
  st = host_sqldb_exec(db, kind->schema_sql, log, kind->what, path, "create schema");
  if (st == ETL_OK)
    st = host_sqldb_exec(db, pragmas, log, kind->what, path, "create schema");
  if (st != ETL_OK)
    goto out_rollback;
out_commit:
  return host_sqldb_exec(db, "COMMIT", log, kind->what, path, "create schema");
out_rollback:
  sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  return st;
}

/* Decides whether the open file is ours, creating the schema in an empty one. */
static etl_status check_kind(sqlite3 *db, const char *path, const struct host_sqldb_kind *kind,
                             struct host_log *log) {
  long long app_id = 0, version = 0, tables = 0;
  int rc = query_int(db, "PRAGMA application_id", &app_id);
  if (rc == SQLITE_OK)
    rc = query_int(db, "PRAGMA user_version", &version);
  if (rc == SQLITE_OK)
    rc = query_int(db, "SELECT count(*) FROM sqlite_master", &tables);
  if ((rc & 0xff) == SQLITE_NOTADB) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL,
                 "%s '%s': not an etlhost %s: the file is not a SQLite database; choose "
                 "another path",
                 kind->what, path, kind->what);
    return ETL_ERR_CONFIG;
  }
  if (rc != SQLITE_OK)
    return host_sqldb_fail(log, db, rc, kind->what, path, "open");
  if (app_id == 0 && version == 0 && tables == 0)
    return create_schema(db, path, kind, log);
  if (app_id != kind->application_id) {
    const char *ours = app_id == HOST_SQLDB_CATALOG_ID ? "catalog"
                       : app_id == HOST_SQLDB_STATE_ID ? "state store"
                                                       : NULL;
    if (ours)
      host_log_msg(log, ETL_SEV_ERROR, NULL, NULL,
                   "%s '%s': not an etlhost %s: it is an etlhost %s; choose another path",
                   kind->what, path, kind->what, ours);
    else
      host_log_msg(log, ETL_SEV_ERROR, NULL, NULL,
                   "%s '%s': not an etlhost %s: the file is a SQLite database of another "
                   "application (application_id %#llx); choose another path",
                   kind->what, path, kind->what, (unsigned long long)app_id);
    return ETL_ERR_CONFIG;
  }
  if (version != kind->schema_version) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL,
                 "%s '%s': schema version %lld, but this etlhost reads version %d%s", kind->what,
                 path, version, kind->schema_version,
                 version > kind->schema_version ? "; upgrade etlhost" : "");
    return ETL_ERR_CONFIG;
  }
  return ETL_OK;
}

/* The errno for which path's directory may not be written (EROFS, EACCES), with the directory
 * in dir; 0 when it may (or does not exist: SQLite's own message says so). SQLite reports
 * ENOENT when it cannot create a new file or the -wal of an existing one there. */
static int dir_unwritable(const char *path, char *dir, size_t cap) {
  const char *slash = strrchr(path, '/');
  if (!slash)
    snprintf(dir, cap, ".");
  else if (slash == path)
    snprintf(dir, cap, "/");
  else
    snprintf(dir, cap, "%.*s", (int)(slash - path), path);
  if (access(dir, W_OK) == 0 || errno == ENOENT)
    return 0;
  return errno;
}

etl_status host_sqldb_open(const char *path, const struct host_sqldb_kind *kind,
                           int busy_timeout_ms, struct host_log *log, sqlite3 **out) {
  sqlite3 *db = NULL;
  etl_status st;
  *out = NULL;
  int rc = sqlite3_open_v2(path, &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  char dir[4096];
  int dir_err = 0;
  if (rc != SQLITE_OK) {
    if ((rc & 0xff) == SQLITE_CANTOPEN && (dir_err = dir_unwritable(path, dir, sizeof dir))) {
      host_log_msg(log, ETL_SEV_ERROR, NULL, NULL, "%s '%s': cannot create it in '%s': %s",
                   kind->what, path, dir, strerror(dir_err));
      st = ETL_ERR_CONFIG;
    } else {
      st = host_sqldb_fail(log, db, rc, kind->what, path, "cannot open");
    }
    goto out_close;
  }
  /* SQLite opens a file it may not write read-only, then fails on its -wal with ENOENT: say
   * the real reason (EROFS, EACCES) before that. */
  if (sqlite3_db_readonly(db, "main") == 1) {
    int err = access(path, W_OK) != 0 ? errno : EACCES;
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL, "%s '%s': cannot open it for writing: %s",
                 kind->what, path, strerror(err));
    st = ETL_ERR_CONFIG;
    goto out_close;
  }
  sqlite3_busy_timeout(db, busy_timeout_ms);
  st = check_kind(db, path, kind, log);
  if (st != ETL_OK)
    goto out_close;
  /* WAL: readers never block the writer, and a commit appends instead of rewriting pages.
   * synchronous=FULL: a commit that returned survives power loss, which the state ordering
   * needs (NORMAL in WAL mode may lose the last commits). */
  rc = sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL", NULL, NULL, NULL);
  if (rc != SQLITE_OK && (rc & 0xff) == SQLITE_CANTOPEN &&
      (dir_err = dir_unwritable(path, dir, sizeof dir))) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL,
                 "%s '%s': cannot create its write-ahead log in '%s': %s", kind->what, path, dir,
                 strerror(dir_err));
    st = ETL_ERR_CONFIG;
    goto out_close;
  }
  if (rc != SQLITE_OK) {
    st = host_sqldb_fail(log, db, rc, kind->what, path, "set journal mode");
    goto out_close;
  }
  *out = db;
  return ETL_OK;
out_close:
  sqlite3_close(db);
  return st;
}
