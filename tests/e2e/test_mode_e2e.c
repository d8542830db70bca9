/*
 * test_mode_e2e.c -- the Mode plugin through the ABI (tests/e2e/thirdparty_host dlopens
 * plugin/.libs/mode.so) against mode-sim: the recorded workspace gives exactly the expected
 * entities and they validate; the connection test gives actionable verdicts; generated
 * workspaces equal the simulator's ground truth with the minimum number of requests; fault
 * runs (5xx, resets, truncated and malformed bodies, 429 storms, listings that repeat, reports
 * that vanish) still give everything retrievable, with a warning per skipped item;
 * cancellation is prompt.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "testutil.h"

#define TOKEN "tok-e2e"
#define SECRET "sec-e2e-S3CR3T"

static char *sim_path(void) {
  return test_path("%s/tests/mode-sim/mode-sim", test_builddir());
}

/* Starts mode-sim with the given extra arguments (NULL-terminated). */
static void start_sim(struct test_server *srv, const char *const *extra) {
  char *argv[48];
  int n = 0;
  argv[n++] = sim_path();
  const char *base[] = {"--port", "0", "--token", TOKEN, "--secret", SECRET, NULL};
  for (int i = 0; base[i]; i++)
    argv[n++] = (char *)base[i];
  for (int i = 0; extra[i] && n < 46; i++)
    argv[n++] = (char *)extra[i];
  argv[n] = NULL;
  ck_assert_msg(test_server_start(srv, argv) == 0, "mode-sim did not start");
  free(argv[0]);
}

struct run {
  int status;
  char *out_path; /* JSON Lines written by the host */
  char *err;      /* the host's stderr: diagnostics, test steps and the summary line */
  long requests, throttled, warnings, items_lost;
  char *dir;
};

static long summary_num(const char *err, const char *key) {
  const char *s = err ? strstr(err, "summary {") : NULL;
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *k = s ? strstr(s, pat) : NULL;
  return k ? atol(k + strlen(pat)) : -1;
}

/* Runs the driver against srv with extra connection config members (a JSON fragment starting
 * with ',' or ""), a sourceConfig and an optional flag. */
static void run_driver(struct run *r, const struct test_server *srv, const char *workspace,
                       const char *secret, const char *conn_extra, const char *src,
                       const char *flag, const char *flag_value) {
  memset(r, 0, sizeof *r);
  r->dir = test_tmpdir();
  r->out_path = test_path("%s/out.jsonl", r->dir);
  char *conn = test_path("{\"hostPort\":\"%s\",\"accessToken\":\"" TOKEN "\","
                         "\"accessTokenPassword\":\"%s\",\"workspaceName\":\"%s\"%s}",
                         srv->base_url, secret, workspace, conn_extra);
  char *conn_path = test_path("%s/connection.json", r->dir);
  char *src_path = test_path("%s/source.json", r->dir);
  ck_assert_int_eq(test_write_file(conn_path, conn), 0);
  ck_assert_int_eq(test_write_file(src_path, src ? src : "{}"), 0);
  char *driver = test_path("%s/tests/e2e/thirdparty_host", test_builddir());
  char *plugin = test_path("%s/plugin/.libs/mode.so", test_builddir());
  char *argv[16] = {driver,   "--name", "mode_svc", "--source-config",
                    src_path, "--out",  r->out_path};
  int n = 7;
  if (flag) {
    argv[n++] = (char *)flag;
    if (flag_value)
      argv[n++] = (char *)flag_value;
  }
  argv[n++] = plugin;
  argv[n++] = conn_path;
  argv[n] = NULL;
  r->status = test_run(argv, NULL, NULL, &r->err);
  r->requests = summary_num(r->err, "requests");
  r->throttled = summary_num(r->err, "throttled");
  r->warnings = summary_num(r->err, "warnings");
  r->items_lost = summary_num(r->err, "items_lost");
  ck_assert_msg(strstr(r->err, SECRET) == NULL && strstr(r->err, "S3CR3T") == NULL,
                "the secret appears in diagnostics");
  char *out = test_read_file(r->out_path, NULL);
  ck_assert_msg(out == NULL || strstr(out, "S3CR3T") == NULL, "the secret appears in output");
  free(out);
  free(conn), free(conn_path), free(src_path), free(driver), free(plugin);
}

static void run_free(struct run *r) {
  test_rmtree(r->dir);
  free(r->dir), free(r->out_path), free(r->err);
}

