/*
 * check_services.h -- the services a test host hands a plugin: ones that accept a call quietly
 * (ok_*), traps that record that the plugin called a service its table does not have (trap_*),
 * and the smallest table a 1.0 host may pass, ending after diag with traps past it.
 *
 * Shared by the conformance kit (etl-plugin-check.c) and tests/unit/test_plugin_hosts.c, so the
 * unit test traps exactly what the kit does. Like the kit it needs only <etl/plugin.h>, libc and
 * pthreads. Everything is static (the functions static inline, so a program that uses only some
 * builds warning-free): each program that includes it has its own recorder. trap() may
 * be called from any thread (a plugin's interrupt rule runs two).
 */
#ifndef ETL_CHECK_SERVICES_H
#define ETL_CHECK_SERVICES_H

#include <etl/plugin.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* What the plugin called that it must not have ("count, test_step"), each name once. The caller
 * empties it before driving a plugin. 64 bytes: "diag, count, cancelled, test_step" fits. */
static char trapped[64];
static pthread_mutex_t trap_lock = PTHREAD_MUTEX_INITIALIZER;

/* When set, ok_diag prints each message to stderr (the kit's --verbose). */
static int check_verbose;

static inline void trap(const char *name) {
  pthread_mutex_lock(&trap_lock);
  if (!strstr(trapped, name) && strlen(trapped) + strlen(name) + 3 < sizeof trapped) {
    if (trapped[0])
      strcat(trapped, ", ");
    strcat(trapped, name);
  }
  pthread_mutex_unlock(&trap_lock);
}

static inline void ok_diag(struct etl_run *run, enum etl_severity sev, unsigned flags,
                           const char *item, const char *message) {
  (void)run, (void)flags;
  if (check_verbose)
    fprintf(stderr, "  diag %d %s: %s\n", (int)sev, item ? item : "-", message ? message : "");
}
static inline void ok_count(struct etl_run *run, enum etl_counter c, int64_t delta) {
  (void)run, (void)c, (void)delta;
}
static inline int ok_cancelled(struct etl_run *run) {
  (void)run;
  return 0;
}
static inline void ok_test_step(struct etl_run *run, const char *step, enum etl_test_verdict v,
                                const char *message) {
  (void)run, (void)step, (void)v, (void)message;
}

static inline void trap_diag(struct etl_run *run, enum etl_severity sev, unsigned flags,
                             const char *item, const char *message) {
  (void)run, (void)sev, (void)flags, (void)item, (void)message;
  trap("diag");
}
static inline void trap_count(struct etl_run *run, enum etl_counter c, int64_t delta) {
  (void)run, (void)c, (void)delta;
  trap("count");
}
static inline int trap_cancelled(struct etl_run *run) {
  (void)run;
  trap("cancelled");
  return 0;
}
static inline void trap_test_step(struct etl_run *run, const char *step, enum etl_test_verdict v,
                                  const char *message) {
  (void)run, (void)step, (void)v, (void)message;
  trap("test_step");
}

/* A 1.0 host's smallest table: it ends after diag; the members past it are traps. */
static const struct etl_host_services minimal = {
    .struct_size = ETL_HOST_SERVICES_MIN_SIZE,
    .abi_major = ETL_ABI_MAJOR,
    .abi_minor = 0,
    .diag = ok_diag,
    .count = trap_count,
    .cancelled = trap_cancelled,
    .test_step = trap_test_step,
};

#endif
