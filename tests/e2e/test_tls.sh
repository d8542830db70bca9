#!/bin/sh
# test_tls.sh -- TLS verification of the Mode connector and of the metadata-rest sink against
# the simulators serving HTTPS (mode-sim / om-sim --tls-cert --tls-key) with a throwaway CA and a
# server certificate for IP 127.0.0.1, made here with the openssl CLI.
#
#   1   mode with caBundle: the run succeeds with the same entities as over plain http;
#   2   mode without caBundle: the run fails with exit 3, the message names the server and
#       says its certificate could not be verified and to set caBundle; no secret;
#   3   `etlhost test` fails the credentials step with that message (exit 3);
#   4   mode with a caBundle that is not a PEM file: the credentials step names caBundle;
#   5   metadata-rest with sslConfig.certificatePath: the run lands the records;
#   6   metadata-rest without it: `etlhost test` fails the server step with the TLS message
#       (exit 3), never the JWT.
# Prints TAP; skips everything when the openssl CLI is missing. Offline: 127.0.0.1 only.
set -u
B=${ETL_TOP_BUILDDIR:?ETL_TOP_BUILDDIR is not set}
PY=${PYTHON3:-/usr/bin/python3}
PLUGINS=${ETL_PLUGIN_PATH:-$B/plugin/.libs}
ETLHOST=$B/host-api/etlhost
MODESIM=$B/tests/mode-sim/mode-sim
OMSIM=$B/tests/om-sim/om-sim
SECRET=tls-test-secret-0d1e
JWT=eyJhbGciOiJIUzI1NiJ9.tls-test-token.c2lnbmF0dXJl

echo "1..6"
if ! command -v openssl >/dev/null 2>&1; then
  for i in 1 2 3 4 5 6; do echo "ok $i # SKIP the openssl CLI is not installed"; done
  exit 0
fi

. "${ETL_TOP_SRCDIR:?ETL_TOP_SRCDIR is not set}/tests/e2e/tap-lib.sh"

# ---- a throwaway CA and a certificate it signs for IP 127.0.0.1 ---------------------------------
if ! {
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out "$T/ca.pem" -days 2 \
    -subj /CN=etlhost-test-CA -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign &&
    openssl req -newkey rsa:2048 -nodes -keyout "$T/srv.key" -out "$T/srv.csr" \
      -subj /CN=127.0.0.1 &&
    printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
      >"$T/srv.ext" &&
    openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
      -out "$T/srv.pem" -days 2 -extfile "$T/srv.ext"
} >"$T/openssl.log" 2>&1; then
  echo "Bail out! openssl could not make the test certificates: $(cat "$T/openssl.log")"
  exit 1
fi

# ---- 1-4: the Mode connector -------------------------------------------------------------------
SIMARGS="--seed 7 --spaces 2 --reports-per-space 2 --users 3 --rate-limit off --secret $SECRET"
# shellcheck disable=SC2086
start_server "$T/plain.out" "$MODESIM" $SIMARGS
plain=$url
# shellcheck disable=SC2086
start_server "$T/tls.out" "$MODESIM" $SIMARGS --tls-cert "$T/srv.pem" --tls-key "$T/srv.key"
tls=$url

mode_workflow() { # HOSTPORT EXTRA-CONNECTION-LINE
  cat <<EOF
source:
  type: mode
  serviceName: tls_mode
  serviceConnection:
    config:
      type: Mode
      hostPort: $1
      accessToken: test-token
      accessTokenPassword: \${MODE_SECRET}
      workspaceName: acme
      requestsPerSecond: 1000
$2
  sourceConfig:
    config:
      type: DashboardMetadata
sink:
  type: stdout
workflowConfig:
  loggerLevel: INFO
EOF
}
etlhost() { # CMD YAML OUT ERR
  (cd "$T" && MODE_SECRET=$SECRET OM_JWT=$JWT ETL_PLUGIN_PATH=$PLUGINS "$ETLHOST" "$1" "$2" \
    >"$3" 2>"$4")
}

mode_workflow "$plain" "" >"$T/plain.yaml"
mode_workflow "$tls" "      caBundle: $T/ca.pem" >"$T/ca.yaml"
mode_workflow "$tls" "" >"$T/noca.yaml"
mode_workflow "$tls" "      caBundle: $T/srv.csr" >"$T/badca.yaml"

etlhost run "$T/plain.yaml" "$T/plain.jsonl" "$T/plain.err"
rc_plain=$?
rm -f "$T/etlhost-state.db" # the usage ledger of the first run would send the second one none
etlhost run "$T/ca.yaml" "$T/ca.jsonl" "$T/ca.err"
rc=$?
# The entities with the server's URL taken out (the two simulators differ only in it).
sed "s#$plain##g" "$T/plain.jsonl" | sort >"$T/plain.sorted"
sed "s#$tls##g" "$T/ca.jsonl" | sort >"$T/ca.sorted"
count=$(grep -c '"kind":"dashboard"' "$T/ca.sorted")
if [ "$rc_plain" -eq 0 ] && [ "$rc" -eq 0 ] && [ "$count" -gt 0 ] &&
  cmp -s "$T/plain.sorted" "$T/ca.sorted"; then
  ok "mode over https with caBundle: exit 0, the same $(wc -l <"$T/ca.sorted") entities as over http"
