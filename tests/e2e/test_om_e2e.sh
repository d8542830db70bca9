#!/bin/sh
# test_om_e2e.sh -- an OpenMetadata-style workflow YAML (camelCase, as OpenMetadata's docs show
# it) run unchanged with `etlhost run` into om-sim through the metadata-rest sink.
#
#   1-6  a jsonl replay of Mode-like records: lands with owners and lineage, a second run
#        changes nothing, 20% injected 5xx/429 end in the same store, the JWT never appears
#        in etlhost's output, every request body validates against OpenMetadata's schemas;
#   7-9  the Mode plugin against mode-sim --fixtures (the recorded workspace);
#   10   a record the server refuses is a failed record;
#   11-13 `etlhost test` checks the sink: the right JWT passes, a wrong one fails with exit 3
#        and the JWT message (never the JWT), an unreachable server fails naming its URL;
#   15-17 the demo workspace (mode-sim) into an empty strict om-sim: the first run exits 0 with
#        every dashboard listing its charts and data models, an unchanged run moves no version,
#        data models filtered out later are not referenced;
#   18-20 a login page, a '{' or a 302 in front of the API is never accepted, nor passed by
#        `etlhost test`; 21-22 a refused JWT or a gone server at the last commit is exit 3;
#   25-29 the run's status on its OpenMetadata ingestion pipeline (ingestionPipelineFQN):
#        running then success with the step's counts, failed or partialSuccess after refused
#        records (successThreshold), an unknown pipeline only warns and no key sends nothing,
#        om-sim's PUT pipelineStatus refuses what the server refuses.
#   30   after mode-sim --mutate, only what changed is updated;
#   31   owners not in OpenMetadata yet stay pending and land on a later incremental run;
#   32   a pending entity the server refuses when it is sent again is a failed record.
# A missing binary is a 'Bail out!', never a skip. Prints TAP. Offline: both simulators listen
# on 127.0.0.1 with ephemeral ports.
set -u
S=${ETL_TOP_SRCDIR:?ETL_TOP_SRCDIR is not set}
. "$S/tests/e2e/tap-lib.sh"
use_build
OMSIM=$B/tests/om-sim/om-sim
JWT=eyJhbGciOiJIUzI1NiJ9.e2e-om-sim-token.c2lnbmF0dXJl
echo "1..32"

fetch() { "$PY" -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())' "$1"; }

# summarize STOREFILE: one line per fact a user would look at in OpenMetadata.
summarize() {
  "$PY" - "$1" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
ents = s["entities"]
users = {u["id"]: u["name"] for u in ents.get("user", [])}
for kind in ("dashboardService", "chart", "dashboardDataModel", "dashboard"):
    for e in ents.get(kind, []):
        owners = ",".join(users.get(o["id"], "?") for o in e.get("owners", []))
        print(kind, e["fullyQualifiedName"], "owners=" + owners, "deleted=%s" % e["deleted"])
for l in s["lineage"]:
    print("lineage", l["fromFqn"], "->", l["toFqn"])
for u in s["usage"]:
    print("usage", u["fullyQualifiedName"], u["date"], u["count"])
EOF
}

cat >"$T/tables.txt" <<'EOF'
pg_svc.dvdrental.public.customer
pg_svc.dvdrental.public.payment
pg_svc.dvdrental.public.rental
pg_svc.dvdrental.public.staff
EOF
echo "modeuser modeuser@example.com" >"$T/users.txt"

# ---- 1-6: jsonl replay ---------------------------------------------------------------------------
cat >"$T/records.jsonl" <<'EOF'
{"kind":"dashboardService","id":"mode_svc","source":"mode_svc","data":{"name":"mode_svc","serviceType":"Mode"}}
{"kind":"chart","id":"f622b9ee725b","source":"mode_svc","data":{"name":"f622b9ee725b","displayName":"Customer Staff Table","chartType":"Table","sourceUrl":"https://app.mode.com/acryl/reports/9d2da37fa91e/viz/f622b9ee725b","service":"mode_svc"},"owners":[{"type":"user","name":"modeuser","email":"modeuser@example.com"}]}
{"kind":"dashboardDataModel","id":"q1","source":"mode_svc","data":{"name":"q1","displayName":"Query 1","service":"mode_svc","dataModelType":"ModeDataModel","sql":"select * from customer","columns":[]}}
{"kind":"dashboard","id":"9d2da37fa91e","source":"mode_svc","data":{"name":"9d2da37fa91e","displayName":"Report 1","sourceUrl":"https://app.mode.com/acryl/reports/9d2da37fa91e","charts":["mode_svc.f622b9ee725b"],"dataModels":["mode_svc.model.q1"],"service":"mode_svc"},"owners":[{"type":"user","name":"Mode User","email":"modeuser@example.com"}]}
{"kind":"lineage","id":"pg_svc.*.public.customer -> mode_svc.model.q1","source":"mode_svc","data":{"fromEntity":{"type":"table","fullyQualifiedName":"pg_svc.*.public.customer"},"toEntity":{"type":"dashboardDataModel","fullyQualifiedName":"mode_svc.model.q1"},"lineageDetails":{"sqlQuery":"select * from customer","source":"DashboardLineage"}},"fromTable":{"service":"pg_svc","database":null,"schema":"public","name":"customer"}}
{"kind":"lineage","id":"mode_svc.model.q1 -> mode_svc.9d2da37fa91e","source":"mode_svc","data":{"fromEntity":{"type":"dashboardDataModel","fullyQualifiedName":"mode_svc.model.q1"},"toEntity":{"type":"dashboard","fullyQualifiedName":"mode_svc.9d2da37fa91e"},"lineageDetails":{"source":"DashboardLineage"}}}
{"kind":"usage","id":"9d2da37fa91e","source":"mode_svc","data":{"date":"2024-05-01","count":7},"entity":{"type":"dashboard","fullyQualifiedName":"mode_svc.9d2da37fa91e"}}
EOF

# The workflow a user writes: the JWT comes from the environment, as OpenMetadata's docs advise.
write_jsonl_workflow() { # URL SINKCONFIG
  cat >"$T/jsonl.yaml" <<EOF
source:
  type: jsonl
  serviceName: mode_svc
  serviceConnection:
    config:
      path: $T/records.jsonl
  sourceConfig:
    config: {}
sink:
  type: metadata-rest
  config: $2
workflowConfig:
  loggerLevel: INFO
  openMetadataServerConfig:
    hostPort: $1/api
    authProvider: openmetadata
    securityConfig:
      jwtToken: \${OM_JWT}
EOF
}

run_etlhost() { # YAML OUT
  # In $T: the state store defaults to the working directory, which must stay clean.
  (cd "$T" && OM_JWT=$JWT ETL_PLUGIN_PATH=$PLUGINS "$ETLHOST" run "$1" >"$2" 2>&1)
}

