#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <array>
#include <cstdint>
#include <optional>

namespace Gateway::Tracing {

using TraceId = std::array<std::uint8_t, 16>;
using SpanId = std::array<std::uint8_t, 8>;

// Lower-case hex, as both traceparent and the OTLP JSON encoding write ids.
QByteArray toHex(const TraceId &id);
QByteArray toHex(const SpanId &id);
bool isZero(const TraceId &id);
bool isZero(const SpanId &id);

// A W3C Trace Context position (https://www.w3.org/TR/trace-context/): the trace, the
// span a child hangs under, and whether the trace is sampled (trace-flags bit 0).
struct TraceContext {
    TraceId traceId {};
    SpanId spanId {};
    bool sampled = false;

    // "00-<32 hex>-<16 hex>-<2 hex>"
    QByteArray traceparent() const;
};

// Parses a traceparent header value. Version 00 exactly as specified; a later version
// is read by its first four fields, as the spec asks of a version-00 reader. Null for
// anything malformed, or an all-zero trace or span id (the caller then starts a trace).
std::optional<TraceContext> parseTraceparent(QByteArrayView value);

} // namespace Gateway::Tracing
