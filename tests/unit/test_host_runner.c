/* The runner, driven through the etlhost binary with the scriptable `fake` plugin
 * (tests/plugins/fake.c) and the `jsonl` plugin: state never ahead of data when killed at any
 * instant, a re-run completes the catalog with every entity exactly once, mixed runs, exit
 * codes, Ctrl-C, connection tests, deletion marking only after complete runs, redaction; and a
 * kill loop (SIGKILL at random instants) after which both sqlite and file hold each record once. */
#include "config.h"

#include "testutil.h"

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

/* ---- helpers ------------------------------------------------------------------------------ */

static char *bin(void) {
  return test_path("%s/host-api/etlhost", test_builddir());
}
static char *plugin_dir(void) {
  return test_path("%s/tests/plugins/.libs", test_builddir());
}

/* A test's scratch directory and the files in it. Owned by the test; scratch_close frees. */
struct scratch {
  char *dir;      /* a fresh temporary directory */
  char *catalog;  /* DIR/catalog.db: the sqlite sink's catalog */
  char *state_db; /* DIR/state.db: the state store */
  char *out;      /* DIR/out.jsonl: the file sink's output */
  char *wf;       /* DIR/wf.yaml */
};

static void scratch_open(struct scratch *s) {
  s->dir = test_tmpdir();
  s->catalog = test_path("%s/catalog.db", s->dir);
  s->state_db = test_path("%s/state.db", s->dir);
  s->out = test_path("%s/out.jsonl", s->dir);
  s->wf = test_path("%s/wf.yaml", s->dir);
}

static void scratch_close(struct scratch *s) {
  test_rmtree(s->dir);
  free(s->dir);
  free(s->catalog);
  free(s->state_db);
  free(s->out);
  free(s->wf);
}

/* Writes DIR/wf.yaml with `sources` (the YAML of the `sources:` list) into sink_type: "sqlite"
 * (DIR/catalog.db), "file" (DIR/out.jsonl), NULL (no sink section), or any other type with the
 * catalog path as its config. The state store is DIR/state.db. */
static void scratch_workflow(struct scratch *s, const char *sources, const char *sink_type) {
  char *sink = NULL;
  if (!sink_type)
    sink = strdup("");
  else if (strcmp(sink_type, "file") == 0)
    sink = test_path("sink: {type: file, config: {path: %s}}", s->out);
  else
    sink = test_path("sink: {type: %s, config: {path: %s}}", sink_type, s->catalog);
  char *yaml =
      test_path("sources:\n%s\n%s\nworkflowConfig: {stateStore: %s}\n", sources, sink, s->state_db);
  ck_assert_int_eq(test_write_file(s->wf, yaml), 0);
  free(yaml);
  free(sink);
}

/* One entry of a `sources:` list (YAML, malloc'd): plugin type, serviceName name, and
 * serviceConnection.config given as YAML (a {flow mapping}, or a block starting with "\n"
 * indented by 8). */
static char *source_yaml(const char *type, const char *name, const char *config) {
  return test_path("  - type: %s\n    serviceName: %s\n    serviceConnection:\n"
                   "      config: %s\n",
                   type, name, config);
}

/* A workflow of one fake source `f` with config into sink_type. */
static void scratch_fake(struct scratch *s, const char *config, const char *sink_type) {
  char *src = source_yaml("fake", "f", config);
  scratch_workflow(s, src, sink_type);
  free(src);
}

/* Runs `etlhost --plugin-dir TESTPLUGINS CMD wf` with extra environment. */
static int run_host(const char *cmd, const char *wf, char *const env[], char **out, char **err) {
  char *b = bin(), *d = plugin_dir();
  char *argv[] = {b, "--plugin-dir", d, (char *)cmd, (char *)wf, NULL};
  int rc = test_run(argv, env, out, err);
  free(b);
  free(d);
  return rc;
}

/* Starts etlhost run in the background, output to DIR/bg.log. */
static pid_t spawn_host(const char *dir, const char *wf, char *const env[]) {
  char *b = bin(), *d = plugin_dir(), *logp = test_path("%s/bg.log", dir);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    int fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    dup2(fd, 2);
    for (size_t i = 0; env && env[i]; i++)
      putenv(env[i]);
    execl(b, b, "--plugin-dir", d, "run", wf, (char *)NULL);
    _exit(127);
  }
  free(b);
  free(d);
  free(logp);
  return pid;
}

