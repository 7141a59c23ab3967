#include "weightedpolicy.h"

#include <algorithm>
#include <cmath>

namespace Gateway::Routing {

void WeightedPolicy::rank(const std::vector<PolicyTarget> &targets, const BackendSnapshot &snapshot,
                          const RequestSummary &, Rng &rng, std::vector<int> &order) const
{
    order.clear();
    if (targets.size() == 1) {
        order.push_back(0);
        return;
    }
    struct Keyed {
        bool available;
        double key;
        int index;
    };
    std::vector<Keyed> keyed;
    keyed.reserve(targets.size());
    for (std::size_t i = 0; i < targets.size(); ++i) {
        const auto id = static_cast<std::size_t>(targets[i].backendId);
        const bool available = id >= snapshot.backends.size() || snapshot.backends[id].available;
        const double u = std::max(rng.uniform(), 1e-300);
        // log(u^(1/w)) orders like u^(1/w) without underflow for small weights.
        keyed.push_back({available, std::log(u) / targets[i].weight, static_cast<int>(i)});
    }
    // Unavailable targets still go last, in weighted order among themselves, so a
    // request is never refused while any target might answer.
    std::sort(keyed.begin(), keyed.end(), [](const Keyed &a, const Keyed &b) {
        if (a.available != b.available) {
            return a.available;
        }
        return a.key > b.key;
    });
    for (const auto &entry : keyed) {
        order.push_back(entry.index);
    }
}

} // namespace Gateway::Routing
