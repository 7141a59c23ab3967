#pragma once

#include <QByteArray>
#include <QString>

#include <optional>

namespace Gateway::Mcp {

// Who owns an MCP session: the upstream URL that answered its `initialize` with a new
// Mcp-Session-Id, and the virtual key that opened it (another key presenting the same id
// is treated as not knowing it).
struct SessionOwner {
    QByteArray upstreamUrl;
    QString keyName; // empty on a gateway without virtual keys

    bool operator==(const SessionOwner &) const = default;
};

// The session table behind sticky MCP sessions: session id -> owner, per server, with an
// idle TTL that every use renews. Called on data-plane worker threads; implementations
// never wait longer than their short I/O timeout.
class SessionStore {
public:
    virtual ~SessionStore() = default;

    virtual void put(const QString &server, const QByteArray &sessionId, const SessionOwner &owner, qint64 ttlMs) = 0;
    // The owner, and the TTL renewed; nullopt when unknown or expired.
    virtual std::optional<SessionOwner> find(const QString &server, const QByteArray &sessionId, qint64 ttlMs) = 0;
    virtual void remove(const QString &server, const QByteArray &sessionId) = 0;
};

} // namespace Gateway::Mcp
