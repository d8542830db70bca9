#!/bin/sh
# test_cxx_plugin.sh -- a plugin written in C++ (tests/plugins/cxx_plugin.cpp, ETL_PLUGIN_DEFINE
# in a .cpp file) exports the plain `etl_plugin_entry` (1); built out of tree with c++ against
# the header and etl-plugin.pc alone, as a third party would (2), it is listed by
# `etlhost plugins` (3) and runs in one workflow beside jsonl and mode (4). Skips when configure
# found no C++ compiler. Prints TAP.
set -u
B=${ETL_TOP_BUILDDIR:?ETL_TOP_BUILDDIR is not set}
S=${ETL_TOP_SRCDIR:?ETL_TOP_SRCDIR is not set}
PLUGINS=${ETL_PLUGIN_PATH:-$B/plugin/.libs}
ETLHOST=$B/host-api/etlhost
MODESIM=$B/tests/mode-sim/mode-sim
CXXSO=$B/tests/plugins/.libs/cxx_plugin.so
. "$S/tests/e2e/tap-lib.sh"
echo "1..4"
if ! grep -q '^am__append_[0-9]* *= *tests/plugins/cxx_plugin.la' "$B/Makefile"; then
  for t in "exports etl_plugin_entry" "builds out of tree" "listed by etlhost plugins" \
    "runs beside jsonl and mode"; do
    skip "$t" "no C++ compiler was found by configure"
  done
  exit 0
fi
[ -f "$CXXSO" ] || { echo "Bail out! $CXXSO is not built"; exit 1; }

exports() { nm -D --defined-only "$1" | awk '$2 == "T" {print $3}'; }
syms=$(exports "$CXXSO")
if [ "$syms" = etl_plugin_entry ]; then ok "exports etl_plugin_entry, unmangled"
else not_ok "exports etl_plugin_entry, unmangled" "exported: $syms"; fi

# Out of tree: the header copied where an install puts it, flags from etl-plugin.pc only.
mkdir -p "$T/include/etl" "$T/plugins"
cp "$S/host-api/include/etl/plugin.h" "$T/include/etl/"
mkvar() { sed -n "s/^$1 = //p" "$B/Makefile" | head -1; }
cxx=$(mkvar CXX) user_cxxflags=$(mkvar CXXFLAGS) user_ldflags=$(mkvar LDFLAGS)
cflags=$(PKG_CONFIG_PATH="$B/host-api" pkg-config --define-variable=includedir="$T/include" \
  --cflags etl-plugin 2>"$T/pc.err")
if ${cxx:-c++} -std=c++11 -Wall -Wextra -pedantic -Werror -fPIC -fvisibility=hidden \
  $user_cxxflags $cflags -shared -o "$T/plugins/cxx_plugin.so" "$S/tests/plugins/cxx_plugin.cpp" \
  $user_ldflags -Wl,--no-undefined >"$T/build.log" 2>&1 &&
  [ "$(exports "$T/plugins/cxx_plugin.so")" = etl_plugin_entry ]; then
  ok "builds out of tree against etl-plugin.pc and <etl/plugin.h> alone"
else
  not_ok "builds out of tree against etl-plugin.pc and <etl/plugin.h> alone" \
    "$(cat "$T/pc.err" "$T/build.log")"
fi

"$ETLHOST" --plugin-dir "$T/plugins" plugins >"$T/plugins.out" 2>&1
if grep -q '^cxx_plugin ' "$T/plugins.out"; then ok "listed by etlhost plugins"
else not_ok "listed by etlhost plugins" "$(cat "$T/plugins.out")"; fi

start_server "$T/sim.out" "$MODESIM" --rate-limit off --spaces 1 --reports-per-space 2
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
  - type: mode
    serviceName: sim_mode
    serviceConnection:
      config:
        hostPort: $url
        accessToken: test-token
        accessTokenPassword: test-secret
        workspaceName: acme
        requestsPerSecond: 0
sink:
  type: file
  config: {path: $T/out.jsonl}
YAML
(cd "$T" && ETL_PLUGIN_PATH="$PLUGINS" "$ETLHOST" --no-progress --plugin-dir "$T/plugins" \
  run wf.yaml) >"$T/run.log" 2>&1
rc=$?
n_cxx=$(grep -c '"source":"cxx"' "$T/out.jsonl" 2>/dev/null)
n_jsonl=$(grep -c '"source":"demo_mode"' "$T/out.jsonl" 2>/dev/null)
n_mode=$(grep -c '"source":"sim_mode"' "$T/out.jsonl" 2>/dev/null)
if [ $rc -eq 0 ] && [ "$n_cxx" = 4 ] && [ "$n_jsonl" = "$(wc -l <"$S/tests/fixtures/demo/service.jsonl")" ] &&
  [ "${n_mode:-0}" -gt 10 ] &&
  grep -q '{"kind":"chart","id":"cxx-3","source":"cxx","data":{"name":"cxx-3","n":3}}' "$T/out.jsonl"; then
  ok "runs beside jsonl and mode in one workflow (4 entities from C++, $n_mode from mode)"
else
  not_ok "runs beside jsonl and mode in one workflow" "exit $rc, cxx $n_cxx, jsonl $n_jsonl, mode $n_mode" \
    "$(cat "$T/run.log")"
fi