static long sim_stat(const struct test_server *srv, const char *key) {
  char *url = test_path("%s/__sim/stats", srv->base_url);
  char *body = NULL;
  long status = 0;
  ck_assert_int_eq(test_http_get(url, &body, &status), 0);
  long v;
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *k = body ? strstr(body, pat) : NULL;
  v = k ? atol(k + strlen(pat)) : -1;
  free(url), free(body);
  return v;
}

/* ---- records ------------------------------------------------------------------------------- */

struct records {
  yajl_val *v;
  size_t n;
};

static void load_records(struct records *rs, const char *path) {
  char *text = test_read_file(path, NULL);
  ck_assert_ptr_nonnull(text);
  rs->v = NULL;
  rs->n = 0;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    char err[256];
    if (line[0] == '#')
      continue; /* "# state {...}": the driver's comment line for a state entity */
    yajl_val v = yajl_tree_parse(line, err, sizeof err);
    ck_assert_msg(v != NULL, "invalid record: %s", err);
    rs->v = realloc(rs->v, (rs->n + 1) * sizeof *rs->v);
    rs->v[rs->n++] = v;
  }
  free(text);
}

static void free_records(struct records *rs) {
  for (size_t i = 0; i < rs->n; i++)
    yajl_tree_free(rs->v[i]);
  free(rs->v);
}

static const char *get_str(yajl_val v, const char *a, const char *b) {
  const char *path[] = {a, b, NULL};
  yajl_val s = yajl_tree_get(v, path, yajl_t_string);
  return s ? YAJL_GET_STRING(s) : NULL;
}

static yajl_val find(const struct records *rs, const char *kind, const char *id) {
  for (size_t i = 0; i < rs->n; i++)
    if (strcmp(get_str(rs->v[i], "kind", NULL), kind) == 0 &&
        strcmp(get_str(rs->v[i], "id", NULL), id) == 0)
      return rs->v[i];
  return NULL;
}

static size_t count_kind(const struct records *rs, const char *kind) {
  size_t n = 0;
  for (size_t i = 0; i < rs->n; i++)
    n += strcmp(get_str(rs->v[i], "kind", NULL), kind) == 0;
  return n;
}

static int array_has(yajl_val v, const char *a, const char *b, const char *s) {
  const char *path[] = {a, b, NULL};
  yajl_val arr = yajl_tree_get(v, path, yajl_t_array);
  for (size_t i = 0; arr && i < YAJL_GET_ARRAY(arr)->len; i++) {
    const char *item = YAJL_GET_STRING(YAJL_GET_ARRAY(arr)->values[i]);
    if (item && strcmp(item, s) == 0)
      return 1;
  }
  return 0;
}

static const char *python(void) {
  const char *p = getenv("PYTHON3");
  return p && *p ? p : "python3";
}

/* Validates the `data` of the first four kinds of dir/out.jsonl with the shared validate.py
 * (lineage and usage have shapes of their own, see docs/entities.md). Returns 1 when skipped
 * because python3-jsonschema is absent. */
static int validate(const char *dir) {
  char *probe[] = {(char *)python(), "-c", "import jsonschema", NULL};
  if (test_run(probe, NULL, NULL, NULL) != 0)
    return 1;
  char *path = test_path("%s/validate.jsonl", dir);
  /* validate.py reads {"kind","data"} and ignores other members. */
  char *script = test_path("%s/openmetadata-schemas/validate.py", test_fixtures_dir());
  char *filter = test_path(
      "import json,sys\n"
      "keep={'dashboardService','chart','dashboard','dashboardDataModel'}\n"
      "out=open(sys.argv[2],'w')\n"
      "for l in open(sys.argv[1]):\n"
      "  if l.startswith('#'): continue\n"
      "  r=json.loads(l)\n"
      "  if r['kind'] in keep: out.write(json.dumps({'kind':r['kind'],'data':r['data']})+'\\n')\n");
  char *src = test_path("%s/out.jsonl", dir);
  char *argv1[] = {(char *)python(), "-c", filter, src, path, NULL};
  ck_assert_int_eq(test_run(argv1, NULL, NULL, NULL), 0);
  char *argv2[] = {(char *)python(), script, "--extra-datamodel-type", "ModeDataModel", path, NULL};
  char *out = NULL;
  int st = test_run(argv2, NULL, &out, NULL);
  ck_assert_msg(st == 0, "validate.py: %s", out ? out : "");
  free(out), free(path), free(script), free(filter), free(src);
  return 0;
}

/* ---- the recorded workspace ---------------------------------------------------------------- */

static void start_recorded(struct test_server *srv) {
  char *fixtures = test_path("%s/mode-api-samples", test_fixtures_dir());
  const char *extra[] = {"--fixtures", fixtures, "--workspace", "acryl", NULL};
  start_sim(srv, extra);
  free(fixtures);
}

