#pragma once

#include <QByteArrayView>

#include <cstddef>
#include <cstdint>

namespace Fuzz {

// Splits a fuzzer input into a split point and the payload: the first byte (when there
// is one) chooses where differential targets cut the payload in two, so the fuzzer
// explores chunk boundaries as well as contents.
struct SplitInput {
    QByteArrayView payload;
    qsizetype cut = 0; // 0 <= cut <= payload.size()
};

inline SplitInput splitInput(const std::uint8_t *data, std::size_t size)
{
    if (size == 0) {
        return {};
    }
    const QByteArrayView payload {reinterpret_cast<const char *>(data + 1), static_cast<qsizetype>(size - 1)};
    return {payload, payload.isEmpty() ? 0 : static_cast<qsizetype>(data[0]) % (payload.size() + 1)};
}

// A property the target checks failed: abort so libFuzzer saves the input as a crash.
[[noreturn]] void fail(const char *what);

} // namespace Fuzz
