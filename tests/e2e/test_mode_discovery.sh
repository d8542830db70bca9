#!/bin/sh
# test_mode_discovery.sh -- the Mode connector through Mode's Discovery API (issue 11 items 5
# and 6) against mode-sim's /batch/ endpoints, through tests/e2e/thirdparty_host:
#
#   1   mode-sim's batch endpoints are strict: Basic auth and a wrong Bearer are 401, per_page
#       0 or 1001 and include_spaces=other are 400, another workspace is 404; a POST to
#       signature_tokens whose body is not as Mode documents it is 400;
#   2   a run with the discovery keys gives the regular run's records, record for record
#       (sorted JSON Lines; the usage ledger compared as a map), in fewer requests;
#   3   it asks batch with per_page=1000 and include_spaces=all (filterQueryParam all), only
#       queries, charts and reports in a full run, and never sends the signature token's
#       secret anywhere but the Authorization header;
#   4   filterQueryParam custom: no include_spaces, and the regular custom run's records;
#   5   pages of 7 (mode-sim --batch-page-max 7): the next_page links are followed, same records;
#   6   a last page whose next_page links to itself: the listing stops, the run falls back,
#       same records;
#   7   next_page without end: the listing stops, the run falls back, same records;
#   8   a wrong access secret: one warning naming the keys, no secret printed, same records;
#   9   `etlhost test`'s discovery step: passes with the keys, fails naming them with a wrong one;
#  10   incremental: an unchanged rerun costs at most 10 requests and retains what the regular
#       incremental rerun retains;
#  11   incremental after mode-sim --mutate: the same records as the regular incremental run;
#  12   discoveryMintToken: a signature token minted with POST /batch/{ws}/signature_tokens,
#       the regular run's records, the minted secret never printed;
#  13   a collection's listings end on their short page once they showed every item batch
#       places there (no page 2 here: 6 reports a collection);
#  14   batch older than the listings (mode-sim --batch-fault stale: it lacks each collection's
#       last report): the listings disagree with batch, page on to their empty page, and the
#       records are the regular run's;
#  15   discoveryChartFields false: no charts request, and the regular run's records but for
#       what only the charts endpoint has (a chart's fields and description, the data model
#       columns and column lineage made of them);
#  16   creators: the discovery run lists /memberships and looks up (GET /api/{user}) only
#       creators who are no active member (mode-sim answers those 404), with test 2's records.
#  17   /memberships refused (mode-sim --faults memberships=403): one warning, and the discovery
#       run looks every creator up, as the regular run does, with test 2's records.
# Prints TAP. Offline: 127.0.0.1 only.
set -u
B=${ETL_TOP_BUILDDIR:?ETL_TOP_BUILDDIR is not set}
PY=${PYTHON3:-/usr/bin/python3}
HOST=$B/tests/e2e/thirdparty_host
PLUGIN=${ETL_PLUGIN_PATH:-$B/plugin/.libs}/mode.so
MODESIM=$B/tests/mode-sim/mode-sim
DSECRET=disc-secret-7f3a91
. "${ETL_TOP_SRCDIR:?ETL_TOP_SRCDIR is not set}/tests/e2e/tap-lib.sh"
echo "1..17"

SIMARGS="--rate-limit off --seed 7 --spaces 4 --reports-per-space 6 --queries-per-report 2 \
  --charts-per-query 2 --users 6 --data-sources 3 --discovery-token disc-token \
  --discovery-key disc-key --discovery-secret $DSECRET"

# sim NAME [ARGS...]: starts mode-sim (log in $T/NAME.log), sets $url and $simpid.
sim() {
  name=$1
  shift
  # shellcheck disable=SC2086
  start_server "$T/$name.out" "$MODESIM" --port "${PORT:-0}" --log "$T/$name.log" $SIMARGS "$@"
  simpid=${pids##* }
}
stop_sim() { kill "$simpid" 2>/dev/null; wait "$simpid" 2>/dev/null; }

# conf FILE [EXTRA_JSON]: a connection for $url; with "disc" the discovery keys too.
conf() {
  keys=""
  case "${2:-}" in
  *disc*) keys=",\"discoveryToken\":\"disc-token\",\"discoveryAccessKey\":\"disc-key\",\"discoveryAccessSecret\":\"${SECRET:-$DSECRET}\"" ;;
  esac
  printf '{"hostPort":"%s","accessToken":"test-token","accessTokenPassword":"test-secret","workspaceName":"acme","requestsPerSecond":0%s%s}' \
    "$url" "$keys" "${3:-}" >"$1"
}