START_TEST(recorded_workspace_gives_the_expected_entities) {
  struct test_server srv = {0};
  struct run r;
  struct records rs;
  start_recorded(&srv);
  run_driver(&r, &srv, "acryl", SECRET, "", NULL, NULL, NULL);
  ck_assert_msg(r.status == 0, "driver failed: %s", r.err);
  load_records(&rs, r.out_path);

  yajl_val d = find(&rs, "dashboard", "9d2da37fa91e");
  ck_assert_ptr_nonnull(d);
  ck_assert_str_eq(get_str(d, "data", "displayName"), "Report 1");
  ck_assert_str_eq(get_str(d, "data", "project"), "AcrylTest");
  ck_assert(array_has(d, "data", "charts", "mode_svc.f622b9ee725b"));
  ck_assert(array_has(d, "data", "dataModels", "mode_svc.model.6e26a9f3d4e2"));
  ck_assert(array_has(d, "data", "dataModels", "mode_svc.model.24f66e1701b6"));
  const char *op[] = {"owners", NULL};
  yajl_val owners = yajl_tree_get(d, op, yajl_t_array);
  ck_assert_ptr_nonnull(owners);
  ck_assert_str_eq(get_str(YAJL_GET_ARRAY(owners)->values[0], "name", NULL), "modeuser");
  ck_assert_str_eq(get_str(YAJL_GET_ARRAY(owners)->values[0], "email", NULL), "jqureshi@acryl.com");

  yajl_val c = find(&rs, "chart", "f622b9ee725b");
  ck_assert_ptr_nonnull(c);
  ck_assert_str_eq(get_str(c, "data", "displayName"), "Customer Staff Table");
  ck_assert_str_eq(get_str(c, "data", "chartType"), "Table");
  ck_assert_ptr_nonnull(find(&rs, "dashboardDataModel", "6e26a9f3d4e2"));
  ck_assert_ptr_nonnull(find(&rs, "dashboardDataModel", "24f66e1701b6"));
  static const char *tables[] = {"customer", "payment", "rental", "staff"};
  for (int i = 0; i < 4; i++) {
    char id[128];
    snprintf(id, sizeof id, "*.dvdrental.*.%s -> mode_svc.model.6e26a9f3d4e2", tables[i]);
    yajl_val l = find(&rs, "lineage", id);
    ck_assert_msg(l != NULL, "lineage %s missing", id);
    ck_assert_str_eq(get_str(l, "fromTable", "database"), "dvdrental");
    ck_assert_str_eq(get_str(l, "fromTable", "name"), tables[i]);
  }
  ck_assert_ptr_nonnull(
      find(&rs, "lineage", "mode_svc.model.6e26a9f3d4e2 -> mode_svc.9d2da37fa91e"));
  ck_assert_ptr_nonnull(
      find(&rs, "lineage", "mode_svc.model.24f66e1701b6 -> mode_svc.9d2da37fa91e"));
  ck_assert_ptr_nonnull(find(&rs, "usage", "9d2da37fa91e"));
  /* Exactly these, nothing else. */
  ck_assert_uint_eq(count_kind(&rs, "dashboardService"), 1);
  ck_assert_uint_eq(count_kind(&rs, "dashboard"), 1);
  ck_assert_uint_eq(count_kind(&rs, "chart"), 1);
  ck_assert_uint_eq(count_kind(&rs, "dashboardDataModel"), 2);
  ck_assert_uint_eq(count_kind(&rs, "usage"), 1);
  /* 4 tables + dataset's 2 + 2 model -> dashboard + 1 model -> chart */
  ck_assert_uint_eq(count_kind(&rs, "lineage"), 9);
  ck_assert_ptr_nonnull(
      find(&rs, "lineage", "mode_svc.model.6e26a9f3d4e2 -> mode_svc.f622b9ee725b"));
  /* Requests: the minimum for this workspace (listings end on an empty or repeated page). */
  ck_assert_int_eq(r.requests, sim_stat(&srv, "requests"));
  ck_assert_int_eq(r.requests, 14);
  ck_assert_int_eq(r.throttled, 0);
  if (validate(r.dir) == 1)
    fprintf(stderr, "# validate.py skipped: python3-jsonschema is not installed\n");
  free_records(&rs);
  run_free(&r);
  test_server_stop(&srv);
}
END_TEST