else
  not_ok "mode over https with caBundle lands the same entities as over http" \
    "exit $rc (http: $rc_plain), $count dashboards" "$(cat "$T/ca.err")" \
    "$(diff "$T/plain.sorted" "$T/ca.sorted" | head -5)"
fi

etlhost run "$T/noca.yaml" "$T/noca.jsonl" "$T/noca.err"
rc=$?
msg="the TLS certificate of $tls could not be verified (SSL certificate problem: .*): if the server uses a private CA, set caBundle to that CA's PEM file"
if [ "$rc" -eq 3 ] && grep -q "^tls_mode: error: $msg\$" "$T/noca.err" &&
  [ "$(grep -c ': error: ' "$T/noca.err")" -eq 1 ] &&
  ! grep -q '"kind":"dashboard"' "$T/noca.jsonl" && ! grep -q "$SECRET" "$T/noca.err"; then
  ok "mode over https without caBundle: exit 3, one error naming $tls, the certificate and caBundle"
else
  not_ok "mode over https without caBundle fails with exit 3 and the caBundle message" "exit $rc" \
    "$(cat "$T/noca.err")"
fi

etlhost test "$T/noca.yaml" "$T/test.out" "$T/test.err"
rc=$?
if [ "$rc" -eq 3 ] && grep -q "^  FAIL  credentials: $msg\$" "$T/test.out" &&
  grep -q '^  SKIP  workspace: ' "$T/test.out" && ! grep -q "$SECRET" "$T/test.out" "$T/test.err"; then
  ok "etlhost test without caBundle: the credentials step fails (exit 3) with the caBundle message"
else
  not_ok "etlhost test without caBundle fails the credentials step" "exit $rc" \
    "$(cat "$T/test.out" "$T/test.err")"
fi

etlhost test "$T/badca.yaml" "$T/test2.out" "$T/test2.err"
rc=$?
if [ "$rc" -eq 3 ] &&
  grep -q "^  FAIL  credentials: caBundle '$T/srv.csr' cannot be used to verify $tls (.*): want a readable PEM file\$" \
    "$T/test2.out"; then
  ok "etlhost test with a caBundle that holds no certificate names caBundle and the server (exit 3)"
else
  not_ok "etlhost test with an unusable caBundle names it" "exit $rc" \
    "$(cat "$T/test2.out" "$T/test2.err")"
fi

# ---- 5-6: the metadata-rest sink ---------------------------------------------------------------
start_server "$T/om.out" "$OMSIM" --jwt "$JWT" --tls-cert "$T/srv.pem" --tls-key "$T/srv.key"
om=$url
cat >"$T/records.jsonl" <<'EOF'
{"kind":"dashboardService","id":"tls_svc","source":"tls_svc","data":{"name":"tls_svc","serviceType":"Mode"}}
{"kind":"chart","id":"c1","source":"tls_svc","data":{"name":"c1","displayName":"Chart 1","chartType":"Table","service":"tls_svc"}}
{"kind":"dashboard","id":"d1","source":"tls_svc","data":{"name":"d1","displayName":"Report 1","charts":["tls_svc.c1"],"service":"tls_svc"}}
EOF
om_workflow() { # SSLCONFIG-LINE
  cat <<EOF
source:
  type: jsonl
  serviceName: tls_svc
  serviceConnection:
    config:
      path: $T/records.jsonl
  sourceConfig:
    config: {}
sink:
  type: metadata-rest
  config: {}
workflowConfig:
  loggerLevel: INFO
  openMetadataServerConfig:
    hostPort: $om/api
    authProvider: openmetadata
    securityConfig:
      jwtToken: \${OM_JWT}
$1
EOF
}
om_workflow "    sslConfig:
      certificatePath: $T/ca.pem" >"$T/om-ca.yaml"
om_workflow "" >"$T/om-noca.yaml"

etlhost run "$T/om-ca.yaml" "$T/om-run.out" "$T/om-run.err"
rc=$?
store=$("$PY" -c '
import json, ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = json.load(urllib.request.urlopen(sys.argv[1] + "/__sim/store", context=ctx))
print(" ".join(sorted(e["fullyQualifiedName"] for k in ("chart", "dashboard") for e in s["entities"].get(k, []))))
' "$om" "$T/ca.pem" 2>&1)
if [ "$rc" -eq 0 ] && [ "$store" = "tls_svc.c1 tls_svc.d1" ]; then
  ok "metadata-rest over https with sslConfig.certificatePath: exit 0, the chart and dashboard land"
else
  not_ok "metadata-rest over https with sslConfig.certificatePath lands the records" "exit $rc" \
    "store: $store" "$(cat "$T/om-run.out" "$T/om-run.err")"
fi

etlhost test "$T/om-noca.yaml" "$T/om-test.out" "$T/om-test.err"
rc=$?
if [ "$rc" -eq 3 ] &&
  grep -q "^  FAIL  server: TLS failed with OpenMetadata at $om/api: .*(check verifySSL and sslConfig.certificatePath)\$" \
    "$T/om-test.out" && ! grep -q -e "$JWT" -e tls-test-token "$T/om-test.out" "$T/om-test.err"; then
  ok "etlhost test without sslConfig.certificatePath fails the sink's server step (exit 3) with the TLS message"
else
  not_ok "etlhost test without sslConfig.certificatePath fails the server step" "exit $rc" \
    "$(cat "$T/om-test.out" "$T/om-test.err")"
fi
