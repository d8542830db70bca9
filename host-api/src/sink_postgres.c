/*
 * sink_postgres.c -- the `postgres` sink: the catalog of the sqlite sink (sink_sqlite.c) in a
 * PostgreSQL database, for several machines or several etlhost processes sharing one catalog.
 *
 * Same tables, same columns, same meaning as the sqlite catalog (docs/sinks.md): entities upserted
 * by (source, kind, id) with first_seen / last_seen / changed_run, deletion marking from the
 * source's epoch (the first run since its last complete one) behind the shared fail-safe, run
 * history in `runs`, and each source's state in `state`, written in the same transaction as the
 * data before it. Flags are BOOLEAN here where SQLite has 0/1 integers; timestamps are the same
 * ISO 8601 UTC text.
 *
 * Concurrency: two etlhost processes may write one catalog at once. Run ids come from a
 * sequence, so they never collide. A source is held under a session advisory lock,
 * pg_advisory_lock(ETLC, hashtext(source)), from begin_source to end_source: a second process
 * running the same source waits for the first to finish it, then delivers its own run on top
 * (upserts: nothing twice), and its sweep sees the first run's last_seen. A process that dies
 * loses its connection, and the server releases the lock. Different sources never wait on each
 * other; their rows are disjoint.
 *
 * A process that hangs keeps its connection, and so the lock: every lock wait of the session is
 * therefore bounded by lock_timeout (sink.config.lockTimeoutSeconds), after which the run fails
 * (retry later) naming the source and the holder -- PostgreSQL's backend pid and the holder's
 * application_name, which an etlhost connection sets to "etlhost[PID]" unless the DSN names one.
 *
 * The DSN may hold a password: it is registered as a secret with the log, and messages name the
 * catalog by user@host:port/dbname only.
 */
#include "config.h"

#include "log.h"
#include "pgconn.h"
#include "sink.h"
#include "sink_postgres.h"
#include "sink_common.h"
#include "state.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PG_SCHEMA_VERSION "1"
#define PG_LOCK_CLASS 0x45544c43 /* "ETLC": the advisory locks of the catalog */
#define PG_SCHEMA_LOCK 0         /* its key while creating the schema */

