#pragma once

#include <vector>

namespace Gateway::Routing {

// Observed state of one backend (provider + upstream model) at snapshot time. The
// routing-engine and GPU-aware work add fields here (health, latency EWMAs, queue and
// KV-cache usage); policies only ever read it.
struct BackendState {
    bool available = true;
    int inFlightRequests = 0;
};

// Immutable view of every backend, indexed by backend id.
struct BackendSnapshot {
    std::vector<BackendState> backends;
};

} // namespace Gateway::Routing
