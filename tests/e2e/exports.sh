#!/usr/bin/env bash
# Every plugin exports exactly one dynamic symbol, its entry function (nm -D --defined-only).
# Prints TAP.
set -u
b=${ETL_TOP_BUILDDIR:?}
plugins=("$b"/plugin/.libs/*.so "$b"/tests/plugins/.libs/fake.so)
echo "1..${#plugins[@]}"
n=0 failed=0
for so in "${plugins[@]}"; do
  n=$((n + 1))
  syms=$(nm -D --defined-only "$so" 2>&1 | awk '{print $NF}' | sort | tr '\n' ' ')
  if [ "$syms" = "etl_plugin_entry " ]; then
    echo "ok $n - $(basename "$so") exports only etl_plugin_entry"
  else
    echo "not ok $n - $(basename "$so") exports: $syms"; failed=1
  fi
done
exit $failed
