/*
 * pgserver.h -- a private PostgreSQL server for one test program: Debian's `postgresql`
 * package (initdb, postgres under /usr/lib/postgresql/N/bin) run in a fresh temporary
 * directory, on an ephemeral port of 127.0.0.1 and a unix socket in that directory, trusting
 * local connections as the user `etl`. Root is refused by postgres, so as root the server runs
 * as `nobody` (setpriv). Tests that need it skip (a TAP plan `1..0 # SKIP reason`) when it cannot start.
 */
#ifndef ETL_PGSERVER_H
#define ETL_PGSERVER_H

#include <stddef.h>
#include <sys/types.h>

struct test_pg {
  pid_t pid;      /* the postmaster, 0 when not running */
  int port;
  char *dir;      /* owned: the temporary directory (data/, the socket, server.log) */
  char dsn[512];  /* a libpq conninfo for the database `postgres` as user `etl` */
};

/* Starts a server (initdb + postgres; waits until it accepts connections, up to 30 s). The
 * server dies with the calling process (PR_SET_PDEATHSIG). Returns 0, or -1 with the reason
 * (no postgresql package, initdb failed, ...) written into why. */
int test_pg_start(struct test_pg *pg, char *why, size_t cap);

/* Writes into buf (cap bytes) a conninfo for database db on the server. Returns buf. */
const char *test_pg_dsn(const struct test_pg *pg, const char *db, char *buf, size_t cap);

/* Stops the server (fast shutdown, SIGKILL after 10 s) and removes its directory. Safe on a
 * zeroed struct. */
void test_pg_stop(struct test_pg *pg);

/* Starts the server for a whole test program, or prints `1..0 # SKIP reason` and exits 0
 * (automake's TAP driver shows SKIP; it would count exit 77 as an error). Also stops it at
 * exit. Returns the server (static storage). */
struct test_pg *test_pg_start_or_skip(const char *program);

#endif
