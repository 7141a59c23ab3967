// Tracing end to end: a gateway with simulated upstreams exports its spans over OTLP/HTTP
// JSON to a collector stand-in (TestSupport::OtlpReceiver) on 127.0.0.1. One SERVER span
// per request and a CLIENT span per attempt, linked by ids; GenAI attributes with the
// real token counts; failover; a caller's traceparent joined (or, unsampled, passed on);
// sample_ratio 0; a collector that is down or refusing; and the prefill step of a
// disaggregated (P/D) request.
//
// Absence of spans is never waited for: a later request with a sampled traceparent is
// sent as a marker, and once its spans arrived (the exporter sends in order) earlier
// spans would have too.

#include "gatewayfixture.h"
#include "otlpreceiver.h"
#include "sim/fleet/syntheticprompt.h"
#include "sim/fleetserver.h"
#include "sim/simulatedupstream.h"
#include "testhttpclient.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTcpServer>
#include <QElapsedTimer>
#include <QTest>

#include <algorithm>

#include <memory>

using Gateway::Sim::Behaviour;
using Gateway::Sim::Flavor;
using Gateway::Sim::SimulatedUpstream;
using TestSupport::OtlpReceiver;
using TestSupport::TestHttpClient;

namespace {

// Generous: the suite must pass on a loaded two-core machine.
constexpr int EXPORT_WAIT_MS = 30000;

QByteArray chat(const QByteArray &model, int maxTokens, bool stream)
{
    return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello there, tracer\"}],\"max_tokens\":" +
           QByteArray::number(maxTokens) + (stream ? ",\"stream\":true" : "") + "}";
}

using TestSupport::closedPort;

QByteArray headerOf(const Gateway::Http::HeaderList &headers, QByteArrayView name)
{
    for (const auto &header : headers) {
        if (header.name == name) {
            return header.value;
        }
    }
    return {};
}

const OtlpReceiver::Span *find(const QList<OtlpReceiver::Span> &spans, int kind, int nth = 0)
{
    for (const auto &span : spans) {
        if (span.kind == kind && nth-- == 0) {
            return &span;
        }
    }
    return nullptr;
}

// Attempt spans in the order they were made (switchyard.attempt).
QList<OtlpReceiver::Span> attemptsOf(QList<OtlpReceiver::Span> spans)
{
    spans.removeIf([](const OtlpReceiver::Span &span) { return span.kind != 3; });
    std::sort(spans.begin(), spans.end(), [](const auto &a, const auto &b) {
        return a.attributes.value(QStringLiteral("switchyard.attempt")).toLongLong() <
               b.attributes.value(QStringLiteral("switchyard.attempt")).toLongLong();
    });
    return spans;
}

} // namespace

class TestTracingEndToEnd final : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void requestSpanAndAttemptSpanAreLinked();
    void streamedUsageAndFinishReasonReachTheSpan();
    void failoverMakesTwoAttemptSpansTheFirstAnError();
    void callersTraceparentIsJoined();
    void unsampledTraceparentIsPassedOnAndNotExported();
    void sampleRatioZeroExportsNothing();
    void collectorDownCostsClientsNothingAndIsCounted();
    void refusedExportIsRetried();
    void disaggregatedRequestHasAPrefillSpan();

private:
    // Starts the gateway with `tracing` as its tracing section (empty = the default).
    void startGateway(const QByteArray &tracing = {});
    TestHttpClient::Response post(const QByteArray &body, const TestHttpClient::HeaderList &headers = {});
    QByteArray metrics();
    // Waits until the collector has `count` spans of `traceId`.
    bool waitForTrace(const QByteArray &traceId, int count);
    // The trace id of the traceparent the upstream last received.
    static QByteArray traceIdSeenBy(const SimulatedUpstream &upstream);
    // Sends a request under a sampled caller traceparent and waits for its two spans.
    bool sendMarker();

    std::unique_ptr<OtlpReceiver> m_collector;
    std::unique_ptr<SimulatedUpstream> m_primary;
    std::unique_ptr<SimulatedUpstream> m_backup;
    std::unique_ptr<Gateway::GatewayRuntime> m_gateway;
    int m_markers = 0;
};

void TestTracingEndToEnd::init()
{
    m_collector = std::make_unique<OtlpReceiver>();
    QVERIFY(m_collector->listen());
    m_primary = std::make_unique<SimulatedUpstream>(QStringLiteral("primary"), Flavor::OpenAi);
    m_backup = std::make_unique<SimulatedUpstream>(QStringLiteral("backup"), Flavor::OpenAi);
    QVERIFY(m_primary->listen().hasValue());
    QVERIFY(m_backup->listen().hasValue());
}