/* Waits up to timeout_ms for pid; returns its exit status (128+signal), or -1 on timeout. */
static int wait_for(pid_t pid, int timeout_ms) {
  for (int waited = 0; waited <= timeout_ms; waited += 10) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    struct timespec ts = {0, 10 * 1000000L};
    nanosleep(&ts, NULL);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return -1;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* One integer from a query on the database at path (0 when the file or table is missing). */
static long long query_int(const char *db_path, const char *sql, const char *arg) {
  sqlite3 *db = NULL;
  long long v = 0;
  if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
      if (arg)
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
      if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return v;
}

/* The stored state's "next" of source f: -1 when there is no state. */
static long stored_next(const char *db_path, const char *source) {
  if (query_int(db_path, "SELECT count(*) FROM state WHERE source = ?1", source) == 0)
    return -1;
  return (long)query_int(
      db_path, "SELECT json_extract(json, '$.next') FROM state WHERE source = ?1", source);
}

/* Every entity before the stored state is in the catalog: state never runs ahead of data. */
static void assert_state_not_ahead(const char *catalog, const char *state_db, const char *source) {
  long next = stored_next(state_db, source);
  for (long i = 0; i < next; i++) {
    char id[32];
    snprintf(id, sizeof id, "e%ld", i);
    ck_assert_msg(query_int(catalog, "SELECT count(*) FROM entities WHERE id = ?1", id) == 1,
                  "state says next=%ld but %s is not in the catalog", next, id);
  }
}

/* The catalog holds exactly e0..e(n-1) of source, once each, none marked deleted. */
static void assert_catalog_complete(const char *catalog, const char *source, long n) {
  ck_assert_int_eq(query_int(catalog, "SELECT count(*) FROM entities WHERE source = ?1", source),
                   n);
  ck_assert_int_eq(
      query_int(catalog, "SELECT count(DISTINCT id) FROM entities WHERE source = ?1", source), n);
  ck_assert_int_eq(query_int(catalog,
                             "SELECT count(*) FROM entities WHERE source = ?1 AND deleted != 0",
                             source),
                   0);
  for (long i = 0; i < n; i++) {
    char id[32];
    snprintf(id, sizeof id, "e%ld", i);
    ck_assert_msg(query_int(catalog, "SELECT count(*) FROM entities WHERE id = ?1", id) == 1,
                  "%s missing from the catalog", id);
  }
}

/* The file sink's output holds exactly e0..e(n-1) of source, once each, and nothing else. */
static void assert_file_once(const char *path, const char *source, long n) {
  char *text = test_read_file(path, NULL);
  ck_assert_ptr_nonnull(text);
  int *seen = calloc((size_t)n, sizeof *seen);
  long lines = 0;
  char src_member[128];
  snprintf(src_member, sizeof src_member, "\"source\":\"%s\"", source);
  for (char *line = text, *nl; *line; line = nl + 1) {
    nl = strchr(line, '\n');
    ck_assert_msg(nl != NULL, "a partial last line: %s", line);
    *nl = '\0';
    long i = -1;
    ck_assert_msg(sscanf(line, "{\"kind\":\"chart\",\"id\":\"e%ld\"", &i) == 1 && i >= 0 && i < n,
                  "unexpected line %s", line);
    ck_assert_msg(strstr(line, src_member), "line of another source: %s", line);
    ck_assert_msg(++seen[i] == 1, "e%ld appears twice", i);
    lines++;
  }
  for (long i = 0; i < n; i++)
    ck_assert_msg(seen[i] == 1, "e%ld missing from the file", i);
  ck_assert_int_eq(lines, n);
  free(seen);
  free(text);
}

/* ---- state ordering across a crash -------------------------------------------------------- */

/* Kill points (entities emitted before the SIGKILL), around and on state boundaries. */
static const long crash_points[] = {0, 1, 4, 5, 6, 12, 19};

/* Block style: `${...}` is not a plain scalar inside a {flow mapping}. */
#define CRASHING_CONFIG(state_every)                                                               \
  "\n        count: 20\n        state_every: " #state_every "\n        crash_after: ${CRASH:--1}"

START_TEST(crash_then_rerun_sqlite_catalog) {
  struct scratch s;
  scratch_open(&s);
  scratch_fake(&s, CRASHING_CONFIG(5), "sqlite");
  char crash[32];
  snprintf(crash, sizeof crash, "CRASH=%ld", crash_points[_i]);
  char *env[] = {crash, NULL};
  ck_assert_int_eq(run_host("run", s.wf, env, NULL, NULL), 128 + SIGKILL);
  ck_assert_int_le(stored_next(s.catalog, "f"), crash_points[_i]);
  assert_state_not_ahead(s.catalog, s.catalog, "f");
  ck_assert_int_eq(run_host("run", s.wf, NULL, NULL, NULL), 0);
  assert_catalog_complete(s.catalog, "f", 20);
  ck_assert_int_eq(stored_next(s.catalog, "f"), 0); /* a complete run: the next starts over */
  scratch_close(&s);
}
END_TEST

/* The file sink keeps no state: commit() then the host's state store. */
START_TEST(crash_then_rerun_file_sink_and_state_store) {
  struct scratch s;
  scratch_open(&s);
  scratch_fake(&s, CRASHING_CONFIG(4), "file");
  char crash[32];
  snprintf(crash, sizeof crash, "CRASH=%ld", crash_points[_i]);
  char *env[] = {crash, NULL};
  ck_assert_int_eq(run_host("run", s.wf, env, NULL, NULL), 128 + SIGKILL);
  long next = stored_next(s.state_db, "f");
  char *text = test_read_file(s.out, NULL);
  for (long i = 0; i < next; i++) {
    char needle[64];
    snprintf(needle, sizeof needle, "\"id\":\"e%ld\"", i);
    ck_assert_msg(text && strstr(text, needle), "state next=%ld but e%ld not in the file", next, i);
  }
  free(text);
  ck_assert_int_eq(run_host("run", s.wf, NULL, NULL, NULL), 0);
  assert_file_once(s.out, "f", 20); /* cut back to the stored state: none lost, none twice */
  scratch_close(&s);
}
END_TEST

/* SIGKILL at random instants, again and again, then one run to the end: every record is in
 * the sink exactly once, for the sqlite catalog and for the file sink alike. */
static const char *const kill_loop_sinks[] = {"sqlite", "file"};
#define KILL_LOOP_KILLS 24
#define KILL_LOOP_RECORDS 3000

START_TEST(kill_loop_leaves_every_record_once) {
  const char *sink = kill_loop_sinks[_i];
  struct scratch s;
  scratch_open(&s);
  char config[160];
  snprintf(config, sizeof config,
           "\n        count: %d\n        state_every: 7\n        sleep_ms: ${SLOW:-0}",
           KILL_LOOP_RECORDS);
  scratch_fake(&s, config, sink);
  unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
  char slow[] = "SLOW=1";
  char *env[] = {slow, NULL};
  for (int k = 0; k < KILL_LOOP_KILLS; k++) {
    pid_t pid = spawn_host(s.dir, s.wf, env);
    sleep_ms(rand_r(&seed) % 120); /* anywhere: loading, opening the sink, writing, storing */
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    ck_assert_msg(wait_for(pid, 5000) == 128 + SIGKILL, "kill %d (seed %u): the run was not killed",
                  k, seed);
  }
  const char *db = strcmp(sink, "sqlite") == 0 ? s.catalog : s.state_db;
  long next = stored_next(db, "f");
  ck_assert_msg(next < KILL_LOOP_RECORDS, "seed %u: the runs got to the end (next %ld)", seed,
                next);
  ck_assert_int_eq(run_host("run", s.wf, NULL, NULL, NULL), 0);
  if (strcmp(sink, "sqlite") == 0)
    assert_catalog_complete(s.catalog, "f", KILL_LOOP_RECORDS);
  else
    assert_file_once(s.out, "f", KILL_LOOP_RECORDS);
  scratch_close(&s);
}
END_TEST

START_TEST(sigkill_from_outside_mid_run) {
  struct scratch s;
  scratch_open(&s);
  scratch_fake(&s, "\n        count: 400\n        state_every: 7\n        sleep_ms: ${SLOW:-0}",
               "sqlite");
  char slow[] = "SLOW=1";
  char *env[] = {slow, NULL};
  pid_t pid = spawn_host(s.dir, s.wf, env);
  /* Kill it once it has stored some state, at whatever instant that is. */
  for (int i = 0; i < 500 && stored_next(s.catalog, "f") < 20; i++)
    sleep_ms(10);
  ck_assert_int_eq(kill(pid, SIGKILL), 0);
  ck_assert_int_eq(wait_for(pid, 5000), 128 + SIGKILL);
  long next = stored_next(s.catalog, "f");
  ck_assert_int_gt(next, 0);
  ck_assert_int_lt(next, 400);
  assert_state_not_ahead(s.catalog, s.catalog, "f");
  ck_assert_int_eq(run_host("run", s.wf, NULL, NULL, NULL), 0);
  assert_catalog_complete(s.catalog, "f", 400);
  scratch_close(&s);
}
END_TEST

/* Runs etlhost on DIR/wf.yaml in the background and stops it with SIGINT once the state of f
 * in db has reached next >= n; the run must end as interrupted (exit status 130). */
static void ctrl_c_once_stored(struct scratch *s, const char *db, long n) {
  pid_t pid = spawn_host(s->dir, s->wf, NULL);
  for (int i = 0; i < 500 && stored_next(db, "f") < n; i++)
    sleep_ms(10);
  ck_assert_int_eq(kill(pid, SIGINT), 0);
  ck_assert_int_eq(wait_for(pid, 5000), 130);
}

START_TEST(ctrl_c_stops_cleanly_and_keeps_what_was_committed) {
  struct scratch s;
  scratch_open(&s);
  scratch_fake(&s, "{count: 100000, state_every: 10, sleep_ms: 2}", "sqlite");
  ctrl_c_once_stored(&s, s.catalog, 10);
  ck_assert_int_ge(stored_next(s.catalog, "f"), 10);
  assert_state_not_ahead(s.catalog, s.catalog, "f");
  /* Nothing was marked deleted by an interrupted run. */
  ck_assert_int_eq(query_int(s.catalog, "SELECT count(*) FROM entities WHERE deleted != 0", NULL),
                   0);
  char *logp = test_path("%s/bg.log", s.dir);
  char *log = test_read_file(logp, NULL);
  ck_assert_ptr_nonnull(strstr(log, "f (fake): interrupted"));
  free(log);
  free(logp);
  scratch_close(&s);
}
END_TEST

/* ---- mixed runs, summaries, deletion ------------------------------------------------------ */

START_TEST(mixed_run_with_two_plugins) {
  struct scratch s;
  scratch_open(&s);
  char *jl = test_path("%s/in.jsonl", s.dir);
  ck_assert_int_eq(
      test_write_file(jl,
                      "{\"kind\":\"chart\",\"id\":\"c1\",\"source\":\"old\",\"data\":{\"n\":1}}\n"
                      "\n"
                      "{\"kind\":\"dashboard\",\"id\":\"d1\",\"data\":{\"x\":[1,2]},"
                      "\"owners\":[{\"type\":\"user\",\"name\":\"ann\"}]}\n"),
      0);
  char *fake = source_yaml("fake", "f", "{count: 4, kinds: [chart, dashboardDataModel]}");
  char *jsonl_config = test_path("{path: [%s]}", jl);
  char *replay = source_yaml("jsonl", "replay", jsonl_config);
  char *sources = test_path("%s%s", fake, replay);
  scratch_workflow(&s, sources, "sqlite");
  char *summary = test_path("%s/summary.json", s.dir);
  char *b = bin(), *d = plugin_dir();
  char *argv[] = {b, "--plugin-dir", d, "--summary-json", summary, "run", s.wf, NULL};
  char *out = NULL;
  ck_assert_int_eq(test_run(argv, NULL, &out, NULL), 0);
  ck_assert_ptr_nonnull(strstr(out, "f (fake): complete"));
  ck_assert_ptr_nonnull(strstr(out, "entities  4 (chart 2, dashboardDataModel 2)"));
  ck_assert_ptr_nonnull(strstr(out, "replay (jsonl): complete"));
  ck_assert_int_eq(query_int(s.catalog, "SELECT count(*) FROM entities WHERE source='f'", NULL), 4);
  ck_assert_int_eq(
      query_int(s.catalog, "SELECT count(*) FROM entities WHERE source='replay'", NULL), 2);
  /* The replayed record keeps its extra members and takes the new source name. */
  ck_assert_int_eq(query_int(s.catalog,
                             "SELECT count(*) FROM entities WHERE source='replay' AND id='d1' AND"
                             " json_extract(json, '$.owners[0].name') = 'ann'",
                             NULL),
                   1);
  char *json = test_read_file(summary, NULL);
  yajl_val v = yajl_tree_parse(json, NULL, 0);
  ck_assert_ptr_nonnull(v);
  const char *p0[] = {"sources", NULL};
  yajl_val srcs = yajl_tree_get(v, p0, yajl_t_array);
  ck_assert_uint_eq(srcs->u.array.len, 2);
  const char *pk[] = {"kinds", "dashboardDataModel", NULL};
  ck_assert_int_eq(YAJL_GET_INTEGER(yajl_tree_get(srcs->u.array.values[0], pk, yajl_t_number)), 2);
  const char *pc[] = {"exitCode", NULL};
  ck_assert_int_eq(YAJL_GET_INTEGER(yajl_tree_get(v, pc, yajl_t_number)), 0);
  yajl_tree_free(v);
  free(json);
  free(out);
  free(b);
  free(d);
  free(summary);
  free(sources);
  free(replay);
  free(jsonl_config);
  free(fake);
  free(jl);
  scratch_close(&s);
}
END_TEST

START_TEST(lost_items_never_count_as_deletions) {
  static const struct {
    const char *config;
    int exit_code;
    long deleted;
  } runs[] = {
      {"{count: 6}", 0, 0},
      {"{count: 6, lose_every: 2}", 1, 0}, /* e1, e3, e5 lost: the run is partial */
      /* complete: e5 is gone; e4 was seen by the partial run, which the catalog counts as
       * "seen since the last complete run" (sink_sqlite.c), so it goes one run later */
      {"{count: 4}", 0, 1},
      {"{count: 4}", 0, 2},
  };
  struct scratch s;
  scratch_open(&s);
  for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
    scratch_fake(&s, runs[r].config, "sqlite");
    ck_assert_int_eq(run_host("run", s.wf, NULL, NULL, NULL), runs[r].exit_code);
    ck_assert_int_eq(query_int(s.catalog, "SELECT count(*) FROM entities WHERE deleted != 0", NULL),
                     runs[r].deleted);
  }
  scratch_close(&s);
}
END_TEST

