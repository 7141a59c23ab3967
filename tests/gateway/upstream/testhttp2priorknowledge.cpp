// Providers with http2_prior_knowledge: the gateway speaks HTTP/2 without TLS (h2c) to an
// http:// upstream through libcurl, multiplexing streams over few connections. Everything
// the HTTP/1.1 path does must hold over h2 as well: answers passed through byte for byte,
// streams chunk by chunk, an upstream reset or a timeout ending only its own stream, and a
// client that goes away cancelling only its own h2 stream on a shared connection. The
// upstream (tests/support/h2cupstream.h) speaks nothing but HTTP/2, so every answer that
// arrives at all came over h2.

#include "gatewayfixture.h"
#include "h2cupstream.h"
#include "testhttpclient.h"
#include "upstream/curlmulti.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <algorithm>
#include <memory>
#include <vector>

using TestSupport::H2cBehaviour;
using TestSupport::H2cUpstream;
using TestSupport::TestHttpClient;
namespace H2cAnswers = TestSupport::H2cAnswers;

namespace {

// Generous: the suite must pass on a loaded two-core machine.
constexpr int ANSWER_TIMEOUT_MS = 30000;
constexpr int WORKER_THREADS = 2;

QByteArray chat(const QByteArray &model, bool stream)
{
    return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}],\"max_tokens\":3" +
           (stream ? ",\"stream\":true" : "") + "}";
}

// For failure messages: what the upstream saw.
QByteArray describe(const TestSupport::H2cCounters &counters)
{
    return QStringLiteral("upstream: %1 connections (%2 open), %3 requests, %4 held, %5 completed, %6 reset, %7 cancelled")
        .arg(counters.connectionsAccepted)
        .arg(counters.openConnections)
        .arg(counters.requests)
        .arg(counters.heldStreams)
        .arg(counters.completedStreams)
        .arg(counters.resetStreams)
        .arg(counters.cancelledStreams)
        .toUtf8();
}

bool hasFirstEvent(const TestHttpClient &client)
{
    return !client.currentResponse().sseDataLines().isEmpty();
}

} // namespace

class TestHttp2PriorKnowledge final : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void completionIsPassedThrough();
    void streamIsPassedThroughChunkByChunk();
    void concurrentStreamsShareFewConnections();
    void clientDisconnectCancelsOnlyItsStream();
    void upstreamResetEndsTheStreamWithAnError();
    void idleTimeoutEndsOnlyItsStream();

private:
    std::unique_ptr<TestHttpClient> startStream(const QByteArray &model);
    void verifyStillServing();

    std::unique_ptr<H2cUpstream> m_upstream;
    std::unique_ptr<Gateway::GatewayRuntime> m_gateway;
};

void TestHttp2PriorKnowledge::init()
{
    m_upstream = std::make_unique<H2cUpstream>();
    QVERIFY(m_upstream->listen());
    // Two providers on the same h2c origin: one waits long for a held stream, one gives up
    // after a short silence (the timeout case).
    const QByteArray yaml = "providers:\n"
                            "  - name: h2\n    type: vllm\n    http2_prior_knowledge: true\n    base_url: " +
                            m_upstream->baseUrl() +
                            "\n    timeouts: {idle_ms: 600000}\n"
                            "  - name: h2-impatient\n    type: vllm\n    http2_prior_knowledge: true\n    base_url: " +
                            m_upstream->baseUrl() +
                            "\n    timeouts: {idle_ms: 1500}\n"
                            "routes:\n"
                            "  - model: h2\n    targets: [{provider: h2, model: m}]\n"
                            "  - model: h2-impatient\n    targets: [{provider: h2-impatient, model: m}]\n";
    m_gateway = TestSupport::startGateway(yaml, WORKER_THREADS);
    QVERIFY(m_gateway);
}

void TestHttp2PriorKnowledge::cleanup()
{
    m_gateway.reset();
    m_upstream.reset();
}

std::unique_ptr<TestHttpClient> TestHttp2PriorKnowledge::startStream(const QByteArray &model)
{
    auto client = std::make_unique<TestHttpClient>(m_gateway->port());
    client->post("/v1/chat/completions", chat(model, true));
    return client;
}

void TestHttp2PriorKnowledge::verifyStillServing()
{
    TestHttpClient http {m_gateway->port()};
    http.post("/v1/chat/completions", chat("h2", false));
    QVERIFY(http.waitForResponses(1, ANSWER_TIMEOUT_MS));
    QCOMPARE(http.responses().constFirst().status, 200);
    QCOMPARE(http.responses().constFirst().body, H2cAnswers::completion());
}

