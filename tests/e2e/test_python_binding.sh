#!/bin/sh
# test_python_binding.sh -- the Python binding (host-api/python/etl_plugin, ctypes, stdlib only)
# against etlhost (issue 12):
#   1    `python3 -m etl_plugin run` on jsonl writes exactly etlhost's file sink bytes, also for
#        records with control characters, non-ASCII text, `/` and numbers in every notation;
#   2    the same on the Mode plugin against mode-sim (records compared sorted: the crawl's
#        order follows the answers), and the state written back with --state;
#   3-9  the API, in tests/e2e/python_binding.py: load, descriptor, test(), entities() with
#        .kind/.id/.data/extras, a config error, interrupt() from another thread, Ctrl-C;
#   10   installed by make into a prefix, `import etl_plugin` works from its site directory.
# Prints TAP.
set -u
S=${ETL_TOP_SRCDIR:?ETL_TOP_SRCDIR is not set}
. "$S/tests/e2e/tap-lib.sh"
use_build
PYTHONPATH=$S/host-api/python
PYTHONDONTWRITEBYTECODE=1 # nothing written into the source tree
export PYTHONDONTWRITEBYTECODE
export PYTHONPATH
if ldd "$ETLHOST" 2>/dev/null | grep -q 'libasan'; then
  # The plugins of an ASan build need the ASan runtime first in the process; python3 is not
  # built with it. The plain build's run of this test covers the binding.
  echo "1..0 # SKIP sanitizer build: python3 cannot load ASan-instrumented plugins"
  exit 0
fi
if ! "$PY" -c 'import etl_plugin' 2>"$T/import.err"; then
  echo "1..0 # SKIP etl_plugin does not import with $PY: $(cat "$T/import.err")"
  exit 0
fi

echo "1..10"
# ---- 1: jsonl, byte for byte -----------------------------------------------------------------
D=$S/tests/fixtures/demo
cat >"$T/tricky.jsonl" <<'JSONL'
{"kind":"chart","id":"t/1 é","source":"x","data":{"name":"a\u0001b\tc\nd\"e\\f/g \u00e9 \ud83d\ude00","n":[1.0e+5,-0,0.25,12345678901234567890,1E-3],"ok":true,"no":null,"empty":{},"list":[]},"owners":[]}
{"kind" : "dashboard" , "id" : "t2" , "data" : { "x" : [ 1 , { } ] } }
JSONL
printf '{"path": ["%s/service.jsonl", "%s/reports.jsonl", "%s/tricky.jsonl"]}' "$D" "$D" "$T" \
  >"$T/jsonl.json"
cat >"$T/jsonl.yaml" <<YAML
source:
  type: jsonl
  serviceName: demo_mode
  serviceConnection:
    config:
      path: [$D/service.jsonl, $D/reports.jsonl, $T/tricky.jsonl]
sink:
  type: file
  config: {path: etlhost.jsonl}
YAML
(cd "$T" && ETL_PLUGIN_PATH="$PLUGINS" "$ETLHOST" --no-progress run jsonl.yaml) >"$T/e1.log" 2>&1
"$PY" -m etl_plugin run "$PLUGINS/jsonl.so" --config "$T/jsonl.json" --source-name demo_mode \
  >"$T/py.jsonl" 2>"$T/py1.log"
rc=$?
if [ $rc -eq 0 ] && [ -s "$T/etlhost.jsonl" ] && cmp -s "$T/etlhost.jsonl" "$T/py.jsonl"; then
  ok "jsonl: the binding writes etlhost's file sink bytes ($(wc -l <"$T/py.jsonl") records)"
else
  not_ok "jsonl: the binding writes etlhost's file sink bytes" "exit $rc" \
    "$(diff "$T/etlhost.jsonl" "$T/py.jsonl" 2>&1 | head -6)" "$(cat "$T/py1.log" "$T/e1.log")"
fi

# ---- 2: Mode against mode-sim ------------------------------------------------------------
start_server "$T/sim.out" "$MODESIM" --rate-limit off --spaces 2 --reports-per-space 4
SIM=$url
printf '{"type": "Mode", "hostPort": "%s", "accessToken": "test-token", "accessTokenPassword": "test-secret", "workspaceName": "acme", "requestsPerSecond": 0}' \
  "$SIM" >"$T/mode.json"
echo '{"type": "DashboardMetadata", "includeOwners": true}' >"$T/mode-src.json"
mkdir -p "$T/eh"
cat >"$T/eh/mode.yaml" <<YAML
source:
  type: mode
  serviceName: mode_py
  serviceConnection:
    config:
      type: Mode
      hostPort: $SIM
      accessToken: test-token
      accessTokenPassword: test-secret
      workspaceName: acme
      requestsPerSecond: 0
  sourceConfig:
    config: {type: DashboardMetadata, includeOwners: true}
sink:
  type: file
  config: {path: out.jsonl}
YAML
(cd "$T/eh" && ETL_MODE_TODAY=2026-01-02 ETL_PLUGIN_PATH="$PLUGINS" "$ETLHOST" --no-progress \
  run mode.yaml) >"$T/e2.log" 2>&1
rc_e=$?
ETL_MODE_TODAY=2026-01-02 "$PY" -m etl_plugin run "$PLUGINS/mode.so" --config "$T/mode.json" \
  --source-config "$T/mode-src.json" --source-name mode_py --state "$T/mode.state" \
  >"$T/py-mode.jsonl" 2>"$T/py2.log"
rc_p=$?
LC_ALL=C sort "$T/eh/out.jsonl" >"$T/a" 2>/dev/null
LC_ALL=C sort "$T/py-mode.jsonl" >"$T/b"
if [ $rc_e -eq 0 ] && [ $rc_p -eq 0 ] && [ -s "$T/a" ] && cmp -s "$T/a" "$T/b" &&
  "$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/mode.state"; then
  ok "mode: the binding's records equal etlhost's file sink ($(wc -l <"$T/a") records), state saved"
else
  not_ok "mode: the binding's records equal etlhost's file sink" "exit etlhost $rc_e, python $rc_p" \
    "$(diff "$T/a" "$T/b" 2>&1 | head -6)" "$(tail -5 "$T/py2.log")"
fi

# ---- 3-9: the API ------------------------------------------------------------------------
start_server "$T/slow.out" "$MODESIM" --latency-ms 30000
ETL_TEST_SIM=$SIM ETL_TEST_SLOW_SIM=$url ETL_TEST_N=$n ETL_PLUGIN_PATH="$PLUGINS" \
  "$PY" "$S/tests/e2e/python_binding.py"
n=9

# ---- 10: installed into a prefix ---------------------------------------------------------
if grep -q '^install-etl_plugin_pyPYTHON:' "$B/Makefile"; then
  make -s -C "$B" install-etl_plugin_pyPYTHON prefix="$T/inst" >"$T/install.log" 2>&1
  init=$(find "$T/inst" -path '*/etl_plugin/__init__.py' | head -1)
  site=${init%/etl_plugin/__init__.py}
  if [ -n "$init" ] && (cd "$T" && PYTHONPATH=$site "$PY" -c 'import etl_plugin, sys
assert etl_plugin.__file__.startswith(sys.argv[1]), etl_plugin.__file__' "$site") >>"$T/install.log" 2>&1
  then
    ok "make installs etl_plugin into the prefix's site directory (${site#"$T"/inst/}), and it imports"
  else
    not_ok "make installs etl_plugin into the prefix's site directory, and it imports" \
      "$(cat "$T/install.log")"
  fi
else
  skip "make installs etl_plugin" "configure found no Python 3"
fi
