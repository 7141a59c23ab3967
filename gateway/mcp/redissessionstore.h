#pragma once

#include "localsessionstore.h"
#include "sessionstore.h"

#include "shared/redisconnection.h"
#include "shared/redisendpoint.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace Gateway::Mcp {

// The session table in Redis, so every gateway on the same Redis routes a session to the
// upstream that owns it. The same pattern as Shared::RedisLimitStore: each worker thread
// owns a blocking hiredis connection with short timeouts (one command per call: SET,
// GETEX or DEL); while Redis is unreachable the store serves on the local table without
// trying Redis on the request path, and its own thread reconnects every retry interval.
// Every entry is mirrored in the local table, which is what an outage serves from and
// what switchyard_mcp_sessions counts (the sessions this gateway has seen).
class RedisSessionStore final : public SessionStore {
public:
    struct Settings {
        Shared::RedisEndpoint endpoint;
        Shared::RedisConnection::Timeouts timeouts;
        int retryIntervalMs = 1000;
    };

    // Connects once before returning, then keeps reconnecting on its own thread whenever
    // Redis is down.
    RedisSessionStore(LocalSessionStore &local, Settings settings);
    ~RedisSessionStore() override;
    RedisSessionStore(const RedisSessionStore &) = delete;
    RedisSessionStore &operator=(const RedisSessionStore &) = delete;

    void put(const QString &server, const QByteArray &sessionId, const SessionOwner &owner, qint64 ttlMs) override;
    std::optional<SessionOwner> find(const QString &server, const QByteArray &sessionId, qint64 ttlMs) override;
    void remove(const QString &server, const QByteArray &sessionId) override;

    bool isUp() const { return m_up.load(std::memory_order_acquire); }
    quint64 errors() const { return m_errors.load(std::memory_order_relaxed); }

private:
    // This thread's connection; null (and the store marked down) when Redis cannot be
    // reached, or while it is down.
    Shared::RedisConnection *workerConnection(quint64 &generation);
    void markDown(quint64 generation);
    bool connectOnce();
    void reconnectLoop();

    LocalSessionStore &m_local;
    const Settings m_settings;
    const quint64 m_id; // names this store's connections in each worker's thread-local list

    std::atomic<bool> m_up {false};
    std::atomic<quint64> m_generation {0};
    std::atomic<quint64> m_errors {0};

    std::mutex m_mutex; // guards the three below
    Shared::RedisEndpoint m_resolved; // host resolved by the reconnect thread
    std::condition_variable m_wake;
    bool m_stopping = false;
    std::thread m_reconnector;
};

} // namespace Gateway::Mcp
