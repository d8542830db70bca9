/*
 * catalog_read.h -- reading the sqlite sink's catalog for people (`etlhost lineage`,
 * `etlhost site`): one way to open it read-only and check what it is, one way to walk rows.
 *
 * Both readers refuse the same files with the same messages, each naming the file: missing,
 * not a regular file, not SQLite, another kind of SQLite file (a state store, another
 * program's), a schema version this etlhost does not read, no `entities` table.
 */
#ifndef HOST_CATALOG_READ_H
#define HOST_CATALOG_READ_H

#include <sqlite3.h>

struct host_log;

/* The catalog schema version these readers understand (the one sink_sqlite.c writes). */
#define HOST_CATALOG_READ_SCHEMA 1

/* Opens the catalog at path read-only and checks it is one (see above). 0 with *db open
 * (owned by the caller: sqlite3_close), or -1 with the reason logged and *db NULL. */
int host_catalog_open(const char *path, struct host_log *log, sqlite3 **db);

/* Called for each row: 0 to go on; anything else stops the walk and is returned (the
 * callback logs its own errors). ctx is the caller's. */
typedef int (*host_catalog_row_fn)(void *ctx, sqlite3_stmt *st);

/* Runs sql on the catalog db (read from path), binding param, if not NULL, to ?1, and calls fn
 * for each row. 0 when every row was read; what fn returned when it stopped; -1 when SQLite
 * failed, logged as "catalog 'PATH': ACTION: reason". */
int host_catalog_each_row(sqlite3 *db, const char *path, struct host_log *log, const char *sql,
                          const char *param, host_catalog_row_fn fn, void *ctx, const char *action);

#endif
