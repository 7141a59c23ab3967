// Upstream faults over real sockets: for each way an upstream can fail, the client gets
// the documented status and error body (or, once a stream has started, a terminal error
// event), a fallback route answers where one exists, the gateway keeps serving other
// requests, and nothing leaks: descriptors, in-flight requests and attempts return to
// where they were. docs/RELIABILITY.md lists every case.

#include "faultupstream.h"
#include "gatewayfixture.h"
#include "processstats.h"
#include "sim/simulatedupstream.h"
#include "testhttpclient.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpServer>
#include <QTest>

#include <memory>

using Gateway::Sim::Flavor;
using Gateway::Sim::SimulatedUpstream;
using TestSupport::FaultUpstream;
using TestSupport::TestHttpClient;
using Fault = FaultUpstream::Fault;

namespace {

constexpr int ANSWER_TIMEOUT_MS = 20000;

QByteArray chat(const QByteArray &model, bool stream)
{
    return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}],\"max_tokens\":3" +
           (stream ? ",\"stream\":true" : "") + "}";
}

QByteArray messages(const QByteArray &model, bool stream)
{
    return "{\"model\":\"" + model + "\",\"max_tokens\":3,\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]" +
           (stream ? ",\"stream\":true" : "") + "}";
}

using TestSupport::closedPort;

// Sum of every sample of a metric in Prometheus text (all label sets).
double metricSum(const QByteArray &text, const QByteArray &name)
{
    double sum = 0;
    for (const QByteArray &line : text.split('\n')) {
        if (line.startsWith(QByteArray(name + '{')) || line.startsWith(QByteArray(name + ' '))) {
            sum += line.mid(line.lastIndexOf(' ') + 1).toDouble();
        }
    }
    return sum;
}

// The upstream each test route points at: a fault of the fault upstream, or an address
// that cannot work at all.
struct FaultTarget {
    const char *name;
    Fault fault;
};

const FaultTarget FAULT_TARGETS[] = {
    {"reset-before-headers", Fault::ResetBeforeHeaders}, {"reset-mid-stream", Fault::ResetMidStream},
    {"no-headers", Fault::NoHeaders},                     {"stall-body", Fault::StallBody},
    {"invalid-json", Fault::InvalidJson},                 {"invalid-sse", Fault::InvalidSse},
    {"rate-limited", Fault::RateLimited},                 {"server-error", Fault::ServerError},
};

} // namespace

class TestUpstreamFaults final : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void faultWithoutFallback_data();
    void faultWithoutFallback();
    void faultWithFallback_data();
    void faultWithFallback();
    void streamResetIsResumedWhereResumptionIsOn();
    void rateLimitStormKeepsServingOthers();
    void serverErrorBurstOpensTheCircuitAndFallsBack();

private:
    TestHttpClient::Response post(const QByteArray &path, const QByteArray &body);
    QByteArray metrics();
    // The gateway still answers an ordinary request on a healthy route, on a new connection.
    void verifyStillServing();
    // Descriptors, active requests, attempts in flight and upstream connections are back
    // to where they were before the fault.
    void verifyNothingLeaked();

    std::unique_ptr<FaultUpstream> m_faults;
    std::unique_ptr<SimulatedUpstream> m_healthy;
    std::unique_ptr<SimulatedUpstream> m_healthyAnthropic;
    std::unique_ptr<Gateway::GatewayRuntime> m_gateway;
    int m_baselineFds = 0;
};

