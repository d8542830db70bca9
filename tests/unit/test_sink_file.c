/*
 * test_sink_file.c -- the file and stdout sinks: one valid JSON object per line whatever the
 * plugin sends (quotes, backslashes, control characters, invalid UTF-8, huge strings), exact
 * round trips through a JSON parser (yajl_tree here, Python's json module when available),
 * per-record rejections with reasons, append/truncate, the repair of a torn last line, and the
 * errors for an unwritable path, a full disk and a bad config; `filename` as OpenMetadata's
 * name for `path`; one writer per file (flock, with a second process waiting or giving up);
 * exactly once across kills (the file cut back to the last stored state, forked children
 * killed between a state and the next).
 */
#include "config.h"

#include "sink.h"
#include "sink_testlib.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

static const struct host_sink_ops *ops;
static char *out_path; /* the test's JSON Lines file */
static char *wf_json;  /* the workflowConfig: its state store in the test's directory */

static void setup(void) {
  t_setup();
  ops = host_sink_find("file");
  ck_assert_ptr_nonnull(ops);
  out_path = test_path("%s/out.jsonl", t_dir);
  wf_json = test_path("{\"stateStore\": \"%s/state.db\"}", t_dir);
}

static void teardown(void) {
  free(out_path);
  free(wf_json);
  t_teardown();
}

static etl_status try_open(const char *config, void **sink) {
  return ops->create(config, wf_json, t_log, sink);
}

static void *open_file_sink(const char *mode) {
  char config[4096];
  snprintf(config, sizeof config, "{\"path\": \"%s\", \"mode\": \"%s\"}", out_path, mode);
  void *sink = NULL;
  etl_status st = try_open(config, &sink);
  ck_assert_msg(st == ETL_OK, "create: %s; log:\n%s", etl_status_name(st), t_logged());
  ck_assert_int_eq(ops->begin_source(sink, "src", "jsonl"), ETL_OK);
  return sink;
}

/* Writes one record; returns whether the sink rejected it. */
static bool write_rec(const struct host_sink_ops *o, void *sink, const char *kind, const char *id,
                      const char *json, size_t len) {
  struct host_record rec = {"src", kind, id, json, len};
  bool rejected = false;
  ck_assert_int_eq(o->write(sink, &rec, &rejected), ETL_OK);
  return rejected;
}

static void finish(const struct host_sink_ops *o, void **sink) {
  struct host_source_outcome out = {.complete = true, .run_id = 1};
  ck_assert_int_eq(o->commit(*sink), ETL_OK);
  ck_assert_int_eq(o->end_source(*sink, "src", &out), ETL_OK);
  o->destroy(sink);
}

/* Splits text into its lines (modifies it). Every line must end with '\n'. */
static size_t split_lines(char *text, char **lines, size_t max) {
  size_t n = 0;
  char *p = text;
  while (*p) {
    char *nl = strchr(p, '\n');
    ck_assert_msg(nl != NULL, "last line has no newline: %s", p);
    *nl = '\0';
    ck_assert_uint_lt(n, max);
    lines[n++] = p;
    p = nl + 1;
  }
  return n;
}

static yajl_val parse_line(const char *line) {
  char err[256] = "";
  yajl_val v = yajl_tree_parse(line, err, sizeof err);
  ck_assert_msg(v != NULL, "line is not JSON (%s): %.200s", err, line);
  ck_assert(YAJL_IS_OBJECT(v));
  return v;
}

static const char *member_string(yajl_val obj, const char *a, const char *b) {
  const char *path[] = {a, b, NULL};
  yajl_val v = yajl_tree_get(obj, path, yajl_t_string);
  ck_assert_msg(v != NULL, "no string at %s.%s", a, b ? b : "");
  return YAJL_GET_STRING(v);
}

/* Python's json module, strict about control characters, must parse every line to an object
 * whose first members are kind, id, source. Skipped when PYTHON3 is not set. */
