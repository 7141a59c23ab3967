#!/usr/bin/env bash
# The fleet routing benchmark of gpu-routers.md section 8: every policy over the
# simulated 8-server fleet, workloads W1-W5 (+ W5z), loads 20%..120% of round-robin
# saturation, 5 seeds; then the markdown summary and the section 8.8 checks.
#
#   tests/bench/fleet/run-fleet-bench.sh <build-dir> [output-dir]
#
# Builds nothing: <build-dir> must already hold tests/bench/fleet/switchyard-fleet-bench
# (ninja -C <build-dir> switchyard-fleet-bench, Release). Runs two simulations at a time
# (one per core). About 10 CPU-minutes: 6-7 minutes on 2 idle cores. Environment: SEEDS
# (default 5), JOBS (2), PARTS ("main w6 replicas": the W1-W5 sweep, W6 (prefill/decode
# pools on a mixed fleet) and/or 2 gateway replicas without shared state against 1).
set -euo pipefail

BUILD=${1:?usage: run-fleet-bench.sh <build-dir> [output-dir]}
OUT=${2:-fleet-bench-results}
BENCH="$BUILD/tests/bench/fleet/switchyard-fleet-bench"
SEEDS=${SEEDS:-5}
JOBS=${JOBS:-2}
PARTS=${PARTS:-main w6 replicas}
[ -x "$BENCH" ] || { echo "missing $BENCH (build the switchyard-fleet-bench target first)" >&2; exit 1; }
mkdir -p "$OUT"

POLICIES=round_robin,random,least_request,p2c,prefix_aware,sglang_cache_aware,sglang_cache_aware_v1,epp_default,epp_load,llmd_precise,prefix_only,dynamo_cost,prefix_aware_oracle,llmd_precise_oracle
LOADS=0.2,0.4,0.6,0.8,1.0,1.2
# W2 also far past round-robin saturation, where llm-d's published run was (its ramp to 60
# QPS left the cache-blind schedulers at 4,429 tok/s of up to 8,730): with the published
# KV capacity the cache-aware policies saturate only near 2x round robin's rate, and the
# W2 ordering check reads the highest load.
declare -A EXTRA_LOADS=([W2]=,1.5,2.0)
# Simulated seconds of arrivals per workload: a few thousand requests or more at every
# load (the high-rate workloads need fewer seconds), so the sweep fits the time budget.
# Saturation is calibrated at the same horizon (W3 and W5 grow conversations over time).
declare -A HORIZON=([W1]=15 [W2]=90 [W3]=30 [W4]=45 [W5]=20 [W5z]=20)
WORKLOADS="W1 W2 W3 W4 W5 W5z"
STALE_POLICIES=epp_load,least_request,epp_default,prefix_aware,llmd_precise
BURST_KV_BLOCKS=2000

started=$(date +%s)

# Round-robin saturation of each workload named (calibration seed 1000, separate from the
# compared seeds) at its horizon, into one file: calibrate_into <file> <workload>...
calibrate_into() {
    local file=$1
    shift
    : > "$file"
    for w in "$@"; do
        "$BENCH" calibrate --workloads "$w" --horizon-s "${HORIZON[$w]}" --saturation "$file.$w"
        if [ ! -s "$file" ]; then cat "$file.$w" > "$file"; else tail -n +2 "$file.$w" >> "$file"; fi
        rm -f "$file.$w"
    done
}

# 2 gateway replicas without shared state (gpu-routers.md 8.3 and 8.9): each arrival goes
# to one of two routers at random, each with its own prefix index, in-flight counters and
# /metrics scrapes (out of phase); the same policies behind one router for comparison.
# W1, W2, W3, W5 at 0.8 and 1.0 of round-robin saturation (W2 also 1.2), 250 ms scrapes;
# prefix_aware also with replica_placement_slack 0.5, the setting for replicated gateways.
run_replicas() {
    local policies=prefix_aware,prefix_aware@replica_placement_slack=0.5,sglang_cache_aware,sglang_cache_aware_v1,epp_default,least_request
    declare -A replica_loads=([W1]=0.8,1.0 [W2]=0.8,1.0,1.2 [W3]=0.8,1.0 [W5]=0.8,1.0)
    calibrate_into "$OUT/saturation-replicas.csv" W1 W2 W3 W5
    local jobs="$OUT/jobs-replicas.txt"
    : > "$jobs"
    for seed in $(seq 1 "$SEEDS"); do
        for w in W2 W3 W5 W1; do
            for n in 2 1; do
                echo "$BENCH run --quiet --workloads $w --replicas $n --policies $policies --loads ${replica_loads[$w]} --seeds 1 --first-seed $seed --horizon-s ${HORIZON[$w]} --saturation $OUT/saturation-replicas.csv --csv $OUT/replicas-$n-$w-$seed.csv" >> "$jobs"
            done
        done
    done
    xargs -P "$JOBS" -I{} -d '\n' sh -c '{} || exit 255' < "$jobs"
    "$BENCH" report --markdown "$OUT/summary-replicas.md" "$OUT"/replicas-*-*-*.csv | grep -E "2 replicas" | tee "$OUT/checks-replicas.txt"
    echo "replicas summary: $OUT/summary-replicas.md"
}

