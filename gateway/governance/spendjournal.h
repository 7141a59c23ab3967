#pragma once

#include <QByteArray>
#include <QString>

#include <vector>

namespace Gateway::Governance {

// A reservation as journaled: what was held against the budgets before forwarding.
struct ReservationRecord {
    quint64 id = 0;
    qint64 atMs = 0; // Unix epoch ms
    QString key;
    QString team;
    QByteArray route;
    qint64 tokens = 0;
    qint64 costNanos = 0;
};

// A settlement: the real usage that replaced reservation `id`.
struct SettlementRecord {
    quint64 id = 0;
    qint64 atMs = 0;
    QString key;
    QString team;
    QByteArray route;
    QByteArray backend; // "provider/model" that answered; empty if none did
    qint64 inputTokens = 0;
    qint64 cachedInputTokens = 0;
    qint64 outputTokens = 0;
    qint64 costNanos = 0;
    // True when the usage is an estimate (no usage reported: cancelled, or recovered
    // after a crash at the reservation's estimate).
    bool estimated = false;
};

// Where the data plane journals spend so that it survives restarts. Implemented by the
// store (storage/), which writes in batches on its own thread: both calls must return
// at once and never fail the request. What can be lost in a crash is documented by the
// implementation (at most one flush interval).
class SpendJournal {
public:
    virtual ~SpendJournal() = default;
    virtual void reserved(ReservationRecord &&record) = 0;
    virtual void settled(SettlementRecord &&record) = 0;
};

// One key's or team's spend in the current UTC day and month, as the journal holds it.
struct SpendTotal {
    bool team = false;
    QString name;
    qint64 dayNanos = 0;
    qint64 dayTokens = 0;
    qint64 monthNanos = 0;
    qint64 monthTokens = 0;
};

// What start-up recovers from the journal: current spend per key and team (open
// reservations of a crashed run already settled at their estimate) and where
// reservation ids continue.
struct RecoveredSpend {
    std::vector<SpendTotal> totals;
    quint64 nextReservationId = 1;
    int reconciledReservations = 0; // open reservations found and settled at their estimate
};

} // namespace Gateway::Governance
