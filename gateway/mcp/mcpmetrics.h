#pragma once

#include <QByteArray>
#include <QMutex>
#include <QString>

#include <map>
#include <tuple>

namespace Gateway::Mcp {

// Counters of the MCP gateway (docs/METRICS.md):
//   switchyard_mcp_requests_total{server,method,status}
//   switchyard_mcp_tool_calls_total{server,tool,outcome}
// Labels are only known once a request is parsed, so each observation takes a short lock
// on a map; MCP requests are orders of magnitude rarer than inference requests. Label
// values come from clients, so both are bounded: methods outside the MCP method set are
// counted as "other", and tools beyond MAX_TOOL_SERIES per server as "other".
class McpMetrics final {
public:
    static constexpr int MAX_TOOL_SERIES = 256;

    void countRequest(const QString &server, const QByteArray &method, int status);
    void countToolCall(const QString &server, const QByteArray &tool, const QByteArray &outcome);

    // Both families, then switchyard_mcp_sessions{server} from `sessionsByServer`.
    void appendPrometheus(QByteArray &out, const std::map<QString, qint64> &sessionsByServer) const;

    // For tests: the current value of one series (0 when absent).
    quint64 requests(const QString &server, const QByteArray &method, int status) const;
    quint64 toolCalls(const QString &server, const QByteArray &tool, const QByteArray &outcome) const;

private:
    mutable QMutex m_mutex;
    std::map<std::tuple<QString, QByteArray, int>, quint64> m_requests;
    std::map<std::tuple<QString, QByteArray, QByteArray>, quint64> m_toolCalls;
    std::map<QString, int> m_toolSeries; // distinct tools per server
};

// `method` when it is a method of the MCP specification, else "other".
QByteArray boundedMethodLabel(QByteArrayView method);

} // namespace Gateway::Mcp
