#include "leastrequestpolicy.h"

#include "rankkeybuffer.h"

namespace Gateway::Routing {

LeastRequestPolicy::LeastRequestPolicy(LeastRequestParams params)
    : m_params {params}
{
}

void LeastRequestPolicy::rank(const RankInput &input, Rng &rng, Ranking &out) const
{
    out.reset(input.targets.size());
    const std::size_t candidateCount = input.candidates.size();
    // One draw seeds every tie-breaker; none is needed without a choice to make.
    const std::uint64_t seed = candidateCount > 1 ? rng.next() : 0;
    const std::int64_t requestTokens = input.request.expectedTokens();
    const bool explain = out.explain;
    const auto loadOf = [&](int index) {
        return targetLoad(m_params.loadMetric, input.targets[static_cast<std::size_t>(index)], input.snapshot,
                          requestTokens);
    };
    RankKeyBuffer buffer {candidateCount, input.maxChoices, RankKeyBuffer::Ties::Random, seed};
    for (const int index : input.candidates) {
        const TargetLoad load = loadOf(index);
        buffer.add(0, load.primary, load.secondary, index);
    }
    buffer.appendBest(out.order);
    // A separate pass: a call inside the hot loop would stop the compiler from keeping
    // the snapshot's bounds in registers.
    if (explain) {
        for (const int index : input.candidates) {
            out.setScore(index, loadOf(index).primary);
        }
    }
}

} // namespace Gateway::Routing
