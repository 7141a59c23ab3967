#pragma once

#include "http/request.h"

#include <QByteArray>
#include <QList>
#include <QMutex>
#include <QString>
#include <QVariantMap>

#include <memory>

namespace Gateway::Http {
class Server;
}

namespace TestSupport {

// An OpenTelemetry collector stand-in for tests: accepts OTLP/HTTP JSON exports
// (POST /v1/traces) on 127.0.0.1 with the gateway's own HTTP server (its own thread)
// and keeps every span it received, decoded. Can be told to refuse exports (e.g. 503)
// to exercise the exporter's retries. Every method may be called from any thread.
class OtlpReceiver final {
public:
    struct Span {
        QByteArray traceId;      // hex, as sent
        QByteArray spanId;
        QByteArray parentSpanId; // empty for a root span
        QString name;
        int kind = 0;            // OTLP SpanKind: 2 server, 3 client
        int statusCode = 0;      // 0 unset, 1 ok, 2 error
        QString statusMessage;
        qint64 startUnixNano = 0;
        qint64 endUnixNano = 0;
        QString serviceName;     // the resource's service.name
        // Decoded AnyValues: QString, qlonglong, double, bool, or QStringList for arrays.
        QVariantMap attributes;
    };

    OtlpReceiver();
    ~OtlpReceiver();
    OtlpReceiver(const OtlpReceiver &) = delete;
    OtlpReceiver &operator=(const OtlpReceiver &) = delete;

    bool listen();
    // "http://127.0.0.1:PORT/v1/traces"
    QByteArray url() const;

    // The next `count` exports are answered with `status` (and no span is kept).
    void refuseNext(int count, int status);

    QList<Span> spans() const;
    // The spans of one trace (hex trace id).
    QList<Span> spansOf(const QByteArray &traceId) const;
    int exportsReceived() const;
    // Headers of the last export request (names lower-case).
    Gateway::Http::HeaderList lastHeaders() const;
    // Bodies that were not valid OTLP JSON (each is a test failure).
    QList<QByteArray> malformedBodies() const;

private:
    class Handler;
    struct State;

    std::shared_ptr<State> m_state;
    std::unique_ptr<Gateway::Http::Server> m_server;
};

} // namespace TestSupport