void TestTracingEndToEnd::cleanup()
{
    m_gateway.reset();
    m_primary.reset();
    m_backup.reset();
    m_collector.reset();
}

void TestTracingEndToEnd::startGateway(const QByteArray &tracing)
{
    const QByteArray section = tracing.isEmpty() ? "tracing:\n  otlp_endpoint: " + m_collector->url() +
                                                       "\n  service_name: switchyard-test\n  export_interval_ms: 20\n"
                                                       "  headers: {authorization: Bearer collector-secret}\n"
                                                 : tracing;
    const QByteArray yaml = R"(
providers:
  - name: primary
    type: vllm
    base_url: )" + m_primary->baseUrl() + R"(
  - name: backup
    type: openai
    base_url: )" + m_backup->baseUrl() + R"(
routes:
  - model: chat
    targets: [{provider: primary, model: m1}]
    fallbacks: [chat-backup]
  - model: chat-backup
    targets: [{provider: backup, model: m3}]
)" + section;
    m_gateway = TestSupport::startGateway(yaml);
    QVERIFY(m_gateway);
}

TestHttpClient::Response TestTracingEndToEnd::post(const QByteArray &body, const TestHttpClient::HeaderList &headers)
{
    TestHttpClient http {m_gateway->port()};
    http.post("/v1/chat/completions", body, headers);
    if (!http.waitForResponses(1, 20000)) {
        return {};
    }
    return http.responses().constFirst();
}

QByteArray TestTracingEndToEnd::metrics()
{
    TestHttpClient http {m_gateway->port()};
    http.get("/metrics");
    return http.waitForResponses(1) ? http.responses().constFirst().body : QByteArray();
}

bool TestTracingEndToEnd::waitForTrace(const QByteArray &traceId, int count)
{
    QElapsedTimer timer;
    timer.start();
    while (m_collector->spansOf(traceId).size() < count) {
        if (timer.elapsed() > EXPORT_WAIT_MS) {
            return false;
        }
        QTest::qWait(10); // processes events while the exporter thread works
    }
    return true;
}

QByteArray TestTracingEndToEnd::traceIdSeenBy(const SimulatedUpstream &upstream)
{
    const QByteArray traceparent = headerOf(upstream.lastRequestHeaders(), "traceparent");
    return traceparent.size() == 55 ? traceparent.mid(3, 32) : QByteArray();
}

bool TestTracingEndToEnd::sendMarker()
{
    const QByteArray trace = QByteArray::number(0x5eed0000 + ++m_markers, 16).rightJustified(32, '0');
    const auto response = post(chat("chat", 2, false), {{"traceparent", "00-" + trace + "-00f067aa0ba902b7-01"}});
    return response.status == 200 && waitForTrace(trace, 2);
}

