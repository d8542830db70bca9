/*
 * catalog_read.c -- opening the catalog read-only and walking its rows (see catalog_read.h).
 *
 * The lineage pictures and the site used to carry one opener each, with different messages
 * for the same broken file; this is the one both use now.
 */
#include "config.h"

#include "catalog_read.h"

#include "log.h"
#include "sqldb.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static int fail(struct host_log *log, const char *path, const char *why) {
  host_log_msg(log, ETL_SEV_ERROR, NULL, NULL, "catalog '%s': %s", path, why);
  return -1;
}

static int query_int(sqlite3 *db, const char *sql, long long *v) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    *v = sqlite3_column_int64(st, 0);
    rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  return rc;
}

/* What the file's application_id says it is, in words. */
static const char *not_ours(long long app_id) {
  return app_id == HOST_SQLDB_STATE_ID ? "not an etlhost catalog (it is an etlhost state store)"
         : app_id == 0 ? "not an etlhost catalog (an SQLite file without etlhost's mark)"
                       : "not an etlhost catalog (an SQLite file of another application)";
}

/* The checks once the file is open: its marks, its version, its table. */
static int check(sqlite3 *db, const char *path, struct host_log *log) {
  long long app_id = 0, version = 0, tables = 0;
  int rc = query_int(db, "PRAGMA application_id", &app_id);
  if (rc == SQLITE_OK)
    rc = query_int(db, "PRAGMA user_version", &version);
  if ((rc & 0xff) == SQLITE_NOTADB)
    return fail(log, path, "not an etlhost catalog: the file is not a SQLite database");
  if (rc != SQLITE_OK) {
    host_sqldb_fail(log, db, rc, "catalog", path, "cannot open");
    return -1;
  }
  if (app_id != HOST_SQLDB_CATALOG_ID)
    return fail(log, path, not_ours(app_id));
  if (version != HOST_CATALOG_READ_SCHEMA) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL,
                 "catalog '%s': schema version %lld, this etlhost reads version %d%s", path,
                 version, HOST_CATALOG_READ_SCHEMA,
                 version > HOST_CATALOG_READ_SCHEMA ? "; upgrade etlhost" : "");
    return -1;
  }
  rc = query_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'entities'", &tables);
  if (rc != SQLITE_OK || tables != 1)
    return fail(log, path, "it has no entities table");
  return 0;
}

int host_catalog_open(const char *path, struct host_log *log, sqlite3 **db) {
  struct stat sb;
  *db = NULL;
  if (stat(path, &sb) != 0) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL, "catalog '%s': cannot open: %s", path,
                 strerror(errno));
    return -1;
  }
  if (!S_ISREG(sb.st_mode))
    return fail(log, path, "not a regular file");
  int rc = sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK)
    host_sqldb_fail(log, *db, rc, "catalog", path, "cannot open");
  if (rc != SQLITE_OK || check(*db, path, log) != 0) {
    sqlite3_close(*db);
    *db = NULL;
    return -1;
  }
  return 0;
}

int host_catalog_each_row(sqlite3 *db, const char *path, struct host_log *log, const char *sql,
                          const char *param, host_catalog_row_fn fn, void *ctx,
                          const char *action) {
  sqlite3_stmt *st = NULL;
  int status = 0;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc == SQLITE_OK && param)
    rc = sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
  while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    if ((status = fn(ctx, st)) != 0)
      goto out;
    rc = SQLITE_OK;
  }
  if (rc != SQLITE_DONE) {
    host_sqldb_fail(log, db, rc, "catalog", path, action);
    status = -1;
  }
out:
  sqlite3_finalize(st);
  return status;
}
