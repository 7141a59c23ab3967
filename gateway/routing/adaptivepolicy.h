#pragma once

#include "routepolicy.h"

namespace Gateway::Routing {

// The `adaptive` strategy: draws with the weights AdaptiveWeights last computed for the
// route (snapshot.routes[routeIndex].targets[i].weight), times the backend's health ramp
// (healthWeight), which moves faster than the adaptive interval. A target without a
// computed entry (no route state yet, or a shorter vector) falls back to
// effectiveWeight(), i.e. configured weight x health ramp.
//
// With probability `exploration` the first choice is uniform over the candidates instead,
// so targets the weights pushed down (recovering, once slow) still get probes and their
// factors can recover; Bifrost explores the same way (25% in its published formula; 5%
// suffices here because the weight floor already guarantees some probes).
//
// Draws, in order (what a scripted Rng must supply): one uniform to decide exploration
// (skipped when exploration is 0 or there is one candidate), one for the first choice
// (uniform index when exploring, cumulative-weight draw otherwise), then one
// cumulative-weight draw per further choice among the remaining candidates (none for the
// last remaining candidate). O(candidates)
// per choice, no allocation once a worker thread's scratch buffer is warm.
//
// Explain scores: the weight each candidate was drawn with.
//
// Thread safety: only immutable parameters; scratch is thread_local.
class AdaptivePolicy final : public RoutePolicy {
public:
    struct Parameters {
        // Config `exploration`: share of requests whose first choice is uniform.
        double exploration = DEFAULT_EXPLORATION;
    };

    static constexpr double DEFAULT_EXPLORATION = 0.05;

    AdaptivePolicy();
    explicit AdaptivePolicy(const Parameters &parameters);

    std::string_view name() const override { return "adaptive"; }
    void rank(const RankInput &input, Rng &rng, Ranking &out) const override;

    const Parameters &parameters() const { return m_parameters; }

    // The weight rank() draws target `index` with (see the class comment).
    static double drawWeight(const RankInput &input, int index);

private:
    Parameters m_parameters;
};

} // namespace Gateway::Routing
