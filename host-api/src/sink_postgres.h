/*
 * sink_postgres.h -- the `postgres` sink (sink_postgres.c): the sqlite sink's catalog in a
 * PostgreSQL database, built when configure finds libpq (HAVE_LIBPQ).
 */
#ifndef HOST_SINK_POSTGRES_H
#define HOST_SINK_POSTGRES_H

#include "sink.h"

extern const struct host_sink_ops host_sink_postgres_ops;

#endif