void TestHttp2PriorKnowledge::completionIsPassedThrough()
{
    TestHttpClient http {m_gateway->port()};
    http.post("/v1/chat/completions", chat("h2", false));
    QVERIFY(http.waitForResponses(1, ANSWER_TIMEOUT_MS));
    const auto response = http.responses().constFirst();
    QCOMPARE(response.status, 200);
    QCOMPARE(response.header("content-type"), QByteArray("application/json"));
    QCOMPARE(response.body, H2cAnswers::completion());
    QCOMPARE(m_upstream->counters().requests, 1);
    QTRY_COMPARE_WITH_TIMEOUT(m_upstream->counters().completedStreams, 1, ANSWER_TIMEOUT_MS);
}

void TestHttp2PriorKnowledge::streamIsPassedThroughChunkByChunk()
{
    // Held after the first event: that event reaches the client while the upstream stream
    // is still open, so the gateway forwards DATA frames as they come.
    m_upstream->setBehaviour(H2cBehaviour {.holdAfterEvents = 1});
    const auto client = startStream("h2");
    QTRY_COMPARE_WITH_TIMEOUT(m_upstream->counters().heldStreams, 1, ANSWER_TIMEOUT_MS);
    QTRY_VERIFY_WITH_TIMEOUT(hasFirstEvent(*client), ANSWER_TIMEOUT_MS);
    QCOMPARE(client->currentResponse().status, 200);
    QCOMPARE(client->currentResponse().header("content-type"), QByteArray("text/event-stream"));
    QCOMPARE(client->bodySoFar(), H2cAnswers::streamEvents().constFirst());

    m_upstream->releaseHeldStreams();
    QVERIFY(client->waitForResponses(1, ANSWER_TIMEOUT_MS));
    QCOMPARE(client->responses().constFirst().body, H2cAnswers::streamBody());
    QTRY_COMPARE_WITH_TIMEOUT(m_upstream->counters().completedStreams, 1, ANSWER_TIMEOUT_MS);
}

void TestHttp2PriorKnowledge::concurrentStreamsShareFewConnections()
{
    constexpr int STREAMS = 200;
    m_upstream->setBehaviour(H2cBehaviour {.holdAfterEvents = 1});
    std::vector<std::unique_ptr<TestHttpClient>> clients;
    for (int i = 0; i < STREAMS; ++i) {
        clients.push_back(startStream("h2"));
    }
    QTRY_VERIFY2_WITH_TIMEOUT(m_upstream->counters().heldStreams == STREAMS, describe(m_upstream->counters()).constData(),
                              ANSWER_TIMEOUT_MS);
    QTRY_VERIFY_WITH_TIMEOUT(std::all_of(clients.begin(), clients.end(), [](const auto &c) { return hasFirstEvent(*c); }),
                             ANSWER_TIMEOUT_MS);
    // Multiplexed: each worker needs ceil(STREAMS / max streams per connection) of them;
    // one more per worker allows for a connection curl had already opened while the first
    // one's SETTINGS were still on their way.
    constexpr int perWorker =
        (STREAMS + Gateway::Upstream::CurlMulti::HTTP2_MAX_CONCURRENT_STREAMS - 1) / Gateway::Upstream::CurlMulti::HTTP2_MAX_CONCURRENT_STREAMS;
    const int connections = m_upstream->counters().connectionsAccepted;
    qInfo("%d held streams over %d upstream connections", STREAMS, connections);
    QVERIFY2(connections <= WORKER_THREADS * (perWorker + 1), qPrintable(QString::number(connections)));

    m_upstream->releaseHeldStreams();
    for (const auto &client : clients) {
        QVERIFY(client->waitForResponses(1, ANSWER_TIMEOUT_MS));
        const auto response = client->responses().constFirst();
        QCOMPARE(response.status, 200);
        QCOMPARE(response.body, H2cAnswers::streamBody());
    }
    QTRY_COMPARE_WITH_TIMEOUT(m_upstream->counters().completedStreams, STREAMS, ANSWER_TIMEOUT_MS);
    QCOMPARE(m_upstream->counters().connectionsAccepted, connections); // no reconnects
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->activeRequests(), 0, ANSWER_TIMEOUT_MS);
}

