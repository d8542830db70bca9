/*
 * Shared helpers of the Check suites: running a suite as TAP for automake's driver, finding the
 * build tree, the source tree and tests/fixtures, starting a test server on an ephemeral port,
 * and small I/O helpers. Every suite links tests/common/libtestutil.la.
 */
#ifndef ETL_TESTUTIL_H
#define ETL_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <sys/types.h>

/* Runs the suite, printing TAP on stdout (what automake's tap-driver reads). Returns the
 * process exit status: 0 when every test passed. Frees the suite. */
int test_run_suite(Suite *suite);

/* Absolute path of the build tree, the source tree, and the fixtures the suites read
 * (ETL_TOP_SRCDIR/tests/fixtures: recorded Mode responses, OpenMetadata schemas, SQL corpus).
 * Never NULL; static storage. */
const char *test_builddir(void);
const char *test_srcdir(void);
const char *test_fixtures_dir(void);

/* Formats a path like printf. Returns a malloc'd string owned by the caller; aborts on OOM. */
char *test_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A server started for one test: the simulators print "listening on http://127.0.0.1:PORT" as
 * their first stdout line. */
struct test_server {
  pid_t pid;
  int port;
  char base_url[64]; /* "http://127.0.0.1:PORT" or "https://..." as announced */
};

/* Starts argv[0] with argv (NULL-terminated) and waits (up to 20 s) for its first stdout line.
 * The child dies with the calling process (PR_SET_PDEATHSIG), so a failed assertion cannot
 * leave it running. Returns 0 on success, -1 with a message on stderr otherwise. */
int test_server_start(struct test_server *srv, char *const argv[]);

/* Stops the server with SIGTERM (SIGKILL after 5 s) and reaps it. Returns its exit status, or
 * -1 if it died by a signal other than SIGTERM. Safe on a zeroed struct. */
int test_server_stop(struct test_server *srv);

/* GETs url (no auth). Stores the body (NUL-terminated, caller frees) in *body and the HTTP
 * status in *status. Returns 0 on transport success. */
int test_http_get(const char *url, char **body, long *status);

/* Runs argv (NULL-terminated) to completion with an optional environment addition
 * ("NAME=value" strings, NULL-terminated, may be NULL). Captures stdout and stderr into malloc'd
 * NUL-terminated strings (either pointer may be NULL to discard). Returns the exit status, or
 * 128+signal if it was killed. */
int test_run(char *const argv[], char *const extra_env[], char **out, char **err);

/* Reads a whole file into a malloc'd NUL-terminated string; *len gets its size if len is not
 * NULL. Returns NULL if it cannot be read. */
char *test_read_file(const char *path, size_t *len);

/* Writes text to path (created or truncated). Returns 0 on success. */
int test_write_file(const char *path, const char *text);

/* Makes a fresh temporary directory and returns its malloc'd path. */
char *test_tmpdir(void);

/* Removes a directory tree (best effort). */
void test_rmtree(const char *path);

#endif
