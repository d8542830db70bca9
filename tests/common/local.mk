# tests/common: helpers shared by every Check suite (TAP output, servers, paths; e2eutil: mode-sim,
# etlhost and the sqlite catalog for the end-to-end suites).
check_LTLIBRARIES += tests/common/libtestutil.la
tests_common_libtestutil_la_SOURCES = tests/common/testutil.c tests/common/testutil.h \
	tests/common/e2eutil.c tests/common/e2eutil.h
tests_common_libtestutil_la_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(CURL_CFLAGS) $(SQLITE_CFLAGS)
tests_common_libtestutil_la_LIBADD = $(CHECK_LIBS) $(CURL_LIBS) $(SQLITE_LIBS)
# What a suite adds to its flags to use the helpers.
TESTUTIL_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -I$(top_srcdir)/tests/common
TESTUTIL_LIBS = tests/common/libtestutil.la $(CHECK_LIBS)
