#!/usr/bin/env bash
# GUI responsiveness benchmark (docs/BENCHMARKS.md, "The console under load"): runs the
# real switchyard window in a virtual X server with every view live (the views are cycled
# so each one paints), drives 5,000 req/s at its gateway and measures
#   - the GUI event loop's lateness (the in-process probe enabled by SWITCHYARD_GUI_PROBE:
#     a 10 ms timer re-armed each tick, recording how late each tick ran), p50/p99/max
#     over the open-loop measurement window;
#   - the closed-loop throughput of the same binary with the window open and --headless,
#     alternating which goes first from run to run; the ratio is taken per run, then the
#     median over runs.
#
#   tests/bench/gui-bench.sh --runs 5
#
# Needs a build with the GUI (build/app/switchyard), the load generator
# (build/tests/bench/switchyard-loadgen), nginx (static upstream) and Xvfb.
# Raw results: $OUT_DIR/gui-bench-results.jsonl; summary printed and in gui-bench-summary.md.
set -euo pipefail

usage() {
    cat <<'USAGE'
usage: tests/bench/gui-bench.sh [options]
  --runs N          alternating window/headless runs; medians over them (default 5)
  --duration S      measured seconds of each load phase (default 10)
  --warmup S        unmeasured seconds before each phase (default 2)
  --rate R          open-loop request rate during the GUI latency phase (default 5000)
  --connections C   load generator connections (default 32)
  --port-base P     upstream on P, gateway on P+1 (default 18580)
  --load-core N     core of the load generator and the static upstream (default 0)
  --gateway-core N  core of switchyard and the X server (default 1)
  --priority MODE   rt (SCHED_RR, default), nice or none, for every process alike
  --build-dir DIR   where switchyard and the load generator are built (default build)
  --cycle-ms MS     how often the window moves to its next view (default 1000)
USAGE
}

RUNS=5
DURATION=10
WARMUP=2
RATE=5000
CONNECTIONS=32
PORT_BASE=18580
LOAD_CORE=0
GATEWAY_CORE=1
PRIORITY_MODE=rt
CYCLE_MS=1000
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD_DIR="$ROOT/build"

while [[ $# -gt 0 ]]; do
    case "$1" in
        --runs) RUNS="$2"; shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --warmup) WARMUP="$2"; shift 2 ;;
        --rate) RATE="$2"; shift 2 ;;
        --connections) CONNECTIONS="$2"; shift 2 ;;
        --port-base) PORT_BASE="$2"; shift 2 ;;
        --load-core) LOAD_CORE="$2"; shift 2 ;;
        --gateway-core) GATEWAY_CORE="$2"; shift 2 ;;
        --priority) PRIORITY_MODE="$2"; shift 2 ;;
        --build-dir) BUILD_DIR="$(cd "$2" && pwd)"; shift 2 ;;
        --cycle-ms) CYCLE_MS="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "gui-bench: unknown option $1" >&2; usage >&2; exit 64 ;;
    esac
done

log() { echo "gui-bench: $*" >&2; }

BIN="$BUILD_DIR/app/switchyard"
LOADGEN="$BUILD_DIR/tests/bench/switchyard-loadgen"
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
XVFB="$(command -v Xvfb || true)"
[[ -x $BIN ]] || { log "no switchyard at $BIN (build it with the GUI)"; exit 1; }
[[ -x $LOADGEN ]] || { log "no load generator at $LOADGEN (ninja switchyard-loadgen)"; exit 1; }
[[ -x $NGINX ]] || { log "nginx not found (SWITCHYARD_WITH_BENCH=1 packaging/install-deps.sh)"; exit 1; }
[[ -n $XVFB ]] || { log "Xvfb not found (apt-get install xvfb)"; exit 1; }

PRIORITY=()
case "$PRIORITY_MODE" in
    rt) if chrt -r 10 true 2>/dev/null; then PRIORITY=(chrt -r 10); elif nice -n -20 true 2>/dev/null; then PRIORITY=(nice -n -20); fi ;;
    nice) if nice -n -20 true 2>/dev/null; then PRIORITY=(nice -n -20); fi ;;
    none) ;;
    *) log "--priority must be rt, nice or none"; exit 64 ;;
esac

UPSTREAM_PORT=$PORT_BASE
GATEWAY_PORT=$((PORT_BASE + 1))
URL="http://127.0.0.1:$GATEWAY_PORT/v1/chat/completions"
RESULTS="$BUILD_DIR/gui-bench-results.jsonl"
SUMMARY="$BUILD_DIR/gui-bench-summary.md"
WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-gui-bench.XXXXXX")"
PIDS=()

