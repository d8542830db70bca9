#!/bin/sh
# test_lineage.sh -- `etlhost lineage` (issue 15 item 1) on a catalog etlhost builds from a
# workspace mode-sim generates, as tests/run-demo does: the SVG of a dashboard and of a table
# is well-formed XML (python3's xml.etree) whose nodes and edges are exactly those the catalog's
# lineage rows say (ids as host-api/src/lineage.h gives them); DOT output; the errors for a
# missing file, a file that is not SQLite, an unknown focus and a bad --depth; and the command
# under valgrind (Graphviz's own leaks suppressed by tests/e2e/graphviz.supp). Prints TAP.
# Offline: mode-sim listens on 127.0.0.1 with an ephemeral port.
set -u
S=${ETL_TOP_SRCDIR:?ETL_TOP_SRCDIR is not set}
. "$S/tests/e2e/tap-lib.sh"
use_build
echo "1..12"
need_mode_build
mode_catalog "$T/cat.db" mode_demo acme warehouse --seed 42 --spaces 2 --reports-per-space 5 \
  --users 3 --data-sources 5 --rate-limit off

# The expected picture, from the catalog's rows (not from etlhost's code): `expect.py CAT KIND
# NAME` prints the sorted node ids, then "--", then the sorted edge ids.
cat >"$T/expect.py" <<'EOF'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
kind, name = sys.argv[2], sys.argv[3]
edges = set()
for (j,) in db.execute("SELECT json FROM entities WHERE kind = 'lineage' AND NOT deleted"):
    d = json.loads(j)["data"]
    edges.add(("%s:%s" % (d["fromEntity"]["type"], d["fromEntity"]["fullyQualifiedName"]),
               "%s:%s" % (d["toEntity"]["type"], d["toEntity"]["fullyQualifiedName"])))
for (j,) in db.execute("SELECT json FROM entities WHERE kind = 'dashboard' AND NOT deleted"):
    d = json.loads(j)["data"]
    dash = "dashboard:%s.%s" % (d["service"], d["name"])
    edges.update(("chart:" + c, dash) for c in d.get("charts", []))
    edges.update(("dashboardDataModel:" + m, dash) for m in d.get("dataModels", []))
focus = "%s:%s" % (kind, name)
nodes = {focus}
for direction in (0, 1):  # upstream: follow edges backwards; downstream: forwards
    todo = [focus]
    while todo:
        n = todo.pop()
        for e in edges:
            if e[1 - direction] == n and e[direction] not in nodes:
                nodes.add(e[direction])
                todo.append(e[direction])
print("\n".join(sorted(nodes)))
print("--")
print("\n".join(sorted("%s->%s" % e for e in edges if e[0] in nodes and e[1] in nodes)))
EOF
# `drawn.py SVG` prints the same from the picture, after checking it is well-formed XML.
cat >"$T/drawn.py" <<'EOF'
import sys, xml.etree.ElementTree as ET
svg = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == svg + "svg", root.tag
groups = [(g.get("class"), g.get("id")) for g in root.iter(svg + "g")]
print("\n".join(sorted(i for c, i in groups if c == "node")))
print("--")
print("\n".join(sorted(i for c, i in groups if c == "edge")))
EOF

# compare NAME SVG KIND FQN: the picture has exactly the expected nodes and edges.
compare() {
  if ! "$PY" "$T/drawn.py" "$2" >"$T/got" 2>"$T/err"; then
    not_ok "$1" "not well-formed SVG: $(cat "$T/err")"
    return
  fi
  "$PY" "$T/expect.py" "$T/cat.db" "$3" "$4" >"$T/want"
  nodes=$(sed '/^--$/q' "$T/want" | grep -vc '^--$')
  edges=$(sed '1,/^--$/d' "$T/want" | grep -c .)
  if [ "$nodes" -ge 3 ] && [ "$edges" -ge 2 ] && cmp -s "$T/got" "$T/want"; then
    ok "$1 ($nodes nodes, $edges edges)"
  else
    not_ok "$1" "want $nodes nodes, $edges edges; diff:" "$(diff "$T/want" "$T/got")"
  fi
}

# A dashboard with charts and at least two data models, and the table read by most models.
dash=$("$PY" - "$T/cat.db" <<'EOF'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = [json.loads(j)["data"] for (j,) in db.execute(
    "SELECT json FROM entities WHERE kind = 'dashboard' ORDER BY id")]
print(next(d["name"] for d in rows if len(d.get("dataModels", [])) >= 2 and d.get("charts")))
EOF
)
table=$("$PY" - "$T/cat.db" <<'EOF'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT json_extract(json, '$.data.fromEntity.fullyQualifiedName') AS t"
                 " FROM entities WHERE kind = 'lineage' AND t IS NOT NULL"
                 " AND json_extract(json, '$.data.fromEntity.type') = 'table'"
                 " GROUP BY t ORDER BY count(*) DESC, t LIMIT 1").fetchone()[0])
