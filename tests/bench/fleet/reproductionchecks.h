#pragma once

#include "benchstats.h"

#include <QByteArray>
#include <QString>

#include <vector>

namespace FleetBench {

enum class Verdict { Pass, Fail, Skip };

struct CheckLine {
    QString name;
    Verdict verdict = Verdict::Skip;
    QString detail; // the numbers the verdict was drawn from
};

// The reproduction checks of gpu-routers.md section 8.8: directions published results
// agree on, which the simulator must reproduce before any "we beat X" claim is trusted.
// Each reads the seed means of the configurations it needs and is skipped when the
// sweep did not run them. Evaluated on 250 ms scrapes (the default) unless noted.
//  1. W1 burst: sglang_cache_aware vs round_robin, throughput ratio >= 1.3 and hit-rate
//     ratio >= 2.5 (SGLang v0.4: 1.9x and 75% vs 20%). Evaluated on every burst variant
//     swept: the shuffled burst (today's bench_serving), the group-ordered one
//     (--group-order) and the shuffled one on smaller KV caches (--kv-blocks, arrivals
//     "burst-kv<n>"; see run-fleet-bench.sh for why the published run needs one).
//  2. W2 ordering, at the highest load swept: precise (llmd_precise_oracle) <
//     approximate (epp_default) < load (epp_load) and random on TTFT p90, the reverse on
//     output throughput; load and random within 10% on throughput; precise / random
//     throughput >= 1.5 (llm-d kvcache-wins).
//  3. W5 (and W5z) hot spot, at load 1.0 (or the highest below): prefix + load
//     (epp_default) has no timeouts, while prefix_only times out or shows a queue and a
//     TTFT p99 at least 5x deeper / longer (llm-d: ~55% success for prefix-only).
//  4. W4 no gain, at every load <= 1.0: epp_default within ±5% of epp_load on TTFT p50,
//     TTFT p90, ITL p50, E2E p50 and output throughput (llm-d: "nearly identical").
//  5. Staleness, at the load closest to 0.8 of the workload swept with several scrape
//     intervals: the metric-driven epp_load's TTFT p90 is >= 10% worse at the longest
//     interval than at the shortest, while least_request (router-local counters) stays
//     within ±5% on TTFT p90 and throughput.
std::vector<CheckLine> reproductionChecks(const Summaries &summaries);

// Section 8.9's targets for our policy (prefix_aware), proposals rather than published
// facts: reported the same way, as TARGET lines. The last one compares runs behind 2
// gateway replicas (rows "<policy>/2rep", --replicas 2) with prefix_aware behind one.
std::vector<CheckLine> targetChecks(const Summaries &summaries);

QByteArray renderChecks(const char *prefix, const std::vector<CheckLine> &lines);

} // namespace FleetBench
