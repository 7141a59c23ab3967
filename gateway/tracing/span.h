#pragma once

#include "tracecontext.h"

#include <QByteArray>

#include <variant>
#include <vector>

namespace Gateway::Tracing {

// OTLP's SpanKind and Status.code values (opentelemetry/proto/trace/v1/trace.proto).
enum class SpanKind { Internal = 1, Server = 2, Client = 3 };
enum class StatusCode { Unset = 0, Ok = 1, Error = 2 };

// A typed attribute value, as OTLP's AnyValue: string, int64, double, bool, or an array
// of strings (gen_ai.response.finish_reasons).
using AttributeValue = std::variant<QByteArray, qint64, double, bool, std::vector<QByteArray>>;

struct Attribute {
    const char *key; // a string literal: attribute names are fixed, so none is allocated
    AttributeValue value;
};

// One finished span, as handed to the exporter: plain data, moved between threads.
struct Span {
    TraceId traceId {};
    SpanId spanId {};
    SpanId parentSpanId {}; // all zero = a root span
    QByteArray name;
    SpanKind kind = SpanKind::Internal;
    qint64 startUnixNano = 0;
    qint64 endUnixNano = 0;
    StatusCode status = StatusCode::Unset;
    QByteArray statusMessage; // only with StatusCode::Error
    std::vector<Attribute> attributes;

    // `key` must outlive the span: a string literal.
    void set(const char *key, QByteArray value) { attributes.push_back({key, AttributeValue {std::move(value)}}); }
    void set(const char *key, qint64 value) { attributes.push_back({key, AttributeValue {value}}); }
    void set(const char *key, double value) { attributes.push_back({key, AttributeValue {value}}); }
    void set(const char *key, bool value) { attributes.push_back({key, AttributeValue {value}}); }
    void set(const char *key, std::vector<QByteArray> values) { attributes.push_back({key, AttributeValue {std::move(values)}}); }
    // The value of `key`, or null when the span has none (tests, and the server span
    // copying what its answering attempt learned).
    const AttributeValue *find(QByteArrayView key) const;
};

} // namespace Gateway::Tracing
