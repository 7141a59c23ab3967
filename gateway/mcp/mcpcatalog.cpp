#include "mcpcatalog.h"

namespace Gateway::Mcp {

void ToolFilter::restrictTo(const QStringList &tools)
{
    QSet<QByteArray> listed;
    for (const QString &tool : tools) {
        listed.insert(tool.toUtf8());
    }
    if (all) {
        allowed = std::move(listed);
        all = false;
    } else {
        allowed.intersect(listed);
    }
}

std::shared_ptr<const McpCatalog> McpCatalog::build(const Config::Policy &policy)
{
    auto catalog = std::make_shared<McpCatalog>();
    for (const Config::McpServer &config : policy.mcpServers) {
        auto server = std::make_unique<McpServerRuntime>();
        server->name = config.name;
        server->urls = config.urls;
        for (const auto &[name, value] : config.headers) {
            server->headerLines.push_back(name + ": " + value);
        }
        if (!config.allowedTools.isEmpty()) {
            server->tools.restrictTo(config.allowedTools);
        }
        server->timeoutMs = config.timeoutMs;
        server->sessionTtlMs = config.sessionTtlMs;
        catalog->m_servers.push_back(std::move(server));
    }
    for (const Config::VirtualKey &key : policy.virtualKeys) {
        const Config::Team *team = key.team.isEmpty() ? nullptr : policy.findTeam(key.team);
        const QStringList teamServers = team ? team->mcp.servers : QStringList {};
        KeyAccess access;
        access.allServers = key.mcp.servers.isEmpty() && teamServers.isEmpty();
        for (const QString &server : key.mcp.servers) {
            if (teamServers.isEmpty() || teamServers.contains(server)) {
                access.servers.insert(server);
            }
        }
        if (key.mcp.servers.isEmpty()) {
            for (const QString &server : teamServers) {
                access.servers.insert(server);
            }
        }
        access.keyTools = key.mcp.tools;
        if (team) {
            access.teamTools = team->mcp.tools;
        }
        catalog->m_keys.insert(key.name, std::move(access));
    }
    return catalog;
}

const McpServerRuntime *McpCatalog::findServer(QByteArrayView name) const
{
    for (const auto &server : m_servers) {
        if (server->name.toUtf8() == name) {
            return server.get();
        }
    }
    return nullptr;
}

QByteArray McpCatalog::serverNames() const
{
    QByteArray names;
    for (const auto &server : m_servers) {
        names += (names.isEmpty() ? "" : ", ") + server->name.toUtf8();
    }
    return names.isEmpty() ? QByteArrayLiteral("none") : names;
}

bool McpCatalog::mayUse(const QString &keyName, const McpServerRuntime &server) const
{
    if (keyName.isEmpty()) {
        return true;
    }
    const auto it = m_keys.constFind(keyName);
    return it != m_keys.constEnd() && (it->allServers || it->servers.contains(server.name));
}

ToolFilter McpCatalog::toolFilter(const QString &keyName, const McpServerRuntime &server) const
{
    ToolFilter filter = server.tools;
    const auto it = m_keys.constFind(keyName);
    if (keyName.isEmpty() || it == m_keys.constEnd()) {
        return filter;
    }
    for (const auto *lists : {&it->teamTools, &it->keyTools}) {
        for (const auto &[name, tools] : *lists) {
            if (name == server.name) {
                filter.restrictTo(tools);
            }
        }
    }
    return filter;
}

} // namespace Gateway::Mcp
