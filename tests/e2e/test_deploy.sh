#!/usr/bin/env bash
# test_deploy.sh -- the Debian packages (debian/) and the deployment files of contrib/ (docs/deploy.md).
#
#   1   dpkg-buildpackage -us -uc -b, run on a copy of the source tree in a scratch directory
#       (it writes the .debs beside the tree), builds the five packages;
#   2   each package holds what it should (dpkg-deb -c), and nothing is left in debian/tmp;
#   3   the demo (tests/run-demo's workflow, against mode-sim from the build tree) runs from the
#       extracted packages: etlhost with --plugin-dir of the extracted plugin directory, and
#       lands dashboards in the catalog;
#   4   etl-plugin.pc from libetl-plugin-dev names the plugin directory the packaged etlhost
#       searches, and the packaged header compiles;
#   5   lintian prints no error or warning (the tags left are overridden, with the reason, in
#       debian/*.lintian-overrides);
#   6   systemd-analyze verify accepts the units (contrib/systemd), ExecStart pointed at the
#       extracted etlhost; any message fails;
#   7   the Airflow DAG (contrib/airflow) imports with plain python3 without Airflow and plans
#       one task per workspace;
#   8   docs/deploy.md, "Two schedulers": a second run of a workflow whose first run holds the
#       sqlite catalog's write lock gives up after busyTimeoutMs with exit status 1 and the
#       locked-catalog message; the first completes, and a later run finds all it delivered;
#   9   the workflow in contrib/kubernetes/etlhost-cronjob.yaml's ConfigMap runs (against
#       mode-sim instead of Mode, into a local catalog instead of the volume).
# Prints TAP. 1-5 skip when ETL_SKIP_PACKAGE_BUILD is set (.ci/run's distcheck), when
# dpkg-buildpackage or debhelper is missing (tests/deps.sh installs
# them), 5 when lintian is missing, 6 when systemd-analyze is; all but 7 in sanitizer builds
# (the packages are built with Debian's flags, not the suite's, so running them twice is only
# time). The package build is most of the time: 152-313 s measured on two cores shared with
# other builds (load 8-20); the rest takes about 50 s.
set -u
S=${ETL_TOP_SRCDIR:?ETL_TOP_SRCDIR is not set}
B=${ETL_TOP_BUILDDIR:?ETL_TOP_BUILDDIR is not set}
PY=${PYTHON3:-python3}
. "$S/tests/e2e/tap-lib.sh"

echo "1..9"
why=""
if ldd "$B/host-api/etlhost" 2>/dev/null | grep -q 'libasan\|libubsan'; then
  why="sanitizer build"
elif [ -n "${ETL_SKIP_PACKAGE_BUILD:-}" ]; then
  why="ETL_SKIP_PACKAGE_BUILD is set (.ci/run builds the packages once, in the main test run)"
elif ! command -v dpkg-buildpackage >/dev/null 2>&1; then
  why="dpkg-buildpackage is not installed (Debian package dpkg-dev)"
elif ! command -v dh >/dev/null 2>&1; then
  why="dh is not installed (Debian package debhelper)"
fi

# 1: the build, out of a copy (no build trees, no git) so the source tree stays untouched.
root=""
if [ -n "$why" ]; then
  for t in "packages build" "package contents" "demo from the packages" "etl-plugin.pc" \
    "lintian"; do skip "$t" "$why"; done