# W6: prefill/decode pools on a mixed fleet (gpu-routers.md 8.4, BLIS P/D study): 4 servers
# whose step times alternate x1, x2; aggregated (all 4 serve everything) against 1 prefill
# (server 0, a fast one) + 3 decode, at P/D thresholds 0, 16, 256 and never (the prefill
# server idles). Interactive chat (W6chat) and code-like prompts (W6code), prefix_aware.
run_w6() {
    local fleet="--servers 4 --step-scale 1,2"
    local loads=0.3,0.6,0.9
    # Code turns are ~10x heavier: a longer horizon for a comparable number of requests.
    declare -A w6_horizon=([W6chat]=60 [W6code]=240)
    : > "$OUT/saturation-w6.csv"
    for w in W6chat W6code; do
        "$BENCH" calibrate --workloads "$w" $fleet --horizon-s "${w6_horizon[$w]}" --saturation "$OUT/saturation-w6-$w.csv"
        if [ ! -s "$OUT/saturation-w6.csv" ]; then cat "$OUT/saturation-w6-$w.csv" > "$OUT/saturation-w6.csv";
        else tail -n +2 "$OUT/saturation-w6-$w.csv" >> "$OUT/saturation-w6.csv"; fi
        rm -f "$OUT/saturation-w6-$w.csv"
    done
    local w6_jobs="$OUT/jobs-w6.txt"
    : > "$w6_jobs"
    for seed in $(seq 1 "$SEEDS"); do
        for w in W6code W6chat; do
            echo "$BENCH run --quiet --workloads $w $fleet --policies prefix_aware --loads $loads --seeds 1 --first-seed $seed --horizon-s ${w6_horizon[$w]} --saturation $OUT/saturation-w6.csv --csv $OUT/w6-agg-$w-$seed.csv" >> "$w6_jobs"
            echo "$BENCH run --quiet --workloads $w $fleet --prefill-servers 1 --pd-thresholds 0,16,256,never --policies prefix_aware --loads $loads --seeds 1 --first-seed $seed --horizon-s ${w6_horizon[$w]} --saturation $OUT/saturation-w6.csv --csv $OUT/w6-pd-$w-$seed.csv" >> "$w6_jobs"
            # The same with a slow GPU as the prefill server (decode on x1, x2, x1).
            echo "$BENCH run --quiet --workloads $w --servers 4 --step-scale 2,1 --label /slowP --prefill-servers 1 --pd-thresholds 0,256,never --policies prefix_aware --loads $loads --seeds 1 --first-seed $seed --horizon-s ${w6_horizon[$w]} --saturation $OUT/saturation-w6.csv --csv $OUT/w6-pdslow-$w-$seed.csv" >> "$w6_jobs"
            # Both with llm-d's threshold rule alone (pd.max_prefill_work_ratio 0: the
            # decider ignores the prefill server's backlog and cache), rows ending in /llmd.
            echo "$BENCH run --quiet --workloads $w $fleet --prefill-servers 1 --pd-thresholds 16,256 --pd-work-ratio 0 --label /llmd --policies prefix_aware --loads $loads --seeds 1 --first-seed $seed --horizon-s ${w6_horizon[$w]} --saturation $OUT/saturation-w6.csv --csv $OUT/w6-pdllmd-$w-$seed.csv" >> "$w6_jobs"
            echo "$BENCH run --quiet --workloads $w --servers 4 --step-scale 2,1 --label /slowP/llmd --prefill-servers 1 --pd-thresholds 0,256 --pd-work-ratio 0 --policies prefix_aware --loads $loads --seeds 1 --first-seed $seed --horizon-s ${w6_horizon[$w]} --saturation $OUT/saturation-w6.csv --csv $OUT/w6-pdslowllmd-$w-$seed.csv" >> "$w6_jobs"
        done
    done
    xargs -P "$JOBS" -I{} -d '\n' sh -c '{} || exit 255' < "$w6_jobs"
    "$BENCH" report --markdown "$OUT/summary-w6.md" "$OUT"/w6-*.csv > /dev/null
    echo "W6 summary: $OUT/summary-w6.md"
}

