#include "tracingloader.h"

#include <QUrl>

namespace Gateway::Config {

namespace {

// A batch is sent at least this often, and at most this rarely: below, the exporter
// would post a request per handful of spans; above, a crash loses minutes of traces.
constexpr qint64 MIN_EXPORT_INTERVAL_MS = 10;
constexpr qint64 MAX_EXPORT_INTERVAL_MS = 600'000;
// Each waiting span holds a few hundred bytes: ten million is gigabytes, surely a typo.
constexpr qint64 MAX_QUEUE_SPANS = 10'000'000;

} // namespace

TracingSettings parseTracing(const DocumentReader &reader, const YAML::Node &node)
{
    const QString field = QStringLiteral("tracing");
    TracingSettings settings;
    reader.requireMap(node, field);
    reader.checkKeys(node, field,
                     {"otlp_endpoint", "service_name", "sample_ratio", "export_interval_ms", "max_queue_spans", "headers"});
    const QString endpoint = reader.requiredString(node, "otlp_endpoint", field);
    const QUrl url {endpoint, QUrl::StrictMode};
    if (!url.isValid() || (url.scheme() != u"http" && url.scheme() != u"https") || url.host().isEmpty()) {
        reader.fail(node["otlp_endpoint"], QStringLiteral("tracing.otlp_endpoint"),
                    QStringLiteral("'%1' is not an http:// or https:// URL (OTLP/HTTP, e.g. http://127.0.0.1:4318/v1/traces)")
                        .arg(endpoint));
    }
    settings.otlpEndpoint = endpoint.toUtf8();
    if (node["service_name"]) {
        const QString name = reader.string(node["service_name"], QStringLiteral("tracing.service_name"));
        if (name.isEmpty()) {
            reader.fail(node["service_name"], QStringLiteral("tracing.service_name"), QStringLiteral("must not be empty"));
        }
        settings.serviceName = name.toUtf8();
    }
    if (node["sample_ratio"]) {
        settings.sampleRatio = reader.number(node["sample_ratio"], QStringLiteral("tracing.sample_ratio"), 0.0, 1.0);
    }
    if (node["export_interval_ms"]) {
        settings.exportIntervalMs = static_cast<int>(reader.integer(
            node["export_interval_ms"], QStringLiteral("tracing.export_interval_ms"), MIN_EXPORT_INTERVAL_MS, MAX_EXPORT_INTERVAL_MS));
    }
    if (node["max_queue_spans"]) {
        settings.maxQueueSpans = static_cast<int>(
            reader.integer(node["max_queue_spans"], QStringLiteral("tracing.max_queue_spans"), 1, MAX_QUEUE_SPANS));
    }
    if (node["headers"]) {
        settings.headers = reader.headerMap(node["headers"], QStringLiteral("tracing.headers"));
    }
    return settings;
}

} // namespace Gateway::Config