START_TEST(connection_test_verdicts) {
  struct test_server srv = {0};
  struct run r;
  const char *extra[] = {"--workspace",
                         "acryl",
                         "--seed",
                         "3",
                         "--spaces",
                         "2",
                         "--reports-per-space",
                         "3",
                         "--data-sources",
                         "1",
                         "--users",
                         "2",
                         "--rate-limit",
                         "off",
                         NULL};
  start_sim(&srv, extra);
  run_driver(&r, &srv, "acryl", SECRET, "", NULL, "--test", NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_ptr_nonnull(strstr(r.err, "step PASS credentials"));
  ck_assert_ptr_nonnull(strstr(r.err, "step PASS workspace"));
  ck_assert_ptr_nonnull(strstr(r.err, "step PASS collections: listed 4 collections"));
  ck_assert_ptr_nonnull(strstr(r.err, "step PASS reports"));
  ck_assert_ptr_nonnull(strstr(r.err, "step PASS data sources: listed 1 data source"));
  run_free(&r);

  run_driver(&r, &srv, "acryl", "wrong-secret", "", NULL, "--test", NULL);
  ck_assert_int_eq(r.status, 4); /* ETL_ERR_AUTH */
  ck_assert_ptr_nonnull(strstr(r.err, "step FAIL credentials: Mode refused the credentials: the "
                                      "token or secret is wrong"));
  ck_assert_ptr_nonnull(strstr(r.err, "step SKIP workspace"));
  ck_assert_ptr_null(strstr(r.err, "HTTP 401 {"));
  run_free(&r);

  run_driver(&r, &srv, "nosuchws", SECRET, "", NULL, "--test", NULL);
  ck_assert_int_eq(r.status, 3); /* ETL_ERR_CONFIG */
  ck_assert_ptr_nonnull(strstr(r.err, "step FAIL workspace: workspace 'nosuchws' (check "
                                      "workspaceName) was not found"));
  run_free(&r);
  test_server_stop(&srv);

  /* The recorded workspace has no GET /api/{ws}: its collections prove it exists. */
  start_recorded(&srv);
  run_driver(&r, &srv, "acryl", SECRET, "", NULL, "--test", NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_ptr_nonnull(strstr(r.err, "step PASS workspace"));
  ck_assert_ptr_nonnull(strstr(r.err, "step PASS collections: listed 2 collections"));
  ck_assert_ptr_nonnull(strstr(r.err, "step PASS data sources: listed 1 data source"));
  run_free(&r);
  test_server_stop(&srv);
}
END_TEST

START_TEST(auth_and_config_errors_stop_the_run) {
  struct test_server srv = {0};
  struct run r;
  start_recorded(&srv);
  run_driver(&r, &srv, "acryl", "wrong-secret", "", NULL, NULL, NULL);
  ck_assert_int_eq(r.status, 4);
  ck_assert_ptr_nonnull(strstr(r.err, "credentials refused (HTTP 401)"));
  run_free(&r);
  run_driver(&r, &srv, "nosuchws", SECRET, "", NULL, NULL, NULL);
  ck_assert_int_eq(r.status, 3);
  ck_assert_ptr_nonnull(strstr(r.err, "workspace 'nosuchws' not found"));
  run_free(&r);
  run_driver(&r, &srv, "acryl", SECRET, ",\"concurrency\":\"lots\"", NULL, NULL, NULL);
  ck_assert_int_eq(r.status, 3);
  ck_assert_ptr_nonnull(strstr(r.err, "serviceConnection.config.concurrency: expected a number"));
  ck_assert_int_eq(r.requests, 0);
  run_free(&r);
  test_server_stop(&srv);
}
END_TEST

/* ---- generated workspaces ------------------------------------------------------------------ */

struct gen {
  const char *name;
  const char *seed, *spaces, *reports;
  const char *faults;       /* NULL: none */
  const char *rate_limit;   /* sim's */
  const char *conn_extra;   /* plugin's */
  int exact_requests;       /* compare with the minimum */
  int allow_skipped;        /* items the plugin warned about may be missing (and must be) */
  const char *src;          /* sourceConfig, NULL = {} */
  const char *data_sources; /* NULL = 3; 7 has every dialect mode-sim writes */
};

#define NO_LIMIT ",\"requestsPerSecond\":0"
static const struct gen gens[] = {
    /* test_mode_e2e: clean runs */
    {.name = "paged",
     .seed = "11",
     .spaces = "3",
     .reports = "65",
     .rate_limit = "off",
     .conn_extra = NO_LIMIT,
     .exact_requests = 1,
     .data_sources = "7"},
    {.name = "no-data-models",
     .seed = "17",
     .spaces = "2",
     .reports = "31",
     .rate_limit = "off",
     .conn_extra = NO_LIMIT,
     .exact_requests = 1,
     .src = "{\"includeDataModels\":false}"},
    /* test_mode_faults */
    {.name = "repeating-listings",
     .seed = "12",
     .spaces = "2",
     .reports = "40",
     .faults = "repeat-pages",
     .rate_limit = "off",
     .conn_extra = NO_LIMIT,
     .allow_skipped = 1},
    {.name = "5xx-resets-truncated-malformed",
     .seed = "13",
     .spaces = "2",
     .reports = "35",
     .faults = "5xx=0.08,reset=0.04,truncate=0.04,malformed=0.04,slow=0.03",
     .rate_limit = "off",
     .conn_extra = NO_LIMIT},
    {.name = "burst-of-503",
     .seed = "14",
     .spaces = "2",
     .reports = "20",
     .faults = "burst=503:12",
     .rate_limit = "off",
     .conn_extra = NO_LIMIT},
    {.name = "429-storm",
     .seed = "15",
     .spaces = "1",
     .reports = "25",
     .rate_limit = "40/1",
     .conn_extra = NO_LIMIT ",\"concurrency\":16"},
    {.name = "404-after-list",
     .seed = "16",
     .spaces = "2",
     .reports = "30",
     .faults = "404-after-list=0.1",
     .rate_limit = "off",
     .conn_extra = NO_LIMIT,
     .allow_skipped = 1},
};

/* Items the plugin said it skipped, as mode_compare.py arguments: "[report X] ... HTTP 404"
 * (deleted since listed) and "[collection X] ... repeated page" (a listing that cannot be
 * paged). Returns the number of arguments added. */
static int skipped_args(const char *err, char **argv, int max) {
  int n = 0;
  for (const char *line = err; line && *line && n + 2 <= max; line = strchr(line, '\n')) {
    if (*line == '\n')
      line++;
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    char buf[1024], tok[64];
    snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), line);
    if (strstr(buf, "HTTP 404") && sscanf(buf, "diag warning [report %63[^]]]", tok) == 1) {
      argv[n++] = strdup("--allow-missing-report");
      argv[n++] = strdup(tok);
    } else if (strstr(buf, "repeated page") &&
               sscanf(buf, "diag warning lost [collection %63[^]]]", tok) == 1) {
      argv[n++] = strdup("--allow-missing-space");
      argv[n++] = strdup(tok);
    }
    if (end == NULL)
      break;
  }
  return n;
}

