/*
 * Mode templating before lineage: Liquid rendering (forms and their defaults, output and
 * filters, every branch of conditionals, loops, assign/capture, comments, raw, whitespace
 * control), `{{ @definition as alias }}` expansion (recursive, cyclic, unknown), and the
 * recorded Mode samples giving the tables DataHub's golden file lists.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl_tree.h>

#include "plugin/sql/sql_lineage.h"
#include "test_sql_names.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------------------------- */

/* Definitions from "name=body;name=body" (bodies may hold the two characters \n). */
static struct sql_definitions *make_defs(const char *spec) {
  if (!spec)
    return NULL;
  struct sql_definitions *defs = sql_definitions_new();
  char *copy = strdup(spec), *save = NULL;
  for (char *item = strtok_r(copy, ";", &save); item; item = strtok_r(NULL, ";", &save)) {
    char *eq = strchr(item, '=');
    ck_assert_ptr_nonnull(eq);
    *eq = '\0';
    ck_assert_int_eq(sql_definitions_add(defs, item, eq + 1, strlen(eq + 1)), SQL_OK);
  }
  free(copy);
  return defs;
}

/* ---- rendering: the exact text ------------------------------------------------------------- */

static const struct {
  const char *name, *tmpl, *want;
} render_cases[] = {
    {"plain text untouched", "SELECT 1 FROM t", "SELECT 1 FROM t"},
    {"form removed, default bound",
     "SELECT * FROM t WHERE id = {{ id }}\n{% form %}\nid:\n  type: text\n  default: 42\n{% "
     "endform %}",
     "SELECT * FROM t WHERE id = 42\n"},
    {"form default quoted", "{{ d }}{% form %}\nd:\n  default: 'a b'\n{% endform %}", "a b"},
    {"form default list",
     "{% for x in xs %}{{ x }};{% endfor %}{% form %}\nxs:\n  default: [a, 'b']\n{% endform %}",
     "a;b;"},
    {"form before use", "{% form %}\nn:\n  default: 7\n{% endform %}{{ n }}", "7"},
    {"unknown variable renders empty", "a{{ nope }}b", "ab"},
    {"string literal output", "{{ 'x' }}", "x"},
    {"filters chain", "{{ 'Ab' | upcase | append: '_t' | prepend: 's.' }}", "s.AB_t"},
    {"downcase and default", "{{ missing | default: 'T' | downcase }}", "t"},
    {"replace filter", "{{ 'a-b-c' | replace: '-', '_' }}", "a_b_c"},
    {"split join", "{{ 'a,b' | split: ',' | join: ' OR ' }}", "a OR b"},
    {"assign", "{% assign t = 'sales' %}FROM {{ t }}", "FROM sales"},
    {"capture", "{% capture c %}x{{ 1 }}{% endcapture %}[{{ c }}]", "[x1]"},
    {"comment dropped", "a{% comment %} FROM secret {% endcomment %}b", "ab"},
    {"raw kept verbatim", "{% raw %}{{ not }}{% endraw %}", "{{ not }}"},
    {"whitespace control", "a  {%- assign x = 1 -%}  \n b", "ab"},
    {"output whitespace control", "a {{- 'x' -}} b", "axb"},
    {"if without else: body kept, no variant", "x{% if a %} AND y{% endif %}", "x AND y"},
    {"if/else: a variant per branch", "{% if a %}A{% else %}B{% endif %}", "A\n;\nB"},
    {"elsif", "{% if a %}A{% elsif b %}B{% else %}C{% endif %}", "A\n;\nB\n;\nC"},
    {"unless", "{% unless a %}U{% endunless %}", "U"},
    {"case/when", "{% case v %}ignored{% when 'a' %}A{% when 'b' %}B{% endcase %}", "A\n;\nB"},
    {"nested branch keeps its parent",
     "{% if a %}{% if b %}X{% else %}Y{% endif %}{% else %}Z{% endif %}", "X\n;\nY\n;\nZ"},
    {"for over range with forloop",
     "{% for i in (1..3) %}c{{ i }}{% unless forloop.last %},{% endunless %}{% endfor %}",
     "c1,c2,c3"},
    {"forloop.first picks a branch per iteration",
     "{% for i in (1..3) %}{% if forloop.first %}WHERE{% else %} OR{% endif %} x={{ i }}{% endfor "
     "%}",
     "WHERE x=1 OR x=2 OR x=3"},
    {"forloop.index and length",
     "{% for i in (5..7) %}{% if forloop.index > 1 %},{% endif %}{{ forloop.index }}/{{ "
     "forloop.length }}{% endfor %}",
     "1/3,2/3,3/3"},
    {"forloop conditions with and/or and rindex",
     "{% for i in (1..4) %}{% if forloop.index0 == 1 or forloop.rindex == 1 %}[{{ i }}]{% elsif "
     "forloop.first and forloop.length >= 4 %}<{{ i }}>{% endif %}{% endfor %}",
     "<1>[2][4]"},
    {"an inner loop leaves the outer forloop as it was",
     "{% for a in (1..2) %}{% for b in (1..2) %}{{ b }}{% endfor %}{% unless forloop.last %}+{% "
     "endunless %}{% endfor %}",
     "12+12"},
    {"forloop outside a loop is not evaluated", "{% if forloop.first %}A{% else %}B{% endif %}",
     "A\n;\nB"},
    {"for over unknown collection runs once", "{% for t in tables %}[{{ t }}]{% endfor %}", "[]"},
    {"for without a collection runs once (fuzz regression)", "{% for x %}[{{ x }}]{% endfor %}",
     "[]"},
    {"unknown tags render nothing", "a{% increment n %}b", "ab"},
    {"definition without defs is a placeholder", "FROM {{ @d as x }}", "FROM (SELECT 1) AS x"},
};

