#!/bin/sh
# test_catalog_columns.sh -- the sqlite catalog answers "which dashboards use column X of table
# T" (issue 10 item 3) with the query docs/sinks.md documents, read from that page, on a catalog
# built by etlhost from mode-sim's recorded workspace: data models carry their columns, the
# table -> data model records their columnsLineage, and the query finds the dashboard through
# a plain column, a renamed one ("Staff First Name"), and nothing for a column no query reads.
# Prints TAP. Offline: mode-sim listens on 127.0.0.1 with an ephemeral port.
set -u
B=${ETL_TOP_BUILDDIR:?ETL_TOP_BUILDDIR is not set}
S=${ETL_TOP_SRCDIR:?ETL_TOP_SRCDIR is not set}
PY=${PYTHON3:-/usr/bin/python3}
PLUGINS=${ETL_PLUGIN_PATH:-$B/plugin/.libs}
ETLHOST=$B/host-api/etlhost
MODESIM=$B/tests/mode-sim/mode-sim

. "$S/tests/e2e/tap-lib.sh"
echo "1..6"
if [ ! -f "$PLUGINS/mode.so" ] || [ ! -x "$MODESIM" ] || [ ! -x "$ETLHOST" ]; then
  echo "Bail out! mode.so, mode-sim or etlhost is not built"
  exit 1
fi

# The documented query, exactly as docs/sinks.md shows it.
sed -n '/^SELECT DISTINCT json_extract(d.json/,/^ORDER BY 1, 3;$/p' "$S/docs/sinks.md" >"$T/q.sql"
if grep -q '^ORDER BY 1, 3;$' "$T/q.sql"; then
  ok "docs/sinks.md has the column query"
else
  not_ok "docs/sinks.md has the column query" "$(cat "$T/q.sql")"
fi

start_server "$T/mode.out" "$MODESIM" --fixtures "$S/tests/fixtures/mode-api-samples" \
  --workspace acryl --token tok --secret sec
cat >"$T/wf.yaml" <<EOF
source:
  type: mode
  serviceName: local_mode
  serviceConnection:
    config:
      type: Mode
      hostPort: $url
      accessToken: tok
      accessTokenPassword: sec
      workspaceName: acryl
  sourceConfig:
    config:
      type: DashboardMetadata
      includeDataModels: true
      lineageInformation:
        dbServicePrefixes:
          - pg_svc
sink:
  type: sqlite
  config:
    path: $T/cat.db
EOF
if ETL_PLUGIN_PATH=$PLUGINS "$ETLHOST" run "$T/wf.yaml" >"$T/run.log" 2>&1; then
  ok "etlhost builds the catalog from mode-sim"
else
  not_ok "etlhost builds the catalog from mode-sim" "$(cat "$T/run.log")"
fi

# query TABLE COLUMN: the documented query's rows, '|'-separated (Python's sqlite3 binds the
# :table and :column parameters as the sqlite3 shell's .parameter does).
query() {
  "$PY" - "$T/cat.db" "$T/q.sql" "$1" "$2" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for row in db.execute(open(sys.argv[2]).read(), {"table": sys.argv[3], "column": sys.argv[4]}):
    print("|".join(row))
EOF
}

# check NAME TABLE COLUMN EXPECTED
check() {
  got=$(query "$2" "$3" 2>&1)
  if [ "$got" = "$4" ]; then ok "$1"; else not_ok "$1" "got: $got" "want: $4"; fi
}

cols=$("$PY" - "$T/cat.db" <<'EOF'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
(j,) = db.execute("SELECT json FROM entities WHERE kind = 'dashboardDataModel'"
                  " AND id = '6e26a9f3d4e2'").fetchone()
cols = json.loads(j)["data"]["columns"][:3]
print(",".join("%s:%s:%d" % (c["name"], c["dataType"], c["ordinalPosition"]) for c in cols))
EOF
)
if [ "$cols" = "customer_id:UNKNOWN:1,first_name:UNKNOWN:2,last_name:UNKNOWN:3" ]; then
  ok "the query's data model carries its columns ($cols)"
else
  not_ok "the query's data model carries its columns" "got: $cols"
fi
check "a plain column: customer.first_name is used by report 9d2da37fa91e" \
  'pg_svc.dvdrental.*.customer' first_name \
  'local_mode.9d2da37fa91e|Report 1|local_mode.model.6e26a9f3d4e2.first_name'
check "a renamed column: staff.first_name reaches the report as \"Staff First Name\"" \
  'pg_svc.dvdrental.*.staff' FIRST_NAME \
  'local_mode.9d2da37fa91e|Report 1|local_mode.model.6e26a9f3d4e2.Staff First Name'
check "a column no query reads gives no dashboard" 'pg_svc.dvdrental.*.customer' email ''
