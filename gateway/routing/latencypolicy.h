#pragma once

#include "routepolicy.h"

#include <algorithm>

namespace Gateway::Routing {

// Strategy `latency`: lowest expected completion time of this request first, scaled by
// the queue it would join: score = expectedLatencyMs() * (inFlightRequests + 1), the
// Finagle peak-EWMA cost. The expected latency is ttftMs + latencyPerTokenMs *
// request.expectedOutputTokens(): the backend's speed is kept per output token, so a
// backend that happened to serve long answers is not penalised against one that served
// short ones; what counts is how long *this* request's answer would take.
//
// Targets with no latency sample yet rank first (ties among them random), so every new
// or long-idle backend gets measured. Other ties are broken randomly. Weights are ignored.
//
// Scores (explain): the score above (0 for a target without a sample).
// Stateless: safe to share between threads.
class LatencyPolicy final : public RoutePolicy {
public:
    std::string_view name() const override { return "latency"; }
    void rank(const RankInput &input, Rng &rng, Ranking &out) const override;

    // Both inline: evaluated per candidate by this policy and by CostPolicy.
    // ttftMs + latencyPerTokenMs * expected output tokens (ms); 0 without a sample.
    static double expectedLatencyMs(const BackendState &state, const RequestSummary &request)
    {
        return expectedLatencyMs(state, static_cast<double>(request.expectedOutputTokens()));
    }
    static double expectedLatencyMs(const BackendState &state, double expectedOutputTokens)
    {
        return std::max(state.ttftMs, 0.0) + std::max(state.latencyPerTokenMs, 0.0) * expectedOutputTokens;
    }
    // False while neither TTFT nor per-token latency has been measured.
    static bool hasLatencySample(const BackendState &state) { return state.ttftMs > 0.0 || state.latencyPerTokenMs > 0.0; }
};

} // namespace Gateway::Routing
