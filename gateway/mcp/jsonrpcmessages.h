#pragma once

#include "mcpcatalog.h"

#include <QByteArray>
#include <QJsonValue>
#include <QList>

#include <vector>

namespace Gateway::Mcp {

// JSON-RPC error codes the gateway answers with (docs/MCP.md). The -32000 range is the
// one JSON-RPC leaves to servers.
namespace RpcCode {
inline constexpr int PARSE_ERROR = -32700;
inline constexpr int INVALID_REQUEST = -32600;
inline constexpr int INVALID_PARAMS = -32602; // a tool the key may not call (MCP: unknown tool)
inline constexpr int SESSION_NOT_FOUND = -32001;
inline constexpr int UPSTREAM_UNAVAILABLE = -32002;
inline constexpr int ACCESS_DENIED = -32003;
inline constexpr int UNAUTHENTICATED = -32004;
} // namespace RpcCode

// One message of a client's POST body, as far as the gateway needs it.
struct RpcMessage {
    QByteArray method; // empty for a response to a server's request
    QJsonValue id;     // Undefined for a notification
    QByteArray tool;   // tools/call: params.name
    bool hasId() const { return !id.isUndefined() && !id.isNull(); }
};

// A POST body: one message or a batch (MCP 2025-03-26 allows batches).
struct InboundBody {
    bool valid = false;
    bool batch = false;
    std::vector<RpcMessage> messages;

    // "initialize", "tools/call", ... for metrics; "batch", "response" or "invalid".
    QByteArray methodLabel() const;
    bool isInitialize() const { return !batch && messages.size() == 1 && messages.front().method == "initialize"; }
};

InboundBody parseInbound(QByteArrayView body);

// A JSON-RPC error response: {"jsonrpc":"2.0","id":...,"error":{"code":...,"message":...}}.
QByteArray rpcError(const QJsonValue &id, int code, const QByteArray &message);

// Rewrites the JSON-RPC responses in `json` (one message or a batch) that answer one of
// `listIds` so their result.tools holds only the tools `filter` allows. True when
// something was removed (then `json` is re-serialised).
bool filterToolLists(QByteArray &json, const QList<QJsonValue> &listIds, const ToolFilter &filter);

// The outcome of the tools/call answered in `json` with `id`: "ok", "error" (a JSON-RPC
// error or a result with isError: true), or empty when `json` does not answer it.
QByteArray toolCallOutcome(QByteArrayView json, const QJsonValue &id);

// `event` (one SSE event, blank line included) with its data lines replaced by `data`
// on one line; its other fields (id, event, retry) are kept.
QByteArray withSseData(QByteArrayView event, const QByteArray &data);

} // namespace Gateway::Mcp
