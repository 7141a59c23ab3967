#pragma once

#include "routepolicy.h"

#include <atomic>
#include <cstdint>

namespace Gateway::Routing {

// Strategy `round_robin`: rotates through the candidates in index order, ignoring weights.
// Each pick takes the next ticket of a shared cursor and starts at candidate
// ticket % candidateCount; further choices are the candidates that follow it (wrapping).
// When the candidate set changes the rotation simply continues over the new set.
//
// Scores (explain): each candidate's distance from this pick's start (0 = first choice).
//
// Thread safety: the cursor is a std::atomic incremented with fetch_add, so concurrent
// picks get distinct tickets and the rotation stays exact without a lock. Relaxed order
// suffices: the cursor guards no other data.
class RoundRobinPolicy final : public RoutePolicy {
public:
    std::string_view name() const override { return "round_robin"; }
    void rank(const RankInput &input, Rng &rng, Ranking &out) const override;

private:
    mutable std::atomic<std::uint64_t> m_cursor {0};
};

} // namespace Gateway::Routing
