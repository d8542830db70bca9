# host-api/sinks.mk: the sinks (sqlite, file, stdout), the state store, their tests and bench.
# etlhost links host-api/libhostsinks.la together with host-api/libhostcommon.la (the log).
noinst_LTLIBRARIES += host-api/libhostsinks.la
host_api_libhostsinks_la_SOURCES = \
	host-api/src/sink_registry.c host-api/src/sink_builtin.h \
	host-api/src/sink_common.c host-api/src/sink_common.h \
	host-api/src/sink_sqlite.c host-api/src/sink_file.c \
	host-api/src/sqldb.c host-api/src/sqldb.h \
	host-api/src/catalog_read.c host-api/src/catalog_read.h \
	host-api/src/state.c
host_api_libhostsinks_la_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS) $(SQLITE_CFLAGS)
host_api_libhostsinks_la_LIBADD = $(YAJL_LIBS) $(SQLITE_LIBS)

# What a test of the sinks compiles and links with.
SINKS_TEST_CFLAGS = $(TESTUTIL_CFLAGS) $(YAJL_CFLAGS) $(SQLITE_CFLAGS) -I$(top_srcdir)/host-api/src
SINKS_TEST_LIBS = host-api/libhostsinks.la host-api/libhostcommon.la $(TESTUTIL_LIBS) \
	$(YAJL_LIBS) $(SQLITE_LIBS)

check_PROGRAMS += tests/unit/test_sink_sqlite tests/unit/test_sink_file tests/unit/test_state
TESTS += tests/unit/test_sink_sqlite tests/unit/test_sink_file tests/unit/test_state
tests_unit_test_sink_sqlite_SOURCES = tests/unit/test_sink_sqlite.c tests/unit/sink_testlib.h
tests_unit_test_sink_sqlite_CFLAGS = $(SINKS_TEST_CFLAGS)
tests_unit_test_sink_sqlite_LDADD = $(SINKS_TEST_LIBS)
tests_unit_test_sink_file_SOURCES = tests/unit/test_sink_file.c tests/unit/sink_testlib.h
tests_unit_test_sink_file_CFLAGS = $(SINKS_TEST_CFLAGS)
tests_unit_test_sink_file_LDADD = $(SINKS_TEST_LIBS)
tests_unit_test_state_SOURCES = tests/unit/test_state.c tests/unit/sink_testlib.h
tests_unit_test_state_CFLAGS = $(SINKS_TEST_CFLAGS)
tests_unit_test_state_LDADD = $(SINKS_TEST_LIBS)

# The sink benchmark: tests/bench/sink-bench.sh runs it (not part of make check).
noinst_PROGRAMS += tests/bench/sink_bench
tests_bench_sink_bench_SOURCES = tests/bench/sink_bench.c
tests_bench_sink_bench_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/host-api/src
tests_bench_sink_bench_LDADD = host-api/libhostsinks.la host-api/libhostcommon.la \
	$(YAJL_LIBS) $(SQLITE_LIBS)
EXTRA_DIST += tests/bench/sink-bench.sh
