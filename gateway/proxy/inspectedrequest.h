#pragma once

#include <QByteArray>

#include <cstdint>
#include <vector>

namespace Gateway::Proxy {

// What the hot path learns from a request body, with the byte ranges of the fields a
// target may need rewritten, so the body is forwarded as the original bytes otherwise.
struct InspectedRequest {
    QByteArray model;
    qsizetype modelBegin = -1; // range of the "model" string token, quotes included
    qsizetype modelEnd = -1;
    qsizetype objectBegin = -1; // offset of the top-level '{'
    bool stream = false;
    int maxTokens = -1;
    bool hasStreamOptions = false;
    bool includeUsage = false;
    qsizetype streamOptionsBegin = -1; // range of the stream_options value
    qsizetype streamOptionsEnd = -1;
    QByteArray streamOptionsScalars; // other scalar members of stream_options, "k":v,...
    QByteArray user;                 // OpenAI "user" / Anthropic metadata.user_id
    int estimatedPromptTokens = 0;
    bool hasImages = false; // an image content part: OpenAI image_url / input_image, Anthropic image
    bool hasTools = false;  // a non-empty "tools" or "functions" array
    // Text of the last user message (string content, or its text parts joined by '\n'; for
    // /v1/completions the prompt), UTF-8, at most RequestInspector::MAX_CAPTURED_TEXT
    // bytes. Captured only when asked for: conditional rules on the message need it.
    QByteArray lastUserMessage;
    // Chained hashes of the rendered prompt's full blocks (Routing::PromptBlockHasher,
    // seeded with the model), when a prefix-locality route may need them; else empty.
    std::vector<std::uint64_t> promptBlocks;
};

} // namespace Gateway::Proxy