cleanup() {
    local pid i
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    mkdir -p "$BUILD_DIR/gui-bench-logs"
    cp "$WORK_DIR"/*.log "$BUILD_DIR/gui-bench-logs/" 2>/dev/null || true
    rm -rf "$WORK_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Polls (bounded, about 10 s) until URL answers or the process is gone.
wait_ready() {
    local pid=$1 url=$2 i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || return 1
        curl -sf -o /dev/null --max-time 1 "$url" && return 0
        sleep 0.1
    done
    return 1
}

sed -e "s|@PREFIX@|$WORK_DIR|g" -e "s|@PORT@|$UPSTREAM_PORT|g" "$ROOT/tests/bench/upstream-nginx.conf.in" >"$WORK_DIR/upstream.conf"
"${PRIORITY[@]}" taskset -c "$LOAD_CORE" "$NGINX" -p "$WORK_DIR" -e "$WORK_DIR/upstream-error.log" -c "$WORK_DIR/upstream.conf" \
    >"$WORK_DIR/upstream-stdout.log" 2>&1 &
PIDS+=("$!")
wait_ready "$!" "http://127.0.0.1:$UPSTREAM_PORT/healthz" || { log "static upstream did not start"; exit 1; }

# One X server for every window run, on the gateway's core: its rendering work is the
# window's cost.
DISPLAY_NUM=$((90 + RANDOM % 800))
"${PRIORITY[@]}" taskset -c "$GATEWAY_CORE" "$XVFB" ":$DISPLAY_NUM" -screen 0 1400x900x24 -nolisten tcp \
    >"$WORK_DIR/xvfb.log" 2>&1 &
PIDS+=("$!")
for ((i = 0; i < 100; i++)); do [[ -e /tmp/.X11-unix/X$DISPLAY_NUM ]] && break; sleep 0.1; done
[[ -e /tmp/.X11-unix/X$DISPLAY_NUM ]] || { log "Xvfb did not start"; cat "$WORK_DIR/xvfb.log" >&2; exit 1; }

cat >"$WORK_DIR/gateway.yaml" <<YAML
gateway:
  listen: 127.0.0.1:$GATEWAY_PORT
  threads: 1
request_log:
  enabled: true
providers:
  - name: static
    type: openai-compatible
    base_url: http://127.0.0.1:$UPSTREAM_PORT/v1
routes:
  - model: bench
    targets:
      - {provider: static, model: bench-upstream}
YAML

loadgen() {
    "${PRIORITY[@]}" "$LOADGEN" --cpu "$LOAD_CORE" --url "$URL" --connections "$CONNECTIONS" \
        --duration "$DURATION" --warmup "$WARMUP" "$@" || echo '{"error":"loadgen failed"}'
}

json_field() { # json_field LINE NAME
    sed -n "s/.*\"$2\":\([-0-9.eE+]*\).*/\1/p" <<<"$1"
}

# lateness_stats FILE FROM_MS TO_MS -> "count p50_ms p99_ms max_ms"
lateness_stats() {
    awk -v from="$2" -v to="$3" '$1 >= from && $1 < to { print $2 }' "$1" | sort -n \
        | awk '{ v[NR] = $1 } END {
                 if (NR == 0) { print "0 null null null"; exit }
                 i50 = int(0.50 * NR + 0.999999); i99 = int(0.99 * NR + 0.999999)
                 printf "%d %.3f %.3f %.3f\n", NR, v[i50] / 1000, v[i99] / 1000, v[NR] / 1000 }'
}

