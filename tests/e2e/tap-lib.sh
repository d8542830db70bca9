# tap-lib.sh -- sourced by the shell end-to-end suites: a scratch directory $T that is removed at
# exit together with every server started, the TAP helpers ok/not_ok/skip, start_server, and
# the build's programs (use_build, need_mode_build) and a catalog ingested from mode-sim
# (mode_catalog).
T=$(mktemp -d)
pids=""
tap_cleanup() {
  for p in $pids; do
    kill "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  rm -rf "$T"
}
trap tap_cleanup EXIT INT TERM

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
  n=$((n + 1))
  echo "not ok $n - $1"
  shift
  for l in "$@"; do echo "# $l"; done
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

# start_server OUTFILE CMD...: runs a simulator in the background and waits (10 s at most) for
# its "listening on URL" line; sets $url. A server that does not start ends the suite.
start_server() {
  out=$1
  shift
  : >"$out"
  "$@" >"$out" 2>"$out.err" &
  pids="$pids $!"
  i=0
  while [ $i -lt 200 ]; do
    url=$(sed -n '1s/^listening on //p' "$out")
    [ -n "$url" ] && return 0
    sleep 0.05
    i=$((i + 1))
  done
  echo "Bail out! $1 did not start: $(cat "$out.err")"
  exit 1
}

# use_build: the programs of the build under test, from ETL_TOP_BUILDDIR (automake sets it):
# $B, $PY, $PLUGINS (ETL_PLUGIN_PATH wins), $ETLHOST, $MODESIM.
use_build() {
  B=${ETL_TOP_BUILDDIR:?ETL_TOP_BUILDDIR is not set}
  PY=${PYTHON3:-/usr/bin/python3}
  PLUGINS=${ETL_PLUGIN_PATH:-$B/plugin/.libs}
  ETLHOST=$B/host-api/etlhost
  MODESIM=$B/tests/mode-sim/mode-sim
}

# need_mode_build: a 'Bail out!' (never a skip) when mode.so, mode-sim or etlhost is not built.
need_mode_build() {
  if [ ! -f "$PLUGINS/mode.so" ] || [ ! -x "$MODESIM" ] || [ ! -x "$ETLHOST" ]; then
    echo "Bail out! mode.so, mode-sim or etlhost is not built"
    exit 1
  fi
}

# mode_catalog CATALOG SERVICE WORKSPACE DB_PREFIX [MODE-SIM ARGS...]: starts mode-sim on an
# ephemeral port serving WORKSPACE (token tok, secret sec) and ingests it with `etlhost run`
# into the sqlite catalog CATALOG as service SERVICE, data models and lineage included, tables
# under the database service DB_PREFIX. One TAP line; the run's output is in $T/run.log.
mode_catalog() {
  mc_db=$1 mc_service=$2 mc_workspace=$3 mc_prefix=$4
  shift 4
  start_server "$T/mode.out" "$MODESIM" --workspace "$mc_workspace" --token tok --secret sec "$@"
  cat >"$T/wf.yaml" <<EOF
source:
  type: mode
  serviceName: $mc_service
  serviceConnection:
    config:
      type: Mode
      hostPort: $url
      accessToken: tok
      accessTokenPassword: sec
      workspaceName: $mc_workspace
  sourceConfig:
    config:
      type: DashboardMetadata
      includeDataModels: true
      lineageInformation:
        dbServicePrefixes:
          - $mc_prefix
sink:
  type: sqlite
  config:
    path: $mc_db
EOF
  if ETL_PLUGIN_PATH=$PLUGINS "$ETLHOST" run "$T/wf.yaml" >"$T/run.log" 2>&1; then
    ok "etlhost builds the catalog from mode-sim"
  else
    not_ok "etlhost builds the catalog from mode-sim" "$(cat "$T/run.log")"
  fi
}