#define NOW_SQL "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* clang-format off */
static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS etlhost_meta ("
    " key TEXT PRIMARY KEY,"
    " value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS entities ("
    " source TEXT NOT NULL,"
    " kind TEXT NOT NULL,"
    " id TEXT NOT NULL,"
    " json TEXT NOT NULL,"
    " first_seen BIGINT NOT NULL,"
    " last_seen BIGINT NOT NULL,"
    " changed_run BIGINT NOT NULL,"
    " changed_at TEXT NOT NULL,"
    " deleted BOOLEAN NOT NULL DEFAULT false,"
    " deleted_at TEXT,"
    " PRIMARY KEY (source, kind, id));"
    "CREATE TABLE IF NOT EXISTS runs ("
    " run_id BIGINT NOT NULL,"
    " source TEXT NOT NULL,"
    " plugin TEXT,"
    " host_run_id BIGINT,"
    " started TEXT NOT NULL,"
    " finished TEXT,"
    " complete BOOLEAN NOT NULL DEFAULT false,"
    " records BIGINT NOT NULL DEFAULT 0,"
    " inserted BIGINT NOT NULL DEFAULT 0,"
    " updated BIGINT NOT NULL DEFAULT 0,"
    " unchanged BIGINT NOT NULL DEFAULT 0,"
    " rejected BIGINT NOT NULL DEFAULT 0,"
    " deleted BIGINT NOT NULL DEFAULT 0,"
    " PRIMARY KEY (run_id, source));"
    "CREATE TABLE IF NOT EXISTS state ("
    " source TEXT PRIMARY KEY,"
    " json TEXT NOT NULL,"
    " run_id BIGINT,"
    " saved_at TEXT NOT NULL);"
    "CREATE SEQUENCE IF NOT EXISTS etlhost_run_ids;"
    "INSERT INTO etlhost_meta VALUES ('application', 'etlhost-catalog'),"
    " ('schema_version', '" PG_SCHEMA_VERSION "') ON CONFLICT (key) DO NOTHING;";
/* clang-format on */

/* The statements, prepared once per connection by name. $n as in sink_sqlite.c's ?n. */
static const struct {
  const char *name, *sql;
  int nparams;
} statements[] = {
    {"upsert",
     "INSERT INTO entities AS e (source, kind, id, json, first_seen, last_seen, changed_run,"
     " changed_at) VALUES ($1, $2, $3, $4, $5, $5, $5, " NOW_SQL ")"
     " ON CONFLICT (source, kind, id) DO UPDATE SET"
     " last_seen = excluded.last_seen, json = excluded.json,"
     " changed_run = CASE WHEN e.json = excluded.json AND NOT e.deleted THEN e.changed_run"
     " ELSE excluded.changed_run END,"
     " changed_at = CASE WHEN e.json = excluded.json AND NOT e.deleted THEN e.changed_at"
     " ELSE excluded.changed_at END,"
     " deleted = false, deleted_at = NULL"
     " WHERE e.json IS DISTINCT FROM excluded.json OR e.last_seen IS DISTINCT FROM"
     " excluded.last_seen OR e.deleted"
     " RETURNING first_seen, changed_run",
     5},
    {"retain",
     "UPDATE entities SET last_seen = $4 WHERE source = $1 AND kind = $2 AND id = $3"
     " AND NOT deleted",
     4},
    {"next_run", "SELECT nextval('etlhost_run_ids')", 0},
    {"last_run", "SELECT COALESCE(MAX(run_id), 0) FROM runs WHERE source = $1", 1},
    {"begin_run",
     "INSERT INTO runs (run_id, source, plugin, started) VALUES ($1, $2, $3, " NOW_SQL ")"
     " ON CONFLICT (run_id, source) DO UPDATE SET plugin = excluded.plugin",
     3},
    {"epoch",
     "SELECT COALESCE(MIN(run_id), $2) FROM runs WHERE source = $1 AND run_id >"
     " (SELECT COALESCE(MAX(run_id), 0) FROM runs WHERE source = $1 AND complete)",
     2},
    {"sweep",
     "UPDATE entities SET deleted = true, deleted_at = " NOW_SQL ", changed_run = $3,"
     " changed_at = " NOW_SQL " WHERE source = $1 AND NOT deleted AND last_seen < $2",
     3},
    {"census",
     "SELECT count(*), count(*) FILTER (WHERE last_seen < $2) FROM entities"
     " WHERE source = $1 AND NOT deleted",
     2},
    {"end_run",
     "UPDATE runs SET host_run_id = $3, finished = " NOW_SQL ", complete = $4, records = $5,"
     " inserted = $6, updated = $7, unchanged = $8, rejected = $9, deleted = $10"
     " WHERE run_id = $1 AND source = $2",
     10},
    {"put_state",
     "INSERT INTO state (source, json, run_id, saved_at) VALUES ($1, $2, $3, " NOW_SQL ")"
     " ON CONFLICT (source) DO UPDATE SET json = excluded.json, run_id = excluded.run_id,"
     " saved_at = excluded.saved_at",
     3},
    {"get_state", "SELECT json FROM state WHERE source = $1", 1},
    {"lock", "SELECT pg_advisory_lock(" "1163152451" ", hashtext($1))", 1},
    {"try_lock", "SELECT pg_try_advisory_lock(" "1163152451" ", hashtext($1))", 1},
    {"unlock", "SELECT pg_advisory_unlock(" "1163152451" ", hashtext($1))", 1},
    /* Who holds the source's lock (two int4 keys: classid, objid as unsigned, objsubid 2). What
     * pg_stat_activity hides from a user without pg_read_all_stats comes back NULL. */
    {"holder",
     "SELECT l.pid, a.application_name, host(a.client_addr), a.state,"
     " floor(extract(epoch FROM clock_timestamp() - a.state_change))::bigint"
     " FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
     " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
     " AND l.classid = " "1163152451" " AND l.objid::bigint = (hashtext($1)::bigint & 4294967295)"
     " LIMIT 1",
     1},
};

_Static_assert(PG_LOCK_CLASS == 1163152451, "the lock class in the SQL text");

struct pg_sink {
  PGconn *conn;          /* owned */
  char *label;           /* owned: user@host:port/dbname, for messages; never the password */
  struct host_log *log;  /* borrowed */
  bool in_txn;           /* a transaction is open */
  struct host_catalog_batch batch; /* early commits, the retain-miss note */
  long long run_id;      /* this catalog run; 0 before the first begin_source */
  char *source;          /* owned: the source between begin_source and end_source, or NULL */
  bool locked;           /* this->source's advisory lock is held */
  long long lock_timeout_s; /* sink.config.lockTimeoutSeconds: the longest wait for a lock */
  long long epoch;
  struct host_catalog_counts counts;
};

/* Maps a failed result (or a broken connection) to a status and logs it, naming the catalog
 * and the action. Serialization failures, deadlocks and a lost connection are worth a retry. */
static etl_status pg_fail(struct pg_sink *s, PGresult *res, const char *action) {
  const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  char reason[512];
  host_pg_reason(s->conn, res, reason, sizeof reason);
  host_log_msg(s->log, ETL_SEV_ERROR, NULL, NULL, "catalog '%s': %s: %s", s->label, action,
               reason);
  etl_status st = ETL_ERR_INTERNAL;
  if (PQstatus(s->conn) != CONNECTION_OK)
    st = ETL_ERR_TRANSIENT;
  else if (state && (strncmp(state, "40", 2) == 0 || strncmp(state, "53", 2) == 0 ||
                     strncmp(state, "08", 2) == 0 || strcmp(state, "55P03") == 0))
    st = ETL_ERR_TRANSIENT;
  /* A failed statement aborts the transaction: roll it back so the connection is usable. */
  if (s->in_txn && PQstatus(s->conn) == CONNECTION_OK)
    PQclear(PQexec(s->conn, "ROLLBACK"));
  s->in_txn = false;
  return st;
}

/* Runs a prepared statement with text parameters (lengths for those not NUL-terminated: a
 * length of -1 means strlen). *res is the result on success (caller PQclears), NULL on error. */
static etl_status run(struct pg_sink *s, const char *name, int n, const char *const *values,
                      const int *lengths, const char *action, PGresult **res) {
  int formats[10] = {0};
  int lens[10] = {0};
  for (int i = 0; i < n; i++)
    if (lengths && lengths[i] >= 0) {
      formats[i] = 1; /* binary text: the bytes as they are, no NUL needed */
      lens[i] = lengths[i];
    }
  PGresult *r = PQexecPrepared(s->conn, name, n, values, lens, formats, 0);
  ExecStatusType t = PQresultStatus(r);
  if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK) {
    etl_status st = pg_fail(s, r, action);
    PQclear(r);
    if (res)
      *res = NULL;
    return st;
  }
  if (res)
    *res = r;
  else
    PQclear(r);
  return ETL_OK;
}

