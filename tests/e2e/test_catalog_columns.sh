#!/bin/sh
# test_catalog_columns.sh -- the sqlite catalog answers "which dashboards use column X of table
# T" (issue 10 item 3) with the query docs/sinks.md documents, read from that page, on a catalog
# built by etlhost from mode-sim's recorded workspace: data models carry their columns, the
# table -> data model records their columnsLineage, and the query finds the dashboard through
# a plain column, a renamed one ("Staff First Name"), and nothing for a column no query reads.
# Prints TAP. Offline: mode-sim listens on 127.0.0.1 with an ephemeral port.
set -u
S=${ETL_TOP_SRCDIR:?ETL_TOP_SRCDIR is not set}
. "$S/tests/e2e/tap-lib.sh"
use_build
echo "1..6"
need_mode_build

# The documented query, exactly as docs/sinks.md shows it.
sed -n '/^SELECT DISTINCT json_extract(d.json/,/^ORDER BY 1, 3;$/p' "$S/docs/sinks.md" >"$T/q.sql"
if grep -q '^ORDER BY 1, 3;$' "$T/q.sql"; then
  ok "docs/sinks.md has the column query"
else
  not_ok "docs/sinks.md has the column query" "$(cat "$T/q.sql")"
fi

mode_catalog "$T/cat.db" local_mode acryl pg_svc --fixtures "$S/tests/fixtures/mode-api-samples"

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
