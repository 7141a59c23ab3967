#include "scoredpolicy.h"

#include "prefixmatch.h"
#include "rankkeybuffer.h"

#include <algorithm>
#include <utility>

namespace Gateway::Routing {

namespace {

// Tiers, stored as doubles in the candidate set's scratch.
constexpr double KEPT = 0.0;     // candidates the filter keeps
constexpr double FILTERED = 1.0; // ranked only after every kept candidate

// Draws one kept candidate in proportion to its total score (uniformly if all are 0).
std::size_t weightedDraw(std::span<const double> totals, std::span<const double> tiers, Rng &rng)
{
    double sum = 0.0;
    std::size_t kept = 0;
    for (std::size_t i = 0; i < totals.size(); ++i) {
        if (tiers[i] == KEPT) {
            sum += std::max(0.0, totals[i]);
            ++kept;
        }
    }
    const double u = rng.uniform();
    if (!(sum > 0.0)) {
        std::size_t pick = std::min(static_cast<std::size_t>(u * static_cast<double>(kept)), kept - 1);
        for (std::size_t i = 0; i < totals.size(); ++i) {
            if (tiers[i] == KEPT && pick-- == 0) {
                return i;
            }
        }
    }
    double threshold = u * sum;
    std::size_t last = 0;
    for (std::size_t i = 0; i < totals.size(); ++i) {
        if (tiers[i] != KEPT) {
            continue;
        }
        last = i;
        const double share = std::max(0.0, totals[i]);
        if (threshold < share) {
            return i;
        }
        threshold -= share;
    }
    return last; // rounding at the very top of the range
}

} // namespace

ScoredPolicy::ScoredPolicy(ScoredProfile profile, PrefixMatchSource *source)
    : m_profile {std::move(profile)}
    , m_source {source}
{
}

bool ScoredPolicy::usesPrefix() const
{
    return m_profile.affinityThreshold > 0.0
        || std::any_of(m_profile.scorers.begin(), m_profile.scorers.end(), [](const WeightedScorer &s) {
               return s.kind == GpuScorerKind::Prefix && s.weight != 0.0;
           });
}

void ScoredPolicy::rank(const RankInput &input, Rng &rng, Ranking &out) const
{
    out.reset(input.targets.size());
    GpuCandidateSet &set = threadCandidateSet();
    const bool prefix = usesPrefix();
    set.gather(input, prefix ? m_source : nullptr, static_cast<std::size_t>(std::max(0, m_profile.maxPrefixBlocks)));
    const std::size_t count = set.size();
    const std::span<double> totals = set.values(0);
    const std::span<double> term = set.values(1);
    const std::span<double> tier = set.values(2); // KEPT everywhere until the filter runs
    const GpuScoringInput scoring {set.candidates(), set.blocks().size(), input.request, m_profile.options};

    for (const WeightedScorer &scorer : m_profile.scorers) {
        if (scorer.weight == 0.0) {
            continue;
        }
        scoreCandidates(scorer.kind, scoring, term);
        for (std::size_t i = 0; i < count; ++i) {
            totals[i] += scorer.weight * term[i];
        }
    }

    // Filter: candidates below the affinity threshold rank behind every kept one.
    if (m_profile.affinityThreshold > 0.0 && !set.blocks().empty()) {
        const bool explore = m_profile.explorationProbability > 0.0 && rng.uniform() < m_profile.explorationProbability;
        if (!explore) {
            scoreCandidates(GpuScorerKind::Prefix, scoring, term);
            const bool anyPasses = std::any_of(term.begin(), term.end(),
                                               [this](double s) { return s >= m_profile.affinityThreshold; });
            for (std::size_t i = 0; anyPasses && i < count; ++i) {
                tier[i] = term[i] >= m_profile.affinityThreshold ? KEPT : FILTERED;
            }
        }
    }

    const std::uint64_t seed = count > 1 ? rng.next() : 0;
    if (m_profile.picker == GpuPicker::WeightedRandom && count > 1) {
        const std::size_t first = weightedDraw(totals, tier, rng);
        out.order.push_back(set[first].targetIndex);
        if (input.maxChoices > 1) {
            RankKeyBuffer rest {count - 1, input.maxChoices - 1, RankKeyBuffer::Ties::Random, seed};
            for (std::size_t i = 0; i < count; ++i) {
                if (i != first) {
                    rest.add(static_cast<int>(tier[i]), -totals[i], 0.0, set[i].targetIndex);
                }
            }
            rest.appendBest(out.order);
        }
    } else {
        RankKeyBuffer buffer {count, input.maxChoices, RankKeyBuffer::Ties::Random, seed};
        for (std::size_t i = 0; i < count; ++i) {
            buffer.add(static_cast<int>(tier[i]), -totals[i], 0.0, set[i].targetIndex);
        }
        buffer.appendBest(out.order);
    }

    if (out.explain) {
        for (std::size_t i = 0; i < count; ++i) {
            out.setScore(set[i].targetIndex, totals[i]);
        }
    }
    if (prefix) {
        const double tokensPerBlock = tokensPerBlockOf(m_source);
        for (std::size_t i = 0; i < count; ++i) {
            term[i] = set[i].matchedBlocks * tokensPerBlock;
        }
        fillCachedPromptTokens(input, set.candidates(), term, out);
        recordFirstChoice(m_source, input, set.blocks(), out);
    }
}

} // namespace Gateway::Routing
