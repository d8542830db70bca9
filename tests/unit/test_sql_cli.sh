#!/bin/sh
# etl-sql-lineage as a user runs it: files and stdin, --dialect, --definitions with the recorded
# Mode /definitions body, JSON on stdout, and exit status 0 / 1 (not SQL) / 2 (usage, I/O).
# Prints TAP.
set -u
top_builddir=${ETL_TOP_BUILDDIR:-.}
fixtures=${ETL_TOP_SRCDIR:-.}/tests/fixtures
cli="$top_builddir/plugin/sql/etl-sql-lineage"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sqlcli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
n=0
failed=0

# check NAME EXPECTED_STATUS EXPECTED_STDOUT_OR_- STDERR_SUBSTRING_OR_- -- command...
check() {
  name=$1 want_rc=$2 want_out=$3 want_err=$4
  shift 5
  n=$((n + 1))
  "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  out=$(cat "$tmp/out")
  ok=1
  [ "$rc" -eq "$want_rc" ] || ok=0
  if [ "$want_out" != "-" ] && [ "$out" != "$want_out" ]; then ok=0; fi
  if [ "$want_err" != "-" ] && ! grep -qF -- "$want_err" "$tmp/err"; then ok=0; fi
  if [ $ok -eq 1 ]; then
    echo "ok $n - $name"
  else
    echo "not ok $n - $name"
    echo "# status $rc (want $want_rc); stdout: $out"
    sed 's/^/# stderr: /' "$tmp/err"
    failed=$((failed + 1))
  fi
}

printf 'INSERT INTO "S"."Out" SELECT * FROM a JOIN b.c ON true' >"$tmp/q1.sql"
printf 'SELECT * FROM `proj.ds.t`' >"$tmp/q2.sql"
printf 'SELECT * FROM {{ @join_on_definition as rental }} JOIN staff ON true\n{%% form %%}\nx:\n  default: 1\n{%% endform %%}' >"$tmp/mode.sql"
printf 'SELECT (1' >"$tmp/bad.sql"
printf '{"nope": 1}' >"$tmp/notdefs.json"
printf '{"_embedded": {' >"$tmp/broken.json"

check "stdin" 0 '{"sources":["t"],"targets":[]}' - -- sh -c "echo 'SELECT * FROM t' | '$cli'"
check "file with targets and quoted names" 0 '{"sources":["a","b.c"],"targets":["S.Out"]}' - -- \
  "$cli" "$tmp/q1.sql"
check "bigquery backticks split with --dialect" 0 '{"sources":["proj.ds.t"],"targets":[]}' - -- \
  "$cli" --dialect bigquery "$tmp/q2.sql"
check "several files give one object" 0 \
  '{"sources":["a","b.c","proj.ds.t"],"targets":["S.Out"]}' - -- \
  "$cli" "$tmp/q1.sql" "$tmp/q2.sql"
check "Mode definitions expanded" 0 \
  '{"sources":["customer","payment","rental","staff"],"targets":[]}' - -- \
  "$cli" --dialect jdbc:postgresql --definitions "$fixtures/mode-api-samples/setup/definitions.json" \
  "$tmp/mode.sql"
check "without definitions the reference is no table" 0 '{"sources":["staff"],"targets":[]}' - -- \
  "$cli" "$tmp/mode.sql"
check "unparseable SQL exits 1 naming file and position" 1 "" "bad.sql: unclosed parenthesis at line 1, column 8" -- \
  "$cli" "$tmp/bad.sql"
check "not SQL on stdin exits 1" 1 "" "standard input: not SQL" -- sh -c "echo 'hello there' | '$cli'"
check "unknown dialect is read as ansi with a warning" 0 \
  '{"sources":["a","b.c"],"targets":["S.Out"]}' "unknown dialect 'teradata', reading the SQL as ansi" \
  -- "$cli" --dialect teradata "$tmp/q1.sql"
check "the warning is one line" 0 - - -- sh -c "'$cli' --dialect dremio '$tmp/q1.sql' 2>&1 >/dev/null | wc -l | grep -qx ' *1'"
check "unknown option exits 2" 2 "" "unknown or incomplete option '--frobnicate'" -- "$cli" --frobnicate
check "missing file exits 2" 2 "" "nosuch.sql: No such file or directory" -- "$cli" "$tmp/nosuch.sql"
check "definitions without the array exit 2" 2 "" "no _embedded.definitions array" -- \
  "$cli" --definitions "$tmp/notdefs.json" "$tmp/q1.sql"
check "definitions that are not JSON exit 2" 2 "" "not JSON" -- \
  "$cli" --definitions "$tmp/broken.json" "$tmp/q1.sql"
check "help" 0 - - -- "$cli" --help
check "help names the options" 0 - - -- sh -c "'$cli' --help | grep -q -- --definitions"

# --columns (issue 10): the contract's JSON, --schema, Liquid branches merged.
printf 'INSERT INTO dw.out (k, total) SELECT o.id, SUM(o.amount) FROM s.orders o GROUP BY o.id' >"$tmp/ins.sql"
printf 'SELECT {%% if m %%}amount{%% else %%}cost{%% endif %%} AS metric, * FROM t JOIN u ON t.id = u.id' >"$tmp/liq.sql"
printf '{"t": ["id", "Amount"]}' >"$tmp/schema.json"
printf '{"t": "id"}' >"$tmp/badschema.json"
check "--columns adds columns" 0 \
  '{"sources":["s.orders"],"targets":["dw.out"],"columns":[{"name":"k","sources":["s.orders.id"]},{"name":"total","sources":["s.orders.amount"]}]}' - -- \
  "$cli" --columns "$tmp/ins.sql"
check "--columns over Liquid merges the branches, * per unknown table" 0 \
  '{"sources":["t","u"],"targets":[],"columns":[{"name":"metric","sources":["t.amount","t.cost","u.amount","u.cost"]},{"name":"*","sources":["t.*"]},{"name":"*","sources":["u.*"]}]}' - -- \
  "$cli" --columns "$tmp/liq.sql"
check "--schema expands * and resolves bare names" 0 \
  '{"sources":["t","u"],"targets":[],"columns":[{"name":"metric","sources":["t.amount","u.cost"]},{"name":"id","sources":["t.id"]},{"name":"amount","sources":["t.amount"]},{"name":"*","sources":["u.*"]}]}' - -- \
  "$cli" --columns --schema "$tmp/schema.json" "$tmp/liq.sql"
check "columns of a query without FROM are empty" 0 \
  '{"sources":[],"targets":[],"columns":[{"name":"x","sources":[]}]}' - -- \
  sh -c "echo 'SELECT 1 AS x' | '$cli' --columns"
check "a schema that is not tables of names exits 2" 2 "" "table 't': not an array" -- \
  "$cli" --columns --schema "$tmp/badschema.json" "$tmp/ins.sql"
check "help names --columns" 0 - - -- sh -c "'$cli' --help | grep -q -- --columns"

echo "1..$n"
[ $failed -eq 0 ]
