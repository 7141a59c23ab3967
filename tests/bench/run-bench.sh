#!/usr/bin/env bash
# Gateway benchmark: the latency the gateway adds over calling the upstream directly, and
# its closed-loop maximum, measured in the same run as nginx doing the same proxying job.
# A second gateway instance with the request log turned off is measured in the same
# rotation, to show what writing one SQLite row per request costs. On request
# (--targets "gateway-keyed gateway-redis"), two more instances measure what sharing
# limits through Redis costs: both charge every request to a virtual key with limits and
# a budget, one in process, one through a redis-server this script starts.
# See docs/BENCHMARKS.md for what is measured and why it is set up this way.
#
#   tests/bench/run-bench.sh --runs 5
#
# Raw results: build-bench/bench-results.jsonl (one loadgen JSON line per measurement,
# tagged with run and target). Summary: printed, and written to build-bench/bench-summary.md.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: tests/bench/run-bench.sh [options]
  --runs N             interleaved runs; medians are taken over them (default 5)
  --duration S         measured seconds per measurement (default 5)
  --warmup S           unmeasured seconds before each measurement (default 1)
  --rates "R1 R2"      open-loop request rates (default "1000 5000")
  --connections C      keep-alive connections used by the load generator (default 32)
  --port-base P        upstream on P, nginx proxy on P+1, gateway on P+2, gateway-nolog
                       on P+3, gateway-keyed on P+4, gateway-redis on P+5, redis-server
                       on P+6 (default 18480)
  --load-core N        core for the load generator and the static upstream (default 0)
  --proxy-core N       core for nginx proxy and gateway (default 1)
  --redis-core N       core for the redis-server of gateway-redis (default: the load core)
  --no-build           skip dependency install and build; use what is in build-bench/
  --targets "T1 T2"    what to measure, any of direct nginx gateway gateway-nolog
                       gateway-keyed gateway-redis (default the first four); direct is
                       needed for added latency. gateway-keyed / gateway-redis: a virtual
                       key with limits, in process / shared through Redis
  --no-gateway         measure direct and nginx only (drops both gateways from --targets)
  --priority MODE      rt (SCHED_RR, default), nice (-20) or none, for every process under
                       test alike; falls back to what the user may set
EOF
}

RUNS=5
DURATION=5
WARMUP=1
RATES="1000 5000"
CONNECTIONS=32
PORT_BASE=18480
LOAD_CORE=0
PROXY_CORE=1
REDIS_CORE=""
DO_BUILD=1
WANT_GATEWAY=1
PRIORITY_MODE=rt
TARGET_LIST="direct nginx gateway gateway-nolog"

while [[ $# -gt 0 ]]; do
    case "$1" in
        --runs) RUNS="$2"; shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --warmup) WARMUP="$2"; shift 2 ;;
        --rates) RATES="$2"; shift 2 ;;
        --connections) CONNECTIONS="$2"; shift 2 ;;
        --port-base) PORT_BASE="$2"; shift 2 ;;
        --load-core) LOAD_CORE="$2"; shift 2 ;;
        --proxy-core) PROXY_CORE="$2"; shift 2 ;;
        --redis-core) REDIS_CORE="$2"; shift 2 ;;
        --no-build) DO_BUILD=0; shift ;;
        --targets) TARGET_LIST="$2"; shift 2 ;;
        --no-gateway) WANT_GATEWAY=0; shift ;;
        --priority) PRIORITY_MODE="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "run-bench: unknown option $1" >&2; usage >&2; exit 64 ;;
    esac
done

# The requested targets, in their canonical order (the rotation starts from it).
declare -A WANTED=()
for t in $TARGET_LIST; do
    case "$t" in
        direct|nginx|gateway|gateway-nolog|gateway-keyed|gateway-redis) WANTED[$t]=1 ;;
        *) echo "run-bench: unknown target $t (use direct, nginx, gateway, gateway-nolog, gateway-keyed, gateway-redis)" >&2
           exit 64 ;;
    esac
done
if [[ $WANT_GATEWAY == 0 ]]; then
    unset 'WANTED[gateway]' 'WANTED[gateway-nolog]' 'WANTED[gateway-keyed]' 'WANTED[gateway-redis]'
