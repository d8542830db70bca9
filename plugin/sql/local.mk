# plugin/sql: SQL table lineage and Mode templating (libc only), its CLI, tests and benchmark.

# The library: a convenience library that plugins link into their module (PIC through
# libtool, hidden visibility so it never leaks symbols out of a plugin).
noinst_LTLIBRARIES += plugin/sql/libsqllineage.la
plugin_sql_libsqllineage_la_SOURCES = \
	plugin/sql/sql_lineage.h plugin/sql/sql_internal.h plugin/sql/sql_keywords.h \
	plugin/sql/strbuf.c plugin/sql/lexer.c plugin/sql/extract.c plugin/sql/table.c \
	plugin/sql/definitions.c plugin/sql/liquid.c plugin/sql/render.c plugin/sql/columns.c
plugin_sql_libsqllineage_la_CFLAGS = $(AM_CFLAGS) $(VISIBILITY_CFLAGS)

# The command-line tool.
bin_PROGRAMS += plugin/sql/etl-sql-lineage
plugin_sql_etl_sql_lineage_SOURCES = plugin/sql/sql_cli.c
plugin_sql_etl_sql_lineage_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS)
plugin_sql_etl_sql_lineage_LDADD = plugin/sql/libsqllineage.la $(YAJL_LIBS)

# The libFuzzer target is not built by default (needs clang); see docs/sql-lineage.md.
EXTRA_DIST += plugin/sql/fuzz_sql.c

# Tests.
SQL_TEST_CFLAGS = $(TESTUTIL_CFLAGS) -I$(top_srcdir)
SQL_TEST_LIBS = plugin/sql/libsqllineage.la $(TESTUTIL_LIBS)

check_PROGRAMS += tests/unit/test_sql_corpus tests/unit/test_sql_liquid tests/unit/test_sql_hostile
TESTS += tests/unit/test_sql_corpus tests/unit/test_sql_liquid tests/unit/test_sql_hostile
check_PROGRAMS += tests/unit/test_sql_columns
TESTS += tests/unit/test_sql_columns
tests_unit_test_sql_columns_CFLAGS = $(SQL_TEST_CFLAGS)
tests_unit_test_sql_columns_LDADD = $(SQL_TEST_LIBS)
noinst_HEADERS += tests/unit/test_sql_names.h
tests_unit_test_sql_corpus_CFLAGS = $(SQL_TEST_CFLAGS) $(YAJL_CFLAGS)
tests_unit_test_sql_corpus_LDADD = $(SQL_TEST_LIBS) $(YAJL_LIBS)
tests_unit_test_sql_liquid_CFLAGS = $(SQL_TEST_CFLAGS) $(YAJL_CFLAGS)
tests_unit_test_sql_liquid_LDADD = $(SQL_TEST_LIBS) $(YAJL_LIBS)
tests_unit_test_sql_hostile_CFLAGS = $(SQL_TEST_CFLAGS)
tests_unit_test_sql_hostile_LDADD = $(SQL_TEST_LIBS)

TESTS += tests/unit/test_sql_cli.sh
dist_check_SCRIPTS += tests/unit/test_sql_cli.sh

# The public column corpus (tests/fixtures/sql-column-corpus): sql-column-corpus runs
# etl-sql-lineage --columns on each case; the script runs it on the corpus and on a fake CLI.
check_PROGRAMS += tests/unit/sql-column-corpus
tests_unit_sql_column_corpus_SOURCES = tests/unit/sql_column_corpus.c
tests_unit_sql_column_corpus_CFLAGS = $(SQL_TEST_CFLAGS) $(YAJL_CFLAGS)
tests_unit_sql_column_corpus_LDADD = $(TESTUTIL_LIBS) $(YAJL_LIBS)
TESTS += tests/unit/test_sql_column_corpus.sh
dist_check_SCRIPTS += tests/unit/test_sql_column_corpus.sh

# Benchmark: make tests/bench/sql-bench && tests/bench/sql-bench (see docs/sql-lineage.md).
noinst_PROGRAMS += tests/bench/sql-bench
tests_bench_sql_bench_SOURCES = tests/bench/sql-bench.c
tests_bench_sql_bench_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir) $(YAJL_CFLAGS)
tests_bench_sql_bench_LDADD = plugin/sql/libsqllineage.la $(YAJL_LIBS)

# Scaling benchmark: tests/bench/sql-scale prints seconds per size and the doubling ratio.
noinst_PROGRAMS += tests/bench/sql-scale
tests_bench_sql_scale_SOURCES = tests/bench/sql-scale.c
tests_bench_sql_scale_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)
tests_bench_sql_scale_LDADD = plugin/sql/libsqllineage.la
