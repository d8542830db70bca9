/*
 * sqldb.h -- opening the host's own SQLite files (the catalog of the sqlite sink, the state
 * store) with one set of durability settings and one set of clear errors.
 *
 * Every file carries PRAGMA application_id (which kind of etlhost file it is) and
 * PRAGMA user_version (its schema version). An empty or new file gets the schema; a file of
 * another kind, another application, a newer schema or no SQLite at all is refused with a
 * message naming the file. Files run in WAL mode with synchronous=FULL, so a COMMIT that
 * returned is on disk, and readers (the sqlite3 shell) never block the writer.
 */
#ifndef HOST_SQLDB_H
#define HOST_SQLDB_H

#include <etl/plugin.h>
#include <sqlite3.h>

struct host_log;

/* What kind of file to open. Static data, borrowed. */
struct host_sqldb_kind {
  const char *what;       /* "catalog", "state store": used in messages */
  int application_id;     /* marks the file as ours and of this kind */
  int schema_version;     /* user_version written with schema_sql */
  const char *schema_sql; /* statements creating the schema in an empty file */
};

#define HOST_SQLDB_CATALOG_ID 0x45544c43 /* "ETLC" */
#define HOST_SQLDB_STATE_ID 0x45544c53   /* "ETLS" */

/* Opens (creating if needed) the file at path as `kind`, waiting up to busy_timeout_ms for
 * another process's lock. Logs what is wrong naming the file and returns ETL_ERR_CONFIG (cannot
 * open, not this kind of file), ETL_ERR_TRANSIENT (locked, disk full) or another class.
 * *out is owned by the caller (sqlite3_close). */
etl_status host_sqldb_open(const char *path, const struct host_sqldb_kind *kind,
                           int busy_timeout_ms, struct host_log *log, sqlite3 **out);

/* Logs a failed SQLite call as "WHAT 'PATH': ACTION: reason" and maps its result code to a
 * status: disk full and locked are ETL_ERR_TRANSIENT, an unusable file ETL_ERR_CONFIG, out of
 * memory ETL_ERR_NOMEM, anything else ETL_ERR_INTERNAL. */
etl_status host_sqldb_fail(struct host_log *log, sqlite3 *db, int rc, const char *what,
                           const char *path, const char *action);

/* Runs one statement without results; on failure logs and maps as host_sqldb_fail does. */
etl_status host_sqldb_exec(sqlite3 *db, const char *sql, struct host_log *log, const char *what,
                           const char *path, const char *action);

#endif