void TestTracingEndToEnd::requestSpanAndAttemptSpanAreLinked()
{
    startGateway();
    const auto response = post(chat("chat", 5, false));
    QCOMPARE(response.status, 200);
    const QByteArray upstreamTraceparent = headerOf(m_primary->lastRequestHeaders(), "traceparent");
    QVERIFY2(QRegularExpression(QStringLiteral("^00-[0-9a-f]{32}-[0-9a-f]{16}-01$"))
                 .match(QString::fromLatin1(upstreamTraceparent)).hasMatch(),
             upstreamTraceparent.constData());
    const QByteArray traceId = upstreamTraceparent.mid(3, 32);
    QVERIFY(waitForTrace(traceId, 2));
    const auto spans = m_collector->spansOf(traceId);
    QCOMPARE(spans.size(), 2);
    const OtlpReceiver::Span *server = find(spans, 2);
    const OtlpReceiver::Span *attempt = find(spans, 3);
    QVERIFY(server && attempt);

    // Ids: the request's span is the trace's root; the attempt hangs under it, and the
    // upstream was told the attempt's own span id.
    QVERIFY(server->parentSpanId.isEmpty());
    QCOMPARE(attempt->parentSpanId, server->spanId);
    QCOMPARE(upstreamTraceparent.mid(36, 16), attempt->spanId);
    QVERIFY(server->startUnixNano > 0 && server->startUnixNano <= attempt->startUnixNano);
    QVERIFY(attempt->endUnixNano <= server->endUnixNano);
    QCOMPARE(server->serviceName, QStringLiteral("switchyard-test"));
    QCOMPARE(headerOf(m_collector->lastHeaders(), "authorization"), QByteArray("Bearer collector-secret"));

    // GenAI attributes with the upstream's real token counts.
    const QJsonObject body = QJsonDocument::fromJson(response.body).object();
    const QJsonObject usage = body.value(QStringLiteral("usage")).toObject();
    const qlonglong promptTokens = usage.value(QStringLiteral("prompt_tokens")).toInteger();
    const qlonglong completionTokens = usage.value(QStringLiteral("completion_tokens")).toInteger();
    QVERIFY(promptTokens > 0);
    QCOMPARE(completionTokens, 5);
    const QString finishReason =
        body.value(QStringLiteral("choices")).toArray().at(0).toObject().value(QStringLiteral("finish_reason")).toString();
    QVERIFY(!finishReason.isEmpty());

    const QVariantMap &s = server->attributes;
    QCOMPARE(server->name, QStringLiteral("chat chat"));
    QCOMPARE(s.value(QStringLiteral("gen_ai.operation.name")).toString(), QStringLiteral("chat"));
    QCOMPARE(s.value(QStringLiteral("gen_ai.system")).toString(), QStringLiteral("vllm"));
    QCOMPARE(s.value(QStringLiteral("gen_ai.request.model")).toString(), QStringLiteral("chat"));
    QCOMPARE(s.value(QStringLiteral("gen_ai.response.model")).toString(), QStringLiteral("m1"));
    QCOMPARE(s.value(QStringLiteral("gen_ai.request.max_tokens")).toLongLong(), 5);
    QCOMPARE(s.value(QStringLiteral("gen_ai.usage.input_tokens")).toLongLong(), promptTokens);
    QCOMPARE(s.value(QStringLiteral("gen_ai.usage.output_tokens")).toLongLong(), completionTokens);
    QCOMPARE(s.value(QStringLiteral("gen_ai.response.finish_reasons")).toStringList(), QStringList {finishReason});
    QCOMPARE(s.value(QStringLiteral("http.response.status_code")).toLongLong(), 200);
    QCOMPARE(s.value(QStringLiteral("switchyard.route")).toString(), QStringLiteral("chat"));
    QCOMPARE(s.value(QStringLiteral("switchyard.backend")).toString(), QStringLiteral("primary/m1"));
    QCOMPARE(s.value(QStringLiteral("switchyard.attempts")).toLongLong(), 1);
    QVERIFY(!s.value(QStringLiteral("switchyard.strategy")).toString().isEmpty());
    QVERIFY(s.value(QStringLiteral("switchyard.candidate_order")).toString().startsWith(QStringLiteral("primary/m1")));
    QVERIFY(s.value(QStringLiteral("switchyard.route_reason")).toString().contains(QStringLiteral("route=chat")));
    QCOMPARE(s.value(QStringLiteral("switchyard.request_id")).toString(),
             QString::fromLatin1(response.header("x-switchyard-request-id")));
    QCOMPARE(server->statusCode, 0);
    // Tracing builds the route reason for its spans; the client did not ask for it.
    QVERIFY(response.header("x-switchyard-route-reason").isNull());

    const QVariantMap &a = attempt->attributes;
    QCOMPARE(attempt->name, QStringLiteral("chat primary/m1"));
    QCOMPARE(a.value(QStringLiteral("gen_ai.system")).toString(), QStringLiteral("vllm"));
    QCOMPARE(a.value(QStringLiteral("gen_ai.request.model")).toString(), QStringLiteral("m1"));
    QCOMPARE(a.value(QStringLiteral("gen_ai.usage.input_tokens")).toLongLong(), promptTokens);
    QCOMPARE(a.value(QStringLiteral("gen_ai.usage.output_tokens")).toLongLong(), completionTokens);
    QCOMPARE(a.value(QStringLiteral("http.response.status_code")).toLongLong(), 200);
    QCOMPARE(a.value(QStringLiteral("server.address")).toString(), QStringLiteral("127.0.0.1"));
    QCOMPARE(a.value(QStringLiteral("server.port")).toLongLong(), qlonglong {m_primary->port()});
    QCOMPARE(a.value(QStringLiteral("switchyard.attempt")).toLongLong(), 1);
    QCOMPARE(a.value(QStringLiteral("switchyard.attempt.kind")).toString(), QStringLiteral("first"));
    QVERIFY(!a.contains(QStringLiteral("error.type")));
    QVERIFY(m_collector->malformedBodies().isEmpty());

    QTRY_VERIFY_WITH_TIMEOUT(metrics().contains("switchyard_trace_spans_exported_total 2\n"), EXPORT_WAIT_MS);
}

