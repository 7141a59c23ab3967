#pragma once

#include "routepolicy.h"

namespace Gateway::Routing {

// Weighted random ranking without replacement (Efraimidis & Spirakis, "Weighted random
// sampling with a reservoir", 2006): each target draws key = u^(1/w) and targets are
// tried in descending key order. The first choice is picked with probability w_i/sum(w),
// and the fallback order stays weight-proportional among the rest.
class WeightedPolicy final : public RoutePolicy {
public:
    void rank(const std::vector<PolicyTarget> &targets, const BackendSnapshot &snapshot,
              const RequestSummary &request, Rng &rng, std::vector<int> &order) const override;
};

} // namespace Gateway::Routing