void TestHttp2PriorKnowledge::clientDisconnectCancelsOnlyItsStream()
{
    constexpr int STREAMS = 6;
    m_upstream->setBehaviour(H2cBehaviour {.holdAfterEvents = 1});
    std::vector<std::unique_ptr<TestHttpClient>> clients;
    for (int i = 0; i < STREAMS; ++i) {
        clients.push_back(startStream("h2"));
    }
    QTRY_COMPARE_WITH_TIMEOUT(m_upstream->counters().heldStreams, STREAMS, ANSWER_TIMEOUT_MS);
    QTRY_VERIFY_WITH_TIMEOUT(std::all_of(clients.begin(), clients.end(), [](const auto &c) { return hasFirstEvent(*c); }),
                             ANSWER_TIMEOUT_MS);
    const int connections = m_upstream->counters().connectionsAccepted;
    QVERIFY(connections < STREAMS); // streams do share connections

    clients.front()->close();
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->activeRequests(), STREAMS - 1, ANSWER_TIMEOUT_MS);
    // The gateway drops that one transfer, not the connection under it.
    QCOMPARE(m_upstream->counters().openConnections, connections);
    // It should also reset that h2 stream (RST_STREAM) so the upstream stops generating;
    // curl 7.88 removes the transfer without sending one (docs/ARCHITECTURE.md).
    if (!QTest::qWaitFor([this] { return m_upstream->counters().cancelledStreams > 0; }, 3000)) {
        qInfo("no RST_STREAM reached the upstream within 3 s");
    }
    QEXPECT_FAIL("", "libcurl 7.88 sends no RST_STREAM for a removed h2 transfer", Continue);
    QCOMPARE(m_upstream->counters().cancelledStreams, 1);

    m_upstream->releaseHeldStreams();
    for (std::size_t i = 1; i < clients.size(); ++i) {
        QVERIFY(clients[i]->waitForResponses(1, ANSWER_TIMEOUT_MS));
        QCOMPARE(clients[i]->responses().constFirst().body, H2cAnswers::streamBody());
    }
    QCOMPARE(m_upstream->counters().connectionsAccepted, connections);
    QCOMPARE(m_upstream->counters().openConnections, connections);
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->activeRequests(), 0, ANSWER_TIMEOUT_MS);
}

void TestHttp2PriorKnowledge::upstreamResetEndsTheStreamWithAnError()
{
    constexpr int RESET_AFTER = 2;
    m_upstream->setBehaviour(H2cBehaviour {.resetAfterEvents = RESET_AFTER});
    const auto client = startStream("h2");
    QVERIFY(client->waitForResponses(1, ANSWER_TIMEOUT_MS));
    const auto response = client->responses().constFirst();
    QCOMPARE(response.status, 200);
    // What arrived before the reset, then the documented terminal error event, no [DONE].
    const QList<QByteArray> events = response.sseDataLines();
    QCOMPARE(events.size(), RESET_AFTER + 1);
    QVERIFY2(response.body.startsWith(QByteArray(H2cAnswers::streamEvents().at(0) + H2cAnswers::streamEvents().at(1))),
             response.body.constData());
    QVERIFY(!events.contains("[DONE]"));
    const QJsonObject error = QJsonDocument::fromJson(events.constLast()).object().value(QStringLiteral("error")).toObject();
    QCOMPARE(error.value(QStringLiteral("code")).toString(), QStringLiteral("upstream_reset"));
    QVERIFY2(error.value(QStringLiteral("message")).toString().contains(QStringLiteral("incomplete")), events.constLast().constData());
    QCOMPARE(m_upstream->counters().resetStreams, 1);

    m_upstream->setBehaviour({});
    verifyStillServing();
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->activeRequests(), 0, ANSWER_TIMEOUT_MS);
}

void TestHttp2PriorKnowledge::idleTimeoutEndsOnlyItsStream()
{
    m_upstream->setBehaviour(H2cBehaviour {.holdAfterEvents = 1});
    const auto patient = startStream("h2");
    QTRY_COMPARE_WITH_TIMEOUT(m_upstream->counters().heldStreams, 1, ANSWER_TIMEOUT_MS);
    const auto impatient = startStream("h2-impatient");

    // The impatient provider's idle timeout ends its stream with a terminal error event
    // and resets its h2 stream; the other stream stays held and no connection closes.
    QVERIFY(impatient->waitForResponses(1, ANSWER_TIMEOUT_MS));
    const QList<QByteArray> events = impatient->responses().constFirst().sseDataLines();
    QVERIFY(!events.isEmpty());
    const QJsonObject error = QJsonDocument::fromJson(events.constLast()).object().value(QStringLiteral("error")).toObject();
    QCOMPARE(error.value(QStringLiteral("code")).toString(), QStringLiteral("upstream_timeout"));
    QCOMPARE(m_upstream->counters().openConnections, m_upstream->counters().connectionsAccepted);
    if (!QTest::qWaitFor([this] { return m_upstream->counters().cancelledStreams > 0; }, 3000)) {
        qInfo("no RST_STREAM reached the upstream within 3 s");
    }
    QEXPECT_FAIL("", "libcurl 7.88 sends no RST_STREAM for a removed h2 transfer", Continue);
    QCOMPARE(m_upstream->counters().cancelledStreams, 1);
    QVERIFY(patient->responses().isEmpty());

    m_upstream->releaseHeldStreams();
    QVERIFY(patient->waitForResponses(1, ANSWER_TIMEOUT_MS));
    QCOMPARE(patient->responses().constFirst().body, H2cAnswers::streamBody());
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->activeRequests(), 0, ANSWER_TIMEOUT_MS);
}

QTEST_GUILESS_MAIN(TestHttp2PriorKnowledge)
#include "testhttp2priorknowledge.moc"
