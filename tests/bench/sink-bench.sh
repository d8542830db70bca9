#!/bin/sh
# sink-bench.sh -- measures the sqlite sink: N synthetic records (default 200000) written three
# times into a fresh catalog (new, unchanged, changed), with records/s per run and peak RSS.
#
# usage: tests/bench/sink-bench.sh [N]     (from the build tree; builds the bench program)
set -eu
n=${1:-200000}
builddir=${ETL_TOP_BUILDDIR:-.}
make -C "$builddir" -s tests/bench/sink_bench >/dev/null
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$builddir/tests/bench/sink_bench" "$n" "$dir/bench-catalog.db"
printf 'catalog size: %s\n' "$(du -h "$dir/bench-catalog.db" | cut -f1)"
