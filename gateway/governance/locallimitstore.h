#pragma once

#include "account.h"
#include "limitstore.h"
#include "spendjournal.h"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace Gateway::Governance {

// One key's or team's state, for metrics and the console.
struct AccountSnapshot {
    bool team = false;
    QString name;
    AccountUsage usage;
};

// Limit state in this process: one Account per key name and per team name, kept for the
// life of the process (so a policy apply never resets spend or rates). The hot path
// locks only the accounts of the request's own key and team; different keys never
// contend. bind() and snapshots() take the registry lock (control plane).
class LocalLimitStore final : public LimitStore {
public:
    LocalLimitStore() = default;
    LocalLimitStore(const LocalLimitStore &) = delete;
    LocalLimitStore &operator=(const LocalLimitStore &) = delete;

    void bind(Subject &subject) override;
    bool reserve(const Subject *subject, qint64 tokens, qint64 costNanos, qint64 nowMs, Reservation &out,
                 Refusal &refusal) override;
    void settle(Reservation &reservation, qint64 actualTokens, qint64 actualNanos, qint64 nowMs,
                SettleAlerts &alerts) override;

    // The real usage of a request whose limits a shared store held: added to this
    // process's own day and month spend (what it falls back on, and what it gives a
    // shared store that lost its data), touching no rate, reservation or alert.
    void record(const Subject *subject, qint64 actualTokens, qint64 actualNanos, qint64 nowMs);
    // The next reservation id (shared stores number their reservations from here too).
    quint64 takeReservationId() { return m_nextId.fetch_add(1, std::memory_order_relaxed); }

    // Start-up: spend recovered from the journal, and where ids continue.
    void seed(const RecoveredSpend &recovered, qint64 nowMs);
    std::vector<AccountSnapshot> snapshots(qint64 nowMs) const;

private:
    Account &account(const QString &name, bool team);

    mutable std::mutex m_registryMutex;
    std::map<QString, std::unique_ptr<Account>> m_keys;  // guarded by m_registryMutex
    std::map<QString, std::unique_ptr<Account>> m_teams; // guarded by m_registryMutex
    std::atomic<quint64> m_nextId {1};
};

} // namespace Gateway::Governance
