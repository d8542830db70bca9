#!/bin/sh
# test_plugin_check.sh -- etl-plugin-check, the conformance kit (host-api/check/), on every
# in-tree plugin: jsonl driven in full over a tiny JSON Lines file (1, 2), and without a config, when
# it checks what needs none (3); mode driven in full against mode-sim (4). Then each deliberately
# broken plugin of tests/plugins must fail, with a FAIL line naming the rule it breaks (5-8),
# and tests/plugins/rude.c each runtime rule it breaks (9-12).
# Prints TAP.
set -u
B=${ETL_TOP_BUILDDIR:?ETL_TOP_BUILDDIR is not set}
S=${ETL_TOP_SRCDIR:?ETL_TOP_SRCDIR is not set}
PLUGINS=${ETL_PLUGIN_PATH:-$B/plugin/.libs}
KIT=$B/host-api/etl-plugin-check
MODESIM=$B/tests/mode-sim/mode-sim
BROKEN=$B/tests/plugins/.libs
. "$S/tests/e2e/tap-lib.sh"
echo "1..12"
[ -x "$KIT" ] || { echo "Bail out! $KIT is not built"; exit 1; }

# check NAME EXPECTED-EXIT GREP-PATTERN KIT-ARGS...: runs the kit; passes when it exits as
# expected and its output has a line matching the pattern.
check() {
  name=$1 want=$2 pat=$3
  shift 3
  "$KIT" "$@" >"$T/out" 2>"$T/err"
  rc=$?
  if [ "$rc" -eq "$want" ] && grep -q "$pat" "$T/out"; then ok "$name"
  else not_ok "$name" "exit $rc, wanted $want and a line matching '$pat'" "$(cat "$T/out" "$T/err")"; fi
}

printf '%s\n' '{"kind": "chart", "id": "c1", "data": {"name": "c1", "chartType": "Bar", "service": "t"}}' \
  '{"kind": "dashboard", "id": "d1", "data": {"name": "d1", "charts": ["t.c1"], "service": "t"}}' \
  '{"kind": "chart", "id": "c2", "data": {"name": "c2", "chartType": "Line", "service": "t"}}' \
  >"$T/tiny.jsonl"
printf '{"path": "%s"}\n' "$T/tiny.jsonl" >"$T/jsonl.json"
# Every rule that needs a config ran and passed (none skipped but the locale, when missing).
check "jsonl passes every rule" 0 '^PASS interrupt' "$PLUGINS/jsonl.so" --config "$T/jsonl.json"
if grep -q '^PASS min-services (3 entities)' "$T/out" && grep -q '^PASS locale (3 identical' "$T/out" ||
  { grep -q '^PASS min-services (3 entities)' "$T/out" && grep -q '^SKIP locale' "$T/out"; }; then
  ok "jsonl: the kit saw the file's 3 entities"
else not_ok "jsonl: the kit saw the file's 3 entities" "$(cat "$T/out")"; fi

check "jsonl without a config: loads, descriptor, schema, other major, reload" 0 \
  '^SKIP min-services: no --config' "$PLUGINS/jsonl.so"

start_server "$T/sim.out" "$MODESIM" --port 0 --seed 1 --spaces 1 --reports-per-space 2 \
  --queries-per-report 1 --charts-per-query 1 --users 1 --data-sources 1
printf '{"hostPort": "%s", "accessToken": "test-token", "accessTokenPassword": "test-secret", "workspaceName": "acme"}\n' \
  "$url" >"$T/mode.json"
check "mode passes every rule against mode-sim" 0 '^PASS interrupt' "$PLUGINS/mode.so" \
  --config "$T/mode.json"

check "wrong_major fails the descriptor rule" 1 '^FAIL descriptor: abi_major' \
  "$BROKEN/wrong_major.so"
check "short_desc fails the descriptor rule" 1 '^FAIL descriptor: struct_size' \
  "$BROKEN/short_desc.so"
check "null_callbacks fails the descriptor rule" 1 '^FAIL descriptor: callback next_entity is NULL' \
  "$BROKEN/null_callbacks.so"
check "no_entry fails the entry-symbol rule" 1 '^FAIL entry-symbol' "$BROKEN/no_entry.so"

echo '{}' >"$T/empty.json"
"$KIT" "$BROKEN/rude.so" --config "$T/empty.json" >"$T/rude" 2>&1
rc=$?
for rule in min-services other-major interrupt; do
  if [ "$rc" -eq 1 ] && grep -q "^FAIL $rule: " "$T/rude"; then ok "rude fails the $rule rule"
  else not_ok "rude fails the $rule rule" "exit $rc" "$(cat "$T/rude")"; fi
done
if grep -q '^SKIP locale' "$T/rude"; then skip "rude fails the locale rule" "no de_DE.UTF-8 locale"
elif grep -q '^FAIL locale: ' "$T/rude"; then ok "rude fails the locale rule"
else not_ok "rude fails the locale rule" "$(cat "$T/rude")"; fi
