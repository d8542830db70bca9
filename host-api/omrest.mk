# host-api/omrest.mk: the OpenMetadata REST sink (metadata-rest), added to the sinks' library.
host_api_libhostsinks_la_SOURCES += \
	host-api/src/sink_omrest.c host-api/src/sink_omrest.h \
	host-api/src/omrest_client.c host-api/src/omrest_client.h \
	host-api/src/omrest_map.c host-api/src/omrest_map.h \
	host-api/src/omrest_json.c host-api/src/omrest_json.h \
	host-api/src/om_pipeline_status.c host-api/src/om_pipeline_status.h \
	host-api/src/om_server_config.c host-api/src/om_server_config.h \
	host-api/src/om_custom_props.c host-api/src/om_custom_props.h
host_api_libhostsinks_la_CFLAGS += $(CURL_CFLAGS)
host_api_libhostsinks_la_LIBADD += $(CURL_LIBS)