void TestTracingEndToEnd::streamedUsageAndFinishReasonReachTheSpan()
{
    startGateway();
    const auto response = post(chat("chat", 4, true));
    QCOMPARE(response.status, 200);
    const QByteArray traceId = traceIdSeenBy(*m_primary);
    QVERIFY(!traceId.isEmpty());
    QVERIFY(waitForTrace(traceId, 2));
    const auto spans = m_collector->spansOf(traceId);
    const OtlpReceiver::Span *server = find(spans, 2);
    QVERIFY(server);
    QCOMPARE(server->attributes.value(QStringLiteral("switchyard.stream")).toBool(), true);
    QCOMPARE(server->attributes.value(QStringLiteral("gen_ai.usage.output_tokens")).toLongLong(), 4);
    QVERIFY(server->attributes.value(QStringLiteral("gen_ai.usage.input_tokens")).toLongLong() > 0);
    QVERIFY(!server->attributes.value(QStringLiteral("gen_ai.response.finish_reasons")).toStringList().isEmpty());
    QVERIFY(server->attributes.value(QStringLiteral("switchyard.ttft_ms")).toDouble() >= 0);
}

void TestTracingEndToEnd::failoverMakesTwoAttemptSpansTheFirstAnError()
{
    startGateway();
    Behaviour failing;
    failing.failNextRequests = 1;
    failing.errorStatus = 500;
    m_primary->setBehaviour(failing);
    const auto response = post(chat("chat", 3, false));
    QCOMPARE(response.status, 200);
    QCOMPARE(response.header("x-switchyard-backend"), QByteArray("backup/m3"));
    const QByteArray traceId = traceIdSeenBy(*m_primary);
    QVERIFY(!traceId.isEmpty());
    QCOMPARE(headerOf(m_backup->lastRequestHeaders(), "traceparent").mid(3, 32), traceId);
    QVERIFY(waitForTrace(traceId, 3));
    const auto spans = m_collector->spansOf(traceId);
    QCOMPARE(spans.size(), 3);
    const OtlpReceiver::Span *server = find(spans, 2);
    QVERIFY(server);
    const auto attempts = attemptsOf(spans);
    QCOMPARE(attempts.size(), 2);
    for (const auto &attempt : attempts) {
        QCOMPARE(attempt.parentSpanId, server->spanId);
    }
    QVERIFY(attempts[0].spanId != attempts[1].spanId);
    QCOMPARE(headerOf(m_backup->lastRequestHeaders(), "traceparent").mid(36, 16), attempts[1].spanId);

    const OtlpReceiver::Span &failed = attempts[0];
    QCOMPARE(failed.name, QStringLiteral("chat primary/m1"));
    QCOMPARE(failed.statusCode, 2);
    QCOMPARE(failed.attributes.value(QStringLiteral("error.type")).toString(), QStringLiteral("500"));
    QCOMPARE(failed.attributes.value(QStringLiteral("http.response.status_code")).toLongLong(), 500);
    QVERIFY(!failed.attributes.contains(QStringLiteral("gen_ai.usage.output_tokens")));

    const OtlpReceiver::Span &answered = attempts[1];
    QCOMPARE(answered.name, QStringLiteral("chat backup/m3"));
    QCOMPARE(answered.statusCode, 0);
    QCOMPARE(answered.attributes.value(QStringLiteral("gen_ai.system")).toString(), QStringLiteral("openai"));
    QCOMPARE(answered.attributes.value(QStringLiteral("switchyard.attempt")).toLongLong(), 2);
    QCOMPARE(answered.attributes.value(QStringLiteral("switchyard.attempt.kind")).toString(), QStringLiteral("fallback"));
    QCOMPARE(answered.attributes.value(QStringLiteral("switchyard.route")).toString(), QStringLiteral("chat-backup"));
    QVERIFY(answered.attributes.value(QStringLiteral("switchyard.retry_reason")).toString().startsWith(QStringLiteral("500")));
    QCOMPARE(answered.attributes.value(QStringLiteral("gen_ai.usage.output_tokens")).toLongLong(), 3);

    QCOMPARE(server->statusCode, 0);
    QCOMPARE(server->attributes.value(QStringLiteral("switchyard.attempts")).toLongLong(), 2);
    QCOMPARE(server->attributes.value(QStringLiteral("switchyard.backend")).toString(), QStringLiteral("backup/m3"));
    QCOMPARE(server->attributes.value(QStringLiteral("gen_ai.system")).toString(), QStringLiteral("openai"));
}

