#!/bin/sh
# sim-bench.sh: requests/s of mode-sim under load, measured with sim-loadgen (libcurl multi).
#   tests/bench/sim-bench.sh [BUILDDIR]
# 1. no latency, 64 keep-alive connections, a mix of small and listing endpoints;
# 2. --latency-ms 50, 2000 concurrent requests (each held ~50 ms without a thread).
# Environment: REQUESTS (default 50000), DELAYED_REQUESTS (default 20000).
set -eu
builddir=${1:-${ETL_TOP_BUILDDIR:-.}}
sim=$builddir/tests/mode-sim/mode-sim
loadgen=$builddir/tests/mode-sim/sim-loadgen
for bin in "$sim" "$loadgen"; do
  [ -x "$bin" ] || { echo "sim-bench: $bin not built (make tests/mode-sim/mode-sim tests/mode-sim/sim-loadgen)" >&2; exit 2; }
done
requests=${REQUESTS:-50000}
delayed=${DELAYED_REQUESTS:-20000}
tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# start_sim ARGS...: starts mode-sim and sets $base and $pid.
start_sim() {
  : >"$tmp/out"
  "$sim" --port 0 --rate-limit off --seed 1 --spaces 3 --reports-per-space 30 \
    --ground-truth "$tmp/truth.json" "$@" >"$tmp/out" &
  pid=$!
  i=0
  until grep -q '^listening on ' "$tmp/out"; do
    i=$((i + 1))
    [ $i -lt 200 ] || { echo "sim-bench: mode-sim did not start" >&2; exit 1; }
    sleep 0.05
  done
  base=$(sed -n 's/^listening on //p' "$tmp/out")
}

stop_sim() {
  kill -TERM "$pid"
  wait "$pid" || true
  pid=
}


start_sim
# The first space and report of the ground truth, for realistic URLs.
space=$(sed -n '/"spaces": \[/,/\]/p' "$tmp/truth.json" | sed -n 's/^ *"token": "\([0-9a-f]*\)",*$/\1/p' | head -1)
report=$(sed -n '/"reports": \[/,$p' "$tmp/truth.json" | sed -n 's/^ *"token": "\([0-9a-f]*\)",*$/\1/p' | head -1)
auth=test-token:test-secret
urls="$base/api/verify $base/api/acme/data_sources $base/api/acme/reports/$report $base/api/acme/reports/$report/queries $base/api/acme/spaces/$space/reports?per_page=30&page=1"
printf 'no latency, 64 connections, %s requests: ' "$requests"
# shellcheck disable=SC2086
"$loadgen" -n "$requests" -c 64 -u "$auth" $urls
printf '/api/verify only, 64 connections:             '
"$loadgen" -n "$requests" -c 64 -u "$auth" "$base/api/verify"
stop_sim

start_sim --latency-ms 50
printf 'latency 50 ms, 2000 concurrent, %s requests: ' "$delayed"
"$loadgen" -n "$delayed" -c 2000 -u "$auth" "$base/api/verify" "$base/api/acme/reports/$report"
threads=$(awk '/^Threads:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo "?")
echo "mode-sim threads while serving: $threads"
stop_sim
