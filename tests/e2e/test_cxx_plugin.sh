#!/bin/sh
# test_cxx_plugin.sh -- a plugin written in C++ (tests/plugins/cxx_plugin.cpp, ETL_PLUGIN_DEFINE
# in a .cpp file) exports the plain `etl_plugin_entry`, is listed by `etlhost plugins`, and runs
# in a workflow beside a C plugin. Skips when configure found no C++ compiler. Prints TAP.
set -u
B=${ETL_TOP_BUILDDIR:?ETL_TOP_BUILDDIR is not set}
S=${ETL_TOP_SRCDIR:?ETL_TOP_SRCDIR is not set}
PLUGINS=${ETL_PLUGIN_PATH:-$B/plugin/.libs}
ETLHOST=$B/host-api/etlhost
CXXSO=$B/tests/plugins/.libs/cxx_plugin.so
. "$S/tests/e2e/tap-lib.sh"
echo "1..3"
if ! grep -q '^am__append_[0-9]* *= *tests/plugins/cxx_plugin.la' "$B/Makefile"; then
  for t in "exports etl_plugin_entry" "listed by etlhost plugins" "runs beside jsonl"; do
    skip "$t" "no C++ compiler was found by configure"
  done
  exit 0
fi
[ -f "$CXXSO" ] || { echo "Bail out! $CXXSO is not built"; exit 1; }

syms=$(nm -D --defined-only "$CXXSO" | awk '$2 == "T" {print $3}')
if [ "$syms" = etl_plugin_entry ]; then ok "exports etl_plugin_entry, unmangled"
else not_ok "exports etl_plugin_entry, unmangled" "exported: $syms"; fi

"$ETLHOST" --plugin-dir "$B/tests/plugins/.libs" plugins >"$T/plugins.out" 2>&1
if grep -q '^cxx_plugin ' "$T/plugins.out"; then ok "listed by etlhost plugins"
else not_ok "listed by etlhost plugins" "$(cat "$T/plugins.out")"; fi

cat >"$T/wf.yaml" <<YAML
sources:
  - type: jsonl
    serviceName: demo_mode
    serviceConnection:
      config:
        path: $S/tests/fixtures/demo/service.jsonl
  - type: cxx_plugin
    serviceName: cxx
    serviceConnection:
      config: {count: 4}
sink:
  type: file
  config: {path: $T/out.jsonl}
YAML
(cd "$T" && ETL_PLUGIN_PATH="$PLUGINS" "$ETLHOST" --no-progress --plugin-dir "$B/tests/plugins/.libs" \
  run wf.yaml) >"$T/run.log" 2>&1
rc=$?
n_cxx=$(grep -c '"source":"cxx"' "$T/out.jsonl" 2>/dev/null)
n_jsonl=$(grep -c '"source":"demo_mode"' "$T/out.jsonl" 2>/dev/null)
if [ $rc -eq 0 ] && [ "$n_cxx" = 4 ] && [ "$n_jsonl" = "$(wc -l <"$S/tests/fixtures/demo/service.jsonl")" ] &&
  grep -q '{"kind":"chart","id":"cxx-3","source":"cxx","data":{"name":"cxx-3","n":3}}' "$T/out.jsonl"; then
  ok "runs beside jsonl in one workflow (4 entities from C++)"
else
  not_ok "runs beside jsonl in one workflow (4 entities from C++)" "exit $rc, cxx $n_cxx, jsonl $n_jsonl" \
    "$(cat "$T/run.log")"
fi
