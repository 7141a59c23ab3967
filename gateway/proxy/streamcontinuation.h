#pragma once

#include <QByteArray>
#include <QByteArrayView>

namespace Gateway::Proxy {

// Mid-stream resumption: when an upstream fails after the client already has part of
// the answer, the gateway asks another target to continue from that partial answer and
// splices the continuation into the same client stream. This class holds what is needed
// for that: the text streamed so far, and how to phrase the continuation request.
// Used only on routes with `stream_resumption: true`, so its JSON parsing per event costs
// nothing elsewhere.
class StreamContinuation final {
public:
    enum class Format { OpenAi, Anthropic };

    explicit StreamContinuation(Format format);

    // Notes the answer text an SSE event (as forwarded to the client) carries.
    void observe(QByteArrayView event);
    const QByteArray &partialText() const { return m_partial; }
    int observedEvents() const { return m_events; }

    // The request body for the continuation: the (already target-rewritten) body with the
    // partial answer appended as a final assistant message. Anthropic continues an
    // assistant prefill natively; OpenAI-compatible GPU servers (vLLM, SGLang) are told
    // `continue_final_message` so they extend that message instead of starting a new one.
    QByteArray continuationBody(QByteArrayView body, bool continueFinalMessage) const;

    // Events of the continuation the client must not see twice: the stream preamble
    // (Anthropic message_start / content_block_start / ping).
    bool isPreamble(QByteArrayView event) const;

private:
    Format m_format;
    QByteArray m_partial;
    int m_events = 0;
};

} // namespace Gateway::Proxy
