#pragma once

#include "runtime/requestlog.h"

#include <QByteArray>
#include <QString>

namespace Gateway::Mcp {

// What the request log keeps about one MCP request: tool calls (every outcome) and
// refusals. Never the arguments of a call or the content of an answer.
struct McpLogRecord {
    QByteArray requestId;
    QString server;
    QString keyName;
    QByteArray method; // JSON-RPC method label
    QByteArray tool;   // tools/call only
    int status = 0;    // HTTP status sent to the client
    QByteArray errorClass;
    QByteArray outcome; // tools/call: ok | error | denied | upstream_error | client_closed
    double latencyMs = 0;
    int upstreamIndex = -1; // which of the server's URLs answered; -1 = none
};

// One request-log row (endpoint /mcp/<server>, route "mcp/<server>", backend
// "<server>/<tool>") and, for tool calls, an "mcp.tool_call" event. `sink` may be null.
void recordMcpRequest(RequestLogSink *sink, const McpLogRecord &record);

} // namespace Gateway::Mcp
