#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <functional>
#include <optional>

namespace Gateway::Proxy {

// Splits a Server-Sent Events byte stream into whole events (each including its
// terminating blank line), so events can be inspected or dropped individually while
// still being forwarded as soon as they are complete. Only an incomplete tail is
// copied and held back.
class SseEventSplitter final {
public:
    using EventCallback = std::function<void(QByteArrayView event)>;

    void feed(QByteArrayView data, const EventCallback &onEvent);

    // Bytes of an unfinished event (e.g. when the stream ends without a blank line).
    QByteArray takeRemainder();

private:
    static qsizetype eventEnd(QByteArrayView data, qsizetype from);

    QByteArray m_pending;
};

// The payload of an event's `data:` lines joined by '\n' (the SSE rule), and its
// `event:` name.
struct SseEventFields {
    QByteArray name;
    QByteArray data;
};
SseEventFields parseSseEvent(QByteArrayView event);

// The payload of an event with exactly one `data:` line and "\n" line breaks (what
// servers send), as a view into `event`: no copy. nullopt otherwise (no data line, several
// to join, carriage returns): parseSseEvent() handles every event.
std::optional<QByteArrayView> singleSseData(QByteArrayView event);

} // namespace Gateway::Proxy
