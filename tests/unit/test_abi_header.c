/* The public header stands alone, compiles as strict C11, and its size rule works: a reader
 * sees a member only when the writer's struct_size covers it. */
#include <etl/plugin.h>

#include "testutil.h"

/* Appended members are pointer-sized, so an older struct's tail padding never covers them
 * (the rule written in plugin.h). */
struct v1 {
  size_t struct_size;
  size_t a;
};
struct v2 {
  size_t struct_size;
  size_t a;
  size_t b; /* appended in a later minor */
};

START_TEST(size_rule_hides_members_of_newer_minor) {
  struct v2 old_writer = {.struct_size = sizeof(struct v1), .a = 1};
  struct v2 new_writer = {.struct_size = sizeof(struct v2), .a = 1, .b = 2};
  ck_assert(ETL_HAS_MEMBER(&old_writer, struct v2, a));
  ck_assert(!ETL_HAS_MEMBER(&old_writer, struct v2, b));
  ck_assert(ETL_HAS_MEMBER(&new_writer, struct v2, b));
  ck_assert(!ETL_HAS_MEMBER((struct v2 *)NULL, struct v2, a));
}
END_TEST

START_TEST(frozen_prefix_is_stable) {
  /* The first three members never move: a host of any major can read a plugin's version. */
  ck_assert_uint_eq(offsetof(struct etl_plugin, struct_size), 0);
  ck_assert_uint_eq(offsetof(struct etl_plugin, abi_major), sizeof(size_t));
  ck_assert_uint_eq(offsetof(struct etl_plugin, abi_minor), sizeof(size_t) + 4);
  ck_assert_uint_eq(offsetof(struct etl_host_services, abi_major), sizeof(size_t));
  ck_assert_uint_eq(offsetof(struct etl_host_services, abi_minor), sizeof(size_t) + 4);
}
END_TEST

START_TEST(status_names) {
  ck_assert_str_eq(etl_status_name(ETL_ERR_AUTH), "ETL_ERR_AUTH");
  ck_assert_str_eq(etl_status_name(ETL_DONE), "ETL_DONE");
  ck_assert_str_eq(etl_status_name(-1234), "ETL_ERR_UNKNOWN");
  ck_assert_int_lt(ETL_ERR_CONFIG, 0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("abi_header");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, size_rule_hides_members_of_newer_minor);
  tcase_add_test(tc, frozen_prefix_is_stable);
  tcase_add_test(tc, status_names);
  suite_add_tcase(s, tc);
  return test_run_suite(s);
}
