# tests/fuzz: libFuzzer targets, their seed corpora and the crashes they found (docs/fuzzing.md).
# Not part of `make check`: `make fuzz-smoke` builds them with clang when there is one (and
# says it skipped otherwise), then runs each for FUZZ_SECONDS (default 30).
EXTRA_DIST += tests/fuzz/fuzz-smoke.sh tests/fuzz/seed-corpus.py tests/fuzz/fuzz_hal.c tests/fuzz/fuzz_jsonl.c \
	tests/fuzz/fuzz_omrest.c tests/fuzz/fuzz_workflow.c tests/fuzz/corpus tests/fuzz/crashes

fuzz-smoke:
	YAJL_CFLAGS='$(YAJL_CFLAGS)' YAJL_LIBS='$(YAJL_LIBS)' YAML_CFLAGS='$(YAML_CFLAGS)' \
	YAML_LIBS='$(YAML_LIBS)' $(SHELL) $(top_srcdir)/tests/fuzz/fuzz-smoke.sh \
	  '$(top_srcdir)' '$(top_builddir)'

clean-local: clean-fuzz
clean-fuzz:
	rm -rf tests/fuzz/bin tests/fuzz/work tests/fuzz/artifacts tests/fuzz/*.log

.PHONY: fuzz-smoke clean-fuzz
