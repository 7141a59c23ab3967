#pragma once

#include "backendsnapshot.h"
#include "requestsummary.h"
#include "rng.h"

#include <span>
#include <string_view>
#include <vector>

namespace Gateway::Routing {

struct PolicyTarget {
    int backendId = -1;
    double weight = 1.0; // configured weight (> 0)
};

// Everything a policy may look at for one decision.
struct RankInput {
    const std::vector<PolicyTarget> &targets; // the route's targets
    // Indices into `targets` that passed the filters (health, context window, rules),
    // ascending. Never empty when rank() is called.
    std::span<const int> candidates;
    const BackendSnapshot &snapshot;
    const RequestSummary &request;
    int routeIndex = -1; // index into snapshot.routes, -1 when the route has no entry
    int maxChoices = 1;  // rank at most this many (first choice + fallbacks to try)
    // Prefix-aware policies tell their index where the prompt goes (the first choice).
    // false: a look-ahead ranking whose choice may not be used (the prefill pool, before
    // the P/D decider has committed); the caller records the placement if it happens.
    bool recordChoice = true;
};

// A policy's answer: target indices best first; with `explain` set, also each target's
// score (what the strategy compared; its meaning is documented per strategy).
struct Ranking {
    std::vector<int> order;     // indices into targets, best first, each at most once
    std::vector<double> scores; // filled only when explain: one per target, NaN = not scored
    // Filled by prefix-locality policies (else empty): per target, how many prompt tokens
    // it is believed to hold already. The runtime counts only the rest as prefill work
    // in flight on the chosen target (BackendState::inFlightPrefillTokens).
    std::vector<int> cachedPromptTokens;
    bool explain = false;

    void reset(std::size_t targetCount);
    void setScore(int targetIndex, double score);
};

// A routing strategy: pure logic over a snapshot, no I/O, no clock; randomness comes from
// the caller's Rng. Stateful strategies (round robin cursors) keep that state in atomics,
// since one policy object serves every worker thread.
class RoutePolicy {
public:
    virtual ~RoutePolicy() = default;

    // The `strategy:` name, e.g. "weighted".
    virtual std::string_view name() const = 0;

    // Fills out.order with up to input.maxChoices candidates, best first.
    virtual void rank(const RankInput &input, Rng &rng, Ranking &out) const = 0;
};

// The configured weight scaled by the backend's health ramp: what weight-based
// strategies draw with.
inline double effectiveWeight(const PolicyTarget &target, const BackendSnapshot &snapshot)
{
    const auto id = static_cast<std::size_t>(target.backendId);
    const double health = id < snapshot.backends.size() ? snapshot.backends[id].healthWeight : 1.0;
    return target.weight * health;
}

inline const BackendState &stateOf(const PolicyTarget &target, const BackendSnapshot &snapshot)
{
    static const BackendState unknown;
    const auto id = static_cast<std::size_t>(target.backendId);
    return id < snapshot.backends.size() ? snapshot.backends[id] : unknown;
}

} // namespace Gateway::Routing
