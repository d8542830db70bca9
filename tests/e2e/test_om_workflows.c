/*
 * test_om_workflows.c -- OpenMetadata's own Mode workflows (tests/fixtures/openmetadata-
 * workflows/, README there) run unchanged: each file is loaded as etlhost loads it, then run
 * with `etlhost run` against mode-sim into a scratch sqlite catalog (only the Mode URL and
 * credentials and the sink are replaced). Every key of serviceConnection.config,
 * sourceConfig.config (with lineageInformation's) and workflowConfig must be classified below:
 * honoured (no warning names it), renamed (exactly one warning, "spell it"), or a no-op (exactly
 * one one-line warning saying it does nothing and why). No key is refused, none is left
 * unclassified, and what the honoured keys ask for shows in the catalog.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "e2eutil.h"
#include "testutil.h"
#include "workflow.h"

#define TOKEN "tok-omwf"
#define SECRET "sec-omwf-S3CR3T"

enum expect { HONOURED, RENAMED, NOOP };

struct key_expect {
  const char *path; /* as etlhost prints it */
  enum expect e;
};

#define CONN "source.serviceConnection.config."
#define SRC "source.sourceConfig.config."
#define WFC "workflowConfig."

static const struct key_expect snake_connection[] = {
    {CONN "type", HONOURED},          {CONN "hostPort", HONOURED},
    {CONN "access_token", RENAMED},   {CONN "access_token_password", RENAMED},
    {CONN "workspace_name", RENAMED}, {NULL, HONOURED}};

static const struct key_expect cli_013[] = {
    {CONN "type", HONOURED},
    {CONN "access_token", RENAMED},
    {CONN "access_token_password", RENAMED},
    {CONN "workspace_name", RENAMED},
    {SRC "type", HONOURED},
    {SRC "includeOwner", RENAMED},
    {SRC "markDeletedDashboards", HONOURED}, /* true: the catalog marks deleted */
    {SRC "includeTags", NOOP},
    {WFC "openMetadataServerConfig", NOOP}, /* the sink here is sqlite */
    {NULL, HONOURED}};

static const struct key_expect yaml_12[] = {{SRC "type", HONOURED},
                                            {WFC "loggerLevel", HONOURED},
                                            {WFC "openMetadataServerConfig", NOOP},
                                            {NULL, HONOURED}};

static const struct key_expect yaml_17[] = {{SRC "type", HONOURED},
                                            {SRC "lineageInformation", HONOURED},
                                            {SRC "lineageInformation.dbServiceNames", HONOURED},
                                            {SRC "dashboardFilterPattern", HONOURED},
                                            {SRC "chartFilterPattern", HONOURED},
                                            {SRC "projectFilterPattern", HONOURED},
                                            {SRC "dataModelFilterPattern", HONOURED},
                                            {SRC "includeOwners", HONOURED},
                                            {SRC "markDeletedDashboards", HONOURED},
                                            {SRC "markDeletedDataModels", HONOURED},
                                            {SRC "includeTags", NOOP},
                                            {SRC "includeDataModels", HONOURED},
                                            {SRC "includeDraftDashboard", HONOURED},
                                            {SRC "overrideMetadata", NOOP},
                                            {SRC "overrideLineage", HONOURED},
                                            {WFC "loggerLevel", HONOURED},
                                            {WFC "openMetadataServerConfig", NOOP},
                                            {NULL, HONOURED}};

static const struct key_expect every_key[] = {
    {CONN "type", HONOURED},
    {CONN "hostPort", HONOURED},
    {CONN "accessToken", HONOURED},
    {CONN "accessTokenPassword", HONOURED},
    {CONN "workspaceName", HONOURED},
    {CONN "filterQueryParam", HONOURED},
    {CONN "dashboardFilterPattern", HONOURED}, /* replaced by sourceConfig's, as documented */
    {CONN "chartFilterPattern", HONOURED},
    {CONN "dataModelFilterPattern", HONOURED},
    {CONN "projectFilterPattern", HONOURED},
    {CONN "supportsMetadataExtraction", NOOP},
    {SRC "type", HONOURED},
    {SRC "lineageInformation", HONOURED},
    {SRC "lineageInformation.dbServicePrefixes", HONOURED},
    {SRC "lineageInformation.dbServiceNames", HONOURED},
    {SRC "dbServiceNames", HONOURED},
    {SRC "dashboardFilterPattern", HONOURED},
    {SRC "chartFilterPattern", HONOURED},
    {SRC "dataModelFilterPattern", HONOURED},
    {SRC "projectFilterPattern", HONOURED},
    {SRC "includeOwners", HONOURED},
    {SRC "markDeletedDashboards", NOOP}, /* false: the sqlite catalog marks deleted anyway */
    {SRC "markDeletedDataModels", HONOURED},
    {SRC "includeTags", HONOURED},
    {SRC "includeDataModels", HONOURED},
    {SRC "includeDraftDashboard", NOOP},
    {SRC "overrideMetadata", HONOURED},
    {SRC "overrideLineage", NOOP},
    {WFC "loggerLevel", HONOURED},
    {WFC "openMetadataServerConfig", NOOP},
    {WFC "config", NOOP},
    {NULL, HONOURED}};

