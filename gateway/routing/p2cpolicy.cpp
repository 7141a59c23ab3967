#include "p2cpolicy.h"

#include "rankkeybuffer.h"

#include <algorithm>
#include <utility>

namespace Gateway::Routing {

namespace {

std::size_t uniformPosition(Rng &rng, std::size_t count)
{
    return std::min(static_cast<std::size_t>(rng.uniform() * static_cast<double>(count)), count - 1);
}

bool lessLoaded(const TargetLoad &a, const TargetLoad &b)
{
    return a.primary < b.primary || (a.primary == b.primary && a.secondary < b.secondary);
}

} // namespace

P2cPolicy::P2cPolicy(P2cParams params)
    : m_params {params}
{
}

void P2cPolicy::rank(const RankInput &input, Rng &rng, Ranking &out) const
{
    out.reset(input.targets.size());
    const std::size_t candidateCount = input.candidates.size();
    const std::int64_t requestTokens = input.request.expectedTokens();
    const auto loadAt = [&](std::size_t position) {
        const int index = input.candidates[position];
        return targetLoad(m_params.loadMetric, input.targets[static_cast<std::size_t>(index)], input.snapshot,
                          requestTokens);
    };
    if (candidateCount == 1) {
        out.order.push_back(input.candidates.front());
        out.setScore(input.candidates.front(), loadAt(0).primary);
        return;
    }

    // Two distinct positions, uniformly: the second is drawn among the other n - 1.
    std::size_t first = uniformPosition(rng, candidateCount);
    std::size_t second = 1 - first;
    if (candidateCount > 2) {
        second = uniformPosition(rng, candidateCount - 1);
        second += second >= first ? 1 : 0;
    }
    TargetLoad firstLoad = loadAt(first);
    TargetLoad secondLoad = loadAt(second);
    if (lessLoaded(secondLoad, firstLoad)) {
        std::swap(first, second);
        std::swap(firstLoad, secondLoad);
    }
    out.order.push_back(input.candidates[first]);
    out.setScore(input.candidates[first], firstLoad.primary);
    out.setScore(input.candidates[second], secondLoad.primary);
    const std::size_t count = RankKeyBuffer::choiceCount(input.maxChoices, candidateCount);
    if (count >= 2) {
        out.order.push_back(input.candidates[second]);
    }

    const bool rankRest = count > 2;
    if (!rankRest && !out.explain) {
        return;
    }
    const std::uint64_t seed = rankRest && candidateCount > 3 ? rng.next() : 0;
    RankKeyBuffer rest {rankRest ? candidateCount - 2 : 0, static_cast<int>(count) - 2, RankKeyBuffer::Ties::Random, seed};
    for (std::size_t position = 0; position < candidateCount; ++position) {
        if (position == first || position == second) {
            continue;
        }
        const int index = input.candidates[position];
        const TargetLoad load = loadAt(position);
        if (out.explain) {
            out.setScore(index, load.primary);
        }
        if (rankRest) {
            rest.add(0, load.primary, load.secondary, index);
        }
    }
    rest.appendBest(out.order);
}

} // namespace Gateway::Routing