/* Two runs started together into one file take turns (flock): both complete, and the file is
 * two whole runs, every line valid, none lost. With lockTimeoutMs 0 the second one fails at
 * once naming the lock, and the first run's file is intact. */
START_TEST(two_runs_into_one_file_take_turns) {
  struct scratch s;
  scratch_open(&s);
  for (int variant = 0; variant < 2; variant++) {
    char *src = source_yaml("fake", "f", "{count: 300, state_every: 10, sleep_ms: 1}");
    char *yaml = test_path("sources:\n%ssink: {type: file, config: {path: %s, lockTimeoutMs: %d}}"
                           "\nworkflowConfig: {stateStore: %s}\n",
                           src, s.out, variant ? 0 : 30000, s.state_db);
    ck_assert_int_eq(test_write_file(s.wf, yaml), 0);
    unlink(s.out);
    pid_t first = spawn_host(s.dir, s.wf, NULL);
    for (int i = 0; i < 500 && access(s.out, F_OK) != 0; i++)
      sleep_ms(5); /* the first run holds the lock */
    char *err = NULL;
    int second = run_host("run", s.wf, NULL, NULL, &err);
    ck_assert_int_eq(wait_for(first, 30000), 0);
    if (variant == 0) {
      ck_assert_msg(second == 0, "the second run: exit %d\n%s", second, err);
      ck_assert_msg(strstr(err, "is locked (flock) by another writer; waiting up to 30000 ms"),
                    "%s", err);
      char *text = test_read_file(s.out, NULL);
      int seen[300] = {0}, lines = 0;
      for (char *line = text, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        ck_assert_msg(nl != NULL, "a partial last line");
        *nl = '\0';
        long i = -1;
        ck_assert_msg(sscanf(line, "{\"kind\":\"chart\",\"id\":\"e%ld\"", &i) == 1 && i >= 0 &&
                          i < 300 && nl[-1] == '}',
                      "a broken line: %s", line);
        seen[i]++;
        lines++;
      }
      ck_assert_int_eq(lines, 600);
      for (int i = 0; i < 300; i++)
        ck_assert_msg(seen[i] == 2, "e%d is there %d times", i, seen[i]);
      free(text);
    } else {
      ck_assert_int_eq(second, 2);
      ck_assert_msg(strstr(err, "is locked (flock) by another writer, most likely another etlhost "
                                "run into the same file; gave up after 0 ms"),
                    "%s", err);
      assert_file_once(s.out, "f", 300);
    }
    free(err);
    free(yaml);
    free(src);
  }
  scratch_close(&s);
}
END_TEST

/* ---- full and read-only disks ------------------------------------------------------------ */

/* Mounts a tmpfs of `kb` KiB at DIR/name (root only; NULL when it cannot: not root, no
 * CAP_SYS_ADMIN). The caller unmounts with umount_tmpfs. */
static char *mount_tmpfs(const char *dir, const char *name, int kb) {
  char *mnt = test_path("%s/%s", dir, name), opts[32];
  snprintf(opts, sizeof opts, "size=%dk", kb);
  if (geteuid() != 0 || mkdir(mnt, 0755) != 0 || mount("tmpfs", mnt, "tmpfs", 0, opts) != 0) {
    free(mnt);
    return NULL;
  }
  return mnt;
}

static void umount_tmpfs(char *mnt) {
  if (mnt)
    umount2(mnt, MNT_DETACH);
  free(mnt);
}

/* A workflow of one fake source into sink_type at sink_path, state store DIR/state.db. */
static void write_fake_into(struct scratch *s, const char *config, const char *sink_type,
                            const char *sink_path, const char *state_db) {
  char *src = source_yaml("fake", "f", config);
  char *yaml = test_path("sources:\n%ssink: {type: %s, config: {path: %s}}\n"
                         "workflowConfig: {stateStore: %s}\n",
                         src, sink_type, sink_path, state_db ? state_db : s->state_db);
  ck_assert_int_eq(test_write_file(s->wf, yaml), 0);
  free(yaml);
  free(src);
}

/* A full disk stops the source with the reason, counts as an error and never exits 0. */
START_TEST(full_disk_is_an_error) {
  struct scratch s;
  scratch_open(&s);
  char *tiny = mount_tmpfs(s.dir, "tiny", 64);
  char *tiny_out = tiny ? test_path("%s/out.jsonl", tiny) : NULL;
  char *tiny_cat = tiny ? test_path("%s/catalog.db", tiny) : NULL;
  const struct {
    const char *type, *path;
  } cases[] = {{"file", "/dev/full"}, {"file", tiny_out}, {"sqlite", tiny_cat}};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    if (!cases[c].path || access(cases[c].path[1] == 'd' ? "/dev/full" : s.dir, W_OK) != 0)
      continue; /* no tmpfs (not root) or no /dev/full */
    write_fake_into(&s, "{count: 3000, state_every: 100}", cases[c].type, cases[c].path, NULL);
    char *out = NULL, *err = NULL;
    ck_assert_int_eq(run_host("run", s.wf, NULL, &out, &err), 1);
    ck_assert_msg(strstr(err, "disk full"), "%s: no \"disk full\" in:\n%s", cases[c].path, err);
    ck_assert_msg(strstr(out, "errors 1"), "%s: the failure is not counted:\n%s", cases[c].path,
                  out);
    free(out);
    free(err);
    if (strcmp(cases[c].path, "/dev/full") != 0)
      unlink(cases[c].path); /* the next case gets the space back */
  }
  free(tiny_out);
  free(tiny_cat);
  umount_tmpfs(tiny);
  scratch_close(&s);
}
END_TEST

/* A catalog, a file or a state store that cannot be written says why (EROFS, EACCES), not
 * "No such file or directory" (SQLite falls back to read-only and then misses its -wal). */
START_TEST(read_only_outputs_say_why) {
  struct scratch s;
  scratch_open(&s);
  char *ro = mount_tmpfs(s.dir, "ro", 1024);
  char *dir = ro ? strdup(ro) : strdup(s.dir);
  char *cat = test_path("%s/catalog.db", dir), *out = test_path("%s/out.jsonl", dir);
  char *state = test_path("%s/state.db", dir);
  write_fake_into(&s, "{count: 3, state_every: 1}", "sqlite", cat, state);
  ck_assert_int_eq(run_host("run", s.wf, NULL, NULL, NULL), 0);
  write_fake_into(&s, "{count: 3, state_every: 1}", "file", out, state);
  ck_assert_int_eq(run_host("run", s.wf, NULL, NULL, NULL), 0);
  const char *reason = NULL;
  if (ro) {
    ck_assert_int_eq(mount("tmpfs", ro, "tmpfs", MS_REMOUNT | MS_RDONLY, NULL), 0);
    reason = strerror(EROFS);
  } else if (geteuid() != 0) {
    ck_assert_int_eq(chmod(cat, 0444), 0);
    ck_assert_int_eq(chmod(out, 0444), 0);
    ck_assert_int_eq(chmod(state, 0444), 0);
    reason = strerror(EACCES);
  }
  const struct {
    const char *type, *path, *state_db;
  } cases[] = {{"sqlite", cat, NULL}, {"file", out, NULL}, {"file", s.out, state}};
  for (size_t c = 0; reason && c < sizeof cases / sizeof cases[0]; c++) {
    write_fake_into(&s, "{count: 3, state_every: 1}", cases[c].type, cases[c].path,
                    cases[c].state_db);
    char *err = NULL;
    ck_assert_int_eq(run_host("run", s.wf, NULL, NULL, &err), 2);
    ck_assert_msg(strstr(err, reason), "case %zu: no \"%s\" in:\n%s", c, reason, err);
    ck_assert_msg(!strstr(err, "No such file"), "case %zu: a wrong reason in:\n%s", c, err);
    free(err);
  }
  free(cat);
  free(out);
  free(state);
  free(dir);
  umount_tmpfs(ro);
  scratch_close(&s);
}
END_TEST