void TestUpstreamFaults::init()
{
    m_faults = std::make_unique<FaultUpstream>();
    QVERIFY(m_faults->listen());
    m_healthy = std::make_unique<SimulatedUpstream>(QStringLiteral("healthy"), Flavor::OpenAi);
    QVERIFY(m_healthy->listen().hasValue());
    m_healthyAnthropic = std::make_unique<SimulatedUpstream>(QStringLiteral("healthy-anthropic"), Flavor::Anthropic);
    QVERIFY(m_healthyAnthropic->listen().hasValue());

    // Short enough to keep the suite quick, long enough for a loaded machine: the fault
    // upstream answers from the test's own thread.
    const QByteArray timeouts = "    timeouts: {connect_ms: 1000, first_token_ms: 1500, idle_ms: 1500}\n";
    QByteArray providers = "providers:\n"
                           "  - name: healthy\n    type: vllm\n    base_url: " + m_healthy->baseUrl() + "\n"
                           "  - name: healthy-anthropic\n    type: anthropic\n    base_url: " + m_healthyAnthropic->baseUrl() + "\n"
                           "  - name: refused\n    type: vllm\n    base_url: http://127.0.0.1:" + QByteArray::number(closedPort()) + "/v1\n" + timeouts +
                           "  - name: dns-failure\n    type: vllm\n    base_url: http://nonexistent.invalid:8000/v1\n" + timeouts +
                           "  - name: tls-error\n    type: openai\n    base_url: " + m_faults->tlsUrl() + "\n" + timeouts +
                           "  - name: anthropic-server-error\n    type: anthropic\n    base_url: " + m_faults->baseUrl(Fault::ServerError) + "\n" + timeouts +
                           "  - name: anthropic-no-headers\n    type: anthropic\n    base_url: " + m_faults->baseUrl(Fault::NoHeaders) + "\n" + timeouts;
    QByteArray routes = "routes:\n"
                        "  - model: healthy\n    targets: [{provider: healthy, model: m-ok}]\n"
                        "  - model: healthy-anthropic\n    targets: [{provider: healthy-anthropic, model: claude-ok}]\n";
    QList<QByteArray> names {"refused", "dns-failure", "tls-error"};
    for (const auto &target : FAULT_TARGETS) {
        providers += "  - name: " + QByteArray(target.name) + "\n    type: vllm\n    base_url: " + m_faults->baseUrl(target.fault) +
                     "\n" + timeouts;
        names.append(target.name);
    }
    for (const QByteArray &name : names) {
        routes += "  - model: " + name + "\n    targets: [{provider: " + name + ", model: m-fault}]\n";
        routes += "  - model: " + name + "-fb\n    targets: [{provider: " + name + ", model: m-fault}]\n    fallbacks: [healthy]\n";
    }
    for (const QByteArray &name : {QByteArray("anthropic-server-error"), QByteArray("anthropic-no-headers")}) {
        routes += "  - model: " + name + "\n    targets: [{provider: " + name + ", model: claude-fault}]\n";
        routes += "  - model: " + name + "-fb\n    targets: [{provider: " + name + ", model: claude-fault}]\n"
                  "    fallbacks: [healthy-anthropic]\n";
    }
    routes += "  - model: resumable\n    stream_resumption: true\n"
              "    targets: [{provider: reset-mid-stream, model: m-fault}]\n    fallbacks: [healthy]\n";
    m_gateway = TestSupport::startGateway(providers + routes);
    QVERIFY(m_gateway);

    // Warm up first (the healthy upstreams' pooled connections, the workers' caches), so
    // the baseline is what a serving gateway holds.
    verifyStillServing();
    QCOMPARE(post("/v1/messages", messages("healthy-anthropic", false)).status, 200);
    QTRY_COMPARE(m_gateway->activeRequests(), 0);
    QTRY_COMPARE(m_faults->openConnections(), 0);
    m_baselineFds = TestSupport::openFileDescriptors();
    QVERIFY(m_baselineFds > 0);
}

void TestUpstreamFaults::cleanup()
{
    m_gateway.reset();
    m_faults.reset();
    m_healthy.reset();
    m_healthyAnthropic.reset();
}

TestHttpClient::Response TestUpstreamFaults::post(const QByteArray &path, const QByteArray &body)
{
    TestHttpClient http {m_gateway->port()};
    http.post(path, body);
    if (!http.waitForResponses(1, ANSWER_TIMEOUT_MS)) {
        qWarning("no complete answer; so far: %s", http.bodySoFar().constData());
        return {};
    }
    return http.responses().constFirst();
}

QByteArray TestUpstreamFaults::metrics()
{
    TestHttpClient http {m_gateway->port()};
    http.get("/metrics");
    return http.waitForResponses(1, ANSWER_TIMEOUT_MS) ? http.responses().constFirst().body : QByteArray();
}

void TestUpstreamFaults::verifyStillServing()
{
    const auto response = post("/v1/chat/completions", chat("healthy", false));
    QCOMPARE(response.status, 200);
    QCOMPARE(response.header("x-switchyard-backend"), QByteArray("healthy/m-ok"));
}

void TestUpstreamFaults::verifyNothingLeaked()
{
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->activeRequests(), 0, ANSWER_TIMEOUT_MS);
    // The gateway gave up on stalled upstream connections, so the fault upstream saw
    // them close.
    QTRY_COMPARE_WITH_TIMEOUT(m_faults->openConnections(), 0, ANSWER_TIMEOUT_MS);
    QTRY_VERIFY2_WITH_TIMEOUT(TestSupport::openFileDescriptors() <= m_baselineFds,
                              qPrintable(QStringLiteral("%1 descriptors open, %2 before the fault")
                                             .arg(TestSupport::openFileDescriptors())
                                             .arg(m_baselineFds)),
                              ANSWER_TIMEOUT_MS);
    const QByteArray text = metrics();
    QVERIFY(text.contains("switchyard_backend_in_flight"));
    QCOMPARE(metricSum(text, "switchyard_backend_in_flight"), 0.0);
    QCOMPARE(metricSum(text, "switchyard_retries_in_flight"), 0.0);
}

