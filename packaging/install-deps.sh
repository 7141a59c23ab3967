#!/usr/bin/env bash
# Installs every Debian 12 package Switchyard needs to build, test and benchmark.
# Idempotent: packages already present are skipped, so a second run is a no-op
# and does not touch the network.
set -euo pipefail

BUILD_PACKAGES=(
    build-essential cmake ninja-build pkg-config
    qt6-base-dev qt6-charts-dev libqt6opengl6-dev libqt6sql6-sqlite libgl-dev
    libcurl4-openssl-dev libsimdjson-dev libyaml-cpp-dev libhttp-parser-dev
    libsqlite3-dev qtkeychain-qt6-dev
    # glibc's resolver library (libresolv): DNS service discovery (docs/DISCOVERY.md).
    libc6-dev
    # RE2: redaction and prompt-firewall patterns match in linear time (docs/SAFETY.md).
    libre2-dev
    # xxHash: block-hash chains of prompts for prefix-cache-aware routing.
    libxxhash-dev
    # hiredis: limits shared between gateways through Redis (--redis); the tests start
    # a real redis-server.
    libhiredis-dev redis-server
    # Google Benchmark: the routing-decision microbenchmark (tests/bench).
    libbenchmark-dev
    # nghttp2: the tests' h2c upstream (tests/support/h2cupstream.h); the gateway itself
    # speaks HTTP/2 through libcurl.
    libnghttp2-dev
    # A real Secret Service for the keychain test: dbus-run-session + gnome-keyring.
    dbus-daemon gnome-keyring libssl-dev
    # libssl: TLS on the listener; the openssl command makes the test certificates.
    openssl
    # A virtual X server for the console screenshots (tests/ui/screenshots.sh).
    xvfb xauth
    # The Debian package (CPack) and its test: dpkg-shlibdeps fills in Depends.
    dpkg-dev
)
# The reliability checks of test.sh (tests/sanitize.sh): clang with its sanitizer and
# libFuzzer runtimes.
SANITIZE_PACKAGES=(clang libclang-rt-14-dev)
# Reference proxy and load tools used by tests/bench only.
BENCH_PACKAGES=(nginx-light wrk)

wanted=("${BUILD_PACKAGES[@]}" "${SANITIZE_PACKAGES[@]}")
# The official-SDK tests (tests/sdk) run under Node.js with npm. A Node.js installed
# another way (NodeSource's package bundles npm) is used as it is.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    wanted+=(nodejs npm)
fi
if [[ "${SWITCHYARD_WITH_BENCH:-0}" == 1 ]]; then
    wanted+=("${BENCH_PACKAGES[@]}")
fi

missing=()
for pkg in "${wanted[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
    SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
