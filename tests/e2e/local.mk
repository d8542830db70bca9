# tests/e2e: a third-party host that includes only <etl/plugin.h> and dlopens plugins (also
# the driver of the Mode tests and of tests/bench/mode-bench, and a tool for plugin authors:
# its options are at the top of thirdparty_host.c), the test that builds it against
# etl-plugin.pc, and the exported-symbols check.
check_PROGRAMS += tests/e2e/thirdparty_host
tests_e2e_thirdparty_host_SOURCES = tests/e2e/thirdparty_host.c
tests_e2e_thirdparty_host_CPPFLAGS = -I$(top_srcdir)/host-api/include
tests_e2e_thirdparty_host_CFLAGS = $(AM_CFLAGS)
tests_e2e_thirdparty_host_LDADD = -ldl $(PTHREAD_LIBS)

TESTS += tests/e2e/thirdparty.sh tests/e2e/exports.sh
dist_check_SCRIPTS += tests/e2e/thirdparty.sh tests/e2e/exports.sh
EXTRA_DIST += tests/fixtures/demo

# The product end to end under valgrind (skips itself in sanitizer builds).
TESTS += tests/e2e/valgrind.sh
dist_check_SCRIPTS += tests/e2e/valgrind.sh

# TLS verification of the Mode connector (caBundle) and the metadata-rest sink
# (sslConfig.certificatePath) against the simulators serving HTTPS with a throwaway CA.
TESTS += tests/e2e/test_tls.sh
dist_check_SCRIPTS += tests/e2e/test_tls.sh
EXTRA_DIST += tests/e2e/tap-lib.sh

# Mode's Discovery API (issue 11 items 5, 6): batch runs against regular ones on mode-sim.
TESTS += tests/e2e/test_mode_discovery.sh
dist_check_SCRIPTS += tests/e2e/test_mode_discovery.sh

# Servers that accept and never answer: signals stop etlhost, and Mode's waits are bounded.
TESTS += tests/e2e/test_hostile_waits.sh
dist_check_SCRIPTS += tests/e2e/test_hostile_waits.sh

# The sqlite catalog's "which dashboards use column X of table T" query (docs/sinks.md).
TESTS += tests/e2e/test_catalog_columns.sh
dist_check_SCRIPTS += tests/e2e/test_catalog_columns.sh

# A plugin written in C++ loads, is listed and runs beside a C plugin (issue 12).
TESTS += tests/e2e/test_cxx_plugin.sh
dist_check_SCRIPTS += tests/e2e/test_cxx_plugin.sh

# etlhost under LC_ALL=de_DE.UTF-8: config numbers, output and summary JSON unchanged (issue 12).
TESTS += tests/e2e/test_locale.sh
dist_check_SCRIPTS += tests/e2e/test_locale.sh

# The Python binding (host-api/python/etl_plugin) against etlhost and mode-sim (issue 12).
TESTS += tests/e2e/test_python_binding.sh
dist_check_SCRIPTS += tests/e2e/test_python_binding.sh
EXTRA_DIST += tests/e2e/python_binding.py host-api/python

# jsonl's interrupt flag under ThreadSanitizer (issue 12); skips without TSan.
TESTS += tests/e2e/test_jsonl_tsan.sh
dist_check_SCRIPTS += tests/e2e/test_jsonl_tsan.sh
EXTRA_DIST += tests/e2e/jsonl_race.c

# The Debian packages built and run, the systemd units and the Airflow DAG of contrib/
# (docs/deploy.md), and two runs of one workflow at once.
TESTS += tests/e2e/test_deploy.sh
dist_check_SCRIPTS += tests/e2e/test_deploy.sh

# etl-plugin-check (host-api/check.mk) on every in-tree plugin, and on each deliberately broken
# one, which it must fail naming the rule (issue 12 item 2).
TESTS += tests/e2e/test_plugin_check.sh
dist_check_SCRIPTS += tests/e2e/test_plugin_check.sh
