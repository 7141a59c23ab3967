#include "sseeventsplitter.h"

#include <cstring>

namespace Gateway::Proxy {

namespace {

// The byte-by-byte search, for events that use carriage returns in their line breaks.
qsizetype eventEndScanningBytes(QByteArrayView data, qsizetype from)
{
    for (qsizetype i = from; i + 1 < data.size(); ++i) {
        const char c = data[i];
        if (c == '\n' && data[i + 1] == '\n') {
            return i + 2;
        }
        if (c == '\r') {
            if (data[i + 1] == '\r') {
                return i + 2;
            }
            if (i + 3 < data.size() && data[i + 1] == '\n' && data[i + 2] == '\r' && data[i + 3] == '\n') {
                return i + 4;
            }
        }
    }
    return -1;
}

} // namespace

qsizetype SseEventSplitter::eventEnd(QByteArrayView data, qsizetype from)
{
    // An event ends at a blank line: "\n\n", "\r\n\r\n" or "\r\r". Servers send "\n" line
    // breaks, so the search jumps from line break to line break with memchr (vectorised)
    // and leaves the byte-by-byte search to lines that contain a carriage return.
    const char *bytes = data.data();
    const qsizetype size = data.size();
    qsizetype lineStart = from;
    while (lineStart < size) {
        const auto *newline = static_cast<const char *>(std::memchr(bytes + lineStart, '\n', static_cast<std::size_t>(size - lineStart)));
        const qsizetype lineEnd = newline ? newline - bytes : size;
        if (std::memchr(bytes + lineStart, '\r', static_cast<std::size_t>(lineEnd - lineStart))) {
            return eventEndScanningBytes(data, lineStart);
        }
        if (!newline || lineEnd + 1 >= size) {
            return -1;
        }
        if (bytes[lineEnd + 1] == '\n') {
            return lineEnd + 2;
        }
        lineStart = lineEnd + 1;
    }
    return -1;
}

void SseEventSplitter::feed(QByteArrayView data, const EventCallback &onEvent)
{
    if (!m_pending.isEmpty()) {
        // Search from a little before the join: a boundary may straddle two reads.
        const qsizetype resumeFrom = std::max<qsizetype>(0, m_pending.size() - 3);
        m_pending.append(data.data(), data.size());
        const qsizetype end = eventEnd(m_pending, resumeFrom);
        if (end < 0) {
            return;
        }
        const QByteArray joined = std::move(m_pending);
        m_pending.clear();
        onEvent(QByteArrayView(joined).first(end));
        feed(QByteArrayView(joined).sliced(end), onEvent);
        return;
    }
    qsizetype start = 0;
    while (start < data.size()) {
        const qsizetype end = eventEnd(data, start);
        if (end < 0) {
            m_pending = data.sliced(start).toByteArray();
            return;
        }
        onEvent(data.sliced(start, end - start));
        start = end;
    }
}

QByteArray SseEventSplitter::takeRemainder()
{
    return std::exchange(m_pending, QByteArray());
}

SseEventFields parseSseEvent(QByteArrayView event)
{
    SseEventFields fields;
    qsizetype start = 0;
    while (start < event.size()) {
        qsizetype end = start;
        while (end < event.size() && event[end] != '\n' && event[end] != '\r') {
            ++end;
        }
        QByteArrayView line = event.sliced(start, end - start);
        if (line.startsWith("data:")) {
            line = line.sliced(5);
            if (line.startsWith(' ')) {
                line = line.sliced(1);
            }
            if (!fields.data.isEmpty()) {
                fields.data += '\n';
            }
            fields.data += line;
        } else if (line.startsWith("event:")) {
            fields.name = line.sliced(6).trimmed().toByteArray();
        }
        start = end + 1;
        if (end + 1 < event.size() && event[end] == '\r' && event[end + 1] == '\n') {
            ++start;
        }
    }
    return fields;
}

std::optional<QByteArrayView> singleSseData(QByteArrayView event)
{
    const char *bytes = event.data();
    const auto size = static_cast<std::size_t>(event.size());
    if (std::memchr(bytes, '\r', size)) {
        return std::nullopt;
    }
    std::optional<QByteArrayView> data;
    std::size_t lineStart = 0;
    while (lineStart < size) {
        const auto *newline = static_cast<const char *>(std::memchr(bytes + lineStart, '\n', size - lineStart));
        const std::size_t lineEnd = newline ? static_cast<std::size_t>(newline - bytes) : size;
        QByteArrayView line {bytes + lineStart, static_cast<qsizetype>(lineEnd - lineStart)};
        if (line.startsWith("data:")) {
            if (data) {
                return std::nullopt;
            }
            line = line.sliced(5);
            data = line.startsWith(' ') ? line.sliced(1) : line;
        }
        lineStart = lineEnd + 1;
    }
    return data;
}

} // namespace Gateway::Proxy