/* Runs a prepared statement returning one integer in *value. */
static etl_status run_int(struct pg_sink *s, const char *name, int n, const char *const *values,
                          const char *action, long long *value) {
  PGresult *r = NULL;
  etl_status st = run(s, name, n, values, NULL, action, &r);
  if (st == ETL_OK) {
    *value = PQntuples(r) > 0 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
  }
  return st;
}

static etl_status exec_simple(struct pg_sink *s, const char *sql, const char *action) {
  PGresult *r = PQexec(s->conn, sql);
  ExecStatusType t = PQresultStatus(r);
  etl_status st = ETL_OK;
  if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK)
    st = pg_fail(s, r, action);
  PQclear(r);
  return st;
}

static etl_status ensure_txn(struct pg_sink *s) {
  if (s->in_txn)
    return ETL_OK;
  etl_status st = exec_simple(s, "BEGIN", "begin a transaction");
  s->in_txn = st == ETL_OK;
  return st;
}

static etl_status pg_commit(void *sink) {
  struct pg_sink *s = sink;
  if (!s->in_txn)
    return ETL_OK;
  etl_status st = exec_simple(s, "COMMIT", "commit");
  s->in_txn = false;
  if (st == ETL_OK)
    host_catalog_batch_committed(&s->batch);
  return st;
}

static void pg_destroy(void **sinkp) {
  if (!sinkp || !*sinkp)
    return;
  struct pg_sink *s = *sinkp;
  /* Closing the connection rolls back what was not committed, as a crash would, and releases
   * the source's advisory lock. */
  PQfinish(s->conn);
  free(s->source);
  free(s->label);
  free(s);
  *sinkp = NULL;
}

const char *host_pg_reason(PGconn *conn, PGresult *res, char *buf, size_t cap) {
  const char *msg = res ? PQresultErrorMessage(res) : NULL;
  if (!msg || !msg[0])
    msg = PQerrorMessage(conn);
  snprintf(buf, cap, "%s", msg ? msg : "");
  size_t n = strlen(buf);
  while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
    buf[--n] = '\0';
  return buf;
}

etl_status host_pg_take_state(PGresult *res, const char *what, const char *label,
                              const char *source, struct host_log *log, char **json, size_t *len) {
  etl_status st = ETL_OK;
  *json = NULL;
  *len = 0;
  if (PQntuples(res) > 0) {
    size_t n = (size_t)PQgetlength(res, 0, 0);
    if (!(*json = malloc(n + 1))) {
      st = ETL_ERR_NOMEM;
    } else {
      memcpy(*json, PQgetvalue(res, 0, 0), n);
      (*json)[n] = '\0';
      *len = n;
    }
  }
  PQclear(res);
  if (st == ETL_OK && *json &&
      (st = host_state_check(what, label, source, *json, *len, log)) != ETL_OK) {
    free(*json);
    *json = NULL;
    *len = 0;
  }
  return st;
}

