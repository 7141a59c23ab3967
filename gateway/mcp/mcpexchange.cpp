#include "mcpexchange.h"

#include "mcprequestlog.h"
#include "mcpservices.h"

#include "metrics/errorclass.h"
#include "proxy/workercontext.h"
#include "upstream/curlmulti.h"

#include <QUrl>

namespace Gateway::Mcp {

namespace {

using Metrics::ErrorClass;
using Metrics::errorClassName;

// Above this many unsent bytes to the client, reading from upstream pauses.
constexpr qint64 STREAM_HIGH_WATER_BYTES = 1024 * 1024;
// A JSON answer held to be narrowed, or copied to read a tool call's outcome, is bounded:
// beyond it, a held answer is refused and a copied one is no longer read.
constexpr qsizetype MAX_HELD_BYTES = 16 * 1024 * 1024;
constexpr qsizetype MAX_COPIED_BYTES = 1024 * 1024;

double millisecondsSince(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

bool isEventStream(const QByteArray &contentType)
{
    return contentType.toLower().startsWith("text/event-stream");
}

QByteArray errorClassOfStatus(int status)
{
    if (status < 400) {
        return {};
    }
    return errorClassName(status >= 500 ? ErrorClass::UpstreamError : ErrorClass::UpstreamClientError).toByteArray();
}

} // namespace

McpExchange::McpExchange(Proxy::WorkerContext &worker, McpServices &services, McpExchangeSetup &&setup,
                         Http::ResponseWriter &writer)
    : m_worker {worker}
    , m_services {services}
    , m_setup {std::move(setup)}
    , m_writer {writer}
{
}

McpExchange::~McpExchange()
{
    m_transfer.reset();
    if (!m_recorded) {
        // The client went away first.
        m_toolOutcome = QByteArrayLiteral("client_closed");
        record(m_writer.headSent() ? m_status : 499, errorClassName(ErrorClass::ClientClosed).toByteArray());
    }
}

void McpExchange::start()
{
    Upstream::UpstreamRequest request = m_setup.upstream;
    m_transfer = m_worker.curl().start(std::move(request), *this);
    m_worker.curl().kick();
}

void McpExchange::updateSessionTable(int status)
{
    SessionStore &sessions = m_services.sessions();
    const QString &server = m_setup.server->name;
    const bool success = status >= 200 && status < 300;
    if (m_setup.initialize && success && !m_upstreamSessionId.isEmpty()) {
        sessions.put(server, m_upstreamSessionId,
                     {m_setup.server->urls[static_cast<std::size_t>(m_setup.upstreamIndex)], m_setup.keyName},
                     m_setup.server->sessionTtlMs);
        return;
    }
    if (m_setup.sessionId.isEmpty()) {
        return;
    }
    // The upstream no longer knows the session (MCP: 404), or it was ended.
    if (status == 404 || (m_setup.deleteSession && success)) {
        sessions.remove(server, m_setup.sessionId);
    }
}

void McpExchange::onResponseHead(int status, const Http::HeaderList &headers)
{
    m_status = status;
    for (const Http::Header &header : headers) {
        if (header.name == "content-type") {
            m_contentType = header.value;
        } else if (header.name == "mcp-session-id") {
            m_upstreamSessionId = header.value;
        }
    }
    updateSessionTable(status);
    const bool narrow = !m_setup.listIds.isEmpty() && !m_setup.listFilter.all && status >= 200 && status < 300;
    if (isEventStream(m_contentType)) {
        m_mode = (narrow || m_setup.toolCall) ? Mode::Events : Mode::PassThrough;
    } else if (narrow) {
        m_mode = Mode::HoldJson;
    } else {
        m_mode = m_setup.toolCall ? Mode::CopyJson : Mode::PassThrough;
    }
    if (m_setup.toolCall && (status < 200 || status >= 300)) {
        m_toolOutcome = QByteArrayLiteral("upstream_error");
    }
    if (m_mode != Mode::HoldJson) {
        writeClientHead(-1);
    }
}

void McpExchange::writeClientHead(qint64 contentLength)
{
    Http::HeaderList headers {{"x-switchyard-request-id", m_setup.requestId}};
    if (!m_contentType.isEmpty()) {
        headers.push_back({"content-type", m_contentType});
    }
    if (!m_upstreamSessionId.isEmpty()) {
        headers.push_back({"mcp-session-id", m_upstreamSessionId});
    }
    if (isEventStream(m_contentType)) {
        // Proxies between here and the client must not buffer or transform the stream.
        headers.push_back({"cache-control", "no-cache"});
        headers.push_back({"x-accel-buffering", "no"});
    }
    m_writer.writeHead(m_status, headers, contentLength);
}

bool McpExchange::onResponseData(QByteArrayView data)
{
    switch (m_mode) {
    case Mode::HoldJson:
        if (m_held.size() + data.size() > MAX_HELD_BYTES) {
            return false; // onComplete answers 502
        }
        m_held += data;
        return true;
    case Mode::CopyJson:
        if (m_held.size() + data.size() <= MAX_COPIED_BYTES) {
            m_held += data;
        }
        forward(data);
        return true;
    case Mode::Events: {
        QByteArray out;
        m_events.feed(data, [this, &out](QByteArrayView event) { inspectEvent(event, out); });
        if (!out.isEmpty()) {
            forward(out);
        }
        return true;
    }
    case Mode::PassThrough:
        forward(data);
        return true;
    }
    return true;
}

void McpExchange::inspectEvent(QByteArrayView event, QByteArray &out)
{
    const Proxy::SseEventFields fields = Proxy::parseSseEvent(event);
    if (fields.data.isEmpty() || (!fields.data.contains("\"result\"") && !fields.data.contains("\"error\""))) {
        out += event; // requests and notifications from the server pass as they are
        return;
    }
    if (m_setup.toolCall && m_toolOutcome.isEmpty()) {
        m_toolOutcome = toolCallOutcome(fields.data, m_setup.toolCallId);
    }
    QByteArray data = fields.data;
    if (filterToolLists(data, m_setup.listIds, m_setup.listFilter)) {
        out += withSseData(event, data);
    } else {
        out += event;
    }
}

void McpExchange::forward(QByteArrayView data)
{
    m_writer.writeBody(data);
    if (m_writer.pendingBytes() > STREAM_HIGH_WATER_BYTES && m_transfer) {
        // A slow client must not make the gateway buffer a long stream.
        m_transfer->pauseReceiving();
        m_writer.setDrainedCallback([this] {
            if (m_transfer) {
                m_transfer->resumeReceiving();
            }
        });
    }
}

void McpExchange::onComplete(const Upstream::TransferResult &result)
{
    m_transfer.reset();
    if (m_mode == Mode::HoldJson && result.error == Upstream::TransferError::None) {
        filterToolLists(m_held, m_setup.listIds, m_setup.listFilter);
        writeClientHead(m_held.size());
        m_writer.writeBody(m_held);
        m_writer.finish();
        record(m_status, {});
        return;
    }
    if (!m_writer.headSent()) {
        respondUnreachable(result);
        return;
    }
    if (m_mode == Mode::Events) {
        // An unfinished last event is passed on as it is.
        const QByteArray rest = m_events.takeRemainder();
        if (!rest.isEmpty()) {
            m_writer.writeBody(rest);
        }
    }
    if (m_setup.toolCall && m_toolOutcome.isEmpty() && m_mode == Mode::CopyJson) {
        m_toolOutcome = toolCallOutcome(m_held, m_setup.toolCallId);
    }
    if (result.error != Upstream::TransferError::None && !isEventStream(m_contentType)) {
        // A JSON answer cut short: closing without the end of the body tells the client.
        if (m_setup.toolCall && m_toolOutcome.isEmpty()) {
            m_toolOutcome = QByteArrayLiteral("upstream_error");
        }
        record(m_status, errorClassName(ErrorClass::UpstreamReset).toByteArray());
        m_writer.abort();
        return;
    }
    // An event stream ends cleanly even when the upstream broke it: MCP clients resume a
    // stream with Last-Event-ID.
    if (m_setup.toolCall && m_toolOutcome.isEmpty()) {
        m_toolOutcome = result.error == Upstream::TransferError::None ? QByteArrayLiteral("ok")
                                                                      : QByteArrayLiteral("upstream_error");
    }
    m_writer.finish();
    record(m_status, errorClassOfStatus(m_status));
}

void McpExchange::respondUnreachable(const Upstream::TransferResult &result)
{
    using Upstream::TransferError;
    const bool timedOut = result.error == TransferError::ConnectTimeout ||
                          result.error == TransferError::FirstByteTimeout || result.error == TransferError::IdleTimeout;
    const int status = timedOut ? 504 : 502;
    const QByteArray &url = m_setup.server->urls[static_cast<std::size_t>(m_setup.upstreamIndex)];
    QByteArray message;
    if (m_mode == Mode::HoldJson) {
        message = "MCP server '" + m_setup.server->name.toUtf8() + "' answered more than " +
                  QByteArray::number(MAX_HELD_BYTES) + " bytes to tools/list";
    } else {
        message = "MCP server '" + m_setup.server->name.toUtf8() + "' is unavailable: " +
                  (timedOut ? QByteArrayLiteral("no answer in time from ") : QByteArrayLiteral("cannot reach ")) +
                  QUrl(QString::fromUtf8(url)).adjusted(QUrl::RemoveUserInfo | QUrl::RemoveQuery).toString().toUtf8() +
                  (result.errorText.isEmpty() ? QByteArray() : " (" + result.errorText + ')');
    }
    const QJsonValue id = m_setup.toolCall ? m_setup.toolCallId : QJsonValue(QJsonValue::Null);
    m_status = status;
    m_contentType = QByteArrayLiteral("application/json");
    m_upstreamSessionId.clear();
    const QByteArray body = rpcError(id, RpcCode::UPSTREAM_UNAVAILABLE, message);
    writeClientHead(body.size());
    m_writer.writeBody(body);
    m_writer.finish();
    if (m_setup.toolCall) {
        m_toolOutcome = QByteArrayLiteral("upstream_error");
    }
    record(status, errorClassName(timedOut ? ErrorClass::UpstreamTimeout : ErrorClass::UpstreamUnreachable).toByteArray());
}

void McpExchange::record(int status, const QByteArray &errorClass)
{
    if (m_recorded) {
        return;
    }
    m_recorded = true;
    m_services.metrics().countRequest(m_setup.server->name, m_setup.methodLabel, status);
    if (!m_setup.toolCall) {
        return;
    }
    const QByteArray outcome = m_toolOutcome.isEmpty() ? QByteArrayLiteral("ok") : m_toolOutcome;
    m_services.metrics().countToolCall(m_setup.server->name, m_setup.tool, outcome);
    if (!m_worker.table()->policy().requestLog.enabled) {
        return;
    }
    McpLogRecord log;
    log.requestId = m_setup.requestId;
    log.server = m_setup.server->name;
    log.keyName = m_setup.keyName;
    log.method = m_setup.methodLabel;
    log.tool = m_setup.tool;
    log.status = status;
    log.errorClass = errorClass;
    log.outcome = outcome;
    log.latencyMs = millisecondsSince(m_setup.receivedAt);
    log.upstreamIndex = m_setup.upstreamIndex;
    recordMcpRequest(m_worker.environment().requestLog, log);
}

} // namespace Gateway::Mcp