/* A state store in a read-only directory (new, or existing on a file system remounted
 * read-only) is found before any source runs: once, named, with the real reason, exit 2,
 * and no entity reaches the sink. */
START_TEST(read_only_state_store_is_found_before_the_sources) {
  struct scratch s;
  scratch_open(&s);
  char *ro = mount_tmpfs(s.dir, "ro", 1024);
  if (!ro) { /* not root: chmod cannot stop root, and tmpfs needs it */
    scratch_close(&s);
    return;
  }
  char *fresh = test_path("%s/new-state.db", ro), *old = test_path("%s/state.db", ro);
  char *src1 = source_yaml("fake", "f", "{count: 3, state_every: 1}");
  char *src2 = source_yaml("fake", "g", "{count: 3, state_every: 1}");
  const char *const stores[] = {old, fresh};
  for (size_t c = 0; c < 2; c++) {
    char *yaml = test_path("sources:\n%s%ssink: {type: stdout}\nworkflowConfig: {stateStore: %s}\n",
                           src1, src2, stores[c]);
    ck_assert_int_eq(test_write_file(s.wf, yaml), 0);
    free(yaml);
    if (c == 0) { /* the existing store, made while the file system was writable */
      ck_assert_int_eq(run_host("run", s.wf, NULL, NULL, NULL), 0);
      ck_assert_int_eq(mount("tmpfs", ro, "tmpfs", MS_REMOUNT | MS_RDONLY, NULL), 0);
    }
    char *out = NULL, *err = NULL;
    ck_assert_int_eq(run_host("run", s.wf, NULL, &out, &err), 2);
    char *named = test_path("state store '%s'", stores[c]);
    const char *first = strstr(err, named);
    ck_assert_msg(first != NULL, "case %zu: the store is not named in:\n%s", c, err);
    ck_assert_msg(strstr(first + 1, named) == NULL, "case %zu: said more than once:\n%s", c, err);
    ck_assert_msg(strstr(err, strerror(EROFS)), "case %zu: no \"%s\" in:\n%s", c,
                  strerror(EROFS), err);
    ck_assert_msg(!strstr(err, "No such file"), "case %zu: a wrong reason in:\n%s", c, err);
    ck_assert_msg(!strstr(out, "\"kind\":\"chart\""), "case %zu: a source ran:\n%s", c, out);
    free(named);
    free(out);
    free(err);
  }
  free(src1);
  free(src2);
  free(fresh);
  free(old);
  umount_tmpfs(ro);
  scratch_close(&s);
}
END_TEST

/* Once a record of the run has failed, later states are not stored: the next run must start
 * before the failure, or an incremental plugin would skip the failed record for good. */
START_TEST(state_is_held_back_after_a_failed_record) {
  struct scratch s;
  scratch_open(&s);
  /* States after entities 2, 4, 6 ({"next": 2|4|6}) and {"next": 0} at the end; entity 3's
   * data is not JSON, so the sink refuses it. */
  scratch_fake(&s, "{count: 6, state_every: 2, bad_json_at: 3}", "sqlite");
  char *err = NULL;
  ck_assert_int_eq(run_host("run", s.wf, NULL, NULL, &err), 1);
  ck_assert_msg(strstr(err, "state not stored") != NULL, "no warning in:\n%s", err);
  ck_assert_int_eq(
      query_int(s.catalog, "SELECT json_extract(json, '$.next') FROM state WHERE source = ?1", "f"),
      2);
  free(err);
  /* The same run without the bad record stores its final state again. */
  scratch_fake(&s, "{count: 6, state_every: 2}", "sqlite");
  ck_assert_int_eq(run_host("run", s.wf, NULL, NULL, NULL), 0);
  ck_assert_int_eq(
      query_int(s.catalog, "SELECT json_extract(json, '$.next') FROM state WHERE source = ?1", "f"),
      0);
  scratch_close(&s);
}
END_TEST

/* The same with the file sink: the run whose states were held back ends unclean, so the next
 * run cuts the file back to the last state stored (next=2) and rewrites from there: e2, e4 and
 * e5 are not left twice. So does a run stopped by Ctrl-C. */
START_TEST(file_sink_cuts_back_to_a_held_state) {
  struct scratch s;
  scratch_open(&s);
  scratch_fake(&s, "{count: 6, state_every: 2, bad_json_at: 3}", "file");
  ck_assert_int_eq(run_host("run", s.wf, NULL, NULL, NULL), 1);
  ck_assert_int_eq(stored_next(s.state_db, "f"), 2);
  scratch_fake(&s, "{count: 6, state_every: 2}", "file");
  char *err = NULL;
  ck_assert_int_eq(run_host("run", s.wf, NULL, NULL, &err), 0);
  ck_assert_msg(strstr(err, "an interrupted run wrote after its last stored state"), "%s", err);
  free(err);
  assert_file_once(s.out, "f", 6);

  unlink(s.out);
  scratch_fake(&s, "{count: 100000, state_every: 10, sleep_ms: 1}", "file");
  ctrl_c_once_stored(&s, s.state_db, 20);
  long next = stored_next(s.state_db, "f");
  scratch_fake(&s, "{count: 100000, state_every: 10, crash_after: 0}", "file");
  ck_assert_int_eq(run_host("run", s.wf, NULL, NULL, NULL), 128 + SIGKILL); /* opens, cuts */
  assert_file_once(s.out, "f", next);
  scratch_close(&s);
}
END_TEST

/* A `retain` (replayed here by the jsonl source) marks the catalog's rows seen without touching
 * their data, so a complete run does not mark them deleted; an id the catalog lacks is ignored;
 * a retain without data.ids is a failed item; the file sink keeps it as a line. */
START_TEST(retain_keeps_rows_without_rewriting_them) {
  static const char rec[] = "{\"kind\":\"chart\",\"id\":\"c1\",\"data\":{\"n\":1}}\n"
                            "{\"kind\":\"chart\",\"id\":\"c2\",\"data\":{\"n\":2}}\n";
  static const char retain[] =
      "{\"kind\":\"retain\",\"id\":\"r\",\"data\":{\"kind\":\"chart\",\"ids\":[\"c1\",\"ghost\"]}}\n";
  static const char bad[] = "{\"kind\":\"retain\",\"id\":\"b\",\"data\":{\"kind\":\"chart\"}}\n";
  struct scratch s;
  scratch_open(&s);
  char *jl = test_path("%s/in.jsonl", s.dir);
  char *cfg = test_path("{path: [%s]}", jl);
  char *src = source_yaml("jsonl", "replay", cfg);
  char *summary = test_path("%s/summary.json", s.dir);
  char *b = bin(), *d = plugin_dir();
  char *argv[] = {b, "--plugin-dir", d, "--summary-json", summary, "run", s.wf, NULL};
  scratch_workflow(&s, src, "sqlite");
  /* One of two charts goes: above the deletion fail-safe's default share, lifted here. */
  char *wf = test_read_file(s.wf, NULL), *at = wf ? strstr(wf, "{stateStore:") : NULL;
  ck_assert_ptr_nonnull(at);
  *at = '\0';
  char *lifted = test_path("%s{failSafeThreshold: 100, %s", wf, at + 1);
  ck_assert_int_eq(test_write_file(s.wf, lifted), 0);
  free(wf), free(lifted);

  ck_assert_int_eq(test_write_file(jl, rec), 0);
  ck_assert_int_eq(test_run(argv, NULL, NULL, NULL), 0);
  long long run1 = query_int(s.catalog, "SELECT changed_run FROM entities WHERE id = 'c1'", NULL);

  ck_assert_int_eq(test_write_file(jl, retain), 0);
  ck_assert_int_eq(test_run(argv, NULL, NULL, NULL), 0);
  ck_assert_int_eq(query_int(s.catalog, "SELECT deleted FROM entities WHERE id = 'c1'", NULL), 0);
  ck_assert_int_eq(query_int(s.catalog, "SELECT changed_run FROM entities WHERE id = 'c1'", NULL),
                   run1);
  ck_assert_int_eq(query_int(s.catalog, "SELECT last_seen > first_seen FROM entities "
                                        "WHERE id = 'c1'", NULL),
                   1);
  ck_assert_int_eq(query_int(s.catalog, "SELECT deleted FROM entities WHERE id = 'c2'", NULL), 1);
  ck_assert_int_eq(query_int(s.catalog, "SELECT count(*) FROM entities WHERE id IN "
                                        "('ghost', 'r')", NULL),
                   0);
  char *json = test_read_file(summary, NULL);
  yajl_val v = yajl_tree_parse(json, NULL, 0);
  const char *pr[] = {"sources", NULL}, *rk[] = {"retained", NULL};
  yajl_val srcs = yajl_tree_get(v, pr, yajl_t_array);
  ck_assert_ptr_nonnull(srcs);
  ck_assert_int_eq(YAJL_GET_INTEGER(yajl_tree_get(srcs->u.array.values[0], rk, yajl_t_number)), 2);
  yajl_tree_free(v);
  free(json);

  /* c2, deleted, stays deleted when retained: a retain is no evidence it is back. */
  ck_assert_int_eq(test_write_file(jl, "{\"kind\":\"retain\",\"id\":\"r\",\"data\":{\"kind\":"
                                       "\"chart\",\"ids\":[\"c1\",\"c2\"]}}\n"),
                   0);
  ck_assert_int_eq(test_run(argv, NULL, NULL, NULL), 0);
  ck_assert_int_eq(query_int(s.catalog, "SELECT deleted FROM entities WHERE id = 'c2'", NULL), 1);
  ck_assert_int_eq(query_int(s.catalog, "SELECT deleted FROM entities WHERE id = 'c1'", NULL), 0);

  char *err = NULL;
  ck_assert_int_eq(test_write_file(jl, bad), 0);
  ck_assert_int_eq(test_run(argv, NULL, NULL, &err), 1);
  ck_assert_ptr_nonnull(strstr(err, "retain entity without data.kind and data.ids"));
  free(err);

  scratch_workflow(&s, src, "file");
  ck_assert_int_eq(test_write_file(jl, retain), 0);
  ck_assert_int_eq(test_run(argv, NULL, NULL, NULL), 0);
  char *out = test_read_file(s.out, NULL);
  ck_assert_ptr_nonnull(out);
  ck_assert_ptr_nonnull(strstr(out, "\"kind\":\"retain\""));
  ck_assert_ptr_nonnull(strstr(out, "\"ghost\""));
  free(out);
  free(b), free(d), free(summary), free(src), free(cfg), free(jl);
  scratch_close(&s);
}
END_TEST