etl_status host_pg_dsn_describe(const char *dsn, const char *key, struct host_log *log,
                                char **label) {
  char *err = NULL;
  PQconninfoOption *opts = PQconninfoParse(dsn, &err);
  if (!opts) {
    host_log_add_secret(log, dsn); /* unparsable: do not echo any part of it */
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL, "%s: not a PostgreSQL DSN: %s", key,
                 err ? err : "out of memory");
    PQfreemem(err);
    return ETL_ERR_CONFIG;
  }
  const char *user = "", *host = "", *port = "", *db = "";
  for (PQconninfoOption *o = opts; o->keyword; o++) {
    if (!o->val)
      continue;
    if (strcmp(o->keyword, "password") == 0 && o->val[0])
      host_log_add_secret(log, o->val);
    else if (strcmp(o->keyword, "user") == 0)
      user = o->val;
    else if (strcmp(o->keyword, "host") == 0)
      host = o->val;
    else if (strcmp(o->keyword, "port") == 0)
      port = o->val;
    else if (strcmp(o->keyword, "dbname") == 0)
      db = o->val;
  }
  size_t cap = strlen(user) + strlen(host) + strlen(port) + strlen(db) + 8;
  *label = malloc(cap);
  if (*label)
    snprintf(*label, cap, "%s%s%s%s%s/%s", user, user[0] ? "@" : "", host, port[0] ? ":" : "",
             port, db);
  PQconninfoFree(opts);
  return *label ? ETL_OK : ETL_ERR_NOMEM;
}

/* Creates the schema if it is missing (under an advisory transaction lock, so two processes
 * starting on an empty database do not race), refuses another application's or a newer one. */
static etl_status ensure_schema(struct pg_sink *s) {
  etl_status st = exec_simple(s, "BEGIN", "begin a transaction");
  if (st != ETL_OK)
    return st;
  s->in_txn = true;
  st = exec_simple(s, "SET LOCAL client_min_messages = warning;"
                      "SELECT pg_advisory_xact_lock(1163152451, 0)",
                   "lock the schema");
  if (st == ETL_OK)
    st = exec_simple(s, schema_sql, "create the schema");
  if (st != ETL_OK)
    return st;
  PGresult *r = PQexec(s->conn, "SELECT (SELECT value FROM etlhost_meta WHERE key ="
                                " 'application'), (SELECT value FROM etlhost_meta WHERE key ="
                                " 'schema_version')");
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    st = pg_fail(s, r, "read the schema version");
  } else if (strcmp(PQgetvalue(r, 0, 0), "etlhost-catalog") != 0) {
    host_log_msg(s->log, ETL_SEV_ERROR, NULL, NULL,
                 "catalog '%s': the database belongs to '%s', not an etlhost catalog", s->label,
                 PQgetvalue(r, 0, 0));
    st = ETL_ERR_CONFIG;
  } else if (atoi(PQgetvalue(r, 0, 1)) > atoi(PG_SCHEMA_VERSION)) {
    host_log_msg(s->log, ETL_SEV_ERROR, NULL, NULL,
                 "catalog '%s' has schema %s, newer than this etlhost knows (%s)", s->label,
                 PQgetvalue(r, 0, 1), PG_SCHEMA_VERSION);
    st = ETL_ERR_CONFIG;
  }
  PQclear(r);
  if (st != ETL_OK) {
    if (s->in_txn)
      PQclear(PQexec(s->conn, "ROLLBACK"));
    s->in_txn = false;
    return st;
  }
  return pg_commit(s);
}

static etl_status prepare_all(struct pg_sink *s) {
  for (size_t i = 0; i < sizeof statements / sizeof statements[0]; i++) {
    PGresult *r = PQprepare(s->conn, statements[i].name, statements[i].sql,
                            statements[i].nparams, NULL);
    etl_status st = PQresultStatus(r) == PGRES_COMMAND_OK ? ETL_OK
                                                          : pg_fail(s, r, "prepare statements");
    PQclear(r);
    if (st != ETL_OK)
      return st;
  }
  return ETL_OK;
}

