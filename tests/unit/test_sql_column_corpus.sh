#!/bin/sh
# The public column corpus (tests/fixtures/sql-column-corpus, issue 10 item 5): runs
# tests/unit/sql-column-corpus on it with etl-sql-lineage, SKIP while the CLI has no --columns.
# Then checks the runner itself against a fake CLI and tiny corpora: agreement passes, an
# unlisted disagreement fails, a listed one passes, a listed case that agrees fails, a listed id
# that is no case fails, a CLI without --columns is exit 77, and the runner passes --dialect and
# --schema. Prints TAP.
set -u
top_builddir=${ETL_TOP_BUILDDIR:-.}
fixtures=${ETL_TOP_SRCDIR:-.}/tests/fixtures
runner="$top_builddir/tests/unit/sql-column-corpus"
cli="$top_builddir/plugin/sql/etl-sql-lineage"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sqlcolcorpus.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
  n=$((n + 1))
  echo "not ok $n - $1"
  sed 's/^/# /' "$tmp/out"
  failed=$((failed + 1))
}

# The corpus with the real CLI.
"$runner" "$cli" "$fixtures/sql-column-corpus" >"$tmp/out" 2>&1
rc=$?
n=$((n + 1))
if [ $rc -eq 77 ]; then
  echo "ok $n - public column corpus # SKIP etl-sql-lineage has no --columns yet"
elif [ $rc -eq 0 ]; then
  echo "ok $n - public column corpus"
  grep '^# column corpus:' "$tmp/out"
else
  echo "not ok $n - public column corpus"
  cat "$tmp/out"
  failed=$((failed + 1))
fi

# A fake CLI: answers with the JSON after "-- answer: " in the SQL file (its last argument) and
# logs its arguments; FAKE_MODE=old refuses --columns as the CLI without it does.
cat >"$tmp/fake" <<'EOF'
#!/bin/sh
echo "$*" >>"$FAKE_LOG"
if [ "${FAKE_MODE:-}" = old ]; then
  echo "etl-sql-lineage: unknown or incomplete option '--columns'" >&2
  exit 2
fi
for last; do :; done
answer=$(sed -n 's/.*-- answer: //p' "$last")
printf '{"sources":[],"targets":[],"columns":%s}\n' "${answer:-[]}"
EOF
chmod +x "$tmp/fake"
export FAKE_LOG="$tmp/log"

# corpus DIR: two cases; the second's fake answer is given as $1.
corpus() {
  mkdir -p "$tmp/$2"
  cat >"$tmp/$2/cases.json" <<EOF
[
 {"id": "c-1", "source": "fake", "dialect": "ansi",
  "sql": "SELECT a FROM t -- answer: [{\"name\": \"a\", \"sources\": [\"t.a\"]}]",
  "columns": [{"name": "a", "sources": ["t.a"]}], "notes": ""},
 {"id": "c-2", "source": "fake", "dialect": "snowflake", "schema": {"t": ["a", "b"]},
  "sql": "SELECT a + b AS s FROM t -- answer: $1",
  "columns": [{"name": "s", "sources": ["t.a", "t.b"]}], "notes": ""}
]
EOF
  printf '%s' "${3:-}" >"$tmp/$2/known-disagreements.txt"
}

# expect NAME STATUS GREP-PATTERN-OR-- DIR
expect() {
  : >"$FAKE_LOG"
  "$runner" "$tmp/fake" "$tmp/$4" >"$tmp/out" 2>&1
  rc=$?
  if [ $rc -eq "$2" ] && { [ "$3" = "-" ] || grep -q -- "$3" "$tmp/out"; }; then
    ok "$1"
  else
    echo "# status $rc (want $2)" >>"$tmp/out"
    not_ok "$1"
  fi
}

right='[{\"name\": \"s\", \"sources\": [\"t.a\", \"t.b\"]}]'
wrong='[{\"name\": \"s\", \"sources\": [\"t.a\"]}]'
swapped='[{\"name\": \"s\", \"sources\": [\"t.b\", \"t.a\"]}]'
extra='[{\"name\": \"s\", \"sources\": [\"t.a\", \"t.b\"]}, {\"name\": \"x\", \"sources\": []}]'

corpus "$right" agree
expect "agreeing cases pass" 0 "column corpus: 2/2 agree, 0 known" agree
if grep -q -- "--columns --dialect snowflake --schema .*schema.json .*case.sql" "$FAKE_LOG" &&
  grep -q -- "--columns --dialect ansi .*case.sql" "$FAKE_LOG"; then
  ok "the runner passes --columns, the dialect and --schema"
else
  cp "$FAKE_LOG" "$tmp/out"
  not_ok "the runner passes --columns, the dialect and --schema"
fi
corpus "$wrong" unlisted
expect "an unlisted disagreement fails and names the case" 1 "FAIL c-2 \[snowflake\]: got {s <- \[t.a\]} want {s <- \[t.a, t.b\]}" unlisted
corpus "$swapped" order
expect "sources in another order disagree" 1 "FAIL c-2" order
corpus "$extra" more
expect "an extra column disagrees" 1 "FAIL c-2" more
corpus "$wrong" listed "# why
c-2 the fake drops t.b
"
expect "a listed disagreement passes with its reason" 0 "known disagreement c-2 (the fake drops t.b)" listed
corpus "$right" stale "c-2 listed but agrees
"
expect "a listed case that agrees fails" 1 "c-2 now agrees" stale
corpus "$right" ghost "c-9 no such case
"
expect "a listed id that is no case fails" 1 "lists c-9, which is no case" ghost
corpus "$right" noreason "c-2
"
expect "a listed id without a reason fails" 1 "has no reason" noreason
FAKE_MODE=old expect "a CLI without --columns is a skip (77)" 77 "has no --columns" agree

echo "1..$n"
[ $failed -eq 0 ]
