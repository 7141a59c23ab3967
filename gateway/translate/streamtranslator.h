#pragma once

#include "config/policy.h"

#include <QByteArray>
#include <QByteArrayView>

#include <memory>

namespace Gateway::Translate {

// Translates one streamed answer from the upstream's SSE format into the client's, one
// complete upstream event at a time (as Proxy::SseEventSplitter delivers them), so
// nothing but a few counters and ids is held between events. Malformed events are
// dropped, never fatal: the client's stream stays well-formed.
class StreamTranslator {
public:
    virtual ~StreamTranslator() = default;

    // Appends the client's events for one upstream event (possibly none) to `out`.
    virtual void translateEvent(QByteArrayView event, QByteArray &out) = 0;
    // The upstream stream ended without a transport failure: appends whatever the client
    // still needs to see a complete answer when the upstream's own end marker was
    // missing. An answer that never said why it stopped is left open (it is incomplete).
    virtual void finish(QByteArray &out) = 0;
    // The client-format end of the answer was written ([DONE] or message_stop), or an
    // error event.
    virtual bool finished() const = 0;
};

struct StreamOptions {
    bool includeUsage = false; // OpenAI client: stream_options.include_usage
    qint64 created = 0;        // OpenAI client: the chunks' "created"
};

// A translator from `upstream` to `client` format; null when they are the same.
std::unique_ptr<StreamTranslator> makeStreamTranslator(Config::WireFormat upstream, Config::WireFormat client,
                                                       const StreamOptions &options);

} // namespace Gateway::Translate
