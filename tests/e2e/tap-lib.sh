# tap-lib.sh -- sourced by the shell end-to-end suites: a scratch directory $T that is removed at
# exit together with every server started, the TAP helpers ok/not_ok/skip, and start_server.
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
