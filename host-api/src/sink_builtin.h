/*
 * sink_builtin.h -- the sinks compiled into etlhost, for the registry (sink_registry.c).
 * Each is a static, immutable table; see sink.h for the interface and docs/sinks.md for what
 * they do.
 */
#ifndef HOST_SINK_BUILTIN_H
#define HOST_SINK_BUILTIN_H

#include "sink.h"

extern const struct host_sink_ops host_sink_sqlite_ops; /* sink_sqlite.c: the catalog */
extern const struct host_sink_ops host_sink_file_ops;   /* sink_file.c: JSON Lines file */
extern const struct host_sink_ops host_sink_stdout_ops; /* sink_file.c: JSON Lines on stdout */

/* Name of the sink used when the workflow has no `sink:` section. */
#define HOST_SINK_DEFAULT_TYPE "sqlite"

#endif
