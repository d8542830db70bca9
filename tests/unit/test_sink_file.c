/*
 * test_sink_file.c -- the file and stdout sinks: one valid JSON object per line whatever the
 * plugin sends (quotes, backslashes, control characters, invalid UTF-8, huge strings), exact
 * round trips through a JSON parser (yajl_tree here, Python's json module when available),
 * per-record rejections with reasons, append/truncate, the repair of a torn last line, and the
 * errors for an unwritable path, a full disk and a bad config.
 */
#include "config.h"

#include "sink.h"
#include "sink_testlib.h"

#include <fcntl.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

static const struct host_sink_ops *ops;
static char *out_path; /* the test's JSON Lines file */

static void setup(void) {
  t_setup();
  ops = host_sink_find("file");
  ck_assert_ptr_nonnull(ops);
  out_path = test_path("%s/out.jsonl", t_dir);
}

static void teardown(void) {
  free(out_path);
  t_teardown();
}

static etl_status try_open(const char *config, void **sink) {
  return ops->create(config, "{}", t_log, sink);
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
  ck_assert_logged("sink.config.format: unknown key for the file sink (known keys: path, mode)");
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
  suite_add_tcase(s, tc);
  return test_run_suite(s);
}