static void python_parses_every_line(const char *path, int expected_lines) {
  const char *py = getenv("PYTHON3");
  if (!py || !*py || access(py, X_OK) != 0)
    return;
  char count[16];
  snprintf(count, sizeof count, "%d", expected_lines);
  char *const argv[] = {(char *)py,
                        "-c",
                        "import json, sys\n"
                        "n = 0\n"
                        "with open(sys.argv[1], 'rb') as f:\n"
                        "    for raw in f:\n"
                        "        o = json.loads(raw.decode('utf-8', 'strict'))\n"
                        "        assert list(o)[:3] == ['kind', 'id', 'source'], list(o)\n"
                        "        n += 1\n"
                        "assert n == int(sys.argv[2]), n\n",
                        (char *)path,
                        count,
                        NULL};
  char *err = NULL;
  int rc = test_run(argv, NULL, NULL, &err);
  ck_assert_msg(rc == 0, "python rejected the file: %s", err);
  free(err);
}

/* Strings a hostile or careless plugin may send, as raw bytes in kind/id/source. */
static const char hostile_id[] = "q\"uote\\back/slash\x01\x02\x1f\x7f\ttab\nnl\r"
                                 " caf\xc3\xa9 \xf0\x9f\x98\x80 </script>";

START_TEST(test_hostile_strings_round_trip) {
  void *sink = open_file_sink("truncate");
  const char *json = "{\"data\": {\"s\": \"a\\\"b\\\\c\\u0001\\u001f\\n\\t/\\/\","
                     " \"nul\": \"x\\u0000y\", \"uni\": \"\\u00e9\\ud83d\\ude00\","
                     " \"big\": 12345678901234567890123, \"f\": 1.5e300, \"neg\": -0.0,"
                     " \"arr\": [null, true, false, {\"k\": []}, \"\"]},"
                     " \"owners\": [{\"type\": \"user\", \"name\": \"o'brien\"}]}";
  ck_assert(!write_rec(ops, sink, "chart", hostile_id, json, strlen(json)));

  size_t long_len = 1 << 20; /* a 1 MiB string of every byte value except NUL, as \u escapes */
  char *long_json = malloc(long_len * 6 + 64);
  char *expected_long = malloc(long_len + 1);
  char *w = long_json + sprintf(long_json, "{\"data\": {\"long\": \"");
  for (size_t i = 0; i < long_len; i++) {
    unsigned char c = (unsigned char)(1 + i % 127);
    expected_long[i] = (char)c;
    w += c < 0x20 || c == '"' || c == '\\' ? sprintf(w, "\\u%04x", c) : sprintf(w, "%c", c);
  }
  expected_long[long_len] = '\0';
  w += sprintf(w, "\"}}");
  ck_assert(!write_rec(ops, sink, "dashboard", "long", long_json, (size_t)(w - long_json)));
  finish(ops, &sink);

  char *text = test_read_file(out_path, NULL);
  char *lines[4];
  ck_assert_uint_eq(split_lines(text, lines, 4), 2);
  for (const char *p = lines[0]; *p; p++) /* no raw control characters on a line */
    ck_assert_msg((unsigned char)*p >= 0x20, "raw control character in line 1");

  yajl_val first = parse_line(lines[0]);
  ck_assert_str_eq(member_string(first, "kind", NULL), "chart");
  ck_assert_str_eq(member_string(first, "id", NULL), hostile_id);
  ck_assert_str_eq(member_string(first, "source", NULL), "src");
  ck_assert_str_eq(member_string(first, "data", "s"), "a\"b\\c\x01\x1f\n\t//");
  ck_assert_str_eq(member_string(first, "data", "uni"), "\xc3\xa9\xf0\x9f\x98\x80");
  ck_assert_ptr_nonnull(strstr(lines[0], "\"nul\":\"x\\u0000y\"")); /* NUL kept, escaped */
  const char *big[] = {"data", "big", NULL};
  ck_assert_str_eq(YAJL_GET_NUMBER(yajl_tree_get(first, big, yajl_t_number)),
                   "12345678901234567890123"); /* verbatim, no double rounding */
  const char *owner_name[] = {"owners", NULL};
  yajl_val owners = yajl_tree_get(first, owner_name, yajl_t_array);
  ck_assert_ptr_nonnull(owners);
  ck_assert_uint_eq(owners->u.array.len, 1);
  yajl_tree_free(first);

  yajl_val second = parse_line(lines[1]);
  ck_assert_str_eq(member_string(second, "data", "long"), expected_long);
  yajl_tree_free(second);
  free(text);
  free(long_json);
  free(expected_long);
  python_parses_every_line(out_path, 2);
}
END_TEST