void TestUpstreamFaults::faultWithoutFallback_data()
{
    QTest::addColumn<QByteArray>("route");
    QTest::addColumn<bool>("stream");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("code"); // error code in the body or the terminal stream event; empty: none

    // Nothing reached the client yet: an error response.
    QTest::addRow("connection refused") << QByteArray("refused") << false << 502 << QByteArray("upstream_unreachable");
    QTest::addRow("connection refused, stream") << QByteArray("refused") << true << 502 << QByteArray("upstream_unreachable");
    QTest::addRow("DNS failure") << QByteArray("dns-failure") << false << 502 << QByteArray("upstream_unreachable");
    QTest::addRow("TLS error") << QByteArray("tls-error") << false << 502 << QByteArray("upstream_unreachable");
    QTest::addRow("reset before headers") << QByteArray("reset-before-headers") << false << 502 << QByteArray("upstream_reset");
    QTest::addRow("reset before headers, stream") << QByteArray("reset-before-headers") << true << 502 << QByteArray("upstream_reset");
    QTest::addRow("headers never arrive") << QByteArray("no-headers") << false << 504 << QByteArray("upstream_timeout");
    QTest::addRow("headers never arrive, stream") << QByteArray("no-headers") << true << 504 << QByteArray("upstream_timeout");
    QTest::addRow("body stalls") << QByteArray("stall-body") << false << 504 << QByteArray("upstream_timeout");
    QTest::addRow("429") << QByteArray("rate-limited") << false << 429 << QByteArray("rate_limited");
    QTest::addRow("503") << QByteArray("server-error") << false << 502 << QByteArray("upstream_error");
    QTest::addRow("503, stream") << QByteArray("server-error") << true << 502 << QByteArray("upstream_error");
    // The stream had started: 200, then a terminal error event and no [DONE].
    QTest::addRow("reset mid-stream") << QByteArray("reset-mid-stream") << true << 200 << QByteArray("upstream_reset");
    QTest::addRow("stream stalls") << QByteArray("stall-body") << true << 200 << QByteArray("upstream_timeout");
    // A 2xx answer is the upstream's: passed through as it came.
    QTest::addRow("invalid JSON with 200") << QByteArray("invalid-json") << false << 200 << QByteArray();
    QTest::addRow("invalid SSE") << QByteArray("invalid-sse") << true << 200 << QByteArray();
}

void TestUpstreamFaults::faultWithoutFallback()
{
    QFETCH(QByteArray, route);
    QFETCH(bool, stream);
    QFETCH(int, status);
    QFETCH(QByteArray, code);

    const auto response = post("/v1/chat/completions", chat(route, stream));
    QCOMPARE(response.status, status);
    if (status != 200) {
        QCOMPARE(response.header("content-type"), QByteArray("application/json"));
        const QJsonObject error = QJsonDocument::fromJson(response.body).object().value(QStringLiteral("error")).toObject();
        QCOMPARE(error.value(QStringLiteral("code")).toString().toUtf8(), code);
        // The message names the backend that failed.
        QVERIFY2(error.value(QStringLiteral("message")).toString().contains(QString::fromUtf8(route)), response.body.constData());
        QVERIFY(error.contains(QStringLiteral("type")));
        if (status == 429) {
            QCOMPARE(response.header("retry-after"), QByteArray::number(FaultUpstream::RETRY_AFTER_SECONDS));
        }
    } else if (!code.isEmpty()) {
        const QList<QByteArray> events = response.sseDataLines();
        QVERIFY(!events.isEmpty());
        QVERIFY2(!events.contains("[DONE]"), response.body.constData());
        const QJsonObject error = QJsonDocument::fromJson(events.constLast()).object().value(QStringLiteral("error")).toObject();
        QCOMPARE(error.value(QStringLiteral("code")).toString().toUtf8(), code);
        QVERIFY(error.value(QStringLiteral("message")).toString().contains(QStringLiteral("incomplete")));
        if (route == "reset-mid-stream") {
            // What arrived before the reset reached the client.
            QCOMPARE(events.size(), FaultUpstream::RESET_AFTER_EVENTS + 1);
        }
    } else if (route == "invalid-json") {
        QCOMPARE(response.body, QByteArray("{\"id\":\"fault\",\"choices\":[{\"message\":{\"content\":"));
    } else {
        QVERIFY2(response.body.contains("data: {not json at all"), response.body.constData());
    }
    verifyStillServing();
    verifyNothingLeaked();
}

