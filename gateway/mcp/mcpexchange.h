#pragma once

#include "jsonrpcmessages.h"
#include "mcpcatalog.h"

#include "http/requesthandler.h"
#include "proxy/sseeventsplitter.h"
#include "upstream/upstreamrequest.h"

#include <QJsonValue>

#include <chrono>
#include <memory>

namespace Gateway::Upstream {
class Transfer;
}

namespace Gateway::Proxy {
class WorkerContext;
}

namespace Gateway::Mcp {

class McpServices;

// Everything McpHandler decided about one request before it goes upstream.
struct McpExchangeSetup {
    std::shared_ptr<const McpCatalog> catalog; // keeps `server` alive
    const McpServerRuntime *server = nullptr;
    int upstreamIndex = 0;
    Upstream::UpstreamRequest upstream;
    QByteArray methodLabel;
    bool initialize = false;    // a new session may start: record its owner
    bool deleteSession = false; // DELETE: forget the session once the upstream ended it
    QByteArray sessionId;       // the client's Mcp-Session-Id, empty = none
    QString keyName;
    QByteArray requestId;
    // tools/list answers to narrow (ids of the tools/list requests in the body).
    ToolFilter listFilter;
    QList<QJsonValue> listIds;
    // A single tools/call: its tool and id, for the outcome in metrics and the log.
    bool toolCall = false;
    QByteArray tool;
    QJsonValue toolCallId;
    std::chrono::steady_clock::time_point receivedAt;
};

// One MCP request proxied to its upstream. The answer goes to the client as it arrives:
// an application/json body, or a text/event-stream forwarded event by event (a GET stream
// stays open as long as both ends keep it). Only a JSON tools/list answer that must be
// narrowed is held until complete. Destroying it (the client went away) cancels the
// upstream transfer.
class McpExchange final : public Http::Exchange, private Upstream::TransferObserver {
public:
    McpExchange(Proxy::WorkerContext &worker, McpServices &services, McpExchangeSetup &&setup,
                Http::ResponseWriter &writer);
    ~McpExchange() override;
    McpExchange(const McpExchange &) = delete;
    McpExchange &operator=(const McpExchange &) = delete;

    void start();

private:
    enum class Mode {
        PassThrough, // bytes forwarded as they come
        CopyJson,    // forwarded, and a bounded copy kept to read a tool call's outcome
        HoldJson,    // a tools/list answer to narrow: sent once complete
        Events,      // an event stream whose events are inspected (and narrowed) one by one
    };

    void onResponseHead(int status, const Http::HeaderList &headers) override;
    bool onResponseData(QByteArrayView data) override;
    void onComplete(const Upstream::TransferResult &result) override;

    void updateSessionTable(int status);
    void writeClientHead(qint64 contentLength);
    void forward(QByteArrayView data);
    void inspectEvent(QByteArrayView event, QByteArray &out);
    void respondUnreachable(const Upstream::TransferResult &result);
    // Metrics and request log, once per request.
    void record(int status, const QByteArray &errorClass);

    Proxy::WorkerContext &m_worker;
    McpServices &m_services;
    McpExchangeSetup m_setup;
    Http::ResponseWriter &m_writer;
    std::unique_ptr<Upstream::Transfer> m_transfer;
    Mode m_mode = Mode::PassThrough;
    int m_status = 0;
    QByteArray m_contentType;
    QByteArray m_upstreamSessionId;
    QByteArray m_held; // HoldJson: the whole body; CopyJson: its first bytes
    Proxy::SseEventSplitter m_events;
    QByteArray m_toolOutcome;
    bool m_recorded = false;
};

} // namespace Gateway::Mcp
