/* Hostile workflow files: the YAML reader's limits on aliases, nodes and depth hold while it
 * parses (an alias bomb or a deep nest is refused at once, in little memory), and a second
 * document is an error. Ordinary files are test_host_config.c's business. */
#include "config.h"

#include "log.h"
#include "workflow.h"

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Reads text with host_yaml_parse under the name "workflow.yaml"; returns its status and what
 * it logged (caller frees). */
static int parse_text(const char *text, size_t len, char **messages) {
  char *buf = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&buf, &size);
  struct host_log *log = host_log_new(out, ETL_SEV_DEBUG);
  struct host_node *root = NULL;
  int rc = host_yaml_parse("workflow.yaml", text, len, log, &root);
  host_node_free(root);
  host_log_free(&log);
  fclose(out);
  *messages = buf;
  return rc;
}

/* The billion laughs: each of 8 levels is a list of 9 aliases of the level before, 9^9 strings
 * once expanded, in under 500 bytes. */
static char *alias_bomb(void) {
  char *buf = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&buf, &size);
  fputs("source:\n  config:\n    a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\","
        "\"lol\",\"lol\"]\n",
        f);
  for (char c = 'b'; c <= 'i'; c++) {
    fprintf(f, "    %c: &%c [", c, c);
    for (int i = 0; i < 9; i++)
      fprintf(f, "%s*%c", i ? "," : "", c - 1);
    fputs("]\n", f);
  }
  fclose(f);
  return buf;
}

/* Caps the address space of this (forked) test, so that a reader that expands the bomb fails
 * here rather than taking the machine's memory. The sanitizers reserve terabytes of address
 * space, so there the cap is left to the time limit. */
static void cap_memory(size_t bytes) {
#if !defined(__SANITIZE_ADDRESS__)
  struct rlimit rl = {.rlim_cur = bytes, .rlim_max = bytes};
  ck_assert_int_eq(setrlimit(RLIMIT_AS, &rl), 0);
#else
  (void)bytes;
#endif
}

START_TEST(alias_bomb_is_refused_at_once) {
  cap_memory(256u << 20);
  char *yaml = alias_bomb();
  ck_assert_uint_lt(strlen(yaml), 500);
  char *messages = NULL;
  ck_assert_int_eq(parse_text(yaml, strlen(yaml), &messages), -1);
  const char *want = "workflow.yaml:7: error: source.config.e[0]: alias *d: aliases expand to "
                     "more than 10000 nodes in all, refused (a guard against alias bombs)";
  ck_assert_msg(strstr(messages, want), "expected\n  %s\nin\n  %s", want, messages);
  free(messages);
  free(yaml);
}
END_TEST

/* head, then unit n times, then tail (malloc'd). */
static char *repeat(const char *head, const char *unit, size_t n, const char *tail) {
  char *buf = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&buf, &size);
  fputs(head, f);
  for (size_t i = 0; i < n; i++)
    fputs(unit, f);
  fputs(tail, f);
  fclose(f);
  return buf;
}

/* n block sequences, each nested in the one before: "-\n  -\n    -\n..." */
static char *block_nest(int n) {
  char *buf = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&buf, &size);
  for (int i = 0; i < n; i++)
    fprintf(f, "%*s-\n", 2 * i, "");
  fclose(f);
  return buf;
}

/* `a` anchors 60 nested lists; `b` uses it 10 levels down: 70 levels once expanded. */
static char *deep_alias(void) {
  char *open = repeat("a: &a ", "[", 60, "");
  char *text = repeat(open, "]", 60, "\nb: [[[[[[[[[[*a]]]]]]]]]]\n");
  free(open);
  return text;
}

/* Each hostile file and the message it must produce (a substring of the log). The text is
 * made at run time (hostile_text): some are large. */
static const struct {
  const char *what;
  const char *message;
} hostile[] = {
    {"flow nesting 200000 deep", "workflow.yaml:1: error: source[0][0][0]"},
    {"block nesting 70 deep", "workflow.yaml:66: error: [0][0][0]"},
    {"1001 aliases",
     "workflow.yaml:2: error: l[1000]: alias *x: more than 1000 aliases in the file, refused"},
    {"100001 nodes (the map, its key and the list are 3)",
     "workflow.yaml:1: error: l[99997]: the file has more than 100000 nodes "
     "(aliases expanded), refused"},
    {"an alias that nests too deep",
     "workflow.yaml:2: error: b[0][0][0][0][0][0][0][0][0][0]: alias *a: nested deeper than 64 "
     "levels once expanded"},
    {"a second document",
     "workflow.yaml:3: error: a second YAML document starts here; a workflow file holds one"},
    {"a second explicit document", "workflow.yaml:3: error: a second YAML document starts here"},
    {"an alias before its anchor", "workflow.yaml:1: error: a: alias *b: no anchor &b before it"},
    {"a NUL character", "workflow.yaml:2: error: a.b: contains a NUL character"},
    {"a list as a key", "workflow.yaml:2: error: a: keys must be plain strings"},
};

