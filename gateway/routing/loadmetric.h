#pragma once

#include "routepolicy.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

namespace Gateway::Routing {

// What the load-aware strategies (least_request, p2c) count as a target's load: config
// key `load_metric`.
enum class LoadMetric : std::uint8_t {
    Tokens,   // `tokens` (default): in-flight tokens plus this request's expected tokens
    Requests, // `requests`: in-flight requests plus this one
};

// The load of one target if this request were sent to it, divided by its effective
// weight (a target with twice the weight takes twice the load before it looks as busy).
// `primary` is the configured metric, `secondary` the other one (the first tie-breaker).
struct TargetLoad {
    double primary;
    double secondary;
};

// requestTokens is RequestSummary::expectedTokens(), computed once per rank() call.
// Inline: evaluated once per candidate on the hot path.
inline TargetLoad targetLoad(LoadMetric metric, const PolicyTarget &target, const BackendSnapshot &snapshot,
                             std::int64_t requestTokens)
{
    const BackendState &state = stateOf(target, snapshot);
    const double weight = effectiveWeight(target, snapshot);
    if (!(weight > 0.0)) {
        // Not drawable: as loaded as can be, so it ranks after every weighted target.
        return {std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity()};
    }
    const double inverse = 1.0 / weight;
    const double tokens = static_cast<double>(std::max<std::int64_t>(state.inFlightTokens, 0) + requestTokens) * inverse;
    const double requests = static_cast<double>(std::max(state.inFlightRequests, 0) + 1) * inverse;
    return metric == LoadMetric::Tokens ? TargetLoad {tokens, requests} : TargetLoad {requests, tokens};
}

// The config spelling ("tokens", "requests"); nullopt for anything else.
std::optional<LoadMetric> loadMetricFromName(std::string_view name);
std::string_view loadMetricName(LoadMetric metric);

} // namespace Gateway::Routing