expected_jsonl="chart mode_svc.f622b9ee725b owners=modeuser deleted=False
dashboard mode_svc.9d2da37fa91e owners=modeuser deleted=False
dashboardDataModel mode_svc.model.q1 owners= deleted=False
dashboardService mode_svc owners= deleted=False
lineage mode_svc.model.q1 -> mode_svc.9d2da37fa91e
lineage pg_svc.dvdrental.public.customer -> mode_svc.model.q1
usage mode_svc.9d2da37fa91e 2024-05-01 7"

if [ ! -x "$ETLHOST" ] || [ ! -f "$PLUGINS/jsonl.so" ] || [ ! -x "$OMSIM" ]; then
  echo "Bail out! etlhost, jsonl.so or om-sim is not built"
  exit 1
else
  start_server "$T/om1.out" "$OMSIM" --jwt "$JWT" --seed-tables "$T/tables.txt" \
    --seed-users "$T/users.txt" --bodies "$T/bodies.jsonl" || exit 1
  om1=$url
  write_jsonl_workflow "$om1" '{retryBackoffMs: 5}'
  run_etlhost "$T/jsonl.yaml" "$T/run1.log"
  rc1=$?
  fetch "$om1/__sim/store" >"$T/store1.json"
  got=$(summarize "$T/store1.json" | sort)
  if [ "$got" = "$(echo "$expected_jsonl" | sort)" ]; then
    ok "jsonl workflow lands service, chart, data model, dashboard with owners, lineage, usage"
  else
    not_ok "jsonl workflow lands the expected entities" "got:" "$got" "log:" "$(cat "$T/run1.log")"
  fi

  run_etlhost "$T/jsonl.yaml" "$T/run2.log"
  fetch "$om1/__sim/store" >"$T/store2.json"
  if cmp -s "$T/store1.json" "$T/store2.json"; then ok "a second identical run changes nothing"
  else not_ok "a second identical run changes nothing" "$(diff "$T/store1.json" "$T/store2.json")"; fi

  start_server "$T/om2.out" "$OMSIM" --jwt "$JWT" --seed-tables "$T/tables.txt" \
    --seed-users "$T/users.txt" --faults "5xx=0.2,429=0.1" --seed 11 || exit 1
  write_jsonl_workflow "$url" '{retryBackoffMs: 2, retries: 12}'
  run_etlhost "$T/jsonl.yaml" "$T/run3.log"
  fetch "$url/__sim/store" >"$T/store3.json"
  faults=$(fetch "$url/__sim/stats")
  if cmp -s "$T/store1.json" "$T/store3.json"; then ok "20% injected 5xx/429 end with the same store ($faults)"
  else not_ok "20% injected 5xx/429 end with the same store" "$(cat "$T/run3.log")"; fi

  if grep -q "$JWT" "$T/run1.log" "$T/run2.log" "$T/run3.log"; then not_ok "the JWT never appears in etlhost's output"
  else ok "the JWT never appears in etlhost's output"; fi

  if ! "$PY" -c 'import jsonschema' 2>/dev/null; then
    skip "every request body validates" "python3-jsonschema missing"
  elif out=$("$PY" "$S/tests/fixtures/openmetadata-schemas/validate.py" --extra-datamodel-type ModeDataModel <"$T/bodies.jsonl"); then
    ok "every request body validates ($(echo "$out" | tail -1))"
  else
    not_ok "every request body validates" "$out"
  fi

  if [ "$rc1" -eq 0 ]; then ok "etlhost exits 0"; else not_ok "etlhost exits 0 (got $rc1)" "$(cat "$T/run1.log")"; fi
fi

# ---- 10: a record the server refuses on delivery is a failed record, not a silent loss --------
if [ ! -x "$ETLHOST" ] || [ ! -f "$PLUGINS/jsonl.so" ] || [ ! -x "$OMSIM" ]; then
  echo "Bail out! etlhost, jsonl.so or om-sim is not built"
  exit 1
else
  start_server "$T/om4.out" "$OMSIM" --jwt "$JWT" --seed-tables "$T/tables.txt" \
    --seed-users "$T/users.txt" --faults "reject-kind=chart" || exit 1
  write_jsonl_workflow "$url" '{retryBackoffMs: 5}'
  run_etlhost "$T/jsonl.yaml" "$T/run4.log"
  rc4=$?
  fetch "$url/__sim/store" >"$T/store4.json"
  # The dashboard names the refused chart, so the server refuses it too: a real cascade. The data
  # model does not depend on the chart and lands.
  landed=$(summarize "$T/store4.json" | grep -c '^dashboardDataModel mode_svc.model.q1 ')
  if [ "$rc4" -eq 1 ] && grep -q 'chart f622b9ee725b: rejected by OpenMetadata (HTTP 4' "$T/run4.log" &&
    [ "$landed" -eq 1 ]; then
    ok "a rejected chart fails the run (exit 1) with its id and the server's message; the rest lands"
  else
    not_ok "a rejected chart fails the run with its id and the server's message" "exit $rc4" \
      "$(cat "$T/run4.log")"
  fi
fi

# ---- 11-13: `etlhost test` checks the sink: server reached, JWT accepted ----------------------
test_etlhost() { # YAML JWT OUT
  (cd "$T" && OM_JWT=$2 ETL_PLUGIN_PATH=$PLUGINS "$ETLHOST" test "$1" >"$3" 2>&1)
}
if [ ! -x "$ETLHOST" ] || [ ! -f "$PLUGINS/jsonl.so" ] || [ ! -x "$OMSIM" ]; then
  echo "Bail out! etlhost or om-sim is not built"
  exit 1
