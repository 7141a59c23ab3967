#include "terminalline.h"

#include <algorithm>

namespace App {

void LineBuilder::text(const QString &text, QByteArrayView style)
{
    if (m_remaining <= 0 || text.isEmpty()) {
        return;
    }
    QString part = text.left(m_remaining);
    // Names come from configuration; never let them smuggle escape sequences in.
    for (QChar &c : part) {
        if (c.unicode() < 0x20 || (c.unicode() >= 0x7f && c.unicode() < 0xa0)) {
            c = QLatin1Char('?');
        }
    }
    m_remaining -= static_cast<int>(part.size());
    if (!style.isEmpty()) {
        m_bytes += "\x1b[";
        m_bytes += style;
        m_bytes += 'm';
    }
    m_bytes += part.toUtf8();
    if (!style.isEmpty()) {
        m_bytes += "\x1b[0m";
    }
}

void LineBuilder::left(const QString &value, int width, QByteArrayView style)
{
    QString cell = value.size() > width - 1 ? value.left(std::max(0, width - 2)) + QLatin1Char('~') : value;
    text(cell.leftJustified(width), style);
}

void LineBuilder::right(const QString &value, int width, QByteArrayView style)
{
    text(value.rightJustified(width), style);
}

void LineBuilder::fill(QByteArrayView style)
{
    text(QString {m_remaining, QLatin1Char(' ')}, style);
}

QString latin1(const char *text)
{
    return QString::fromLatin1(text);
}

QString count(qint64 value)
{
    if (value < 100000) {
        return QString::number(value);
    }
    if (value < 1000000) {
        return QString::number(static_cast<double>(value) / 1e3, 'f', 1) + QLatin1Char('k');
    }
    if (value < 1000000000) {
        return QString::number(static_cast<double>(value) / 1e6, 'f', 1) + QLatin1Char('M');
    }
    return QString::number(static_cast<double>(value) / 1e9, 'f', 1) + QLatin1Char('G');
}

QString rate(double perSecond)
{
    return QString::number(perSecond, 'f', 1);
}

QString millis(double ms, qint64 requests)
{
    if (requests <= 0) {
        return latin1("-");
    }
    return QString::number(ms, 'f', ms < 10 ? 1 : 0);
}

QString errorPercent(qint64 errors, qint64 requests)
{
    if (requests <= 0) {
        return latin1("-");
    }
    return QString::number(100.0 * static_cast<double>(errors) / static_cast<double>(requests), 'f', 1)
        + QLatin1Char('%');
}

QString uptime(qint64 ms)
{
    const qint64 seconds = ms / 1000;
    const QString clock = QStringLiteral("%1:%2:%3")
                              .arg((seconds / 3600) % 24)
                              .arg((seconds / 60) % 60, 2, 10, QLatin1Char('0'))
                              .arg(seconds % 60, 2, 10, QLatin1Char('0'));
    const qint64 days = seconds / 86400;
    return days > 0 ? QStringLiteral("%1d %2").arg(days).arg(clock) : clock;
}

QString shortDuration(qint64 ms)
{
    const qint64 minutes = std::max<qint64>(ms, 0) / 60000;
    if (minutes < 1) {
        return QString::number(std::max<qint64>(ms, 0) / 1000) + QLatin1Char('s');
    }
    if (minutes < 60) {
        return QString::number(minutes) + QLatin1Char('m');
    }
    if (minutes < 48 * 60) {
        return QStringLiteral("%1h%2m").arg(minutes / 60).arg(minutes % 60, 2, 10, QLatin1Char('0'));
    }
    return QStringLiteral("%1d %2h").arg(minutes / 1440).arg((minutes % 1440) / 60);
}

} // namespace App
