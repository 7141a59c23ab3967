#include "otlpjson.h"

#include "util/jsonwriter.h"

#include <QLocale>

#include <cmath>

namespace Gateway::Tracing {

namespace {

// The instrumentation scope naming the code that made the spans.
constexpr QByteArrayView SCOPE_NAME = "switchyard.gateway";

void appendAnyValue(QByteArray &out, const AttributeValue &value)
{
    if (const auto *text = std::get_if<QByteArray>(&value)) {
        out += "{\"stringValue\":";
        Json::appendString(out, *text);
        out += '}';
    } else if (const auto *integer = std::get_if<qint64>(&value)) {
        // proto3 JSON writes int64 as a string.
        out += "{\"intValue\":\"" + QByteArray::number(*integer) + "\"}";
    } else if (const auto *real = std::get_if<double>(&value)) {
        // JSON has no NaN or infinity; proto3 JSON spells them as strings.
        if (std::isnan(*real)) {
            out += "{\"doubleValue\":\"NaN\"}";
        } else if (std::isinf(*real)) {
            out += *real > 0 ? "{\"doubleValue\":\"Infinity\"}" : "{\"doubleValue\":\"-Infinity\"}";
        } else {
            out += "{\"doubleValue\":" + QString::number(*real, 'g', QLocale::FloatingPointShortest).toLatin1() + '}';
        }
    } else if (const auto *flag = std::get_if<bool>(&value)) {
        out += *flag ? "{\"boolValue\":true}" : "{\"boolValue\":false}";
    } else if (const auto *texts = std::get_if<std::vector<QByteArray>>(&value)) {
        out += "{\"arrayValue\":{\"values\":[";
        for (std::size_t i = 0; i < texts->size(); ++i) {
            out += i == 0 ? "{\"stringValue\":" : ",{\"stringValue\":";
            Json::appendString(out, (*texts)[i]);
            out += '}';
        }
        out += "]}}";
    }
}

void appendAttributes(QByteArray &out, const std::vector<Attribute> &attributes)
{
    out += '[';
    bool first = true;
    for (const Attribute &attribute : attributes) {
        if (!first) {
            out += ',';
        }
        first = false;
        out += "{\"key\":";
        Json::appendString(out, attribute.key);
        out += ",\"value\":";
        appendAnyValue(out, attribute.value);
        out += '}';
    }
    out += ']';
}

void appendSpan(QByteArray &out, const Span &span)
{
    out += "{\"traceId\":\"" + toHex(span.traceId) + "\",\"spanId\":\"" + toHex(span.spanId) + '"';
    if (!isZero(span.parentSpanId)) {
        out += ",\"parentSpanId\":\"" + toHex(span.parentSpanId) + '"';
    }
    out += ",\"name\":";
    Json::appendString(out, span.name);
    out += ",\"kind\":" + QByteArray::number(static_cast<int>(span.kind));
    out += ",\"startTimeUnixNano\":\"" + QByteArray::number(span.startUnixNano) + '"';
    out += ",\"endTimeUnixNano\":\"" + QByteArray::number(span.endUnixNano) + '"';
    out += ",\"attributes\":";
    appendAttributes(out, span.attributes);
    out += ",\"status\":{\"code\":" + QByteArray::number(static_cast<int>(span.status));
    if (span.status == StatusCode::Error && !span.statusMessage.isEmpty()) {
        out += ",\"message\":";
        Json::appendString(out, span.statusMessage);
    }
    out += "}}";
}

} // namespace

QByteArray encodeOtlpJson(std::span<const Span> spans, const ExportResource &resource)
{
    QByteArray out;
    out.reserve(256 + static_cast<qsizetype>(spans.size()) * 1024);
    std::vector<Attribute> resourceAttributes {{"service.name", AttributeValue {resource.serviceName}}};
    if (!resource.serviceVersion.isEmpty()) {
        resourceAttributes.push_back({"service.version", AttributeValue {resource.serviceVersion}});
    }
    out += "{\"resourceSpans\":[{\"resource\":{\"attributes\":";
    appendAttributes(out, resourceAttributes);
    out += "},\"scopeSpans\":[{\"scope\":{\"name\":";
    Json::appendString(out, SCOPE_NAME);
    if (!resource.serviceVersion.isEmpty()) {
        out += ",\"version\":";
        Json::appendString(out, resource.serviceVersion);
    }
    out += "},\"spans\":[";
    bool first = true;
    for (const Span &span : spans) {
        if (!first) {
            out += ',';
        }
        first = false;
        appendSpan(out, span);
    }
    out += "]}]}]}";
    return out;
}

} // namespace Gateway::Tracing