/* Each bad record is refused with its reason; the good ones around it are written whole. */
START_TEST(test_bad_records_are_rejected_with_a_reason) {
  static const struct {
    const char *id, *json, *why;
  } bad[] = {
      {"bad\xff\xfeid", "{\"data\": {}}", "the record's id is not valid UTF-8"},
      {"u1", "{\"data\": \"\xc3\x28\"}", "entity json is not valid UTF-8"},
      {"u2", "{\"data\": \"\xed\xa0\x80\"}", "entity json is not valid UTF-8"}, /* surrogate */
      {"u3", "{\"data\": \"\xc0\xaf\"}", "entity json is not valid UTF-8"},     /* overlong */
      {"u4", "{\"data\": \"\xf4\x90\x80\x80\"}", "entity json is not valid UTF-8"},
      {"\xed\xb0\x80", "{\"data\": {}}", "the record's id is not valid UTF-8"},
      {"arr", "[1, 2]", "entity json is not a JSON object"},
      {"str", "\"just a string\"", "entity json is not a JSON object"},
      {"trunc", "{\"data\": {", "not valid JSON"},
      {"two", "{\"data\": 1} {\"data\": 2}", "not valid JSON"},
      {"raw", "{\"data\": \"tab\there\"}", "not valid JSON"},
      {"kind", "{\"kind\": \"x\", \"data\": {}}", "top-level member \"kind\""},
      {"src", "{\"data\": {}, \"source\": \"x\"}", "top-level member \"source\""},
      {"empty", "", "entity json is empty"},
  };
  void *sink = open_file_sink("truncate");
  ck_assert(!write_rec(ops, sink, "chart", "before", "{\"data\": {\"kind\": 1}}", 21));
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    t_mark_log();
    ck_assert_msg(write_rec(ops, sink, "chart", bad[i].id, bad[i].json, strlen(bad[i].json)),
                  "accepted %s", bad[i].id);
    ck_assert_logged_new(bad[i].why);
  }
  ck_assert(!write_rec(ops, sink, "chart", "after", "{\"data\": {}}", 12));
  finish(ops, &sink);
  ck_assert_logged("src: error: chart bad"); /* the record is named */

  char *text = test_read_file(out_path, NULL);
  char *lines[4];
  ck_assert_uint_eq(split_lines(text, lines, 4), 2);
  ck_assert_str_eq(lines[0], "{\"kind\":\"chart\",\"id\":\"before\",\"source\":\"src\","
                             "\"data\":{\"kind\":1}}");
  ck_assert_str_eq(lines[1],
                   "{\"kind\":\"chart\",\"id\":\"after\",\"source\":\"src\",\"data\":{}}");
  free(text);
}
END_TEST

static int count_lines(const char *path) {
  char *text = test_read_file(path, NULL);
  ck_assert_ptr_nonnull(text);
  int n = 0;
  for (const char *p = text; *p; p++)
    n += *p == '\n';
  free(text);
  return n;
}

START_TEST(test_append_is_the_default_and_truncate_starts_over) {
  for (int run = 0; run < 2; run++) {
    char config[4096];
    snprintf(config, sizeof config, "{\"path\": \"%s\"}", out_path);
    void *sink = NULL;
    ck_assert_int_eq(try_open(config, &sink), ETL_OK);
    ck_assert(!write_rec(ops, sink, "chart", "a", "{\"data\": {}}", 12));
    finish(ops, &sink);
  }
  ck_assert_int_eq(count_lines(out_path), 2);
  void *sink = open_file_sink("truncate");
  ck_assert(!write_rec(ops, sink, "chart", "a", "{\"data\": {}}", 12));
  finish(ops, &sink);
  ck_assert_int_eq(count_lines(out_path), 1);
}
END_TEST

