#pragma once

// Structured start-up, shutdown and statistics lines for --headless runs whose stdout
// goes to a pipe or the journal. Format: logfmt, one event per line, e.g.
//   ts=2026-01-02T03:04:05.678Z level=info msg="listening" url=http://127.0.0.1:8420/v1

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <initializer_list>

class QDateTime;

namespace App {

// One key=value pair; the value is rendered (and quoted if needed) on construction so
// callers can pass strings and numbers alike.
class LogField {
public:
    LogField(QByteArrayView key, const QString &value);
    LogField(QByteArrayView key, QByteArrayView value);
    LogField(QByteArrayView key, const QByteArray &value);
    LogField(QByteArrayView key, const char *value);
    LogField(QByteArrayView key, int value);
    LogField(QByteArrayView key, qint64 value);
    LogField(QByteArrayView key, double value, int decimals = 2);

    QByteArrayView key() const { return m_key; }
    const QByteArray &value() const { return m_value; }

private:
    QByteArrayView m_key;
    QByteArray m_value; // already quoted and escaped where logfmt requires it
};

// Quotes value if it is empty or contains spaces, '=', quotes or control characters.
QByteArray logfmtValue(QByteArrayView value);

QByteArray formatLogLine(const QDateTime &timestamp, QByteArrayView level, QByteArrayView message,
                         std::initializer_list<LogField> fields = {});

// Writes one line to stdout with the current UTC time and flushes it, so the journal or
// a pipe sees it immediately.
void logLine(QByteArrayView level, QByteArrayView message, std::initializer_list<LogField> fields = {});

} // namespace App
