#pragma once

#include "localsessionstore.h"
#include "mcpmetrics.h"
#include "redissessionstore.h"

#include <QSet>

#include <memory>

namespace Gateway::Mcp {

// What every worker's MCP handler shares for the life of the gateway: the session table
// (in process, or in Redis when several gateways share one) and the metrics. Owned by
// the gateway runtime, which outlives the workers.
class McpServices final {
public:
    McpServices() = default;
    McpServices(const McpServices &) = delete;
    McpServices &operator=(const McpServices &) = delete;

    // Before the workers start: keeps the session table in Redis (the local table stays
    // as the mirror and outage fallback).
    void shareSessions(RedisSessionStore::Settings settings);

    SessionStore &sessions() { return m_shared ? static_cast<SessionStore &>(*m_shared) : m_local; }
    LocalSessionStore &localSessions() { return m_local; }
    const RedisSessionStore *sharedSessions() const { return m_shared.get(); }
    McpMetrics &metrics() { return m_metrics; }

    void appendPrometheus(QByteArray &out) const;

private:
    LocalSessionStore m_local;
    std::unique_ptr<RedisSessionStore> m_shared; // null without --redis
    McpMetrics m_metrics;
    mutable QMutex m_seenMutex;
    mutable QSet<QString> m_seenServers; // keeps a server's gauge at 0 once its sessions end
};

} // namespace Gateway::Mcp
