#!/usr/bin/env bash
# Saves a PNG of each console view into OUTDIR: starts `switchyard --demo` (simulated
# upstreams plus generated traffic) in a virtual X server, lets the traffic run, then the
# hidden --screenshot-dir option walks the views and exits.
#   tests/ui/screenshots.sh OUTDIR
# SWITCHYARD_BINARY overrides the binary (default: build/app/switchyard);
# SCREENSHOT_DELAY_MS how long the demo runs first (default 12000).
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
outdir=$1
root="$(cd "$(dirname "$0")/../.." && pwd)"
binary=${SWITCHYARD_BINARY:-"$root/build/app/switchyard"}
delay=${SCREENSHOT_DELAY_MS:-12000}
if [[ ! -x "$binary" ]]; then
    echo "screenshots: $binary not found; build first" >&2
    exit 1
fi

data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT
mkdir -p "$outdir"
rm -f "$outdir"/[0-9][0-9]-*.png

args=(--demo --data-dir "$data" --listen 127.0.0.1:0 --threads 2
      --screenshot-dir "$outdir" --screenshot-delay-ms "$delay")
if command -v xvfb-run >/dev/null 2>&1; then
    # A real X server renders fonts and styles as a desktop does.
    env -u QT_QPA_PLATFORM -u WAYLAND_DISPLAY xvfb-run -a -s "-screen 0 1400x900x24" \
        "$binary" "${args[@]}" >"$data/out.log" 2>&1 || { cat "$data/out.log" >&2; exit 1; }
else
    echo "screenshots: xvfb-run not found, using the offscreen platform" >&2
    QT_QPA_PLATFORM=offscreen "$binary" "${args[@]}" >"$data/out.log" 2>&1 || { cat "$data/out.log" >&2; exit 1; }
fi

count=$(find "$outdir" -maxdepth 1 -name '[0-9][0-9]-*.png' -size +1k | wc -l)
if [[ $count -lt 7 ]]; then
    echo "screenshots: expected 7 views, got $count" >&2
    cat "$data/out.log" >&2
    exit 1
fi
echo "screenshots: $count PNGs in $outdir"
