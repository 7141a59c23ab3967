#pragma once

#include "routepolicy.h"

#include <cstdint>
#include <mutex>
#include <vector>

namespace Gateway::Routing {

// Strategy `weighted`: smooth weighted round robin as in nginx (ngx_http_upstream_round_robin):
// on each pick every candidate's current value grows by its effective weight, the largest
// is chosen (lowest index on ties) and loses the candidates' total weight. Over any
// sum(weights) consecutive picks each target is chosen exactly in proportion to its
// weight, and the picks are interleaved (5,1,1 gives a a b a c a a, not a a a a a b c).
//
// State is one current value per target index. Targets that are not candidates for a pick
// (unhealthy, filtered) keep their value untouched, so they resume where they left off.
// Weights are turned into fixed-point integers (WEIGHT_SCALE units per 1.0) so the
// arithmetic is exact and the cycle never drifts, whatever the pick count.
//
// Scores (explain): each candidate's current value after adding its weight for this pick
// (what was compared), in weight units. Further choices (maxChoices > 1) are the other
// candidates by descending current value; they change no state.
//
// Thread safety: the state is guarded by a std::mutex. Each pick reads and writes every
// candidate's value and must see the result of the previous pick, or the exact cycle is
// lost; per-value atomics cannot give that, and a lock-free copy-on-write of the whole
// vector would allocate per pick. The critical section is a few dozen integer additions
// and no allocation, so an uncontended lock costs tens of nanoseconds.
class SmoothWeightedPolicy final : public RoutePolicy {
public:
    // 1.0 of weight in fixed point: enough resolution for health-ramp fractions.
    static constexpr double WEIGHT_SCALE = 65536.0;
    // Weights above 65536 are capped (in fixed point), which keeps every current value far
    // from int64 overflow even with thousands of targets.
    static constexpr std::int64_t MAX_SCALED_WEIGHT = std::int64_t {1} << 32;

    explicit SmoothWeightedPolicy(const std::vector<PolicyTarget> &targets);

    std::string_view name() const override { return "weighted"; }
    void rank(const RankInput &input, Rng &rng, Ranking &out) const override;

private:
    // A state value this large can only come from a misbehaving caller (e.g. a different
    // target list every call): start the cycle over rather than risk overflow.
    static constexpr std::int64_t STATE_RESET_LIMIT = std::int64_t {1} << 61;

    mutable std::mutex m_mutex;
    mutable std::vector<std::int64_t> m_current; // guarded by m_mutex; per target index
};

} // namespace Gateway::Routing