START_TEST(test_append_cuts_a_torn_last_line) {
  static const char good[] = "{\"kind\":\"chart\",\"id\":\"1\",\"source\":\"src\",\"data\":{}}\n";
  char *torn = test_path("%s{\"kind\":\"chart\",\"id\":\"2\",\"sou", good);
  ck_assert_int_eq(test_write_file(out_path, torn), 0);
  void *sink = open_file_sink("append");
  ck_assert_logged("removed an incomplete last line (29 bytes)");
  ck_assert(!write_rec(ops, sink, "chart", "2", "{\"data\": {}}", 12));
  finish(ops, &sink);
  char *text = test_read_file(out_path, NULL);
  char *expected =
      test_path("%s{\"kind\":\"chart\",\"id\":\"2\",\"source\":\"src\",\"data\":{}}\n", good);
  ck_assert_str_eq(text, expected);
  free(expected);
  free(text);
  free(torn);
}
END_TEST

START_TEST(test_error_for_an_unwritable_path) {
  char config[4096];
  void *sink = NULL;
  snprintf(config, sizeof config, "{\"path\": \"%s/no-such-dir/out.jsonl\"}", t_dir);
  ck_assert_int_eq(try_open(config, &sink), ETL_ERR_CONFIG);
  ck_assert_logged("/no-such-dir/out.jsonl' for writing: No such file or directory");
  snprintf(config, sizeof config, "{\"path\": \"%s\"}", t_dir); /* a directory */
  ck_assert_int_eq(try_open(config, &sink), ETL_ERR_CONFIG);
  ck_assert_logged("Is a directory");
  ck_assert_ptr_null(sink);
}
END_TEST

START_TEST(test_error_for_a_full_disk) {
  if (access("/dev/full", W_OK) != 0)
    return; /* no /dev/full on this system */
  void *sink = NULL;
  ck_assert_int_eq(try_open("{\"path\": \"/dev/full\"}", &sink), ETL_OK);
  ck_assert(!write_rec(ops, sink, "chart", "a", "{\"data\": {}}", 12));
  ck_assert_int_eq(ops->commit(sink), ETL_ERR_TRANSIENT);
  ck_assert_logged("file sink: '/dev/full': write failed: No space left on device (disk full)");
  ops->destroy(&sink);
}
END_TEST

START_TEST(test_config_errors_name_the_key) {
  void *sink = NULL;
  ck_assert_int_eq(try_open("{}", &sink), ETL_ERR_CONFIG);
  ck_assert_logged("sink.config.path: the file sink needs the path of its JSON Lines file");
  ck_assert_int_eq(try_open("{\"path\": \"x\", \"mode\": \"overwrite\"}", &sink), ETL_ERR_CONFIG);
  ck_assert_logged("sink.config.mode: \"overwrite\" is not one of append, truncate");
  ck_assert_int_eq(try_open("{\"path\": \"x\", \"format\": \"csv\"}", &sink), ETL_ERR_CONFIG);
  ck_assert_logged("sink.config.format: unknown key for the file sink (known keys: path, filename, mode, "
                   "lockTimeoutMs)");
  ck_assert_int_eq(try_open("[1]", &sink), ETL_ERR_CONFIG);
  ck_assert_logged("sink.config: file sink: expected a mapping");
  const struct host_sink_ops *so = host_sink_find("stdout");
  ck_assert_int_eq(so->create("{\"path\": \"x\"}", "{}", t_log, &sink), ETL_ERR_CONFIG);
  ck_assert_logged("sink.config.path: unknown key for the stdout sink");
  ck_assert_ptr_null(sink);
}
END_TEST

