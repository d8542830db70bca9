# host-api/postgres.mk: the postgres sink (optional, with libpq) and its tests, which start a
# private PostgreSQL server from Debian's postgresql package (tests/common/pgserver.c) and skip
# when there is none.
EXTRA_DIST += host-api/src/sink_postgres.c host-api/src/sink_postgres.h \
	tests/common/pgserver.c tests/common/pgserver.h tests/unit/sink_catalog_cases.h \
	host-api/src/sink_postgres_absent.c host-api/src/pgconn.h host-api/src/state_postgres.c \
	host-api/src/state_postgres.h
if HAVE_LIBPQ
host_api_libhostsinks_la_SOURCES += host-api/src/sink_postgres.c host-api/src/sink_postgres.h \
	host-api/src/pgconn.h host-api/src/state_postgres.c host-api/src/state_postgres.h
host_api_libhostsinks_la_CFLAGS += $(LIBPQ_CFLAGS)
host_api_libhostsinks_la_LIBADD += $(LIBPQ_LIBS)

check_PROGRAMS += tests/unit/test_sink_postgres
TESTS += tests/unit/test_sink_postgres
tests_unit_test_sink_postgres_SOURCES = tests/unit/test_sink_postgres.c \
	tests/unit/sink_testlib.h tests/unit/sink_catalog_cases.h \
	tests/common/pgserver.c tests/common/pgserver.h
tests_unit_test_sink_postgres_CFLAGS = $(SINKS_TEST_CFLAGS) $(LIBPQ_CFLAGS)
tests_unit_test_sink_postgres_LDADD = $(SINKS_TEST_LIBS) $(LIBPQ_LIBS)

# etlhost itself on the postgres sink: crash and re-run, two processes at once.
check_PROGRAMS += tests/unit/test_host_postgres
TESTS += tests/unit/test_host_postgres
tests_unit_test_host_postgres_SOURCES = tests/unit/test_host_postgres.c \
	tests/common/pgserver.c tests/common/pgserver.h
tests_unit_test_host_postgres_CFLAGS = $(TESTUTIL_CFLAGS) $(LIBPQ_CFLAGS)
tests_unit_test_host_postgres_LDADD = $(TESTUTIL_LIBS) $(LIBPQ_LIBS)
else
# Without libpq a workflow naming the postgres sink is told why it is missing.
host_api_libhostsinks_la_SOURCES += host-api/src/sink_postgres_absent.c \
	host-api/src/sink_postgres.h
endif
