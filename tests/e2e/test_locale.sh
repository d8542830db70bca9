#!/bin/sh
# test_locale.sh -- etlhost under a comma-decimal locale (issue 12): etlhost takes the user's
# locale (setlocale(LC_ALL, "")), as Python, GTK and Qt hosts do, and nothing changes:
#   1  the Mode plugin reads `connectTimeoutSeconds: 0.5` and `rateBurst: 2.5` as written (0.5
#      read as 0 was refused, 2.5 read as 2);
#   2  the run's file sink output equals the one under LC_ALL=C;
#   3  the --summary-json file is JSON (seconds written "1,5" was not).
# Skips when no de_DE.UTF-8 locale is installed (tests/deps.sh generates it). Prints TAP.
set -u
S=${ETL_TOP_SRCDIR:?ETL_TOP_SRCDIR is not set}
. "$S/tests/e2e/tap-lib.sh"
use_build
echo "1..3"
LOC=$(locale -a 2>/dev/null | grep -i -m1 '^de_DE\.utf-\{0,1\}8$')
if [ -z "$LOC" ]; then
  for t in "Mode config numbers" "same output" "summary JSON"; do
    skip "$t under de_DE.UTF-8" "no de_DE.UTF-8 locale installed (tests/deps.sh generates it)"
  done
  exit 0
fi

start_server "$T/sim.out" "$MODESIM" --rate-limit off --spaces 2 --reports-per-space 3
cat >"$T/wf.yaml" <<YAML
source:
  type: mode
  serviceName: loc_mode
  serviceConnection:
    config:
      type: Mode
      hostPort: $url
      accessToken: test-token
      accessTokenPassword: test-secret
      workspaceName: acme
      requestsPerSecond: 1000.5
      rateBurst: 2.5
      connectTimeoutSeconds: 0.5
  sourceConfig:
    config:
      type: DashboardMetadata
sink:
  type: file
  config: {path: out.jsonl}
YAML
run() { # LOCALE DIR: a run in its own directory (its own state store)
  mkdir -p "$T/$2"
  (cd "$T/$2" && env LC_ALL="$1" ETL_MODE_TODAY=2026-01-02 ETL_PLUGIN_PATH="$PLUGINS" \
    "$ETLHOST" --no-progress --summary-json summary.json run ../wf.yaml >run.log 2>&1)
}
run C c
rc_c=$?
run "$LOC" de
rc_de=$?
if [ $rc_c -eq 0 ] && [ $rc_de -eq 0 ]; then
  ok "Mode config numbers read as written under $LOC"
else
  not_ok "Mode config numbers read as written under $LOC" "exit C $rc_c, $LOC $rc_de" \
    "$(cat "$T/de/run.log")"
fi
# The crawl's order depends on which answer comes first: compare the records, sorted.
LC_ALL=C sort "$T/c/out.jsonl" >"$T/c.sorted" 2>/dev/null
LC_ALL=C sort "$T/de/out.jsonl" >"$T/de.sorted" 2>/dev/null
if [ -s "$T/c.sorted" ] && cmp -s "$T/c.sorted" "$T/de.sorted"; then
  ok "same file sink output under $LOC as under C ($(wc -l <"$T/c.sorted") records)"
else
  not_ok "same file sink output under $LOC as under C" \
    "$(diff "$T/c.sorted" "$T/de.sorted" 2>&1 | head -5)"
fi
if "$PY" -c 'import json, sys; json.load(open(sys.argv[1]))' "$T/de/summary.json" 2>"$T/json.err"; then
  ok "--summary-json is JSON under $LOC"
else
  not_ok "--summary-json is JSON under $LOC" "$(cat "$T/json.err")" "$(cat "$T/de/summary.json")"
fi