/* A complete run whose deletions the fail-safe holds back says so in its summary, text and
 * JSON, beside "complete": the log's warning alone is easy to miss. */
START_TEST(summary_says_when_the_fail_safe_held_deletions_back) {
  static const char five[] = "{\"kind\":\"chart\",\"id\":\"c1\",\"data\":{}}\n"
                             "{\"kind\":\"chart\",\"id\":\"c2\",\"data\":{}}\n"
                             "{\"kind\":\"chart\",\"id\":\"c3\",\"data\":{}}\n"
                             "{\"kind\":\"chart\",\"id\":\"c4\",\"data\":{}}\n"
                             "{\"kind\":\"chart\",\"id\":\"c5\",\"data\":{}}\n";
  struct scratch s;
  scratch_open(&s);
  char *jl = test_path("%s/in.jsonl", s.dir);
  char *cfg = test_path("{path: [%s]}", jl);
  char *src = source_yaml("jsonl", "replay", cfg);
  char *summary = test_path("%s/summary.json", s.dir);
  char *b = bin(), *d = plugin_dir();
  char *argv[] = {b, "--plugin-dir", d, "--summary-json", summary, "run", s.wf, NULL};
  scratch_workflow(&s, src, "sqlite");
  const char *pr[] = {"sources", NULL}, *ph[] = {"deletions_held", NULL},
             *po[] = {"deletions_held_of", NULL};

  ck_assert_int_eq(test_write_file(jl, five), 0);
  char *out = NULL;
  ck_assert_int_eq(test_run(argv, NULL, &out, NULL), 0);
  ck_assert_msg(strstr(out, "held back") == NULL, "%s", out); /* nothing to delete yet */
  free(out);

  /* Four of five gone: 80%, above the default 20%. */
  ck_assert_int_eq(test_write_file(jl, "{\"kind\":\"chart\",\"id\":\"c1\",\"data\":{}}\n"), 0);
  ck_assert_int_eq(test_run(argv, NULL, &out, NULL), 0);
  ck_assert_int_eq(query_int(s.catalog, "SELECT count(*) FROM entities WHERE deleted", NULL), 0);
  ck_assert_msg(strstr(out, "replay (jsonl): complete"), "%s", out);
  ck_assert_msg(strstr(out, "deletions held back by the fail-safe: 4 of 5"), "%s", out);
  free(out);
  char *json = test_read_file(summary, NULL);
  yajl_val v = yajl_tree_parse(json, NULL, 0);
  yajl_val srcs = yajl_tree_get(v, pr, yajl_t_array);
  ck_assert_ptr_nonnull(srcs);
  yajl_val held = yajl_tree_get(srcs->u.array.values[0], ph, yajl_t_number);
  yajl_val of = yajl_tree_get(srcs->u.array.values[0], po, yajl_t_number);
  ck_assert_ptr_nonnull(held);
  ck_assert_ptr_nonnull(of);
  ck_assert_int_eq(YAJL_GET_INTEGER(held), 4);
  ck_assert_int_eq(YAJL_GET_INTEGER(of), 5);
  yajl_tree_free(v);
  free(json);

  /* Let through (threshold lifted): the deletions happen and the summary has nothing to say. */
  char *wf = test_read_file(s.wf, NULL), *at = wf ? strstr(wf, "{stateStore:") : NULL;
  ck_assert_ptr_nonnull(at);
  *at = '\0';
  char *lifted = test_path("%s{failSafeThreshold: 100, %s", wf, at + 1);
  ck_assert_int_eq(test_write_file(s.wf, lifted), 0);
  free(wf), free(lifted);
  ck_assert_int_eq(test_run(argv, NULL, &out, NULL), 0);
  ck_assert_int_eq(query_int(s.catalog, "SELECT count(*) FROM entities WHERE deleted", NULL), 4);
  ck_assert_msg(strstr(out, "held back by the fail-safe") == NULL, "%s", out);
  free(out);
  json = test_read_file(summary, NULL);
  v = yajl_tree_parse(json, NULL, 0);
  srcs = yajl_tree_get(v, pr, yajl_t_array);
  ck_assert_ptr_nonnull(srcs);
  ck_assert_int_eq(YAJL_GET_INTEGER(yajl_tree_get(srcs->u.array.values[0], ph, yajl_t_number)), 0);
  yajl_tree_free(v);
  free(json);
  free(b), free(d), free(summary), free(src), free(cfg), free(jl);
  scratch_close(&s);
}
END_TEST

/* ---- exit codes --------------------------------------------------------------------------- */

static const struct {
  const char *type;
  const char *config;
  const char *sink_type;
  int exit_code;
  const char *stderr_has;
} exits[] = {
    {"fake", "{count: 3}", "sqlite", 0, NULL},
    {"fake", "{count: 3, warn_every: 1}", "sqlite", 0, "warning: e0: a scripted warning"},
    {"fake", "{count: 6, lose_every: 3}", "sqlite", 1, "e2: lost as scripted"},
    {"fake", "{count: 5, bad_json_at: 2}", "sqlite", 1, "chart e2: rejected by the sqlite sink"},
    {"fake", "{count: 3, end_status: transient}", "sqlite", 1, NULL},
    {"fake", "{open_status: auth}", "sqlite", 3, "refused to start (ETL_ERR_AUTH)"},
    {"fake", "{open_status: connect}", "sqlite", 3, "refused to start (ETL_ERR_CONNECT)"},
    {"fake", "{open_status: config}", "sqlite", 2, "refused to start (ETL_ERR_CONFIG)"},
    /* A status no header lists is ETL_ERR_INTERNAL (plugin.h), not passed on as it came. */
    {"fake", "{open_status: unknown}", "sqlite", 1, "refused to start (ETL_ERR_INTERNAL)"},
    {"nosuch", "{}", "sqlite", 2, "no plugin named `nosuch`"},
    {"fake", "{count: 1}", "bogus", 2, "no sink of type `bogus`"},
    {"jsonl", "{paths: x}", "sqlite", 2, "serviceConnection.config.paths: unknown key"},
    {"jsonl", "{path: /nonexistent/x.jsonl}", "sqlite", 2, "/nonexistent/x.jsonl: cannot open"},
};

START_TEST(exit_codes) {
  struct scratch s;
  scratch_open(&s);
  char *src = source_yaml(exits[_i].type, "s", exits[_i].config);
  scratch_workflow(&s, src, exits[_i].sink_type);
  char *err = NULL;
  ck_assert_int_eq(run_host("run", s.wf, NULL, NULL, &err), exits[_i].exit_code);
  if (exits[_i].stderr_has)
    ck_assert_msg(strstr(err, exits[_i].stderr_has), "expected `%s` in:\n%s", exits[_i].stderr_has,
                  err);
  free(err);
  free(src);
  scratch_close(&s);
}
END_TEST

