#include "locallimitstore.h"

namespace Gateway::Governance {

Account &LocalLimitStore::account(const QString &name, bool team)
{
    auto &accounts = team ? m_teams : m_keys;
    auto it = accounts.find(name);
    if (it == accounts.end()) {
        it = accounts.emplace(name, std::make_unique<Account>(name, team)).first;
    }
    return *it->second;
}

void LocalLimitStore::bind(Subject &subject)
{
    const std::lock_guard lock {m_registryMutex};
    subject.keyAccount = subject.key.isEmpty() ? nullptr : &account(subject.key, false);
    subject.teamAccount = subject.team.isEmpty() ? nullptr : &account(subject.team, true);
}

bool LocalLimitStore::reserve(const Subject *subject, qint64 tokens, qint64 costNanos, qint64 nowMs, Reservation &out,
                              Refusal &refusal)
{
    out = Reservation {};
    Account *key = subject ? subject->keyAccount : nullptr;
    Account *team = subject ? subject->teamAccount : nullptr;
    // Key before team, always: the fixed order rules out deadlock between requests.
    std::unique_lock<std::mutex> keyLock;
    std::unique_lock<std::mutex> teamLock;
    if (key) {
        keyLock = std::unique_lock {key->mutex()};
        if (auto refused = key->check(subject->keyLimits, tokens, costNanos, nowMs)) {
            refusal = std::move(*refused);
            return false;
        }
    }
    if (team) {
        teamLock = std::unique_lock {team->mutex()};
        if (auto refused = team->check(subject->teamLimits, tokens, costNanos, nowMs)) {
            refusal = std::move(*refused);
            return false;
        }
    }
    if (key) {
        key->commit(tokens, costNanos);
    }
    if (team) {
        team->commit(tokens, costNanos);
    }
    out.id = takeReservationId();
    out.subject = subject;
    out.tokens = tokens;
    out.costNanos = costNanos;
    out.active = true;
    return true;
}

void LocalLimitStore::settle(Reservation &reservation, qint64 actualTokens, qint64 actualNanos, qint64 nowMs,
                             SettleAlerts &alerts)
{
    if (!reservation.active) {
        return;
    }
    reservation.active = false;
    const Subject *subject = reservation.subject;
    if (!subject) {
        return;
    }
    // One account at a time: settling needs no all-or-nothing view.
    if (Account *key = subject->keyAccount) {
        const std::lock_guard lock {key->mutex()};
        key->settle(subject->keyLimits, reservation.tokens, reservation.costNanos, actualTokens, actualNanos, nowMs,
                    alerts);
    }
    if (Account *team = subject->teamAccount) {
        const std::lock_guard lock {team->mutex()};
        team->settle(subject->teamLimits, reservation.tokens, reservation.costNanos, actualTokens, actualNanos, nowMs,
                     alerts);
    }
}

void LocalLimitStore::record(const Subject *subject, qint64 actualTokens, qint64 actualNanos, qint64 nowMs)
{
    if (!subject) {
        return;
    }
    for (Account *account : {subject->keyAccount, subject->teamAccount}) {
        if (account) {
            const std::lock_guard lock {account->mutex()};
            account->addCommitted(actualTokens, actualNanos, nowMs);
        }
    }
}

void LocalLimitStore::seed(const RecoveredSpend &recovered, qint64 nowMs)
{
    const std::lock_guard lock {m_registryMutex};
    for (const SpendTotal &total : recovered.totals) {
        Account &target = account(total.name, total.team);
        const std::lock_guard accountLock {target.mutex()};
        AccountUsage spent;
        spent.dayNanos = total.dayNanos;
        spent.dayTokens = total.dayTokens;
        spent.monthNanos = total.monthNanos;
        spent.monthTokens = total.monthTokens;
        target.seed(spent, nowMs);
    }
    quint64 current = m_nextId.load();
    while (current < recovered.nextReservationId && !m_nextId.compare_exchange_weak(current, recovered.nextReservationId)) {
    }
}

std::vector<AccountSnapshot> LocalLimitStore::snapshots(qint64 nowMs) const
{
    const std::lock_guard lock {m_registryMutex};
    std::vector<AccountSnapshot> out;
    out.reserve(m_keys.size() + m_teams.size());
    for (const auto *accounts : {&m_keys, &m_teams}) {
        for (const auto &[name, account] : *accounts) {
            const std::lock_guard accountLock {account->mutex()};
            out.push_back({account->isTeam(), name, account->usage(nowMs)});
        }
    }
    return out;
}

} // namespace Gateway::Governance
