#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

// The pieces every section of the terminal console's frame is built from: a line that
// never exceeds the terminal's width, SGR styles, and compact number formats.

namespace App {

inline constexpr QByteArrayView Bold {"1"};
inline constexpr QByteArrayView Dim {"2"};
inline constexpr QByteArrayView Reverse {"7"};
inline constexpr QByteArrayView Red {"31"};
inline constexpr QByteArrayView Green {"32"};
inline constexpr QByteArrayView Yellow {"33"};
inline constexpr QByteArrayView BoldRed {"1;31"};

// Keeps the visible width of a line within the terminal, with SGR styling per piece.
class LineBuilder {
public:
    explicit LineBuilder(int width)
        : m_remaining {width}
    {
    }

    void text(const QString &text, QByteArrayView style = {});
    // A cell of exactly `width` columns; a value that does not fit ends in '~'.
    void left(const QString &value, int width, QByteArrayView style = {});
    void right(const QString &value, int width, QByteArrayView style = {});
    void fill(QByteArrayView style);

    int remaining() const { return m_remaining; }
    QByteArray bytes() const { return m_bytes; }

private:
    QByteArray m_bytes;
    int m_remaining;
};

QString latin1(const char *text);
QString count(qint64 value);            // 123456 -> "123.5k"
QString rate(double perSecond);         // one decimal
QString millis(double ms, qint64 requests); // "-" without requests
QString errorPercent(qint64 errors, qint64 requests);
QString uptime(qint64 ms);              // "1d 2:03:04"
QString shortDuration(qint64 ms);       // "45s", "12m", "3h05m", "2d 4h"

} // namespace App
