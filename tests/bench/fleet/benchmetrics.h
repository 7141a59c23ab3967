#pragma once

#include "sim/fleet/runresult.h"

#include <array>
#include <string_view>
#include <vector>

namespace FleetBench {

// The metrics one run contributes to the CSV, in column order. Every metric is stored as
// a double so results can be aggregated over seeds generically.
enum class Metric : int {
    TtftP50, TtftP90, TtftP99,
    ItlP50, ItlP99,
    E2eP50, E2eP99,
    OutputTokensPerSecond, RequestsPerSecond, GoodputPerSecond, GoodputShare,
    HitRate, PrefillTokens, PrefillSkew, PrefillCv, RunningSkew, RunningCv,
    PeakWaiting, Timeouts, Rejected, Completed, Requests, Preemptions,
    DecisionP50Us, DecisionP99Us, MakespanSeconds, DisaggregatedShare,
    Count
};

constexpr std::size_t METRIC_COUNT = static_cast<std::size_t>(Metric::Count);

// Column names (CSV header), with units in the name.
constexpr std::array<std::string_view, METRIC_COUNT> METRIC_NAMES {
    "ttft_p50_s", "ttft_p90_s", "ttft_p99_s",
    "itl_p50_ms", "itl_p99_ms",
    "e2e_p50_s", "e2e_p99_s",
    "output_tok_s", "req_s", "goodput_req_s", "goodput_share",
    "hit_rate", "prefill_tokens", "prefill_skew", "prefill_cv", "running_skew", "running_cv",
    "peak_waiting", "timeouts", "rejected", "completed", "requests", "preemptions",
    "decision_p50_us", "decision_p99_us", "makespan_s", "disaggregated_share",
};

using MetricValues = std::array<double, METRIC_COUNT>;

MetricValues metricsOf(const Gateway::Sim::Fleet::RunResult &result);

inline double valueOf(const MetricValues &values, Metric metric)
{
    return values[static_cast<std::size_t>(metric)];
}

} // namespace FleetBench