START_TEST(config_error_exit_code_and_message) {
  struct scratch s;
  scratch_open(&s);
  ck_assert_int_eq(test_write_file(s.wf, "source:\n  type: fake\n  serviceName: s\n"
                                         "  serviceConnection:\n    config: 12\n"),
                   0);
  char *err = NULL;
  ck_assert_int_eq(run_host("run", s.wf, NULL, NULL, &err), 2);
  ck_assert_ptr_nonnull(strstr(err, "wf.yaml:5: error: source.serviceConnection.config: expected "
                                    "a mapping, found a string"));
  free(err);
  scratch_close(&s);
}
END_TEST

/* An OpenMetadata workflow's file sink, `filename` and all, runs unchanged; a `filename` in a
 * missing directory is named with its line, as `path` is. */
START_TEST(openmetadata_file_sink_filename_runs) {
  struct scratch s;
  scratch_open(&s);
  char *src = source_yaml("fake", "f", "{count: 5, state_every: 2}");
  char *yaml = test_path("sources:\n%ssink:\n  type: file\n  config:\n    filename: %s\n"
                         "workflowConfig: {stateStore: %s}\n",
                         src, s.out, s.state_db);
  ck_assert_int_eq(test_write_file(s.wf, yaml), 0);
  ck_assert_int_eq(run_host("run", s.wf, NULL, NULL, NULL), 0);
  assert_file_once(s.out, "f", 5);
  free(yaml);
  yaml = test_path("sources:\n%ssink:\n  type: file\n  config:\n    filename: %s/nope/o.jsonl\n"
                   "workflowConfig: {stateStore: %s}\n",
                   src, s.dir, s.state_db);
  ck_assert_int_eq(test_write_file(s.wf, yaml), 0);
  char *err = NULL;
  ck_assert_int_eq(run_host("run", s.wf, NULL, NULL, &err), 2);
  ck_assert_msg(strstr(err, "wf.yaml:9: error: sink.config.filename: the directory '"), "%s", err);
  free(err);
  free(yaml);
  free(src);
  scratch_close(&s);
}
END_TEST

/* A plugin's config error names a key inside its source ("serviceConnection.config.paths:
 * unknown key"); the user sees it as the host's own config errors: file, line, full key path,
 * and that one message (no "refused to start" echo). An unknown sink type and a sink path in
 * a missing directory (or naming a directory) have their line too. */
START_TEST(plugin_config_errors_name_file_line_and_key) {
  struct scratch s;
  scratch_open(&s);
  char *good = source_yaml("fake", "f", "{count: 1}");
  char *bad = source_yaml("jsonl", "j", "\n        path: /dev/null\n        paths: x");
  char *both = test_path("%s%s", good, bad);
  scratch_workflow(&s, both, "sqlite");
  char *err = NULL;
  ck_assert_int_eq(run_host("run", s.wf, NULL, NULL, &err), 2);
  /* line 1 "sources:", 2-5 the fake source, 6 "- type: jsonl", ..., 11 "paths: x" */
  ck_assert_msg(strstr(err, "wf.yaml:11: error: sources[1].serviceConnection.config.paths: "
                            "unknown key"),
                "expected file:line: key path in:\n%s", err);
  ck_assert_msg(strstr(err, "refused to start") == NULL, "a second message:\n%s", err);
  free(err);
  scratch_workflow(&s, good, "bogus");
  ck_assert_int_eq(run_host("run", s.wf, NULL, NULL, &err), 2);
  ck_assert_msg(strstr(err, "wf.yaml:7: error: sink.type: no sink of type `bogus`"),
                "expected file:line in:\n%s", err);
  free(err);
  /* A catalog in a directory that does not exist: the key and its line, not only the path. */
  char *yaml = test_path("sources:\n%s\nsink:\n  type: sqlite\n  config:\n"
                         "    path: %s/nodir/c.db\n",
                         good, s.dir);
  ck_assert_int_eq(test_write_file(s.wf, yaml), 0);
  ck_assert_int_eq(run_host("run", s.wf, NULL, NULL, &err), 2);
  ck_assert_msg(strstr(err, "wf.yaml:10: error: sink.config.path: the directory '") &&
                    strstr(err, "/nodir' of '"),
                "expected file:line: sink.config.path in:\n%s", err);
  free(err), free(yaml);
  yaml = test_path("sources:\n%s\nsink:\n  type: sqlite\n  config:\n    path: %s\n", good, s.dir);
  ck_assert_int_eq(test_write_file(s.wf, yaml), 0);
  ck_assert_int_eq(run_host("run", s.wf, NULL, NULL, &err), 2);
  ck_assert_msg(strstr(err, "wf.yaml:10: error: sink.config.path: '") &&
                    strstr(err, "' is a directory"),
                "expected file:line: sink.config.path in:\n%s", err);
  free(err), free(yaml);
  /* --summary-json into a missing directory: refused before the run, not after it. */
  scratch_workflow(&s, good, "sqlite");
  unlink(s.catalog); /* made by the first run above */
  char *b = bin(), *d = plugin_dir(), *sj = test_path("%s/nodir/s.json", s.dir);
  char *argv[] = {b, "--plugin-dir", d, "--summary-json", sj, "run", s.wf, NULL};
  ck_assert_int_eq(test_run(argv, NULL, NULL, &err), 2);
  ck_assert_msg(strstr(err, "--summary-json: error: the directory '"), "%s", err);
  ck_assert_msg(access(s.catalog, F_OK) != 0, "the run went ahead");
  free(err), free(b), free(d), free(sj);
  free(good), free(bad), free(both);
  scratch_close(&s);
}
END_TEST

/* ---- connection tests and secrets --------------------------------------------------------- */

START_TEST(test_command_reports_each_step) {
  struct scratch s;
  scratch_open(&s);
  char *fake = source_yaml("fake", "f", "{test_steps: [pass, fail, skip]}");
  char *jl = source_yaml("jsonl", "j", "{path: [/nonexistent/in.jsonl]}");
  char *sources = test_path("%s%s", fake, jl);
  scratch_workflow(&s, sources, NULL);
  char *out = NULL;
  ck_assert_int_eq(run_host("test", s.wf, NULL, &out, NULL), 2);
  ck_assert_ptr_nonnull(strstr(out, "f (fake):\n  PASS  plugin: "));
  ck_assert_ptr_nonnull(strstr(out, "  PASS  step1: scripted\n  FAIL  step2: scripted\n"
                                    "  SKIP  step3: scripted\n  => ETL_ERR_AUTH"));
  ck_assert_ptr_nonnull(strstr(out, "FAIL  file 1: /nonexistent/in.jsonl: No such file"));
  free(out);
  scratch_fake(&s, "{test_steps: [pass, pass]}", NULL);
  ck_assert_int_eq(run_host("test", s.wf, NULL, &out, NULL), 0);
  ck_assert_ptr_nonnull(strstr(out, "=> ok"));
  free(out);
  free(sources);
  free(jl);
  free(fake);
  scratch_close(&s);
}
END_TEST

/* Writes DIR/wf.yaml: one fake source that passes its test, into `sink` (a YAML flow map). */
static void scratch_sink(struct scratch *s, const char *sink) {
  char *src = source_yaml("fake", "f", "{test_steps: [pass]}");
  char *yaml =
      test_path("sources:\n%ssink: %s\nworkflowConfig: {stateStore: %s}\n", src, sink, s->state_db);
  ck_assert_int_eq(test_write_file(s->wf, yaml), 0);
  free(yaml);
  free(src);
}

static bool file_exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0;
}

/* `etlhost test` checks the sqlite sink's catalog without creating it: a new path in a
 * writable directory passes and leaves no file; an unwritable or missing directory, or a file
 * that is not a catalog, fails the sink with exit 2 (fix the workflow file). */
