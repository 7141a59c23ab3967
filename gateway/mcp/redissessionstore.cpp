#include "redissessionstore.h"

#include "shared/threadconnections.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <vector>

namespace Gateway::Mcp {

namespace {

QByteArray redisKey(const QString &server, const QByteArray &sessionId)
{
    return QByteArrayLiteral("switchyard:mcp:") + server.toUtf8() + ':' + sessionId;
}

// "<url>\n<key name>": URLs never hold a line break.
QByteArray encode(const SessionOwner &owner)
{
    return owner.upstreamUrl + '\n' + owner.keyName.toUtf8();
}

SessionOwner decode(const QByteArray &value)
{
    const qsizetype newline = value.indexOf('\n');
    if (newline < 0) {
        return {value, {}};
    }
    return {value.left(newline), QString::fromUtf8(value.mid(newline + 1))};
}

} // namespace

RedisSessionStore::RedisSessionStore(LocalSessionStore &local, Settings settings)
    : m_local {local}
    , m_settings {std::move(settings)}
    , m_id {Shared::newStoreId()}
{
    connectOnce();
    m_reconnector = std::thread([this] { reconnectLoop(); });
}

RedisSessionStore::~RedisSessionStore()
{
    {
        const std::lock_guard lock {m_mutex};
        m_stopping = true;
    }
    m_wake.notify_all();
    m_reconnector.join();
}

bool RedisSessionStore::connectOnce()
{
    Shared::RedisEndpoint resolved = m_settings.endpoint;
    resolved.host = Shared::numericHost(resolved.host);
    QString error;
    auto connection = Shared::RedisConnection::open(resolved, m_settings.timeouts, error);
    if (!connection) {
        return false;
    }
    const Shared::ReplyPtr pong = connection->command({QByteArrayLiteral("PING")});
    if (!pong || Shared::isErrorReply(pong.get())) {
        return false;
    }
    {
        const std::lock_guard lock {m_mutex};
        m_resolved = resolved;
    }
    m_generation.fetch_add(1, std::memory_order_acq_rel);
    m_up.store(true, std::memory_order_release);
    return true;
}

void RedisSessionStore::reconnectLoop()
{
    std::unique_lock lock {m_mutex};
    while (!m_stopping) {
        m_wake.wait_for(lock, std::chrono::milliseconds(m_settings.retryIntervalMs));
        if (m_stopping || m_up.load(std::memory_order_acquire)) {
            continue;
        }
        lock.unlock();
        connectOnce();
        lock.lock();
    }
}

Shared::RedisConnection *RedisSessionStore::workerConnection(quint64 &generation)
{
    if (!m_up.load(std::memory_order_acquire)) {
        return nullptr;
    }
    generation = m_generation.load(std::memory_order_acquire);
    QString error;
    Shared::RedisConnection *connection = Shared::threadConnection(
        m_id, generation,
        [this](QString &why) {
            Shared::RedisEndpoint endpoint;
            {
                const std::lock_guard lock {m_mutex};
                endpoint = m_resolved;
            }
            return Shared::RedisConnection::open(endpoint, m_settings.timeouts, why);
        },
        error);
    if (!connection) {
        markDown(generation);
    }
    return connection;
}

void RedisSessionStore::markDown(quint64 generation)
{
    m_errors.fetch_add(1, std::memory_order_relaxed);
    // A failure on a connection of an earlier generation says nothing about the new one.
    if (generation != m_generation.load(std::memory_order_acquire)) {
        return;
    }
    m_up.store(false, std::memory_order_release);
    m_wake.notify_all();
}

void RedisSessionStore::put(const QString &server, const QByteArray &sessionId, const SessionOwner &owner, qint64 ttlMs)
{
    m_local.put(server, sessionId, owner, ttlMs);
    quint64 generation = 0;
    if (Shared::RedisConnection *connection = workerConnection(generation)) {
        const Shared::ReplyPtr reply = connection->command({QByteArrayLiteral("SET"), redisKey(server, sessionId),
                                                            encode(owner), QByteArrayLiteral("PX"),
                                                            QByteArray::number(ttlMs)});
        if (!reply || Shared::isErrorReply(reply.get())) {
            markDown(generation);
        }
    }
}

std::optional<SessionOwner> RedisSessionStore::find(const QString &server, const QByteArray &sessionId, qint64 ttlMs)
{
    quint64 generation = 0;
    if (Shared::RedisConnection *connection = workerConnection(generation)) {
        // GETEX renews the TTL in the same round trip (Redis 6.2+).
        const Shared::ReplyPtr reply = connection->command(
            {QByteArrayLiteral("GETEX"), redisKey(server, sessionId), QByteArrayLiteral("PX"), QByteArray::number(ttlMs)});
        if (reply && reply->type == REDIS_REPLY_NIL) {
            // Ended or expired, possibly through another gateway.
            m_local.remove(server, sessionId);
            return std::nullopt;
        }
        if (reply && reply->type == REDIS_REPLY_STRING) {
            const SessionOwner owner = decode(QByteArray(reply->str, static_cast<qsizetype>(reply->len)));
            m_local.put(server, sessionId, owner, ttlMs);
            return owner;
        }
        markDown(generation);
    }
    return m_local.find(server, sessionId, ttlMs);
}

void RedisSessionStore::remove(const QString &server, const QByteArray &sessionId)
{
    m_local.remove(server, sessionId);
    quint64 generation = 0;
    if (Shared::RedisConnection *connection = workerConnection(generation)) {
        const Shared::ReplyPtr reply = connection->command({QByteArrayLiteral("DEL"), redisKey(server, sessionId)});
        if (!reply || Shared::isErrorReply(reply.get())) {
            markDown(generation);
        }
    }
}

} // namespace Gateway::Mcp
