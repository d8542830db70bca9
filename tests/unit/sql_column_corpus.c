/*
 * sql-column-corpus -- runs the public column corpus through `etl-sql-lineage --columns` and
 * compares each case's expected "columns" with what the CLI prints:
 *
 *   sql-column-corpus CLI CORPUS_DIR
 *
 * CORPUS_DIR holds cases.json (format in its README.md) and known-disagreements.txt (one
 * "<id> <reason>" a line, '#' comments). Each case runs as
 * `CLI --columns --dialect D [--schema FILE] FILE`; only the "columns" member of the output is
 * compared (the table corpus holds sources and targets), entry by entry, in order.
 *
 * Prints a "# ..." line per disagreement and a summary line. Exit status: 0 when every case
 * agrees or is listed with its reason; 1 on a disagreement that is not listed, a listed case
 * that now agrees, a listed id that is no case, or a malformed corpus; 77 (automake's SKIP)
 * when the CLI says it has no --columns option. tests/unit/test_sql_column_corpus.sh runs it
 * on the corpus and on a fake CLI.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl_gen.h>
#include <yajl_tree.h>

#include "testutil.h"

#define EXIT_SKIP 77

struct known {
  char *id;     /* owned */
  char *reason; /* owned */
  int seen;     /* the case exists */
};

struct corpus {
  char *dir; /* owned: a scratch directory for each case's files */
  const char *cli;
  struct known *known; /* owned */
  size_t n_known;
};

/* A growable string. */
struct text {
  char *s; /* owned */
  size_t len, cap;
};

static void text_add(struct text *t, const char *s, size_t n) {
  if (t->len + n + 1 > t->cap) {
    t->cap = (t->len + n + 1) * 2;
    t->s = realloc(t->s, t->cap);
    if (!t->s)
      abort();
  }
  memcpy(t->s + t->len, s, n);
  t->len += n;
  t->s[t->len] = '\0';
}

static void text_str(struct text *t, const char *s) {
  text_add(t, s, strlen(s));
}

static const char *str_field(yajl_val obj, const char *name) {
  const char *p[] = {name, NULL};
  yajl_val v = yajl_tree_get(obj, p, yajl_t_string);
  return v ? YAJL_GET_STRING(v) : NULL;
}

/* Writes a "columns" array as `name <- [s1, s2]; ...` into *out (malloc'd). Returns -1 when
 * it is not an array of {"name": string, "sources": [string, ...]}. */
static int columns_text(yajl_val cols, char **out) {
  struct text t = {0};
  text_str(&t, "");
  if (!cols || !YAJL_IS_ARRAY(cols))
    goto bad;
  for (size_t i = 0; i < YAJL_GET_ARRAY(cols)->len; i++) {
    yajl_val c = YAJL_GET_ARRAY(cols)->values[i];
    const char *name = str_field(c, "name");
    const char *p[] = {"sources", NULL};
    yajl_val src = yajl_tree_get(c, p, yajl_t_array);
    if (!name || !src)
      goto bad;
    text_str(&t, i ? "; " : "");
    text_str(&t, name);
    text_str(&t, " <- [");
    for (size_t k = 0; k < YAJL_GET_ARRAY(src)->len; k++) {
      yajl_val s = YAJL_GET_ARRAY(src)->values[k];
      if (!YAJL_IS_STRING(s))
        goto bad;
      text_str(&t, k ? ", " : "");
      text_str(&t, YAJL_GET_STRING(s));
    }
    text_str(&t, "]");
  }
  *out = t.s;
  return 0;
bad:
  free(t.s);
  return -1;
}

/* ---- known disagreements ------------------------------------------------------------------ */