START_TEST(render_exact) {
  char *out = NULL, err[256];
  size_t len = 0;
  const char *t = render_cases[_i].tmpl;
  int rc = sql_render_template(t, strlen(t), NULL, &out, &len, err, sizeof err);
  ck_assert_msg(rc == SQL_OK, "%s: rc %d: %s", render_cases[_i].name, rc, err);
  ck_assert_msg(strcmp(out, render_cases[_i].want) == 0, "%s: got [%s] want [%s]",
                render_cases[_i].name, out, render_cases[_i].want);
  ck_assert_uint_eq(len, strlen(out));
  free(out);
}
END_TEST

/* ---- lineage of templates ------------------------------------------------------------------ */

static const struct {
  const char *name, *tmpl, *defs, *sources, *targets;
} lineage_cases[] = {
    {"alternative tables in FROM are all found",
     "SELECT * FROM {% if x == 'a' %} table_a {% else %} table_b {% endif %} WHERE 1=1", NULL,
     "table_a,table_b", ""},
    {"branch with its own FROM and JOIN",
     "SELECT * FROM a {% if j %} JOIN b ON a.id = b.id {% elsif k %} JOIN c USING (id) {% endif %}",
     NULL, "a,b,c", ""},
    {"table name from a form default",
     "SELECT * FROM {{ schema }}.orders\n{% form %}\nschema:\n  type: text\n  default: "
     "analytics\n{% endform %}",
     NULL, "analytics.orders", ""},
    {"assign in branches feeds a table name",
     "{% if p %}{% assign t = 'x1' %}{% else %}{% assign t = 'x2' %}{% endif %}SELECT * FROM {{ t "
     "}}",
     NULL, "x1,x2", ""},
    {"loop of unions",
     "{% for s in (1..2) %}SELECT * FROM part_{{ s }} {% unless forloop.last %}UNION ALL {% "
     "endunless %}{% endfor %}",
     NULL, "part_1,part_2", ""},
    {"forloop branch not reached in a one-pass loop still gives its tables",
     "{% for t in tables %}SELECT * FROM {% if forloop.first %}a{% else %}b{% endif %}{% endfor %}",
     NULL, "a,b", ""},
    {"loop of unions with forloop.first glue",
     "{% for s in (1..3) %}{% unless forloop.first %}UNION ALL {% endunless %}SELECT * FROM p{{ s "
     "}} {% endfor %}",
     NULL, "p1,p2,p3", ""},
    {"comments never yield tables", "SELECT 1 FROM a {% comment %} JOIN hidden {% endcomment %}",
     NULL, "a", ""},
    {"insert target in a branch",
     "{% if full %}INSERT INTO t_full{% else %}INSERT INTO t_inc{% endif %} SELECT * FROM src",
     NULL, "src", "t_full,t_inc"},
    {"definition expanded", "SELECT * FROM {{ @d1 as x }} JOIN y ON x.id = y.id",
     "d1=SELECT *\\nFROM base_table\\nWHERE 1=1", "base_table,y", ""},
    {"definition alias never a table", "SELECT * FROM {{ @unknown as orders }}", NULL, "", ""},
    {"definitions recursive", "SELECT * FROM {{ @outer as o }}",
     "outer=SELECT * FROM {{ @inner as i }} JOIN t2 ON true;inner=SELECT * FROM t1", "t1,t2", ""},
    {"definition name with @ and whitespace dashes", "SELECT * FROM {{- @d as a -}}",
     "@d=SELECT 1 FROM z", "z", ""},
    {"liquid inside a definition", "SELECT * FROM {{ @d as a }}",
     "d={% if x %}SELECT * FROM p{% else %}SELECT * FROM q{% endif %}", "p,q", ""},
    {"CTE alias equal to definition table", "WITH rental AS (SELECT 1) SELECT * FROM {{ @r as r }}",
     "r=SELECT * FROM rental_history", "rental_history", ""},
};

