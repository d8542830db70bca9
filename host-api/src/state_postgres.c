/*
 * state_postgres.c -- the state store in PostgreSQL (state_postgres.h). Every save is its own
 * committed transaction (or, with a file sink's mark, one transaction for both), so a save that
 * returned survives the process. A source's state is one row; concurrent runs of one source
 * through this store overwrite each other's row the way two runs on one SQLite store do: the
 * later save wins, and a state only ever points behind data already committed.
 *
 * Its statements can wait on locks: a save's upsert waits for the row (or the new key) another
 * session's open transaction holds -- a hung run between the two writes of a marked save, a
 * concurrent run of the same source -- and every statement waits behind a DDL or VACUUM FULL of
 * the tables. So, as the postgres sink does, the session bounds each wait with lock_timeout:
 * HOST_PG_LOCK_TIMEOUT_DEFAULT unless the URL (options=-c lock_timeout=...), role or database
 * already set one; on expiry the call fails ETL_ERR_TRANSIENT (try again later), saying so.
 * No statement_timeout: a wait on the network or a large state is not a lock held forever.
 */
#include "config.h"

#include "state_postgres.h"

#include "log.h"
#include "pgconn.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW_SQL "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

static const char schema_sql[] =
    "SET client_min_messages = warning;"
    "CREATE TABLE IF NOT EXISTS state_store (source TEXT PRIMARY KEY, json TEXT NOT NULL,"
    " saved_at TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS file_marks (path TEXT PRIMARY KEY, \"offset\" BIGINT NOT NULL,"
    " dev BIGINT NOT NULL, ino BIGINT NOT NULL, clean BOOLEAN NOT NULL, saved_at TEXT NOT NULL)";

static const char save_sql[] =
    "INSERT INTO state_store (source, json, saved_at) VALUES ($1, $2, " NOW_SQL ")"
    " ON CONFLICT (source) DO UPDATE SET json = excluded.json, saved_at = excluded.saved_at";

static const char mark_save_sql[] =
    "INSERT INTO file_marks VALUES ($1, $2, $3, $4, $5, " NOW_SQL ") ON CONFLICT (path) DO"
    " UPDATE SET \"offset\" = excluded.\"offset\", dev = excluded.dev, ino = excluded.ino,"
    " clean = excluded.clean, saved_at = excluded.saved_at";

struct host_pg_state {
  PGconn *conn;              /* owned */
  char *label;               /* owned: user@host:port/dbname, never the password */
  struct host_log *log;      /* borrowed */
  long long lock_timeout_ms; /* the session's lock_timeout, for messages */
};

/* Logs "state store 'LABEL': ACTION: reason" for a failed result and maps it to a status. */
static etl_status fail(struct host_pg_state *ps, PGresult *res, const char *action) {
  char reason[512];
  host_pg_reason(ps->conn, res, reason, sizeof reason);
  const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  if (state && strcmp(state, HOST_PG_SQLSTATE_LOCK_TIMEOUT) == 0) {
    host_log_msg(ps->log, ETL_SEV_ERROR, NULL, NULL,
                 "state store '%s': %s: waited %g s for a lock another session holds "
                 "(lock_timeout; a longer wait: options=-c lock_timeout=... in "
                 "workflowConfig.stateStore), try again later: %s",
                 ps->label, action, (double)ps->lock_timeout_ms / 1000.0, reason);
    return ETL_ERR_TRANSIENT;
  }
  host_log_msg(ps->log, ETL_SEV_ERROR, NULL, NULL, "state store '%s': %s: %s", ps->label, action,
               reason);
  return PQstatus(ps->conn) != CONNECTION_OK ? ETL_ERR_TRANSIENT : ETL_ERR_INTERNAL;
}

/* Runs sql with text parameters (lengths: -1 for NUL-terminated); *res when wanted. */
static etl_status exec(struct host_pg_state *ps, const char *sql, int n, const char *const *v,
                       const int *lengths, const char *action, PGresult **res) {
  int lens[5] = {0}, formats[5] = {0};
  for (int i = 0; i < n; i++)
    if (lengths && lengths[i] >= 0) {
      lens[i] = lengths[i];
      formats[i] = 1;
    }
  PGresult *r = n ? PQexecParams(ps->conn, sql, n, NULL, v, lens, formats, 0) : PQexec(ps->conn, sql);
  ExecStatusType t = PQresultStatus(r);
  etl_status st = ETL_OK;
  if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK)
    st = fail(ps, r, action);
  if (st == ETL_OK && res)
    *res = r;
  else
    PQclear(r);
  return st;
}