/* Parses the config: *dsn borrowed from *cfg (caller frees *cfg); *lock_timeout_s in seconds. */
static etl_status config_dsn(const char *config_json, struct host_log *log, yajl_val *cfg,
                             const char **dsn, long long *lock_timeout_s) {
  static const char *const keys[] = {"dsn", "lockTimeoutSeconds", NULL};
  etl_status st = host_sink_config_parse(config_json, "postgres", keys, log, cfg);
  if (st == ETL_OK)
    st = host_sink_config_int(*cfg, "lockTimeoutSeconds", HOST_PG_LOCK_TIMEOUT_DEFAULT, 1,
                              604800, log, lock_timeout_s);
  if (st == ETL_OK)
    st = host_sink_config_string(*cfg, "dsn", NULL, log, dsn);
  if (st == ETL_OK && (!*dsn || !(*dsn)[0])) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL,
                 "sink.config.dsn: required, a libpq connection string such as "
                 "'postgresql://user@host/dbname' or 'host=... dbname=...'");
    st = ETL_ERR_CONFIG;
  }
  return st;
}

/* Connects; ETL_ERR_CONNECT (or ETL_ERR_AUTH) with the server's reason when it fails. The
 * session is named "etlhost[PID]" (unless the DSN names it), so that a run waiting for a lock
 * can say which process holds it. */
static etl_status pg_connect(struct pg_sink *s, const char *dsn) {
  char app[48];
  snprintf(app, sizeof app, "etlhost[%ld]", (long)getpid());
  const char *const keys[] = {"dbname", "fallback_application_name", NULL};
  const char *const values[] = {dsn, app, NULL};
  s->conn = PQconnectdbParams(keys, values, 1 /* dbname may be a whole conninfo or URI */);
  if (!s->conn)
    return ETL_ERR_NOMEM;
  if (PQstatus(s->conn) == CONNECTION_OK)
    return ETL_OK;
  char reason[512];
  host_pg_reason(s->conn, NULL, reason, sizeof reason);
  host_log_msg(s->log, ETL_SEV_ERROR, NULL, NULL, "catalog '%s': cannot connect: %s", s->label,
               reason);
  return strstr(reason, "authentication") || strstr(reason, "password") ? ETL_ERR_AUTH
                                                                        : ETL_ERR_CONNECT;
}

static etl_status pg_create(const char *config_json, const char *workflow_json,
                            struct host_log *log, void **sinkp) {
  (void)workflow_json;
  yajl_val cfg = NULL;
  const char *dsn = NULL;
  *sinkp = NULL;
  long long lock_timeout_s = 0;
  etl_status st = config_dsn(config_json, log, &cfg, &dsn, &lock_timeout_s);
  if (st != ETL_OK)
    goto out_cfg;
  struct pg_sink *s = calloc(1, sizeof *s);
  if (!s) {
    st = ETL_ERR_NOMEM;
    goto out_cfg;
  }
  s->log = log;
  s->lock_timeout_s = lock_timeout_s;
  st = host_pg_dsn_describe(dsn, "sink.config.dsn", log, &s->label);
  if (st == ETL_OK)
    st = pg_connect(s, dsn);
  if (st == ETL_OK) {
    char set[96];
    snprintf(set, sizeof set, "SET client_min_messages = warning; SET lock_timeout = %lld",
             lock_timeout_s * 1000);
    st = exec_simple(s, set, "configure the session");
  }
  if (st == ETL_OK)
    st = ensure_schema(s);
  if (st == ETL_OK)
    st = prepare_all(s);
  if (st != ETL_OK) {
    void *tmp = s;
    pg_destroy(&tmp);
    goto out_cfg;
  }
  *sinkp = s;
out_cfg:
  yajl_tree_free(cfg);
  return st;
}

/* Writes who holds source's lock into buf, as far as PostgreSQL tells: "PostgreSQL backend pid
 * N, application 'etlhost[M]', client ADDR, idle for S s"; "" when it does not (the holder let
 * go meanwhile, or the query failed). */
static void describe_holder(struct pg_sink *s, const char *source, char *buf, size_t cap) {
  const char *v[] = {source};
  buf[0] = '\0';
  PGresult *r = PQexecPrepared(s->conn, "holder", 1, v, NULL, NULL, 0);
  if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) {
    size_t used = (size_t)snprintf(buf, cap, "PostgreSQL backend pid %s", PQgetvalue(r, 0, 0));
    if (!PQgetisnull(r, 0, 1) && used < cap)
      used += (size_t)snprintf(buf + used, cap - used, ", application '%s'", PQgetvalue(r, 0, 1));
    if (!PQgetisnull(r, 0, 2) && used < cap)
      used += (size_t)snprintf(buf + used, cap - used, ", client %s", PQgetvalue(r, 0, 2));
    if (!PQgetisnull(r, 0, 3) && !PQgetisnull(r, 0, 4) && used < cap)
      snprintf(buf + used, cap - used, ", %s for %s s", PQgetvalue(r, 0, 3), PQgetvalue(r, 0, 4));
  }
  PQclear(r);
}