void TestTracingEndToEnd::callersTraceparentIsJoined()
{
    startGateway();
    const QByteArray callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    const QByteArray callerSpan = "00f067aa0ba902b7";
    const auto response = post(chat("chat", 2, false),
                               {{"traceparent", "00-" + callerTrace + '-' + callerSpan + "-01"}, {"tracestate", "vendor=opaque"}});
    QCOMPARE(response.status, 200);
    QVERIFY(waitForTrace(callerTrace, 2));
    const auto spans = m_collector->spansOf(callerTrace);
    const OtlpReceiver::Span *server = find(spans, 2);
    const OtlpReceiver::Span *attempt = find(spans, 3);
    QVERIFY(server && attempt);
    QCOMPARE(server->parentSpanId, callerSpan);
    QCOMPARE(attempt->parentSpanId, server->spanId);
    QVERIFY(server->spanId != callerSpan);
    const auto upstream = m_primary->lastRequestHeaders();
    QCOMPARE(headerOf(upstream, "traceparent"), "00-" + callerTrace + '-' + attempt->spanId + "-01");
    QCOMPARE(headerOf(upstream, "tracestate"), QByteArray("vendor=opaque"));
}

void TestTracingEndToEnd::unsampledTraceparentIsPassedOnAndNotExported()
{
    startGateway();
    const QByteArray callerTraceparent = "00-11112222333344445555666677778888-1111222233334444-00";
    const auto response = post(chat("chat", 2, false), {{"traceparent", callerTraceparent}});
    QCOMPARE(response.status, 200);
    // Not ours to sample, but the trace goes on: the upstream sees the caller's context.
    QCOMPARE(headerOf(m_primary->lastRequestHeaders(), "traceparent"), callerTraceparent);
    QVERIFY(sendMarker());
    QVERIFY(m_collector->spansOf("11112222333344445555666677778888").isEmpty());
    QCOMPARE(m_collector->spans().size(), 2); // the marker's only
}

void TestTracingEndToEnd::sampleRatioZeroExportsNothing()
{
    startGateway("tracing: {otlp_endpoint: \"" + m_collector->url() + "\", sample_ratio: 0, export_interval_ms: 20}\n");
    for (int i = 0; i < 5; ++i) {
        QCOMPARE(post(chat("chat", 2, false)).status, 200);
        // Nothing is sampled, so nothing is propagated either.
        QVERIFY(headerOf(m_primary->lastRequestHeaders(), "traceparent").isNull());
    }
    // A caller's sampled traceparent still decides for its own trace: the marker.
    QVERIFY(sendMarker());
    QCOMPARE(m_collector->spans().size(), 2);
    QTRY_VERIFY_WITH_TIMEOUT(metrics().contains("switchyard_trace_spans_exported_total 2\n"), EXPORT_WAIT_MS);
}

void TestTracingEndToEnd::collectorDownCostsClientsNothingAndIsCounted()
{
    startGateway("tracing: {otlp_endpoint: \"http://127.0.0.1:" + QByteArray::number(closedPort()) +
                 "/v1/traces\", export_interval_ms: 20}\n");
    for (int i = 0; i < 3; ++i) {
        const auto response = post(chat("chat", 2, false));
        QCOMPARE(response.status, 200);
        QVERIFY(response.body.contains("\"choices\""));
    }
    const auto counter = [this](const QByteArray &series) {
        const QByteArray text = metrics();
        const qsizetype at = text.indexOf(QByteArray('\n' + series + ' '));
        return at < 0 ? -1 : text.mid(at + series.size() + 2, text.indexOf('\n', at + 1) - at - series.size() - 2).toLongLong();
    };
    QTRY_VERIFY_WITH_TIMEOUT(counter("switchyard_trace_export_failures_total") >= 1, EXPORT_WAIT_MS);
    // Every try failed: after the last one the spans are dropped, and counted.
    QTRY_VERIFY_WITH_TIMEOUT(counter("switchyard_trace_spans_dropped_total{reason=\"export_failed\"}") >= 2, EXPORT_WAIT_MS);
    QCOMPARE(counter("switchyard_trace_spans_exported_total"), 0);
    QCOMPARE(post(chat("chat", 2, false)).status, 200);
}

