#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and the demo need, if any is missing.
# Sourced or run by tests/run-tests, tests/run-demo and .ci/run; a no-op when all are present.
set -euo pipefail
packages=(
  build-essential autoconf automake libtool libltdl-dev pkg-config
  libcurl4-openssl-dev libyajl-dev libyaml-dev libsqlite3-dev check libmicrohttpd-dev
  python3 python3-jsonschema sqlite3 valgrind curl openssl g++ locales
  libpq-dev postgresql dpkg-dev debhelper lintian
  libgraphviz-dev chromium fonts-dejavu-core python3-websocket
)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
# A comma-decimal locale for tests/e2e/test_locale.sh and test_mode_config (they skip without).
if ! locale -a 2>/dev/null | grep -qi '^de_DE\.utf-\{0,1\}8$'; then
  echo "deps: generating the de_DE.UTF-8 locale" >&2
  $sudo localedef -i de_DE -f UTF-8 de_DE.UTF-8 >&2 ||
    echo "deps: could not generate de_DE.UTF-8; the locale tests will skip" >&2
fi