/* Waits (up to lock_timeout) for the source's advisory lock. On the timeout: an error naming
 * the source, the holder and the key that bounds the wait, ETL_ERR_TRANSIENT (retry later). */
static etl_status wait_for_lock(struct pg_sink *s, const char *source) {
  const char *v[] = {source};
  PGresult *r = PQexecPrepared(s->conn, "lock", 1, v, NULL, NULL, 0);
  const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  bool got = PQresultStatus(r) == PGRES_TUPLES_OK;
  if (got || !state || strcmp(state, HOST_PG_SQLSTATE_LOCK_TIMEOUT) != 0) {
    etl_status st = got ? ETL_OK : pg_fail(s, r, "lock the source");
    PQclear(r);
    return st;
  }
  PQclear(r);
  char holder[512];
  describe_holder(s, source, holder, sizeof holder);
  host_log_msg(s->log, ETL_SEV_ERROR, source, NULL,
               "catalog '%s': source '%s': another etlhost run still holds it after %lld s (%s);"
               " giving up: end that run, or raise sink.config.lockTimeoutSeconds",
               s->label, source, s->lock_timeout_s,
               holder[0] ? holder : "PostgreSQL does not say which session");
  return ETL_ERR_TRANSIENT;
}

/* Takes the source's advisory lock, saying so when another process holds it and we wait. */
static etl_status lock_source(struct pg_sink *s, const char *source) {
  const char *v[] = {source};
  PGresult *r = NULL;
  etl_status st = run(s, "try_lock", 1, v, NULL, "lock the source", &r);
  if (st != ETL_OK)
    return st;
  bool got = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
  PQclear(r);
  if (!got) {
    host_log_msg(s->log, ETL_SEV_INFO, source, NULL,
                 "catalog '%s': another etlhost run holds this source; waiting for it to end"
                 " (at most lockTimeoutSeconds, %lld s)",
                 s->label, s->lock_timeout_s);
    st = wait_for_lock(s, source);
  }
  s->locked = st == ETL_OK;
  return st;
}

static void unlock_source(struct pg_sink *s, const char *source) {
  if (!s->locked)
    return;
  const char *v[] = {source};
  run(s, "unlock", 1, v, NULL, "unlock the source", NULL);
  s->locked = false;
}

/* Records the source's run and commits that row at once, as the sqlite sink does. */
static etl_status pg_begin_source(void *sink, const char *source, const char *plugin_type) {
  struct pg_sink *s = sink;
  if (s->source) { /* a source that never ended: let its lock go first */
    unlock_source(s, s->source);
    free(s->source);
    s->source = NULL;
  }
  etl_status st = pg_commit(s);
  if (st == ETL_OK)
    st = lock_source(s, source);
  if (st != ETL_OK)
    return st;
  char run_s[32];
  long long last = 0;
  const char *src[] = {source};
  st = run_int(s, "last_run", 1, src, "record the run", &last);
  /* Another process may have run this source under a newer id while we waited for its lock:
   * our run must come after it, or our last_seen would go backwards. */
  if (st == ETL_OK && s->run_id <= last)
    st = run_int(s, "next_run", 0, NULL, "record the run", &s->run_id);
  if (st == ETL_OK)
    st = ensure_txn(s);
  snprintf(run_s, sizeof run_s, "%lld", s->run_id);
  if (st == ETL_OK) {
    const char *v[] = {run_s, source, plugin_type};
    st = run(s, "begin_run", 3, v, NULL, "record the run", NULL);
  }
  if (st == ETL_OK) {
    const char *v[] = {source, run_s};
    st = run_int(s, "epoch", 2, v, "record the run", &s->epoch);
  }
  if (st == ETL_OK && !(s->source = strdup(source)))
    st = ETL_ERR_NOMEM;
  if (st != ETL_OK) {
    unlock_source(s, source);
    return st;
  }
  memset(&s->counts, 0, sizeof s->counts);
  return pg_commit(s);
}

/* Counts one upserted record from the RETURNING row (or its absence). */
static void count_upsert(struct pg_sink *s, PGresult *r) {
  bool returned = PQntuples(r) > 0; /* no row: delivered twice in this run, unchanged */
  host_catalog_count_upsert(&s->counts, s->run_id, returned,
                            returned ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0,
                            returned ? strtoll(PQgetvalue(r, 0, 1), NULL, 10) : 0);
}

