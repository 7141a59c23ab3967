// Retries and fallbacks before the first byte reaches the client, and truthful errors
// after it.

#include "gatewayfixture.h"
#include "sim/simulatedupstream.h"
#include "ssecontent.h"
#include "testhttpclient.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpServer>
#include <QTest>

#include <memory>

using Gateway::Sim::Behaviour;
using Gateway::Sim::Flavor;
using Gateway::Sim::SimulatedUpstream;
using TestSupport::TestHttpClient;

namespace {

QByteArray chat(const QByteArray &model, int maxTokens, bool stream)
{
    return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}],\"max_tokens\":" +
           QByteArray::number(maxTokens) + (stream ? ",\"stream\":true" : "") + "}";
}

using TestSupport::errorOf;

using TestSupport::closedPort;

} // namespace

class TestProxyFailover final : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void fallbackRouteAnswersAfterUpstream500();
    void fallbackRouteAnswersAfterConnectionRefused();
    void fallbackRouteAnswersAfterFirstTokenTimeout();
    void failingTargetIsSkippedWithinRoute();
    void rateLimitedEverywhereIs429WithRetryAfter();
    void allAttemptsFailingIs502NamingTheAttempts();
    void clientErrorIsNotRetried();
    void streamResetAfterCommitEndsWithErrorEvent();
    void metricsCountFallbacksAndBackendErrors();

private:
    TestHttpClient::Response post(const QByteArray &body);
    QByteArray metrics();

    std::unique_ptr<SimulatedUpstream> m_primary;
    std::unique_ptr<SimulatedUpstream> m_secondary;
    std::unique_ptr<SimulatedUpstream> m_backup;
    std::unique_ptr<Gateway::GatewayRuntime> m_gateway;
};

void TestProxyFailover::init()
{
    m_primary = std::make_unique<SimulatedUpstream>(QStringLiteral("primary"), Flavor::OpenAi);
    m_secondary = std::make_unique<SimulatedUpstream>(QStringLiteral("secondary"), Flavor::OpenAi);
    m_backup = std::make_unique<SimulatedUpstream>(QStringLiteral("backup"), Flavor::OpenAi);
    QVERIFY(m_primary->listen().hasValue());
    QVERIFY(m_secondary->listen().hasValue());
    QVERIFY(m_backup->listen().hasValue());
    const QByteArray yaml = R"(
providers:
  - name: primary
    type: vllm
    base_url: )" + m_primary->baseUrl() + R"(
    timeouts: {connect_ms: 1000, first_token_ms: 300, idle_ms: 2000}
  - name: secondary
    type: vllm
    base_url: )" + m_secondary->baseUrl() + R"(
  - name: backup
    type: openai
    base_url: )" + m_backup->baseUrl() + R"(
  - name: refused
    type: vllm
    base_url: http://127.0.0.1:)" + QByteArray::number(closedPort()) + R"(/v1
routes:
  - model: chat
    targets: [{provider: primary, model: m1}]
    fallbacks: [chat-backup]
  - model: chat-backup
    targets: [{provider: backup, model: m3}]
  - model: refused-first
    targets: [{provider: refused, model: m0}]
    fallbacks: [chat-backup]
  - model: pair
    targets: [{provider: primary, model: m1, weight: 1}, {provider: secondary, model: m2, weight: 1}]
)";
    m_gateway = TestSupport::startGateway(yaml);
    QVERIFY(m_gateway);
}

void TestProxyFailover::cleanup()
{
    m_gateway.reset();
    m_primary.reset();
    m_secondary.reset();
    m_backup.reset();
}

TestHttpClient::Response TestProxyFailover::post(const QByteArray &body)
{
    TestHttpClient http {m_gateway->port()};
    http.post("/v1/chat/completions", body);
    if (!http.waitForResponses(1)) {
        return {};
    }
    return http.responses().constFirst();
}

QByteArray TestProxyFailover::metrics()
{
    TestHttpClient http {m_gateway->port()};
    http.get("/metrics");
    return http.waitForResponses(1) ? http.responses().constFirst().body : QByteArray();
}

void TestProxyFailover::fallbackRouteAnswersAfterUpstream500()
{
    Behaviour failing;
    failing.failNextRequests = 1;
    failing.errorStatus = 500;
    m_primary->setBehaviour(failing);
    const auto response = post(chat("chat", 3, false));
    QCOMPARE(response.status, 200);
    QCOMPARE(response.header("x-switchyard-backend"), QByteArray("backup/m3"));
    QCOMPARE(m_primary->requestsReceived(), 1);
    QCOMPARE(m_backup->requestsReceived(), 1);
    QVERIFY(m_backup->lastRequestBody().contains("\"model\":\"m3\""));
}

void TestProxyFailover::fallbackRouteAnswersAfterConnectionRefused()
{
    const auto response = post(chat("refused-first", 2, true));
    QCOMPARE(response.status, 200);
    QCOMPARE(response.header("x-switchyard-backend"), QByteArray("backup/m3"));
    QCOMPARE(TestSupport::joinedStreamContent(response.sseDataLines()), TestSupport::expectedSimContent(2));
}

