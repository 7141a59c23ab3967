#pragma once

#include "sessionstore.h"

#include <QHash>
#include <QMutex>

#include <functional>
#include <map>

namespace Gateway::Mcp {

// The in-process session table: a map shared by every worker thread under one mutex
// (held for a hash look-up; MCP requests are far rarer than inference requests), with
// an idle TTL and a bounded size. When full, expired entries go first, then the entries
// closest to expiry, so a flood of abandoned sessions cannot grow memory without bound.
class LocalSessionStore final : public SessionStore {
public:
    static constexpr qsizetype DEFAULT_MAX_SESSIONS = 100000;

    // `nowMs`: a monotonic clock in milliseconds (tests inject one); empty = steady clock.
    explicit LocalSessionStore(qsizetype maxSessions = DEFAULT_MAX_SESSIONS, std::function<qint64()> nowMs = {});

    void put(const QString &server, const QByteArray &sessionId, const SessionOwner &owner, qint64 ttlMs) override;
    std::optional<SessionOwner> find(const QString &server, const QByteArray &sessionId, qint64 ttlMs) override;
    void remove(const QString &server, const QByteArray &sessionId) override;

    // Live (unexpired) sessions by server name, for switchyard_mcp_sessions.
    std::map<QString, qint64> countsByServer() const;
    qsizetype size() const;

private:
    struct Entry {
        QString server;
        SessionOwner owner;
        qint64 expiresAtMs = 0;
    };

    qint64 now() const;
    void makeRoom(qint64 nowMs); // with m_mutex held

    const qsizetype m_maxSessions;
    const std::function<qint64()> m_nowMs;
    mutable QMutex m_mutex;
    QHash<QByteArray, Entry> m_entries; // by server + '\n' + session id
};

} // namespace Gateway::Mcp