void TestUpstreamFaults::faultWithFallback_data()
{
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("route");
    QTest::addColumn<bool>("stream");
    QTest::addColumn<QByteArray>("backend");

    const QByteArray chatPath = "/v1/chat/completions";
    for (const char *route : {"refused", "dns-failure", "tls-error", "reset-before-headers", "no-headers", "rate-limited", "server-error"}) {
        QTest::addRow("%s", route) << chatPath << QByteArray(route) << false << QByteArray("healthy/m-ok");
        QTest::addRow("%s, stream", route) << chatPath << QByteArray(route) << true << QByteArray("healthy/m-ok");
    }
    QTest::addRow("body stalls") << chatPath << QByteArray("stall-body") << false << QByteArray("healthy/m-ok");
    const QByteArray messagesPath = "/v1/messages";
    QTest::addRow("anthropic 503") << messagesPath << QByteArray("anthropic-server-error") << false
                                   << QByteArray("healthy-anthropic/claude-ok");
    QTest::addRow("anthropic headers never arrive, stream")
        << messagesPath << QByteArray("anthropic-no-headers") << true << QByteArray("healthy-anthropic/claude-ok");
}

void TestUpstreamFaults::faultWithFallback()
{
    QFETCH(QByteArray, path);
    QFETCH(QByteArray, route);
    QFETCH(bool, stream);
    QFETCH(QByteArray, backend);

    const QByteArray body = path == "/v1/messages" ? messages(route + "-fb", stream) : chat(route + "-fb", stream);
    const auto response = post(path, body);
    QCOMPARE(response.status, 200);
    QCOMPARE(response.header("x-switchyard-backend"), backend);
    if (stream) {
        QVERIFY2(response.body.contains(path == "/v1/messages" ? "message_stop" : "[DONE]"), response.body.constData());
    }
    QVERIFY(metricSum(metrics(), "switchyard_fallbacks_total") >= 1);
    verifyStillServing();
    verifyNothingLeaked();
}

void TestUpstreamFaults::streamResetIsResumedWhereResumptionIsOn()
{
    // After the commit point a fallback only helps where the route resumes streams.
    const auto response = post("/v1/chat/completions", chat("resumable", true));
    QCOMPARE(response.status, 200);
    const QList<QByteArray> events = response.sseDataLines();
    QVERIFY2(events.contains("[DONE]"), response.body.constData());
    QVERIFY(!response.body.contains("\"error\""));
    QCOMPARE(m_faults->requests(Fault::ResetMidStream), 1);
    QCOMPARE(m_healthy->requestsReceived(), 2); // the warm-up, then the continuation
    verifyStillServing();
    verifyNothingLeaked();
}

void TestUpstreamFaults::rateLimitStormKeepsServingOthers()
{
    // A storm of 429s: each is answered 429 + Retry-After, none is lost, and requests on
    // other routes are served in between.
    constexpr int STORM = 60;
    std::vector<std::unique_ptr<TestHttpClient>> clients;
    for (int i = 0; i < STORM; ++i) {
        clients.push_back(std::make_unique<TestHttpClient>(m_gateway->port()));
        clients.back()->post("/v1/chat/completions", chat("rate-limited", i % 3 == 0));
    }
    verifyStillServing();
    for (const auto &client : clients) {
        QVERIFY(client->waitForResponses(1, ANSWER_TIMEOUT_MS));
        const auto response = client->responses().constFirst();
        QCOMPARE(response.status, 429);
        QVERIFY(!response.header("retry-after").isEmpty());
    }
    clients.clear();
    verifyStillServing();
    verifyNothingLeaked();
}

void TestUpstreamFaults::serverErrorBurstOpensTheCircuitAndFallsBack()
{
    // A burst of 5xx on the primary: every request is still answered by the fallback,
    // and the primary's circuit opens, so later requests skip it.
    constexpr int BURST = 40;
    for (int i = 0; i < BURST; ++i) {
        const auto response = post("/v1/chat/completions", chat("server-error-fb", i % 3 == 0));
        QCOMPARE(response.status, 200);
        QCOMPARE(response.header("x-switchyard-backend"), QByteArray("healthy/m-ok"));
    }
    QVERIFY2(m_faults->requests(Fault::ServerError) < BURST,
             qPrintable(QStringLiteral("the failing backend got all %1 requests").arg(BURST)));
    QVERIFY(metrics().contains("switchyard_backend_health_transitions_total{backend=\"server-error/m-fault\",to=\"failed\"}"));
    verifyStillServing();
    verifyNothingLeaked();
}

QTEST_GUILESS_MAIN(TestUpstreamFaults)
#include "testupstreamfaults.moc"