fi
[[ ${#WANTED[@]} -gt 0 ]] || { echo "run-bench: no targets left to measure" >&2; exit 64; }
wanted() { [[ -n ${WANTED[$1]:-} ]]; }
WANT_ANY_GATEWAY=0
if wanted gateway || wanted gateway-nolog || wanted gateway-keyed || wanted gateway-redis; then WANT_ANY_GATEWAY=1; fi

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
cd "$REPO_ROOT"
BUILD_DIR="$REPO_ROOT/build-bench"
RESULTS="$BUILD_DIR/bench-results.jsonl"
SUMMARY="$BUILD_DIR/bench-summary.md"

UPSTREAM_PORT=$PORT_BASE
PROXY_PORT=$((PORT_BASE + 1))
GATEWAY_PORT=$((PORT_BASE + 2))
GATEWAY_NOLOG_PORT=$((PORT_BASE + 3))
GATEWAY_KEYED_PORT=$((PORT_BASE + 4))
GATEWAY_REDIS_PORT=$((PORT_BASE + 5))
REDIS_PORT=$((PORT_BASE + 6))
# The virtual key the keyed gateways charge every request to.
BENCH_KEY=sk-bench-key-0001
URL_PATH=/v1/chat/completions

log() { echo "run-bench: $*" >&2; }

if [[ $(nproc) -le $LOAD_CORE || $(nproc) -le $PROXY_CORE ]]; then
    log "needs cores $LOAD_CORE and $PROXY_CORE; this machine has $(nproc)"
    exit 1
fi

# The commit the binaries are built from, taken before the build: on a shared checkout it
# can move while the benchmark runs. Local changes outside the benchmark's own files are
# flagged, since they are in the build too.
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
DIRTY=$(git status --porcelain --untracked-files=no -- . ':(exclude)tests/bench' ':(exclude)docs' 2>/dev/null | wc -l)
[[ $DIRTY -eq 0 ]] || COMMIT="$COMMIT plus uncommitted changes in $DIRTY files"
[[ $DO_BUILD == 1 ]] || COMMIT="$COMMIT (--no-build: the binaries may be older)"

# --- dependencies and build -------------------------------------------------------------

LOADGEN="$BUILD_DIR/tests/bench/switchyard-loadgen"
GATEWAY_BIN="$BUILD_DIR/app/switchyard"
GATEWAY_STATUS="not measured"

build_loadgen_alone() {
    # The load generator has no project dependencies: build it on its own when the
    # project tree does not configure or does not (yet) provide the target.
    log "building tests/bench on its own"
    cmake -S tests/bench -B "$BUILD_DIR/loadgen-only" -G Ninja -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null
    ninja -C "$BUILD_DIR/loadgen-only" switchyard-loadgen >&2
    LOADGEN="$BUILD_DIR/loadgen-only/switchyard-loadgen"
}

if [[ $DO_BUILD == 1 ]]; then
    SWITCHYARD_WITH_BENCH=1 ./packaging/install-deps.sh >&2
    if ! cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=ON -DSWITCHYARD_GUI=OFF >/dev/null; then
        GATEWAY_STATUS="build failed (cmake configure)"
        build_loadgen_alone
    else
        ninja -C "$BUILD_DIR" switchyard-loadgen >&2 || build_loadgen_alone
        if [[ $WANT_ANY_GATEWAY == 1 ]] && ! ninja -C "$BUILD_DIR" switchyard >&2; then
            GATEWAY_STATUS="build failed"
        fi
    fi
elif [[ ! -x $LOADGEN && -x $BUILD_DIR/loadgen-only/switchyard-loadgen ]]; then
    LOADGEN="$BUILD_DIR/loadgen-only/switchyard-loadgen"
fi

[[ -x $LOADGEN ]] || { log "no load generator at $LOADGEN (run without --no-build)"; exit 1; }
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
[[ -x $NGINX ]] || { log "nginx not found (SWITCHYARD_WITH_BENCH=1 packaging/install-deps.sh installs it)"; exit 1; }

# --- processes under test ---------------------------------------------------------------

# Every process under test, and the load generator, gets the same raised priority when
# allowed. On a shared 2-core machine a compile job would otherwise preempt whichever target
# happens to be measured, and that noise dwarfs the differences being measured. Real-time
# round-robin preempts such jobs at once; nice -20 only shortens their turns.
PRIORITY=()
case "$PRIORITY_MODE" in
    rt) if chrt -r 10 true 2>/dev/null; then PRIORITY=(chrt -r 10); elif nice -n -20 true 2>/dev/null; then PRIORITY=(nice -n -20); fi ;;
    nice) if nice -n -20 true 2>/dev/null; then PRIORITY=(nice -n -20); fi ;;
    none) ;;
    *) log "--priority must be rt, nice or none"; exit 64 ;;
