#include "otlpreceiver.h"

#include "http/server.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace TestSupport {

namespace {

QVariant anyValue(const QJsonObject &value)
{
    if (value.contains(QStringLiteral("stringValue"))) {
        return value.value(QStringLiteral("stringValue")).toString();
    }
    if (value.contains(QStringLiteral("intValue"))) {
        // proto3 JSON: int64 as a string (a number is accepted too, as collectors do).
        const QJsonValue integer = value.value(QStringLiteral("intValue"));
        return integer.isString() ? integer.toString().toLongLong() : static_cast<qlonglong>(integer.toDouble());
    }
    if (value.contains(QStringLiteral("doubleValue"))) {
        return value.value(QStringLiteral("doubleValue")).toDouble();
    }
    if (value.contains(QStringLiteral("boolValue"))) {
        return value.value(QStringLiteral("boolValue")).toBool();
    }
    if (value.contains(QStringLiteral("arrayValue"))) {
        QStringList values;
        const QJsonArray items = value.value(QStringLiteral("arrayValue")).toObject().value(QStringLiteral("values")).toArray();
        for (const QJsonValue &item : items) {
            values << item.toObject().value(QStringLiteral("stringValue")).toString();
        }
        return values;
    }
    return {};
}

QVariantMap attributesOf(const QJsonArray &attributes)
{
    QVariantMap map;
    for (const QJsonValue &attribute : attributes) {
        const QJsonObject object = attribute.toObject();
        map.insert(object.value(QStringLiteral("key")).toString(), anyValue(object.value(QStringLiteral("value")).toObject()));
    }
    return map;
}

} // namespace

struct OtlpReceiver::State {
    mutable QMutex mutex;
    QList<Span> spans;
    QList<QByteArray> malformed;
    Gateway::Http::HeaderList lastHeaders;
    int exports = 0;
    int refuseCount = 0;
    int refuseStatus = 503;

    // Decodes an ExportTraceServiceRequest; false when it is not one.
    bool decode(const QByteArray &body, QList<Span> &out) const
    {
        QJsonParseError error;
        const QJsonDocument document = QJsonDocument::fromJson(body, &error);
        if (error.error != QJsonParseError::NoError || !document.isObject()) {
            return false;
        }
        const QJsonValue resourceSpans = document.object().value(QStringLiteral("resourceSpans"));
        if (!resourceSpans.isArray()) {
            return false;
        }
        for (const QJsonValue &resourceValue : resourceSpans.toArray()) {
            const QJsonObject resource = resourceValue.toObject();
            const QVariantMap resourceAttributes =
                attributesOf(resource.value(QStringLiteral("resource")).toObject().value(QStringLiteral("attributes")).toArray());
            for (const QJsonValue &scopeValue : resource.value(QStringLiteral("scopeSpans")).toArray()) {
                for (const QJsonValue &spanValue : scopeValue.toObject().value(QStringLiteral("spans")).toArray()) {
                    const QJsonObject object = spanValue.toObject();
                    Span span;
                    span.traceId = object.value(QStringLiteral("traceId")).toString().toLatin1();
                    span.spanId = object.value(QStringLiteral("spanId")).toString().toLatin1();
                    span.parentSpanId = object.value(QStringLiteral("parentSpanId")).toString().toLatin1();
                    span.name = object.value(QStringLiteral("name")).toString();
                    span.kind = object.value(QStringLiteral("kind")).toInt();
                    const QJsonObject status = object.value(QStringLiteral("status")).toObject();
                    span.statusCode = status.value(QStringLiteral("code")).toInt();
                    span.statusMessage = status.value(QStringLiteral("message")).toString();
                    span.startUnixNano = object.value(QStringLiteral("startTimeUnixNano")).toString().toLongLong();
                    span.endUnixNano = object.value(QStringLiteral("endTimeUnixNano")).toString().toLongLong();
                    span.serviceName = resourceAttributes.value(QStringLiteral("service.name")).toString();
                    span.attributes = attributesOf(object.value(QStringLiteral("attributes")).toArray());
                    if (span.traceId.size() != 32 || span.spanId.size() != 16) {
                        return false;
                    }
                    out << span;
                }
            }
        }
        return true;
    }
};

class OtlpReceiver::Handler final : public Gateway::Http::RequestHandler {
public:
    explicit Handler(std::shared_ptr<State> state) : m_state {std::move(state)} {}

    std::unique_ptr<Gateway::Http::Exchange> handle(Gateway::Http::Request &&request,
                                                    Gateway::Http::ResponseWriter &writer) override
    {
        if (request.method != "POST" || request.path != "/v1/traces") {
            writer.respond(404, {{"content-type", "text/plain"}}, "not found");
            return nullptr;
        }
        QList<Span> decoded;
        const bool valid = m_state->decode(request.body, decoded);
        int status = 200;
        {
            const QMutexLocker lock {&m_state->mutex};
            ++m_state->exports;
            m_state->lastHeaders = request.headers;
            if (m_state->refuseCount > 0) {
                --m_state->refuseCount;
                status = m_state->refuseStatus;
            } else if (!valid) {
                m_state->malformed << request.body;
                status = 400;
            } else {
                m_state->spans << decoded;
            }
        }
        writer.respond(status, {{"content-type", "application/json"}}, status == 200 ? QByteArray("{}") : QByteArray("{\"code\":14}"));
        return nullptr;
    }

private:
    std::shared_ptr<State> m_state;
};

OtlpReceiver::OtlpReceiver()
    : m_state {std::make_shared<State>()}
{
}

OtlpReceiver::~OtlpReceiver() = default;

bool OtlpReceiver::listen()
{
    const std::shared_ptr<State> state = m_state;
    m_server = std::make_unique<Gateway::Http::Server>(
        QStringLiteral("otlp-receiver"), Gateway::Http::ServerLimits {}, [state] { return std::make_unique<Handler>(state); }, 1);
    return m_server->listen(QHostAddress::LocalHost, 0).hasValue();
}

QByteArray OtlpReceiver::url() const
{
    return "http://127.0.0.1:" + QByteArray::number(m_server ? m_server->port() : 0) + "/v1/traces";
}

void OtlpReceiver::refuseNext(int count, int status)
{
    const QMutexLocker lock {&m_state->mutex};
    m_state->refuseCount = count;
    m_state->refuseStatus = status;
}

QList<OtlpReceiver::Span> OtlpReceiver::spans() const
{
    const QMutexLocker lock {&m_state->mutex};
    return m_state->spans;
}

QList<OtlpReceiver::Span> OtlpReceiver::spansOf(const QByteArray &traceId) const
{
    QList<Span> out;
    for (const Span &span : spans()) {
        if (span.traceId == traceId) {
            out << span;
        }
    }
    return out;
}

int OtlpReceiver::exportsReceived() const
{
    const QMutexLocker lock {&m_state->mutex};
    return m_state->exports;
}

Gateway::Http::HeaderList OtlpReceiver::lastHeaders() const
{
    const QMutexLocker lock {&m_state->mutex};
    return m_state->lastHeaders;
}

QList<QByteArray> OtlpReceiver::malformedBodies() const
{
    const QMutexLocker lock {&m_state->mutex};
    return m_state->malformed;
}

} // namespace TestSupport