START_TEST(template_lineage) {
  struct sql_definitions *defs = make_defs(lineage_cases[_i].defs);
  char *sql = NULL, err[256];
  size_t len = 0;
  struct sql_lineage *l = NULL;
  const char *t = lineage_cases[_i].tmpl;
  int rc = sql_render_template(t, strlen(t), defs, &sql, &len, err, sizeof err);
  ck_assert_msg(rc == SQL_OK, "%s: render rc %d: %s", lineage_cases[_i].name, rc, err);
  rc = sql_extract_tables(sql, len, SQL_DIALECT_POSTGRES, &l, err, sizeof err);
  ck_assert_msg(rc == SQL_OK, "%s: extract rc %d: %s\n%s", lineage_cases[_i].name, rc, err, sql);
  char *s = test_sql_names(l->sources, l->n_sources),
       *tg = test_sql_names(l->targets, l->n_targets);
  ck_assert_msg(strcmp(s, lineage_cases[_i].sources) == 0 &&
                    strcmp(tg, lineage_cases[_i].targets) == 0,
                "%s: sources {%s} want {%s}, targets {%s} want {%s}\n%s", lineage_cases[_i].name, s,
                lineage_cases[_i].sources, tg, lineage_cases[_i].targets, sql);
  free(s);
  free(tg);
  sql_lineage_free(&l);
  free(sql);
  sql_definitions_free(&defs);
  ck_assert_ptr_null(defs);
}
END_TEST

/* ---- errors -------------------------------------------------------------------------------- */

static const struct {
  const char *name, *tmpl, *defs;
  int rc;
  const char *msg;
} error_cases[] = {
    {"cycle of two", "SELECT * FROM {{ @a as x }}", "a=SELECT * FROM {{ @b as y }};b={{ @a as z }}",
     SQL_ERR_CYCLE, "@a -> @b -> @a"},
    {"self reference", "{{ @s as s }}", "s=SELECT * FROM {{ @s as s2 }}", SQL_ERR_CYCLE,
     "@s -> @s"},
    {"unclosed if", "SELECT 1 {% if a %} x", NULL, SQL_ERR_SYNTAX,
     "block never closed at line 1, column 10"},
    {"stray endif", "x {% endif %}", NULL, SQL_ERR_SYNTAX, "unexpected {% endif %}"},
    {"unterminated output", "SELECT {{ x", NULL, SQL_ERR_SYNTAX, "unterminated {{"},
    {"form never closed", "{% form %}\nx:\n default: 1", NULL, SQL_ERR_SYNTAX, "endform"},
    {"else outside a block", "{% else %}", NULL, SQL_ERR_SYNTAX, "outside a block"},
};

START_TEST(template_errors) {
  struct sql_definitions *defs = make_defs(error_cases[_i].defs);
  char *out = (char *)"untouched", err[256] = "";
  size_t len = 7;
  const char *t = error_cases[_i].tmpl;
  int rc = sql_render_template(t, strlen(t), defs, &out, &len, err, sizeof err);
  ck_assert_msg(rc == error_cases[_i].rc, "%s: rc %d want %d (%s)", error_cases[_i].name, rc,
                error_cases[_i].rc, err);
  ck_assert_ptr_null(out);
  ck_assert_msg(strstr(err, error_cases[_i].msg) != NULL, "%s: message [%s] lacks [%s]",
                error_cases[_i].name, err, error_cases[_i].msg);
  sql_definitions_free(&defs);
}
END_TEST