# run NAME CONF [HOST ARGS...]: runs the plugin; output $T/NAME.jsonl, stderr $T/NAME.err,
# the summary's request count in $req.
run() {
  name=$1 cf=$2
  shift 2
  "$HOST" --name mode_svc "$@" --out "$T/$name.jsonl" "$PLUGIN" "$cf" 2>"$T/$name.err"
  req=$(sed -n 's/^summary .*"requests":\([0-9]*\).*/\1/p' "$T/$name.err")
}

# same A B: the two runs' records are equal (sorted; the state's usage ledger as a map, its
# batch stamp left out: only a Discovery run has one).
same() {
  "$PY" - "$T/$1.jsonl" "$T/$2.jsonl" <<'PYEOF'
import json, sys
def load(p):
    recs, state = [], None
    for line in open(p):
        if line.startswith('# state '):
            state = json.loads(line[8:]); state.pop('batch', None)
        else:
            recs.append(line)
    return sorted(recs), state
a, b = load(sys.argv[1]), load(sys.argv[2])
if a != b:
    import difflib
    for l in list(difflib.unified_diff(a[0], b[0], lineterm=''))[:8]:
        print('# ' + l[:200].rstrip())
    if a[1] != b[1]:
        print('# states differ')
    sys.exit(1)
sys.exit(0)
PYEOF
}

# extra_pages LOG: how many collection listing requests in LOG went past a listing's first.
extra_pages() {
  grep -o ' /api/acme/spaces/[^/ ]*/\(reports\|datasets\) ' "$1" | sort | uniq -c |
    awk '{ n += $1 - 1 } END { print n + 0 }'
}

# ---- 1: strict batch endpoints --------------------------------------------------------------
sim strict
out=$("$PY" - "$url" "$DSECRET" <<'PYEOF'
import base64, sys, urllib.request, urllib.error
url, secret = sys.argv[1], sys.argv[2]
good = 'Bearer ' + base64.b64encode(('disc-token:disc-key:' + secret).encode()).decode()
basic = 'Basic ' + base64.b64encode(b'test-token:test-secret').decode()
wrong = 'Bearer ' + base64.b64encode(b'disc-token:disc-key:nope').decode()
def status(path, auth):
    req = urllib.request.Request(url + path, headers={'Authorization': auth} if auth else {})
    try:
        return urllib.request.urlopen(req).status
    except urllib.error.HTTPError as e:
        return e.code
def post(body):
    req = urllib.request.Request(url + '/batch/acme/signature_tokens', data=body.encode(),
                                 headers={'Authorization': basic,
                                          'Content-Type': 'application/json'}, method='POST')
    try:
        return urllib.request.urlopen(req).status
    except urllib.error.HTTPError as e:
        return e.code
scope = '"auth_scope":{"authentication_for":"batch-api","authorization_type":"read-only"}'
when = '"expires_at":"2030-01-02T03:04:05+0000"'
tok = lambda inner: '{"signature_token":{' + inner + '}}'
print(post(tok('"name":"etl-1",' + when + ',' + scope)),
      post('{"name":"etl-1",' + when + ',' + scope + '}'),
      post(tok('"name":"etl",' + when + ',' + scope)),
      post(tok('"name":"etl-1","expires_at":"tomorrow",' + scope)),
      post(tok('"name":"etl-1",' + when + ',' + scope.replace('read-only', 'read-write'))),
      post(tok('"name":"etl-1",' + when + ',' + scope.replace('}', ',"x":"y"}'))),
      post('not json'), end=' ')
print(status('/batch/acme/reports', good), status('/batch/acme/reports', basic),
      status('/batch/acme/reports', wrong), status('/batch/acme/reports', None),
      status('/batch/acme/reports?per_page=0', good), status('/batch/acme/reports?per_page=1001', good),
      status('/batch/acme/charts?include_spaces=some', good), status('/batch/other/reports', good),
      status('/batch/acme/report_stats?per_page=1000&include_spaces=all', good))
PYEOF
)
if [ "$out" = "200 400 400 400 400 400 400 200 401 401 401 400 400 400 404 200" ]; then
  ok "mode-sim's batch endpoints refuse wrong auth, parameters and signature_tokens bodies"
else
  not_ok "mode-sim's batch endpoints refuse wrong auth and parameters" "statuses: $out"
fi
stop_sim