void TestTracingEndToEnd::refusedExportIsRetried()
{
    startGateway();
    m_collector->refuseNext(2, 503);
    const auto response = post(chat("chat", 2, false));
    QCOMPARE(response.status, 200);
    const QByteArray traceId = traceIdSeenBy(*m_primary);
    QVERIFY(waitForTrace(traceId, 2));
    QVERIFY(m_collector->exportsReceived() >= 3);
    // The failures are counted before the next try; the export after its answer.
    QVERIFY(metrics().contains("switchyard_trace_export_failures_total 2\n"));
    QTRY_VERIFY_WITH_TIMEOUT(metrics().contains("switchyard_trace_spans_exported_total 2\n"), EXPORT_WAIT_MS);
}

void TestTracingEndToEnd::disaggregatedRequestHasAPrefillSpan()
{
    using Gateway::Sim::FleetServer;
    Gateway::Sim::FleetServerConfig config;
    config.timeScale = 0.05; // twenty times faster than a GPU
    FleetServer prefill {QStringLiteral("p1"), config};
    FleetServer decode {QStringLiteral("d1"), config};
    QVERIFY(prefill.listen().hasValue() && decode.listen().hasValue());
    const auto provider = [](const FleetServer &server) -> QByteArray {
        return "  - {name: " + server.name().toUtf8() + ", type: vllm, base_url: " + server.baseUrl() +
               ", metrics_url: " + server.metricsUrl() + "}\n";
    };
    const QByteArray yaml = "routing: {metrics_interval_ms: 100}\nproviders:\n" + provider(prefill) + provider(decode) +
                            "routes:\n"
                            "  - model: chat\n"
                            "    strategy: prefix_aware\n"
                            "    pd: {uncached_tokens_threshold: 16}\n"
                            "    targets: [{provider: p1, model: m, pool: prefill}, {provider: d1, model: m, pool: decode}]\n"
                            "tracing: {otlp_endpoint: \"" + m_collector->url() + "\", export_interval_ms: 20}\n";
    m_gateway = TestSupport::startGateway(yaml);
    QVERIFY(m_gateway);
    QByteArray prompt;
    Gateway::Sim::Fleet::PromptRenderer::render(prompt, 7, 800); // long and uncached: disaggregated
    const QByteArray traceId = "0123456789abcdef0123456789abcdef";
    const auto response = post("{\"model\":\"chat\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"" + prompt +
                                   "\"}]}",
                               {{"traceparent", "00-" + traceId + "-1111111111111111-01"}});
    QCOMPARE(response.status, 200);
    QVERIFY(waitForTrace(traceId, 3));
    const auto spans = m_collector->spansOf(traceId);
    QCOMPARE(spans.size(), 3);
    const OtlpReceiver::Span *server = find(spans, 2);
    QVERIFY(server);
    QVERIFY2(server->attributes.value(QStringLiteral("switchyard.pd_decision")).toString().startsWith(QStringLiteral("pd=disaggregated")),
             qPrintable(server->attributes.value(QStringLiteral("switchyard.pd_decision")).toString()));
    const auto attempts = attemptsOf(spans);
    QCOMPARE(attempts.size(), 2);
    QCOMPARE(attempts[0].name, QStringLiteral("chat p1/m"));
    QCOMPARE(attempts[0].attributes.value(QStringLiteral("switchyard.attempt.kind")).toString(), QStringLiteral("prefill"));
    QCOMPARE(attempts[0].attributes.value(QStringLiteral("http.response.status_code")).toLongLong(), 200);
    QCOMPARE(attempts[0].statusCode, 0);
    QCOMPARE(attempts[1].name, QStringLiteral("chat d1/m"));
    QCOMPARE(attempts[1].attributes.value(QStringLiteral("switchyard.attempt.kind")).toString(), QStringLiteral("first"));
    QCOMPARE(attempts[1].attributes.value(QStringLiteral("gen_ai.usage.output_tokens")).toLongLong(), 8);
    for (const auto &attempt : attempts) {
        QCOMPARE(attempt.parentSpanId, server->spanId);
    }
    QCOMPARE(server->parentSpanId, QByteArray("1111111111111111"));
    // The gateway goes first: the fleet servers must outlive it.
    m_gateway.reset();
}

QTEST_GUILESS_MAIN(TestTracingEndToEnd)
#include "testtracingendtoend.moc"
