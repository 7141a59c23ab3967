#pragma once

#include <QByteArray>

#include <cstdint>
#include <vector>

namespace Gateway::Routing {

// What a policy may know about a request: extracted once on the hot path from the
// body and headers, never the body itself.
struct RequestSummary {
    // Used when a request gives no max_tokens: a typical chat answer, so token-aware
    // strategies still see long prompts as heavier than short ones.
    static constexpr int DEFAULT_EXPECTED_OUTPUT_TOKENS = 256;

    QByteArray model;
    int estimatedPromptTokens = 0;
    int maxTokens = -1; // -1 = not given
    QByteArray sessionKey; // empty = no session
    int priority = 0;
    bool stream = false;
    bool hasImages = false;
    bool hasTools = false;
    // Chained hashes of the rendered prompt's full fixed-size blocks (PromptBlockHasher),
    // filled only for routes whose policy uses prefix locality; empty otherwise.
    std::vector<std::uint64_t> promptBlocks;

    int expectedOutputTokens() const { return maxTokens > 0 ? maxTokens : DEFAULT_EXPECTED_OUTPUT_TOKENS; }
    // What this request adds to a backend's in-flight token load.
    std::int64_t expectedTokens() const { return std::int64_t {estimatedPromptTokens} + expectedOutputTokens(); }
};

} // namespace Gateway::Routing
