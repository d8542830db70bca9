/*
 * pgconn.h -- what the postgres sink (sink_postgres.c, which defines these) and the PostgreSQL
 * state store (state_postgres.c) share: naming a database in messages without its password,
 * a failed call's reason on one line, and a stored state read back.
 */
#ifndef HOST_PGCONN_H
#define HOST_PGCONN_H

#include <etl/plugin.h>
#include <libpq-fe.h>
#include <stddef.h>

struct host_log;

/* The longest a session of etlhost waits for a lock, in seconds, unless told otherwise (the
 * postgres sink's sink.config.lockTimeoutSeconds; for the state store, a lock_timeout its URL,
 * role or database sets). A hung run must not hold every later one forever. */
#define HOST_PG_LOCK_TIMEOUT_DEFAULT 600
#define HOST_PG_SQLSTATE_LOCK_TIMEOUT "55P03" /* lock_not_available: lock_timeout expired */

/* Registers the password of dsn (a libpq conninfo or URI) with the log as a secret, and sets
 * *label (malloc'd, caller frees) to "user@host:port/dbname" for messages. A dsn libpq cannot
 * parse is logged under `key` without echoing it: ETL_ERR_CONFIG. */
etl_status host_pg_dsn_describe(const char *dsn, const char *key, struct host_log *log,
                                char **label);

/* Writes the reason of a failed result (or, when res is NULL or silent, of the connection) into
 * buf without its trailing newline. Returns buf. */
const char *host_pg_reason(PGconn *conn, PGresult *res, char *buf, size_t cap);

/* Takes the state in the first column of res's first row (no row: no state) into *json
 * (malloc'd, caller frees; NULL when there is none) and *len, then clears res. The state is
 * checked with host_state_check, naming it as `what` 'label' and source; one that fails is
 * dropped and the check's status returned. */
etl_status host_pg_take_state(PGresult *res, const char *what, const char *label,
                              const char *source, struct host_log *log, char **json, size_t *len);

#endif
