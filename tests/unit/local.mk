# tests/unit: Check suites of the host and the ABI.
check_PROGRAMS += tests/unit/test_abi_header
TESTS += tests/unit/test_abi_header
tests_unit_test_abi_header_CFLAGS = $(TESTUTIL_CFLAGS) -pedantic
tests_unit_test_abi_header_LDADD = $(TESTUTIL_LIBS)

# Suites of the runner (config, loader, runner); they link the host's own modules, and the
# loader and runner suites also run the etlhost binary and load tests/plugins/*.so.
HOST_TEST_CFLAGS = $(TESTUTIL_CFLAGS) $(YAJL_CFLAGS) $(SQLITE_CFLAGS) -I$(top_srcdir)/host-api/src
HOST_TEST_LIBS = $(HOST_ALL_LIBS) $(TESTUTIL_LIBS)

check_PROGRAMS += tests/unit/test_host_config tests/unit/test_host_loader \
	tests/unit/test_host_runner
TESTS += tests/unit/test_host_config tests/unit/test_host_loader tests/unit/test_host_runner
tests_unit_test_host_config_SOURCES = tests/unit/test_host_config.c
tests_unit_test_host_config_CFLAGS = $(HOST_TEST_CFLAGS)
tests_unit_test_host_config_LDADD = $(HOST_TEST_LIBS)
tests_unit_test_host_loader_SOURCES = tests/unit/test_host_loader.c
tests_unit_test_host_loader_CFLAGS = $(HOST_TEST_CFLAGS)
tests_unit_test_host_loader_LDADD = $(HOST_TEST_LIBS)
tests_unit_test_host_runner_SOURCES = tests/unit/test_host_runner.c
tests_unit_test_host_runner_CFLAGS = $(HOST_TEST_CFLAGS)
tests_unit_test_host_runner_LDADD = $(HOST_TEST_LIBS)

# Hostile workflow files: alias bombs, deep nests, a second document.
check_PROGRAMS += tests/unit/test_host_yaml
TESTS += tests/unit/test_host_yaml
tests_unit_test_host_yaml_SOURCES = tests/unit/test_host_yaml.c
tests_unit_test_host_yaml_CFLAGS = $(HOST_TEST_CFLAGS)
tests_unit_test_host_yaml_LDADD = $(HOST_TEST_LIBS)

# ETL_PLUGIN_STATIC: two plugins' sources linked into one program (static preloading).
check_PROGRAMS += tests/unit/test_static_plugins
TESTS += tests/unit/test_static_plugins
tests_unit_test_static_plugins_SOURCES = tests/unit/test_static_plugins.c plugin/jsonl/jsonl.c \
	tests/plugins/fake.c
tests_unit_test_static_plugins_CPPFLAGS = $(AM_CPPFLAGS) -DETL_PLUGIN_STATIC
tests_unit_test_static_plugins_CFLAGS = $(TESTUTIL_CFLAGS) $(YAJL_CFLAGS)
tests_unit_test_static_plugins_LDADD = $(TESTUTIL_LIBS) $(YAJL_LIBS)

# The jsonl source on hostile lines, its source compiled in as above.
check_PROGRAMS += tests/unit/test_jsonl
TESTS += tests/unit/test_jsonl
tests_unit_test_jsonl_SOURCES = tests/unit/test_jsonl.c plugin/jsonl/jsonl.c
tests_unit_test_jsonl_CPPFLAGS = $(AM_CPPFLAGS) -DETL_PLUGIN_STATIC
tests_unit_test_jsonl_CFLAGS = $(TESTUTIL_CFLAGS) $(YAJL_CFLAGS)
tests_unit_test_jsonl_LDADD = $(TESTUTIL_LIBS) $(YAJL_LIBS)

# The public header is C89 (and -pedantic clean): this program is compiled as C89 and fails to
# build when the header is not.
check_PROGRAMS += tests/unit/test_abi_c89
TESTS += tests/unit/test_abi_c89
tests_unit_test_abi_c89_CFLAGS = -std=c89 -pedantic-errors $(WARN_CFLAGS)

# The in-tree plugins under other hosts, loaded with dlopen: the minimum services table,
# another ABI major, cancellation through cancelled() alone (issue 12).
check_PROGRAMS += tests/unit/test_plugin_hosts
TESTS += tests/unit/test_plugin_hosts
tests_unit_test_plugin_hosts_CFLAGS = $(TESTUTIL_CFLAGS) -I$(top_srcdir)/host-api/check
tests_unit_test_plugin_hosts_LDADD = $(TESTUTIL_LIBS) -ldl $(PTHREAD_LIBS)

# Mode initialises libcurl once per load and cleans it up on unload (issue 12).
check_PROGRAMS += tests/unit/test_mode_curl_once
TESTS += tests/unit/test_mode_curl_once
tests_unit_test_mode_curl_once_LDADD = -ldl
tests_unit_test_mode_curl_once_LDFLAGS = -export-dynamic
