#!/bin/sh
# test_hostile_waits.sh -- etlhost against servers that accept a connection and never answer
# (issue 14, items 6 and 10): no wait is silent or unbounded.
#
#   1   SIGTERM then SIGINT while the metadata-rest sink waits on such a server: the second
#       signal stops etlhost within seconds (it used to be ignored for over 60 s);
#   2   a second SIGINT alone does the same;
#   3   a server answering 100 MB: the run fails, names the cap once and counts an error;
#   4-5 the Mode plugin against a silent server, with lowSpeedSeconds 1 and
#       requestDeadlineSeconds 4: the run fails within seconds, and -v shows each retry and why;
#   6   the Mode plugin against a port where nothing listens (a peer gone mid-run meets the same):
#       "connection failed", exit status 3, as for a refused connection at the start (issue 12).
# Prints TAP. Offline: the silent server is a few lines of python3 on an ephemeral 127.0.0.1 port.
set -u
B=${ETL_TOP_BUILDDIR:?ETL_TOP_BUILDDIR is not set}
PY=${PYTHON3:-/usr/bin/python3}
PLUGINS=${ETL_PLUGIN_PATH:-$B/plugin/.libs}
ETLHOST=$B/host-api/etlhost

. "${ETL_TOP_SRCDIR:?ETL_TOP_SRCDIR is not set}/tests/e2e/tap-lib.sh"
echo "1..6"

if [ ! -x "$ETLHOST" ] || [ ! -f "$PLUGINS/jsonl.so" ] || [ ! -f "$PLUGINS/mode.so" ]; then
  echo "Bail out! etlhost, jsonl.so or mode.so is not built"
  exit 1
fi

# Accepts every connection and holds it open without a byte of answer.
cat >"$T/silent.py" <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
print("listening on http://127.0.0.1:%d" % s.getsockname()[1], flush=True)
held = []
while True:
    held.append(s.accept()[0])
    print("accepted", flush=True)
EOF
start_server "$T/silent.out" "$PY" "$T/silent.py"
silent=$url

echo '{"kind":"dashboardService","id":"svc","source":"svc","data":{"name":"svc","serviceType":"Mode"}}' \
  >"$T/records.jsonl"
cat >"$T/om.yaml" <<EOF
source:
  type: jsonl
  serviceName: svc
  serviceConnection:
    config:
      path: $T/records.jsonl
  sourceConfig:
    config: {}
sink:
  type: metadata-rest
  config: {timeoutSeconds: 120, retries: 5}
workflowConfig:
  openMetadataServerConfig:
    hostPort: $silent/api
    authProvider: no-auth
EOF

# now_ms: a monotonic-enough clock in milliseconds.
now_ms() { "$PY" -c 'import time; print(int(time.monotonic() * 1000))'; }

# accepted: how many connections the silent server has taken so far.
accepted() { grep -c '^accepted' "$T/silent.out"; }

