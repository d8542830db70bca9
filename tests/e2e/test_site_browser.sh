#!/bin/sh
# test_site_browser.sh -- `etlhost site` in a real browser (issue 15 item 3): ingests a generated
# Mode workspace (mode-sim, ephemeral port, no rate limit) into a temporary catalog, writes the
# site, starts Debian's headless Chromium with remote debugging on an ephemeral port, and drives
# it with tests/e2e/cdp.py: every page loads with no console error, exception, dialog or failed
# load (one dashboard is renamed to hostile markup first, which must show as text);
# every local link and image resolves; typing a dashboard's name into the search box finds it;
# ?q= and the collection filter work; the lineage SVG of a dashboard has the nodes and edges of
# the catalog's lineage rows; screenshots of the index and a dashboard page (also on a phone-sized
# screen) are saved next to this test's log, and their paths printed. Prints TAP; skips only when
# Chromium is not installed.
set -u
S=${ETL_TOP_SRCDIR:?ETL_TOP_SRCDIR is not set}
CHECKS=14 # the lines cdp.py prints

CHROMIUM=
for c in chromium chromium-browser; do
  command -v "$c" >/dev/null 2>&1 && CHROMIUM=$(command -v "$c") && break
done
if [ -z "$CHROMIUM" ]; then
  echo "1..0 # SKIP chromium is not installed (tests/deps.sh installs it)"
  exit 0
fi

. "$S/tests/e2e/tap-lib.sh"
use_build
# Chromium runs in a session of its own, so its renderer and GPU helpers die with it.
chromium_pid=""
site_cleanup() {
  if [ -n "$chromium_pid" ]; then
    kill -TERM "-$chromium_pid" 2>/dev/null
    i=0
    while kill -0 "$chromium_pid" 2>/dev/null && [ $i -lt 50 ]; do
      sleep 0.1
      i=$((i + 1))
    done
    kill -KILL "-$chromium_pid" 2>/dev/null
  fi
  tap_cleanup
}
trap site_cleanup EXIT
trap 'exit 1' INT TERM

echo "1..$((CHECKS + 3))"
need_mode_build
if ! "$PY" -c 'import websocket' 2>"$T/ws.err"; then
  echo "Bail out! $PY cannot import websocket (python3-websocket, tests/deps.sh): $(cat "$T/ws.err")"
  exit 1
fi

# Screenshots go next to this test's log (automake runs tests from the build tree).
shots=$B/tests/e2e/test_site_browser.shots
rm -rf "$shots"
mkdir -p "$shots"

start_server "$T/mode.out" "$MODESIM" --port 0 --workspace acme --token tok --secret sec \
  --seed 42 --spaces 2 --reports-per-space 5 --users 4 --data-sources 5 --rate-limit off
mkdir "$T/run"
if (cd "$T/run" && MODE_HOST_PORT=$url MODE_TOKEN=tok MODE_SECRET=sec MODE_WORKSPACE=acme \
  ETL_PLUGIN_PATH=$PLUGINS "$ETLHOST" run "$S/tests/fixtures/demo/mode-workflow.yaml") \
  >"$T/run.log" 2>&1; then
  ok "etlhost ingests the demo workflow from mode-sim"
else
  not_ok "etlhost ingests the demo workflow from mode-sim" "$(tail -5 "$T/run.log")"
fi
catalog=$T/run/etlhost-catalog.db
# A hostile name: the first dashboard's display name becomes markup, quotes and an ampersand.
hostile='<script>alert(1)</script> "quoted" & <img src=x onerror=alert(2)>'
"$PY" - "$catalog" "$hostile" <<'EOF' >"$T/hostile.out" 2>&1
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE entities SET json = json_set(json, '$.data.displayName', ?) WHERE kind ="
           " 'dashboard' AND id = (SELECT min(id) FROM entities WHERE kind = 'dashboard'"
           " AND NOT deleted)", (sys.argv[2],))
db.commit()
EOF

if "$ETLHOST" site "$catalog" -o "$T/site" >"$T/site.out" 2>&1 && [ -f "$T/site/index.html" ]; then
  ok "etlhost site writes the site: $(grep "^site:" "$T/site.out")"
else
  not_ok "etlhost site writes the site" "$(cat "$T/site.out")"
fi

profile=$T/profile # removed with $T, after Chromium is stopped
mkdir "$profile"
setsid "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
  --no-default-browser-check --disable-extensions --disable-background-networking \
  --disable-dev-shm-usage --remote-debugging-port=0 --remote-debugging-address=127.0.0.1 \
  --user-data-dir="$profile" about:blank >"$T/chromium.log" 2>&1 &
chromium_pid=$!
# Chromium writes the port it bound into the profile directory.
port=""
i=0
while [ $i -lt 300 ]; do
  port=$(head -n 1 "$profile/DevToolsActivePort" 2>/dev/null)
  [ -n "$port" ] && break
  kill -0 "$chromium_pid" 2>/dev/null || break
  sleep 0.1
  i=$((i + 1))
done
if [ -n "$port" ]; then
  ok "headless Chromium listens for DevTools on 127.0.0.1:$port"
else
  not_ok "headless Chromium listens for DevTools" "$(tail -5 "$T/chromium.log")"
fi

got=0
if [ -n "$port" ]; then
  timeout 300 "$PY" "$S/tests/e2e/cdp.py" --port "$port" --site "$T/site" --catalog "$catalog" \
    --shots "$shots" --hostile "$hostile" >"$T/cdp.out" 2>"$T/cdp.err"
  while IFS="$(printf '\t')" read -r verdict what detail; do
    got=$((got + 1))
    if [ "$verdict" = ok ]; then ok "$what"; else not_ok "$what" "$detail"; fi
  done <"$T/cdp.out"
fi
while [ $got -lt $CHECKS ]; do
  got=$((got + 1))
  not_ok "browser check $got did not run" "$(tail -5 "$T/cdp.err" 2>/dev/null)"
done
echo "# screenshots: $shots/site-index.png $shots/site-dashboard.png $shots/site-dashboard-phone.png"