/* What the honoured keys ask for, as catalog queries that must return 1. */
static const char *const every_key_effects[] = {
    "SELECT count(*) = 0 FROM entities WHERE kind = 'dashboardDataModel'", /* includeDataModels */
    "SELECT count(*) > 0 FROM entities WHERE kind = 'dashboard' AND json LIKE '%\"owners\"%'",
    "SELECT count(*) > 0 FROM entities WHERE kind = 'dashboard'",
    "SELECT count(*) = 0 FROM entities WHERE kind = 'dashboard' AND "
    "json_extract(json, '$.data.displayName') LIKE '%#2'", /* dashboardFilterPattern */
    "SELECT count(*) = 0 FROM entities WHERE kind = 'chart' AND "
    "json_extract(json, '$.data.displayName') LIKE '%chart 2'", /* chartFilterPattern */
    NULL};

static const char *const yaml_17_effects[] = {
    /* dashboardFilterPattern includes only dashboard1 and dashboard2: none in the workspace */
    "SELECT count(*) = 0 FROM entities WHERE kind = 'dashboard'",
    "SELECT count(*) = 1 FROM entities WHERE kind = 'dashboardService'", NULL};

static const struct {
  const char *file;
  const struct key_expect *keys, *more;
  const char *const *effects;
} fixtures[] = {
    {"mode-cli-0.13.yaml", cli_013, NULL, NULL},
    {"mode-yaml-1.2.yaml", yaml_12, snake_connection, NULL},
    {"mode-yaml-1.7-documented-defaults.yaml", yaml_17, snake_connection, yaml_17_effects},
    {"dashboard-pipeline-every-key.yaml", every_key, NULL, every_key_effects},
};

/* ---- the keys of a workflow file ------------------------------------------------------- */

struct keys {
  char **v;
  size_t n;
};

static void add_keys(struct keys *k, const char *prefix, const struct host_node *map, int depth) {
  for (size_t i = 0; map && map->type == HOST_NODE_MAP && i < map->n; i++) {
    k->v = realloc(k->v, (k->n + 1) * sizeof *k->v);
    k->v[k->n++] = test_path("%s%s", prefix, map->keys[i]);
    /* lineageInformation's keys are settings of their own; filter patterns are values. */
    if (depth == 0 && strcmp(map->keys[i], "lineageInformation") == 0) {
      char *sub = test_path("%s%s.", prefix, map->keys[i]);
      add_keys(k, sub, map->kids[i], 1);
      free(sub);
    }
  }
}

/* Loads the fixture as etlhost does; every key of the three documents into *k. */
static void fixture_keys(const char *path, struct keys *k) {
  FILE *devnull = fopen("/dev/null", "w");
  struct host_log *log = host_log_new(devnull, ETL_SEV_ERROR);
  struct host_workflow *wf = NULL;
  ck_assert_msg(host_workflow_load(path, log, &wf) == 0, "%s does not load", path);
  add_keys(k, CONN, wf->sources[0].connection, 0);
  add_keys(k, SRC, wf->sources[0].source_config, 0);
  add_keys(k, WFC, wf->workflow_config, 0);
  host_workflow_free(&wf);
  host_log_free(&log);
  fclose(devnull);
}

/* ---- the run --------------------------------------------------------------------------- */

static int starts(const char *line, const char *word) {
  return strncmp(line, word, strlen(word)) == 0;
}

/* The key of an indented "key: value" line into key (empty when none). */
static void line_key(const char *line, char *key, size_t cap) {
  const char *p = line + strspn(line, " ");
  size_t n = strcspn(p, ":");
  if (*p == '#' || p[n] != ':' || n >= cap)
    n = 0;
  memcpy(key, p, n);
  key[n] = '\0';
}

/* The fixture with the Mode URL, credentials and workspace of the simulator, no client-side
 * rate limit (a simulator), and the sink replaced by a sqlite catalog in dir. */
