// Upstream response framing (Gateway::Upstream::ResponseFramer over http-parser), which
// reads whatever a provider or GPU server sends back. Properties: a feed never uses more
// bytes than it was given, and the outcome (status, body bytes, completion, error) does
// not depend on how the response was cut into reads.
#include "fuzzinput.h"

#include "upstream/responseframer.h"

#include <vector>

namespace {

using Gateway::Upstream::ResponseFramer;

struct Outcome {
    int status = 0;
    int heads = 0;
    QByteArray body;
    bool complete = false;
    ResponseFramer::Error error = ResponseFramer::Error::None;
    bool operator==(const Outcome &) const = default;
};

class RecordingSink final : public ResponseFramer::Sink {
public:
    explicit RecordingSink(Outcome &outcome)
        : m_outcome {outcome}
    {
    }
    void onHead(int status, const Gateway::Http::HeaderList &) override
    {
        m_outcome.status = status;
        ++m_outcome.heads;
    }
    bool onBody(QByteArrayView data) override
    {
        m_outcome.body += data;
        return true;
    }
    bool paused() const override { return false; }

private:
    Outcome &m_outcome;
};

Outcome frame(const std::vector<QByteArrayView> &reads, bool closeAtEnd)
{
    Outcome outcome;
    RecordingSink sink {outcome};
    ResponseFramer framer;
    framer.start(sink);
    // Like the connection: bytes the framer did not use wait for the next read.
    QByteArray pending;
    for (const QByteArrayView read : reads) {
        pending += read;
        while (!pending.isEmpty() && !framer.complete() && framer.error() == ResponseFramer::Error::None) {
            const qsizetype used = framer.feed(pending);
            if (used < 0 || used > pending.size()) {
                Fuzz::fail("feed used bytes it was not given");
            }
            if (used == 0) {
                break;
            }
            pending.remove(0, used);
        }
    }
    if (closeAtEnd && framer.headComplete() && !framer.complete() && framer.error() == ResponseFramer::Error::None) {
        framer.feedEof();
    }
    outcome.complete = framer.complete();
    outcome.error = framer.error();
    if (outcome.heads > 1) {
        Fuzz::fail("more than one final head for one response");
    }
    return outcome;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const Fuzz::SplitInput input = Fuzz::splitInput(data, size);
    const bool closeAtEnd = size > 0 && (data[0] & 1) != 0;
    const Outcome whole = frame({input.payload}, closeAtEnd);
    const Outcome cut = frame({input.payload.first(input.cut), input.payload.sliced(input.cut)}, closeAtEnd);
    if (!(whole == cut)) {
        Fuzz::fail("the same response cut in two frames differently");
    }
    return 0;
}
