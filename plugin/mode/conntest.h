/*
 * conntest.h -- the connection test: credentials, workspace, collections, reports of one
 * collection, data sources; each step a verdict with a sentence a user can act on.
 */
#ifndef MODE_CONNTEST_H
#define MODE_CONNTEST_H

#include <stdatomic.h>

#include "conf.h"

/* Reports one step (verdict: 0 pass, 1 fail, 2 skip, as enum etl_test_verdict). */
typedef void (*mode_test_step_fn)(void *ctx, const char *step, int verdict, const char *message);

/* Non-zero once the host wants the test to stop (its cancelled() service). */
typedef int (*mode_test_cancelled_fn)(void *ctx);

/* Runs every step in order. Returns ETL_OK, or the etl_status class of the first failure:
 * ETL_ERR_CANCELLED within about 100 ms of the interrupt flag being set or of cancelled
 * (may be NULL) returning non-zero. */
int mode_conntest_run(const struct mode_config *cfg, mode_test_step_fn step,
                      mode_test_cancelled_fn cancelled, void *ctx, const atomic_int *interrupt);

#endif
