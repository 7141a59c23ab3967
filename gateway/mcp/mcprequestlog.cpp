#include "mcprequestlog.h"

#include "util/jsonwriter.h"

#include <QDateTime>

namespace Gateway::Mcp {

void recordMcpRequest(RequestLogSink *sink, const McpLogRecord &record)
{
    if (!sink) {
        return;
    }
    const QByteArray server = record.server.toUtf8();
    const bool toolCall = record.method == "tools/call";
    RequestLogEntry entry;
    entry.finishedAtMs = QDateTime::currentMSecsSinceEpoch();
    entry.requestId = record.requestId;
    entry.virtualKey = record.keyName;
    entry.route = "mcp/" + server;
    entry.backend = toolCall ? server + '/' + record.tool : server;
    entry.endpoint = "/mcp/" + server;
    entry.status = record.status;
    entry.errorClass = record.errorClass;
    entry.latencyMs = record.latencyMs;
    entry.attempts = record.upstreamIndex >= 0 ? 1 : 0;
    entry.routeReason = "mcp method=" + record.method;
    if (toolCall) {
        entry.routeReason += " tool=" + record.tool + " outcome=" + record.outcome;
    }
    if (record.upstreamIndex >= 0) {
        entry.routeReason += " upstream=urls[" + QByteArray::number(record.upstreamIndex) + ']';
    }
    sink->record(std::move(entry));
    if (!toolCall) {
        return;
    }
    QByteArray detail = "{\"server\":" + Json::quoted(server) + ",\"tool\":" + Json::quoted(record.tool) +
                        ",\"key\":" + Json::quoted(record.keyName.toUtf8()) +
                        ",\"status\":" + QByteArray::number(record.status) + ",\"outcome\":" + Json::quoted(record.outcome) +
                        ",\"latency_ms\":" + QByteArray::number(record.latencyMs, 'f', 1) +
                        ",\"request_id\":" + Json::quoted(record.requestId) + '}';
    sink->recordEvent(QStringLiteral("mcp.tool_call"), QString::fromUtf8(server + '/' + record.tool), std::move(detail));
}

} // namespace Gateway::Mcp