START_TEST(test_command_checks_sqlite_sink) {
  struct scratch s;
  scratch_open(&s);
  char *out = NULL, *sink = test_path("{type: sqlite, config: {path: %s}}", s.catalog);
  scratch_sink(&s, sink);
  ck_assert_int_eq(run_host("test", s.wf, NULL, &out, NULL), 0);
  ck_assert_ptr_nonnull(strstr(out, "sink (sqlite):\n  PASS  catalog: "));
  ck_assert_ptr_nonnull(strstr(out, "can be created\n  => ok\n"));
  ck_assert(!file_exists(s.catalog));
  free(out);

  /* After a run, the catalog exists and is recognized; test leaves it as it was. */
  ck_assert_int_eq(run_host("run", s.wf, NULL, NULL, NULL), 0);
  ck_assert_int_eq(run_host("test", s.wf, NULL, &out, NULL), 0);
  ck_assert_ptr_nonnull(strstr(out, "  PASS  catalog: "));
  ck_assert_ptr_nonnull(strstr(out, "is a catalog, writable"));
  free(out);

  ck_assert_int_eq(test_write_file(s.catalog, "not a database, just text\n"), 0);
  ck_assert_int_eq(run_host("test", s.wf, NULL, &out, NULL), 2);
  ck_assert_ptr_nonnull(strstr(out, "  FAIL  catalog: "));
  ck_assert_ptr_nonnull(strstr(out, "is not an SQLite catalog"));
  free(out);
  free(sink);

  /* A directory that cannot take a new file: read-only for a user; for root (who may write
   * anywhere) a "directory" that is a regular file. */
  char *ro = test_path("%s/ro", s.dir);
  char *target = test_path("%s/catalog.db", ro);
  if (geteuid() != 0) {
    ck_assert_int_eq(mkdir(ro, 0555), 0);
  } else {
    ck_assert_int_eq(test_write_file(ro, "a file, not a directory\n"), 0);
  }
  sink = test_path("{type: sqlite, config: {path: %s}}", target);
  scratch_sink(&s, sink);
  ck_assert_int_eq(run_host("test", s.wf, NULL, &out, NULL), 2);
  ck_assert_ptr_nonnull(strstr(out, "sink (sqlite):\n  FAIL  catalog: "));
  ck_assert_ptr_nonnull(strstr(out, target));
  ck_assert_ptr_nonnull(strstr(out, "=> ETL_ERR_CONFIG"));
  ck_assert(!file_exists(target));
  free(out);
  free(sink);
  if (geteuid() != 0)
    chmod(ro, 0755);

  /* A missing directory is said as such. */
  sink = test_path("{type: sqlite, config: {path: %s/missing/catalog.db}}", s.dir);
  scratch_sink(&s, sink);
  ck_assert_int_eq(run_host("test", s.wf, NULL, &out, NULL), 2);
  ck_assert_ptr_nonnull(strstr(out, "/missing' of '"));
  ck_assert_ptr_nonnull(strstr(out, "does not exist; create it or choose another path"));
  free(out);
  free(sink);
  free(target);
  free(ro);
  scratch_close(&s);
}
END_TEST

/* The file sink: a writable directory passes without leaving the file; a missing one fails
 * with exit 2. stdout has nothing to check. */
START_TEST(test_command_checks_file_and_stdout_sinks) {
  struct scratch s;
  scratch_open(&s);
  char *out = NULL, *sink = test_path("{type: file, config: {path: %s}}", s.out);
  scratch_sink(&s, sink);
  ck_assert_int_eq(run_host("test", s.wf, NULL, &out, NULL), 0);
  ck_assert_ptr_nonnull(strstr(out, "sink (file):\n  PASS  file: "));
  ck_assert(!file_exists(s.out));
  free(out);
  free(sink);
  sink = test_path("{type: file, config: {path: %s/nope/out.jsonl}}", s.dir);
  scratch_sink(&s, sink);
  ck_assert_int_eq(run_host("test", s.wf, NULL, &out, NULL), 2);
  ck_assert_ptr_nonnull(strstr(out, "sink (file):\n  FAIL  file: the directory '"));
  free(out);
  scratch_sink(&s, "{type: stdout}");
  ck_assert_int_eq(run_host("test", s.wf, NULL, &out, NULL), 0);
  ck_assert_ptr_nonnull(strstr(out, "sink (stdout):\n  PASS  sink: nothing to check\n  => ok"));
  free(out);
  free(sink);
  scratch_close(&s);
}
END_TEST

START_TEST(secrets_never_printed) {
  struct scratch s;
  scratch_open(&s);
  scratch_fake(&s,
               "{count: 2, warn_every: 1, echo_secret: true, token: '${FAKE_TOKEN}', "
               "test_steps: [pass]}",
               "file");
  char token[] = "FAKE_TOKEN=tok-0123456789-very-secret";
  char *env[] = {token, NULL};
  char *out = NULL, *err = NULL;
  ck_assert_int_eq(run_host("run", s.wf, env, &out, &err), 0);
  ck_assert_ptr_nonnull(strstr(err, "warning: e0: ***"));
  ck_assert_ptr_null(strstr(err, "very-secret"));
  ck_assert_ptr_null(strstr(out, "very-secret"));
  free(out);
  free(err);
  ck_assert_int_eq(run_host("test", s.wf, env, &out, &err), 0);
  ck_assert_ptr_nonnull(strstr(out, "PASS  step1: ***"));
  ck_assert_ptr_null(strstr(out, "very-secret"));
  free(out);
  free(err);
  scratch_close(&s);
}
END_TEST

START_TEST(stdout_sink_keeps_stdout_clean) {
  struct scratch s;
  scratch_open(&s);
  char *src = source_yaml("fake", "f", "{count: 3}");
  char *yaml = test_path("sources:\n%ssink: {type: stdout}\nworkflowConfig: {stateStore: %s}\n",
                         src, s.state_db);
  ck_assert_int_eq(test_write_file(s.wf, yaml), 0);
  char *out = NULL, *err = NULL;
  ck_assert_int_eq(run_host("run", s.wf, NULL, &out, &err), 0);
  /* Only records on stdout: three JSON lines; the summary went to stderr. */
  int lines = 0;
  for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"), lines++) {
    yajl_val v = yajl_tree_parse(line, NULL, 0);
    ck_assert_msg(v != NULL, "not JSON on stdout: %s", line);
    yajl_tree_free(v);
  }
  ck_assert_int_eq(lines, 3);
  ck_assert_ptr_nonnull(strstr(err, "Summary"));
  free(out);
  free(err);
  free(yaml);
  free(src);
  scratch_close(&s);
}
END_TEST

/* ---- sources at once (workflowConfig.parallelSources) ---------------------------------------- */

/* Writes DIR/wf.yaml with `sources` into sink_type ("sqlite" or "file") and the given
 * workflowConfig.parallelSources (a YAML scalar). */
static void scratch_parallel(struct scratch *s, const char *sources, const char *sink_type,
                             const char *parallel) {
  char *sink = strcmp(sink_type, "file") == 0
                   ? test_path("sink: {type: file, config: {path: %s}}", s->out)
                   : test_path("sink: {type: sqlite, config: {path: %s}}", s->catalog);
  char *yaml = test_path("sources:\n%s\n%s\nworkflowConfig:\n  stateStore: %s\n"
                         "  parallelSources: %s\n",
                         sources, sink, s->state_db, parallel);
  ck_assert_int_eq(test_write_file(s->wf, yaml), 0);
  free(yaml);
  free(sink);
}

/* Three fake sources named a, b, c with the same config (a YAML flow mapping or block). */
static char *three_fakes(const char *config) {
  char *a = source_yaml("fake", "a", config), *b = source_yaml("fake", "b", config),
       *c = source_yaml("fake", "c", config);
  char *all = test_path("%s%s%s", a, b, c);
  free(a), free(b), free(c);
  return all;
}

/* Source src holds e0..e(n-1) in the catalog once each, and its stored state (in state_db)
 * never names an entity that is not there. */
static void assert_source_once(const char *catalog, const char *state_db, const char *src,
                               long n) {
  ck_assert_int_eq(query_int(catalog, "SELECT count(*) FROM entities WHERE source = ?1", src), n);
  ck_assert_int_eq(
      query_int(catalog, "SELECT count(DISTINCT id) FROM entities WHERE source = ?1", src), n);
  long next = query_int(state_db, "SELECT count(*) FROM state WHERE source = ?1", src)
                  ? (long)query_int(state_db,
                                    "SELECT json_extract(json, '$.next') FROM state WHERE "
                                    "source = ?1",
                                    src)
                  : 0;
  ck_assert_int_le(next, n);
}

static const char *const parallel_sinks[] = {"sqlite", "file"};

/* Three sources fetch at once and each lands whole, once, under its own name, with its own state;
 * the file sink's lines of one source are never interleaved with another's (one writer, one
 * source at a time). */