# signals_stop NAME SIG1 SIG2: starts a run into the silent server, sends SIG1 once etlhost waits
# on it (its handlers are in place by then: a background job's SIGINT would be ignored before)
# and SIG2 0.5 s later, and expects etlhost gone within 5 s of SIG2.
signals_stop() {
  before=$(accepted)
  (cd "$T" && exec env ETL_PLUGIN_PATH="$PLUGINS" "$ETLHOST" --no-progress run om.yaml) \
    >"$T/sig.log" 2>&1 &
  pid=$!
  i=0
  while [ "$(accepted)" -le "$before" ] && [ $i -lt 300 ]; do
    sleep 0.1
    i=$((i + 1))
  done
  sleep 0.3
  kill -"$2" "$pid"
  sleep 0.5
  kill -"$3" "$pid"
  t0=$(now_ms)
  i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
    sleep 0.05
    i=$((i + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null
    not_ok "$1" "etlhost still ran 5 s after the second signal" "$(cat "$T/sig.log")"
  else
    wait "$pid"
    rc=$?
    ok "$1 (gone $(($(now_ms) - t0)) ms after it, status $rc)"
  fi
}
signals_stop "SIGTERM then SIGINT during a sink call stops etlhost" TERM INT
signals_stop "a second SIGINT during a sink call stops etlhost" INT INT

# ---- a server whose every answer is 100 MB ----------------------------------------------------------
cat >"$T/big.py" <<'EOF'
import socket, threading
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
print("listening on http://127.0.0.1:%d" % s.getsockname()[1], flush=True)
N = 100 << 20
def serve(c):
    try:
        c.recv(65536)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % N)
        for _ in range(N >> 16):
            c.sendall(b" " * 65536)
    except OSError:
        pass
    c.close()
while True:
    c = s.accept()[0]
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
start_server "$T/big.out" "$PY" "$T/big.py"
for i in 1 2 3 4 5 6 7 8; do
  echo "{\"kind\":\"chart\",\"id\":\"c$i\",\"source\":\"svc\",\"data\":{\"name\":\"c$i\",\"chartType\":\"Line\",\"service\":\"svc\"}}"
done >>"$T/records.jsonl"
sed "s|hostPort: .*|hostPort: $url/api|; s|config: {timeoutSeconds: 120, retries: 5}|config: {retries: 1}|" \
  "$T/om.yaml" >"$T/big.yaml"
(cd "$T" && ETL_PLUGIN_PATH="$PLUGINS" timeout 60 "$ETLHOST" --no-progress run big.yaml) \
  >"$T/big.log" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && [ "$(grep -c 'larger than the 16 MiB cap' "$T/big.log")" -eq 1 ] &&
  ! grep -q unreachable "$T/big.log" && grep -q 'errors 1' "$T/big.log"; then
  ok "a 100 MB answer is named once, fails the run (status 1) and counts an error"
else
  not_ok "a 100 MB answer is named once, fails the run and counts an error" "status $rc" \
    "$(cat "$T/big.log")"
fi

# ---- the Mode plugin against a server that never answers ------------------------------------------
cat >"$T/mode.yaml" <<EOF
source:
  type: mode
  serviceName: mode_svc
  serviceConnection:
    config:
      hostPort: $silent
      accessToken: tok
      accessTokenPassword: secret
      workspaceName: acme
      lowSpeedSeconds: 1
      requestDeadlineSeconds: 4
  sourceConfig:
    config: {}
sink:
  type: file
  config:
    path: $T/out.jsonl
EOF
t0=$(now_ms)
(cd "$T" && ETL_PLUGIN_PATH="$PLUGINS" timeout 60 "$ETLHOST" --no-progress -v run mode.yaml) \
  >"$T/mode.log" 2>&1
rc=$?
took=$(($(now_ms) - t0))
if [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ] && [ "$rc" -ne 124 ] && [ "$took" -lt 15000 ]; then
  ok "a silent Mode server fails the run in $took ms (status $rc), not 14 minutes"
else
  not_ok "a silent Mode server fails the run within 15 s" "took $took ms, status $rc" \
    "$(cat "$T/mode.log")"
fi
if grep -q "retry" "$T/mode.log" && grep -q "no data for 1 s" "$T/mode.log"; then
  ok "-v shows each retry and why ($(grep -c retry "$T/mode.log") lines)"
else
  not_ok "-v shows each retry and why" "$(cat "$T/mode.log")"
fi

# ---- the Mode plugin against a port where nothing listens -------------------------------------------
port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -e "s|hostPort: .*|hostPort: http://127.0.0.1:$port|" \
  -e 's|requestDeadlineSeconds: 4|maxRetries: 1|' "$T/mode.yaml" >"$T/gone.yaml"
(cd "$T" && ETL_PLUGIN_PATH="$PLUGINS" timeout 60 "$ETLHOST" --no-progress run gone.yaml) \
  >"$T/gone.log" 2>&1
rc=$?
if [ "$rc" -eq 3 ] && grep -q 'mode_svc (mode): connection failed' "$T/gone.log"; then
  ok "a Mode server that is not there: connection failed, status 3"
else
  not_ok "a Mode server that is not there: connection failed, status 3" "status $rc" \
    "$(tail -12 "$T/gone.log")"
fi
