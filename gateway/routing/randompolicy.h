#pragma once

#include "routepolicy.h"

#include <cstddef>

namespace Gateway::Routing {

// Strategy `random`: weighted random ranking without replacement. The first choice is
// target i with probability w_i / sum(w) (effective weights), and each further choice is
// drawn the same way among the candidates not yet taken (successive sampling): the same
// distribution as the Efraimidis & Spirakis key method ("Weighted random sampling with a
// reservoir", 2006, key = u^(1/w)), but without one draw and one log() per candidate.
//
// Cost: one pass builds prefix sums of the weights; each choice is one draw and a binary
// search. A further choice that lands on a target already taken is redrawn (rejection
// keeps the conditional distribution exact); after MAX_REJECTIONS misses (when the taken
// targets hold most of the weight) it draws exactly over the remaining ones in one scan.
// So ranking maxChoices of n candidates costs O(n + maxChoices log n) in the usual case
// and O(maxChoices * n) at worst (a full ranking of many targets).
//
// Scores (explain): each candidate's first-choice probability w_i / sum(w).
// Stateless: safe to share between threads.
class RandomPolicy final : public RoutePolicy {
public:
    std::string_view name() const override { return "random"; }
    void rank(const RankInput &input, Rng &rng, Ranking &out) const override;

    // Redraws before a further choice falls back to an exact scan of the remaining targets.
    static constexpr int MAX_REJECTIONS = 4;
    // Candidates whose weights fit in stack arrays; larger routes allocate once per call.
    static constexpr std::size_t INLINE_CANDIDATES = 64;
};

} // namespace Gateway::Routing