EOF
)

if "$ETLHOST" lineage "$T/cat.db" --dashboard "$dash" -o "$T/dash.svg" 2>"$T/err"; then
  ok "etlhost lineage CATALOG --dashboard $dash -o FILE"
else
  not_ok "etlhost lineage CATALOG --dashboard $dash -o FILE" "$(cat "$T/err")"
fi
compare "the dashboard's SVG has exactly its lineage" "$T/dash.svg" dashboard "mode_demo.$dash"

# Options after CATALOG, etlhost's own before the command, SVG to stdout.
if "$ETLHOST" -v lineage "$T/cat.db" --table "$table" --format svg >"$T/table.svg" 2>"$T/err" &&
  grep -q "nodes and .* edges drawn, 0 nodes left out" "$T/err"; then
  ok "etlhost -v lineage CATALOG --table $table --format svg > FILE"
else
  not_ok "etlhost -v lineage CATALOG --table FQN --format svg" "$(cat "$T/err")"
fi
compare "the table's SVG has exactly what reads it" "$T/table.svg" table "$table"

if "$ETLHOST" lineage --format dot "$T/cat.db" --dashboard "mode_demo.$dash" >"$T/d.dot" 2>"$T/err" &&
  head -1 "$T/d.dot" | grep -qx 'digraph lineage {' &&
  grep -q "id=\"dashboard:mode_demo.$dash\"" "$T/d.dot"; then
  ok "--format dot writes the graph, the dashboard found by FQN"
else
  not_ok "--format dot writes the graph" "$(cat "$T/err")" "$(head -3 "$T/d.dot")"
fi

# fails NAME WANT-MESSAGE ARGS...: exit status 2 and the message on stderr, nothing on stdout.
fails() {
  name=$1 want=$2
  shift 2
  "$ETLHOST" lineage "$@" >"$T/out" 2>"$T/err"
  rc=$?
  if [ $rc -eq 2 ] && grep -qF -- "$want" "$T/err" && [ ! -s "$T/out" ]; then
    ok "$name: exit 2, \"$want\""
  else
    not_ok "$name" "exit $rc, stderr: $(cat "$T/err")" "want: $want"
  fi
}
fails "a missing catalog" "catalog '$T/none.db': cannot open: No such file or directory" "$T/none.db"
[ ! -e "$T/none.db" ] || not_ok "a missing catalog is not created"
printf 'name,value\nnot a catalog\n' >"$T/x.csv"
fails "a file that is not SQLite" "catalog '$T/x.csv': not an etlhost catalog: the file is not a SQLite database" "$T/x.csv"
fails "an unknown dashboard" "no dashboard 'nope' in the catalog" "$T/cat.db" --dashboard nope
fails "a bad --depth" "--depth 'two': expected a whole number of at least 0" "$T/cat.db" \
  --depth two

# PNG: to a file, never to a terminal (script(1) gives the command one).
"$ETLHOST" lineage "$T/cat.db" --dashboard "$dash" --format png -o "$T/d.png" 2>"$T/err"
magic=$(head -c 8 "$T/d.png" | od -An -tx1 | tr -d ' \n')
if ! command -v script >/dev/null 2>&1; then
  skip "PNG to a file, never to a terminal" "script(1) is not installed"
else
  script -qec "'$ETLHOST' lineage '$T/cat.db' --format png" /dev/null >"$T/tty.out" 2>&1
  rc=$?
  if [ "$magic" = 89504e470d0a1a0a ] && [ $rc -eq 2 ] && ! grep -q IHDR "$T/tty.out" &&
    grep -q "not writing PNG to a terminal: give -o FILE or redirect stdout" "$T/tty.out"; then
    ok "PNG to a file; to a terminal refused (exit 2)"
  else
    not_ok "PNG to a file, never to a terminal" "magic $magic, exit $rc" \
      "$(cat "$T/err" "$T/tty.out" | head -c 400)"
  fi
fi

if ! command -v valgrind >/dev/null 2>&1; then
  skip "etlhost lineage under valgrind" "valgrind is not installed"
elif ldd "$ETLHOST" 2>/dev/null | grep -q 'libasan\|libubsan'; then
  skip "etlhost lineage under valgrind" "sanitizer build"
elif valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
  --errors-for-leak-kinds=definite,indirect --suppressions="$S/tests/e2e/graphviz.supp" \
  "$ETLHOST" lineage "$T/cat.db" --columns --max-fanout 2 -o "$T/vg.svg" >"$T/vg.log" 2>&1; then
  ok "etlhost lineage --columns under valgrind: no error, no leak of ours"
else
  not_ok "etlhost lineage under valgrind" "$(tail -40 "$T/vg.log")"
fi
