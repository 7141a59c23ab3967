#include "smoothweightedpolicy.h"

#include "rankkeybuffer.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace Gateway::Routing {

namespace {

// At least one unit, so a tiny (but positive) weight still gets its turn eventually.
std::int64_t scaledWeight(double weight)
{
    if (!(weight > 0.0)) {
        return 1;
    }
    // Positive here, so adding 0.5 and truncating rounds to nearest (cheaper than std::round).
    const double scaled = weight * SmoothWeightedPolicy::WEIGHT_SCALE + 0.5;
    if (!(scaled < static_cast<double>(SmoothWeightedPolicy::MAX_SCALED_WEIGHT))) {
        return SmoothWeightedPolicy::MAX_SCALED_WEIGHT;
    }
    return std::max<std::int64_t>(1, static_cast<std::int64_t>(scaled));
}

} // namespace

SmoothWeightedPolicy::SmoothWeightedPolicy(const std::vector<PolicyTarget> &targets)
    : m_current(targets.size(), 0)
{
}

void SmoothWeightedPolicy::rank(const RankInput &input, Rng & /*rng: deterministic*/, Ranking &out) const
{
    out.reset(input.targets.size());
    const std::size_t count = RankKeyBuffer::choiceCount(input.maxChoices, input.candidates.size());
    RankKeyBuffer others {count > 1 ? input.candidates.size() : 0, static_cast<int>(count) - 1};
    int chosen = -1;
    {
        const std::lock_guard lock {m_mutex};
        if (m_current.size() < input.targets.size()) {
            m_current.resize(input.targets.size(), 0); // a route built with fewer targets
        }
        std::int64_t *const state = m_current.data();
        const bool explain = out.explain;
        std::int64_t total = 0;
        std::int64_t best = std::numeric_limits<std::int64_t>::min();
        for (const int index : input.candidates) {
            const auto slot = static_cast<std::size_t>(index);
            const std::int64_t weight = scaledWeight(effectiveWeight(input.targets[slot], input.snapshot));
            const std::int64_t current = state[slot] += weight;
            total += weight;
            if (current > best) {
                best = current;
                chosen = index;
            }
        }
        state[static_cast<std::size_t>(chosen)] -= total;
        if (explain) {
            // Outside the hot loop (a call there blocks register allocation of the bounds).
            for (const int index : input.candidates) {
                const std::int64_t compared = state[static_cast<std::size_t>(index)] + (index == chosen ? total : 0);
                out.setScore(index, static_cast<double>(compared) / WEIGHT_SCALE);
            }
        }
        if (best > STATE_RESET_LIMIT) {
            std::fill(m_current.begin(), m_current.end(), 0);
        }
        if (count > 1) {
            for (const int index : input.candidates) {
                if (index != chosen) {
                    others.add(0, -static_cast<double>(state[static_cast<std::size_t>(index)]), 0.0, index);
                }
            }
        }
    }
    out.order.push_back(chosen);
    others.appendBest(out.order);
}

} // namespace Gateway::Routing
