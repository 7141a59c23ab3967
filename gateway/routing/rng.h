#pragma once

#include <cstdint>

namespace Gateway::Routing {

// Randomness is injected into policies (as Envoy's RandomGenerator is), so tests can
// script it and production can use a fast per-worker generator.
class Rng {
public:
    virtual ~Rng() = default;
    virtual std::uint64_t next() = 0;

    // Uniform in [0, 1).
    double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
};

// xoshiro256** (Blackman & Vigna, 2018): fast, small state, good statistical quality.
// Not for secrets.
class XoshiroRng final : public Rng {
public:
    explicit XoshiroRng(std::uint64_t seed);
    std::uint64_t next() override;

private:
    std::uint64_t m_state[4];
};

} // namespace Gateway::Routing
