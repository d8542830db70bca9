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

/* Runs every step in order. Returns ETL_OK, or the etl_status class of the first failure. */
int mode_conntest_run(const struct mode_config *cfg, mode_test_step_fn step, void *ctx,
                      const atomic_int *interrupt);

#endif