START_TEST(definitions_depth_and_size_bounded) {
  /* A chain longer than the bound, and a diamond that would double 40 times. */
  struct sql_definitions *defs = sql_definitions_new();
  char name[16], body[64];
  for (int i = 0; i < 40; i++) {
    snprintf(name, sizeof name, "c%d", i);
    snprintf(body, sizeof body, "SELECT * FROM {{ @c%d as x }}", i + 1);
    ck_assert_int_eq(sql_definitions_add(defs, name, body, strlen(body)), SQL_OK);
  }
  for (int i = 0; i < 40; i++) {
    snprintf(name, sizeof name, "d%d", i);
    snprintf(body, sizeof body, "{{ @d%d as a }} {{ @d%d as b }}", i + 1, i + 1);
    ck_assert_int_eq(sql_definitions_add(defs, name, body, strlen(body)), SQL_OK);
  }
  char *out = NULL, err[256];
  size_t len;
  const char *t1 = "{{ @c0 as x }}";
  ck_assert_int_eq(sql_render_template(t1, strlen(t1), defs, &out, &len, err, sizeof err),
                   SQL_ERR_LIMIT);
  ck_assert_ptr_nonnull(strstr(err, "deeper than"));
  /* d0..d39 reference two of the next: depth 32 stops it before size does, or size does. */
  const char *t2 = "{{ @d0 as x }}";
  int rc = sql_render_template(t2, strlen(t2), defs, &out, &len, err, sizeof err);
  ck_assert_int_eq(rc, SQL_ERR_LIMIT);
  sql_definitions_free(&defs);
}
END_TEST

START_TEST(preview_takes_first_branches) {
  const char *t = "SELECT * FROM {% if a %}t1{% else %}t2{% endif %} WHERE d > '{{ d }}'\n"
                  "{% form %}\nd:\n  default: 2024-01-01\n{% endform %}";
  char *out = NULL, err[128];
  size_t len;
  ck_assert_int_eq(sql_render_preview(t, strlen(t), NULL, &out, &len, err, sizeof err), SQL_OK);
  ck_assert_str_eq(out, "SELECT * FROM t1 WHERE d > '2024-01-01'\n");
  free(out);
}
END_TEST

START_TEST(definitions_replace_and_escapes) {
  struct sql_definitions *defs = sql_definitions_new();
  const char *b1 = "SELECT * FROM old", *b2 = "SELECT a\\tb\\nFROM new";
  ck_assert_int_eq(sql_definitions_add(defs, "@d", b1, strlen(b1)), SQL_OK);
  ck_assert_int_eq(sql_definitions_add(defs, "d", b2, strlen(b2)), SQL_OK);
  char *out = NULL, err[128];
  size_t len;
  const char *t = "{{ @d as q }}";
  ck_assert_int_eq(sql_render_template(t, strlen(t), defs, &out, &len, err, sizeof err), SQL_OK);
  ck_assert_str_eq(out, "(\nSELECT a\tb\nFROM new\n) AS q");
  free(out);
  sql_definitions_free(&defs);
  sql_definitions_free(&defs); /* NULL-safe */
}
END_TEST

/* ---- the recorded Mode samples --------------------------------------------------------------- */

static yajl_val load_json(const char *rel) {
  char *path = test_path("%s/mode-api-samples/%s", test_fixtures_dir(), rel);
  char *text = test_read_file(path, NULL), errbuf[256];
  ck_assert_msg(text != NULL, "cannot read %s", path);
  yajl_val v = yajl_tree_parse(text, errbuf, sizeof errbuf);
  ck_assert_msg(v != NULL, "%s: %s", path, errbuf);
  free(text);
  free(path);
  return v;
}

static struct sql_definitions *sample_definitions(void) {
  yajl_val root = load_json("setup/definitions.json");
  const char *where[] = {"_embedded", "definitions", NULL}, *pn[] = {"name", NULL},
             *ps[] = {"source", NULL};
  yajl_val list = yajl_tree_get(root, where, yajl_t_array);
  ck_assert_ptr_nonnull(list);
  struct sql_definitions *defs = sql_definitions_new();
  for (size_t i = 0; i < YAJL_GET_ARRAY(list)->len; i++) {
    yajl_val d = YAJL_GET_ARRAY(list)->values[i];
    const char *name = YAJL_GET_STRING(yajl_tree_get(d, pn, yajl_t_string));
    const char *src = YAJL_GET_STRING(yajl_tree_get(d, ps, yajl_t_string));
    ck_assert_int_eq(sql_definitions_add(defs, name, src, strlen(src)), SQL_OK);
  }
  yajl_tree_free(root);
  return defs;
}

