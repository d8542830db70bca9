# plugin/mode: the Mode connector (mode.so) and its tests (the end-to-end ones drive it through
# tests/e2e/thirdparty_host, see tests/e2e/local.mk).

# Everything but the entry point, as a convenience library: linked into the module, and into
# the unit tests that exercise its parts directly.
noinst_LTLIBRARIES += plugin/mode/libmodecore.la
plugin_mode_libmodecore_la_SOURCES = \
	plugin/mode/conf.c plugin/mode/conf.h \
	plugin/mode/adapters.c plugin/mode/adapters.h \
	plugin/mode/filter.c plugin/mode/filter.h \
	plugin/mode/conntest.c plugin/mode/conntest.h \
	plugin/mode/http.c plugin/mode/http.h \
	plugin/mode/ratelimit.c plugin/mode/ratelimit.h \
	plugin/mode/retry.c plugin/mode/retry.h \
	plugin/mode/fetch.c plugin/mode/fetch.h \
	plugin/mode/hal.c plugin/mode/hal.h \
	plugin/mode/pager.c plugin/mode/pager.h \
	plugin/mode/crawl.c plugin/mode/crawl.h \
	plugin/mode/discovery.c plugin/mode/discovery.h \
	plugin/mode/mint.c plugin/mode/mint.h \
	plugin/mode/assemble.c plugin/mode/assemble.h \
	plugin/mode/entities.c plugin/mode/entities.h \
	plugin/mode/lineage.c plugin/mode/lineage.h \
	plugin/mode/owners.c plugin/mode/owners.h \
	plugin/mode/incremental.c plugin/mode/incremental.h \
	plugin/mode/usage.c plugin/mode/usage.h \
	plugin/mode/model.h \
	plugin/mode/util.c plugin/mode/util.h
MODE_CFLAGS = $(AM_CFLAGS) $(VISIBILITY_CFLAGS) $(CURL_CFLAGS) $(YAJL_CFLAGS)
plugin_mode_libmodecore_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)
plugin_mode_libmodecore_la_CFLAGS = $(MODE_CFLAGS)
plugin_mode_libmodecore_la_LIBADD = plugin/sql/libsqllineage.la $(CURL_LIBS) $(YAJL_LIBS)

plugin_LTLIBRARIES += plugin/mode.la
plugin_mode_la_SOURCES = plugin/mode/plugin.c
plugin_mode_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)
plugin_mode_la_CFLAGS = $(MODE_CFLAGS)
plugin_mode_la_LDFLAGS = -module -avoid-version -no-undefined -shared \
	-export-symbols-regex '^etl_plugin_entry$$'
plugin_mode_la_LIBADD = plugin/mode/libmodecore.la $(CURL_LIBS) $(YAJL_LIBS)

# Unit tests of the connector's parts.
MODE_TEST_CFLAGS = $(TESTUTIL_CFLAGS) -I$(top_srcdir) -I$(top_srcdir)/plugin/mode \
	$(CURL_CFLAGS) $(YAJL_CFLAGS)
MODE_TEST_LIBS = plugin/mode/libmodecore.la $(TESTUTIL_LIBS) $(CURL_LIBS) $(YAJL_LIBS)
check_PROGRAMS += tests/unit/test_mode_config tests/unit/test_mode_core tests/unit/test_mode_usage
TESTS += tests/unit/test_mode_config tests/unit/test_mode_core tests/unit/test_mode_usage
check_PROGRAMS += tests/unit/test_mode_adapters
TESTS += tests/unit/test_mode_adapters
tests_unit_test_mode_adapters_CFLAGS = $(MODE_TEST_CFLAGS)
tests_unit_test_mode_adapters_LDADD = $(MODE_TEST_LIBS)
tests_unit_test_mode_usage_CFLAGS = $(MODE_TEST_CFLAGS)
tests_unit_test_mode_usage_LDADD = $(MODE_TEST_LIBS)
tests_unit_test_mode_config_CFLAGS = $(MODE_TEST_CFLAGS)
tests_unit_test_mode_config_LDADD = $(MODE_TEST_LIBS)
tests_unit_test_mode_core_CFLAGS = $(MODE_TEST_CFLAGS)
tests_unit_test_mode_core_LDADD = $(MODE_TEST_LIBS)
check_PROGRAMS += tests/unit/test_mode_columns
TESTS += tests/unit/test_mode_columns
tests_unit_test_mode_columns_CFLAGS = $(MODE_TEST_CFLAGS)
tests_unit_test_mode_columns_LDADD = $(MODE_TEST_LIBS)