else
  mkdir -p "$T/src/etlhost"
  tar -C "$S" --exclude='./_build*' --exclude=./_inst --exclude=./.git --exclude=./autom4te.cache \
    -cf - . |
    tar -C "$T/src/etlhost" -xf -
  chmod -R u+w "$T/src"
  start=$(date +%s)
  if (cd "$T/src/etlhost" &&
    DEB_BUILD_OPTIONS="nocheck parallel=$(nproc 2>/dev/null || echo 2)" \
      dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1; then
    ok "packages build ($(($(date +%s) - start)) s)"
  else
    not_ok "packages build" "$(tail -30 "$T/build.log")"
  fi
  debs=$(ls "$T"/src/*.deb 2>/dev/null)

  # 2: what each package must hold; dh_missing (compat 13) already fails the build on an
  # installed file no package takes.
  contents_ok=1
  msgs=()
  expect() { # PACKAGE PATTERN...: each PATTERN matches a path of PACKAGE's .deb
    local pkg=$1 deb
    shift
    deb=$(ls "$T"/src/"${pkg}"_*.deb 2>/dev/null | head -1)
    if [ -z "$deb" ]; then
      contents_ok=0
      msgs+=("no package $pkg")
      return
    fi
    dpkg-deb -c "$deb" | awk '{print $6}' >"$T/$pkg.list"
    for p in "$@"; do
      grep -Eq "$p" "$T/$pkg.list" || {
        contents_ok=0
        msgs+=("$pkg lacks $p")
      }
    done
  }
  expect etlhost '^\./usr/bin/etlhost$' '^\./usr/bin/etl-sql-lineage$' '^\./usr/bin/etl-plugin-check$' \
    'man1/etlhost\.1\.gz$' 'man1/etl-sql-lineage\.1\.gz$' 'man1/etl-plugin-check\.1\.gz$' 'system/etlhost@\.service$' \
    'system/etlhost@\.timer$' 'doc/etlhost/deploy\.md' 'examples/airflow/etlhost_dag\.py$'
  expect etlhost-plugin-mode '/etlhost/plugins/mode\.so$'
  expect etlhost-plugin-jsonl '/etlhost/plugins/jsonl\.so$'
  expect libetl-plugin-dev '^\./usr/include/etl/plugin\.h$' '/pkgconfig/etl-plugin\.pc$'
  expect python3-etl-plugin '^\./usr/lib/python3/dist-packages/etl_plugin/__init__\.py$'
  if grep -hq '\.la$' "$T"/*.list 2>/dev/null; then
    contents_ok=0
    msgs+=("a libtool .la file is packaged")
  fi
  if [ $contents_ok = 1 ]; then ok "package contents"; else not_ok "package contents" "${msgs[@]}"; fi

  # 3: the demo from the extracted tree.
  root="$T/root"
  mkdir -p "$root"
  for d in $debs; do dpkg-deb -x "$d" "$root"; done
  plugdir=$(dirname "$(find "$root" -name mode.so | head -1)")
  mkdir -p "$T/demo"
  export MODE_TOKEN=demo-token MODE_SECRET=demo-secret-not-real MODE_WORKSPACE=acme
  start_server "$T/sim.out" "$B/tests/mode-sim/mode-sim" --port 0 --workspace acme \
    --token "$MODE_TOKEN" --secret "$MODE_SECRET" --seed 42 --spaces 2 --reports-per-space 3 \
    --users 2 --rate-limit off
  export MODE_HOST_PORT=$url
  status=0
  (cd "$T/demo" && env -u ETL_PLUGIN_PATH "$root/usr/bin/etlhost" --plugin-dir "$plugdir" \
    run "$S/tests/fixtures/demo/mode-workflow.yaml") >"$T/demo.out" 2>&1 || status=$?
  dashboards=$(sqlite3 "$T/demo/etlhost-catalog.db" \
    "SELECT count(*) FROM entities WHERE kind = 'dashboard' AND deleted = 0" 2>/dev/null)
  # Seed 42 with 2 collections of 3 reports and 2 users: 7 reports (one in a personal space).
  if [ "$status" = 0 ] && [ "${dashboards:-0}" = 7 ]; then
    ok "demo from the packages ($dashboards dashboards)"
  else
    not_ok "demo from the packages" "exit status $status, dashboards ${dashboards:-none}" \
      "$(tail -20 "$T/demo.out")"
  fi

  # 4: a plugin author's view: pkg-config finds the packaged header and the plugin directory.
  pc=$(find "$root" -name etl-plugin.pc | head -1)
  pc_plugindir=$(PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR= \
    pkg-config --variable=plugindir etl-plugin 2>&1)
  printf '#include <etl/plugin.h>\nint main(void) { return ETL_ABI_MAJOR < 0; }\n' >"$T/p.c"
  if [ "$root$pc_plugindir" = "$plugdir" ] &&
    ${CC:-cc} -std=c11 -Wall -Werror -I"$root/usr/include" -c "$T/p.c" -o "$T/p.o" \
      >"$T/cc.out" 2>&1; then
    ok "etl-plugin.pc names the packaged plugin directory ($pc_plugindir); the header compiles"
  else
    not_ok "etl-plugin.pc" "plugindir '$pc_plugindir', packaged in '${plugdir#"$root"}'" \
      "$(cat "$T/cc.out" 2>/dev/null)"
  fi

  # 5: lintian on the .changes (errors and warnings; overrides carry their reasons).
  if ! command -v lintian >/dev/null 2>&1; then
    skip "lintian" "lintian is not installed"
  else
    # Exit status 0 with --fail-on error,warning, so an invocation lintian refuses fails too.
    if lintian --fail-on error,warning --display-info "$T"/src/*.changes >"$T/lintian.out" 2>&1; then
      ok "lintian: no error or warning ($(grep -c '^[IP]: ' "$T/lintian.out") info tags)"
    else
      not_ok "lintian: no error or warning" "$(cat "$T/lintian.out")"
    fi
  fi
fi

# 6: systemd-analyze verify, on copies whose ExecStart names an etlhost that exists here.
if [ -n "$why" ] && [ "$why" = "sanitizer build" ]; then
  skip "systemd units verify" "$why"
elif ! command -v systemd-analyze >/dev/null 2>&1; then
  skip "systemd units verify" "systemd-analyze is not installed"
else
  exe=$B/host-api/etlhost
  [ -n "$root" ] && [ -x "$root/usr/bin/etlhost" ] && exe=$root/usr/bin/etlhost
  mkdir -p "$T/units"
  for u in service timer; do
    sed "s|/usr/bin/etlhost|$exe|" "$S/contrib/systemd/etlhost@.$u" >"$T/units/etlhost@demo.$u"
  done
  # --man=no: the man page of Documentation= is packaged (test 2), not installed here.
  if systemd-analyze verify --man=no "$T/units/etlhost@demo.service" \
    "$T/units/etlhost@demo.timer" >"$T/verify.out" 2>&1 && ! [ -s "$T/verify.out" ]; then
    ok "systemd-analyze verify: etlhost@.service and etlhost@.timer"
  else
    not_ok "systemd-analyze verify" "$(cat "$T/verify.out")"
  fi
fi

# 7: the DAG file without Airflow (a python3 that has it tests the DAG instead).
if "$PY" -c 'import airflow' >/dev/null 2>&1; then
  skip "DAG imports without Airflow" "Airflow is installed here"
elif out=$(cd "$S/contrib/airflow" && PYTHONDONTWRITEBYTECODE=1 "$PY" -c '
import etlhost_dag as d
assert d.dag is None, "a DAG without Airflow"
t = d.tasks()
assert len(t) == len(d.WORKSPACES) and len({i for i, _, _ in t}) == len(t), t
for tid, cmd, env in t:
    assert cmd.startswith("/usr/bin/etlhost run /etc/etlhost/mode-"), cmd
    assert "{{ var.value." in env["MODE_SECRET"], env
print(len(t))' 2>&1); then
  ok "DAG imports without Airflow, $out tasks"
else
  not_ok "DAG imports without Airflow" "$out"
fi

# 8: two runs of one workflow at once (build tree; Mode's own pacing, 3.8 requests/s, makes the
# first run last seconds). The second starts once the first holds the write lock.
mkdir -p "$T/two"
start_server "$T/sim2.out" "$B/tests/mode-sim/mode-sim" --port 0 --workspace acme \
  --token tok --secret sec --seed 42 --spaces 2 --reports-per-space 3 --users 2 --rate-limit off
sed -e "s|hostPort: .*|hostPort: $url|" -e 's|accessToken: .*|accessToken: tok|' \
  -e 's|accessTokenPassword: .*|accessTokenPassword: sec|' \
  -e 's|^# No sink:.*|sink: {type: sqlite, config: {path: c.db, busyTimeoutMs: 1000}}|' \
  "$S/tests/fixtures/demo/mode-workflow.yaml" >"$T/two/wf.yaml"
(cd "$T/two" && exec "$B/host-api/etlhost" --plugin-dir "$B/plugin/.libs" run wf.yaml) >"$T/two/a.out" 2>&1 &
first=$!
pids="$pids $first"
locked=0
for _ in $(seq 200); do
  if [ -f "$T/two/c.db" ] &&
    ! sqlite3 "$T/two/c.db" "BEGIN IMMEDIATE; ROLLBACK;" >/dev/null 2>&1; then
    locked=1
    break
  fi
  sleep 0.05
done
st2=0
(cd "$T/two" && "$B/host-api/etlhost" --plugin-dir "$B/plugin/.libs" run wf.yaml) >"$T/two/b.out" 2>&1 || st2=$?
still=0
kill -0 "$first" 2>/dev/null && still=1
st1=0
wait "$first" || st1=$?
st3=0
(cd "$T/two" && "$B/host-api/etlhost" --plugin-dir "$B/plugin/.libs" run wf.yaml) >"$T/two/c.out" 2>&1 || st3=$?
dash=$(sqlite3 "$T/two/c.db" "SELECT count(*) FROM entities WHERE kind = 'dashboard' AND deleted = 0")
if [ $locked = 1 ] && [ $still = 1 ] && [ $st2 = 1 ] && [ $st1 = 0 ] && [ $st3 = 0 ] &&
  grep -q "catalog 'c.db': .*locked.*is another etlhost writing to it" "$T/two/b.out" &&
  grep -q '^ *requests  0 ' "$T/two/b.out" && [ "$dash" = 7 ]; then
  ok "two runs at once: the second gives up on the lock before any request (exit 1), the first completes ($dash dashboards)"
else
  not_ok "two runs at once" "lock seen $locked, first still running $still; exit statuses" \
    "$st1 (first), $st2 (second), $st3 (after); dashboards $dash" "second: $(tail -5 "$T/two/b.out")"
fi

# 9: the CronJob's workflow (the ConfigMap's block, de-indented), against the same mode-sim.
mkdir -p "$T/k8s"
sed -n '/^  workflow.yaml: |$/,/^---$/p' "$S/contrib/kubernetes/etlhost-cronjob.yaml" |
  sed -e '1d' -e '/^---$/d' -e 's/^    //' \
    -e "s|hostPort: .*|hostPort: $url|" -e "s|path: /var/lib/etlhost/catalog.db|path: $T/k8s/c.db|" \
    >"$T/k8s/wf.yaml"
st9=0
(cd "$T/k8s" && MODE_TOKEN=tok MODE_SECRET=sec "$B/host-api/etlhost" --plugin-dir "$B/plugin/.libs" \
  run wf.yaml) >"$T/k8s/out" 2>&1 || st9=$?
dash9=$(sqlite3 "$T/k8s/c.db" "SELECT count(*) FROM entities WHERE kind = 'dashboard'" 2>/dev/null)
if [ $st9 = 0 ] && [ "$dash9" = 7 ]; then
  ok "the CronJob's workflow runs ($dash9 dashboards)"
else
  not_ok "the CronJob's workflow runs" "exit status $st9, dashboards ${dash9:-none}" \
    "$(tail -15 "$T/k8s/out")"
fi
