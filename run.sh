#!/usr/bin/env bash
# Installs dependencies, builds Switchyard in Release mode and starts it on its embedded
# demo: the window when a display exists, the terminal console otherwise.
# Extra arguments are passed to switchyard (e.g. ./run.sh --listen 127.0.0.1:9000).
set -euo pipefail
cd "$(dirname "$0")"

./packaging/install-deps.sh
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build build-release --target switchyard

args=(--demo)
if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
    args+=(--headless)
fi
exec ./build-release/app/switchyard "${args[@]}" "$@"
