/*
 * Helpers of the mode-sim suites: starting the simulator, authenticated GETs that keep the
 * headers the tests look at, and a recursive comparison of JSON keys.
 */
#ifndef SIM_TEST_HELPERS_H
#define SIM_TEST_HELPERS_H

#include <stddef.h>
#include <yajl/yajl_tree.h>

#include "testutil.h"

struct sim_http {
  long status;
  char *body; /* malloc'd, NUL-terminated; free with sim_http_free */
  size_t len;
  char retry_after[32]; /* "" when absent */
  char ratelimit_limit[32];
  int curl_error; /* a CURLcode; 0 on transport success */
};

/* Starts tests/mode-sim/mode-sim with extra arguments (NULL-terminated list). Fails the test
 * if it does not start. */
void sim_start(struct test_server *srv, const char *const *args);

/* GET base_url + path with the given credentials (NULL user: no auth). */
void sim_get_as(const struct test_server *srv, const char *path, const char *userpwd,
                struct sim_http *out);
/* GET with the default credentials test-token:test-secret. */
void sim_get(const struct test_server *srv, const char *path, struct sim_http *out);
void sim_http_free(struct sim_http *h);

/* GET path and parse it as JSON; fails the test unless the status is 200 and the body parses.
 * Caller frees with yajl_tree_free. */
yajl_val sim_get_json(const struct test_server *srv, const char *path);

/* Parses a JSON file; fails the test if it cannot. */
yajl_val sim_load_json(const char *path);

/* 0 if sim has the same keys as sample, recursively: objects have equal key sets; each element
 * of an array of sim matches some element of sample's array (both non-empty). Elements of sim
 * for which skip() returns non-zero are not compared. On mismatch writes the path to where. */
int sim_same_keys(yajl_val sample, yajl_val sim, int (*skip)(yajl_val), char *where,
                  size_t wherelen);

/* The string at a path of object keys (NULL-terminated), or NULL. */
const char *sim_str(yajl_val v, const char *const *path);

#endif