START_TEST(generated_workspace_equals_ground_truth) {
  const struct gen *g = &gens[_i];
  struct test_server srv = {0};
  struct run r;
  char *dir = test_tmpdir();
  char *gt = test_path("%s/gt.json", dir);
  const char *extra[24] = {"--workspace",
                           "gen",
                           "--seed",
                           g->seed,
                           "--spaces",
                           g->spaces,
                           "--reports-per-space",
                           g->reports,
                           "--queries-per-report",
                           "2",
                           "--charts-per-query",
                           "2",
                           "--users",
                           "6",
                           "--data-sources",
                           g->data_sources ? g->data_sources : "3",
                           "--rate-limit",
                           g->rate_limit,
                           "--ground-truth",
                           gt};
  int n = 20;
  if (g->faults) {
    extra[n++] = "--faults";
    extra[n++] = g->faults;
  }
  extra[n] = NULL;
  start_sim(&srv, extra);
  run_driver(&r, &srv, "gen", SECRET, g->conn_extra, g->src, NULL, NULL);
  ck_assert_msg(r.status == 0, "%s: driver failed: %.2000s", g->name, r.err);
  /* With resets curl may resend on a fresh connection by itself: count equality only holds
   * on a clean run. */
  if (g->exact_requests)
    ck_assert_int_eq(r.requests, sim_stat(&srv, "requests"));

  char *script = test_path("%s/tests/e2e/mode_compare.py", test_srcdir());
  char reqs[32];
  snprintf(reqs, sizeof reqs, "%ld", r.requests);
  /* Strict: every lineage table of every query (all Liquid branches) must match. */
  char *argv[64] = {(char *)python(), script, gt, r.out_path};
  int a = 4;
  if (g->exact_requests) {
    argv[a++] = "--requests";
    argv[a++] = reqs;
  }
  if (g->src && strstr(g->src, "\"includeDataModels\":false"))
    argv[a++] = "--no-data-models";
  int first_dyn = a;
  if (g->allow_skipped)
    a += skipped_args(r.err, argv + a, 56);
  argv[a] = NULL;
  char *out = NULL, *err = NULL;
  int st = test_run(argv, NULL, &out, &err);
  ck_assert_msg(st == 0, "%s: output differs from the ground truth:\n%.3000s", g->name, out);
  if (g->allow_skipped) {
    ck_assert_msg(a > first_dyn, "%s: no skipped item was reported", g->name);
  } else {
    ck_assert_msg(r.items_lost == 0, "%s: items lost: %.2000s", g->name, r.err);
  }
  if (strcmp(g->name, "paged") == 0)
    ck_assert_int_eq(sim_stat(&srv, "rate_limited"), 0);
  if (strcmp(g->name, "429-storm") == 0)
    ck_assert_msg(r.throttled > 0, "the storm did not happen");
  for (int k = first_dyn; k < a; k++)
    free(argv[k]);
  free(out), free(err), free(script);
  run_free(&r);
  test_server_stop(&srv);
  test_rmtree(dir);
  free(dir), free(gt);
}
END_TEST

