#pragma once

#include <cstdint>
#include <vector>

namespace Gateway::Routing {

// Health of a backend or of one provider key. Transitions are decided by HealthTracker;
// policies only read the state.
enum class HealthState : std::uint8_t {
    Healthy,    // full weight
    Degraded,   // still routed to, at a reduced weight
    Failed,     // circuit open: no traffic until the open interval ends
    Recovering, // half-open probes, then a slow-start ramp back to full weight
};

// Observed state of one backend (provider + upstream model) at snapshot time. Policies
// only ever read it. Slow-moving fields (health, EWMAs, error rate) come from the
// periodically published snapshot; in-flight counts are refreshed per request.
struct BackendState {
    bool available = true;           // false: circuit open or every key cooling down
    HealthState health = HealthState::Healthy;
    double healthWeight = 1.0;       // (0, 1]: slow-start ramp or degraded share
    int inFlightRequests = 0;
    std::int64_t inFlightTokens = 0; // estimated prompt + expected output of requests in flight
    double latencyPerTokenMs = 0.0;  // peak-EWMA of (latency - ttft) / output tokens; 0 = no sample yet
    double ttftMs = 0.0;             // peak-EWMA of time to first token; 0 = no sample yet
    double errorRate = 0.0;          // share of failed attempts over the health window
    // From configuration (target or provider price table).
    double inputCostPerMTok = 0.0;   // currency units per million prompt tokens; 0 = unknown
    double outputCostPerMTok = 0.0;
    std::int64_t contextWindow = 0;  // tokens; 0 = unknown (never filtered on)
};

// Per-target factors of the adaptive strategy, recomputed every interval. Kept in the
// snapshot so the console and the explain header show exactly what the policy used.
struct TargetFactors {
    double errorPenalty = 1.0;  // (0, 1]: 1 = no recent errors
    double latencyScore = 1.0;  // (0, 1]: 1 = as fast (per token, and TTFT) as the best peer
    double utilisation = 1.0;   // (0, 1]: 1 = at or below its fair share of in-flight tokens
    double momentum = 1.0;      // (0, 1]: ramps a recovering target back up over time
    double weight = 1.0;        // the resulting weight the policy draws with (> 0)
};

struct RouteState {
    std::vector<TargetFactors> targets; // aligned with the route's targets; empty = not computed yet
};

// Immutable view of every backend, indexed by backend id, and of every route's adaptive
// factors, indexed by route index.
struct BackendSnapshot {
    std::vector<BackendState> backends;
    std::vector<RouteState> routes;
};

} // namespace Gateway::Routing
