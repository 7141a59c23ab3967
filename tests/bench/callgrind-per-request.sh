#!/usr/bin/env bash
# Instructions the gateway executes per proxied request, counted by callgrind: a figure
# that, unlike requests/s on a shared machine, does not move with the machine's noise.
# It complements run-bench.sh (which measures the real ratios); see docs/BENCHMARKS.md.
#
#   tests/bench/callgrind-per-request.sh [--binary PATH] [--log on|off] [--duration S]
#
# Starts the static upstream (nginx, tests/bench/upstream-nginx.conf.in) and the gateway
# under `valgrind --tool=callgrind` with the benchmark's configuration, warms up, zeroes
# the counters, drives a closed loop with switchyard-loadgen for --duration seconds,
# dumps, and divides the instructions of all threads (the request-log writer included) by
# the requests the gateway answered in between (from its own /metrics). Prints one JSON
# line and leaves the callgrind output in the work directory it names
# (callgrind_annotate FILE shows where the instructions went).
set -euo pipefail

BINARY=""
LOG=off
DURATION=10
CONNECTIONS=32
PORT_BASE=18580
KEEP=0

while [[ $# -gt 0 ]]; do
    case "$1" in
        --binary) BINARY="$2"; shift 2 ;;
        --log) LOG="$2"; shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --connections) CONNECTIONS="$2"; shift 2 ;;
        --port-base) PORT_BASE="$2"; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help)
            sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
            echo "options: --binary PATH (build-bench/app/switchyard), --log on|off (off), --duration S (10),"
            echo "         --connections C (32), --port-base P (18580: upstream P, gateway P+1), --keep (keep the work dir)"
            exit 0 ;;
        *) echo "callgrind-per-request: unknown option $1" >&2; exit 64 ;;
    esac
done
case "$LOG" in on) REQUEST_LOG=true ;; off) REQUEST_LOG=false ;; *) echo "--log must be on or off" >&2; exit 64 ;; esac

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
BINARY="${BINARY:-$REPO_ROOT/build-bench/app/switchyard}"
LOADGEN="$REPO_ROOT/build-bench/tests/bench/switchyard-loadgen"
for tool in valgrind callgrind_control nginx; do
    command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] || { echo "callgrind-per-request: $tool not found" >&2; exit 1; }
done
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
[[ -x $BINARY && -x $LOADGEN ]] || { echo "callgrind-per-request: build build-bench first (run-bench.sh does)" >&2; exit 1; }

UPSTREAM_PORT=$PORT_BASE
GATEWAY_PORT=$((PORT_BASE + 1))
URL="http://127.0.0.1:$GATEWAY_PORT/v1/chat/completions"
WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-callgrind.XXXXXX")"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    [[ $KEEP == 1 ]] || rm -rf "$WORK_DIR"
}
trap cleanup EXIT

wait_ready() {
    local pid=$1 url=$2 i
    for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || return 1
        curl -sf -o /dev/null --max-time 2 "$url" && return 0
        sleep 0.1
    done
    return 1
}
answered() {
    curl -sf --max-time 10 "http://127.0.0.1:$GATEWAY_PORT/metrics" \
        | awk '$1 == "switchyard_requests_total{route=\"bench\"}" { print $2 }'
}

sed -e "s|@PREFIX@|$WORK_DIR|g" -e "s|@PORT@|$UPSTREAM_PORT|g" "$SCRIPT_DIR/upstream-nginx.conf.in" >"$WORK_DIR/upstream.conf"
"$NGINX" -p "$WORK_DIR" -e "$WORK_DIR/upstream-error.log" -c "$WORK_DIR/upstream.conf" >"$WORK_DIR/upstream.log" 2>&1 &
PIDS+=($!)
wait_ready "${PIDS[0]}" "http://127.0.0.1:$UPSTREAM_PORT/healthz" || { echo "upstream did not start" >&2; exit 1; }

mkdir -p "$WORK_DIR/data"
cat >"$WORK_DIR/gateway.yaml" <<EOF
gateway:
  listen: 127.0.0.1:$GATEWAY_PORT
  threads: 1
request_log:
  enabled: $REQUEST_LOG
providers:
  - name: static
    type: openai-compatible
    base_url: http://127.0.0.1:$UPSTREAM_PORT/v1
routes:
  - model: bench
    targets:
      - {provider: static, model: bench-upstream}
EOF
valgrind --tool=callgrind --separate-threads=yes --compress-strings=no --compress-pos=no --callgrind-out-file="$WORK_DIR/callgrind.out" \
    "$BINARY" --headless --config "$WORK_DIR/gateway.yaml" --data-dir "$WORK_DIR/data" --threads 1 \
    >"$WORK_DIR/gateway.log" 2>&1 &
GATEWAY_PID=$!
PIDS+=("$GATEWAY_PID")
wait_ready "$GATEWAY_PID" "http://127.0.0.1:$GATEWAY_PORT/healthz" || { echo "gateway did not start" >&2; cat "$WORK_DIR/gateway.log" >&2; exit 1; }

# Warm-up: connections, curl's pool, the allocator and the log writer reach steady state.
"$LOADGEN" --url "$URL" --closed --connections "$CONNECTIONS" --duration 3 --warmup 0 >/dev/null
sleep 1
before=$(answered)
callgrind_control -z "$GATEWAY_PID" >/dev/null 2>&1
"$LOADGEN" --url "$URL" --closed --connections "$CONNECTIONS" --duration "$DURATION" --warmup 0 >"$WORK_DIR/loadgen.json"
# The writer commits its last batch within its gathering window; let it.
sleep 1
callgrind_control -d "$GATEWAY_PID" >/dev/null 2>&1
after=$(answered)
sleep 1
# One file per thread (--separate-threads): the data plane's worker, the log writer, ...
dumps=$(ls "$WORK_DIR"/callgrind.out.1-* 2>/dev/null || true)
[[ -n $dumps ]] || { echo "no callgrind dump" >&2; exit 1; }
requests=$((after - before))
# Per thread: its instructions and its hottest function (the writer shows up as the
# thread spending the most in SQLite, the worker in the event loop and curl).
threads=$(for f in $dumps; do
    awk '/^summary:/ { print $2 }' "$f"
done | paste -sd, -)
total=$(echo "$threads" | tr , '\n' | awk '{ s += $1 } END { print s }')
awk -v ir="$total" -v n="$requests" -v mode="$LOG" -v threads="$threads" -v dir="$WORK_DIR" -v keep="$KEEP" 'BEGIN {
    printf "{\"request_log\":\"%s\",\"requests\":%d,\"instructions\":%d,\"instructions_per_request\":%.0f", mode, n, ir, ir / n
    k = split(threads, t, ",")
    printf ",\"per_thread_per_request\":["
    for (i = 1; i <= k; i++) printf "%s%.0f", (i > 1 ? "," : ""), t[i] / n
    printf "]"
    if (keep == 1) printf ",\"dir\":\"%s\"", dir
    print "}"
}'
