#!/bin/sh
# test_jsonl_tsan.sh -- jsonl's interrupt flag under ThreadSanitizer (issue 12): interrupt() from
# another thread while next_entity reads the flag is no data race (it was, with a volatile
# sig_atomic_t). Builds tests/e2e/jsonl_race.c with plugin/jsonl/jsonl.c and -fsanitize=thread
# using the compiler this tree was configured with; skips where TSan cannot build or run.
# Prints TAP.
set -u
B=${ETL_TOP_BUILDDIR:?ETL_TOP_BUILDDIR is not set}
S=${ETL_TOP_SRCDIR:?ETL_TOP_SRCDIR is not set}
. "$S/tests/e2e/tap-lib.sh"
echo "1..1"
mkvar() { sed -n "s/^$1 = //p" "$B/Makefile" | head -1; }
cc=$(mkvar CC) yajl_cflags=$(mkvar YAJL_CFLAGS) yajl_libs=$(mkvar YAJL_LIBS)
case "$(mkvar CFLAGS)" in *-fsanitize=*)
  skip "jsonl interrupt() is no data race" "another sanitizer is built in"; exit 0;;
esac
if ! ${cc:-cc} -std=c11 -g -O1 -fsanitize=thread -DETL_PLUGIN_STATIC -I"$B" -I"$S/host-api/include" \
  $yajl_cflags -o "$T/race" "$S/tests/e2e/jsonl_race.c" "$S/plugin/jsonl/jsonl.c" $yajl_libs \
  -pthread >"$T/build.log" 2>&1; then
  skip "jsonl interrupt() is no data race" "cannot build with -fsanitize=thread: $(head -1 "$T/build.log")"
  exit 0
fi
TSAN_OPTIONS=report_bugs=0 "$T/race" /dev/null >/dev/null 2>&1 || {
  skip "jsonl interrupt() is no data race" "TSan programs do not run here"; exit 0; }
i=0
while [ $i -lt 20000 ]; do
  echo "{\"kind\":\"chart\",\"id\":\"c$i\",\"data\":{\"name\":\"c$i\"}}"
  i=$((i + 1))
done >"$T/many.jsonl"
TSAN_OPTIONS="halt_on_error=1 exitcode=66" "$T/race" "$T/many.jsonl" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] && ! grep -q 'data race' "$T/err"; then
  ok "jsonl interrupt() from another thread is no data race ($(cat "$T/out"))"
else
  not_ok "jsonl interrupt() from another thread is no data race" "exit $rc" "$(head -12 "$T/err")"
fi
