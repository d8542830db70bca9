/*
 * pgserver.c -- a private PostgreSQL server for tests; see pgserver.h.
 *
 * The server is `postgres` itself, not pg_ctl (which daemonises): a child of the test whose
 * parent-death signal stops it even when the test program dies on an assertion. Readiness is
 * libpq's PQping, which also tells "not yet" from "never".
 */
#include "config.h"

#include "pgserver.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The newest /usr/lib/postgresql/N/bin (or $ETL_PG_BINDIR) into buf; false when none. */
static bool find_bindir(char *buf, size_t cap) {
  const char *env = getenv("ETL_PG_BINDIR");
  if (env && env[0]) {
    snprintf(buf, cap, "%s", env);
    return true;
  }
  glob_t g;
  if (glob("/usr/lib/postgresql/*/bin/postgres", 0, NULL, &g) != 0)
    return false;
  /* glob sorts: the last is the newest major version (for one-digit-equal widths). */
  snprintf(buf, cap, "%s", g.gl_pathv[g.gl_pathc - 1]);
  globfree(&g);
  char *slash = strrchr(buf, '/');
  *slash = '\0';
  return true;
}

static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  int port = -1;
  if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
      getsockname(fd, (struct sockaddr *)&a, &len) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0)
    close(fd);
  return port;
}

/* argv prefixed with setpriv dropping to `nobody` when running as root, into out (cap slots). */
static void as_server_user(char *const argv[], const char **out, size_t cap, char *uid,
                           char *gid) {
  size_t n = 0;
  if (geteuid() == 0) {
    out[n++] = "/usr/bin/setpriv";
    out[n++] = uid;
    out[n++] = gid;
    out[n++] = "--clear-groups";
    out[n++] = "--pdeathsig=TERM";
    out[n++] = "--";
  }
  for (size_t i = 0; argv[i] && n + 1 < cap; i++)
    out[n++] = argv[i];
  out[n] = NULL;
}

const char *test_pg_dsn(const struct test_pg *pg, const char *db, char *buf, size_t cap) {
  snprintf(buf, cap, "host=%s port=%d user=etl dbname=%s connect_timeout=10", pg->dir, pg->port,
           db);
  return buf;
}

static int wait_ready(struct test_pg *pg, char *why, size_t cap) {
  for (int i = 0; i < 300; i++) {
    int status;
    if (waitpid(pg->pid, &status, WNOHANG) == pg->pid) {
      pg->pid = 0;
      char *log = test_path("%s/server.log", pg->dir);
      char *text = test_read_file(log, NULL);
      snprintf(why, cap, "postgres exited at start: %.300s", text ? text : "(no log)");
      free(text);
      free(log);
      return -1;
    }
    if (PQping(pg->dsn) == PQPING_OK)
      return 0;
    struct timespec ts = {0, 100000000};
    nanosleep(&ts, NULL);
  }
  snprintf(why, cap, "postgres did not accept connections within 30 s");
  return -1;
}

int test_pg_start(struct test_pg *pg, char *why, size_t cap) {
  char bindir[512], initdb[600], postgres[600], uid[64] = "", gid[64] = "";
  memset(pg, 0, sizeof *pg);
  if (!find_bindir(bindir, sizeof bindir)) {
    snprintf(why, cap, "no PostgreSQL server (install the Debian package postgresql)");
    return -1;
  }
  snprintf(initdb, sizeof initdb, "%s/initdb", bindir);
  snprintf(postgres, sizeof postgres, "%s/postgres", bindir);
  pg->dir = test_tmpdir();
  if (geteuid() == 0) {
    struct passwd *pw = getpwnam("nobody");
    if (!pw || access("/usr/bin/setpriv", X_OK) != 0) {
      snprintf(why, cap, "running as root, and no user nobody or no setpriv to run postgres as");
      return -1;
    }
    snprintf(uid, sizeof uid, "--reuid=%u", (unsigned)pw->pw_uid);
    snprintf(gid, sizeof gid, "--regid=%u", (unsigned)pw->pw_gid);
    if (chown(pg->dir, pw->pw_uid, pw->pw_gid) != 0) {
      snprintf(why, cap, "cannot give %s to nobody: %s", pg->dir, strerror(errno));
      return -1;
    }
  }
  char *data = test_path("%s/data", pg->dir);
  char *init_argv[] = {initdb, "-D", data, "-U", "etl", "--auth=trust", "-E", "UTF8",
                       "--locale=C", "--no-sync", NULL};
  const char *cmd[24];
  as_server_user(init_argv, cmd, 24, uid, gid);
  char *err = NULL;
  int rc = test_run((char *const *)cmd, NULL, NULL, &err);
  if (rc != 0) {
    snprintf(why, cap, "initdb failed (%d): %.300s", rc, err ? err : "");
    free(err);
    free(data);
    return -1;
  }
  free(err);
  pg->port = free_port();
  snprintf(pg->dsn, sizeof pg->dsn, "host=%s port=%d user=etl dbname=postgres", pg->dir,
           pg->port);
  char port[16];
  snprintf(port, sizeof port, "%d", pg->port);
  char *sockdir = pg->dir;
  /* fsync off: the tests kill processes, never the machine; a commit still reaches the server. */
  char *pg_argv[] = {postgres, "-D", data, "-p", port, "-k", sockdir, "-c",
                     "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=50",
                     NULL};
  as_server_user(pg_argv, cmd, 24, uid, gid);
  char *log = test_path("%s/server.log", pg->dir);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
      _exit(127);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    setpgid(0, 0); /* a Ctrl-C of the test reaches the test, which stops the server */
    execv(cmd[0], (char *const *)cmd);
    _exit(127);
  }
  free(log);
  free(data);
  if (pid < 0) {
    snprintf(why, cap, "fork: %s", strerror(errno));
    return -1;
  }
  pg->pid = pid;
  return wait_ready(pg, why, cap);
}

void test_pg_stop(struct test_pg *pg) {
  if (pg->pid > 0) {
    kill(pg->pid, SIGINT); /* fast shutdown */
    int status;
    for (int i = 0; i < 100 && waitpid(pg->pid, &status, WNOHANG) == 0; i++) {
      struct timespec ts = {0, 100000000};
      nanosleep(&ts, NULL);
    }
    if (waitpid(pg->pid, &status, WNOHANG) == 0) {
      kill(pg->pid, SIGKILL);
      waitpid(pg->pid, &status, 0);
    }
    pg->pid = 0;
  }
  if (pg->dir) {
    test_rmtree(pg->dir);
    free(pg->dir);
    pg->dir = NULL;
  }
}

static struct test_pg the_server;

/* Check's forked test children run atexit too: only the starter stops the server. */
static pid_t server_owner;

static void stop_owned(void) {
  if (getpid() == server_owner)
    test_pg_stop(&the_server);
}

struct test_pg *test_pg_start_or_skip(const char *program) {
  char why[512];
  if (test_pg_start(&the_server, why, sizeof why) != 0) {
    test_pg_stop(&the_server);
    printf("1..0 # SKIP %s: PostgreSQL tests skipped: %s\n", program, why);
    fprintf(stderr, "%s: PostgreSQL tests skipped: %s\n", program, why);
    /* 0, not 77: automake's TAP driver reads the plan's SKIP, and counts 77 as an error. */
    exit(0);
  }
  server_owner = getpid();
  atexit(stop_owned);
  return &the_server;
}
