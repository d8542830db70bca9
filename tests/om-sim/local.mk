# tests/om-sim: om-sim, the OpenMetadata API stand-in, and the metadata-rest sink's tests.
check_PROGRAMS += tests/om-sim/om-sim
tests_om_sim_om_sim_SOURCES = tests/om-sim/om_sim.c \
	host-api/src/omrest_json.c host-api/src/omrest_json.h \
	host-api/src/omrest_map.c host-api/src/omrest_map.h
tests_om_sim_om_sim_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS) $(YAJL_CFLAGS) -I$(top_srcdir)/host-api/src
tests_om_sim_om_sim_LDADD = $(MHD_LIBS) $(YAJL_LIBS) $(PTHREAD_LIBS)

# The sink against om-sim: records fed directly, as the runner does. Needs om-sim built.
check_PROGRAMS += tests/unit/test_sink_omrest
TESTS += tests/unit/test_sink_omrest
tests_unit_test_sink_omrest_SOURCES = tests/unit/test_sink_omrest.c
tests_unit_test_sink_omrest_CFLAGS = $(SINKS_TEST_CFLAGS) $(CURL_CFLAGS)
tests_unit_test_sink_omrest_LDADD = $(SINKS_TEST_LIBS) $(CURL_LIBS)
EXTRA_tests_unit_test_sink_omrest_DEPENDENCIES = tests/om-sim/om-sim

# Dashboards' custom properties (sink.config.customProperties) against om-sim.
check_PROGRAMS += tests/unit/test_om_custom_props
TESTS += tests/unit/test_om_custom_props
tests_unit_test_om_custom_props_SOURCES = tests/unit/test_om_custom_props.c
tests_unit_test_om_custom_props_CFLAGS = $(SINKS_TEST_CFLAGS) $(CURL_CFLAGS)
tests_unit_test_om_custom_props_LDADD = $(SINKS_TEST_LIBS) $(CURL_LIBS)
EXTRA_tests_unit_test_om_custom_props_DEPENDENCIES = tests/om-sim/om-sim

# etlhost runs an OpenMetadata-style workflow into om-sim (jsonl replay now; the Mode plugin
# part skips until plugin/mode and mode-sim are built).
TESTS += tests/e2e/test_om_e2e.sh
dist_check_SCRIPTS += tests/e2e/test_om_e2e.sh
