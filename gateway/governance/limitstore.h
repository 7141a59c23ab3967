#pragma once

#include "refusal.h"
#include "subject.h"

#include <QtGlobal>

namespace Gateway::Governance {

// A request's claim on its subject's limits, from reserve() to settle(). The estimate is
// held against rates and budgets until the real usage replaces it.
struct Reservation {
    quint64 id = 0; // unique across restarts (seeded from the journal)
    const Subject *subject = nullptr;
    qint64 tokens = 0;    // estimated prompt + completion tokens
    qint64 costNanos = 0; // estimated cost
    bool active = false;  // reserved and not yet settled
    bool shared = false;  // held in the shared (Redis) store, not in this process
};

// Where limit state lives. The local implementation keeps it in this process; a shared
// one (Redis) can implement the same two calls so several gateways enforce one limit.
// Both calls are on the data plane: they must not block on I/O for long and must be
// safe from every worker thread at once. Time is passed in (Unix epoch ms), never read.
class LimitStore {
public:
    virtual ~LimitStore() = default;

    // Resolves a subject's state handles once, when a policy is compiled.
    virtual void bind(Subject &subject) = 0;
    // Checks every limit of the subject (key, then team) against one more request of
    // `tokens` and `costNanos`; either all are charged and `out` is active, or nothing
    // is and `refusal` says which limit.
    virtual bool reserve(const Subject *subject, qint64 tokens, qint64 costNanos, qint64 nowMs, Reservation &out,
                         Refusal &refusal) = 0;
    // Replaces the estimate with the real usage; idempotent (a settled reservation is
    // inactive). Soft-limit crossings go into `alerts`.
    virtual void settle(Reservation &reservation, qint64 actualTokens, qint64 actualNanos, qint64 nowMs,
                        SettleAlerts &alerts) = 0;
};

} // namespace Gateway::Governance
