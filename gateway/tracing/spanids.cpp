#include "spanids.h"

#include <random>

namespace Gateway::Tracing {

namespace {

std::mt19937_64 &threadGenerator()
{
    thread_local std::mt19937_64 generator {[] {
        std::random_device entropy;
        std::seed_seq seed {entropy(), entropy(), entropy(), entropy(), entropy(), entropy(), entropy(), entropy()};
        return std::mt19937_64 {seed};
    }()};
    return generator;
}

template <std::size_t N>
void fillRandom(std::array<std::uint8_t, N> &bytes)
{
    auto &generator = threadGenerator();
    // All-zero ids are invalid in W3C Trace Context and OTLP: draw again (2^-64 odds).
    do {
        for (std::size_t i = 0; i < N; i += 8) {
            std::uint64_t word = generator();
            for (std::size_t j = 0; j < 8 && i + j < N; ++j) {
                bytes[i + j] = static_cast<std::uint8_t>(word >> (8 * j));
            }
        }
    } while (isZero(bytes));
}

} // namespace

TraceId newTraceId()
{
    TraceId id;
    fillRandom(id);
    return id;
}

SpanId newSpanId()
{
    SpanId id;
    fillRandom(id);
    return id;
}

bool sampledByRatio(const TraceId &id, double ratio)
{
    if (ratio >= 1.0) {
        return true;
    }
    if (ratio <= 0.0) {
        return false;
    }
    std::uint64_t low = 0;
    for (std::size_t i = 8; i < 16; ++i) {
        low = low << 8 | id[i];
    }
    // 2^64 as a double is exact; the product is below it since ratio < 1.
    const auto bound = static_cast<std::uint64_t>(ratio * 18446744073709551616.0);
    return low < bound;
}

} // namespace Gateway::Tracing
