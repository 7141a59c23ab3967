#include "secretmerge.h"

#include "redaction.h"

namespace Gateway::Config {

namespace {

const ProviderKey *findKey(const Provider *provider, const QString &name)
{
    if (provider == nullptr) {
        return nullptr;
    }
    for (const auto &key : provider->keys) {
        if (key.name == name) {
            return &key;
        }
    }
    return nullptr;
}

const VirtualKey *findVirtualKey(const Policy &policy, const QString &name)
{
    for (const auto &key : policy.virtualKeys) {
        if (key.name == name) {
            return &key;
        }
    }
    return nullptr;
}

const QByteArray *findHeader(const HeaderList *headers, const QByteArray &name)
{
    if (headers == nullptr) {
        return nullptr;
    }
    for (const auto &[storedName, value] : *headers) {
        if (storedName.compare(name, Qt::CaseInsensitive) == 0) {
            return &value;
        }
    }
    return nullptr;
}

Unexpected<ConfigError> nothingStored(const QString &field, const QString &what)
{
    ConfigError error;
    error.field = field;
    error.message = QStringLiteral("'***' means keep the stored secret, but no secret is stored for %1").arg(what);
    return Unexpected {error};
}

} // namespace

Expected<Policy, ConfigError> resolveRedactedSecrets(Policy incoming, const Policy &stored)
{
    if (incoming.gateway.adminToken == REDACTED_SECRET) {
        if (stored.gateway.adminToken.isEmpty()) {
            return nothingStored(QStringLiteral("gateway.admin_token"), QStringLiteral("the admin token"));
        }
        incoming.gateway.adminToken = stored.gateway.adminToken;
    }
    for (std::size_t p = 0; p < incoming.providers.size(); ++p) {
        auto &provider = incoming.providers[p];
        const Provider *storedProvider = stored.findProvider(provider.name);
        for (std::size_t k = 0; k < provider.keys.size(); ++k) {
            auto &key = provider.keys[k];
            if (key.secret != REDACTED_SECRET) {
                continue;
            }
            const ProviderKey *storedKey = findKey(storedProvider, key.name);
            if (storedKey == nullptr || storedKey->secret.isEmpty()) {
                return nothingStored(QStringLiteral("providers[%1].keys[%2].secret").arg(p).arg(k),
                                     QStringLiteral("provider '%1' key '%2'").arg(provider.name, key.name));
            }
            key.secret = storedKey->secret;
        }
    }
    for (std::size_t v = 0; v < incoming.virtualKeys.size(); ++v) {
        auto &key = incoming.virtualKeys[v];
        if (key.key != REDACTED_SECRET) {
            continue;
        }
        const VirtualKey *storedKey = findVirtualKey(stored, key.name);
        if (storedKey == nullptr || (storedKey->key.isEmpty() && storedKey->keySha256.isEmpty())) {
            return nothingStored(QStringLiteral("virtual_keys[%1].key").arg(v),
                                 QStringLiteral("virtual key '%1'").arg(key.name));
        }
        key.key = storedKey->key;
        key.keySha256 = storedKey->keySha256;
    }
    // Header values (collector and MCP server credentials), matched by name case-insensitively.
    const auto resolveHeaders = [](HeaderList &headers, const HeaderList *storedHeaders,
                                   const QString &field, const QString &what) -> std::optional<ConfigError> {
        for (auto &[name, value] : headers) {
            if (value != REDACTED_SECRET) {
                continue;
            }
            const QByteArray *storedValue = findHeader(storedHeaders, name);
            if (storedValue == nullptr || storedValue->isEmpty()) {
                return nothingStored(field.arg(QString::fromLatin1(name)), what.arg(QString::fromLatin1(name))).error();
            }
            value = *storedValue;
        }
        return std::nullopt;
    };
    if (incoming.tracing) {
        if (auto error = resolveHeaders(incoming.tracing->headers, stored.tracing ? &stored.tracing->headers : nullptr,
                                        QStringLiteral("tracing.headers.%1"), QStringLiteral("tracing header '%1'"))) {
            return Unexpected {*error};
        }
    }
    for (std::size_t m = 0; m < incoming.mcpServers.size(); ++m) {
        auto &server = incoming.mcpServers[m];
        const McpServer *storedServer = stored.findMcpServer(server.name);
        if (auto error = resolveHeaders(server.headers, storedServer ? &storedServer->headers : nullptr,
                                        QStringLiteral("mcp_servers[%1].headers.").arg(m) + QStringLiteral("%1"),
                                        QStringLiteral("MCP server '%1' header ").arg(server.name) + QStringLiteral("'%1'"))) {
            return Unexpected {*error};
        }
    }
    return incoming;
}

} // namespace Gateway::Config
