/*
 * sink_registry.c -- finds a sink by the `type` a workflow names (see sink.h).
 */
#include "config.h"

#include "sink.h"
#include "sink_builtin.h"
#include "sink_omrest.h"
#include "sink_postgres.h"

#include <string.h>

static const struct host_sink_ops *const sinks[] = {
    &host_sink_sqlite_ops,
    &host_sink_file_ops,
    &host_sink_stdout_ops,
    /* metadata-rest (the OpenMetadata REST sink) goes here, declared in its own header. */
    &host_sink_metadata_rest,
    &host_sink_postgres_ops, /* sink_postgres.h: the catalog in PostgreSQL (or why it is absent) */
};

const struct host_sink_ops *host_sink_find(const char *type) {
  if (!type)
    return NULL;
  for (size_t i = 0; i < sizeof sinks / sizeof sinks[0]; i++)
    if (strcmp(sinks[i]->type, type) == 0)
      return sinks[i];
  return NULL;
}
