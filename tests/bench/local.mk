# tests/bench: benchmarks (not tests). mode-bench runs the Mode connector against mode-sim:
#   make plugin/mode.la tests/e2e/thirdparty_host tests/mode-sim/mode-sim && tests/bench/mode-bench
EXTRA_DIST += tests/bench/mode-bench tests/bench/yaml-bench.sh