/* The stdout sink writes the very lines the file sink writes. */
START_TEST(test_stdout_sink_writes_the_same_lines) {
  static const char json[] = "{\"data\": {\"name\": \"x\\ny\"}, \"owners\": []}";
  void *sink = open_file_sink("truncate");
  ck_assert(!write_rec(ops, sink, "chart", "c1", json, strlen(json)));
  ck_assert(!write_rec(ops, sink, "dashboard", "d\"1", json, strlen(json)));
  finish(ops, &sink);

  char *captured = test_path("%s/stdout.txt", t_dir);
  fflush(stdout);
  int saved = dup(STDOUT_FILENO);
  int fd = open(captured, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_ge(dup2(fd, STDOUT_FILENO), 0);
  close(fd);
  const struct host_sink_ops *so = host_sink_find("stdout");
  ck_assert_int_eq(so->create("{}", "{}", t_log, &sink), ETL_OK);
  ck_assert_int_eq(so->begin_source(sink, "src", "jsonl"), ETL_OK);
  ck_assert(!write_rec(so, sink, "chart", "c1", json, strlen(json)));
  ck_assert(!write_rec(so, sink, "dashboard", "d\"1", json, strlen(json)));
  finish(so, &sink);
  fflush(stdout);
  dup2(saved, STDOUT_FILENO);
  close(saved);

  char *from_stdout = test_read_file(captured, NULL);
  char *from_file = test_read_file(out_path, NULL);
  ck_assert_str_eq(from_stdout, from_file);
  ck_assert_str_eq(from_stdout,
                   "{\"kind\":\"chart\",\"id\":\"c1\",\"source\":\"src\",\"data\":{\"name\":"
                   "\"x\\ny\"},\"owners\":[]}\n"
                   "{\"kind\":\"dashboard\",\"id\":\"d\\\"1\",\"source\":\"src\",\"data\":{"
                   "\"name\":\"x\\ny\"},\"owners\":[]}\n");
  free(from_stdout);
  free(from_file);
  free(captured);
}
END_TEST

/* ---- `filename`, OpenMetadata's and DataHub's name for `path` ---------------------------- */

static void count_passes(void *ctx, const char *step, enum etl_test_verdict verdict,
                         const char *message) {
  *(int *)ctx += verdict == ETL_TEST_PASS;
}

START_TEST(test_filename_is_accepted_as_path) {
  char config[4096];
  void *sink = NULL;
  int passes = 0;
  snprintf(config, sizeof config, "{\"filename\": \"%s\"}", out_path);
  ck_assert_int_eq(ops->test(config, wf_json, t_log, count_passes, &passes), ETL_OK);
  ck_assert_int_eq(passes, 1); /* `etlhost test` reads it too */
  ck_assert_int_eq(try_open(config, &sink), ETL_OK);
  ck_assert(!write_rec(ops, sink, "chart", "a", "{\"data\": {}}", 12));
  finish(ops, &sink);
  snprintf(config, sizeof config, "{\"path\": \"%s\", \"filename\": \"%s\"}", out_path, out_path);
  ck_assert_int_eq(try_open(config, &sink), ETL_OK); /* both, agreeing */
  ck_assert(!write_rec(ops, sink, "chart", "b", "{\"data\": {}}", 12));
  finish(ops, &sink);
  ck_assert_int_eq(count_lines(out_path), 2);

  snprintf(config, sizeof config, "{\"path\": \"%s\", \"filename\": \"%s/other.jsonl\"}", out_path,
           t_dir);
  ck_assert_int_eq(try_open(config, &sink), ETL_ERR_CONFIG);
  ck_assert_logged("sink.config.filename: \"");
  ck_assert_logged("/other.jsonl\" differs from sink.config.path \"");
  ck_assert_ptr_null(sink);
  ck_assert_int_eq(try_open("{\"filename\": \"\"}", &sink), ETL_ERR_CONFIG);
  ck_assert_logged("sink.config.filename: the file sink needs the path of its JSON Lines file");
  ck_assert_int_eq(try_open("{\"filename\": 3}", &sink), ETL_ERR_CONFIG);
  ck_assert_logged("sink.config.filename:");
  snprintf(config, sizeof config, "{\"filename\": \"%s/no-such-dir/x.jsonl\"}", t_dir);
  ck_assert_int_eq(try_open(config, &sink), ETL_ERR_CONFIG);
  ck_assert_logged("sink.config.filename: file sink: cannot open '");
}
END_TEST

/* ---- one writer per file ------------------------------------------------------------------- */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Forks a writer that opens the file sink, stores a state behind one record, appends the start
 * of a line it is still writing (as a live run does), tells the parent through a pipe, holds
 * the lock for hold_ms and dies without closing the sink (the kernel drops the lock). */
static pid_t fork_writer(int hold_ms) {
  int ready[2];
  ck_assert_int_eq(pipe(ready), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(ready[0]);
    void *sink = NULL;
    char config[4096];
    snprintf(config, sizeof config, "{\"path\": \"%s\"}", out_path);
    if (ops->create(config, wf_json, t_log, &sink) != ETL_OK)
      _exit(2);
    struct host_record rec = {"src", "chart", "first", "{\"data\": {}}", 12};
    bool rejected = false;
    if (ops->write(sink, &rec, &rejected) != ETL_OK ||
        ops->store_state(sink, "src", "{}", 2) != ETL_OK)
      _exit(3);
    int fd = open(out_path, O_WRONLY | O_APPEND);
    if (fd < 0 || write(fd, "{\"kind\":\"chart\",\"id\":\"li", 24) != 24)
      _exit(4);
    if (write(ready[1], "x", 1) != 1)
      _exit(5);
    struct timespec ts = {hold_ms / 1000, (hold_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    _exit(0);
  }
  close(ready[1]);
  char c;
  ck_assert_int_eq(read(ready[0], &c, 1), 1);
  close(ready[0]);
  return pid;
}

START_TEST(test_second_writer_waits_for_the_lock) {
  pid_t pid = fork_writer(800);
  char config[4096];
  snprintf(config, sizeof config, "{\"path\": \"%s\", \"lockTimeoutMs\": 10000}", out_path);
  void *sink = NULL;
  double t0 = now_s();
  ck_assert_int_eq(try_open(config, &sink), ETL_OK);
  double waited = now_s() - t0;
  ck_assert_msg(waited > 0.4 && waited < 8, "waited %.2f s for an 0.8 s lock", waited);
  ck_assert_logged("is locked (flock) by another writer; waiting up to 10000 ms");
  int status = 0;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  /* Only now, the writer gone, is its unfinished line cut, back to its stored state. */
  ck_assert_logged("removed 24 bytes an interrupted run wrote after its last stored state");
  ck_assert(!write_rec(ops, sink, "chart", "second", "{\"data\": {}}", 12));
  finish(ops, &sink);
  char *text = test_read_file(out_path, NULL);
  ck_assert_str_eq(text, "{\"kind\":\"chart\",\"id\":\"first\",\"source\":\"src\",\"data\":{}}\n"
                         "{\"kind\":\"chart\",\"id\":\"second\",\"source\":\"src\",\"data\":{}}\n");
  free(text);
}
END_TEST

START_TEST(test_second_writer_gives_up_naming_the_lock) {
  pid_t pid = fork_writer(20000);
  char *before = test_read_file(out_path, NULL);
  char config[4096];
  snprintf(config, sizeof config, "{\"path\": \"%s\", \"lockTimeoutMs\": 300}", out_path);
  void *sink = NULL;
  double t0 = now_s();
  ck_assert_int_eq(try_open(config, &sink), ETL_ERR_TRANSIENT);
  double waited = now_s() - t0;
  ck_assert_msg(waited >= 0.29 && waited < 5, "gave up after %.2f s, not 0.3 s", waited);
  ck_assert_ptr_null(sink);
  char *expected = test_path("file sink: '%s' is locked (flock) by another writer", out_path);
  ck_assert_logged(expected);
  ck_assert_logged("(sink.config.lockTimeoutMs)");
  /* The live writer's file, its unfinished last line included, is untouched. */
  char *after = test_read_file(out_path, NULL);
  ck_assert_str_eq(after, before);
  ck_assert_ptr_nonnull(strstr(after, "\n{\"kind\":\"chart\",\"id\":\"li"));
  /* lockTimeoutMs 0: no wait at all. */
  snprintf(config, sizeof config, "{\"path\": \"%s\", \"lockTimeoutMs\": 0}", out_path);
  ck_assert_int_eq(try_open(config, &sink), ETL_ERR_TRANSIENT);
  ck_assert_int_eq(try_open("{\"path\": \"x\", \"lockTimeoutMs\": -1}", &sink), ETL_ERR_CONFIG);
  ck_assert_logged("sink.config.lockTimeoutMs: expected an integer from 0 to 3600000");
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  free(expected);
  free(before);
  free(after);
}
END_TEST

/* ---- exactly once across kills ------------------------------------------------------------- */

#define KILL_RECORDS 40

/* One run of a resumable source into the sink: it starts from the stored state ({"next": i}),
 * writes records e<i>.., and stores a state every `every` records. With kill_after >= 0 the
 * process dies (_exit, no destroy: what a SIGKILL leaves) after that many records, some of
 * them flushed and fsync'd by a commit that no state followed. Returns the next record. */
static long run_source(long kill_after, long every) {
  void *sink = NULL;
  char config[4096], *state = NULL;
  size_t len = 0;
  snprintf(config, sizeof config, "{\"path\": \"%s\"}", out_path);
  ck_assert_int_eq(try_open(config, &sink), ETL_OK);
  ck_assert_int_eq(ops->begin_source(sink, "src", "fake"), ETL_OK);
  ck_assert_int_eq(ops->load_state(sink, "src", &state, &len), ETL_OK);
  long next = 0;
  if (state)
    ck_assert_int_eq(sscanf(state, "{\"next\": %ld}", &next), 1);
  free(state);
  for (long n = 0; next < KILL_RECORDS; n++) {
    if (n == kill_after)
      _exit(0);
    char id[32], json[64];
    snprintf(id, sizeof id, "e%ld", next);
    snprintf(json, sizeof json, "{\"data\": {\"n\": %ld}}", next);
    ck_assert(!write_rec(ops, sink, "chart", id, json, strlen(json)));
    next++;
    if (next % every == 0) {
      snprintf(json, sizeof json, "{\"next\": %ld}", next);
      ck_assert_int_eq(ops->store_state(sink, "src", json, strlen(json)), ETL_OK);
    } else if (next % every == every - 1) {
      ck_assert_int_eq(ops->commit(sink), ETL_OK); /* durable, but past the state */
    }
  }
  struct host_source_outcome out = {.complete = true, .run_id = 1};
  ck_assert_int_eq(ops->commit(sink), ETL_OK);
  ck_assert_int_eq(ops->end_source(sink, "src", &out), ETL_OK);
  ops->destroy(&sink);
  return next;
}

/* The file holds exactly e0..e(n-1), once each, in order. */
static void assert_file_holds(long n) {
  char *text = test_read_file(out_path, NULL);
  ck_assert_ptr_nonnull(text);
  char *lines[KILL_RECORDS * 3];
  size_t got = split_lines(text, lines, KILL_RECORDS * 3);
  ck_assert_msg(got == (size_t)n, "%zu lines, expected %ld", got, n);
  for (long i = 0; i < n; i++) {
    char expected[128];
    snprintf(expected, sizeof expected,
             "{\"kind\":\"chart\",\"id\":\"e%ld\",\"source\":\"src\",\"data\":{\"n\":%ld}}", i, i);
    ck_assert_str_eq(lines[i], expected);
  }
  free(text);
}

/* Runs run_source(kill_after, every) in a child and waits for it. */
static void killed_run(long kill_after, long every) {
  fflush(NULL);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    run_source(kill_after, every);
    _exit(1); /* it finished: kill_after was past the end */
  }
  int status = 0;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child did not die as told");
}

START_TEST(test_kill_leaves_exactly_the_stored_records) {
  killed_run(9, 5); /* e0..e4 under a state, then e5..e8 fsync'd by a commit */
  void *sink = NULL;
  char config[4096];
  snprintf(config, sizeof config, "{\"path\": \"%s\"}", out_path);
  ck_assert_int_eq(try_open(config, &sink), ETL_OK);
  ck_assert_logged("written again from that state");
  assert_file_holds(5);
  struct host_source_outcome out = {.complete = false, .run_id = 1};
  ck_assert_int_eq(ops->end_source(sink, "src", &out), ETL_OK);
  ops->destroy(&sink);
  ck_assert_int_eq(run_source(-1, 5), KILL_RECORDS);
  assert_file_holds(KILL_RECORDS);
  /* A run that ended cleanly is never cut: a later append run starts after it. */
  t_mark_log();
  ck_assert_int_eq(try_open(config, &sink), ETL_OK);
  ops->destroy(&sink);
  ck_assert_msg(strstr(t_logged() + t_log_mark, "removed") == NULL, "cut after a clean run");
  assert_file_holds(KILL_RECORDS);
}
END_TEST

/* Kills in a row, at every distance from a state, never leave a record twice. */
START_TEST(test_repeated_kills_never_duplicate) {
  static const long kills[] = {0, 1, 3, 4, 6, 2, 7, 0, 5, 9, 3};
  for (size_t i = 0; i < sizeof kills / sizeof kills[0]; i++)
    killed_run(kills[i], 4);
  ck_assert_int_eq(run_source(-1, 4), KILL_RECORDS);
  assert_file_holds(KILL_RECORDS);
}
END_TEST

/* A file replaced behind the sink's back is not cut by an old mark. */
START_TEST(test_replaced_file_is_not_cut) {
  killed_run(7, 5);
  ck_assert_int_eq(unlink(out_path), 0);
  static const char other[] = "{\"kind\":\"chart\",\"id\":\"x\",\"source\":\"other\",\"data\":{}}\n"
                              "{\"kind\":\"chart\",\"id\":\"y\",\"source\":\"other\",\"data\":{}}\n"
                              "{\"kind\":\"chart\",\"id\":\"z\",\"source\":\"other\",\"data\":{}}\n";
  ck_assert_int_eq(test_write_file(out_path, other), 0);
  void *sink = NULL;
  char config[4096];
  snprintf(config, sizeof config, "{\"path\": \"%s\"}", out_path);
  ck_assert_int_eq(try_open(config, &sink), ETL_OK);
  ck_assert_logged("was replaced or shortened since");
  ops->destroy(&sink);
  char *text = test_read_file(out_path, NULL);
  ck_assert_str_eq(text, other);
  free(text);
}
END_TEST

int main(void) {
  Suite *s = suite_create("sink_file");
  TCase *tc = tcase_create("jsonl");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_hostile_strings_round_trip);
  tcase_add_test(tc, test_bad_records_are_rejected_with_a_reason);
  tcase_add_test(tc, test_append_is_the_default_and_truncate_starts_over);
  tcase_add_test(tc, test_append_cuts_a_torn_last_line);
  tcase_add_test(tc, test_error_for_an_unwritable_path);
  tcase_add_test(tc, test_error_for_a_full_disk);
  tcase_add_test(tc, test_config_errors_name_the_key);
  tcase_add_test(tc, test_stdout_sink_writes_the_same_lines);
  tcase_add_test(tc, test_filename_is_accepted_as_path);
  suite_add_tcase(s, tc);
  TCase *once = tcase_create("one writer, exactly once");
  tcase_add_checked_fixture(once, setup, teardown);
  tcase_set_timeout(once, 60);
  tcase_add_test(once, test_second_writer_waits_for_the_lock);
  tcase_add_test(once, test_second_writer_gives_up_naming_the_lock);
  tcase_add_test(once, test_kill_leaves_exactly_the_stored_records);
  tcase_add_test(once, test_repeated_kills_never_duplicate);
  tcase_add_test(once, test_replaced_file_is_not_cut);
  suite_add_tcase(s, once);
  return test_run_suite(s);
}
