#!/bin/sh
# parallel-bench.sh: two Mode workspaces, each behind its own mode-sim at Mode's real limit
# (40 requests per 10 s), in one workflow: wall time with workflowConfig.parallelSources 1
# (one after another) and 2 (at once), each workspace alone, and the ratios.
#   tests/bench/parallel-bench.sh [BUILDDIR]
# Environment: REPORTS (reports per space, default 6; 4 spaces per workspace).
set -eu
builddir=${1:-${ETL_TOP_BUILDDIR:-.}}
sim=$builddir/tests/mode-sim/mode-sim
etlhost=$builddir/host-api/etlhost
plugins=$builddir/plugin/.libs
for bin in "$sim" "$etlhost" "$plugins/mode.so"; do
  [ -e "$bin" ] || { echo "parallel-bench: $bin not built (make)" >&2; exit 2; }
done
reports=${REPORTS:-6}
tmp=$(mktemp -d)
pids=
cleanup() {
  for p in $pids; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# start_sim NAME SEED: a workspace at 40 requests per 10 s; sets url_NAME. Each run gets fresh
# simulators, so that none starts with a limit the run before it used up.
start_sim() {
  "$sim" --port 0 --workspace "$1" --token tok --secret sec --seed "$2" --spaces 4 \
    --reports-per-space "$reports" --users 4 --rate-limit 40/10 >"$tmp/$1.out" 2>&1 &
  pids="$pids $!"
  i=0
  until grep -q '^listening on ' "$tmp/$1.out"; do
    i=$((i + 1))
    [ $i -lt 200 ] || { echo "parallel-bench: mode-sim did not start" >&2; exit 1; }
    sleep 0.05
  done
  eval "url_$1=\$(sed -n 's/^listening on //p' \"\$tmp/\$1.out\")"
}
stop_sims() {
  for p in $pids; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done
  pids=
}

source_yaml() { # NAME URL
  cat <<EOS
  - type: mode
    serviceName: mode_$1
    serviceConnection:
      config: {type: Mode, hostPort: "$2", accessToken: tok, accessTokenPassword: sec, workspaceName: $1}
    sourceConfig: {config: {type: DashboardMetadata}}
EOS
}

# run LABEL PARALLEL NAMES...: one workflow of the given workspaces into a fresh catalog;
# prints and returns (in $secs) the wall time.
run() {
  label=$1 par=$2
  shift 2
  dir=$tmp/run$((${runs:-0} + 1))
  runs=$((${runs:-0} + 1))
  mkdir -p "$dir"
  start_sim east 11
  start_sim west 12
  {
    echo "sources:"
    for n in "$@"; do eval "source_yaml $n \"\$url_$n\""; done
    echo "sink: {type: sqlite, config: {path: $dir/catalog.db}}"
    echo "workflowConfig: {stateStore: $dir/state.db, parallelSources: $par}"
  } >"$dir/wf.yaml"
  t0=$(date +%s.%N)
  "$etlhost" --plugin-dir "$plugins" run "$dir/wf.yaml" >"$dir/run.log" 2>&1 || {
    echo "parallel-bench: $label failed:" >&2; tail -20 "$dir/run.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  secs=$(echo "$t1 - $t0" | bc)
  stop_sims
  n=$(grep -c 'complete in' "$dir/run.log" || true)
  printf '%-28s %6.1f s  (%s sources complete)\n' "$label" "$secs" "$n"
}

echo "two workspaces of 4 x $reports reports, each at 40 requests per 10 s"
run "east alone" 1 east; east=$secs
run "west alone" 1 west; west=$secs
run "both, parallelSources 1" 1 east west; seq=$secs
run "both, parallelSources 2" 2 east west; par=$secs
slower=$(echo "if ($east > $west) $east else $west" | bc)
printf 'parallel / slower alone: %.2f   parallel / one after another: %.2f\n' \
  "$(echo "$par / $slower" | bc -l)" "$(echo "$par / $seq" | bc -l)"