/* All tables read by the recorded queries of a response file, joined. */
static char *sample_sources(const char *rel, const struct sql_definitions *defs) {
  yajl_val root = load_json(rel);
  const char *where[] = {"_embedded", "queries", NULL}, *pq[] = {"raw_query", NULL};
  yajl_val list = yajl_tree_get(root, where, yajl_t_array);
  ck_assert_ptr_nonnull(list);
  char *all = strdup("");
  for (size_t i = 0; i < YAJL_GET_ARRAY(list)->len; i++) {
    const char *raw =
        YAJL_GET_STRING(yajl_tree_get(YAJL_GET_ARRAY(list)->values[i], pq, yajl_t_string));
    char *sql = NULL, err[256];
    size_t len;
    struct sql_lineage *l = NULL;
    ck_assert_int_eq(sql_render_template(raw, strlen(raw), defs, &sql, &len, err, sizeof err),
                     SQL_OK);
    ck_assert_msg(sql_extract_tables(sql, len, SQL_DIALECT_POSTGRES, &l, err, sizeof err) == SQL_OK,
                  "%s: %s", rel, err);
    char *s = test_sql_names(l->sources, l->n_sources);
    char *both = test_path("%s%s%s", all, *all && *s ? "," : "", s);
    free(all);
    free(s);
    all = both;
    sql_lineage_free(&l);
    free(sql);
  }
  yajl_tree_free(root);
  return all;
}

START_TEST(mode_samples_match_datahub_golden) {
  /* DataHub's golden file (golden/mode_mces_golden.json) lists dvdrental.customer, payment,
   * rental and staff as the upstreams of the templated query 6e26a9f3d4e2. */
  struct sql_definitions *defs = sample_definitions();
  char *got = sample_sources("setup/queries.json", defs);
  ck_assert_str_eq(got, "customer,payment,rental,staff");
  free(got);
  char *golden_path =
      test_path("%s/mode-api-samples/golden/mode_mces_golden.json", test_fixtures_dir());
  char *golden = test_read_file(golden_path, NULL);
  ck_assert_ptr_nonnull(golden);
  const char *names[] = {"customer", "payment", "rental", "staff"};
  for (size_t i = 0; i < 4; i++) {
    char *urn = test_path("dataPlatform:postgres,dvdrental.%s,PROD", names[i]);
    ck_assert_msg(strstr(golden, urn), "golden file lacks %s", urn);
    free(urn);
  }
  free(golden);
  free(golden_path);
  sql_definitions_free(&defs);
}
END_TEST

START_TEST(mode_samples_without_definitions) {
  /* Without the definitions, the reference is not mistaken for a table: only staff is read. */
  char *got = sample_sources("setup/queries.json", NULL);
  ck_assert_str_eq(got, "staff");
  free(got);
}
END_TEST

START_TEST(mode_samples_other_recordings) {
  char *legacy = sample_sources("legacy-2021-12-09/queries.json", NULL);
  ck_assert_str_eq(legacy, "customer,public.payment");
  free(legacy);
  char *dataset = sample_sources("setup/dataset_queries_24f66e1701b6.json", NULL);
  ck_assert_str_eq(dataset, "datahub_community.postgres_public.company,"
                            "ethan_test_db.public.account_phone_number");
  free(dataset);
}
END_TEST

int main(void) {
  Suite *s = suite_create("sql_liquid");
  TCase *tc = tcase_create("render");
  tcase_add_loop_test(tc, render_exact, 0, (int)(sizeof render_cases / sizeof render_cases[0]));
  tcase_add_loop_test(tc, template_lineage, 0,
                      (int)(sizeof lineage_cases / sizeof lineage_cases[0]));
  tcase_add_loop_test(tc, template_errors, 0, (int)(sizeof error_cases / sizeof error_cases[0]));
  tcase_add_test(tc, definitions_depth_and_size_bounded);
  tcase_add_test(tc, definitions_replace_and_escapes);
  tcase_add_test(tc, preview_takes_first_branches);
  suite_add_tcase(s, tc);
  TCase *mode = tcase_create("mode_samples");
  tcase_add_test(mode, mode_samples_match_datahub_golden);
  tcase_add_test(mode, mode_samples_without_definitions);
  tcase_add_test(mode, mode_samples_other_recordings);
  suite_add_tcase(s, mode);
  return test_run_suite(s);
}