static char *hostile_text(int i) {
  switch (i) {
  case 0:
    return repeat("source: ", "[", 200000, "");
  case 1:
    return block_nest(70);
  case 2:
    return repeat("x: &x 1\nl: [", "*x, ", 1001, "1]\n");
  case 3:
    return repeat("l: [", "1, ", 100000, "1]\n");
  case 4:
    return deep_alias();
  case 5:
    return strdup("source: {type: fake}\n...\n---\nother: 1\n");
  case 6:
    return strdup("---\na: 1\n---\nb: 2\n");
  case 7:
    return strdup("a: *b\nb: &b 1\n");
  case 8:
    return strdup("a:\n  b: \"x\\0y\"\n");
  default:
    return strdup("a:\n  ? [x]\n  : 1\n");
  }
}

START_TEST(hostile_file_is_refused) {
  cap_memory(256u << 20);
  char *yaml = hostile_text(_i);
  char *messages = NULL;
  ck_assert_int_eq(parse_text(yaml, strlen(yaml), &messages), -1);
  ck_assert_msg(strstr(messages, hostile[_i].message), "%s: expected\n  %s\nin\n  %s",
                hostile[_i].what, hostile[_i].message, messages);
  free(messages);
  free(yaml);
}
END_TEST

/* What the limits allow: anchors on keys and scalars, a reused block within the alias budget,
 * the deepest nesting allowed, and a file ending with an explicit `...`. */
START_TEST(aliases_within_limits_still_work) {
  const char *yaml = "defaults: &d {retries: 3, hosts: [a, b]}\n"
                     "&k name: &v value\n"
                     "one: *d\n"
                     "two: {base: *d, *k : *v}\n"
                     "...\n";
  char *messages = NULL;
  struct host_node *root = NULL;
  struct host_log *log = host_log_new(stderr, ETL_SEV_ERROR);
  ck_assert_int_eq(host_yaml_parse("t.yaml", yaml, strlen(yaml), log, &root), 0);
  char *json = host_node_to_json(root, NULL);
  ck_assert_str_eq(json, "{\"defaults\":{\"retries\":3,\"hosts\":[\"a\",\"b\"]},"
                         "\"name\":\"value\",\"one\":{\"retries\":3,\"hosts\":[\"a\",\"b\"]},"
                         "\"two\":{\"base\":{\"retries\":3,\"hosts\":[\"a\",\"b\"]},"
                         "\"name\":\"value\"}}");
  /* An alias keeps the line of its anchor, where the value is written. */
  ck_assert_int_eq(host_node_get(host_node_get(root, "two"), "base")->line, 1);
  free(json);
  host_node_free(root);

  /* 64 levels below the root is the limit, and it is allowed. */
  char *deep = repeat("a: ", "[", 63, "1");
  char *closed = repeat(deep, "]", 63, "\n");
  ck_assert_int_eq(parse_text(closed, strlen(closed), &messages), 0);
  free(messages);
  free(closed);
  free(deep);
  host_log_free(&log);
}
END_TEST

/* Keys are looked up in a hash table: 49000 keys in one mapping are read at once, not in a
 * billion comparisons, and a duplicate among them is still found. */
START_TEST(a_mapping_of_many_keys_is_read_in_linear_time) {
  char *buf = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&buf, &size);
  fputs("m:\n", f);
  for (int i = 0; i < 49000; i++)
    fprintf(f, "  k%d: %d\n", i, i);
  fclose(f);
  char *messages = NULL;
  ck_assert_int_eq(parse_text(buf, strlen(buf), &messages), 0);
  free(messages);
  char *dup = test_path("%s  k48999: again\n", buf);
  ck_assert_int_eq(parse_text(dup, strlen(dup), &messages), -1);
  ck_assert_msg(strstr(messages, "workflow.yaml:49002: error: m: duplicate key `k48999`"), "%s",
                messages);
  free(messages);
  free(dup);
  free(buf);
}
END_TEST

int main(void) {
  Suite *s = suite_create("host_yaml");
  TCase *tc = tcase_create("limits");
  tcase_add_test(tc, alias_bomb_is_refused_at_once);
  tcase_add_loop_test(tc, hostile_file_is_refused, 0, (int)(sizeof hostile / sizeof hostile[0]));
  tcase_add_test(tc, aliases_within_limits_still_work);
  tcase_add_test(tc, a_mapping_of_many_keys_is_read_in_linear_time);
  suite_add_tcase(s, tc);
  return test_run_suite(s);
}
