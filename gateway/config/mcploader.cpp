#include "mcploader.h"

#include <QRegularExpression>
#include <QSet>
#include <QUrl>

namespace Gateway::Config {

namespace {

// Server names are a path segment (/mcp/<name>) and a metrics label.
const QRegularExpression &serverNamePattern()
{
    static const QRegularExpression pattern {QStringLiteral("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")};
    return pattern;
}

McpServer parseServer(const DocumentReader &reader, const YAML::Node &node, const QString &field)
{
    McpServer server;
    reader.requireMap(node, field);
    reader.checkKeys(node, field, {"name", "urls", "headers", "allowed_tools", "timeout_ms", "session_ttl_ms"});
    server.name = reader.requiredString(node, "name", field);
    if (!serverNamePattern().match(server.name).hasMatch()) {
        reader.fail(node["name"], field + QStringLiteral(".name"),
                    QStringLiteral("'%1' is not a valid MCP server name (letters, digits, '-', '_', '.'; at most 64)")
                        .arg(server.name));
    }
    const QString urlsField = field + QStringLiteral(".urls");
    if (!node["urls"]) {
        reader.fail(node, urlsField, QStringLiteral("required field is missing"));
    }
    const QStringList urls = reader.stringList(node["urls"], urlsField);
    if (urls.isEmpty()) {
        reader.fail(node["urls"], urlsField, QStringLiteral("an MCP server needs at least one URL"));
    }
    for (qsizetype i = 0; i < urls.size(); ++i) {
        const QUrl url {urls[i], QUrl::StrictMode};
        const QString urlField = DocumentReader::indexed(urlsField, static_cast<std::size_t>(i));
        if (!url.isValid() || (url.scheme() != u"http" && url.scheme() != u"https") || url.host().isEmpty()) {
            reader.fail(node["urls"][static_cast<std::size_t>(i)], urlField,
                        QStringLiteral("'%1' is not an http:// or https:// URL").arg(urls[i]));
        }
        const QByteArray bytes = urls[i].toUtf8();
        if (std::find(server.urls.begin(), server.urls.end(), bytes) != server.urls.end()) {
            reader.fail(node["urls"][static_cast<std::size_t>(i)], urlField,
                        QStringLiteral("duplicate URL '%1'").arg(urls[i]));
        }
        server.urls.push_back(bytes);
    }
    if (node["headers"]) {
        const YAML::Node headers = node["headers"];
        const QString headersField = field + QStringLiteral(".headers");
        reader.requireMap(headers, headersField);
        static const QRegularExpression token {QStringLiteral("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")};
        for (const auto &entry : headers) {
            const QString name = QString::fromStdString(entry.first.as<std::string>());
            const QString headerField = DocumentReader::join(headersField, name);
            if (!token.match(name).hasMatch()) {
                reader.fail(entry.first, headerField, QStringLiteral("'%1' is not a valid header name").arg(name));
            }
            // The gateway sets these itself from the client's request.
            static const QStringList reserved {QStringLiteral("content-type"), QStringLiteral("content-length"),
                                               QStringLiteral("accept"), QStringLiteral("mcp-session-id"),
                                               QStringLiteral("mcp-protocol-version"), QStringLiteral("last-event-id"),
                                               QStringLiteral("host"), QStringLiteral("transfer-encoding")};
            if (reserved.contains(name.toLower())) {
                reader.fail(entry.first, headerField,
                            QStringLiteral("'%1' is set by the gateway and cannot be configured").arg(name));
            }
            const QString value = reader.string(entry.second, headerField);
            if (value.contains(u'\r') || value.contains(u'\n')) {
                reader.fail(entry.second, headerField, QStringLiteral("header values must not contain line breaks"));
            }
            server.headers.emplace_back(name.toLatin1(), value.toUtf8());
        }
    }
    if (node["allowed_tools"]) {
        server.allowedTools = reader.stringList(node["allowed_tools"], field + QStringLiteral(".allowed_tools"));
    }
    if (node["timeout_ms"]) {
        server.timeoutMs =
            static_cast<int>(reader.integer(node["timeout_ms"], field + QStringLiteral(".timeout_ms"), 1, 3600000));
    }
    if (node["session_ttl_ms"]) {
        server.sessionTtlMs = static_cast<int>(
            reader.integer(node["session_ttl_ms"], field + QStringLiteral(".session_ttl_ms"), 1000, 7 * 86400000));
    }
    return server;
}

void checkServerName(const DocumentReader &reader, const YAML::Node &node, const QString &field, const QString &name,
                     const Policy &policy)
{
    if (!policy.findMcpServer(name)) {
        reader.fail(node, field, QStringLiteral("unknown MCP server '%1'").arg(name));
    }
}

void validateAccess(const DocumentReader &reader, const YAML::Node &ownerNode, const QString &field,
                    const McpAccess &access, const Policy &policy)
{
    for (qsizetype i = 0; i < access.servers.size(); ++i) {
        checkServerName(reader, ownerNode["mcp_servers"][static_cast<std::size_t>(i)],
                        DocumentReader::indexed(field + QStringLiteral(".mcp_servers"), static_cast<std::size_t>(i)),
                        access.servers[i], policy);
    }
    for (const auto &[server, tools] : access.tools) {
        checkServerName(reader, ownerNode["mcp_tools"],
                        DocumentReader::join(field + QStringLiteral(".mcp_tools"), server), server, policy);
    }
}

} // namespace

std::vector<McpServer> parseMcpServers(const DocumentReader &reader, const YAML::Node &node)
{
    const QString field = QStringLiteral("mcp_servers");
    reader.requireSequence(node, field);
    std::vector<McpServer> servers;
    for (std::size_t i = 0; i < node.size(); ++i) {
        servers.push_back(parseServer(reader, node[i], DocumentReader::indexed(field, i)));
    }
    return servers;
}

void parseMcpAccess(const DocumentReader &reader, const YAML::Node &ownerNode, const QString &field, McpAccess &out)
{
    if (ownerNode["mcp_servers"]) {
        out.servers = reader.stringList(ownerNode["mcp_servers"], field + QStringLiteral(".mcp_servers"));
    }
    if (ownerNode["mcp_tools"]) {
        const YAML::Node tools = ownerNode["mcp_tools"];
        const QString toolsField = field + QStringLiteral(".mcp_tools");
        reader.requireMap(tools, toolsField);
        for (const auto &entry : tools) {
            const QString server = QString::fromStdString(entry.first.as<std::string>());
            out.tools.emplace_back(server, reader.stringList(entry.second, DocumentReader::join(toolsField, server)));
        }
    }
}

void validateMcpReferences(const DocumentReader &reader, const YAML::Node &root, const Policy &policy)
{
    QSet<QString> names;
    for (std::size_t s = 0; s < policy.mcpServers.size(); ++s) {
        const QString &name = policy.mcpServers[s].name;
        if (names.contains(name)) {
            reader.fail(root["mcp_servers"][s]["name"],
                        DocumentReader::indexed(QStringLiteral("mcp_servers"), s) + QStringLiteral(".name"),
                        QStringLiteral("duplicate MCP server name '%1'").arg(name));
        }
        names.insert(name);
    }
    for (std::size_t t = 0; t < policy.teams.size(); ++t) {
        validateAccess(reader, root["teams"][t], DocumentReader::indexed(QStringLiteral("teams"), t), policy.teams[t].mcp,
                       policy);
    }
    for (std::size_t k = 0; k < policy.virtualKeys.size(); ++k) {
        validateAccess(reader, root["virtual_keys"][k], DocumentReader::indexed(QStringLiteral("virtual_keys"), k),
                       policy.virtualKeys[k].mcp, policy);
    }
}

} // namespace Gateway::Config