static char *rewrite(const char *text, const char *url, const char *dir) {
  char *out = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&out, &size);
  const char *sink = strstr(text, "\nsink:");
  const char *host = strstr(text, "      hostPort:");
  int has_host = host && (!sink || host < sink);
  int section = 0; /* 1 source, 2 sink, 3 other */
  for (const char *p = text; *p;) {
    size_t len = strcspn(p, "\n");
    char *line = strndup(p, len);
    p += len + (p[len] == '\n');
    if (*line && *line != ' ' && *line != '#') {
      section = starts(line, "source:") ? 1 : starts(line, "sink:") ? 2 : 3;
      if (section == 2)
        fprintf(f, "sink:\n  type: sqlite\n  config:\n    path: %s/cat.db\n", dir);
    }
    char key[64];
    line_key(line, key, sizeof key);
    int indent = (int)strspn(line, " ");
    if (section == 2) {
      /* the sink block is replaced */
    } else if (section == 1 && strcmp(key, "hostPort") == 0) {
      fprintf(f, "%*shostPort: %s\n", indent, "", url);
    } else if (section == 1 &&
               (strcmp(key, "access_token") == 0 || strcmp(key, "accessToken") == 0)) {
      fprintf(f, "%*s%s: " TOKEN "\n", indent, "", key);
    } else if (section == 1 && (strcmp(key, "access_token_password") == 0 ||
                                strcmp(key, "accessTokenPassword") == 0)) {
      fprintf(f, "%*s%s: " SECRET "\n", indent, "", key);
    } else if (section == 1 &&
               (strcmp(key, "workspace_name") == 0 || strcmp(key, "workspaceName") == 0)) {
      fprintf(f, "%*s%s: ws\n", indent, "", key);
    } else {
      fprintf(f, "%s\n", line);
      if (section == 1 && strcmp(key, "type") == 0 && strstr(line, "Mode")) {
        fprintf(f, "%*srequestsPerSecond: 0\n", indent, "");
        if (!has_host)
          fprintf(f, "%*shostPort: %s\n", indent, "", url);
      }
    }
    free(line);
  }
  fclose(f);
  return out;
}

/* Warning lines of log that name `path` as their key. */
static int warnings_naming(const char *log, const char *path, const char *must_say) {
  char *pat = test_path(": warning: %s: ", path);
  int n = 0;
  for (const char *p = log; (p = strstr(p, pat)) != NULL; p += strlen(pat)) {
    const char *eol = strchr(p, '\n');
    char *line = strndup(p, eol ? (size_t)(eol - p) : strlen(p));
    ck_assert_msg(must_say == NULL || strstr(line, must_say) != NULL, "%s: '%s' lacks '%s'", path,
                  line, must_say);
    free(line);
    n++;
  }
  free(pat);
  return n;
}

static const struct key_expect *lookup(const struct key_expect *t, const char *path) {
  for (; t && t->path; t++)
    if (strcmp(t->path, path) == 0)
      return t;
  return NULL;
}

START_TEST(openmetadata_workflow_runs_unchanged) {
  char *fixture =
      test_path("%s/tests/fixtures/openmetadata-workflows/%s", test_srcdir(), fixtures[_i].file);
  struct keys k = {0};
  fixture_keys(fixture, &k);

  struct test_server srv = {0};
  const char *shape[] = {"--workspace", "ws", "--seed", "5", "--spaces", "2",
                         "--reports-per-space", "4", NULL};
  test_mode_sim_start(&srv, 0, TOKEN, SECRET, shape, NULL);
  char *dir = test_tmpdir();
  char *text = test_read_file(fixture, NULL);
  ck_assert_ptr_nonnull(text);
  char *yaml = rewrite(text, srv.base_url, dir);
  char *wf = test_path("%s/%s", dir, fixtures[_i].file);
  ck_assert_int_eq(test_write_file(wf, yaml), 0);
  const char *args[] = {"run", wf, NULL};
  char *err = NULL;
  int status = test_etlhost_run(args, NULL, &err);
  ck_assert_msg(status == 0, "%s: exit %d:\n%s", fixtures[_i].file, status, err);
  ck_assert_msg(strstr(err, "error:") == NULL && strstr(err, "unknown key") == NULL,
                "%s: refused or unknown keys:\n%s", fixtures[_i].file, err);
  ck_assert_msg(strstr(err, "S3CR3T") == NULL, "the secret appears in the log");

  for (size_t i = 0; i < k.n; i++) {
    const struct key_expect *x = lookup(fixtures[_i].keys, k.v[i]);
    if (x == NULL)
      x = lookup(fixtures[_i].more, k.v[i]);
    ck_assert_msg(x != NULL, "%s: %s is not classified: honoured or a warned no-op?",
                  fixtures[_i].file, k.v[i]);
    int n = warnings_naming(err, k.v[i],
                            x->e == NOOP      ? "does nothing"
                            : x->e == RENAMED ? "spell it"
                                              : NULL);
    ck_assert_msg(n == (x->e == HONOURED ? 0 : 1), "%s: %s: %d warning(s), want %d:\n%s",
                  fixtures[_i].file, k.v[i], n, x->e == HONOURED ? 0 : 1, err);
  }
  for (const char *const *q = fixtures[_i].effects; q && *q; q++)
    ck_assert_msg(test_catalog_num(dir, *q) == 1, "%s: not so: %s", fixtures[_i].file, *q);

  for (size_t i = 0; i < k.n; i++)
    free(k.v[i]);
  free(k.v);
  test_server_stop(&srv);
  test_rmtree(dir);
  free(err), free(wf), free(yaml), free(text), free(dir), free(fixture);
}
END_TEST

int main(void) {
  Suite *s = suite_create("om_workflows");
  TCase *tc = tcase_create("workflows");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, openmetadata_workflow_runs_unchanged, 0,
                      (int)(sizeof fixtures / sizeof fixtures[0]));
  suite_add_tcase(s, tc);
  return test_run_suite(s);
}
