#!/usr/bin/env bash
# Installs everything tickforge needs to build, test and benchmark on Debian 12, from Debian packages only.
# Idempotent: does nothing (not even apt-get update) when every package is already installed.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config git python3
  libmimalloc-dev libconcurrentqueue-dev libreaderwriterqueue-dev librdkafka-dev
  libbenchmark-dev libgtest-dev libsimdjson-dev libcli11-dev libtomlplusplus-dev libfmt-dev
  libboost-dev gnuplot-nox kcat python3-prometheus-client libcpp-httplib-dev
  clang libclang-rt-14-dev
  libcctz-dev tzdata zlib1g-dev libpcap-dev
  postgresql-15 postgresql-client-15 libpq-dev
  chromium fonts-dejavu-core
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
  fi
  echo "install-deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The browser test's driver, from the npm registry at the version package-lock.json pins (the page itself
# needs nothing from npm: its one library is committed under web/page/vendor/). Needs node and npm, which
# this machine kind has; without them the browser test is not registered (tests/CMakeLists.txt).
browser_tests="$(dirname "$0")/../tests/browser"
if command -v npm >/dev/null && [ ! -f "$browser_tests/node_modules/playwright-core/package.json" ]; then
  echo "install-deps: npm ci in tests/browser (playwright-core)"
  npm ci --prefix "$browser_tests" --no-audit --no-fund --loglevel=error
fi
