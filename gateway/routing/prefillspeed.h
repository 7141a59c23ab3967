#pragma once

#include <cstdint>

namespace Gateway::Routing {

// What the gateway noted when it sent a prompt to a server, to learn from its first token.
struct PrefillTicket {
    std::int64_t sentAtUs = 0; // monotonic µs (the simulator: its virtual clock)
    // No other prompt of this gateway was waiting for its first token there: the time to
    // first token is then this prompt's own prefill, not a wait behind someone else's.
    bool alone = false;
};

// How fast one server prefills, in µs per uncached prompt token, learned from the
// gateway's own requests: a prompt sent while the server had nothing else of ours in
// prefill took its time to first token for its uncached tokens. That rate includes what
// the engine does besides (the decode steps it interleaves with the prefill chunks, the
// fixed cost of each step, the network), which is what predicting when a prefill ends
// needs. Short prompts are skipped: their time is mostly those fixed costs.
// Not thread-safe: the gateway's BackendMonitor guards it.
class PrefillSpeed final {
public:
    static constexpr std::int64_t MIN_SAMPLE_TOKENS = 512;
    // Weight of a new sample: a server's speed changes with its batch, slowly.
    static constexpr double SMOOTHING = 0.2;

    // A prompt of `uncachedTokens`, sent under `ticket`, got its first token at `nowUs`.
    void observe(const PrefillTicket &ticket, std::int64_t uncachedTokens, std::int64_t nowUs);

    double usPerToken() const { return m_usPerToken; } // 0 = no sample yet

private:
    double m_usPerToken = 0.0;
};

} // namespace Gateway::Routing
