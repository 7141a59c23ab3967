#pragma once

#include <QtGlobal>

namespace Gateway::Governance {

// A per-minute limit as a token bucket (capacity = the limit, refilled continuously at
// limit/60 s), so a client may burst up to its minute's allowance and then proceeds at
// the limit's pace; unlike a fixed window, two bursts cannot meet at a minute boundary.
//
// Levels are kept in units of 1/60000 so that one millisecond refills exactly `limit`
// of them: all integer arithmetic, no drift. Not thread-safe (Account locks).
//
// Reservations are corrected later: adjust() takes (or gives back) the difference
// between the estimate and the real usage, and may leave the level below zero; the
// debt is then paid by waiting, which is what makes a bad estimate self-correcting.
class TokenBucket final {
public:
    // Time refill starts from; a fresh bucket is full.
    void reset(qint64 limitPerMinute, qint64 nowMs);

    qint64 limit() const { return m_limit; }
    // Whether `amount` can be taken now. A full bucket always admits, even an amount
    // larger than the whole limit (one request bigger than tpm would otherwise never
    // pass); it then runs into debt.
    bool canTake(qint64 amount, qint64 nowMs);
    void take(qint64 amount) { m_level -= amount * SCALE; }
    // Positive: more was used than reserved; negative: a refund (never above capacity).
    void adjust(qint64 delta);
    // Milliseconds until `amount` can be taken (0 when it can now).
    qint64 waitMs(qint64 amount, qint64 nowMs);
    // Whole units available now (may be negative while in debt).
    qint64 available(qint64 nowMs);

private:
    static constexpr qint64 SCALE = 60'000; // ms per minute
    void refill(qint64 nowMs);

    qint64 m_limit = 0; // 0 = unlimited
    qint64 m_level = 0; // scaled
    qint64 m_lastMs = 0;
};

} // namespace Gateway::Governance
