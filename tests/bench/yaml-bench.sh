#!/bin/sh
# yaml-bench.sh -- how long and how much memory etlhost takes to refuse hostile workflow files:
# the billion-laughs alias bomb (9 levels of 9 aliases, under 500 bytes) and 200000 nested
# flow lists, and a mapping of 49990 keys (which a linear duplicate check made quadratic). Each
# must be refused (exit 2) at once, in a few MB; prints seconds and peak RSS.
#
# usage: tests/bench/yaml-bench.sh     (from the build tree; needs /usr/bin/time)
set -eu
builddir=${ETL_TOP_BUILDDIR:-.}
make -C "$builddir" -s host-api/etlhost >/dev/null
etlhost="$builddir/host-api/etlhost"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
{
  printf 'source:\n  config:\n    a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
  prev=a
  for c in b c d e f g h i; do
    printf '    %s: &%s [*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s]\n' "$c" "$c" \
      $prev $prev $prev $prev $prev $prev $prev $prev $prev
    prev=$c
  done
} >"$dir/bomb.yaml"
awk 'BEGIN { printf "source: "; for (i = 0; i < 200000; i++) printf "["; print "" }' \
  >"$dir/deep.yaml"
awk 'BEGIN { print "m:"; for (i = 0; i < 49990; i++) printf "  k%d: 1\n", i }' >"$dir/keys.yaml"
for f in bomb deep keys; do
  bytes=$(wc -c <"$dir/$f.yaml")
  # A reader that expands the bomb must not take the machine: cap it at 1 GB.
  status=0
  (ulimit -v 1048576 && /usr/bin/time -f '%e %M' -o "$dir/time" \
    "$etlhost" test "$dir/$f.yaml" >/dev/null 2>"$dir/err") || status=$?
  set -- $(tail -n 1 "$dir/time") # the last line: time's own comes before it
  secs=$1 rss=$2
  printf '%s.yaml (%s bytes): exit %s, %s s, peak RSS %s KB: %s\n' "$f" "$bytes" "$status" \
    "$secs" "$rss" "$(grep -m1 error "$dir/err" | cut -c1-150)"
done
