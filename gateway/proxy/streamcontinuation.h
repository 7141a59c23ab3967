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

    // Takes the answer text out of an SSE event as forwarded to the client (OpenAI
    // chunks' delta content, Anthropic content_block_delta text). Only the text is kept,
    // not the event: a long stream's events are ~50x its text, and every stream has one
    // of these (exact settle of streams that end without usage): one simdjson DOM pass
    // per event instead of a copy of it. Beyond MAX_KEPT_BYTES of
    // text the stream can no longer be resumed or counted exactly (canResume() is false).
    void observe(QByteArrayView event);
    bool canResume() const { return !m_overflowed; }
    // The answer text the events carried so far.
    const QByteArray &partialText() const { return m_text; }

    // The request body for the continuation: the (already target-rewritten) body with the
    // partial answer appended as a final assistant message. Anthropic continues an
    // assistant prefill natively; OpenAI-compatible GPU servers (vLLM, SGLang) are told
    // `continue_final_message` so they extend that message instead of starting a new one.
    QByteArray continuationBody(QByteArrayView body, bool continueFinalMessage) const;

    // Events of the continuation the client must not see twice: the stream preamble
    // (Anthropic message_start / content_block_start / ping).
    bool isPreamble(QByteArrayView event) const;

private:
    static constexpr qsizetype MAX_KEPT_BYTES = 8 * 1024 * 1024;

    Format m_format;
    QByteArray m_text; // the answer text streamed so far, UTF-8
    bool m_overflowed = false;
};

} // namespace Gateway::Proxy
