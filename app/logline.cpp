#include "logline.h"

#include <QDateTime>

#include <cstdio>

namespace App {

namespace {

bool needsQuotes(QByteArrayView value)
{
    if (value.isEmpty()) {
        return true;
    }
    for (const char c : value) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= ' ' || byte == '"' || byte == '=' || byte == '\\' || byte == 0x7f) {
            return true;
        }
    }
    return false;
}

QByteArray quoted(QByteArrayView value)
{
    QByteArray out;
    out.reserve(value.size() + 2);
    out += '"';
    for (const char c : value) {
        const auto byte = static_cast<unsigned char>(c);
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            // Other control bytes would break the one-event-per-line contract.
            if (byte < ' ' || byte == 0x7f) {
                out += "\\x" + QByteArray::number(byte, 16).rightJustified(2, '0');
            } else {
                out += c;
            }
        }
    }
    out += '"';
    return out;
}

} // namespace

LogField::LogField(QByteArrayView key, const QString &value)
    : m_key {key}
    , m_value {logfmtValue(value.toUtf8())}
{
}

LogField::LogField(QByteArrayView key, QByteArrayView value)
    : m_key {key}
    , m_value {logfmtValue(value)}
{
}

LogField::LogField(QByteArrayView key, const QByteArray &value)
    : m_key {key}
    , m_value {logfmtValue(value)}
{
}

LogField::LogField(QByteArrayView key, const char *value)
    : m_key {key}
    , m_value {logfmtValue(QByteArrayView {value})}
{
}

LogField::LogField(QByteArrayView key, int value)
    : m_key {key}
    , m_value {QByteArray::number(value)}
{
}

LogField::LogField(QByteArrayView key, qint64 value)
    : m_key {key}
    , m_value {QByteArray::number(value)}
{
}

LogField::LogField(QByteArrayView key, double value, int decimals)
    : m_key {key}
    , m_value {QByteArray::number(value, 'f', decimals)}
{
}

QByteArray logfmtValue(QByteArrayView value)
{
    return needsQuotes(value) ? quoted(value) : value.toByteArray();
}

QByteArray formatLogLine(const QDateTime &timestamp, QByteArrayView level, QByteArrayView message,
                         std::initializer_list<LogField> fields)
{
    QByteArray line;
    line.reserve(128);
    line += "ts=";
    line += timestamp.toUTC().toString(Qt::ISODateWithMs).toLatin1();
    line += " level=";
    line += logfmtValue(level);
    // msg is always quoted so lines read alike whether or not the message has spaces.
    line += " msg=";
    line += quoted(message);
    for (const LogField &field : fields) {
        line += ' ';
        line += field.key();
        line += '=';
        line += field.value();
    }
    line += '\n';
    return line;
}

void logLine(QByteArrayView level, QByteArrayView message, std::initializer_list<LogField> fields)
{
    const QByteArray line = formatLogLine(QDateTime::currentDateTimeUtc(), level, message, fields);
    // One fwrite per line: stdio locks the stream per call, so lines from different
    // threads never interleave.
    std::fwrite(line.constData(), 1, static_cast<std::size_t>(line.size()), stdout);
    std::fflush(stdout);
}

} // namespace App