esac

WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-bench.XXXXXX")"
PIDS=()

cleanup() {
    local pid i
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    # A process that ignores SIGTERM gets about 5 s, then SIGKILL: the script must not hang.
    for pid in "${PIDS[@]}"; do
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    # Keep the logs next to the results: they explain a failed gateway.
    mkdir -p "$BUILD_DIR/bench-logs"
    cp "$WORK_DIR"/*.log "$BUILD_DIR/bench-logs/" 2>/dev/null || true
    rm -rf "$WORK_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Polls until `curl URL` succeeds or the process dies; bounded (about 10 s).
wait_ready() {
    local pid=$1 url=$2 i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || return 1
        curl -sf -o /dev/null --max-time 1 "$url" && return 0
        sleep 0.1
    done
    return 1
}

for port in "$UPSTREAM_PORT" "$PROXY_PORT" "$GATEWAY_PORT" "$GATEWAY_NOLOG_PORT" "$GATEWAY_KEYED_PORT" "$GATEWAY_REDIS_PORT" \
    "$REDIS_PORT"; do
    if port_in_use "$port"; then
        log "port $port is already in use; pick another --port-base"
        exit 1
    fi
done

render() {
    sed -e "s|@PREFIX@|$WORK_DIR|g" -e "s|@PORT@|$2|g" -e "s|@UPSTREAM_PORT@|$UPSTREAM_PORT|g" "$1"
}
render "$SCRIPT_DIR/upstream-nginx.conf.in" "$UPSTREAM_PORT" >"$WORK_DIR/upstream.conf"
render "$SCRIPT_DIR/proxy-nginx.conf.in" "$PROXY_PORT" >"$WORK_DIR/proxy.conf"

"${PRIORITY[@]}" taskset -c "$LOAD_CORE" "$NGINX" -p "$WORK_DIR" -e "$WORK_DIR/upstream-error.log" -c "$WORK_DIR/upstream.conf" \
    >"$WORK_DIR/upstream-stdout.log" 2>&1 &
UPSTREAM_PID=$!
PIDS+=("$UPSTREAM_PID")
wait_ready "$UPSTREAM_PID" "http://127.0.0.1:$UPSTREAM_PORT/healthz" \
    || { log "static upstream nginx did not start:"; cat "$WORK_DIR"/upstream-*.log >&2; exit 1; }

"${PRIORITY[@]}" taskset -c "$PROXY_CORE" "$NGINX" -p "$WORK_DIR" -e "$WORK_DIR/proxy-error.log" -c "$WORK_DIR/proxy.conf" \
    >"$WORK_DIR/proxy-stdout.log" 2>&1 &
PROXY_PID=$!
PIDS+=("$PROXY_PID")
wait_ready "$PROXY_PID" "http://127.0.0.1:$PROXY_PORT/healthz" \
    || { log "nginx proxy did not start:"; cat "$WORK_DIR"/proxy-*.log >&2; exit 1; }

declare -A TARGET_PORT=([direct]=$UPSTREAM_PORT [nginx]=$PROXY_PORT [gateway]=$GATEWAY_PORT
                       [gateway-nolog]=$GATEWAY_NOLOG_PORT [gateway-keyed]=$GATEWAY_KEYED_PORT
                       [gateway-redis]=$GATEWAY_REDIS_PORT)
declare -A TARGET_STATUS=([gateway]="not measured" [gateway-nolog]="not measured" [gateway-keyed]="not measured"
                          [gateway-redis]="not measured")

# Answers 2xx to the benchmark's own request? A gateway that returns errors fast would
# otherwise look like a fast gateway.
chat_ok() {
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -H 'Content-Type: application/json' \
        -H "Authorization: Bearer $BENCH_KEY" \
        -d '{"model":"bench","messages":[{"role":"user","content":"Say hello."}],"max_tokens":16}' \
        "http://127.0.0.1:$1$URL_PATH") || true
    [[ $code == 2* ]]
}

# Starts one gateway instance: start_gateway NAME PORT REQUEST_LOG(true|false) [KEYED(0|1)]
# [extra arguments]. Same config apart from the request log (and, keyed, a virtual key
# with limits far above the offered load, so every request is checked and charged but
# none refused), same core, each with its own fresh data directory (so its own SQLite
# database). Sets TARGET_STATUS[NAME].
start_gateway() {
    local name=$1 port=$2 request_log=$3 keyed=${4:-0} pid
    shift $(($# < 4 ? $# : 4))
    mkdir -p "$WORK_DIR/$name-data"
    local keys=""
    if [[ $keyed == 1 ]]; then
        keys="virtual_keys:
  - {name: bench, key: $BENCH_KEY, limits: {rpm: 100000000, tpm: 1000000000, max_concurrent_requests: 100000},
     budgets: {usd_per_day: 100000000, tokens_per_day: 1000000000000}}"
    fi
    cat >"$WORK_DIR/$name.yaml" <<EOF
gateway:
  listen: 127.0.0.1:$port
  threads: 1
request_log:
  enabled: $request_log
providers:
  - name: static
    type: openai-compatible
    base_url: http://127.0.0.1:$UPSTREAM_PORT/v1
routes:
  - model: bench
    targets:
      - {provider: static, model: bench-upstream}
$keys
EOF
    "${PRIORITY[@]}" taskset -c "$PROXY_CORE" "$GATEWAY_BIN" --headless --config "$WORK_DIR/$name.yaml" \
        --data-dir "$WORK_DIR/$name-data" --threads 1 "$@" >"$WORK_DIR/$name.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    if ! wait_ready "$pid" "http://127.0.0.1:$port/healthz"; then
        TARGET_STATUS[$name]="did not become ready on /healthz"
    elif ! chat_ok "$port"; then
        TARGET_STATUS[$name]="ready, but POST $URL_PATH did not answer 2xx"
    else
        TARGET_STATUS[$name]="measured"
        return 0
    fi
    log "$name: ${TARGET_STATUS[$name]}; last log lines:"
    tail -n 20 "$WORK_DIR/$name.log" >&2 || true
    return 1
}

# One value from a gateway's /metrics, or "n/a".
gateway_metric() {
    curl -sf --max-time 2 "http://127.0.0.1:$1/metrics" 2>/dev/null \
        | awk -v name="$2" '$1 == name { print $2; found = 1 } END { if (!found) print "n/a" }' || echo n/a
}

# The shared store for gateway-redis: a local redis-server without persistence, on the
# load generator's core by default (it is part of the environment, like the upstream).
start_redis() {
    local redis pid i
    redis="$(command -v redis-server || true)"
    [[ -n $redis ]] || { TARGET_STATUS[gateway-redis]="redis-server not installed (packaging/install-deps.sh)"; return 1; }
    "${PRIORITY[@]}" taskset -c "${REDIS_CORE:-$LOAD_CORE}" "$redis" --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
        >"$WORK_DIR/redis.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        [[ $(redis-cli -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]] && return 0
        sleep 0.1
    done
    TARGET_STATUS[gateway-redis]="redis-server did not answer PING"
    return 1
}

for name in gateway gateway-nolog gateway-keyed gateway-redis; do
    if ! wanted "$name"; then
        TARGET_STATUS[$name]="skipped ($([[ $WANT_GATEWAY == 0 ]] && echo --no-gateway || echo --targets))"
    elif [[ $GATEWAY_STATUS != "not measured" ]]; then
        TARGET_STATUS[$name]=$GATEWAY_STATUS
    elif [[ ! -x $GATEWAY_BIN ]]; then
        TARGET_STATUS[$name]="binary missing ($GATEWAY_BIN)"
    elif [[ $name == gateway ]]; then
        start_gateway gateway "$GATEWAY_PORT" true || true
    elif [[ $name == gateway-nolog ]]; then
        start_gateway gateway-nolog "$GATEWAY_NOLOG_PORT" false || true
    elif [[ $name == gateway-keyed ]]; then
        start_gateway gateway-keyed "$GATEWAY_KEYED_PORT" true 1 || true
    elif start_redis; then
        start_gateway gateway-redis "$GATEWAY_REDIS_PORT" true 1 --redis "redis://127.0.0.1:$REDIS_PORT/0" || true
        if [[ ${TARGET_STATUS[gateway-redis]} == measured && $(gateway_metric "$GATEWAY_REDIS_PORT" switchyard_redis_up) != 1 ]]; then
            TARGET_STATUS[gateway-redis]="started, but switchyard_redis_up is not 1"
        fi
    fi
done

TARGETS=()
for t in direct nginx gateway gateway-nolog gateway-keyed gateway-redis; do
    if wanted "$t" && [[ ${TARGET_STATUS[$t]:-measured} == measured ]]; then
        TARGETS+=("$t")
    fi
done
[[ ${#TARGETS[@]} -gt 0 ]] || { log "nothing left to measure"; exit 1; }
chat_ok "$UPSTREAM_PORT" && chat_ok "$PROXY_PORT" || { log "nginx does not answer the chat request"; exit 1; }

# --- measurements -----------------------------------------------------------------------

mkdir -p "$BUILD_DIR"
: >"$RESULTS"
MODES=()
for rate in $RATES; do MODES+=("rate:$rate"); done
MODES+=(closed)
n_targets=${#TARGETS[@]}
total=$((RUNS * ${#MODES[@]} * n_targets))
log "gateway (request log on): ${TARGET_STATUS[gateway]}; gateway-nolog (request log off): ${TARGET_STATUS[gateway-nolog]}"
log "targets: ${TARGETS[*]}"
log "$total measurements of ${WARMUP}s + ${DURATION}s each; raw results in $RESULTS"

count=0
for ((run = 1; run <= RUNS; run++)); do
    for mode in "${MODES[@]}"; do
        if [[ $mode == closed ]]; then mode_args=(--closed); else mode_args=(--rate "${mode#rate:}"); fi
        # Interleave the targets and rotate their order per run, so drift in machine noise
        # hits each target alike instead of always favouring whichever goes first.
        for ((k = 0; k < n_targets; k++)); do
            target=${TARGETS[$(((k + run) % n_targets))]}
            count=$((count + 1))
            auth_args=()
            [[ $target == gateway-keyed || $target == gateway-redis ]] && auth_args=(--header "Authorization: Bearer $BENCH_KEY")
            line=$("${PRIORITY[@]}" "$LOADGEN" --cpu "$LOAD_CORE" --url "http://127.0.0.1:${TARGET_PORT[$target]}$URL_PATH" \
                "${mode_args[@]}" --connections "$CONNECTIONS" --duration "$DURATION" --warmup "$WARMUP" \
                "${auth_args[@]}") || true
            [[ -n $line ]] || line='{"error":"loadgen produced no output"}'
            echo "{\"run\":$run,\"target\":\"$target\",${line#\{}" >>"$RESULTS"
            log "[$count/$total] run $run $mode $target: $line"
        done
    done
done

# --- summary ----------------------------------------------------------------------------

{
    echo "Environment: $(nproc) cores, $(uname -sr), $("$NGINX" -v 2>&1 | sed 's/.*: //'), commit $COMMIT"
    echo "Settings: runs $RUNS, ${DURATION}s measured + ${WARMUP}s warmup, $CONNECTIONS connections," \
        "load generator + upstream on core $LOAD_CORE, proxy on core $PROXY_CORE," \
        "priority ${PRIORITY[*]:-default}"
    echo "Gateway: request log on: ${TARGET_STATUS[gateway]}; request log off (gateway-nolog): ${TARGET_STATUS[gateway-nolog]}"
    if [[ ${TARGET_STATUS[gateway]} == measured ]]; then
        echo "Request log (gateway): $(gateway_metric "$GATEWAY_PORT" switchyard_request_log_rows_total) rows written," \
            "$(gateway_metric "$GATEWAY_PORT" switchyard_request_log_dropped_total) dropped;" \
            "database $(du -sh "$WORK_DIR/gateway-data" 2>/dev/null | cut -f1) on $(df -T "$WORK_DIR" | awk 'NR == 2 { print $2 }')"
    fi
    if wanted gateway-keyed || wanted gateway-redis; then
        echo "Shared limits: gateway-keyed (in process): ${TARGET_STATUS[gateway-keyed]};" \
            "gateway-redis: ${TARGET_STATUS[gateway-redis]}"
        if [[ ${TARGET_STATUS[gateway-redis]} == measured ]]; then
            echo "gateway-redis: switchyard_redis_up $(gateway_metric "$GATEWAY_REDIS_PORT" switchyard_redis_up)," \
                "reserved in Redis $(gateway_metric "$GATEWAY_REDIS_PORT" 'switchyard_redis_reservations_total{store="redis"}')," \
                "locally $(gateway_metric "$GATEWAY_REDIS_PORT" 'switchyard_redis_reservations_total{store="local"}')," \
                "errors $(gateway_metric "$GATEWAY_REDIS_PORT" switchyard_redis_errors_total)"
        fi
    fi
    echo
    awk -v rates="$RATES" -f "$SCRIPT_DIR/summarize.awk" "$RESULTS"
    if wanted gateway-keyed && wanted gateway-redis; then
        echo
        awk -f "$SCRIPT_DIR/summarize-redis.awk" "$RESULTS"
    fi
} | tee "$SUMMARY"
