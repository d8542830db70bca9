# host-api/catalog.mk: reading the SQLite catalog (the default sink's file) for people: lineage
# pictures with Graphviz's libraries (issue 15). etlhost links host-api/libhostcatalog.la.
noinst_LTLIBRARIES += host-api/libhostcatalog.la
host_api_libhostcatalog_la_SOURCES = \
	host-api/src/lineage.h host-api/src/lineage_graph.c host-api/src/lineage_graph.h \
	host-api/src/lineage_render.c host-api/src/lineage_cli.c host-api/src/lineage_cli.h
host_api_libhostcatalog_la_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS) $(GVC_CFLAGS)
host_api_libhostcatalog_la_LIBADD = $(SQLITE_LIBS) $(GVC_LIBS)

# What a program using the catalog library links (etlhost adds it to HOST_ALL_LIBS' users).
CATALOG_LIBS = host-api/libhostcatalog.la host-api/libhostsinks.la host-api/libhostcommon.la \
	$(SQLITE_LIBS) $(GVC_LIBS)

check_PROGRAMS += tests/unit/test_lineage
TESTS += tests/unit/test_lineage
tests_unit_test_lineage_SOURCES = tests/unit/test_lineage.c tests/unit/sink_testlib.h
tests_unit_test_lineage_CFLAGS = $(SINKS_TEST_CFLAGS) $(GVC_CFLAGS)
tests_unit_test_lineage_LDADD = host-api/libhostcatalog.la $(SINKS_TEST_LIBS) $(GVC_LIBS)

# End to end on a catalog etlhost builds from mode-sim, and under valgrind.
TESTS += tests/e2e/test_lineage.sh
dist_check_SCRIPTS += tests/e2e/test_lineage.sh
EXTRA_DIST += tests/e2e/graphviz.supp
EXTRA_DIST += tests/bench/catalog-lineage-bench
