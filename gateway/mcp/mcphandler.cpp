#include "mcphandler.h"

#include "jsonrpcmessages.h"
#include "mcpexchange.h"
#include "mcprequestlog.h"
#include "mcpservices.h"

#include "metrics/errorclass.h"
#include "proxy/workercontext.h"
#include "runtime/routetable.h"

namespace Gateway::Mcp {

namespace {

using Metrics::ErrorClass;
using Metrics::errorClassName;

// A GET stream lives as long as client and server keep it open; these only bound a
// stream that went silent for a day.
constexpr int LONG_STREAM_MS = 24 * 3600 * 1000;
constexpr int MAX_CONNECT_MS = 2000;

QByteArray className(ErrorClass errorClass)
{
    return errorClassName(errorClass).toByteArray();
}

// The client's headers the streamable HTTP transport defines, passed on as they are.
// Its credentials (Authorization, x-api-key) are the gateway's and never leave it.
void appendPassThroughHeaders(const Http::Request &request, std::vector<QByteArray> &lines)
{
    static constexpr std::pair<QByteArrayView, QByteArrayView> passed[] = {
        {"mcp-session-id", "Mcp-Session-Id"},
        {"mcp-protocol-version", "MCP-Protocol-Version"},
        {"last-event-id", "Last-Event-ID"},
    };
    for (const auto &[lower, canonical] : passed) {
        const QByteArray value = request.header(lower);
        if (!value.isEmpty()) {
            lines.push_back(canonical.toByteArray() + ": " + value);
        }
    }
}

} // namespace

McpHandler::McpHandler(Proxy::WorkerContext &worker)
    : m_worker {worker}
{
}

const McpCatalog &McpHandler::catalog(const std::shared_ptr<const Runtime::RouteTable> &table)
{
    if (!m_catalog || m_catalogTable.lock() != table) {
        m_catalog = McpCatalog::build(table->policy());
        m_catalogTable = table;
    }
    return *m_catalog;
}

int McpHandler::pickUpstream(const McpServerRuntime &server)
{
    // Round robin per worker: new sessions spread over the replicas.
    return static_cast<int>(m_nextUpstream++ % server.urls.size());
}

std::unique_ptr<Http::Exchange> McpHandler::handle(Http::Request &&request, Http::ResponseWriter &writer,
                                                   const QByteArray &requestId, const Runtime::VirtualKeyRuntime *key,
                                                   const std::optional<AuthFailure> &authFailure)
{
    const auto receivedAt = std::chrono::steady_clock::now();
    const std::shared_ptr<const Runtime::RouteTable> table = m_worker.table();
    const McpCatalog &servers = catalog(table);
    const std::shared_ptr<const McpCatalog> catalogRef = m_catalog;
    McpServices *services = m_worker.environment().mcp;
    const QString keyName = key ? key->name : QString();

    const QByteArray name = request.path.size() > 5 ? request.path.sliced(5) : QByteArray();
    const McpServerRuntime *server = services ? servers.findServer(name) : nullptr;
    if (!server) {
        refuse(writer, requestId, nullptr, {}, QJsonValue::Null,
               {404, RpcCode::INVALID_REQUEST,
                "no MCP server '" + name + "' is configured (configured: " + servers.serverNames() + ')',
                className(ErrorClass::NotFound)},
               keyName, receivedAt);
        return nullptr;
    }

    InboundBody inbound;
    QByteArray methodLabel;
    if (request.method == "POST") {
        inbound = parseInbound(request.body);
        methodLabel = inbound.methodLabel();
    } else if (request.method == "GET") {
        methodLabel = QByteArrayLiteral("sse_stream");
    } else if (request.method == "DELETE") {
        methodLabel = QByteArrayLiteral("delete_session");
    } else {
        refuse(writer, requestId, server, QByteArrayLiteral("other"), QJsonValue::Null,
               {405, RpcCode::INVALID_REQUEST, "method " + request.method + " is not allowed on " + request.path +
                    "; MCP uses POST, GET and DELETE",
                className(ErrorClass::BadRequest), {{"allow", "GET, POST, DELETE"}}},
               keyName, receivedAt);
        return nullptr;
    }
    const bool single = inbound.valid && !inbound.batch;
    const QJsonValue id = single && inbound.messages.front().hasId() ? inbound.messages.front().id : QJsonValue::Null;

    if (authFailure) {
        refuse(writer, requestId, server, methodLabel, id,
               {authFailure->status, RpcCode::UNAUTHENTICATED, authFailure->message, className(ErrorClass::Unauthorized)},
               keyName, receivedAt);
        return nullptr;
    }
    if (!servers.mayUse(keyName, *server)) {
        refuse(writer, requestId, server, methodLabel, id,
               {403, RpcCode::ACCESS_DENIED,
                "virtual key '" + keyName.toUtf8() + "' is not allowed to use MCP server '" + server->name.toUtf8() + "'",
                className(ErrorClass::Unauthorized)},
               keyName, receivedAt);
        return nullptr;
    }
    if (request.method == "POST" && !inbound.valid) {
        refuse(writer, requestId, server, methodLabel, QJsonValue::Null,
               {400, RpcCode::PARSE_ERROR, "the request body is not a JSON-RPC message or batch",
                className(ErrorClass::BadRequest)},
               keyName, receivedAt);
        return nullptr;
    }
    const ToolFilter filter = servers.toolFilter(keyName, *server);
    if (std::optional<Refusal> denied = refuseTools(inbound, *server, filter, keyName)) {
        const RpcMessage &first = inbound.messages.front();
        refuse(writer, requestId, server, methodLabel, id, *denied, keyName, receivedAt, single ? first.tool : QByteArray());
        return nullptr;
    }

    // Sticky sessions: a session's requests go to the upstream that opened it.
    const QByteArray sessionId = request.header("mcp-session-id");
    int upstreamIndex = -1;
    if (!sessionId.isEmpty()) {
        const std::optional<SessionOwner> owner = services->sessions().find(server->name, sessionId, server->sessionTtlMs);
        if (owner && owner->keyName == keyName) {
            const auto it = std::find(server->urls.begin(), server->urls.end(), owner->upstreamUrl);
            upstreamIndex = it == server->urls.end() ? -1 : static_cast<int>(it - server->urls.begin());
        }
        if (upstreamIndex < 0) {
            // MCP: 404 tells the client to start a new session with initialize.
            refuse(writer, requestId, server, methodLabel, id,
                   {404, RpcCode::SESSION_NOT_FOUND,
                    "session '" + sessionId.left(128) + "' is unknown or has expired on MCP server '" +
                        server->name.toUtf8() + "'; start a new session with initialize",
                    className(ErrorClass::NotFound)},
                   keyName, receivedAt);
            return nullptr;
        }
    } else if (request.method == "DELETE") {
        refuse(writer, requestId, server, methodLabel, QJsonValue::Null,
               {400, RpcCode::INVALID_REQUEST, "DELETE ends a session: send the Mcp-Session-Id header of the session",
                className(ErrorClass::BadRequest)},
               keyName, receivedAt);
        return nullptr;
    } else {
        upstreamIndex = pickUpstream(*server);
    }

    McpExchangeSetup setup;
    setup.catalog = catalogRef;
    setup.server = server;
    setup.upstreamIndex = upstreamIndex;
    Upstream::UpstreamRequest &upstream = setup.upstream;
    upstream.url = server->urls[static_cast<std::size_t>(upstreamIndex)];
    upstream.method = request.method;
    const QByteArray accept = request.header("accept");
    if (request.method == "POST") {
        upstream.body = std::move(request.body);
        upstream.headers.push_back(QByteArrayLiteral("Content-Type: application/json"));
        upstream.headers.push_back("Accept: " + (accept.isEmpty() ? QByteArrayLiteral("application/json, text/event-stream") : accept));
    } else if (request.method == "GET") {
        upstream.headers.push_back("Accept: " + (accept.isEmpty() ? QByteArrayLiteral("text/event-stream") : accept));
    }
    appendPassThroughHeaders(request, upstream.headers);
    upstream.headers.insert(upstream.headers.end(), server->headerLines.begin(), server->headerLines.end());
    upstream.connectTimeoutMs = std::min(server->timeoutMs, MAX_CONNECT_MS);
    const bool longLived = request.method == "GET";
    upstream.firstByteTimeoutMs = longLived ? LONG_STREAM_MS : server->timeoutMs;
    upstream.idleTimeoutMs = longLived ? LONG_STREAM_MS : server->timeoutMs;

    setup.methodLabel = methodLabel;
    setup.initialize = inbound.isInitialize();
    setup.deleteSession = request.method == "DELETE";
    setup.sessionId = sessionId;
    setup.keyName = keyName;
    setup.requestId = requestId;
    setup.listFilter = filter;
    for (const RpcMessage &message : inbound.messages) {
        if (message.method == "tools/list" && message.hasId()) {
            setup.listIds.push_back(message.id);
        }
    }
    if (single && inbound.messages.front().method == "tools/call") {
        setup.toolCall = true;
        setup.tool = inbound.messages.front().tool;
        setup.toolCallId = inbound.messages.front().id;
    }
    setup.receivedAt = receivedAt;
    auto exchange = std::make_unique<McpExchange>(m_worker, *services, std::move(setup), writer);
    exchange->start();
    return exchange;
}

std::optional<McpHandler::Refusal> McpHandler::refuseTools(const InboundBody &inbound, const McpServerRuntime &server,
                                                           const ToolFilter &filter, const QString &keyName) const
{
    for (const RpcMessage &message : inbound.messages) {
        if (message.method != "tools/call" || filter.allows(message.tool)) {
            continue;
        }
        const QByteArray who = keyName.isEmpty() ? QByteArrayLiteral("this gateway")
                                                 : "virtual key '" + keyName.toUtf8() + "'";
        const QByteArray text = "tool '" + message.tool.left(128) + "' is not allowed on MCP server '" +
                                server.name.toUtf8() + "' for " + who;
        // One call: a JSON-RPC error the client's SDK raises for that call. A batch that
        // holds a forbidden call is refused whole.
        const int status = inbound.batch ? 403 : 200;
        return Refusal {status, RpcCode::INVALID_PARAMS, text, className(ErrorClass::Unauthorized)};
    }
    return std::nullopt;
}

void McpHandler::refuse(Http::ResponseWriter &writer, const QByteArray &requestId, const McpServerRuntime *server,
                        const QByteArray &methodLabel, const QJsonValue &id, const Refusal &refusal,
                        const QString &keyName, std::chrono::steady_clock::time_point receivedAt, const QByteArray &tool)
{
    Http::HeaderList headers {{"content-type", "application/json"}, {"x-switchyard-request-id", requestId}};
    headers.insert(headers.end(), refusal.headers.begin(), refusal.headers.end());
    writer.respond(refusal.status, headers, rpcError(id, refusal.code, refusal.message));
    McpServices *services = m_worker.environment().mcp;
    if (!server || !services) {
        return; // no per-server series for names nobody configured
    }
    services->metrics().countRequest(server->name, methodLabel, refusal.status);
    const bool toolDenied = !tool.isEmpty() && refusal.code == RpcCode::INVALID_PARAMS;
    if (toolDenied) {
        services->metrics().countToolCall(server->name, tool, QByteArrayLiteral("denied"));
    }
    if (!m_worker.table()->policy().requestLog.enabled) {
        return;
    }
    McpLogRecord log;
    log.requestId = requestId;
    log.server = server->name;
    log.keyName = keyName;
    log.method = methodLabel;
    log.tool = tool;
    log.status = refusal.status;
    log.errorClass = refusal.errorClass;
    log.outcome = toolDenied ? QByteArrayLiteral("denied") : QByteArray();
    log.latencyMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - receivedAt).count();
    recordMcpRequest(m_worker.environment().requestLog, log);
}

} // namespace Gateway::Mcp
