#include "latencypolicy.h"

#include "rankkeybuffer.h"

#include <algorithm>

namespace Gateway::Routing {

namespace {

// Unmeasured targets form the first tier.
constexpr int UNMEASURED_TIER = 0;
constexpr int MEASURED_TIER = 1;

} // namespace

void LatencyPolicy::rank(const RankInput &input, Rng &rng, Ranking &out) const
{
    out.reset(input.targets.size());
    const std::size_t candidateCount = input.candidates.size();
    const std::uint64_t seed = candidateCount > 1 ? rng.next() : 0;
    const double outputTokens = static_cast<double>(input.request.expectedOutputTokens());
    const bool explain = out.explain;
    const auto scoreOf = [&](const BackendState &state) {
        return hasLatencySample(state)
            ? expectedLatencyMs(state, outputTokens) * static_cast<double>(std::max(state.inFlightRequests, 0) + 1)
            : 0.0;
    };
    RankKeyBuffer buffer {candidateCount, input.maxChoices, RankKeyBuffer::Ties::Random, seed};
    for (const int index : input.candidates) {
        const BackendState &state = stateOf(input.targets[static_cast<std::size_t>(index)], input.snapshot);
        buffer.add(hasLatencySample(state) ? MEASURED_TIER : UNMEASURED_TIER, scoreOf(state), 0.0, index);
    }
    buffer.appendBest(out.order);
    // A separate pass: a call inside the hot loop would stop the compiler from keeping
    // the snapshot's bounds in registers.
    if (explain) {
        for (const int index : input.candidates) {
            out.setScore(index, scoreOf(stateOf(input.targets[static_cast<std::size_t>(index)], input.snapshot)));
        }
    }
}

} // namespace Gateway::Routing
