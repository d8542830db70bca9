# tests/mode-sim: the Mode API simulator (built by `make`: the demo uses it too) and its tests.
noinst_PROGRAMS += tests/mode-sim/mode-sim
tests_mode_sim_mode_sim_SOURCES = \
	tests/mode-sim/main.c tests/mode-sim/sim.h \
	tests/mode-sim/server.c tests/mode-sim/server.h \
	tests/mode-sim/routes.c tests/mode-sim/routes.h \
	tests/mode-sim/batch.c tests/mode-sim/batch.h \
	tests/mode-sim/cache.c tests/mode-sim/cache.h \
	tests/mode-sim/render.c tests/mode-sim/render.h \
	tests/mode-sim/tpl.c tests/mode-sim/tpl.h \
	tests/mode-sim/templates.c tests/mode-sim/templates_api.c tests/mode-sim/templates.h \
	tests/mode-sim/workspace.c tests/mode-sim/workspace.h \
	tests/mode-sim/generate.c tests/mode-sim/generate.h tests/mode-sim/prng.h \
	tests/mode-sim/groundtruth.c tests/mode-sim/groundtruth.h \
	tests/mode-sim/fixtures.c tests/mode-sim/fixtures.h \
	tests/mode-sim/ratelimit.c tests/mode-sim/ratelimit.h \
	tests/mode-sim/faults.c tests/mode-sim/faults.h \
	tests/mode-sim/shapes.c tests/mode-sim/shapes.h \
	tests/mode-sim/stats.c tests/mode-sim/stats.h
tests_mode_sim_mode_sim_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS) $(YAJL_CFLAGS)
tests_mode_sim_mode_sim_LDADD = $(MHD_LIBS) $(YAJL_LIBS) $(LIBM) $(PTHREAD_LIBS)

# The load generator of tests/bench/sim-bench.sh.
noinst_PROGRAMS += tests/mode-sim/sim-loadgen
tests_mode_sim_sim_loadgen_SOURCES = tests/mode-sim/loadgen.c
tests_mode_sim_sim_loadgen_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS)
tests_mode_sim_sim_loadgen_LDADD = $(CURL_LIBS)
EXTRA_DIST += tests/bench/sim-bench.sh

# Check suites of the simulator.
check_LTLIBRARIES += tests/mode-sim/libsimtest.la
tests_mode_sim_libsimtest_la_SOURCES = tests/mode-sim/test_sim_helpers.c \
	tests/mode-sim/test_sim_helpers.h
tests_mode_sim_libsimtest_la_CFLAGS = $(TESTUTIL_CFLAGS) $(CURL_CFLAGS) $(YAJL_CFLAGS)
tests_mode_sim_libsimtest_la_LIBADD = $(TESTUTIL_LIBS) $(CURL_LIBS) $(YAJL_LIBS)
SIM_TEST_LIBS = tests/mode-sim/libsimtest.la $(TESTUTIL_LIBS) $(CURL_LIBS) $(YAJL_LIBS)
SIM_TEST_CFLAGS = $(TESTUTIL_CFLAGS) $(CURL_CFLAGS) $(YAJL_CFLAGS)

check_PROGRAMS += tests/mode-sim/test_sim_shapes tests/mode-sim/test_sim_behaviour
TESTS += tests/mode-sim/test_sim_shapes tests/mode-sim/test_sim_behaviour
tests_mode_sim_test_sim_shapes_CFLAGS = $(SIM_TEST_CFLAGS)
tests_mode_sim_test_sim_shapes_LDADD = $(SIM_TEST_LIBS)
tests_mode_sim_test_sim_behaviour_CFLAGS = $(SIM_TEST_CFLAGS)
tests_mode_sim_test_sim_behaviour_LDADD = $(SIM_TEST_LIBS)
# The suites start the simulator (and the load generator): build them first.
tests/mode-sim/test_sim_shapes.log tests/mode-sim/test_sim_behaviour.log: tests/mode-sim/mode-sim \
	tests/mode-sim/sim-loadgen
