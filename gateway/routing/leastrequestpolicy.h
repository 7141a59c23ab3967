#pragma once

#include "loadmetric.h"
#include "routepolicy.h"

namespace Gateway::Routing {

struct LeastRequestParams {
    LoadMetric loadMetric = LoadMetric::Tokens; // `load_metric`
};

// Strategy `least_request`: the candidate with the lowest load (see targetLoad(): the
// configured metric including this request, divided by effective weight) first. Ties are
// broken by the other metric, then randomly, so identical targets share traffic evenly.
// Further choices are the next-lowest loads (partial selection of maxChoices entries).
//
// Scores (explain): each candidate's load in the configured metric.
// Stateless: safe to share between threads.
class LeastRequestPolicy final : public RoutePolicy {
public:
    explicit LeastRequestPolicy(LeastRequestParams params = {});

    std::string_view name() const override { return "least_request"; }
    void rank(const RankInput &input, Rng &rng, Ranking &out) const override;

    const LeastRequestParams &params() const { return m_params; }

private:
    LeastRequestParams m_params;
};

} // namespace Gateway::Routing