static etl_status pg_write(void *sink, const struct host_record *rec, bool *rejected) {
  struct pg_sink *s = sink;
  char why[256], item[128], run_s[32];
  *rejected = false;
  if (!s->source) {
    host_log_msg(s->log, ETL_SEV_ERROR, rec->source, NULL,
                 "catalog '%s': write before begin_source (a bug in the runner)", s->label);
    return ETL_ERR_INTERNAL;
  }
  s->counts.records++;
  if (!host_sink_names_ok(rec, why, sizeof why) ||
      !host_catalog_json_object_ok(rec->json, rec->json_len, why, sizeof why) ||
      (memchr(rec->json, '\0', rec->json_len) &&
       snprintf(why, sizeof why, "entity json holds a NUL byte") > 0)) {
    host_log_msg(s->log, ETL_SEV_ERROR, rec->source, host_sink_item(rec, item, sizeof item),
                 "rejected by the postgres sink: %s", why);
    s->counts.rejected++;
    *rejected = true;
    return ETL_OK;
  }
  etl_status st = ensure_txn(s);
  if (st != ETL_OK)
    return st;
  snprintf(run_s, sizeof run_s, "%lld", s->run_id);
  const char *v[] = {rec->source, rec->kind, rec->id, rec->json, run_s};
  const int lens[] = {-1, -1, -1, (int)rec->json_len, -1};
  PGresult *r = NULL;
  st = run(s, "upsert", 5, v, lens, "write", &r);
  if (st != ETL_OK)
    return st;
  count_upsert(s, r);
  PQclear(r);
  if (host_catalog_batch_add(&s->batch, 1))
    return pg_commit(s);
  return ETL_OK;
}

static etl_status pg_retain(void *sink, const char *source, const char *kind,
                             const char *const *ids, size_t n) {
  struct pg_sink *s = sink;
  char run_s[32];
  if (!s->source) {
    host_log_msg(s->log, ETL_SEV_ERROR, source, NULL,
                 "catalog '%s': retain before begin_source (a bug in the runner)", s->label);
    return ETL_ERR_INTERNAL;
  }
  snprintf(run_s, sizeof run_s, "%lld", s->run_id);
  etl_status st = ensure_txn(s);
  size_t missing = 0;
  for (size_t i = 0; i < n && st == ETL_OK; i++) {
    const char *v[] = {source, kind, ids[i], run_s};
    PGresult *r = NULL;
    st = run(s, "retain", 4, v, NULL, "retain", &r);
    if (st == ETL_OK && strcmp(PQcmdTuples(r), "0") == 0)
      missing++;
    PQclear(r);
  }
  host_catalog_retain_missed(&s->batch, s->log, s->label, source, kind, missing);
  if (st == ETL_OK && host_catalog_batch_add(&s->batch, n))
    st = pg_commit(s);
  return st;
}

static etl_status pg_store_state(void *sink, const char *source, const char *state_json,
                                 size_t len) {
  struct pg_sink *s = sink;
  char run_s[32];
  /* A length that counts the C string's terminator: PostgreSQL text holds no NUL. */
  while (len > 0 && state_json[len - 1] == '\0')
    len--;
  if (len > HOST_CATALOG_MAX_RECORD_BYTES || memchr(state_json, '\0', len)) {
    host_log_msg(s->log, ETL_SEV_ERROR, source, NULL,
                 "catalog '%s': state of %zu bytes is too large or holds a NUL byte", s->label,
                 len);
    return ETL_ERR_INTERNAL;
  }
  etl_status st = ensure_txn(s);
  if (st != ETL_OK)
    return st;
  snprintf(run_s, sizeof run_s, "%lld", s->run_id);
  const char *v[] = {source, state_json, run_s};
  const int lens[] = {-1, (int)len, -1};
  st = run(s, "put_state", 3, v, lens, "store state", NULL);
  if (st != ETL_OK)
    return st;
  return pg_commit(s);
}

static etl_status pg_load_state(void *sink, const char *source, char **json, size_t *len) {
  struct pg_sink *s = sink;
  *json = NULL;
  *len = 0;
  const char *v[] = {source};
  PGresult *r = NULL;
  etl_status st = run(s, "get_state", 1, v, NULL, "load state", &r);
  if (st != ETL_OK)
    return st;
  return host_pg_take_state(r, "catalog", s->label, source, s->log, json, len);
}

/* The source's live rows, and how many a sweep from the epoch would mark deleted. */
static etl_status census(struct pg_sink *s, const char *source, long long *live,
                         long long *doomed) {
  char epoch_s[32];
  snprintf(epoch_s, sizeof epoch_s, "%lld", s->epoch ? s->epoch : s->run_id);
  const char *v[] = {source, epoch_s};
  PGresult *r = NULL;
  etl_status st = run(s, "census", 2, v, NULL, "count the source's entities", &r);
  if (st == ETL_OK) {
    *live = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    *doomed = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    PQclear(r);
  }
  return st;
}