static int load_known(struct corpus *cp, const char *path) {
  char *text = test_read_file(path, NULL);
  if (!text) {
    printf("# %s: cannot read\n", path);
    return -1;
  }
  int rc = 0, line_no = 0;
  for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    line_no++;
    while (*line == ' ' || *line == '\t')
      line++;
    if (*line == '#' || *line == '\0')
      continue;
    size_t idlen = strcspn(line, " \t");
    const char *reason = line + idlen;
    while (*reason == ' ' || *reason == '\t')
      reason++;
    if (*reason == '\0') {
      printf("# %s: line %d: '%.*s' has no reason\n", path, line_no, (int)idlen, line);
      rc = -1;
      continue;
    }
    cp->known = realloc(cp->known, (cp->n_known + 1) * sizeof *cp->known);
    if (!cp->known)
      abort();
    cp->known[cp->n_known++] = (struct known){strndup(line, idlen), strdup(reason), 0};
  }
  free(text);
  return rc;
}

static struct known *find_known(struct corpus *cp, const char *id) {
  for (size_t i = 0; i < cp->n_known; i++)
    if (strcmp(cp->known[i].id, id) == 0)
      return &cp->known[i];
  return NULL;
}

/* ---- running the CLI --------------------------------------------------------------------- */

/* Writes {"table": ["col", ...]} as the CLI's --schema file. */
static int write_schema(yajl_val schema, const char *path) {
  yajl_gen g = yajl_gen_alloc(NULL);
  const unsigned char *buf;
  size_t len;
  int rc = -1;
  if (!YAJL_IS_OBJECT(schema))
    goto out;
  yajl_gen_map_open(g);
  for (size_t i = 0; i < YAJL_GET_OBJECT(schema)->len; i++) {
    const char *table = YAJL_GET_OBJECT(schema)->keys[i];
    yajl_val cols = YAJL_GET_OBJECT(schema)->values[i];
    if (!YAJL_IS_ARRAY(cols))
      goto out;
    yajl_gen_string(g, (const unsigned char *)table, strlen(table));
    yajl_gen_array_open(g);
    for (size_t k = 0; k < YAJL_GET_ARRAY(cols)->len; k++) {
      const char *c = YAJL_GET_STRING(YAJL_GET_ARRAY(cols)->values[k]);
      if (!c)
        goto out;
      yajl_gen_string(g, (const unsigned char *)c, strlen(c));
    }
    yajl_gen_array_close(g);
  }
  yajl_gen_map_close(g);
  yajl_gen_get_buf(g, &buf, &len);
  char *text = strndup((const char *)buf, len);
  rc = test_write_file(path, text);
  free(text);
out:
  yajl_gen_free(g);
  return rc;
}

/* Runs the CLI on sql; *out and *err get its output (malloc'd). Returns its exit status. */
static int run_cli(struct corpus *cp, const char *sql, const char *dialect, yajl_val schema,
                   char **out, char **err) {
  char *sql_path = test_path("%s/case.sql", cp->dir);
  char *schema_path = test_path("%s/schema.json", cp->dir);
  char *argv[10];
  int n = 0, status = -1;
  *out = *err = NULL;
  if (test_write_file(sql_path, sql) != 0 || (schema && write_schema(schema, schema_path) != 0)) {
    *err = strdup("cannot write the case's files");
    goto out;
  }
  argv[n++] = (char *)cp->cli;
  argv[n++] = "--columns";
  argv[n++] = "--dialect";
  argv[n++] = (char *)dialect;
  if (schema) {
    argv[n++] = "--schema";
    argv[n++] = schema_path;
  }
  argv[n++] = sql_path;
  argv[n] = NULL;
  status = test_run(argv, NULL, out, err);
out:
  free(sql_path);
  free(schema_path);
  return status;
}

/* True when the CLI refuses --columns as an option it does not know. */
static int cli_lacks_columns(struct corpus *cp) {
  char *out, *err;
  int status = run_cli(cp, "SELECT 1", "ansi", NULL, &out, &err);
  int lacks = status == 2 && err && strstr(err, "'--columns'") != NULL;
  free(out);
  free(err);
  return lacks;
}