/* Bounds the session's lock waits (see the top of the file) and notes the bound, in ms. */
static etl_status bound_lock_waits(struct host_pg_state *ps) {
  static const char show[] = "SELECT setting::bigint FROM pg_settings WHERE name = 'lock_timeout'";
  PGresult *r = NULL;
  etl_status st = exec(ps, show, 0, NULL, NULL, "read lock_timeout", &r);
  if (st != ETL_OK)
    return st;
  ps->lock_timeout_ms = PQntuples(r) > 0 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
  PQclear(r);
  if (ps->lock_timeout_ms > 0)
    return ETL_OK; /* the URL, role or database chose */
  char set[64];
  ps->lock_timeout_ms = HOST_PG_LOCK_TIMEOUT_DEFAULT * 1000LL;
  snprintf(set, sizeof set, "SET lock_timeout = %lld", ps->lock_timeout_ms);
  return exec(ps, set, 0, NULL, NULL, "set lock_timeout", NULL);
}

etl_status host_pg_state_open(const char *url, struct host_log *log, struct host_pg_state **out) {
  *out = NULL;
  struct host_pg_state *ps = calloc(1, sizeof *ps);
  if (!ps)
    return ETL_ERR_NOMEM;
  ps->log = log;
  etl_status st = host_pg_dsn_describe(url, "workflowConfig.stateStore", log, &ps->label);
  if (st == ETL_OK && !(ps->conn = PQconnectdb(url)))
    st = ETL_ERR_NOMEM;
  if (st == ETL_OK && PQstatus(ps->conn) != CONNECTION_OK) {
    char reason[512];
    host_pg_reason(ps->conn, NULL, reason, sizeof reason);
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL, "state store '%s': cannot connect: %s",
                 ps->label, reason);
    st = ETL_ERR_CONNECT;
  }
  if (st == ETL_OK)
    st = bound_lock_waits(ps);
  if (st == ETL_OK)
    st = exec(ps, schema_sql, 0, NULL, NULL, "create the tables", NULL);
  if (st != ETL_OK) {
    host_pg_state_close(&ps);
    return st;
  }
  *out = ps;
  return ETL_OK;
}

etl_status host_pg_state_load(struct host_pg_state *ps, const char *source, char **json,
                              size_t *len) {
  *json = NULL;
  *len = 0;
  const char *v[] = {source};
  PGresult *r = NULL;
  etl_status st = exec(ps, "SELECT json FROM state_store WHERE source = $1", 1, v, NULL,
                       "load state", &r);
  if (st != ETL_OK)
    return st;
  return host_pg_take_state(r, "state store", ps->label, source, ps->log, json, len);
}

etl_status host_pg_state_save(struct host_pg_state *ps, const char *source, const char *json,
                              size_t len) {
  while (len > 0 && json[len - 1] == '\0') /* a length that counts the terminator */
    len--;
  if (len > 500000000 || memchr(json, '\0', len)) {
    host_log_msg(ps->log, ETL_SEV_ERROR, source, NULL,
                 "state store '%s': state of %zu bytes is too large or holds a NUL byte",
                 ps->label, len);
    return ETL_ERR_INTERNAL;
  }
  const char *v[] = {source, json};
  const int lens[] = {-1, (int)len};
  return exec(ps, save_sql, 2, v, lens, "save state", NULL);
}

etl_status host_pg_state_mark_save(struct host_pg_state *ps, const char *file,
                                   const struct host_state_mark *mark) {
  char a[3][32];
  snprintf(a[0], 32, "%lld", mark->offset);
  snprintf(a[1], 32, "%lld", mark->dev);
  snprintf(a[2], 32, "%lld", mark->ino);
  const char *v[] = {file, a[0], a[1], a[2], mark->clean ? "true" : "false"};
  return exec(ps, mark_save_sql, 5, v, NULL, "save the file sink's committed offset", NULL);
}

etl_status host_pg_state_mark_load(struct host_pg_state *ps, const char *file,
                                   struct host_state_mark *mark, bool *found) {
  *found = false;
  const char *v[] = {file};
  PGresult *r = NULL;
  etl_status st = exec(ps, "SELECT \"offset\", dev, ino, clean FROM file_marks WHERE path = $1",
                       1, v, NULL, "load the file sink's committed offset", &r);
  if (st != ETL_OK)
    return st;
  if (PQntuples(r) > 0) {
    mark->offset = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    mark->dev = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    mark->ino = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
    mark->clean = strcmp(PQgetvalue(r, 0, 3), "t") == 0;
    *found = true;
  }
  PQclear(r);
  return ETL_OK;
}

etl_status host_pg_state_save_marked(struct host_pg_state *ps, const char *source,
                                     const char *json, size_t len, const char *file,
                                     const struct host_state_mark *mark) {
  etl_status st = exec(ps, "BEGIN", 0, NULL, NULL, "save state", NULL);
  if (st != ETL_OK)
    return st;
  st = host_pg_state_save(ps, source, json, len);
  if (st == ETL_OK)
    st = host_pg_state_mark_save(ps, file, mark);
  if (st == ETL_OK)
    return exec(ps, "COMMIT", 0, NULL, NULL, "save state", NULL);
  PQclear(PQexec(ps->conn, "ROLLBACK"));
  return st;
}

void host_pg_state_close(struct host_pg_state **psp) {
  if (!psp || !*psp)
    return;
  PQfinish((*psp)->conn);
  free((*psp)->label);
  free(*psp);
  *psp = NULL;
}
