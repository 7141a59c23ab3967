#include "mcpmetrics.h"

#include "metrics/exposition.h"

#include <QMutexLocker>

#include <array>

namespace Gateway::Mcp {

namespace {

void appendLabelValue(QByteArray &out, QByteArrayView value)
{
    out += Metrics::escapeLabelValue(value);
}

} // namespace

QByteArray boundedMethodLabel(QByteArrayView method)
{
    // Methods of MCP 2025-03-26 and 2025-06-18, plus the labels the gateway itself uses.
    static constexpr std::array<QByteArrayView, 30> known {
        "initialize", "ping", "tools/list", "tools/call", "resources/list", "resources/templates/list",
        "resources/read", "resources/subscribe", "resources/unsubscribe", "prompts/list", "prompts/get",
        "completion/complete", "logging/setLevel", "notifications/initialized", "notifications/cancelled",
        "notifications/progress", "notifications/roots/list_changed", "roots/list", "sampling/createMessage",
        "elicitation/create", "notifications/message", "notifications/resources/updated",
        "notifications/resources/list_changed", "notifications/tools/list_changed",
        "notifications/prompts/list_changed", "batch", "response", "sse_stream", "delete_session", "invalid"};
    for (const QByteArrayView name : known) {
        if (name == method) {
            return name.toByteArray();
        }
    }
    return QByteArrayLiteral("other");
}

void McpMetrics::countRequest(const QString &server, const QByteArray &method, int status)
{
    const QMutexLocker lock {&m_mutex};
    ++m_requests[{server, boundedMethodLabel(method), status}];
}

void McpMetrics::countToolCall(const QString &server, const QByteArray &tool, const QByteArray &outcome)
{
    const QMutexLocker lock {&m_mutex};
    QByteArray label = tool;
    const auto it = m_toolCalls.lower_bound({server, tool, QByteArray()});
    const bool seen = it != m_toolCalls.end() && std::get<0>(it->first) == server && std::get<1>(it->first) == tool;
    if (!seen) {
        int &series = m_toolSeries[server];
        if (series >= MAX_TOOL_SERIES) {
            label = QByteArrayLiteral("other");
        } else {
            ++series;
        }
    }
    ++m_toolCalls[{server, label, outcome}];
}

quint64 McpMetrics::requests(const QString &server, const QByteArray &method, int status) const
{
    const QMutexLocker lock {&m_mutex};
    const auto it = m_requests.find({server, method, status});
    return it == m_requests.end() ? 0 : it->second;
}

quint64 McpMetrics::toolCalls(const QString &server, const QByteArray &tool, const QByteArray &outcome) const
{
    const QMutexLocker lock {&m_mutex};
    const auto it = m_toolCalls.find({server, tool, outcome});
    return it == m_toolCalls.end() ? 0 : it->second;
}

void McpMetrics::appendPrometheus(QByteArray &out, const std::map<QString, qint64> &sessionsByServer) const
{
    const QMutexLocker lock {&m_mutex};
    out += "# HELP switchyard_mcp_requests_total MCP requests answered, by server, JSON-RPC method and HTTP status.\n"
           "# TYPE switchyard_mcp_requests_total counter\n";
    for (const auto &[labels, value] : m_requests) {
        out += "switchyard_mcp_requests_total{server=\"";
        appendLabelValue(out, std::get<0>(labels).toUtf8());
        out += "\",method=\"";
        appendLabelValue(out, std::get<1>(labels));
        out += "\",status=\"" + QByteArray::number(std::get<2>(labels)) + "\"} " + QByteArray::number(value) + '\n';
    }
    out += "# HELP switchyard_mcp_tool_calls_total MCP tools/call requests, by server, tool and outcome.\n"
           "# TYPE switchyard_mcp_tool_calls_total counter\n";
    for (const auto &[labels, value] : m_toolCalls) {
        out += "switchyard_mcp_tool_calls_total{server=\"";
        appendLabelValue(out, std::get<0>(labels).toUtf8());
        out += "\",tool=\"";
        appendLabelValue(out, std::get<1>(labels));
        out += "\",outcome=\"";
        appendLabelValue(out, std::get<2>(labels));
        out += "\"} " + QByteArray::number(value) + '\n';
    }
    out += "# HELP switchyard_mcp_sessions MCP sessions this gateway routes (opened and not yet ended or expired).\n"
           "# TYPE switchyard_mcp_sessions gauge\n";
    for (const auto &[server, count] : sessionsByServer) {
        out += "switchyard_mcp_sessions{server=\"";
        appendLabelValue(out, server.toUtf8());
        out += "\"} " + QByteArray::number(count) + '\n';
    }
}

} // namespace Gateway::Mcp