# run_one MODE RUN: starts switchyard (window or headless), measures, stops it.
run_one() {
    local mode=$1 run=$2 data="$WORK_DIR/data-$1-$2" probe="$WORK_DIR/probe-$1-$2.txt" pid
    mkdir -p "$data"
    if [[ $mode == window ]]; then
        env -u QT_QPA_PLATFORM -u WAYLAND_DISPLAY DISPLAY=":$DISPLAY_NUM" SWITCHYARD_GUI_PROBE="$probe" \
            SWITCHYARD_GUI_PROBE_CYCLE_MS="$CYCLE_MS" \
            "${PRIORITY[@]}" taskset -c "$GATEWAY_CORE" "$BIN" --config "$WORK_DIR/gateway.yaml" --data-dir "$data" \
            --threads 1 >"$WORK_DIR/$mode-$run.log" 2>&1 &
    else
        "${PRIORITY[@]}" taskset -c "$GATEWAY_CORE" "$BIN" --headless --config "$WORK_DIR/gateway.yaml" --data-dir "$data" \
            --threads 1 >"$WORK_DIR/$mode-$run.log" 2>&1 </dev/null &
    fi
    pid=$!
    PIDS+=("$pid")
    if ! wait_ready "$pid" "http://127.0.0.1:$GATEWAY_PORT/healthz"; then
        log "$mode run $run: switchyard did not become ready"; tail -n 20 "$WORK_DIR/$mode-$run.log" >&2; return 1
    fi
    local from to open closed stats
    from=$(( $(date +%s%3N) + WARMUP * 1000 ))
    open=$(loadgen --rate "$RATE")
    to=$(date +%s%3N)
    closed=$(loadgen --closed)
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
    stats="0 null null null"
    if [[ $mode == window ]]; then
        [[ -s $probe ]] || { log "window run $run wrote no probe samples"; return 1; }
        stats=$(lateness_stats "$probe" "$from" "$to")
    fi
    read -r n p50 p99 max <<<"$stats"
    echo "{\"run\":$run,\"mode\":\"$mode\",\"gui_samples\":$n,\"gui_p50_ms\":$p50,\"gui_p99_ms\":$p99,\"gui_max_ms\":$max,\"open\":$open,\"closed\":$closed}" >>"$RESULTS"
    log "run $run $mode: gui lateness p50 $p50 ms p99 $p99 ms max $max ms ($n ticks); open $(json_field "$open" achieved_rps) req/s p99 $(json_field "$open" p99_us) us; closed $(json_field "$closed" achieved_rps) req/s"
}

: >"$RESULTS"
for ((run = 1; run <= RUNS; run++)); do
    # Alternate which mode goes first, so drift in machine noise hits both alike.
    if ((run % 2)); then order=(window headless); else order=(headless window); fi
    for mode in "${order[@]}"; do
        run_one "$mode" "$run" || exit 1
    done
done

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "n/a"; exit } if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field_of() { # field_of MODE FIELD (top level) | closed rps
    grep "\"mode\":\"$1\"" "$RESULTS" | while read -r line; do json_field "$line" "$2"; done
}
closed_rps() {
    grep "\"mode\":\"$1\"" "$RESULTS" | while read -r line; do json_field "${line#*\"closed\":}" achieved_rps; done
}
open_field() {
    grep "\"mode\":\"$1\"" "$RESULTS" | while read -r line; do
        local o=${line#*\"open\":}; json_field "${o%%\"closed\":*}" "$2"
    done
}
ratios() {
    for ((run = 1; run <= RUNS; run++)); do
        local w h
        w=$(grep "\"run\":$run,\"mode\":\"window\"" "$RESULTS" | { read -r l; json_field "${l#*\"closed\":}" achieved_rps; })
        h=$(grep "\"run\":$run,\"mode\":\"headless\"" "$RESULTS" | { read -r l; json_field "${l#*\"closed\":}" achieved_rps; })
        awk -v w="$w" -v h="$h" 'BEGIN { if (h > 0) printf "%.4f\n", w / h }'
    done
}

{
    echo "## GUI responsiveness: $RUNS runs, ${DURATION}s phases, ${RATE} req/s open loop, $CONNECTIONS connections"
    echo
    echo "Environment: $(nproc) cores, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg), priority ${PRIORITY[*]:-none}, commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo
    echo "| measure | median over runs | per run |"
    echo "| --- | --- | --- |"
    echo "| GUI loop lateness p50 (ms), window, at $RATE req/s | $(field_of window gui_p50_ms | median) | $(field_of window gui_p50_ms | paste -sd' ') |"
    echo "| GUI loop lateness p99 (ms), window, at $RATE req/s | $(field_of window gui_p99_ms | median) | $(field_of window gui_p99_ms | paste -sd' ') |"
    echo "| GUI loop lateness max (ms) | $(field_of window gui_max_ms | median) | $(field_of window gui_max_ms | paste -sd' ') |"
    echo "| achieved open-loop req/s, window | $(open_field window achieved_rps | median) | $(open_field window achieved_rps | paste -sd' ') |"
    echo "| open-loop p99 (us), window / headless | $(open_field window p99_us | median) / $(open_field headless p99_us | median) | |"
    echo "| closed-loop req/s, window | $(closed_rps window | median) | $(closed_rps window | paste -sd' ') |"
    echo "| closed-loop req/s, headless | $(closed_rps headless | median) | $(closed_rps headless | paste -sd' ') |"
    echo "| window / headless (per run, then median) | $(ratios | median) | $(ratios | paste -sd' ') |"
} | tee "$SUMMARY"
