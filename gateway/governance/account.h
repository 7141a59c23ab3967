#pragma once

#include "limits.h"
#include "refusal.h"
#include "tokenbucket.h"

#include <QString>

#include <mutex>
#include <optional>

namespace Gateway::Governance {

// What an account has used in its current windows, for metrics and the admin API.
struct AccountUsage {
    qint64 dayNanos = 0;
    qint64 dayTokens = 0;
    qint64 monthNanos = 0;
    qint64 monthTokens = 0;
    qint64 reservedNanos = 0;
    qint64 reservedTokens = 0;
    qint64 inFlight = 0;
};

// The live state of one virtual key or one team: its minute buckets, requests in
// flight, and spend in the current UTC day and month (committed, plus reservations not
// yet settled). Lives for the process (LocalLimitStore), so policy changes never reset
// spend; limits are passed in on every call, and a bucket whose limit changed starts
// over full.
//
// Every method except name()/isTeam() requires mutex() to be held: a reservation over a
// key and its team holds both (key first, then team: a fixed order, so no deadlock) to
// check every limit before committing any.
class Account final {
public:
    Account(QString name, bool team) : m_name {std::move(name)}, m_team {team} {}
    Account(const Account &) = delete;
    Account &operator=(const Account &) = delete;

    const QString &name() const { return m_name; }
    bool isTeam() const { return m_team; }
    std::mutex &mutex() { return m_mutex; }

    // The first limit that `tokens` and `costNanos` more would break, if any.
    std::optional<Refusal> check(const AccountLimits &limits, qint64 tokens, qint64 costNanos, qint64 nowMs);
    void commit(qint64 tokens, qint64 costNanos);
    // Replaces a reservation's estimate with the real usage (concurrency slot given back,
    // buckets corrected, spend committed); alerts for budgets whose soft limit this
    // crossed go into `alerts`.
    void settle(const AccountLimits &limits, qint64 estimatedTokens, qint64 estimatedNanos, qint64 actualTokens,
                qint64 actualNanos, qint64 nowMs, SettleAlerts &alerts);
    // Spend recovered from the journal at start-up (this day's and month's totals).
    void seed(const AccountUsage &spent, qint64 nowMs);
    // Spend of a request whose limits were held elsewhere (a shared store): committed to
    // the day and month so this process always knows its own spend, with no effect on
    // rates, reservations or alerts.
    void addCommitted(qint64 tokens, qint64 nanos, qint64 nowMs);
    AccountUsage usage(qint64 nowMs);

private:
    struct Window {
        qint64 id = -1;
        qint64 nanos = 0;
        qint64 tokens = 0;
        bool usdAlerted = false;
        bool tokensAlerted = false;
        // Recovered from the journal at start-up: a threshold this already passed was
        // alerted on before the restart and is not alerted again.
        qint64 seededNanos = 0;
        qint64 seededTokens = 0;
    };
    void roll(qint64 nowMs);
    void syncBuckets(const RateLimits &rates, qint64 nowMs);
    void alertIfCrossed(const Budgets &budgets, Window &window, bool day, qint64 nowMs, SettleAlerts &alerts);

    const QString m_name;
    const bool m_team;
    std::mutex m_mutex;
    TokenBucket m_requests;
    TokenBucket m_tokens;
    qint64 m_inFlight = 0;
    qint64 m_reservedNanos = 0;
    qint64 m_reservedTokens = 0;
    Window m_day;
    Window m_month;
};

} // namespace Gateway::Governance
