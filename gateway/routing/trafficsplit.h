#pragma once

#include "rng.h"

#include <QByteArrayView>

#include <cstdint>
#include <span>
#include <vector>

namespace Gateway::Routing {

// A traffic split (A/B test, gradual roll-out): assigns each request to one arm, with
// arm i taking share_i of the traffic.
//
// Sticky assignment: the sticky key (session, user or virtual key) is hashed with
// SessionHashPolicy::hashKey, a stable 64-bit hash (the same on every worker, process
// and restart), to a position u in [0, 1); the arm is the first whose cumulative share
// exceeds u. So a key keeps its arm for as long as the shares stay, and when shares
// change only the keys whose position falls in the moved interval change arm: raising a
// last (or first) arm from 0.1 to 0.2 moves exactly the keys in [0.8, 0.9) (or
// [0.1, 0.2)), about 10% of them, all into that arm. Arms keep their configured order
// for this reason; reordering arms reshuffles assignments.
//
// The salt (the route's name) separates splits on different routes: a user's arm in one
// experiment says nothing about their arm in another.
//
// Without a key (sticky: none, or the request carries none) the position is drawn from
// the injected Rng, so each request is assigned independently.
//
// Immutable after construction; pick() is const and allocation-free.
class TrafficSplit final {
public:
    enum class Sticky { Session, User, VirtualKey, None };

    // shares: > 0 each; normalised by their sum, which the config requires to be 1.
    TrafficSplit(std::span<const double> shares, Sticky sticky, QByteArrayView salt = {});

    // The arm for this request: by its sticky key, or at random when the key is empty.
    int pick(QByteArrayView stickyKey, Rng &rng) const;
    // The arm at a position in [0, 1).
    int armAt(double position) const;
    // The stable position of a sticky key in [0, 1).
    double position(QByteArrayView stickyKey) const;

    Sticky sticky() const { return m_sticky; }
    std::size_t arms() const { return m_cumulative.size(); }

private:
    std::vector<double> m_cumulative; // last entry is exactly 1
    Sticky m_sticky;
    std::uint64_t m_seed;
};

} // namespace Gateway::Routing