else
  start_server "$T/om5.out" "$OMSIM" --jwt "$JWT" || exit 1
  om5=$url
  write_jsonl_workflow "$om5" '{}'
  test_etlhost "$T/jsonl.yaml" "$JWT" "$T/test1.log"
  rc=$?
  if [ "$rc" -eq 0 ] && grep -q '^sink (metadata-rest):$' "$T/test1.log" &&
    grep -q "^  PASS  server: OpenMetadata at $om5/api answers" "$T/test1.log" &&
    grep -q '^  PASS  credentials: the JWT is accepted$' "$T/test1.log"; then
    ok "etlhost test with the right JWT passes the sink's server and credentials steps"
  else
    not_ok "etlhost test with the right JWT passes the sink steps" "exit $rc" "$(cat "$T/test1.log")"
  fi

  WRONG=eyJhbGciOiJIUzI1NiJ9.not-the-bot-token.d3Jvbmc
  test_etlhost "$T/jsonl.yaml" "$WRONG" "$T/test2.log"
  rc=$?
  if [ "$rc" -eq 3 ] &&
    grep -q '^  FAIL  credentials: the JWT was refused: check securityConfig.jwtToken' "$T/test2.log" &&
    ! grep -q -e "$WRONG" -e "not-the-bot-token" "$T/test2.log"; then
    ok "etlhost test with a wrong JWT fails the sink (exit 3) with the JWT message, never the JWT"
  else
    not_ok "etlhost test with a wrong JWT fails with exit 3 and the JWT message" "exit $rc" \
      "$(cat "$T/test2.log")"
  fi

  # A port nothing listens on: om-sim's, after it stopped.
  kill "$(echo $pids | awk '{print $NF}')" 2>/dev/null
  wait "$(echo $pids | awk '{print $NF}')" 2>/dev/null
  test_etlhost "$T/jsonl.yaml" "$JWT" "$T/test3.log"
  rc=$?
  if [ "$rc" -eq 3 ] && grep -q "^  FAIL  server: cannot reach OpenMetadata at $om5/api" "$T/test3.log" &&
    grep -q '^  SKIP  credentials: ' "$T/test3.log" && ! grep -q "$JWT" "$T/test3.log"; then
    ok "etlhost test against a stopped server fails the sink (exit 3) naming the URL"
  else
    not_ok "etlhost test against a stopped server fails naming the URL" "exit $rc" \
      "$(cat "$T/test3.log")"
  fi
fi

# ---- 7-9: the Mode plugin against the recorded workspace ------------------------------------------
FIXTURES=$S/tests/fixtures/mode-api-samples
if [ ! -f "$PLUGINS/mode.so" ] || [ ! -x "$MODESIM" ] || [ ! -x "$ETLHOST" ]; then
  echo "Bail out! mode.so or mode-sim is not built"
  exit 1
fi
start_server "$T/mode.out" "$MODESIM" --fixtures "$FIXTURES" --workspace acryl --token tok \
  --secret sec || exit 1
mode=$url
start_server "$T/om3.out" "$OMSIM" --jwt "$JWT" --seed-tables "$T/tables.txt" \
  --seed-users "$T/users.txt" --bodies "$T/mode-bodies.jsonl" || exit 1
om3=$url
# As in OpenMetadata's Mode documentation (YAML), only the URLs point at the simulators.
cat >"$T/mode.yaml" <<EOF
source:
  type: mode
  serviceName: local_mode
  serviceConnection:
    config:
      type: Mode
      hostPort: $mode
      requestsPerSecond: 0 # mode-sim has no rate limit here
      accessToken: tok
      accessTokenPassword: \${MODE_SECRET}
      workspaceName: acryl
  sourceConfig:
    config:
      type: DashboardMetadata
      markDeletedDashboards: true
      includeOwners: true
      includeDataModels: true
      lineageInformation:
        dbServicePrefixes:
          - pg_svc
sink:
  type: metadata-rest
  config: {}
workflowConfig:
  loggerLevel: INFO
  openMetadataServerConfig:
    hostPort: $om3/api
    authProvider: openmetadata
    securityConfig:
      jwtToken: \${OM_JWT}
EOF
(cd "$T" && MODE_SECRET=sec OM_JWT=$JWT ETL_PLUGIN_PATH=$PLUGINS "$ETLHOST" run "$T/mode.yaml" >"$T/mode1.log" 2>&1)
fetch "$om3/__sim/store" >"$T/mstore1.json"
got=$(summarize "$T/mstore1.json")
if echo "$got" | grep -q "^dashboard local_mode.9d2da37fa91e owners=modeuser" &&
  echo "$got" | grep -q "^chart local_mode.f622b9ee725b" &&
  for t in customer payment rental staff; do
    echo "$got" | grep -q "^lineage pg_svc.dvdrental.public.$t -> " || exit_code=1
  done && [ "${exit_code:-0}" -eq 0 ]; then
  ok "Mode workflow: report 9d2da37fa91e with its chart, owner and lineage from dvdrental's customer, payment, rental, staff"
else
  not_ok "Mode workflow lands the recorded workspace" "got:" "$got" "log:" "$(cat "$T/mode1.log")"
fi
(cd "$T" && MODE_SECRET=sec OM_JWT=$JWT ETL_PLUGIN_PATH=$PLUGINS "$ETLHOST" run "$T/mode.yaml" >"$T/mode2.log" 2>&1)
fetch "$om3/__sim/store" >"$T/mstore2.json"
if cmp -s "$T/mstore1.json" "$T/mstore2.json"; then ok "Mode workflow: a second run changes nothing"
else not_ok "Mode workflow: a second run changes nothing" "$(cat "$T/mode2.log")"; fi
if ! "$PY" -c 'import jsonschema' 2>/dev/null; then
  skip "Mode workflow: every request body validates" "python3-jsonschema missing"
elif out=$("$PY" "$S/tests/fixtures/openmetadata-schemas/validate.py" --extra-datamodel-type ModeDataModel <"$T/mode-bodies.jsonl"); then
  ok "Mode workflow: every request body validates ($(echo "$out" | tail -1))"
else
  not_ok "Mode workflow: every request body validates" "$out"
fi

# The same Mode workflow into a server failing 20% of requests (5xx) and throttling 10% (429):
# retried until accepted, it ends with the same store as the clean run.
start_server "$T/om5.out" "$OMSIM" --jwt "$JWT" --seed-tables "$T/tables.txt" \
  --seed-users "$T/users.txt" --faults "5xx=0.2,429=0.1" --seed 5 || exit 1
sed -e "s|$om3/api|$url/api|" -e 's|^  config: {}$|  config: {retryBackoffMs: 2, retries: 12}|' \
  "$T/mode.yaml" >"$T/mode-faults.yaml"
# A new server: the runs above left their usage ledger in $T's state store, keyed by serviceName
# only, which would send this server no usage today (state is to be keyed by destination).
rm -f "$T/etlhost-state.db"
(cd "$T" && MODE_SECRET=sec OM_JWT=$JWT ETL_PLUGIN_PATH=$PLUGINS "$ETLHOST" run "$T/mode-faults.yaml" >"$T/mode5.log" 2>&1)
rc5=$?
fetch "$url/__sim/store" >"$T/mstore5.json"
faults=$(fetch "$url/__sim/stats")
if [ "$rc5" -eq 0 ] && cmp -s "$T/mstore1.json" "$T/mstore5.json"; then
  ok "Mode workflow: 20% 5xx and 10% 429 end with the same store ($faults)"
else
  not_ok "Mode workflow: 20% 5xx and 10% 429 end with the same store (exit $rc5)" \
    "$(diff "$T/mstore1.json" "$T/mstore5.json" | head -20)" "$(cat "$T/mode5.log")"
