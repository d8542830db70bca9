#!/usr/bin/env bash
# A third-party host: tests/e2e/thirdparty_host.c is compiled here against nothing but the
# public header found through etl-plugin.pc (the header copied to a fresh include directory,
# as an install would put it), loads plugins with plain dlopen, and runs them end to end.
# Prints TAP.
set -u
b=${ETL_TOP_BUILDDIR:?} s=${ETL_TOP_SRCDIR:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0
check() { # check DESCRIPTION COMMAND...
  n=$((n + 1))
  local desc=$1; shift
  if "$@" >"$tmp/out.$n" 2>&1; then echo "ok $n - $desc"
  else echo "not ok $n - $desc"; sed 's/^/# /' "$tmp/out.$n"; failed=1; fi
}
echo 1..7

mkdir -p "$tmp/include/etl"
cp "$s/host-api/include/etl/plugin.h" "$tmp/include/etl/"
# The compiler and flags this tree was configured with (under ASan the plugins need an
# ASan host), but no include directory of the tree: only what etl-plugin.pc says.
mkvar() { sed -n "s/^$1 = //p" "$b/Makefile" | head -1; }
cc=$(mkvar CC) user_cflags=$(mkvar CFLAGS) user_ldflags=$(mkvar LDFLAGS)
build() {
  cflags=$(PKG_CONFIG_PATH="$b/host-api" pkg-config --define-variable=includedir="$tmp/include" \
    --cflags etl-plugin) || return 1
  case "$cflags" in *"$tmp/include"*) ;; *) echo "Cflags without the include dir: $cflags"; return 1;; esac
  ${cc:-cc} -std=c11 -Wall -Wextra -Werror $user_cflags $cflags -o "$tmp/host" \
    "$s/tests/e2e/thirdparty_host.c" $user_ldflags -ldl
}
check "builds against etl-plugin.pc and <etl/plugin.h> alone" build

replay() { # the jsonl plugin gives back exactly the lines of the file sink's format
  d="$s/tests/fixtures/demo"
  printf '{"path": ["%s/service.jsonl", "%s/reports.jsonl"]}' "$d" "$d" >"$tmp/jsonl.json"
  "$tmp/host" --name demo_mode "$b/plugin/.libs/jsonl.so" "$tmp/jsonl.json" >"$tmp/replay.jsonl" &&
    cat "$d/service.jsonl" "$d/reports.jsonl" | diff - "$tmp/replay.jsonl"
}
check "runs the jsonl plugin end to end (lines round-trip)" replay

fake_state() {
  echo '{"count": 5, "state_every": 2}' >"$tmp/fake.json"
  "$tmp/host" "$b/tests/plugins/.libs/fake.so" "$tmp/fake.json" >"$tmp/fake.out" || return 1
  [ "$(grep -c '"kind":"chart"' "$tmp/fake.out")" = 5 ] && grep -q '^# state {"next": 4}$' "$tmp/fake.out"
}
check "runs a plugin that emits state" fake_state

resume() {
  echo '{"next": 3}' >"$tmp/state.json"
  "$tmp/host" --state "$tmp/state.json" "$b/tests/plugins/.libs/fake.so" "$tmp/fake.json" >"$tmp/resume.out" &&
    [ "$(grep -c '"kind":"chart"' "$tmp/resume.out")" = 2 ]
}
check "hands state back to open" resume

state_out() { # --state-out keeps the last state, as --state reads it; the summary counts
  "$tmp/host" --state-out "$tmp/saved.json" "$b/tests/plugins/.libs/fake.so" "$tmp/fake.json" \
    >"$tmp/saved.out" 2>"$tmp/saved.err" || return 1
  [ "$(sed -n 's/^# state //p' "$tmp/saved.out" | tail -1)" = "$(cat "$tmp/saved.json")" ] &&
    grep -q '^summary {"plugin":"fake",.*"status":"ETL_DONE","entities":8,"requests":5,' "$tmp/saved.err"
}
check "saves the last state and prints a summary" state_out

conn_test() {
  "$tmp/host" --test "$b/plugin/.libs/jsonl.so" "$tmp/jsonl.json" >"$tmp/test.out" 2>&1 &&
    grep -q 'PASS file 2' "$tmp/test.out"
}
check "runs a connection test" conn_test

refuses() {
  "$tmp/host" "$b/tests/plugins/.libs/wrong_major.so" "$tmp/fake.json"
  [ $? -eq 2 ]
}
check "refuses a plugin of another ABI major" refuses
exit $failed
