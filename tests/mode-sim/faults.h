/*
 * Fault injection (--faults SPEC). A spec is a comma-separated list of NAME=VALUE items:
 *   5xx=P          P (0..1) of requests answer 500, 502, 503 or 504 with an error body
 *   reset=P        close the connection with a TCP RST before answering
 *   slow=P         send the body in 512-byte pieces 50 ms apart (no thread is held)
 *   truncate=P     send only the first half of the JSON body (Content-Length matches)
 *   malformed=P    send "{" as the body, as DataHub's test does
 *   204=P          answer 204 No Content with no body
 *   404-after-list=P  that share of reports (by token) answer 404 on /reports/{r}, its
 *                  queries, charts and runs, while still being listed
 *   repeat-pages[=P]  report and dataset listings of that share of spaces (default all)
 *                  ignore `page` and repeat page 1
 *   burst=STATUS:N[@START]  requests START..START+N-1 (1-based, default START 1) answer STATUS
 *   shape=KIND[@spaces|@reports]  page 1 of the collections listing (default) or of every
 *                  reports/datasets listing comes in a hostile shape: its list is null, string,
 *                  number or object; or its first item is notoken (no token), nultoken (token
 *                  starting with \u0000) or notobject (the number 42)
 *   pad-queries=BYTES  every query's raw_query is padded with a SQL comment to BYTES (big bodies)
 *   stall-users=MS  user lookups (/api/{username}) answer MS milliseconds late
 *   endless-pages  reports listings never end: the pages past the last real one repeat the
 *                  real ones with every token suffixed "-pN" (new reports on every page)
 *   memberships=STATUS  every GET /api/{ws}/memberships answers STATUS (400..599), as for a
 *                  token that may not list the workspace's members
 *   seed=N         the faults' seed (default: --seed)
 * Per-request faults are drawn from hash(seed, URL, how many times this URL was asked), so a
 * client that makes the same requests sees the same faults, whatever the interleaving.
 */
#ifndef SIM_FAULTS_H
#define SIM_FAULTS_H

#include <stdint.h>

enum fault_shape {
  SHAPE_NONE,
  SHAPE_NULL,
  SHAPE_STRING,
  SHAPE_NUMBER,
  SHAPE_OBJECT,
  SHAPE_NOTOKEN,
  SHAPE_NULTOKEN,
  SHAPE_NOTOBJECT
};
enum fault_shape_target { SHAPE_AT_SPACES, SHAPE_AT_REPORTS };

struct faults {
  double p5xx, reset, slow, truncate, malformed, p204, gone, repeat;
  enum fault_shape shape;
  enum fault_shape_target shape_target;
  int endless;
  unsigned long pad_queries; /* bytes, 0: off */
  unsigned stall_users;      /* ms, 0: off */
  unsigned memberships_status; /* HTTP status of every memberships listing, 0: off */
  unsigned burst_status, burst_count, burst_start;
  uint64_t seed;
  int seed_set;
};

enum fault_action {
  FAULT_NONE,
  FAULT_5XX,
  FAULT_RESET,
  FAULT_SLOW,
  FAULT_TRUNCATE,
  FAULT_MALFORMED,
  FAULT_204,
  FAULT_BURST
};

/* Parses spec into *f (zeroed first). Returns 0, or -1 with a message naming the bad item. */
int faults_parse(const char *spec, struct faults *f, char *err, size_t errlen);

/* Which fault, if any, hits the attempt-th (1-based) request for url; *status gets the status
 * for FAULT_5XX and FAULT_BURST. seq is the request's global sequence number (1-based). */
enum fault_action faults_pick(const struct faults *f, const char *url, uint64_t attempt,
                              uint64_t seq, unsigned *status);

/* Whether the report with this token 404s after being listed; whether the listing of this
 * space ignores `page`. */
int faults_gone(const struct faults *f, const char *token);
int faults_repeats(const struct faults *f, const char *space_token);

/* The name of an action, for the log and stats. */
const char *faults_name(enum fault_action a);

#endif