# ---- 2, 3: regular and discovery runs of one workspace --------------------------------------
# Every later simulator listens on this port: records name it (sourceUrl), and all are compared
# with this regular run's.
sim full
PORT=${url##*:}
conf "$T/reg.json"
conf "$T/disc.json" disc
run reg "$T/reg.json"
reg_req=$req
: >"$T/full.log"
run disc "$T/disc.json"
disc_req=$req
if [ -n "$reg_req" ] && [ -n "$disc_req" ] && [ "$disc_req" -lt "$reg_req" ] && same reg disc; then
  ok "discovery run: the regular run's records ($(grep -vc '^#' "$T/reg.jsonl")) in $disc_req requests instead of $reg_req"
else
  not_ok "discovery run: the regular run's records in fewer requests" \
    "requests $disc_req vs $reg_req" "$(grep '^diag' "$T/disc.err" | head -3)"
fi
# Collection listing pages past the first (the log has no query strings: requests for a
# listing beyond one per listing), by the discovery run.
pages2=$(extra_pages "$T/full.log")
batch_urls=$(grep -c ' /batch/acme/[a-z_]*?per_page=1000&include_spaces=all ' "$T/full.log")
# A full run lists queries, charts and reports; collections and report stats serve incremental
# runs only (test 10).
if [ "$batch_urls" -eq 3 ] && ! grep -q ' /batch/acme/\(spaces\|report_stats\)' "$T/full.log" &&
  ! grep -q "$DSECRET" "$T/disc.err" "$T/disc.jsonl" "$T/full.log"; then
  ok "batch asked with per_page=1000&include_spaces=all (3 listings); the secret is never printed"
else
  not_ok "batch asked with per_page=1000&include_spaces=all" "$(grep /batch/ "$T/full.log" | head -5)"
fi
stop_sim

# ---- 4: filterQueryParam custom ------------------------------------------------------------
sim custom
conf "$T/reg_c.json" "" ',"filterQueryParam":"custom"'
conf "$T/disc_c.json" disc ',"filterQueryParam":"custom"'
run reg_c "$T/reg_c.json"
run disc_c "$T/disc_c.json"
if ! grep -q 'include_spaces' "$T/custom.log" && grep -q ' /batch/acme/queries?per_page=1000 ' "$T/custom.log" &&
  same reg_c disc_c; then
  ok "filterQueryParam custom: batch without include_spaces, the regular custom run's records"
else
  not_ok "filterQueryParam custom" "$(grep /batch/ "$T/custom.log" | head -3)"
fi
stop_sim

# ---- 5-7: paging ---------------------------------------------------------------------------
sim paged --batch-page-max 7
conf "$T/disc_p.json" disc
run disc_p "$T/disc_p.json"
if grep -q ' /batch/acme/charts?page=2&per_page=7&include_spaces=all ' "$T/paged.log" &&
  ! grep -q '^diag warning \[discovery\]' "$T/disc_p.err" && same reg disc_p; then
  ok "pages of 7: next_page followed ($(grep -c ' /batch/' "$T/paged.log") batch requests), same records"
else
  not_ok "pages of 7: next_page followed, same records" "$(grep '^diag' "$T/disc_p.err" | head -3)" \
    "$(grep ' /batch/' "$T/paged.log" | head -3)"
fi
stop_sim
for fault in repeat endless; do
  sim "f_$fault" --batch-page-max 7 --batch-fault "$fault"
  conf "$T/disc_$fault.json" disc
  run "disc_$fault" "$T/disc_$fault.json"
  case $fault in
  repeat) want="points back to a page already listed" ;;
  endless) want="past total_pages" ;;
  esac
  if grep -q "^diag warning \[discovery\] .*$want.*listing through the regular API" "$T/disc_$fault.err" &&
    same reg "disc_$fault"; then
    ok "next_page fault '$fault': the listing stops, the run falls back, same records"
  else
    not_ok "next_page fault '$fault'" "$(grep '^diag\|^summary' "$T/disc_$fault.err" | head -3)"
  fi
  stop_sim
done

# ---- 12: a minted signature token ---------------------------------------------------------
sim mint
conf "$T/mint.json" "" ',"discoveryMintToken":true'
run mint "$T/mint.json"
if grep -q ' POST /batch/acme/signature_tokens 200 ' "$T/mint.log" &&
  [ "$(grep -c ' GET /batch/acme/' "$T/mint.log")" -eq 3 ] && ! grep -q '^diag warning \[discovery\]' "$T/mint.err" &&
  ! grep -q "$DSECRET" "$T/mint.err" "$T/mint.jsonl" && same reg mint; then
  mint_ok=1
