#pragma once

#include "mcpcatalog.h"

#include "http/requesthandler.h"

#include <chrono>
#include <memory>
#include <optional>

namespace Gateway::Runtime {
class RouteTable;
struct VirtualKeyRuntime;
} // namespace Gateway::Runtime

namespace Gateway::Proxy {
class WorkerContext;
}

namespace Gateway::Mcp {

class McpServices;
struct InboundBody;

// The MCP gateway on one worker thread (docs/MCP.md): /mcp/<server> proxies an MCP server
// over the streamable HTTP transport. It checks the key's access to the server and its
// tools, routes a session to the upstream that owns it, and hands the request to an
// McpExchange. Errors are JSON-RPC error responses with the HTTP status MCP clients act on.
class McpHandler final {
public:
    explicit McpHandler(Proxy::WorkerContext &worker);

    static bool claims(QByteArrayView path) { return path == "/mcp" || path.startsWith("/mcp/"); }

    // Why the client could not be authenticated (the proxy's usual key check).
    struct AuthFailure {
        int status = 401;
        QByteArray message;
    };

    // `key` is the authenticated virtual key, null on a gateway without keys.
    std::unique_ptr<Http::Exchange> handle(Http::Request &&request, Http::ResponseWriter &writer,
                                           const QByteArray &requestId, const Runtime::VirtualKeyRuntime *key,
                                           const std::optional<AuthFailure> &authFailure);

private:
    struct Refusal {
        int status;
        int code; // JSON-RPC
        QByteArray message;
        QByteArray errorClass;
        Http::HeaderList headers {};
    };

    const McpCatalog &catalog(const std::shared_ptr<const Runtime::RouteTable> &table);
    std::optional<Refusal> refuseTools(const InboundBody &inbound, const McpServerRuntime &server,
                                       const ToolFilter &filter, const QString &keyName) const;
    void refuse(Http::ResponseWriter &writer, const QByteArray &requestId, const McpServerRuntime *server,
                const QByteArray &methodLabel, const QJsonValue &id, const Refusal &refusal, const QString &keyName,
                std::chrono::steady_clock::time_point receivedAt, const QByteArray &tool = {});
    int pickUpstream(const McpServerRuntime &server);

    Proxy::WorkerContext &m_worker;
    std::weak_ptr<const Runtime::RouteTable> m_catalogTable; // the table m_catalog was built from
    std::shared_ptr<const McpCatalog> m_catalog;
    std::uint64_t m_nextUpstream = 0;
};

} // namespace Gateway::Mcp