START_TEST(configured_rate_stays_under_the_limit) {
  /* Mode's limit scaled to 20 per 1 s (the arithmetic of 40 per 10 s, ten times faster so the
   * test is short) and the plugin's ceiling just under it: no 429 over 60-odd requests. The
   * benchmark checks the default rate against the real 40 per 10 s. */
  struct test_server srv = {0};
  struct run r;
  const char *extra[] = {"--workspace",
                         "gen",
                         "--seed",
                         "21",
                         "--spaces",
                         "1",
                         "--reports-per-space",
                         "20",
                         "--queries-per-report",
                         "2",
                         "--charts-per-query",
                         "1",
                         "--users",
                         "2",
                         "--data-sources",
                         "2",
                         "--rate-limit",
                         "20/1",
                         NULL};
  start_sim(&srv, extra);
  run_driver(&r, &srv, "gen", SECRET, ",\"requestsPerSecond\":19,\"concurrency\":8", NULL, NULL,
             NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_int_eq(sim_stat(&srv, "rate_limited"), 0);
  ck_assert_int_eq(r.throttled, 0);
  ck_assert_int_gt(r.requests, 40);
  run_free(&r);
  test_server_stop(&srv);
}
END_TEST

START_TEST(interrupt_stops_promptly) {
  struct test_server srv = {0};
  struct run r;
  const char *extra[] = {
      "--workspace",  "gen", "--seed",       "31",  "--spaces", "5", "--reports-per-space", "30",
      "--latency-ms", "400", "--rate-limit", "off", NULL};
  start_sim(&srv, extra);
  run_driver(&r, &srv, "gen", SECRET, ",\"requestsPerSecond\":0", NULL, "--interrupt-after-ms",
             "700");
  ck_assert_int_eq(r.status, 5); /* ETL_ERR_CANCELLED */
  const char *s = strstr(r.err, "\"stop_after_interrupt_s\":");
  ck_assert_ptr_nonnull(s);
  double after = atof(s + strlen("\"stop_after_interrupt_s\":"));
  ck_assert_msg(after >= 0 && after < 0.5, "stopped %.3f s after the interrupt", after);
  run_free(&r);
  test_server_stop(&srv);
}
END_TEST

/* A wrong secret is one clear error, not one per request that was in flight (the plugin
 * starts the listings, data sources and definitions together). */
START_TEST(wrong_secret_is_reported_once) {
  struct test_server srv = {0};
  struct run r;
  const char *extra[] = {"--workspace", "gen", "--rate-limit", "off", NULL};
  start_sim(&srv, extra);
  /* How many 401s come back before the plugin stops depends on timing: try a few times. */
  for (int i = 0; i < 10; i++) {
    run_driver(&r, &srv, "gen", "wrong-secret", NO_LIMIT, NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 4); /* ETL_ERR_AUTH */
    const char *first = strstr(r.err, "credentials refused (HTTP 401)");
    ck_assert_ptr_nonnull(first);
    ck_assert_msg(strstr(first + 1, "credentials refused") == NULL, "401 reported twice:\n%s",
                  r.err);
    run_free(&r);
  }
  ck_assert_int_ge(sim_stat(&srv, "requests"), 20);
  test_server_stop(&srv);
}
END_TEST

/* A server error names its HTTP status and Mode's own message ("HTTP 503: Something went
 * wrong on our end."), not the message alone. */
START_TEST(server_errors_name_the_status) {
  struct test_server srv = {0};
  struct run r;
  const char *extra[] = {"--workspace", "gen", "--rate-limit", "off", "--faults", "5xx=1", NULL};
  start_sim(&srv, extra);
  run_driver(&r, &srv, "gen", SECRET, NO_LIMIT ",\"maxRetries\":0", NULL, NULL, NULL);
  ck_assert_int_ne(r.status, 0);
  const char *e = strstr(r.err, "[collections] cannot list (page 1): HTTP 50");
  ck_assert_msg(e != NULL, "no status in:\n%s", r.err);
  ck_assert_msg(strstr(e, ": Something went wrong on our end.") != NULL, "no message in:\n%s",
                r.err);
  run_free(&r);
  test_server_stop(&srv);
}
END_TEST

/* A wrong workspaceName: one error, not the data sources and definitions 404s first (they are
 * held until the collections listing shows the workspace exists). A 404 on definitions in an
 * existing workspace is still a warning. */
START_TEST(wrong_workspace_is_one_error) {
  struct test_server srv = {0};
  struct run r;
  const char *extra[] = {"--workspace", "gen", "--rate-limit", "off", NULL};
  start_sim(&srv, extra);
  for (int i = 0; i < 5; i++) {
    run_driver(&r, &srv, "nosuchws", SECRET, NO_LIMIT, NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 3); /* ETL_ERR_CONFIG */
    ck_assert_ptr_nonnull(strstr(r.err, "workspace 'nosuchws' not found"));
    ck_assert_msg(strstr(r.err, "diag warning") == NULL, "more than the error:\n%s", r.err);
    run_free(&r);
  }
  test_server_stop(&srv);
  /* The second API request answers 404 (the data sources, definitions and collections requests
   * go out together): whichever it hits, nothing is swallowed. */
  const char *extra404[] = {"--workspace",   "gen", "--rate-limit", "off", "--faults",
                            "burst=404:1@2", NULL};
  start_sim(&srv, extra404);
  run_driver(&r, &srv, "gen", SECRET, NO_LIMIT, NULL, NULL, NULL);
  if (r.status == 0)
    ck_assert_msg(strstr(r.err, "diag warning [definitions] HTTP 404") ||
                      strstr(r.err, "diag warning [data sources] HTTP 404"),
                  "the 404 was not reported:\n%s", r.err);
  else
    ck_assert_msg(strstr(r.err, "workspace 'gen' not found"), "%s", r.err);
  run_free(&r);
  test_server_stop(&srv);
}
END_TEST

/* The charts of a report's queries arrive in whatever order the server answers; the dashboard
 * must list them in the report's order (as the ground truth does), or an unchanged report
 * gives a different record on every run and every sink sees a spurious update. */
START_TEST(dashboard_charts_keep_the_report_order) {
  struct test_server srv = {0};
  struct run r;
  char *dir = test_tmpdir();
  char *gt = test_path("%s/gt.json", dir);
  const char *extra[] = {"--workspace",
                         "gen",
                         "--seed",
                         "17",
                         "--spaces",
                         "2",
                         "--reports-per-space",
                         "8",
                         "--charts-per-query",
                         "3",
                         "--latency-ms",
                         "0:40",
                         "--rate-limit",
                         "off",
                         "--ground-truth",
                         gt,
                         NULL};
  start_sim(&srv, extra);
  run_driver(&r, &srv, "gen", SECRET, ",\"requestsPerSecond\":0", NULL, NULL, NULL);
  ck_assert_msg(r.status == 0, "driver failed: %.2000s", r.err);
  struct records rs;
  load_records(&rs, r.out_path);
  char *text = test_read_file(gt, NULL);
  ck_assert_ptr_nonnull(text);
  yajl_val truth = yajl_tree_parse(text, NULL, 0);
  ck_assert_ptr_nonnull(truth);
  const char *rpath[] = {"reports", NULL};
  yajl_val reports = yajl_tree_get(truth, rpath, yajl_t_array);
  ck_assert_ptr_nonnull(reports);
  size_t checked = 0;
  for (size_t i = 0; i < YAJL_GET_ARRAY(reports)->len; i++) {
    yajl_val rep = YAJL_GET_ARRAY(reports)->values[i];
    const char *tpath[] = {"token", NULL}, *cpath[] = {"charts", NULL};
    const char *token = YAJL_GET_STRING(yajl_tree_get(rep, tpath, yajl_t_string));
    yajl_val want = yajl_tree_get(rep, cpath, yajl_t_array);
    yajl_val dash = find(&rs, "dashboard", token);
    ck_assert_msg(dash != NULL, "report %s: no dashboard", token);
    const char *gpath[] = {"data", "charts", NULL};
    yajl_val got = yajl_tree_get(dash, gpath, yajl_t_array);
    ck_assert_int_eq(YAJL_GET_ARRAY(got)->len, YAJL_GET_ARRAY(want)->len);
    for (size_t k = 0; k < YAJL_GET_ARRAY(want)->len; k++) {
      const char *wt =
          YAJL_GET_STRING(yajl_tree_get(YAJL_GET_ARRAY(want)->values[k], tpath, yajl_t_string));
      const char *fqn = YAJL_GET_STRING(YAJL_GET_ARRAY(got)->values[k]);
      const char *dot = fqn ? strrchr(fqn, '.') : NULL;
      ck_assert_msg(dot && strcmp(dot + 1, wt) == 0, "report %s: chart %zu is %s, want %s", token,
                    k, fqn ? fqn : "(null)", wt);
    }
    checked += YAJL_GET_ARRAY(want)->len > 1;
  }
  ck_assert_msg(checked > 5, "too few reports with several charts (%zu)", checked);
  yajl_tree_free(truth);
  free(text);
  free_records(&rs);
  run_free(&r);
  test_server_stop(&srv);
  test_rmtree(dir);
  free(dir), free(gt);
}
END_TEST

/* Built twice: test_mode_e2e (clean runs) and test_mode_faults (MODE_E2E_FAULTS), so that
 * each suite stays short and make check runs them side by side. */
#ifdef MODE_E2E_FAULTS
static const int faults_suite = 1;
#else
static const int faults_suite = 0;
#endif

#ifndef __SANITIZE_ADDRESS__
/* Memory follows bytes in flight, not reports (issue 14 item 7): while the creators' lookups
 * stall, 100 reports with 1.5 MB queries each wait for them. Holding them all took about
 * 150 MB; the crawl holds at most 32 MB of query text (plus the requests out) before new
 * reports wait. tests/bench/memory-bench measures the same at 4 MB. */
START_TEST(memory_is_bounded_by_bytes_not_reports) {
  struct test_server srv = {0};
  struct run r;
  const char *extra[] = {"--workspace",
                         "gen",
                         "--seed",
                         "41",
                         "--spaces",
                         "8",
                         "--reports-per-space",
                         "25",
                         "--queries-per-report",
                         "1",
                         "--charts-per-query",
                         "1",
                         "--users",
                         "2",
                         "--rate-limit",
                         "off",
                         "--faults",
                         "pad-queries=1572864,stall-users=10000",
                         NULL};
  start_sim(&srv, extra);
  run_driver(&r, &srv, "gen", SECRET, NO_LIMIT, "{\"includeOwners\":true}", NULL, NULL);
  ck_assert_msg(r.status == 0, "exit %d:\n%s", r.status, r.err);
  long rss_kb = summary_num(r.err, "peak_rss_kb");
  long bytes = summary_num(r.err, "bytes");
  ck_assert_int_gt(bytes, 250L << 20); /* the queries did come, padded */
  /* Bounded by the bytes in flight (about 32 MB of query text, plus parse buffers): about 70 MB
   * here for 100, 200 or 400 reports. While a creator lookup stalled, one more report's queries
   * came in per round trip past the bound: 120-240 MB with 5 s stalls (below 100 MB on a slow
   * run), about 370 MB with the 10 s stalls used here. */
  ck_assert_msg(rss_kb > 0 && rss_kb < 100L * 1024, "peak RSS %ld kB for %ld bytes received",
                rss_kb, bytes);
  run_free(&r);
  test_server_stop(&srv);
}
END_TEST
#endif

int main(void) {
  Suite *s = suite_create(faults_suite ? "mode_faults" : "mode_e2e");
  TCase *tc = tcase_create("e2e");
  tcase_set_timeout(tc, 60);
  if (!faults_suite) {
    tcase_add_test(tc, recorded_workspace_gives_the_expected_entities);
    tcase_add_test(tc, connection_test_verdicts);
    tcase_add_test(tc, auth_and_config_errors_stop_the_run);
    tcase_add_loop_test(tc, generated_workspace_equals_ground_truth, 0, 3);
    tcase_add_test(tc, interrupt_stops_promptly);
    tcase_add_test(tc, dashboard_charts_keep_the_report_order);
    tcase_add_test(tc, wrong_secret_is_reported_once);
    tcase_add_test(tc, server_errors_name_the_status);
    tcase_add_test(tc, wrong_workspace_is_one_error);
  } else {
    tcase_add_loop_test(tc, generated_workspace_equals_ground_truth, 3,
                        (int)(sizeof gens / sizeof gens[0]));
    tcase_add_test(tc, configured_rate_stays_under_the_limit);
  }
  suite_add_tcase(s, tc);
#ifndef __SANITIZE_ADDRESS__ /* RSS means nothing under ASan's shadow memory, and it is slow */
  if (faults_suite) {
    TCase *mem = tcase_create("memory");
    tcase_set_timeout(mem, 180);
    tcase_add_test(mem, memory_is_bounded_by_bytes_not_reports);
    suite_add_tcase(s, mem);
  }
#endif
  return test_run_suite(s);
}