void TestProxyFailover::fallbackRouteAnswersAfterFirstTokenTimeout()
{
    Behaviour slow;
    slow.headerDelayMs = 10000;
    m_primary->setBehaviour(slow);
    const auto response = post(chat("chat", 2, false));
    QCOMPARE(response.status, 200);
    QCOMPARE(response.header("x-switchyard-backend"), QByteArray("backup/m3"));
    // The abandoned attempt was cancelled upstream, not left running.
    QTRY_COMPARE_WITH_TIMEOUT(m_primary->requestsCancelled(), 1, 5000);
}

void TestProxyFailover::failingTargetIsSkippedWithinRoute()
{
    Behaviour broken;
    broken.errorRate = 1.0;
    broken.errorStatus = 503;
    m_primary->setBehaviour(broken);
    for (int i = 0; i < 12; ++i) {
        const auto response = post(chat("pair", 1, i % 2 == 0));
        QCOMPARE(response.status, 200);
        QCOMPARE(response.header("x-switchyard-backend"), QByteArray("secondary/m2"));
    }
    QCOMPARE(m_secondary->requestsReceived(), 12);
    // Weighted 1:1, the broken target is tried first about half the time; never zero
    // with this many requests unless ranking ignored weights (probability 2^-12).
    QVERIFY(m_primary->requestsReceived() > 0);
}

void TestProxyFailover::rateLimitedEverywhereIs429WithRetryAfter()
{
    Behaviour limited;
    limited.rateLimitRate = 1.0;
    limited.retryAfterSeconds = 7;
    m_primary->setBehaviour(limited);
    m_backup->setBehaviour(limited);
    const auto response = post(chat("chat", 2, false));
    QCOMPARE(response.status, 429);
    QCOMPARE(response.header("retry-after"), QByteArray("7"));
    QCOMPARE(errorOf(response)[u"type"_qs].toString(), QStringLiteral("rate_limit_error"));
    QCOMPARE(errorOf(response)[u"code"_qs].toString(), QStringLiteral("rate_limited"));
}

void TestProxyFailover::allAttemptsFailingIs502NamingTheAttempts()
{
    Behaviour broken;
    broken.errorRate = 1.0;
    broken.errorStatus = 500;
    m_primary->setBehaviour(broken);
    m_backup->setBehaviour(broken);
    const auto response = post(chat("chat", 2, false));
    QCOMPARE(response.status, 502);
    const QString message = errorOf(response)[u"message"_qs].toString();
    QVERIFY2(message.contains(u"all 2 attempts"), qPrintable(message));
    QVERIFY2(message.contains(u"backup/m3 answered 500"), qPrintable(message));
    QCOMPARE(errorOf(response)[u"code"_qs].toString(), QStringLiteral("upstream_error"));
}

void TestProxyFailover::clientErrorIsNotRetried()
{
    Behaviour refuses;
    refuses.failNextRequests = 1;
    refuses.errorStatus = 422;
    m_primary->setBehaviour(refuses);
    const auto response = post(chat("chat", 2, false));
    QCOMPARE(response.status, 422);
    QCOMPARE(m_backup->requestsReceived(), 0);
}

void TestProxyFailover::streamResetAfterCommitEndsWithErrorEvent()
{
    Behaviour resets;
    resets.resetAfterChunks = 2;
    m_primary->setBehaviour(resets);
    const auto response = post(chat("chat", 10, true));
    QCOMPARE(response.status, 200); // committed before the failure
    const QList<QByteArray> data = response.sseDataLines();
    QVERIFY(!data.isEmpty());
    const QJsonObject last = QJsonDocument::fromJson(data.constLast()).object();
    QVERIFY2(last.contains(u"error"_qs), data.constLast().constData());
    QCOMPARE(last[u"error"_qs].toObject()[u"code"_qs].toString(), QStringLiteral("upstream_reset"));
    QVERIFY(!data.contains("[DONE]"));
    QCOMPARE(TestSupport::joinedStreamContent(data), QByteArray("tok0 tok1"));
    // Nothing may be retried once the client has bytes.
    QCOMPARE(m_backup->requestsReceived(), 0);
}

void TestProxyFailover::metricsCountFallbacksAndBackendErrors()
{
    Behaviour failing;
    failing.failNextRequests = 2;
    failing.errorStatus = 502;
    m_primary->setBehaviour(failing);
    QCOMPARE(post(chat("chat", 1, false)).status, 200);
    QCOMPARE(post(chat("chat", 1, false)).status, 200);
    QCOMPARE(post(chat("chat", 1, false)).status, 200);
    const QByteArray text = metrics();
    QVERIFY2(text.contains("switchyard_fallbacks_total{route=\"chat\"} 2\n"), text.constData());
    QVERIFY(text.contains("switchyard_requests_total{route=\"chat\"} 3\n"));
    QVERIFY(text.contains("switchyard_backend_errors_total{backend=\"primary/m1\",class=\"upstream_error\"} 2\n"));
    QVERIFY(text.contains("switchyard_backend_attempts_total{backend=\"primary/m1\"} 3\n"));
    QVERIFY(text.contains("switchyard_backend_attempts_total{backend=\"backup/m3\"} 2\n"));
}

QTEST_GUILESS_MAIN(TestProxyFailover)
#include "testproxyfailover.moc"