fi

# ---- 15-16: the demo workspace's first run into an empty strict om-sim, then an unchanged run ----
# The generated workspace of tests/run-demo. What the plugin emits (a file sink run, in its own
# directory so its state is its own) is what every dashboard must list in OpenMetadata.
start_server "$T/demo-mode.out" "$MODESIM" --workspace acme --token tok --secret sec --seed 42 \
  --spaces 4 --reports-per-space 6 --users 6 --rate-limit off || exit 1
demo_mode=$url
start_server "$T/demo-om.out" "$OMSIM" --jwt "$JWT" || exit 1
demo_om=$url
write_demo_workflow() { # SINK-YAML OUT
  cat >"$2" <<EOF
source:
  type: mode
  serviceName: mode_demo
  serviceConnection:
    config:
      type: Mode
      hostPort: $demo_mode
      requestsPerSecond: 0 # mode-sim runs with --rate-limit off: no need to wait
      accessToken: tok
      accessTokenPassword: \${MODE_SECRET}
      workspaceName: acme
      incremental: true
  sourceConfig:
    config:
      type: DashboardMetadata
      includeOwners: true
      includeDataModels: true
      markDeletedDashboards: true
      lineageInformation:
        dbServicePrefixes:
          - warehouse
$1
workflowConfig:
  loggerLevel: INFO
  openMetadataServerConfig:
    hostPort: $demo_om/api
    authProvider: openmetadata
    securityConfig:
      jwtToken: \${OM_JWT}
EOF
}
mkdir -p "$T/demo-file" "$T/demo-om"
write_demo_workflow "sink:
  type: file
  config: {path: $T/demo-file/emitted.jsonl}" "$T/demo-file/wf.yaml"
write_demo_workflow "sink:
  type: metadata-rest
  config: {retryBackoffMs: 5}" "$T/demo-om/wf.yaml"
(cd "$T/demo-file" && MODE_SECRET=sec OM_JWT=$JWT ETL_PLUGIN_PATH=$PLUGINS "$ETLHOST" run wf.yaml >run.log 2>&1)
(cd "$T/demo-om" && MODE_SECRET=sec OM_JWT=$JWT ETL_PLUGIN_PATH=$PLUGINS "$ETLHOST" run wf.yaml >run1.log 2>&1)
drc1=$?
fetch "$demo_om/__sim/store" >"$T/demo-store1.json"
# Every dashboard the plugin emitted is in OpenMetadata with exactly the charts and data models it
# listed, and each of those exists (not deleted).
check=$("$PY" - "$T/demo-file/emitted.jsonl" "$T/demo-store1.json" <<'EOF'
import json, sys
emitted = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
store = json.load(open(sys.argv[2]))["entities"]
live = lambda kind: {e["fullyQualifiedName"]: e for e in store.get(kind, []) if not e["deleted"]}
dash, charts, models = live("dashboard"), live("chart"), live("dashboardDataModel")
n, refs, bad = 0, 0, []
for r in emitted:
    if r.get("kind") != "dashboard":
        continue
    d = r["data"]
    fqn = d["service"] + "." + d["name"]
    got = dash.get(fqn)
    n += 1
    if got is None:
        bad.append("missing dashboard " + fqn); continue
    for member, have in (("charts", charts), ("dataModels", models)):
        refs += len(d.get(member, []))
        if sorted(got.get(member, [])) != sorted(d.get(member, [])):
            bad.append("%s %s: %s != %s" % (fqn, member, got.get(member), d.get(member)))
        bad += ["%s: %s %s does not exist" % (fqn, member, x) for x in d.get(member, []) if x not in have]
print("%d dashboards, %d references" % (n, refs) if not bad and n and refs else "\n".join(bad) or "none")
EOF
)
if [ "$drc1" -eq 0 ] && echo "$check" | grep -q '^[0-9]* dashboards, [0-9]* references$'; then
  ok "demo workspace, first run into an empty strict om-sim: exit 0, $check, all listed and present"
else
  not_ok "demo workspace, first run into an empty strict om-sim (exit $drc1)" "$check" \
    "$(grep -E 'error|warn' "$T/demo-om/run1.log" | head -20)"
fi
(cd "$T/demo-om" && MODE_SECRET=sec OM_JWT=$JWT ETL_PLUGIN_PATH=$PLUGINS "$ETLHOST" run wf.yaml >run2.log 2>&1)
drc2=$?
fetch "$demo_om/__sim/store" >"$T/demo-store2.json"
if [ "$drc2" -eq 0 ] && cmp -s "$T/demo-store1.json" "$T/demo-store2.json"; then
  ok "demo workspace, unchanged second run: exit 0, no version moves, store identical"
else
  not_ok "demo workspace, unchanged second run changes nothing (exit $drc2)" \
    "$(diff "$T/demo-store1.json" "$T/demo-store2.json" | head -10)" "$(tail -20 "$T/demo-om/run2.log")"
fi

# ---- 17: data models filtered out later are not referenced --------------------------------------
# A later run excludes the "Query 1" data models (dataModelFilterPattern): they are soft-deleted
# (markDeletedDashboards) and no live dashboard lists one of them; a run after that exits 0.
# They are more than the deletion fail-safe's default 20%, so the user raises it, as they must.
sed -e 's|^      markDeletedDashboards: true$|      markDeletedDashboards: true\
      dataModelFilterPattern:\
        excludes:\
          - "Query 1"|' -e 's|^  loggerLevel: INFO$|  loggerLevel: INFO\
  failSafeThreshold: 100|' "$T/demo-om/wf.yaml" >"$T/demo-om/wf-filter.yaml"
(cd "$T/demo-om" && MODE_SECRET=sec OM_JWT=$JWT ETL_PLUGIN_PATH=$PLUGINS "$ETLHOST" run wf-filter.yaml >run3.log 2>&1)
drc3=$?
(cd "$T/demo-om" && MODE_SECRET=sec OM_JWT=$JWT ETL_PLUGIN_PATH=$PLUGINS "$ETLHOST" run wf-filter.yaml >run4.log 2>&1)
drc4=$?
fetch "$demo_om/__sim/store" >"$T/demo-store3.json"
filtered=$("$PY" - "$T/demo-store3.json" <<'EOF'
import json, sys
st = json.load(open(sys.argv[1]))["entities"]
models = {m["fullyQualifiedName"]: m for m in st.get("dashboardDataModel", [])}
gone = sum(m["deleted"] for m in models.values())
bad = [(d["fullyQualifiedName"], m) for d in st.get("dashboard", []) if not d["deleted"]
       for m in d.get("dataModels", []) if m not in models or models[m]["deleted"]]
print("%d soft-deleted, %d dangling" % (gone, len(bad)))
EOF
)
if [ "$drc3" -eq 0 ] && [ "$drc4" -eq 0 ] && echo "$filtered" | grep -q '^[1-9][0-9]* soft-deleted, 0 dangling$'; then
  ok "data models filtered out later: $filtered references; the runs after exit 0"
