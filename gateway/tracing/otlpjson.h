#pragma once

#include "span.h"

#include <QByteArray>

#include <span>

namespace Gateway::Tracing {

// What every exported span shares: the OTLP resource and instrumentation scope.
struct ExportResource {
    QByteArray serviceName;
    QByteArray serviceVersion;
};

// An ExportTraceServiceRequest in the OTLP/JSON encoding (the body of a POST to
// /v1/traces): resourceSpans -> scopeSpans -> spans. As that encoding requires, ids are
// lower-case hex strings (not base64), times and int64 attribute values decimal strings,
// enums numbers, and attributes typed AnyValues.
QByteArray encodeOtlpJson(std::span<const Span> spans, const ExportResource &resource);

} // namespace Gateway::Tracing