# End-to-end: the plugin through the ABI (tests/e2e/thirdparty_host) against mode-sim.
check_PROGRAMS += tests/e2e/test_mode_e2e
TESTS += tests/e2e/test_mode_e2e
tests_e2e_test_mode_e2e_CFLAGS = $(TESTUTIL_CFLAGS) $(YAJL_CFLAGS)
tests_e2e_test_mode_e2e_LDADD = $(TESTUTIL_LIBS) $(YAJL_LIBS)
EXTRA_DIST += tests/e2e/mode_compare.py
check_PROGRAMS += tests/e2e/test_mode_faults
TESTS += tests/e2e/test_mode_faults
tests_e2e_test_mode_faults_SOURCES = tests/e2e/test_mode_e2e.c
tests_e2e_test_mode_faults_CPPFLAGS = $(AM_CPPFLAGS) -DMODE_E2E_FAULTS
tests_e2e_test_mode_faults_CFLAGS = $(TESTUTIL_CFLAGS) $(YAJL_CFLAGS)
tests_e2e_test_mode_faults_LDADD = $(TESTUTIL_LIBS) $(YAJL_LIBS)

# Incremental runs: etlhost with the sqlite sink against mode-sim, over several runs.
check_PROGRAMS += tests/e2e/test_mode_incremental
TESTS += tests/e2e/test_mode_incremental
tests_e2e_test_mode_incremental_CFLAGS = $(TESTUTIL_CFLAGS) $(YAJL_CFLAGS) $(SQLITE_CFLAGS)
tests_e2e_test_mode_incremental_LDADD = $(TESTUTIL_LIBS) $(YAJL_LIBS) $(SQLITE_LIBS)

# Usage as a daily increase: etlhost with the sqlite sink against mode-sim over several days.
check_PROGRAMS += tests/e2e/test_mode_usage_days
TESTS += tests/e2e/test_mode_usage_days
tests_e2e_test_mode_usage_days_CFLAGS = $(TESTUTIL_CFLAGS) $(SQLITE_CFLAGS)
tests_e2e_test_mode_usage_days_LDADD = $(TESTUTIL_LIBS) $(SQLITE_LIBS)

# OpenMetadata's own Mode workflows (tests/fixtures/openmetadata-workflows) through etlhost
# against mode-sim: every key honoured or warned about, none refused or silently ignored.
check_PROGRAMS += tests/e2e/test_om_workflows
TESTS += tests/e2e/test_om_workflows
tests_e2e_test_om_workflows_CFLAGS = $(HOST_TEST_CFLAGS)
tests_e2e_test_om_workflows_LDADD = $(HOST_TEST_LIBS)
EXTRA_DIST += tests/fixtures/openmetadata-workflows

# Hostile listings (issue 14): etlhost with the sqlite sink against mode-sim's hostile shapes.
check_PROGRAMS += tests/e2e/test_mode_hostile
TESTS += tests/e2e/test_mode_hostile
tests_e2e_test_mode_hostile_CFLAGS = $(TESTUTIL_CFLAGS) $(SQLITE_CFLAGS)
tests_e2e_test_mode_hostile_LDADD = $(TESTUTIL_LIBS) $(SQLITE_LIBS)

# Benchmark: make tests/bench/lineage-bench && tests/bench/lineage-bench (output bytes per
# input byte of lineage); tests/bench/memory-bench is its RSS counterpart for a whole run.
noinst_PROGRAMS += tests/bench/lineage-bench
tests_bench_lineage_bench_SOURCES = tests/bench/lineage-bench.c
tests_bench_lineage_bench_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir) -I$(top_srcdir)/plugin/mode \
	$(CURL_CFLAGS) $(YAJL_CFLAGS)
tests_bench_lineage_bench_LDADD = plugin/mode/libmodecore.la $(CURL_LIBS) $(YAJL_LIBS)
EXTRA_DIST += tests/bench/memory-bench

# What the catalog learns about each report (issue 11): collections left out, freshness, charts
# tied to their query, against mode-sim.
check_PROGRAMS += tests/e2e/test_mode_catalog
TESTS += tests/e2e/test_mode_catalog
tests_e2e_test_mode_catalog_CFLAGS = $(TESTUTIL_CFLAGS) $(YAJL_CFLAGS) $(SQLITE_CFLAGS)
tests_e2e_test_mode_catalog_LDADD = $(TESTUTIL_LIBS) $(YAJL_LIBS) $(SQLITE_LIBS)
