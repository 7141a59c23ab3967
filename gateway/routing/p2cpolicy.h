#pragma once

#include "loadmetric.h"
#include "routepolicy.h"

namespace Gateway::Routing {

struct P2cParams {
    LoadMetric loadMetric = LoadMetric::Tokens; // `load_metric`
};

// Strategy `p2c`: power of two choices (Mitzenmacher, "The Power of Two Choices in
// Randomized Load Balancing", 2001). Two distinct candidates are drawn uniformly at
// random; the one with the lower load (as least_request: targetLoad() with the same
// `load_metric`, then the other metric) is the first choice and the other the second.
// On a full tie the first one drawn wins, which is itself a uniform coin flip. Further
// choices are the remaining candidates by load (partial selection, random tie-break).
// With a single candidate nothing is drawn.
//
// The draw is uniform, not by weight, because the load is already divided by the
// effective weight: drawing by weight as well would count the weight twice, and a
// slow-starting (ramping) target must still be sampled to be compared at all. Compared
// with least_request, the randomness keeps many workers acting on the same stale
// snapshot from all piling onto the single least-loaded target.
//
// Scores (explain): each candidate's load in the configured metric.
// Stateless: safe to share between threads.
class P2cPolicy final : public RoutePolicy {
public:
    explicit P2cPolicy(P2cParams params = {});

    std::string_view name() const override { return "p2c"; }
    void rank(const RankInput &input, Rng &rng, Ranking &out) const override;

    const P2cParams &params() const { return m_params; }

private:
    P2cParams m_params;
};

} // namespace Gateway::Routing
