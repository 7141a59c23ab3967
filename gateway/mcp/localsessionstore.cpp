#include "localsessionstore.h"

#include <QMutexLocker>

#include <algorithm>
#include <chrono>
#include <vector>

namespace Gateway::Mcp {

namespace {

QByteArray entryKey(const QString &server, const QByteArray &sessionId)
{
    return server.toUtf8() + '\n' + sessionId;
}

} // namespace

LocalSessionStore::LocalSessionStore(qsizetype maxSessions, std::function<qint64()> nowMs)
    : m_maxSessions {std::max<qsizetype>(1, maxSessions)}
    , m_nowMs {std::move(nowMs)}
{
}

qint64 LocalSessionStore::now() const
{
    if (m_nowMs) {
        return m_nowMs();
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

void LocalSessionStore::put(const QString &server, const QByteArray &sessionId, const SessionOwner &owner, qint64 ttlMs)
{
    const qint64 nowMs = now();
    const QByteArray key = entryKey(server, sessionId);
    const QMutexLocker lock {&m_mutex};
    if (!m_entries.contains(key) && m_entries.size() >= m_maxSessions) {
        makeRoom(nowMs);
    }
    m_entries.insert(key, Entry {server, owner, nowMs + ttlMs});
}

std::optional<SessionOwner> LocalSessionStore::find(const QString &server, const QByteArray &sessionId, qint64 ttlMs)
{
    const qint64 nowMs = now();
    const QMutexLocker lock {&m_mutex};
    const auto it = m_entries.find(entryKey(server, sessionId));
    if (it == m_entries.end()) {
        return std::nullopt;
    }
    if (it->expiresAtMs <= nowMs) {
        m_entries.erase(it);
        return std::nullopt;
    }
    it->expiresAtMs = nowMs + ttlMs;
    return it->owner;
}

void LocalSessionStore::remove(const QString &server, const QByteArray &sessionId)
{
    const QMutexLocker lock {&m_mutex};
    m_entries.remove(entryKey(server, sessionId));
}

void LocalSessionStore::makeRoom(qint64 nowMs)
{
    m_entries.removeIf([nowMs](const auto &entry) { return entry.value().expiresAtMs <= nowMs; });
    if (m_entries.size() < m_maxSessions) {
        return;
    }
    // Still full of live sessions: drop the tenth closest to expiry (the idlest), so the
    // next inserts do not each pay for a scan.
    std::vector<qint64> expiries;
    expiries.reserve(static_cast<std::size_t>(m_entries.size()));
    for (const Entry &entry : std::as_const(m_entries)) {
        expiries.push_back(entry.expiresAtMs);
    }
    const auto cut = expiries.begin() + static_cast<std::ptrdiff_t>(std::max<std::size_t>(1, expiries.size() / 10) - 1);
    std::nth_element(expiries.begin(), cut, expiries.end());
    const qint64 threshold = *cut;
    m_entries.removeIf([threshold](const auto &entry) { return entry.value().expiresAtMs <= threshold; });
}

std::map<QString, qint64> LocalSessionStore::countsByServer() const
{
    const qint64 nowMs = now();
    std::map<QString, qint64> counts;
    const QMutexLocker lock {&m_mutex};
    for (const Entry &entry : m_entries) {
        if (entry.expiresAtMs > nowMs) {
            ++counts[entry.server];
        }
    }
    return counts;
}

qsizetype LocalSessionStore::size() const
{
    const QMutexLocker lock {&m_mutex};
    return m_entries.size();
}

} // namespace Gateway::Mcp
