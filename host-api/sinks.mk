# host-api/sinks.mk: the sinks (sqlite, file, stdout) and the state store.
