#!/usr/bin/env bash
# Installs dependencies, builds Switchyard with its tests and runs every ctest.
set -euo pipefail
cd "$(dirname "$0")"

./packaging/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON >/dev/null
cmake --build build
# Suites share two cores with the simulated upstreams they start; two at a time keeps
# them fast without starving each other.
ctest --test-dir build --output-on-failure -j 2 --timeout 300
# ui.screenshots rendered every view of the demo; keep the README's copies current.
if compgen -G "build/screenshots/[0-9][0-9]-*.png" >/dev/null; then
    mkdir -p docs/screenshots
    cp build/screenshots/[0-9][0-9]-*.png docs/screenshots/
fi
# The whole suite again, built with clang, AddressSanitizer and UndefinedBehaviorSanitizer
# (build-asan/), then every libFuzzer target for 60 s from its seeds and the saved
# regressions, two at a time (docs/RELIABILITY.md).
tests/sanitize.sh --fuzz-seconds 60
