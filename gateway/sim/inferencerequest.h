#pragma once

#include "util/expected.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

namespace Gateway::Sim {

enum class Endpoint {
    ChatCompletions, // POST /v1/chat/completions
    Completions,     // POST /v1/completions
    Embeddings,      // POST /v1/embeddings
    Messages,        // POST /v1/messages (Anthropic)
};

// The few request fields the simulator acts on.
struct InferenceRequest {
    Endpoint endpoint = Endpoint::ChatCompletions;
    QByteArray model;  // empty when the request named none
    bool stream = false;
    bool includeUsage = false; // stream_options.include_usage
    int maxTokens = -1;        // -1 when the request set no limit
    qint64 promptChars = 0;    // characters of all prompt text
    int promptTokens = 1;      // promptChars / 4, at least 1
    int continuedTokens = 0;   // generated tokens in a final assistant message (a continuation)
    // Tools: the first tool offered (OpenAI tools[].function.name, Anthropic tools[].name),
    // unless tool_choice is "none". The simulator calls it unless the last message
    // already carries a tool result (OpenAI role "tool", Anthropic tool_result block).
    QByteArray firstTool;
    bool toolsDisabled = false;
    bool lastIsToolResult = false;
    int inputCount = 1;        // embeddings: how many inputs
    quint64 inputHash = 0;     // embeddings: seeds the vectors of inputs given as token ids
    QList<QByteArray> inputTexts; // embeddings: the string inputs, in order
    // The leading part most prompts share (system prompt, else first message): feeds
    // the simulated prefix cache so prefix-affine routing shows up in the metrics.
    quint64 prefixHash = 0;
    int prefixTokens = 0;
};

// Parses a JSON request body; the error is a message for a 400 answer.
Expected<InferenceRequest, QByteArray> parseInferenceRequest(Endpoint endpoint, QByteArrayView body);

} // namespace Gateway::Sim
