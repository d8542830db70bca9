#!/bin/sh
# fuzz-smoke.sh -- builds the libFuzzer targets with clang and runs each for a while.
#
#   tests/fuzz/fuzz-smoke.sh TOP_SRCDIR TOP_BUILDDIR      (what `make fuzz-smoke` runs)
#
# Environment: FUZZ_SECONDS (per target, default 30), FUZZ_TARGETS (default: all of
# sql hal workflow jsonl omrest), FUZZ_MAX_LEN (default 65536), CLANG (default clang),
# YAJL_CFLAGS YAJL_LIBS YAML_CFLAGS YAML_LIBS (make passes configure's). Without a clang that
# can build -fsanitize=fuzzer it says it skipped and exits 0: fuzzing is optional. Otherwise it
# exits 1 when a target crashed, leaked, hung or ran out of memory, and names the reproducer
# (under TOP_BUILDDIR/tests/fuzz/artifacts/). New inputs go to TOP_BUILDDIR/tests/fuzz/work/,
# never into the seed corpus in the source tree. See docs/fuzzing.md.
set -u
top=${1:?usage: fuzz-smoke.sh TOP_SRCDIR TOP_BUILDDIR}
build=${2:?usage: fuzz-smoke.sh TOP_SRCDIR TOP_BUILDDIR}
top=$(cd "$top" && pwd)
build=$(cd "$build" && pwd)
seconds=${FUZZ_SECONDS:-30}
targets=${FUZZ_TARGETS:-sql hal workflow jsonl omrest}
max_len=${FUZZ_MAX_LEN:-65536}
clang=${CLANG:-clang}
out=$build/tests/fuzz

if ! command -v "$clang" >/dev/null 2>&1; then
  echo "fuzz-smoke: skipped: $clang not found (apt-get install clang)"
  exit 0
fi
mkdir -p "$out/bin" "$out/artifacts" "$out/work"
probe=$out/bin/probe
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
  >"$probe.c"
if ! "$clang" -fsanitize=fuzzer "$probe.c" -o "$probe" >/dev/null 2>&1; then
  echo "fuzz-smoke: skipped: $clang cannot build -fsanitize=fuzzer programs"
  exit 0
fi

san="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
cflags="-std=c11 -g -O1 -fno-omit-frame-pointer $san -DHAVE_CONFIG_H -I$build -I$top \
  -I$top/host-api/include ${YAJL_CFLAGS:-} ${YAML_CFLAGS:-}"
libs="${YAJL_LIBS:--lyajl} ${YAML_LIBS:--lyaml}"
sql_lib="strbuf lexer extract table definitions liquid render columns"

# The sources of each target (relative to TOP_SRCDIR) and extra flags.
sources() {
  case $1 in
  sql) for m in $sql_lib; do printf '%s ' "plugin/sql/$m.c"; done
       echo "plugin/sql/fuzz_sql.c" ;;
  hal) echo "plugin/mode/hal.c tests/fuzz/fuzz_hal.c" ;;
  workflow) echo "host-api/src/workflow.c host-api/src/yaml_json.c host-api/src/log.c host-api/src/cnum.c tests/fuzz/fuzz_workflow.c" ;;
  jsonl) echo "plugin/jsonl/jsonl.c tests/fuzz/fuzz_jsonl.c" ;;
  omrest) echo "host-api/src/omrest_json.c tests/fuzz/fuzz_omrest.c" ;;
  *) return 1 ;;
  esac
}
extra() {
  case $1 in
  jsonl) echo "-DETL_PLUGIN_STATIC" ;;
  sql) echo "-I$top/plugin/sql" ;;
  *) echo "" ;;
  esac
}

status=0
for t in $targets; do
  srcs=$(sources "$t") || { echo "fuzz-smoke: $t: no such target"; status=1; continue; }
  bin=$out/bin/fuzz_$t
  # shellcheck disable=SC2086 # word splitting of flag lists is intended
  if ! (cd "$top" && "$clang" $cflags $(extra "$t") $srcs -o "$bin" $libs) >"$out/build-$t.log" 2>&1; then
    echo "fuzz-smoke: $t: build failed:"
    cat "$out/build-$t.log"
    status=1
    continue
  fi
  mkdir -p "$out/work/$t"
  log=$out/run-$t.log
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
    -print_final_stats=1 -artifact_prefix="$out/artifacts/$t-" \
    "$out/work/$t" "$top/tests/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  corpus=$(ls "$out/work/$t" "$top/tests/fuzz/corpus/$t" 2>/dev/null | grep -vc ':$')
  if [ "$rc" -eq 0 ]; then
    echo "fuzz-smoke: $t: ok, ${runs:-?} runs in ${seconds}s, corpus $corpus"
  else
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    what=$(grep -m1 -E '^==[0-9]+==ERROR|^SUMMARY|ERROR: libFuzzer|runtime error' "$log")
    echo "fuzz-smoke: $t: FAILED after ${runs:-?} runs: $what"
    echo "fuzz-smoke: $t: reproducer: ${artifact:-none}; full log: $log"
    status=1
  fi
done
exit $status