START_TEST(parallel_sources_each_land_once) {
  struct scratch s;
  scratch_open(&s);
  const char *sink = parallel_sinks[_i];
  char *sources = three_fakes("{count: 300, state_every: 25, sleep_ms: 1}");
  scratch_parallel(&s, sources, sink, "3");
  char *out = NULL;
  ck_assert_int_eq(run_host("run", s.wf, NULL, &out, NULL), 0);
  const char *names[] = {"a", "b", "c"};
  for (int i = 0; i < 3; i++) {
    char line[64];
    snprintf(line, sizeof line, "%s (fake): complete", names[i]);
    ck_assert_msg(strstr(out, line), "no '%s' in:\n%s", line, out);
  }
  if (strcmp(sink, "sqlite") == 0) {
    for (int i = 0; i < 3; i++)
      assert_source_once(s.catalog, s.catalog, names[i], 300);
  } else {
    char *text = test_read_file(s.out, NULL);
    ck_assert_ptr_nonnull(text);
    long per[3] = {0, 0, 0}, switches = 0;
    int last = -1;
    for (char *line = text, *nl; *line; line = nl + 1) {
      nl = strchr(line, '\n');
      ck_assert_ptr_nonnull(nl);
      *nl = '\0';
      for (int i = 0; i < 3; i++) {
        char member[32];
        snprintf(member, sizeof member, "\"source\":\"%s\"", names[i]);
        if (strstr(line, member)) {
          per[i]++;
          switches += last != i;
          last = i;
        }
      }
    }
    for (int i = 0; i < 3; i++)
      ck_assert_int_eq(per[i], 300);
    ck_assert_int_eq(switches, 3); /* a's lines, then b's, then c's */
    free(text);
  }
  free(out);
  free(sources);
  scratch_close(&s);
}
END_TEST

/* A SIGKILL while two sources fetch at once loses nothing: the rerun completes both, once. */
START_TEST(parallel_sources_survive_a_crash) {
  struct scratch s;
  scratch_open(&s);
  char *a = source_yaml("fake", "a",
                        "\n        count: 60\n        state_every: 5\n        sleep_ms: 2\n"
                        "        crash_after: ${CRASH:--1}");
  char *b = source_yaml("fake", "b", "{count: 400, state_every: 10, sleep_ms: 1}");
  char *sources = test_path("%s%s", b, a); /* b first: a crashes while b is being written */
  scratch_parallel(&s, sources, "sqlite", "2");
  char *env[] = {"CRASH=40", NULL};
  ck_assert_int_eq(run_host("run", s.wf, env, NULL, NULL), 128 + SIGKILL);
  long nb = (long)query_int(s.catalog, "SELECT count(*) FROM entities WHERE source = 'b'", NULL);
  ck_assert_int_le(nb, 400);
  ck_assert_int_eq(run_host("run", s.wf, NULL, NULL, NULL), 0);
  assert_source_once(s.catalog, s.catalog, "a", 60);
  assert_source_once(s.catalog, s.catalog, "b", 400);
  free(sources), free(a), free(b);
  scratch_close(&s);
}
END_TEST

/* A source that fails does not stop the others; the exit status combines them as before. */
START_TEST(parallel_failing_source_does_not_stop_the_others) {
  struct scratch s;
  scratch_open(&s);
  char *a = source_yaml("fake", "a", "{open_status: auth}");
  char *b = source_yaml("fake", "b", "{count: 50, sleep_ms: 1}");
  char *c = source_yaml("fake", "c", "{count: 20, end_status: transient}");
  char *sources = test_path("%s%s%s", a, b, c);
  scratch_parallel(&s, sources, "sqlite", "3");
  char *out = NULL;
  ck_assert_int_eq(run_host("run", s.wf, NULL, &out, NULL), 3);
  ck_assert_ptr_nonnull(strstr(out, "a (fake): authentication failed"));
  ck_assert_ptr_nonnull(strstr(out, "b (fake): complete"));
  ck_assert_ptr_nonnull(strstr(out, "c (fake): peer unavailable"));
  assert_source_once(s.catalog, s.catalog, "b", 50);
  ck_assert_int_eq(query_int(s.catalog, "SELECT count(*) FROM entities WHERE source = 'c'", NULL),
                   20);
  free(out), free(sources), free(a), free(b), free(c);
  scratch_close(&s);
}
END_TEST

/* Ctrl-C stops every source that fetches; what each delivered stays, with its state behind it,
 * and nothing is marked deleted. */
START_TEST(parallel_ctrl_c_stops_every_source) {
  struct scratch s;
  scratch_open(&s);
  char *sources = three_fakes("{count: 100000, state_every: 10, sleep_ms: 2}");
  scratch_parallel(&s, sources, "sqlite", "3");
  pid_t pid = spawn_host(s.dir, s.wf, NULL);
  for (int i = 0; i < 500 && stored_next(s.catalog, "a") < 20; i++)
    sleep_ms(10);
  ck_assert_int_eq(kill(pid, SIGINT), 0);
  ck_assert_int_eq(wait_for(pid, 10000), 130);
  char *logp = test_path("%s/bg.log", s.dir);
  char *log = test_read_file(logp, NULL);
  ck_assert_ptr_nonnull(log);
  const char *names[] = {"a", "b", "c"};
  for (int i = 0; i < 3; i++) {
    char line[64];
    snprintf(line, sizeof line, "%s (fake): interrupted", names[i]);
    ck_assert_msg(strstr(log, line), "no '%s' in:\n%s", line, log);
    long next = stored_next(s.catalog, names[i]);
    long have = (long)query_int(s.catalog, "SELECT count(*) FROM entities WHERE source = ?1",
                                names[i]);
    ck_assert_msg(next <= have, "%s: state next=%ld ahead of %ld entities", names[i], next, have);
  }
  ck_assert_int_eq(query_int(s.catalog, "SELECT count(*) FROM entities WHERE deleted != 0", NULL),
                   0);
  free(log), free(logp), free(sources);
  scratch_close(&s);
}
END_TEST

static const char *const bad_parallel[] = {"0", "x", "65", "2.5", "-1"};

START_TEST(parallel_sources_must_be_a_small_whole_number) {
  struct scratch s;
  scratch_open(&s);
  char *sources = three_fakes("{count: 1}");
  scratch_parallel(&s, sources, "sqlite", bad_parallel[_i]);
  char *err = NULL;
  ck_assert_int_eq(run_host("run", s.wf, NULL, NULL, &err), 2);
  ck_assert_msg(strstr(err, "wf.yaml:") && strstr(err, "workflowConfig.parallelSources: expected a "
                                                        "whole number from 1"),
                "%s", err);
  free(err), free(sources);
  scratch_close(&s);
}
END_TEST

int main(void) {
  Suite *s = suite_create("host_runner");
  TCase *crash = tcase_create("crash");
  int n_crash = (int)(sizeof crash_points / sizeof crash_points[0]);
  tcase_add_loop_test(crash, crash_then_rerun_sqlite_catalog, 0, n_crash);
  tcase_add_loop_test(crash, crash_then_rerun_file_sink_and_state_store, 0, n_crash);
  tcase_add_test(crash, sigkill_from_outside_mid_run);
  tcase_add_test(crash, ctrl_c_stops_cleanly_and_keeps_what_was_committed);
  tcase_add_loop_test(crash, kill_loop_leaves_every_record_once, 0,
                      (int)(sizeof kill_loop_sinks / sizeof kill_loop_sinks[0]));
  suite_add_tcase(s, crash);
  TCase *tc = tcase_create("runs");
  tcase_add_test(tc, mixed_run_with_two_plugins);
  tcase_add_test(tc, lost_items_never_count_as_deletions);
  tcase_add_test(tc, state_is_held_back_after_a_failed_record);
  tcase_add_test(tc, file_sink_cuts_back_to_a_held_state);
  tcase_add_test(tc, two_runs_into_one_file_take_turns);
  tcase_add_test(tc, full_disk_is_an_error);
  tcase_add_test(tc, read_only_outputs_say_why);
  tcase_add_test(tc, read_only_state_store_is_found_before_the_sources);
  tcase_add_test(tc, retain_keeps_rows_without_rewriting_them);
  tcase_add_test(tc, summary_says_when_the_fail_safe_held_deletions_back);
  tcase_add_loop_test(tc, exit_codes, 0, (int)(sizeof exits / sizeof exits[0]));
  tcase_add_test(tc, config_error_exit_code_and_message);
  tcase_add_test(tc, openmetadata_file_sink_filename_runs);
  tcase_add_test(tc, plugin_config_errors_name_file_line_and_key);
  tcase_add_test(tc, test_command_reports_each_step);
  tcase_add_test(tc, test_command_checks_sqlite_sink);
  tcase_add_test(tc, test_command_checks_file_and_stdout_sinks);
  tcase_add_test(tc, secrets_never_printed);
  tcase_add_test(tc, stdout_sink_keeps_stdout_clean);
  suite_add_tcase(s, tc);
  TCase *par = tcase_create("parallel");
  tcase_set_timeout(par, 60);
  tcase_add_loop_test(par, parallel_sources_each_land_once, 0,
                      (int)(sizeof parallel_sinks / sizeof parallel_sinks[0]));
  tcase_add_test(par, parallel_sources_survive_a_crash);
  tcase_add_test(par, parallel_failing_source_does_not_stop_the_others);
  tcase_add_test(par, parallel_ctrl_c_stops_every_source);
  tcase_add_loop_test(par, parallel_sources_must_be_a_small_whole_number, 0,
                      (int)(sizeof bad_parallel / sizeof bad_parallel[0]));
  suite_add_tcase(s, par);
  return test_run_suite(s);
}