else
  not_ok "data models filtered out are not referenced (exits $drc3, $drc4)" "$filtered" \
    "$(grep -E 'error|refused|rejected' "$T/demo-om/run3.log" "$T/demo-om/run4.log" | head)"
fi

# ---- 23: the state belongs to its destination: the same (incremental) workflow pointed at a new,
# empty server sends everything there, instead of skipping what that server never received.
start_server "$T/demo-om2.out" "$OMSIM" --jwt "$JWT" || exit 1
sed "s|$demo_om/api|$url/api|" "$T/demo-om/wf-filter.yaml" >"$T/demo-om/wf-new-server.yaml"
(cd "$T/demo-om" && MODE_SECRET=sec OM_JWT=$JWT ETL_PLUGIN_PATH=$PLUGINS "$ETLHOST" run wf-new-server.yaml >run5.log 2>&1)
drc5=$?
fetch "$url/__sim/store" >"$T/demo-store5.json"
landed=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["entities"].get("dashboard", [])))' "$T/demo-store5.json")
if [ "$drc5" -eq 0 ] && [ "$landed" -eq 29 ]; then
  ok "a new server gets the whole workspace: state is keyed by source and server (29 dashboards)"
else
  not_ok "a new server gets the whole workspace (exit $drc5, $landed dashboards)" \
    "$(tail -12 "$T/demo-om/run5.log")"
fi

# ---- 24: lineage to tables the server does not have yet is kept and lands on a later run ------
# Dashboards usually come before the database metadata. Run 1 into a server without tables keeps
# its table edges pending; the tables appear (another connector); run 2 sends nothing new
# (incremental) yet lands them: as many table edges as a run into a server that had the tables
# from the start.
"$PY" - "$T/demo-file/emitted.jsonl" >"$T/demo-tables.txt" <<'EOF'
import json, sys
seen = set()
for line in open(sys.argv[1]):
    r = json.loads(line)
    t = r.get("fromTable")
    if r.get("kind") == "lineage" and t:
        fqn = ".".join([t["service"] or "warehouse", t["database"] or "dwh", t["schema"] or "public", t["name"]])
        if fqn not in seen:
            seen.add(fqn)
            print(fqn)
EOF
start_server "$T/pend-ref.out" "$OMSIM" --jwt "$JWT" --seed-tables "$T/demo-tables.txt" || exit 1
pend_ref=$url
start_server "$T/pend.out" "$OMSIM" --jwt "$JWT" || exit 1
pend=$url
mkdir -p "$T/pend-ref" "$T/pend"
sed "s|$demo_om/api|$pend_ref/api|" "$T/demo-om/wf.yaml" >"$T/pend-ref/wf.yaml"
sed "s|$demo_om/api|$pend/api|" "$T/demo-om/wf.yaml" >"$T/pend/wf.yaml"
(cd "$T/pend-ref" && MODE_SECRET=sec OM_JWT=$JWT ETL_PLUGIN_PATH=$PLUGINS "$ETLHOST" run wf.yaml >run.log 2>&1)
(cd "$T/pend" && MODE_SECRET=sec OM_JWT=$JWT ETL_PLUGIN_PATH=$PLUGINS "$ETLHOST" run wf.yaml >run1.log 2>&1)
prc1=$?
while read -r t; do fetch "$pend/__sim/seed?type=table&fqn=$t" >/dev/null; done <"$T/demo-tables.txt"
(cd "$T/pend" && MODE_SECRET=sec OM_JWT=$JWT ETL_PLUGIN_PATH=$PLUGINS "$ETLHOST" run wf.yaml >run2.log 2>&1)
prc2=$?
table_edges() { fetch "$1/__sim/store" | "$PY" -c 'import json,sys; print(sum(l["fromType"] == "table" for l in json.load(sys.stdin)["lineage"]))'; }
want=$(table_edges "$pend_ref")
got1=$(grep -o '[0-9]* lineage edges pending' "$T/pend/run1.log" | head -1)
got=$(table_edges "$pend")
# What stays pending after run 2 is what stays unresolved with the tables there from the start
# (a '*' that matches two tables is ambiguous either way).
ref_left=$(grep -o '[0-9]* lineage edges pending' "$T/pend-ref/run.log" | head -1)
left=$(grep -o '[0-9]* lineage edges pending' "$T/pend/run2.log" | head -1)
if [ "$prc1" -eq 0 ] && [ "$prc2" -eq 0 ] && [ "$want" -gt 0 ] && [ "$got" -eq "$want" ] &&
  [ "$left" = "$ref_left" ]; then
  ok "pending lineage: run 1 kept $got1, run 2 landed $got table edges, $left (as with tables from the start)"
else
  not_ok "pending lineage lands on a later run (exits $prc1, $prc2; $got of $want; run 1: $got1; left $left, ref $ref_left)" \
    "$(grep -E 'pending|error' "$T/pend/run2.log" | tail -5)"
fi

# ---- 18-20: whatever answers in front of the API (login page, '{', 302) is never "accepted" ------
start_server "$T/hostile.out" "$OMSIM" --jwt "$JWT" --faults reply=html || exit 1
write_jsonl_workflow "$url" '{retryBackoffMs: 5}'
rm -f "$T/etlhost-state.db"
run_etlhost "$T/jsonl.yaml" "$T/hostile-run.log"
hrc=$?
if [ "$hrc" -ne 0 ] && grep -q "is an HTML page, not JSON: is hostPort the API" "$T/hostile-run.log"; then
  ok "a 200 login page in front of the API fails the run (exit $hrc) naming the cause"
else
  not_ok "a 200 login page fails the run naming the cause (exit $hrc)" "$(cat "$T/hostile-run.log")"
fi
for mode in html redirect; do
  start_server "$T/hostile-$mode.out" "$OMSIM" --jwt "$JWT" --faults "reply=$mode" || exit 1
  write_jsonl_workflow "$url" '{}'
  test_etlhost "$T/jsonl.yaml" "$JWT" "$T/hostile-test-$mode.log"
  rc=$?
  if [ "$rc" -ne 0 ] && grep -q "^  FAIL  server: .*not OpenMetadata's API" "$T/hostile-test-$mode.log" &&
    ! grep -q "PASS  server" "$T/hostile-test-$mode.log"; then
    ok "etlhost test fails (exit $rc), never PASS, when a $mode answers for the API"
  else
    not_ok "etlhost test must not pass a $mode (exit $rc)" "$(cat "$T/hostile-test-$mode.log")"
  fi
