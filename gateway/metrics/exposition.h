#pragma once

#include <QByteArray>
#include <QByteArrayView>

// The two pieces of the Prometheus text exposition format every /metrics writer needs.
namespace Gateway::Metrics {

// "# HELP name help\n# TYPE name type\n".
inline void appendMetricHeader(QByteArray &out, const char *name, const char *type, const char *help)
{
    out += QByteArray("# HELP ") + name + ' ' + help + "\n# TYPE " + name + ' ' + type + '\n';
}

// A label value escaped as the format requires (backslash, double quote, newline). Label
// values are mostly configuration names, but an operator may put anything in those.
inline QByteArray escapeLabelValue(QByteArrayView value)
{
    QByteArray escaped;
    escaped.reserve(value.size());
    for (const char c : value) {
        if (c == '\\' || c == '"') {
            escaped += '\\';
            escaped += c;
        } else if (c == '\n') {
            escaped += "\\n";
        } else {
            escaped += c;
        }
    }
    return escaped;
}

} // namespace Gateway::Metrics
