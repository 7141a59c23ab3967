#include "weightedpolicy.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace Gateway::Routing {

void WeightedPolicy::rank(const std::vector<PolicyTarget> &targets, const BackendSnapshot &snapshot,
                          const RequestSummary &, Rng &rng, std::vector<int> &order) const
{
    order.clear();
    if (targets.size() == 1) {
        order.push_back(0);
        return;
    }
    std::vector<std::pair<double, int>> keyed;
    keyed.reserve(targets.size());
    for (std::size_t i = 0; i < targets.size(); ++i) {
        const auto id = static_cast<std::size_t>(targets[i].backendId);
        const bool available = id >= snapshot.backends.size() || snapshot.backends[id].available;
        // Unavailable targets still go last, so a request is never refused while any
        // target might answer.
        const double u = std::max(rng.uniform(), 1e-300);
        const double key = std::log(u) / targets[i].weight; // log of u^(1/w): same order
        keyed.emplace_back(available ? key : key - 1e300, static_cast<int>(i));
    }
    std::sort(keyed.begin(), keyed.end(), [](const auto &a, const auto &b) { return a.first > b.first; });
    for (const auto &entry : keyed) {
        order.push_back(entry.second);
    }
}

} // namespace Gateway::Routing
