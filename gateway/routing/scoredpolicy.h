#pragma once

#include "gpuscorers.h"
#include "routepolicy.h"

#include <string>
#include <vector>

namespace Gateway::Routing {

class PrefixMatchSource;

// A scheduling profile in the shape of the Gateway API Inference Extension's endpoint
// picker: filter -> weighted scorers -> picker.
struct ScoredProfile {
    // The EPP prefix-cache-scorer's maxPrefixBlocksToMatch.
    static constexpr int DEFAULT_MAX_PREFIX_BLOCKS = 256;

    std::string name = "scored";
    std::vector<WeightedScorer> scorers;
    GpuPicker picker = GpuPicker::MaxScore;
    // prefix-cache-affinity-filter: keep the candidates whose prefix score is at least
    // this (if none does, keep all); skipped with probability explorationProbability.
    // 0 = no filter. (The filter's TTFT-penalty escape needs a latency predictor, which
    // the gateway does not have; it is not modelled.)
    double affinityThreshold = 0.0;
    double explorationProbability = 0.0;
    // Only this many leading blocks are matched, scored and recorded.
    int maxPrefixBlocks = DEFAULT_MAX_PREFIX_BLOCKS;
    GpuScorerOptions options;
};

// A RoutePolicy built from a ScoredProfile (presets epp_default, epp_load, llmd_precise,
// prefix_only; see gpupresets.h).
//
// rank(): gathers the candidates and, if a scorer or the filter needs it, their prefix
// matches (one PrefixMatchSource::match); sums weight x score per candidate; the filter
// puts candidates below the affinity threshold behind all others; the picker chooses the
// first choice among the kept ones (max-score: highest total, random among exact ties;
// weighted-random: in proportion to the total, uniform if all totals are 0). Fallbacks
// follow by total score, kept candidates first. Then the first choice's blocks are
// recorded in the source (as the EPP records its decision), and
// Ranking::cachedPromptTokens gets each candidate's matched blocks x tokens per block.
//
// Scores (explain): each candidate's total weighted score (higher = better).
// Thread safety: the profile is immutable and scratch is per thread; the source is
// thread-safe by contract.
class ScoredPolicy final : public RoutePolicy {
public:
    ScoredPolicy(ScoredProfile profile, PrefixMatchSource *source);

    std::string_view name() const override { return m_profile.name; }
    void rank(const RankInput &input, Rng &rng, Ranking &out) const override;

    const ScoredProfile &profile() const { return m_profile; }

private:
    bool usesPrefix() const;

    ScoredProfile m_profile;
    PrefixMatchSource *m_source;
};

} // namespace Gateway::Routing