if [[ " $PARTS " == *" w6 "* ]]; then
    run_w6
fi
if [[ " $PARTS " == *" replicas "* ]]; then
    run_replicas
fi
if [[ " $PARTS " != *" main "* ]]; then
    echo "took $(( $(date +%s) - started )) s; results in $OUT"
    exit 0
fi

# 1. Round-robin saturation of each workload (calibration seed, separate from the sweep's).
# shellcheck disable=SC2086
calibrate_into "$OUT/saturation.csv" $WORKLOADS

# 2. The sweep, one job per (workload, seed), longest first, $JOBS at a time.
jobs_file="$OUT/jobs.txt"
: > "$jobs_file"
for seed in $(seq 1 "$SEEDS"); do
    for w in W2 W3 W4 W5 W5z W1; do
        echo "$BENCH run --quiet --workloads $w --policies $POLICIES --loads $LOADS${EXTRA_LOADS[$w]:-} --seeds 1 --first-seed $seed --horizon-s ${HORIZON[$w]} --saturation $OUT/saturation.csv --csv $OUT/sweep-$w-$seed.csv" >> "$jobs_file"
    done
done
# Staleness: the metric-driven and router-local policies at 100 ms, 1 s and 30 s scrapes
# (250 ms is in the main sweep).
echo "$BENCH run --quiet --workloads W4 --policies $STALE_POLICIES --loads 0.8 --seeds $SEEDS --scrape-ms 100,1000,30000 --horizon-s ${HORIZON[W4]} --saturation $OUT/saturation.csv --csv $OUT/staleness-W4.csv" >> "$jobs_file"
# W1 burst (all 1,024 prompts at t = 0), shuffled as bench_serving does, and in group order.
echo "$BENCH run --quiet --workloads W1 --burst --policies $POLICIES --seeds $SEEDS --csv $OUT/burst-W1.csv" >> "$jobs_file"
echo "$BENCH run --quiet --workloads W1 --burst --group-order --policies $POLICIES --seeds $SEEDS --csv $OUT/burst-grouped-W1.csv" >> "$jobs_file"
# And shuffled on servers with a small KV cache. SGLang's published round-robin hit rate
# (20%) is out of reach while a server's cache holds the ~56 prefixes its 128 prompts
# carry (round robin then reuses every repeat: ~50%). The source does not state the cache
# size; $BURST_KV_BLOCKS blocks (32K tokens, Llama-3.1-8B's KV on a 24 GB-class GPU) is
# where round robin's simulated hit rate meets the published 20%: one number calibrated,
# the cache-aware hit rate and the throughput ratio then predicted.
echo "$BENCH run --quiet --workloads W1 --burst --kv-blocks $BURST_KV_BLOCKS --policies $POLICIES --seeds $SEEDS --csv $OUT/burst-kv-W1.csv" >> "$jobs_file"

xargs -P "$JOBS" -I{} -d '\n' sh -c '{} || exit 255' < "$jobs_file"

# 3. Summary (mean and 95% CI over seeds) and the reproduction checks.
# The 2-replica rows of this run's replicas part, if any, join the report: their target
# line then compares them with the sweep's own 1-replica rows (the same seeds and
# saturation, so the same runs as the part's).
replica_rows=()
if [[ " $PARTS " == *" replicas "* ]]; then
    replica_rows=("$OUT"/replicas-2-*.csv)
fi
"$BENCH" report --markdown "$OUT/summary.md" "$OUT"/sweep-*.csv "$OUT"/staleness-W4.csv "$OUT"/burst-W1.csv "$OUT"/burst-grouped-W1.csv \
    "$OUT"/burst-kv-W1.csv "${replica_rows[@]}" | tee "$OUT/checks.txt"
echo "sweep took $(( $(date +%s) - started )) s; results in $OUT (summary.md, checks.txt, *.csv)"
