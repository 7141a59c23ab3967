#include "mcpservices.h"

#include <QMutexLocker>

namespace Gateway::Mcp {

void McpServices::shareSessions(RedisSessionStore::Settings settings)
{
    m_shared = std::make_unique<RedisSessionStore>(m_local, std::move(settings));
}

void McpServices::appendPrometheus(QByteArray &out) const
{
    std::map<QString, qint64> counts = m_local.countsByServer();
    {
        const QMutexLocker lock {&m_seenMutex};
        for (const auto &entry : counts) {
            m_seenServers.insert(entry.first);
        }
        for (const QString &server : std::as_const(m_seenServers)) {
            counts.try_emplace(server, 0);
        }
    }
    m_metrics.appendPrometheus(out, counts);
    if (m_shared) {
        out += "# HELP switchyard_mcp_session_store_up Whether the shared MCP session table (Redis) is reachable; "
               "0 = sessions opened meanwhile are known to this gateway only.\n"
               "# TYPE switchyard_mcp_session_store_up gauge\n";
        out += "switchyard_mcp_session_store_up " + QByteArray(m_shared->isUp() ? "1" : "0") + '\n';
    }
}

} // namespace Gateway::Mcp
