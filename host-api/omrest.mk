# host-api/omrest.mk: the OpenMetadata REST sink.
