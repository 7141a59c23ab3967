#pragma once

#include "fieldmapping.h"
#include "streamtranslator.h"

#include <vector>

namespace Gateway::Translate {

// OpenAI chat.completion.chunk events (+ [DONE]) -> Anthropic message_start,
// content_block_start/delta/stop, message_delta, message_stop. Text and each tool call
// become consecutive content blocks; the stop reason and usage (OpenAI sends usage in
// its last chunk) go into message_delta, written at [DONE].
class AnthropicStreamFromOpenAi final : public StreamTranslator {
public:
    void translateEvent(QByteArrayView event, QByteArray &out) override;
    void finish(QByteArray &out) override;
    bool finished() const override { return m_done; }

private:
    enum class Block { None, Text, Tool };

    void start(QByteArrayView id, QByteArrayView model, QByteArray &out);
    void openBlock(Block kind, QByteArray &out, QByteArrayView toolId = {}, QByteArrayView toolName = {});
    void closeBlock(QByteArray &out);
    void endMessage(QByteArray &out);

    bool m_started = false;
    bool m_done = false;
    int m_nextBlock = 0;
    int m_openBlock = -1;
    Block m_openKind = Block::None;
    std::vector<int> m_toolBlocks; // OpenAI tool_calls[].index -> block index
    QByteArray m_stopReason;       // empty until a finish_reason arrived
    TokenUsage m_usage;
};

} // namespace Gateway::Translate
