#include "cacheawarepolicy.h"

#include "gpucandidates.h"
#include "prefixmatch.h"
#include "rankkeybuffer.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace Gateway::Routing {

CacheAwarePolicy::CacheAwarePolicy(CacheAwareParams params, PrefixMatchSource *source, std::string name)
    : m_params {params}
    , m_source {source}
    , m_name {std::move(name)}
{
}

void CacheAwarePolicy::rank(const RankInput &input, Rng &rng, Ranking &out) const
{
    out.reset(input.targets.size());
    GpuCandidateSet &set = threadCandidateSet();
    set.gather(input, m_source, std::numeric_limits<std::size_t>::max());
    const std::size_t count = set.size();
    const std::span<double> loads = set.values(0);
    double low = std::numeric_limits<double>::infinity();
    double high = -low;
    for (std::size_t i = 0; i < count; ++i) {
        loads[i] = std::max(0, set[i].state->inFlightRequests);
        low = std::min(low, loads[i]);
        high = std::max(high, loads[i]);
    }
    const bool imbalanced = high - low > m_params.balanceAbsThreshold && high > low * m_params.balanceRelThreshold;
    const std::uint64_t seed = count > 1 ? rng.next() : 0;

    // The longest match, random among ties (the same tie hash as the load ranking).
    const std::size_t totalBlocks = set.blocks().size();
    std::size_t best = 0;
    for (std::size_t i = 1; i < count; ++i) {
        const int a = set[i].matchedBlocks;
        const int b = set[best].matchedBlocks;
        if (a > b || (a == b && RankKeyBuffer::tieBreak(seed, set[i].targetIndex)
                                     < RankKeyBuffer::tieBreak(seed, set[best].targetIndex))) {
            best = i;
        }
    }
    const double matchRate = totalBlocks > 0 ? static_cast<double>(set[best].matchedBlocks) / totalBlocks : 0.0;
    const bool byCache = !imbalanced && matchRate > m_params.cacheThreshold;

    RankKeyBuffer buffer {count, input.maxChoices, RankKeyBuffer::Ties::Random, seed};
    for (std::size_t i = 0; i < count; ++i) {
        const int tier = byCache && i != best ? 1 : 0;
        buffer.add(tier, loads[i], 0.0, set[i].targetIndex);
    }
    buffer.appendBest(out.order);

    if (out.explain) {
        for (std::size_t i = 0; i < count; ++i) {
            const double rate = totalBlocks > 0 ? static_cast<double>(set[i].matchedBlocks) / totalBlocks : 0.0;
            out.setScore(set[i].targetIndex, byCache ? rate : loads[i]);
        }
    }
    const double tokensPerBlock = tokensPerBlockOf(m_source);
    const std::span<double> cached = set.values(1);
    for (std::size_t i = 0; i < count; ++i) {
        cached[i] = set[i].matchedBlocks * tokensPerBlock;
    }
    fillCachedPromptTokens(input, set.candidates(), cached, out);
    recordFirstChoice(m_source, input, set.blocks(), out);
}

} // namespace Gateway::Routing