done

# ---- 21-22: a refused token or a server gone mid-run is exit 3, as at the start ----------------
start_server "$T/om-auth.out" "$OMSIM" --jwt "$JWT" --seed-tables "$T/tables.txt" || exit 1
write_jsonl_workflow "$url" '{retryBackoffMs: 1, retries: 1}'
(cd "$T" && OM_JWT=eyJ.wrong.token ETL_PLUGIN_PATH=$PLUGINS "$ETLHOST" run "$T/jsonl.yaml" >"$T/auth-run.log" 2>&1)
arc=$?
if [ "$arc" -eq 3 ]; then ok "a JWT refused at the sink's commit gives exit 3"
else not_ok "a JWT refused at the sink's commit gives exit 3 (got $arc)" "$(cat "$T/auth-run.log")"; fi
kill "$(echo $pids | awk '{print $NF}')" 2>/dev/null
wait "$(echo $pids | awk '{print $NF}')" 2>/dev/null
run_etlhost "$T/jsonl.yaml" "$T/gone-run.log"
grc=$?
if [ "$grc" -eq 3 ]; then ok "an unreachable OpenMetadata at the sink's commit gives exit 3"
else not_ok "an unreachable OpenMetadata gives exit 3 (got $grc)" "$(cat "$T/gone-run.log")"; fi

# ---- 25-29: the run's status on its OpenMetadata ingestion pipeline ----------------------------
PIPE=mode_svc.mode_svc_metadata_ingestion
RUNID=6f1c2a9e-3b7d-4c55-9a61-2c8d7f0e4b12
echo "$PIPE" >"$T/pipelines.txt"
# pipeline_lines STOREFILE: one line per step of each stored status: pipeline, runId, every
# state the run was given, the last state, the step's name and counts, endDate >= startDate.
pipeline_lines() {
  "$PY" - "$1" <<'EOF'
import json, sys
for p in json.load(open(sys.argv[1]))["pipelineStatuses"]:
    st = p["pipelineStatus"]
    for step in st.get("status", []):
        print(p["pipeline"], st["runId"], p["states"], st["pipelineState"], step["name"],
              step["records"], step["errors"], step["warnings"], step["filtered"],
              st.get("endDate", 0) >= st["startDate"])
EOF
}
with_pipeline() { # FQN [SUCCESS-THRESHOLD]: the scheduler's keys appended to $T/jsonl.yaml
  [ -n "${2:-}" ] && echo "  successThreshold: $2" >>"$T/jsonl.yaml"
  printf 'ingestionPipelineFQN: %s\npipelineRunId: %s\n' "$1" "$RUNID" >>"$T/jsonl.yaml"
}

start_server "$T/om-pipe.out" "$OMSIM" --jwt "$JWT" --seed-tables "$T/tables.txt" \
  --seed-users "$T/users.txt" --seed-pipelines "$T/pipelines.txt" || exit 1
write_jsonl_workflow "$url" '{retryBackoffMs: 5}'
with_pipeline "$PIPE"
run_etlhost "$T/jsonl.yaml" "$T/pipe1.log"
prc=$?
fetch "$url/__sim/store" >"$T/pipe1.json"
got=$(pipeline_lines "$T/pipe1.json")
want="$PIPE $RUNID running,success success mode_svc 7 0 0 0 True"
if [ "$prc" -eq 0 ] && [ "$got" = "$want" ] && ! grep -q "$JWT" "$T/pipe1.log"; then
  ok "a run with ingestionPipelineFQN reports running, then success with its step's counts"
else
  not_ok "a run reports running then success to its pipeline (exit $prc)" "got: $got" \
    "want: $want" "$(cat "$T/pipe1.log")"
fi

