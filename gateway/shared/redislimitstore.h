#pragma once

#include "outagebacklog.h"
#include "redisconnection.h"
#include "redisendpoint.h"

#include "governance/limitstore.h"
#include "governance/locallimitstore.h"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace Gateway::Shared {

// What the console, the metrics and the admin state show about the shared store.
struct RedisStatus {
    QString endpoint;     // redis://host:port/db, never the password
    bool up = false;
    qint64 changedAtMs = 0; // when it last went up or down (epoch ms)
    QString lastError;
    quint64 sharedReservations = 0;   // reserved in Redis
    quint64 fallbackReservations = 0; // reserved locally because Redis was down
    quint64 errors = 0;               // connections or commands that failed
    quint64 reconnects = 0;           // outages ended (usage pushed back)
    quint64 backlogEntries = 0;       // key/team/day sums waiting for Redis
};

// An up/down transition, for the event log.
struct RedisTransition {
    bool up = false;
    QString endpoint;
    QString error;         // why it went down
    int pushedEntries = 0; // up: backlog sums pushed
    int resyncedAccounts = 0; // up: accounts whose whole spend was pushed (Redis had lost its data)
};

// Limits, budgets and reservations shared by every gateway pointing at one Redis.
//
// Each data-plane worker thread owns one blocking hiredis connection with short
// timeouts; reserve and settle are one EVALSHA each. While Redis is unreachable the
// store serves on `local` (the in-process store it wraps and binds subjects to) without
// trying Redis on the request path; its own thread reconnects every retry interval,
// pushes the usage settled meanwhile, and only then lets the workers back. Every
// settlement is also recorded in `local` (Account::addCommitted), so this process always
// knows its own spend: what it enforces during an outage, and what it gives back to a
// Redis that came back empty. docs/GOVERNANCE.md states what an outage can cost.
class RedisLimitStore final : public Governance::LimitStore {
public:
    struct Settings {
        RedisEndpoint endpoint;
        RedisConnection::Timeouts timeouts;
        int retryIntervalMs = 1000;
        std::function<qint64()> wallClockMs; // empty = the system clock
    };
    using TransitionHandler = std::function<void(const RedisTransition &)>;

    // Connects once before returning (so a gateway starts on shared state when Redis is
    // there), then keeps reconnecting on its own thread whenever Redis is down.
    RedisLimitStore(Governance::LocalLimitStore &local, Settings settings, TransitionHandler onTransition);
    ~RedisLimitStore() override;
    RedisLimitStore(const RedisLimitStore &) = delete;
    RedisLimitStore &operator=(const RedisLimitStore &) = delete;

    void bind(Governance::Subject &subject) override;
    bool reserve(const Governance::Subject *subject, qint64 tokens, qint64 costNanos, qint64 nowMs,
                 Governance::Reservation &out, Governance::Refusal &refusal) override;
    void settle(Governance::Reservation &reservation, qint64 actualTokens, qint64 actualNanos, qint64 nowMs,
                Governance::SettleAlerts &alerts) override;

    bool isUp() const { return m_up.load(std::memory_order_acquire); }
    RedisStatus status() const;

private:
    enum class Outcome { Admitted, Refused, Failed };

    // This thread's connection, opened on first use and after each outage; null (and
    // the store marked down) when Redis cannot be reached.
    RedisConnection *workerConnection(quint64 &generation);
    void markDown(quint64 generation, const QString &error);
    Outcome reserveShared(RedisConnection &connection, const Governance::Subject &subject, qint64 tokens,
                          qint64 costNanos, qint64 nowMs, Governance::Refusal &refusal);
    bool applyShared(RedisConnection &connection, const Governance::Subject *subject, const BacklogEntry &usage,
                     qint64 monthTokens, qint64 monthNanos, Governance::SettleAlerts *alerts);
    // Usage that Redis must see: straight away when it is up, else into the backlog.
    void deliver(const BacklogEntry &usage);

    void reconnectLoop();
    // Connects, pushes what Redis missed, and marks the store up; false if Redis failed.
    bool connectAndReconcile();
    qint64 nowMs() const;

    Governance::LocalLimitStore &m_local;
    const Settings m_settings;
    const TransitionHandler m_onTransition;
    const quint64 m_id; // names this store's connections in each worker's thread-local list
    QByteArray m_epoch; // Redis's data generation when last seen; reconnect thread only

    std::atomic<bool> m_up {false};
    std::atomic<quint64> m_generation {0}; // bumped each time the store goes up
    std::atomic<quint64> m_sharedReservations {0};
    std::atomic<quint64> m_fallbackReservations {0};
    std::atomic<quint64> m_errors {0};
    std::atomic<quint64> m_reconnects {0};

    // Held while deciding "Redis is down, so the backlog takes this" against "the backlog
    // is empty, so Redis is up": nothing settles into a backlog nobody will push.
    std::mutex m_handoverMutex;
    OutageBacklog m_backlog;

    mutable std::mutex m_stateMutex; // guards the three below and the wake-up
    // The endpoint with its host name resolved by the reconnect thread: workers connect
    // to an address and never wait on DNS.
    RedisEndpoint m_resolved;
    QString m_lastError;
    qint64 m_changedAtMs = 0;
    std::condition_variable m_wake;
    bool m_stopping = false;
    std::thread m_reconnector;
};

} // namespace Gateway::Shared
