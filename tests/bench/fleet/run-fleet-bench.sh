#!/usr/bin/env bash
# The fleet routing benchmark of gpu-routers.md section 8: every policy over the
# simulated 8-server fleet, workloads W1-W5 (+ W5z), loads 20%..120% of round-robin
# saturation, 5 seeds; then the markdown summary and the section 8.8 checks.
#
#   tests/bench/fleet/run-fleet-bench.sh <build-dir> [output-dir]
#
# Builds nothing: <build-dir> must already hold tests/bench/fleet/switchyard-fleet-bench
# (ninja -C <build-dir> switchyard-fleet-bench, Release). Runs two simulations at a time
# (one per core). About 9 CPU-minutes: 5-6 minutes on 2 idle cores. Environment: SEEDS
# (default 5), JOBS (2).
set -euo pipefail

BUILD=${1:?usage: run-fleet-bench.sh <build-dir> [output-dir]}
OUT=${2:-fleet-bench-results}
BENCH="$BUILD/tests/bench/fleet/switchyard-fleet-bench"
SEEDS=${SEEDS:-5}
JOBS=${JOBS:-2}
[ -x "$BENCH" ] || { echo "missing $BENCH (build the switchyard-fleet-bench target first)" >&2; exit 1; }
mkdir -p "$OUT"

POLICIES=round_robin,random,least_request,p2c,prefix_aware,sglang_cache_aware,sglang_cache_aware_v1,epp_default,epp_load,llmd_precise,prefix_only,dynamo_cost,prefix_aware_oracle,llmd_precise_oracle
LOADS=0.2,0.4,0.6,0.8,1.0,1.2
# Simulated seconds of arrivals per workload: a few thousand requests or more at every
# load (the high-rate workloads need fewer seconds), so the sweep fits the time budget.
# Saturation is calibrated at the same horizon (W3 and W5 grow conversations over time).
declare -A HORIZON=([W1]=15 [W2]=90 [W3]=30 [W4]=45 [W5]=20 [W5z]=20)
WORKLOADS="W1 W2 W3 W4 W5 W5z"
STALE_POLICIES=epp_load,least_request,epp_default,prefix_aware,llmd_precise

started=$(date +%s)

# 1. Round-robin saturation of each workload (calibration seed, separate from the sweep's).
: > "$OUT/saturation.csv"
for w in $WORKLOADS; do
    "$BENCH" calibrate --workloads "$w" --horizon-s "${HORIZON[$w]}" --saturation "$OUT/saturation-$w.csv"
    if [ ! -s "$OUT/saturation.csv" ]; then
        cat "$OUT/saturation-$w.csv" > "$OUT/saturation.csv"
    else
        tail -n +2 "$OUT/saturation-$w.csv" >> "$OUT/saturation.csv"
    fi
    rm -f "$OUT/saturation-$w.csv"
done

# 2. The sweep, one job per (workload, seed), longest first, $JOBS at a time.
jobs_file="$OUT/jobs.txt"
: > "$jobs_file"
for seed in $(seq 1 "$SEEDS"); do
    for w in W2 W3 W4 W5 W5z W1; do
        echo "$BENCH run --quiet --workloads $w --policies $POLICIES --loads $LOADS --seeds 1 --first-seed $seed --horizon-s ${HORIZON[$w]} --saturation $OUT/saturation.csv --csv $OUT/sweep-$w-$seed.csv" >> "$jobs_file"
    done
done
# Staleness: the metric-driven and router-local policies at 100 ms, 1 s and 30 s scrapes
# (250 ms is in the main sweep).
echo "$BENCH run --quiet --workloads W4 --policies $STALE_POLICIES --loads 0.8 --seeds $SEEDS --scrape-ms 100,1000,30000 --horizon-s ${HORIZON[W4]} --saturation $OUT/saturation.csv --csv $OUT/staleness-W4.csv" >> "$jobs_file"
# W1 burst (all 1,024 prompts at t = 0), shuffled as bench_serving does, and in group order.
echo "$BENCH run --quiet --workloads W1 --burst --policies $POLICIES --seeds $SEEDS --csv $OUT/burst-W1.csv" >> "$jobs_file"
echo "$BENCH run --quiet --workloads W1 --burst --group-order --policies $POLICIES --seeds $SEEDS --csv $OUT/burst-grouped-W1.csv" >> "$jobs_file"

xargs -P "$JOBS" -I{} -d '\n' sh -c '{} || exit 255' < "$jobs_file"

# 3. Summary (mean and 95% CI over seeds) and the reproduction checks.
"$BENCH" report --markdown "$OUT/summary.md" "$OUT"/sweep-*.csv "$OUT"/staleness-W4.csv "$OUT"/burst-W1.csv "$OUT"/burst-grouped-W1.csv \
    | tee "$OUT/checks.txt"
echo "sweep took $(( $(date +%s) - started )) s; results in $OUT (summary.md, checks.txt, *.csv)"
