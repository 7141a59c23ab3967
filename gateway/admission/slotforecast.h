#pragma once

#include <QtGlobal>

#include <functional>
#include <queue>
#include <set>
#include <vector>

namespace Gateway::Admission {

// Forecasts when waiting requests will get a slot by replaying the queue order onto the
// slots' expected free times (list scheduling, Graham 1966): the next request in order
// takes the slot that frees first and holds it for its expected hold time, which moves
// that slot's free time on.
//
// In the fluid limit (many slots, small requests) the start of a waiter is "tokens ahead
// / drain rate"; replaying the order adds what that average misses at the head of the
// queue: the wait for the first slot to free, and a burst that took every slot at once.
//
// Built per prediction pass from the queue's state, never stored. Not thread-safe.
class SlotForecast {
public:
    // expectedFreesMs: expected finish (absolute ms) of every ticket in use, ascending.
    // With more tickets than slots (the slot count shrank), the surplus must finish before
    // any slot is free; with fewer, the rest of the slots are free now. Overdue finishes
    // count as "now": such a request may end any moment.
    SlotForecast(const std::multiset<qint64> &expectedFreesMs, int slotCount, qint64 nowMs);

    bool hasSlots() const { return !m_freeAtMs.empty(); }
    // Ms from now until the next request in order would start.
    double nextStartMs() const;
    // The next request in order starts (at nextStartMs()) and holds its slot `holdMs`.
    void take(double holdMs);

private:
    std::priority_queue<double, std::vector<double>, std::greater<>> m_freeAtMs; // ms from now
};

} // namespace Gateway::Admission
