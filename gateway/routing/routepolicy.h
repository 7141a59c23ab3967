#pragma once

#include "backendsnapshot.h"
#include "requestsummary.h"
#include "rng.h"

#include <vector>

namespace Gateway::Routing {

struct PolicyTarget {
    int backendId = -1;
    double weight = 1.0;
};

// A routing strategy: pure logic, no I/O, no clock or randomness of its own. It ranks
// a route's targets for one request; the data plane tries them in that order.
class RoutePolicy {
public:
    virtual ~RoutePolicy() = default;

    // Fills `order` with indices into `targets`, best first. Unavailable backends may
    // be left out; the caller treats an empty order as "no target available".
    virtual void rank(const std::vector<PolicyTarget> &targets, const BackendSnapshot &snapshot,
                      const RequestSummary &request, Rng &rng, std::vector<int> &order) const = 0;
};

} // namespace Gateway::Routing
