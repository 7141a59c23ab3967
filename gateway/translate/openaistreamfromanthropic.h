#pragma once

#include "fieldmapping.h"
#include "streamtranslator.h"

#include <vector>

namespace Gateway::Translate {

// Anthropic stream events -> OpenAI chat.completion.chunk events and [DONE]: text_delta
// -> delta.content, tool_use blocks and their input_json_delta -> delta.tool_calls,
// message_delta's stop_reason -> finish_reason, usage (when the client asked for it)
// in a final chunk with empty choices. ping and thinking are dropped.
class OpenAiStreamFromAnthropic final : public StreamTranslator {
public:
    explicit OpenAiStreamFromAnthropic(const StreamOptions &options);

    void translateEvent(QByteArrayView event, QByteArray &out) override;
    void finish(QByteArray &out) override;
    bool finished() const override { return m_done; }

private:
    // `data: {"id",...,"choices":[{"index":0,"delta":` — the caller adds the delta.
    void beginChunk(QByteArray &out) const;
    void endChunk(QByteArray &out, QByteArrayView finishReason = {}) const;
    void endMessage(QByteArray &out);

    StreamOptions m_options;
    QByteArray m_id = QByteArrayLiteral("chatcmpl-translated");
    QByteArray m_model;
    bool m_done = false;
    bool m_sentFinish = false;
    int m_tools = 0;
    std::vector<int> m_blockTools; // content block index -> tool_calls index, -1 for non-tools
    TokenUsage m_usage;
};

} // namespace Gateway::Translate
