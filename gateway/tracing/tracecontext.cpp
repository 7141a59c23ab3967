#include "tracecontext.h"

#include <algorithm>

namespace Gateway::Tracing {

namespace {

constexpr char HEX_DIGITS[] = "0123456789abcdef";
// "00-" + 32 + "-" + 16 + "-" + 2
constexpr qsizetype TRACEPARENT_LENGTH = 55;

template <std::size_t N>
QByteArray hexOf(const std::array<std::uint8_t, N> &bytes)
{
    QByteArray out(static_cast<qsizetype>(N * 2), Qt::Uninitialized);
    for (std::size_t i = 0; i < N; ++i) {
        out[static_cast<qsizetype>(2 * i)] = HEX_DIGITS[bytes[i] >> 4];
        out[static_cast<qsizetype>(2 * i + 1)] = HEX_DIGITS[bytes[i] & 0x0f];
    }
    return out;
}

// Only lower-case hex is valid in traceparent.
int hexValue(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

template <std::size_t N>
bool readHex(QByteArrayView text, std::array<std::uint8_t, N> &out)
{
    if (text.size() != static_cast<qsizetype>(2 * N)) {
        return false;
    }
    for (std::size_t i = 0; i < N; ++i) {
        const int high = hexValue(text[static_cast<qsizetype>(2 * i)]);
        const int low = hexValue(text[static_cast<qsizetype>(2 * i + 1)]);
        if (high < 0 || low < 0) {
            return false;
        }
        out[i] = static_cast<std::uint8_t>(high << 4 | low);
    }
    return true;
}

} // namespace

QByteArray toHex(const TraceId &id)
{
    return hexOf(id);
}

QByteArray toHex(const SpanId &id)
{
    return hexOf(id);
}

bool isZero(const TraceId &id)
{
    return std::all_of(id.begin(), id.end(), [](std::uint8_t byte) { return byte == 0; });
}

bool isZero(const SpanId &id)
{
    return std::all_of(id.begin(), id.end(), [](std::uint8_t byte) { return byte == 0; });
}

QByteArray TraceContext::traceparent() const
{
    return "00-" + toHex(traceId) + '-' + toHex(spanId) + (sampled ? "-01" : "-00");
}

std::optional<TraceContext> parseTraceparent(QByteArrayView value)
{
    value = value.trimmed();
    if (value.size() < TRACEPARENT_LENGTH) {
        return std::nullopt;
    }
    std::array<std::uint8_t, 1> version {};
    std::array<std::uint8_t, 1> flags {};
    TraceContext context;
    if (!readHex(value.first(2), version) || version[0] == 0xff || value[2] != '-' ||
        !readHex(value.sliced(3, 32), context.traceId) || value[35] != '-' ||
        !readHex(value.sliced(36, 16), context.spanId) || value[52] != '-' || !readHex(value.sliced(53, 2), flags)) {
        return std::nullopt;
    }
    // Version 00 has exactly these fields; later versions may append "-..." fields.
    if (value.size() > TRACEPARENT_LENGTH && (version[0] == 0 || value[TRACEPARENT_LENGTH] != '-')) {
        return std::nullopt;
    }
    if (isZero(context.traceId) || isZero(context.spanId)) {
        return std::nullopt;
    }
    context.sampled = (flags[0] & 0x01) != 0;
    return context;
}

} // namespace Gateway::Tracing