static etl_status end_run(struct pg_sink *s, const char *source,
                          const struct host_source_outcome *o, bool complete,
                          long long deleted) {
  char a[10][32];
  snprintf(a[0], 32, "%lld", s->run_id);
  snprintf(a[2], 32, "%lld", o->run_id);
  snprintf(a[3], 32, "%s", complete ? "true" : "false");
  snprintf(a[4], 32, "%lld", s->counts.records);
  snprintf(a[5], 32, "%lld", s->counts.inserted);
  snprintf(a[6], 32, "%lld", s->counts.updated);
  snprintf(a[7], 32, "%lld", s->counts.unchanged);
  snprintf(a[8], 32, "%lld", s->counts.rejected);
  snprintf(a[9], 32, "%lld", deleted);
  const char *v[] = {a[0], source, a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]};
  return run(s, "end_run", 10, v, NULL, "record the run", NULL);
}

static etl_status pg_end_source(void *sink, const char *source,
                                const struct host_source_outcome *o) {
  struct pg_sink *s = sink;
  long long deleted = 0;
  etl_status st = ensure_txn(s);
  bool complete = o->complete;
  if (st == ETL_OK && complete) {
    long long live = 0, doomed = 0;
    st = census(s, source, &live, &doomed);
    if (st == ETL_OK)
      complete = host_fail_safe_allows(s->log, source, "catalog", o, doomed, live);
  }
  if (st == ETL_OK && complete) {
    char epoch_s[32], run_s[32];
    snprintf(epoch_s, sizeof epoch_s, "%lld", s->epoch ? s->epoch : s->run_id);
    snprintf(run_s, sizeof run_s, "%lld", s->run_id);
    const char *v[] = {source, epoch_s, run_s};
    PGresult *r = NULL;
    st = run(s, "sweep", 3, v, NULL, "mark deleted entities", &r);
    if (st == ETL_OK) {
      deleted = strtoll(PQcmdTuples(r), NULL, 10);
      PQclear(r);
    }
  }
  if (st == ETL_OK)
    st = end_run(s, source, o, complete, deleted);
  if (st == ETL_OK)
    st = pg_commit(s);
  if (st == ETL_OK && deleted > 0)
    host_log_msg(s->log, ETL_SEV_INFO, source, NULL,
                 "catalog '%s': %lld entities not seen since the last complete run marked "
                 "deleted",
                 s->label, deleted);
  /* After the commit: the next process running this source must see this run. */
  unlock_source(s, source);
  free(s->source);
  s->source = NULL;
  return st;
}

/* `etlhost test`: the DSN parses, the server answers and accepts the credentials. Nothing is
 * created or written. */
static etl_status pg_test(const char *config_json, const char *workflow_json,
                          struct host_log *log, host_sink_step_fn step, void *ctx) {
  (void)workflow_json;
  yajl_val cfg = NULL;
  const char *dsn = NULL;
  struct pg_sink s = {.log = log};
  char msg[768];
  long long lock_timeout_s = 0;
  etl_status st = config_dsn(config_json, log, &cfg, &dsn, &lock_timeout_s);
  if (st == ETL_OK)
    st = host_pg_dsn_describe(dsn, "sink.config.dsn", log, &s.label);
  if (st != ETL_OK) {
    step(ctx, "catalog", ETL_TEST_FAIL, "the sink's configuration is wrong (see above)");
    goto out;
  }
  st = pg_connect(&s, dsn);
  if (st == ETL_OK)
    snprintf(msg, sizeof msg, "connected to '%s' (PostgreSQL %d)", s.label,
             PQserverVersion(s.conn));
  else
    snprintf(msg, sizeof msg, "cannot connect to '%s' (see above)", s.label);
  step(ctx, "catalog", st == ETL_OK ? ETL_TEST_PASS : ETL_TEST_FAIL, msg);
out:
  PQfinish(s.conn);
  free(s.label);
  yajl_tree_free(cfg);
  return st;
}

const struct host_sink_ops host_sink_postgres_ops = {
    .type = "postgres",
    .create = pg_create,
    .begin_source = pg_begin_source,
    .write = pg_write,
    .commit = pg_commit,
    .store_state = pg_store_state,
    .load_state = pg_load_state,
    .end_source = pg_end_source,
    .destroy = pg_destroy,
    .test = pg_test,
    .retain = pg_retain,
};