else
  mint_ok=0
  mint_why="$(grep 'batch' "$T/mint.log" | head -3) $(grep '^diag' "$T/mint.err" | head -2)"
fi
stop_sim

# ---- 8, 9: a wrong access secret; etlhost test ---------------------------------------------
sim wrong
SECRET=wrong-secret-55d1 conf "$T/disc_w.json" disc
conf "$T/disc_ok.json" disc
run disc_w "$T/disc_w.json"
if [ "$(grep -c '^diag warning \[discovery\] the Discovery API refused the signature token (HTTP 401): check discoveryToken, discoveryAccessKey and discoveryAccessSecret' "$T/disc_w.err")" -eq 1 ] &&
  ! grep -q 'wrong-secret-55d1' "$T/disc_w.err" "$T/disc_w.jsonl" && same reg disc_w; then
  ok "a wrong access secret: one warning naming the keys, no secret, the regular records"
else
  not_ok "a wrong access secret" "$(grep '^diag' "$T/disc_w.err" | head -3)"
fi
"$HOST" --test "$PLUGIN" "$T/disc_ok.json" >"$T/test_ok.out" 2>&1
st_ok=$?
"$HOST" --test "$PLUGIN" "$T/disc_w.json" >"$T/test_w.out" 2>&1
st_w=$?
if [ $st_ok -eq 0 ] && grep -q '^step PASS discovery: the Discovery API accepted the signature token ([0-9]* reports)' "$T/test_ok.out" &&
  [ $st_w -ne 0 ] && grep -q '^step FAIL discovery: .*HTTP 401.*discoveryAccessSecret' "$T/test_w.out" &&
  ! grep -q 'wrong-secret-55d1' "$T/test_w.out"; then
  ok "etlhost test: the discovery step passes with the keys, fails naming them otherwise"
else
  not_ok "etlhost test's discovery step" "$(grep discovery "$T/test_ok.out" "$T/test_w.out")"
fi
stop_sim

# ---- 10, 11: incremental -------------------------------------------------------------------
sim inc1
conf "$T/reg_i.json" "" ',"incremental":true'
conf "$T/disc_i.json" disc ',"incremental":true'
run reg_i1 "$T/reg_i.json" --state-out "$T/reg.state1"
run disc_i1 "$T/disc_i.json" --state-out "$T/disc.state1"
run reg_i2 "$T/reg_i.json" --state "$T/reg.state1" --state-out "$T/reg.state2"
run disc_i2 "$T/disc_i.json" --state "$T/disc.state1" --state-out "$T/disc.state2"
if [ -n "$req" ] && [ "$req" -le 10 ] && same disc_i1 reg_i1 && same reg_i2 disc_i2; then
  ok "incremental: an unchanged rerun in $req requests (at most 10), the regular rerun's records"
else
  not_ok "incremental: an unchanged rerun in at most 10 requests" "requests: $req" \
    "$(grep '^diag' "$T/disc_i2.err" | head -3)"
fi
stop_sim
sim inc2 --mutate 30
run reg_i3 "$T/reg_i.json" --state "$T/reg.state1" --state-out "$T/reg.state3"
run disc_i3 "$T/disc_i.json" --state "$T/disc.state1" --state-out "$T/disc.state3"
if same reg_i3 disc_i3 && ! same reg_i2 reg_i3 >/dev/null; then
  ok "incremental after --mutate 30: the regular incremental run's records ($req requests)"
else
  not_ok "incremental after --mutate 30: the regular incremental run's records"
fi
stop_sim
if [ "$mint_ok" = 1 ]; then
  ok "discoveryMintToken: minted with POST signature_tokens, the regular run's records"
else
  not_ok "discoveryMintToken: minted with POST signature_tokens, the regular run's records" "$mint_why"
fi
if [ "$pages2" -eq 0 ]; then
  ok "with batch, collection listings end on their short first page (no page 2 asked for)"
else
  not_ok "with batch, collection listings end on their short first page" "$pages2 page-2 requests"
fi

# ---- 14: batch older than the listings -----------------------------------------------------
sim stale --batch-fault stale
conf "$T/disc_s.json" disc
run disc_s "$T/disc_s.json"
stale2=$(extra_pages "$T/stale.log")
if [ "$stale2" -gt 0 ] && ! grep -q '^diag warning \[discovery\]' "$T/disc_s.err" && same reg disc_s; then
  ok "batch lacking reports the listings show: listings page to the end ($stale2 page-2 requests), same records"