# A refused chart: 6 of 7 records land, 86% < the default successThreshold 90 (failed).
for case in "failed:" "partialSuccess:50"; do
  state=${case%%:*} threshold=${case#*:}
  start_server "$T/om-pipe-$state.out" "$OMSIM" --jwt "$JWT" --seed-tables "$T/tables.txt" \
    --seed-users "$T/users.txt" --seed-pipelines "$T/pipelines.txt" \
    --faults "reject-kind=chart" || exit 1
  write_jsonl_workflow "$url" '{retryBackoffMs: 5}'
  with_pipeline "$PIPE" "$threshold"
  run_etlhost "$T/jsonl.yaml" "$T/pipe-$state.log"
  src=$?
  fetch "$url/__sim/store" >"$T/pipe-$state.json"
  got=$(pipeline_lines "$T/pipe-$state.json")
  want="$PIPE $RUNID running,$state $state mode_svc 6 1 0 0 True"
  if [ "$src" -eq 1 ] && [ "$got" = "$want" ]; then
    ok "refused records end the pipeline's run $state (successThreshold ${threshold:-90})"
  else
    not_ok "refused records end the pipeline's run $state (exit $src)" "got: $got" \
      "want: $want" "$(cat "$T/pipe-$state.log")"
  fi
done

# An unknown pipeline is a warning naming it; the run itself is not touched. No key, no status.
start_server "$T/om-pipe-none.out" "$OMSIM" --jwt "$JWT" --seed-tables "$T/tables.txt" \
  --seed-users "$T/users.txt" || exit 1
write_jsonl_workflow "$url" '{retryBackoffMs: 5}'
with_pipeline "svc.no_such_pipeline"
run_etlhost "$T/jsonl.yaml" "$T/pipe-unknown.log"
urc=$?
fetch "$url/__sim/store" >"$T/pipe-unknown.json"
start_server "$T/om-pipe-nokey.out" "$OMSIM" --jwt "$JWT" --seed-tables "$T/tables.txt" \
  --seed-users "$T/users.txt" --seed-pipelines "$T/pipelines.txt" || exit 1
write_jsonl_workflow "$url" '{retryBackoffMs: 5}'
run_etlhost "$T/jsonl.yaml" "$T/pipe-nokey.log"
nrc=$?
fetch "$url/__sim/store" >"$T/pipe-nokey.json"
if [ "$urc" -eq 0 ] && [ "$nrc" -eq 0 ] &&
  grep -q 'svc.no_such_pipeline.*ingestionPipeline instance for svc.no_such_pipeline not found' "$T/pipe-unknown.log" &&
  grep -q '"pipelineStatuses":\[\]' "$T/pipe-unknown.json" &&
  grep -q '"pipelineStatuses":\[\]' "$T/pipe-nokey.json"; then
  ok "an unknown pipeline warns with the server's message and the run exits 0; no key sends nothing"
else
  not_ok "an unknown pipeline warns, the run exits 0 ($urc); no key sends nothing ($nrc)" \
    "$(cat "$T/pipe-unknown.log")" "$(cat "$T/pipe-unknown.json")" "$(cat "$T/pipe-nokey.json")"
fi

# om-sim refuses what IngestionPipelineResource.addPipelineStatus refuses: no runId, a state
# outside the enum, a step without its name (400), an unknown pipeline (404).
codes=$("$PY" - "$url" "$PIPE" "$JWT" <<'EOF'
import json, sys, urllib.request, urllib.error
url, pipe, jwt = sys.argv[1:4]
def put(fqn, body):
    req = urllib.request.Request(
        "%s/api/v1/services/ingestionPipelines/%s/pipelineStatus" % (url, fqn),
        data=json.dumps(body).encode(), method="PUT",
        headers={"Content-Type": "application/json", "Authorization": "Bearer " + jwt})
    try:
        return urllib.request.urlopen(req).status
    except urllib.error.HTTPError as e:
        return e.code
ok = {"runId": "6f1c2a9e-3b7d-4c55-9a61-2c8d7f0e4b13", "pipelineState": "running",
      "startDate": 1, "timestamp": 1}
print(put(pipe, {"pipelineState": "running"}), put(pipe, dict(ok, pipelineState="done")),
      put(pipe, dict(ok, status=[{"records": 1}])), put("svc.none", ok), put(pipe, ok))
EOF
)
if [ "$codes" = "400 400 400 404 200" ]; then
  ok "om-sim's pipelineStatus refuses a missing runId, a bad state, a nameless step, an unknown pipeline"
else
  not_ok "om-sim's pipelineStatus checks (got $codes, want 400 400 400 404 200)"
fi

# ---- 30: after mode-sim --mutate, only what changed is updated --------------------------------
# Run 1 lands the demo workspace in a fresh om-sim; run 2 reads the same workspace with 20% of
# its custom collections' reports edited, deleted or added (mode-sim --mutate, on the same port so
# that every sourceUrl stays the same). Only those dashboards may change: an edited one gets a
# new version, a deleted one is soft-deleted, a new one appears, and every other dashboard keeps
# its version and body.
start_server "$T/mut-mode1.out" "$MODESIM" --workspace acme --token tok --secret sec --seed 42 \
  --spaces 4 --reports-per-space 6 --users 6 --rate-limit off || exit 1
mut_mode=$url
mut_pid=${pids##* }
start_server "$T/mut-om.out" "$OMSIM" --jwt "$JWT" || exit 1
mut_om=$url
mkdir -p "$T/mut"
sed -e "s|$demo_mode|$mut_mode|" -e "s|$demo_om/api|$mut_om/api|" "$T/demo-om/wf.yaml" >"$T/mut/wf.yaml"
(cd "$T/mut" && MODE_SECRET=sec OM_JWT=$JWT ETL_PLUGIN_PATH=$PLUGINS "$ETLHOST" run wf.yaml >run1.log 2>&1)
mrc1=$?
fetch "$mut_om/__sim/store" >"$T/mut/store1.json"
kill "$mut_pid" 2>/dev/null
wait "$mut_pid" 2>/dev/null
start_server "$T/mut-mode2.out" "$MODESIM" --port "${mut_mode##*:}" --workspace acme --token tok \
  --secret sec --seed 42 --spaces 4 --reports-per-space 6 --users 6 --rate-limit off \
  --mutate 20 --ground-truth "$T/mut/truth2.json" || exit 1
(cd "$T/mut" && MODE_SECRET=sec OM_JWT=$JWT ETL_PLUGIN_PATH=$PLUGINS "$ETLHOST" run wf.yaml >run2.log 2>&1)
mrc2=$?
fetch "$mut_om/__sim/store" >"$T/mut/store2.json"
mutated=$("$PY" - "$T/mut/store1.json" "$T/mut/store2.json" "$T/mut/truth2.json" <<'EOF'
import json, sys
def dashboards(path):
    return {d["name"]: d for d in json.load(open(path))["entities"].get("dashboard", [])}
one, two = dashboards(sys.argv[1]), dashboards(sys.argv[2])
truth = {r["token"]: r for r in json.load(open(sys.argv[3]))["reports"]}
edited = {t for t, r in truth.items() if r["name"].endswith("(edited)")}
gone = {t for t in one if t not in truth}
new = {t for t in truth if t not in one}
problems = []
for t, d in two.items():
    was = one.get(t)
    if t in edited and (not was or d["version"] == was["version"]):
        problems.append("edited %s did not move" % t)
    elif t in gone and not d["deleted"]:
        problems.append("deleted %s is live" % t)
    elif t not in edited and t not in gone and was and (d != was):
        problems.append("unchanged %s changed" % t)
missing = [t for t in new if t not in two or two[t]["deleted"]]
if not edited or not gone or not new:
    problems.append("the mutation changed nothing (%d edited, %d gone, %d new)"
                    % (len(edited), len(gone), len(new)))
print("; ".join(problems + ["new %s missing" % t for t in missing]) or
      "%d edited moved, %d soft-deleted, %d new, %d unchanged kept their version"
      % (len(edited), len(gone), len(new), len(two) - len(edited) - len(gone) - len(new)))
EOF
)
# No Mode user is an OpenMetadata user here: every owned entity of run 1 is pending, and those
# of the deleted reports must be dropped, never sent again (that would bring them back).
if [ "$mrc1" -eq 0 ] && [ "$mrc2" -eq 0 ] && echo "$mutated" | grep -q 'edited moved' &&
  grep -q 'no longer in the source: dropped from the pending records' "$T/mut/run2.log"; then
  ok "after mode-sim --mutate 20, only what changed is updated: $mutated"
else
  not_ok "after mode-sim --mutate 20, only what changed is updated (exits $mrc1, $mrc2)" \
    "$mutated" "$(tail -15 "$T/mut/run2.log")"
fi

# ---- 31: entities sent without an owner the server lacks stay pending and land later ----------
# The demo workspace into an empty server: no Mode user has signed in to OpenMetadata yet, so
# every chart, data model and dashboard with an owner lands without it and stays pending (the
# summary says so, not just "warnings"). The users appear; run 2 is incremental and Mode has not
# changed, so the source sends none of them again, yet every owner lands.
start_server "$T/own-om.out" "$OMSIM" --jwt "$JWT" || exit 1
own_om=$url
mkdir -p "$T/own"
sed "s|$demo_om/api|$own_om/api|" "$T/demo-om/wf.yaml" >"$T/own/wf.yaml"
(cd "$T/own" && MODE_SECRET=sec OM_JWT=$JWT ETL_PLUGIN_PATH=$PLUGINS "$ETLHOST" run wf.yaml >run1.log 2>&1)
orc1=$?
# owned EMITTED [STORE]: the owner names of every owned entity the plugin emitted, one
# "kind fqn names" line each; with STORE, the same entities' owners as the server holds them.
owned() {
  "$PY" - "$@" <<'PYEOF'
import json, sys
emitted = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
store = json.load(open(sys.argv[2]))["entities"] if len(sys.argv) > 2 else None
# Seeded users are named by their FQN (om-sim names a seeded entity by the FQN's last part).
users = {u["id"]: u["fullyQualifiedName"] for u in (store or {}).get("user", [])}
for r in emitted:
    if r.get("kind") not in ("chart", "dashboardDataModel", "dashboard") or not r.get("owners"):
        continue
    d = r["data"]
    sep = ".model." if r["kind"] == "dashboardDataModel" else "."
    fqn = d["service"] + sep + d["name"]
    names = sorted(o["name"] for o in r["owners"])
    if store is not None:
        got = [e for e in store.get(r["kind"], []) if e["fullyQualifiedName"] == fqn]
        names = sorted(users.get(o["id"], "?") for o in got[0].get("owners", [])) if got else ["missing"]
    print(r["kind"], fqn, ",".join(names))
PYEOF
}
owned "$T/demo-file/emitted.jsonl" >"$T/own/want.txt"
n_owned=$(wc -l <"$T/own/want.txt")
fetch "$own_om/__sim/store" >"$T/own/store1.json"
without1=$(owned "$T/demo-file/emitted.jsonl" "$T/own/store1.json" | grep -c ' $')
kept1=$(sed -n 's/.* \([0-9]*\) entities pending.*/\1/p' "$T/own/run1.log" | head -1)
pend1=$(sed -n 's/^    sink      pending \([0-9]*\) .*/\1/p' "$T/own/run1.log")
"$PY" -c 'import sys
for l in open(sys.argv[1]):
    for n in l.split(" ", 2)[2].strip().split(","):
        print(n)' "$T/own/want.txt" | sort -u |
  while read -r name; do
    fetch "$own_om/__sim/seed?type=user&fqn=$("$PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$name")" >/dev/null
  done
(cd "$T/own" && MODE_SECRET=sec OM_JWT=$JWT ETL_PLUGIN_PATH=$PLUGINS "$ETLHOST" run wf.yaml >run2.log 2>&1)
orc2=$?
fetch "$own_om/__sim/store" >"$T/own/store2.json"
owned "$T/demo-file/emitted.jsonl" "$T/own/store2.json" >"$T/own/got.txt"
kept2=$(sed -n 's/.* \([0-9]*\) entities pending.*/\1/p' "$T/own/run2.log" | head -1)
edges2=$(sed -n 's/.* \([0-9]*\) lineage edges pending.*/\1/p' "$T/own/run2.log" | head -1)
pend2=$(sed -n 's/^    sink      pending \([0-9]*\) .*/\1/p' "$T/own/run2.log")
if [ "$orc1" -eq 0 ] && [ "$orc2" -eq 0 ] && [ "$n_owned" -gt 0 ] && [ "$without1" -eq "$n_owned" ] &&
  [ "$kept1" = "$n_owned" ] && [ -n "$pend1" ] && [ "$pend1" -ge "$n_owned" ] &&
  cmp -s "$T/own/want.txt" "$T/own/got.txt" && [ "$kept2" = 0 ] && [ "$pend2" = "$edges2" ] &&
  grep -q 'retained [1-9]' "$T/own/run2.log"; then
  ok "owners not there yet: run 1 kept $kept1 entities pending (summary: pending $pend1), run 2 (incremental) landed all $n_owned owners, pending $pend2 (lineage only)"
else
  not_ok "owners not there yet land on a later incremental run (exits $orc1, $orc2; $n_owned owned, $without1 without owner after run 1; kept $kept1, $kept2; summary pending $pend1, $pend2; edges $edges2)" \
    "$(diff "$T/own/want.txt" "$T/own/got.txt" | head -10)" "$(grep -E 'pending|retained' "$T/own/run2.log" | tail -6)"
fi

# ---- 32: a pending entity refused when it is sent again is a failed record ---------------------
# Run 1: chart c2two lands without its owner, who is no user of the server, and stays pending.
# Run 2 is incremental (the chart is only retained), and the server now refuses the chart: the
# copy sent again at the end of the source is rejected there, after the last commit, and must
# count as failed (exit 1) like any record refused on delivery.
start_server "$T/late-om.out" "$OMSIM" --jwt "$JWT" || exit 1
mkdir -p "$T/late"
write_jsonl_workflow "$url" '{retryBackoffMs: 5}'
cat >"$T/late/run1.jsonl" <<'EOF'
{"kind":"dashboardService","id":"mode_svc","source":"mode_svc","data":{"name":"mode_svc","serviceType":"Mode"}}
{"kind":"chart","id":"c2two","source":"mode_svc","data":{"name":"c2two","displayName":"Second","chartType":"Line","service":"mode_svc"},"owners":[{"type":"user","name":"ghost","email":null}]}
EOF
cat >"$T/late/run2.jsonl" <<'EOF'
{"kind":"dashboardService","id":"mode_svc","source":"mode_svc","data":{"name":"mode_svc","serviceType":"Mode"}}
{"kind":"retain","id":"chart","source":"mode_svc","data":{"kind":"chart","ids":["c2two"]}}
EOF
for run in 1 2; do # (not $n: that is the TAP counter)
  sed "s|path: .*|path: $T/late/run$run.jsonl|; s|hostPort: .*|hostPort: $url/api|" \
    "$T/jsonl.yaml" >"$T/late/wf$run.yaml"
done
(cd "$T/late" && OM_JWT=$JWT ETL_PLUGIN_PATH=$PLUGINS "$ETLHOST" run wf1.yaml >run1.log 2>&1)
lrc1=$?
fetch "$url/__sim/faults?spec=reject-name=c2two" >/dev/null
(cd "$T/late" && OM_JWT=$JWT ETL_PLUGIN_PATH=$PLUGINS "$ETLHOST" run wf2.yaml >run2.log 2>&1)
lrc2=$?
lfailed=$(sed -n 's/^    failed  *\([0-9]*\) .*/\1/p' "$T/late/run2.log")
if [ "$lrc1" -eq 0 ] && grep -q '^    sink      pending 1 ' "$T/late/run1.log" &&
  grep -q 'chart c2two: rejected by OpenMetadata (HTTP 400' "$T/late/run2.log" &&
  [ "$lfailed" = 1 ] && [ "$lrc2" -eq 1 ]; then
  ok "a pending chart refused when sent again at the end of the source: failed 1, exit 1"
else
  not_ok "a pending chart refused when sent again counts as failed (exits $lrc1, $lrc2; failed '$lfailed')" \
    "$(cat "$T/late/run1.log" "$T/late/run2.log")"
fi
