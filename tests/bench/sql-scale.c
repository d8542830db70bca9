/*
 * sql-scale -- does the lineage library stay linear on hostile shapes?
 *
 *   tests/bench/sql-scale [CASE [SCALE]]
 *
 * For each case (CASE "all" or omitted: every one), builds an input of 0.5, 1, 2 and 4 MB
 * (times SCALE, default 1), times sql_render_template + sql_extract_tables on it and prints
 * seconds and the ratio to the previous size. Linear work doubles with the size (ratio ~2;
 * below 10 ms the figures are noise); quadratic work quadruples (ratio ~4). Not a test: the
 * figures go to docs/sql-lineage.md. The cases are shapes issue 14 and review found: forms
 * with many fields, a huge default, unclosed tags or a long list; long string literals; many
 * outputs, assigns, definition references, statements and tables.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plugin/sql/sql_lineage.h"

struct text {
  char *s; /* owned */
  size_t len, cap;
};

static void put(struct text *t, const char *s, size_t n) {
  if (t->len + n + 1 > t->cap) {
    size_t cap = t->cap ? t->cap : 4096;
    while (cap < t->len + n + 1)
      cap *= 2;
    char *p = realloc(t->s, cap);
    if (!p) {
      perror("sql-scale");
      exit(2);
    }
    t->s = p;
    t->cap = cap;
  }
  memcpy(t->s + t->len, s, n);
  t->len += n;
  t->s[t->len] = '\0';
}

static void puts_(struct text *t, const char *s) {
  put(t, s, strlen(s));
}

/* Appends `unit` until the text reaches `size` bytes; a '#' in unit becomes a counter. */
static void fill(struct text *t, const char *unit, size_t size) {
  const char *hash = strchr(unit, '#');
  for (size_t i = 0; t->len < size; i++) {
    if (!hash) {
      puts_(t, unit);
      continue;
    }
    char num[32];
    int n = snprintf(num, sizeof num, "%zu", i);
    put(t, unit, (size_t)(hash - unit));
    put(t, num, (size_t)n);
    puts_(t, hash + 1);
  }
}

static void form_fields(struct text *t, size_t size) {
  puts_(t, "{% form %}\n");
  fill(t, "field_#:\n  type: text\n  default: table_x\n", size);
  puts_(t, "{% endform %}\nSELECT * FROM {{ field_1 }}");
}

static void form_default(struct text *t, size_t size) {
  puts_(t, "{% form %}\nf:\n  type: text\n  default: ");
  fill(t, "aaaaaaaaaaaaaaaa", size);
  puts_(t, "\n{% endform %}\nSELECT * FROM t WHERE x = '{{ f }}'");
}

static void form_open_tags(struct text *t, size_t size) {
  puts_(t, "{% form %}\n");
  fill(t, "{%  {{ ", size);
  puts_(t, "\n{% endform %}\nSELECT * FROM t");
}

static void form_list(struct text *t, size_t size) {
  puts_(t, "{% form %}\nf:\n  default: [");
  fill(t, "a#, ", size);
  puts_(t, "z]\n{% endform %}\n{% for x in f %}SELECT 1 FROM t{% endfor %}");
}

static void string_literal(struct text *t, size_t size) {
  puts_(t, "SELECT '");
  fill(t, "it''s a string ", size);
  puts_(t, "' FROM t");
}

static void dollar_string(struct text *t, size_t size) {
  puts_(t, "SELECT $tag$");
  fill(t, "$ta$x$tag", size);
  puts_(t, "$tag$ FROM t");
}

static void many_outputs(struct text *t, size_t size) {
  puts_(t, "{% assign a = 'x' %}SELECT 1 FROM t WHERE ");
  fill(t, "c = '{{ a }}' AND ", size);
  puts_(t, "1 = 1");
}

static void many_assigns(struct text *t, size_t size) {
  fill(t, "{% assign v# = 'x' %}", size);
  puts_(t, "SELECT 1 FROM t");
}

