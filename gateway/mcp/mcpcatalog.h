#pragma once

#include "config/policy.h"

#include <QByteArray>
#include <QHash>
#include <QSet>
#include <QString>

#include <memory>
#include <vector>

namespace Gateway::Mcp {

// Which tools a client may see and call on one server.
struct ToolFilter {
    bool all = true;
    QSet<QByteArray> allowed; // when !all

    bool allows(const QByteArray &tool) const { return all || allowed.contains(tool); }
    // Narrows to `tools` (the intersection of allow-lists).
    void restrictTo(const QStringList &tools);
};

// One `mcp_servers` entry, ready for the data plane.
struct McpServerRuntime {
    QString name;
    std::vector<QByteArray> urls;
    std::vector<QByteArray> headerLines; // "Name: value", the configured headers
    ToolFilter tools;                    // allowed_tools
    int timeoutMs = 60000;
    int sessionTtlMs = 3600000;
};

// The MCP part of a policy, compiled once per policy and worker: servers by name, and
// each virtual key's access with its team's applied (the same rule as routes: a key may
// use what it lists that its team also allows; nothing listed = everything).
class McpCatalog final {
public:
    static std::shared_ptr<const McpCatalog> build(const Config::Policy &policy);

    const McpServerRuntime *findServer(QByteArrayView name) const;
    // "a, b" for messages; "none" when no server is configured.
    QByteArray serverNames() const;

    // An empty key name is a gateway without virtual keys: every server.
    bool mayUse(const QString &keyName, const McpServerRuntime &server) const;
    // The tools `keyName` may see and call on `server` (server, team and key lists).
    ToolFilter toolFilter(const QString &keyName, const McpServerRuntime &server) const;

private:
    struct KeyAccess {
        bool allServers = true;
        QSet<QString> servers;
        std::vector<std::pair<QString, QStringList>> keyTools;
        std::vector<std::pair<QString, QStringList>> teamTools;
    };

    std::vector<std::unique_ptr<McpServerRuntime>> m_servers;
    QHash<QString, KeyAccess> m_keys; // by key name
};

} // namespace Gateway::Mcp