/* What the CLI said about one case, as columns_text, or why there is nothing to compare. */
static char *got_columns(struct corpus *cp, yajl_val c) {
  const char *p[] = {"schema", NULL};
  yajl_val schema = yajl_tree_get(c, p, yajl_t_object);
  char *out, *err, *got = NULL, errbuf[256];
  int status = run_cli(cp, str_field(c, "sql"), str_field(c, "dialect"), schema, &out, &err);
  yajl_val root = NULL;
  if (status != 0) {
    size_t n = err ? strcspn(err, "\n") : 0;
    got = test_path("(exit %d: %.*s)", status, (int)n, err ? err : "");
    goto out;
  }
  root = yajl_tree_parse(out, errbuf, sizeof errbuf);
  const char *pc[] = {"columns", NULL};
  if (!root || columns_text(yajl_tree_get(root, pc, yajl_t_any), &got) != 0)
    got = test_path("(no \"columns\" array in the output: %.200s)", out);
out:
  yajl_tree_free(root);
  free(out);
  free(err);
  return got;
}

/* ---- the corpus -------------------------------------------------------------------------- */

/* Runs every case; returns the number of problems (unexpected results, malformed cases). */
static int run_corpus(struct corpus *cp, yajl_val cases) {
  size_t n = YAJL_GET_ARRAY(cases)->len, passed = 0, known = 0, problems = 0;
  for (size_t i = 0; i < n; i++) {
    yajl_val c = YAJL_GET_ARRAY(cases)->values[i];
    const char *id = str_field(c, "id"), *p[] = {"columns", NULL};
    char *want = NULL;
    if (!id || !str_field(c, "sql") || !str_field(c, "dialect") ||
        columns_text(yajl_tree_get(c, p, yajl_t_any), &want) != 0) {
      printf("# FAIL case %zu (%s): malformed (needs id, sql, dialect, columns)\n", i,
             id ? id : "no id");
      problems++;
      continue;
    }
    struct known *k = find_known(cp, id);
    if (k)
      k->seen = 1;
    char *got = got_columns(cp, c);
    if (strcmp(got, want) == 0) {
      passed++;
      if (k) {
        printf("# FAIL %s now agrees: remove it from known-disagreements.txt\n", id);
        problems++;
      }
    } else if (k) {
      known++;
      printf("# known disagreement %s (%s): got {%s} want {%s}\n", id, k->reason, got, want);
    } else {
      printf("# FAIL %s [%s]: got {%s} want {%s}\n", id, str_field(c, "dialect"), got, want);
      problems++;
    }
    free(got);
    free(want);
  }
  for (size_t i = 0; i < cp->n_known; i++) {
    if (!cp->known[i].seen) {
      printf("# FAIL known-disagreements.txt lists %s, which is no case\n", cp->known[i].id);
      problems++;
    }
  }
  printf("# column corpus: %zu/%zu agree, %zu known disagreements\n", passed, n, known);
  return (int)problems;
}

int main(int argc, char **argv) {
  struct corpus cp = {0};
  yajl_val cases = NULL;
  char errbuf[256];
  int status = 1;
  if (argc != 3) {
    fprintf(stderr, "usage: sql-column-corpus CLI CORPUS_DIR\n");
    return 2;
  }
  cp.cli = argv[1];
  cp.dir = test_tmpdir();
  char *cases_path = test_path("%s/cases.json", argv[2]);
  char *known_path = test_path("%s/known-disagreements.txt", argv[2]);
  char *text = test_read_file(cases_path, NULL);
  if (cli_lacks_columns(&cp)) {
    printf("# SKIP %s has no --columns option\n", cp.cli);
    status = EXIT_SKIP;
    goto out;
  }
  if (!text || !(cases = yajl_tree_parse(text, errbuf, sizeof errbuf)) || !YAJL_IS_ARRAY(cases)) {
    printf("# FAIL %s: %s\n", cases_path, text ? errbuf : "cannot read");
    goto out;
  }
  if (load_known(&cp, known_path) != 0)
    goto out;
  status = run_corpus(&cp, cases) == 0 ? 0 : 1;
out:
  fflush(stdout);
  for (size_t i = 0; i < cp.n_known; i++) {
    free(cp.known[i].id);
    free(cp.known[i].reason);
  }
  free(cp.known);
  yajl_tree_free(cases);
  free(text);
  free(cases_path);
  free(known_path);
  test_rmtree(cp.dir);
  free(cp.dir);
  return status;
}
