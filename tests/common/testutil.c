/*
 * Shared helpers of the Check suites (see testutil.h).
 *
 * Servers are started with a pipe on their stdout; the first line tells the port. The rest of
 * their stdout is drained to /dev/null by nobody: the simulators print only that line, and
 * further output would just fill the pipe buffer, so we close our end after reading it and the
 * servers must tolerate SIGPIPE-free writes (they write only their first line).
 */
#include "config.h"

#include "testutil.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int test_run_suite(Suite *suite) {
  SRunner *runner = srunner_create(suite);
  srunner_set_tap(runner, "-");
  srunner_run_all(runner, CK_SILENT);
  int failed = srunner_ntests_failed(runner);
  srunner_free(runner);
  return failed == 0 ? 0 : 1;
}

static const char *env_or(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return v && *v ? v : fallback;
}

const char *test_builddir(void) {
  return env_or("ETL_TOP_BUILDDIR", ".");
}

const char *test_srcdir(void) {
  return env_or("ETL_TOP_SRCDIR", ".");
}

const char *test_fixtures_dir(void) {
  static char path[4096];
  if (!path[0])
    snprintf(path, sizeof path, "%s/tests/fixtures", test_srcdir());
  return path;
}

char *test_path(const char *fmt, ...) {
  va_list ap;
  char *out = NULL;
  va_start(ap, fmt);
  int n = vasprintf(&out, fmt, ap);
  va_end(ap);
  if (n < 0)
    abort();
  return out;
}

static int read_line_with_timeout(int fd, char *buf, size_t cap, int timeout_ms) {
  size_t used = 0;
  while (used + 1 < cap) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, timeout_ms);
    if (r <= 0)
      return -1;
    ssize_t n = read(fd, buf + used, 1);
    if (n <= 0)
      return -1;
    if (buf[used] == '\n') {
      buf[used] = '\0';
      return 0;
    }
    used++;
  }
  return -1;
}

int test_server_start(struct test_server *srv, char *const argv[]) {
  int fds[2];
  memset(srv, 0, sizeof *srv);
  if (pipe(fds) != 0)
    return -1;
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return -1;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
      _exit(127);
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execv(argv[0], argv);
    fprintf(stderr, "testutil: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  close(fds[1]);
  char line[256];
  int rc = read_line_with_timeout(fds[0], line, sizeof line, 20000);
  close(fds[0]);
  /* "listening on http://127.0.0.1:PORT" or, for a simulator serving TLS, "https://". */
  const char *prefix = "listening on ";
  const char *hostport = "://127.0.0.1:";
  const char *scheme = line + strlen(prefix);
  size_t scheme_len = 0;
  if (rc == 0 && strncmp(line, prefix, strlen(prefix)) == 0)
    scheme_len = strncmp(scheme, "https", 5) == 0 ? 5 : strncmp(scheme, "http", 4) == 0 ? 4 : 0;
  if (scheme_len == 0 || strncmp(scheme + scheme_len, hostport, strlen(hostport)) != 0) {
    fprintf(stderr, "testutil: %s did not announce its port\n", argv[0]);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
  }
  srv->pid = pid;
  srv->port = atoi(scheme + scheme_len + strlen(hostport));
  snprintf(srv->base_url, sizeof srv->base_url, "%.*s://127.0.0.1:%d", (int)scheme_len, scheme,
           srv->port);
  return 0;
}

int test_server_stop(struct test_server *srv) {
  if (srv->pid <= 0)
    return 0;
  int status = 0;
  kill(srv->pid, SIGTERM);
  for (int i = 0; i < 500; i++) {
    pid_t r = waitpid(srv->pid, &status, WNOHANG);
    if (r == srv->pid)
      goto reaped;
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  kill(srv->pid, SIGKILL);
  waitpid(srv->pid, &status, 0);
reaped:
  srv->pid = 0;
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM)
    return 0;
  return -1;
}

struct grow {
  char *data;
  size_t len;
};

static size_t grow_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
  struct grow *g = userdata;
  size_t n = size * nmemb;
  char *p = realloc(g->data, g->len + n + 1);
  if (!p)
    return 0;
  memcpy(p + g->len, ptr, n);
  g->len += n;
  p[g->len] = '\0';
  g->data = p;
  return n;
}

int test_http_get(const char *url, char **body, long *status) {
  struct grow g = {calloc(1, 1), 0};
  CURL *h = curl_easy_init();
  if (!h || !g.data) {
    free(g.data);
    curl_easy_cleanup(h);
    return -1;
  }
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, grow_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &g);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  CURLcode rc = curl_easy_perform(h);
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(h);
  if (status)
    *status = code;
  if (rc != CURLE_OK) {
    free(g.data);
    return -1;
  }
  if (body)
    *body = g.data;
  else
    free(g.data);
  return 0;
}

static void drain(int fd, struct grow *g) {
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0)
    grow_write(buf, 1, (size_t)n, g);
}

int test_run(char *const argv[], char *const extra_env[], char **out, char **err) {
  char *tmpl_out = test_path("%s/etl-test-out-XXXXXX", env_or("TMPDIR", "/tmp"));
  char *tmpl_err = test_path("%s/etl-test-err-XXXXXX", env_or("TMPDIR", "/tmp"));
  int fo = mkstemp(tmpl_out), fe = mkstemp(tmpl_err);
  unlink(tmpl_out);
  unlink(tmpl_err);
  free(tmpl_out);
  free(tmpl_err);
  if (fo < 0 || fe < 0)
    abort();
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fo, STDOUT_FILENO);
    dup2(fe, STDERR_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0)
      dup2(devnull, STDIN_FILENO);
    for (size_t i = 0; extra_env && extra_env[i]; i++)
      putenv(extra_env[i]);
    execvp(argv[0], argv);
    fprintf(stderr, "testutil: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  struct grow go = {calloc(1, 1), 0}, ge = {calloc(1, 1), 0};
  lseek(fo, 0, SEEK_SET);
  lseek(fe, 0, SEEK_SET);
  drain(fo, &go);
  drain(fe, &ge);
  close(fo);
  close(fe);
  if (out)
    *out = go.data;
  else
    free(go.data);
  if (err)
    *err = ge.data;
  else
    free(ge.data);
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

char *test_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  struct grow g = {calloc(1, 1), 0};
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    grow_write(buf, 1, n, &g);
  fclose(f);
  if (len)
    *len = g.len;
  return g.data;
}

int test_write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  if (!f)
    return -1;
  size_t n = strlen(text);
  int rc = fwrite(text, 1, n, f) == n ? 0 : -1;
  if (fclose(f) != 0)
    rc = -1;
  return rc;
}

char *test_tmpdir(void) {
  char *tmpl = test_path("%s/etl-test-XXXXXX", env_or("TMPDIR", "/tmp"));
  if (!mkdtemp(tmpl))
    abort();
  return tmpl;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

void test_rmtree(const char *path) {
  if (path)
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