else
  not_ok "batch lacking reports the listings show: listings page to the end, same records" \
    "page-2 requests: $stale2" "$(grep '^diag' "$T/disc_s.err" | head -3)"
fi
stop_sim

# ---- 15: discoveryChartFields false -------------------------------------------------------
sim nofields
conf "$T/disc_nf.json" disc ',"discoveryChartFields":false'
run disc_nf "$T/disc_nf.json"
nf_charts=$(grep -c ' GET /api/acme/reports/[^/ ]*/queries/[^/ ]*/charts ' "$T/nofields.log")
if [ "$nf_charts" -eq 0 ] && ! grep -q '^diag warning \[discovery\]' "$T/disc_nf.err" &&
  "$PY" - "$T/reg.jsonl" "$T/disc_nf.jsonl" <<'PYEOF'
import json, sys
def load(p):
    out, cols = [], {}
    for line in open(p):
        if line.startswith('#'):
            continue
        r = json.loads(line)
        d = r.get('data', {})
        if r['kind'] == 'chart':
            d.pop('description', None)
            r.get('query', {}).pop('fields', None)
        if r['kind'] == 'dashboardDataModel':
            cols[r['id']] = [c['name'] for c in d.pop('columns', [])]
        if r['kind'] == 'lineage' and d.get('toEntity', {}).get('type') == 'chart':
            d.get('lineageDetails', {}).pop('columnsLineage', None)
        out.append(json.dumps(r, sort_keys=True))
    return sorted(out), cols
(a, ca), (b, cb) = load(sys.argv[1]), load(sys.argv[2])
# Without chart fields a data model has its SQL's columns only: the first of the regular's.
short = [k for k in ca if cb.get(k) != ca[k][:len(cb.get(k, []))]]
if a != b or ca.keys() != cb.keys() or short:
    print('# differ: %d vs %d records, columns of %s' % (len(a), len(b), short[:3]))
    sys.exit(1)
PYEOF
then
  ok "discoveryChartFields false: no charts request, the regular records but for chart fields"
else
  not_ok "discoveryChartFields false: no charts request, the regular records but for chart fields" \
    "charts requests: $nf_charts" "$(grep '^diag' "$T/disc_nf.err" | head -3)"
fi
stop_sim

# ---- 16: creators from /memberships and batch's creator_email (the run of test 2) ------------
members=$(grep -c ' GET /api/acme/memberships ' "$T/full.log")
lookups=$(grep -c ' GET /api/[^/ ]* [0-9]' "$T/full.log")
member_lookups=$(grep ' GET /api/[^/ ]* [0-9]' "$T/full.log" | grep -vc ' 404 ')
if [ "$members" -ge 1 ] && [ "$member_lookups" -eq 0 ]; then
  ok "creators: /memberships listed ($members pages), only $lookups non-members looked up, same records"
else
  not_ok "creators: /memberships listed, only non-members looked up" \
    "memberships pages: $members, lookups of members: $member_lookups"
fi

# ---- 17: the memberships listing refused: every creator looked up ----------------------------
# users LOG: the user lookups (GET /api/{username}) in LOG, one line per user, sorted.
users() { grep -o ' GET /api/[^/ ]* [0-9]' "$1" | grep -v ' /api/\(acme\|account\) ' | sort -u; }
sim nomembers --faults memberships=403
run reg_m "$T/reg.json"
users "$T/nomembers.log" >"$T/reg_m.users"
: >"$T/nomembers.log"
run disc_m "$T/disc.json"
users "$T/nomembers.log" >"$T/disc_m.users"
refused=$(grep -c ' GET /api/acme/memberships 403' "$T/nomembers.log")
warned=$(grep -c '^diag warning \[memberships\].*creators are looked up one by one' "$T/disc_m.err")
if [ "$refused" -ge 1 ] && [ "$warned" -eq 1 ] && [ -s "$T/reg_m.users" ] &&
  cmp -s "$T/reg_m.users" "$T/disc_m.users" && same reg disc_m; then
  ok "memberships refused (403): one warning, all $(wc -l <"$T/disc_m.users") creators looked up as the regular run does, same records"
else
  not_ok "memberships refused: every creator looked up, same records" \
    "403s: $refused, warnings: $warned" "$(diff "$T/reg_m.users" "$T/disc_m.users" | head -3)" \
    "$(grep '^diag' "$T/disc_m.err" | head -3)"
fi
stop_sim
