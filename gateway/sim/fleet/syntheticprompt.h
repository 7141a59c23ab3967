#pragma once

#include <QByteArray>

#include <cstdint>
#include <unordered_map>

namespace Gateway::Sim::Fleet {

// Every simulated token is a fixed 4-character pseudo-word, so character-based routers
// (64-character prompt blocks in the gateway, 128-character chunks elsewhere) and the
// token-based server cache see the same prefixes: 64 characters are exactly one 16-token
// KV block, and the gateway's PromptBlockHasher chain equals the server's.
constexpr int TOKEN_CHARS = 4;

// A run of tokens generated from a seed: the same seed always renders the same text, and
// different seeds differ from the first token on (with overwhelming probability).
// `shared` marks spans that many requests contain (system prompts, a conversation's
// history): the renderer keeps their text instead of regenerating it every time.
struct TextSpan {
    std::uint64_t seed = 0;
    int tokens = 0;
    bool shared = false;
};

// Mixes identifiers into a span seed (SplitMix64 finaliser over a running combination).
std::uint64_t mixSeed(std::uint64_t a, std::uint64_t b, std::uint64_t c = 0);

// Renders spans to text. Not thread-safe; one per driver.
class PromptRenderer final {
public:
    void append(QByteArray &out, const TextSpan &span);
    static void render(QByteArray &out, std::uint64_t seed, int tokens);

    std::size_t sharedSpans() const { return m_shared.size(); }

private:
    std::unordered_map<std::uint64_t, QByteArray> m_shared; // key: seed (tokens folded in)
};

} // namespace Gateway::Sim::Fleet
