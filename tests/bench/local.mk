# tests/bench: benchmarks (not tests). mode-bench runs the Mode connector against mode-sim:
#   make plugin/mode.la tests/e2e/thirdparty_host tests/mode-sim/mode-sim && tests/bench/mode-bench
EXTRA_DIST += tests/bench/mode-bench tests/bench/yaml-bench.sh tests/bench/parallel-bench.sh \
	tests/bench/discovery-bench

# json-scale: time to read one long JSON string fed in curl-sized chunks (linear or not).
noinst_PROGRAMS += tests/bench/json-scale
tests_bench_json_scale_SOURCES = tests/bench/json-scale.c
tests_bench_json_scale_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir) $(YAJL_CFLAGS)
tests_bench_json_scale_LDADD = plugin/mode/libmodecore.la $(CURL_LIBS) $(YAJL_LIBS)