/* Definitions: one per 64 bytes of query, each referenced once (Mode workspaces hold
 * thousands, and the server decides how many). The query is the text; definitions are added
 * inside the timed part by run(). */
static void definition_refs(struct text *t, size_t size) {
  puts_(t, "SELECT 1 FROM t");
  fill(t, " JOIN {{ @def_# as a# }} ON true", size);
}

static void many_statements(struct text *t, size_t size) {
  fill(t, "UPDATE s.t# SET a = (SELECT max(b) FROM u#) WHERE c IN (SELECT c FROM v);\n", size);
}

static void many_tables(struct text *t, size_t size) {
  puts_(t, "INSERT INTO out SELECT * FROM a");
  fill(t, ", \"Sch\".\"tab#\" AS x# LEFT JOIN [w#] ON 1 = 1", size);
}

static const struct {
  const char *name;
  void (*build)(struct text *t, size_t size);
} cases[] = {
    {"form-fields", form_fields},         {"form-default", form_default},
    {"form-open-tags", form_open_tags},   {"form-list", form_list},
    {"string-literal", string_literal},   {"dollar-string", dollar_string},
    {"many-outputs", many_outputs},       {"many-assigns", many_assigns},
    {"definition-refs", definition_refs}, {"many-statements", many_statements},
    {"many-tables", many_tables},
};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Renders and extracts; returns seconds, prints a failure's message (which is fine: a clear
 * error is an answer too, as long as it comes quickly). */
static double run(const struct text *t, bool with_defs, const char **status) {
  char err[256] = "", *sql = NULL;
  size_t sql_len = 0;
  struct sql_lineage *l = NULL;
  struct sql_definitions *defs = NULL;
  double t0 = now();
  if (with_defs) {
    defs = sql_definitions_new();
    for (size_t k = 0; defs && k < t->len / 64; k++) {
      char name[32], body[64];
      snprintf(name, sizeof name, "@def_%zu", k);
      int n = snprintf(body, sizeof body, "SELECT * FROM base_%zu", k);
      sql_definitions_add(defs, name, body, (size_t)n);
    }
  }
  int rc = sql_render_template(t->s, t->len, defs, &sql, &sql_len, err, sizeof err);
  if (rc == SQL_OK)
    rc = sql_extract_tables(sql, sql_len, SQL_DIALECT_POSTGRES, &l, err, sizeof err);
  double dt = now() - t0;
  *status = rc == SQL_OK ? "ok" : rc == SQL_ERR_LIMIT ? "limit" : "error";
  sql_lineage_free(&l);
  sql_definitions_free(&defs);
  free(sql);
  return dt;
}

int main(int argc, char **argv) {
  static const size_t sizes[] = {512 << 10, 1 << 20, 2 << 20, 4 << 20};
  int matched = 0;
  size_t scale = argc > 2 ? strtoul(argv[2], NULL, 10) : 1;
  if (scale == 0)
    scale = 1;
  printf("%-16s %8s %9s %6s  %s\n", "case", "MB", "seconds", "ratio", "result");
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    if (argc > 1 && strcmp(argv[1], "all") != 0 && strcmp(argv[1], cases[c].name) != 0)
      continue;
    matched++;
    double prev = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
      struct text t = {0};
      cases[c].build(&t, sizes[k] * scale);
      const char *status;
      double dt = run(&t, cases[c].build == definition_refs, &status);
      if (prev > 0)
        printf("%-16s %8.1f %9.3f %6.2f  %s\n", cases[c].name, (double)t.len / (1 << 20), dt,
               dt / prev, status);
      else
        printf("%-16s %8.1f %9.3f %6s  %s\n", cases[c].name, (double)t.len / (1 << 20), dt, "-",
               status);
      fflush(stdout);
      prev = dt;
      free(t.s);
    }
  }
  if (!matched) {
    fprintf(stderr, "sql-scale: no case named %s\n", argv[1]);
    return 2;
  }
  return 0;
}
