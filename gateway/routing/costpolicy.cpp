#include "costpolicy.h"

#include "latencypolicy.h"
#include "rankkeybuffer.h"

#include <algorithm>

namespace Gateway::Routing {

namespace {

constexpr int WITHIN_LATENCY_TIER = 0;
constexpr int TOO_SLOW_TIER = 1;

} // namespace

CostPolicy::CostPolicy(CostParams params)
    : m_params {params}
{
}

void CostPolicy::rank(const RankInput &input, Rng &rng, Ranking &out) const
{
    out.reset(input.targets.size());
    const std::size_t candidateCount = input.candidates.size();
    const std::uint64_t seed = candidateCount > 1 ? rng.next() : 0;
    const double maxLatencyMs = m_params.maxLatencyMs;
    const bool latencyBound = maxLatencyMs > 0.0;
    const bool explain = out.explain;
    const double promptTokens = static_cast<double>(std::max(input.request.estimatedPromptTokens, 0));
    const double outputTokens = static_cast<double>(input.request.expectedOutputTokens());
    RankKeyBuffer buffer {candidateCount, input.maxChoices, RankKeyBuffer::Ties::Random, seed};
    for (const int index : input.candidates) {
        const BackendState &state = stateOf(input.targets[static_cast<std::size_t>(index)], input.snapshot);
        const bool tooSlow = latencyBound && LatencyPolicy::hasLatencySample(state)
            && LatencyPolicy::expectedLatencyMs(state, outputTokens) > maxLatencyMs;
        buffer.add(tooSlow ? TOO_SLOW_TIER : WITHIN_LATENCY_TIER, requestCost(state, promptTokens, outputTokens),
                   static_cast<double>(std::max<std::int64_t>(state.inFlightTokens, 0)), index);
    }
    buffer.appendBest(out.order);
    // A separate pass: a call inside the hot loop would stop the compiler from keeping
    // the snapshot's bounds in registers.
    if (explain) {
        for (const int index : input.candidates) {
            const BackendState &state = stateOf(input.targets[static_cast<std::size_t>(index)], input.snapshot);
            out.setScore(index, requestCost(state, promptTokens, outputTokens));
        }
    }
}

} // namespace Gateway::Routing
