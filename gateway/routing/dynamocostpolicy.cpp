#include "dynamocostpolicy.h"

#include "gpucandidates.h"
#include "prefixmatch.h"
#include "rankkeybuffer.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace Gateway::Routing {

DynamoCostPolicy::DynamoCostPolicy(DynamoCostParams params, PrefixMatchSource *source)
    : m_params {params}
    , m_source {source}
{
}

void DynamoCostPolicy::rank(const RankInput &input, Rng &rng, Ranking &out) const
{
    out.reset(input.targets.size());
    GpuCandidateSet &set = threadCandidateSet();
    set.gather(input, m_source, std::numeric_limits<std::size_t>::max());
    const std::size_t count = set.size();
    const double tokensPerBlock = tokensPerBlockOf(m_source);
    const double prompt = std::max(0, input.request.estimatedPromptTokens);
    const std::span<double> costs = set.values(0);
    const std::span<double> cached = set.values(1);
    double low = std::numeric_limits<double>::infinity();
    double high = -low;
    for (std::size_t i = 0; i < count; ++i) {
        cached[i] = std::min(prompt, set[i].matchedBlocks * tokensPerBlock);
        const double prefillBlocks = (prompt - cached[i]) / tokensPerBlock;
        const double decodeBlocks =
            static_cast<double>(std::max<std::int64_t>(0, set[i].state->inFlightTokens)) / tokensPerBlock;
        costs[i] = m_params.overlapScoreWeight * prefillBlocks + decodeBlocks;
        low = std::min(low, costs[i]);
        high = std::max(high, costs[i]);
    }

    std::size_t first = count; // set only by the softmax draw
    if (m_params.temperature > 0.0 && count > 1) {
        // Normalised logits as in Dynamo's softmax_sample: cheapest 0, dearest 1.
        const double range = high - low;
        const std::span<double> weights = set.values(2);
        double sum = 0.0;
        for (std::size_t i = 0; i < count; ++i) {
            const double normalised = range > 0.0 ? (costs[i] - low) / range : 0.0;
            weights[i] = std::exp(-normalised / m_params.temperature);
            sum += weights[i];
        }
        double threshold = rng.uniform() * sum;
        first = count - 1;
        for (std::size_t i = 0; i < count; ++i) {
            if (threshold < weights[i]) {
                first = i;
                break;
            }
            threshold -= weights[i];
        }
    }
    const std::uint64_t seed = count > 1 ? rng.next() : 0;
    RankKeyBuffer buffer {count, input.maxChoices, RankKeyBuffer::Ties::Random, seed};
    for (std::size_t i = 0; i < count; ++i) {
        buffer.add(first < count && i != first ? 1 : 0, costs[i], 0.0, set[i].targetIndex);
    }
    buffer.appendBest(out.order);

    if (out.explain) {
        for (std::size_t i = 0; i < count; ++i) {
            out.setScore(set[i].targetIndex, costs[i]);
        }
    }
    fillCachedPromptTokens(input, set.candidates(), cached, out);
    recordFirstChoice(m_source, input, set.blocks(), out);
}

} // namespace Gateway::Routing
