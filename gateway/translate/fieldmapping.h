#pragma once

#include "domaccess.h"
#include "jsonbuilder.h"

#include <QByteArrayView>

#include <string_view>

// What requests, answers and streams share in both directions: stop reasons, token
// usage, tool calls.
namespace Gateway::Translate {

// stop -> end_turn, length -> max_tokens, tool_calls / function_call -> tool_use,
// content_filter -> refusal; anything else -> end_turn.
QByteArrayView anthropicStopReason(std::string_view finishReason);
// end_turn / stop_sequence / pause_turn -> stop, max_tokens -> length, tool_use ->
// tool_calls, refusal -> content_filter; anything else -> stop.
QByteArrayView openAiFinishReason(std::string_view stopReason);

// Token counts in one model: the whole prompt (cached part included), the cached part,
// and the output. -1 = not reported.
struct TokenUsage {
    qint64 prompt = -1;
    qint64 cachedPrompt = -1;      // read from the provider's prompt cache
    qint64 cacheCreation = -1;     // Anthropic: written to the cache (part of prompt)
    qint64 output = -1;
};

// OpenAI usage: prompt_tokens (cached included), completion_tokens,
// prompt_tokens_details.cached_tokens.
void readOpenAiUsage(Dom::Object usage, TokenUsage &out);
// Anthropic usage: input_tokens excludes cache reads and writes, which are added here.
void readAnthropicUsage(Dom::Object usage, TokenUsage &out);
void writeOpenAiUsage(JsonBuilder &json, const TokenUsage &usage);
// input_tokens without the cached part, as Anthropic reports it.
void writeAnthropicUsage(JsonBuilder &json, const TokenUsage &usage);

// An Anthropic `tool_use` block as one more OpenAI `tool_calls` element, appended to the
// comma-separated list in `toolCalls` (its `input` object becomes the JSON text of
// `function.arguments`).
void appendOpenAiToolCall(QByteArray &toolCalls, Dom::Object toolUse);

} // namespace Gateway::Translate
