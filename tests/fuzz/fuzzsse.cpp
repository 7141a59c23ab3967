// Server-Sent Events splitting (Gateway::Proxy::SseEventSplitter) and field parsing, which
// every streamed upstream response goes through. Property: the events (and the unfinished
// remainder) do not depend on how the stream was cut into reads, and together they are
// exactly the input bytes, in order.
#include "fuzzinput.h"

#include "proxy/sseeventsplitter.h"

#include <QByteArray>

#include <vector>

namespace {

using Gateway::Proxy::SseEventSplitter;

struct Split {
    std::vector<QByteArray> events;
    QByteArray remainder;
    bool operator==(const Split &) const = default;
};

Split split(const std::vector<QByteArrayView> &reads)
{
    SseEventSplitter splitter;
    Split out;
    for (const QByteArrayView read : reads) {
        splitter.feed(read, [&](QByteArrayView event) {
            if (event.isEmpty()) {
                Fuzz::fail("empty event");
            }
            const auto fields = Gateway::Proxy::parseSseEvent(event);
            if (fields.data.size() > event.size()) {
                Fuzz::fail("event data longer than the event");
            }
            out.events.push_back(event.toByteArray());
        });
    }
    out.remainder = splitter.takeRemainder();
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const Fuzz::SplitInput input = Fuzz::splitInput(data, size);
    const Split whole = split({input.payload});
    const Split cut = split({input.payload.first(input.cut), input.payload.sliced(input.cut)});
    if (!(whole == cut)) {
        Fuzz::fail("the same stream cut in two splits differently");
    }
    QByteArray joined;
    for (const QByteArray &event : whole.events) {
        joined += event;
    }
    joined += whole.remainder;
    if (joined != input.payload) {
        Fuzz::fail("events and remainder are not the input");
    }
    return 0;
}
