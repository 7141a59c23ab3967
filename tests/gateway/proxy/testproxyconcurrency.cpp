// Many simultaneous streams through two worker threads keep their content intact.

#include "gatewayfixture.h"
#include "sim/simulatedupstream.h"
#include "ssecontent.h"
#include "testhttpclient.h"

#include <QTest>

#include <memory>
#include <vector>

using Gateway::Sim::Behaviour;
using Gateway::Sim::Flavor;
using Gateway::Sim::SimulatedUpstream;
using TestSupport::TestHttpClient;

class TestProxyConcurrency final : public QObject {
    Q_OBJECT

private slots:
    void twoHundredConcurrentStreamsComplete();
};

void TestProxyConcurrency::twoHundredConcurrentStreamsComplete()
{
    constexpr int STREAMS = 200;
    SimulatedUpstream gpuA {QStringLiteral("gpu-a"), Flavor::OpenAi};
    SimulatedUpstream gpuB {QStringLiteral("gpu-b"), Flavor::OpenAi};
    Behaviour behaviour;
    // Every stream parks after its first event, so all 200 are provably open at once.
    behaviour.holdStreamAfterChunks = 1;
    behaviour.capacityTokens = 1 << 20;
    gpuA.setBehaviour(behaviour);
    gpuB.setBehaviour(behaviour);
    QVERIFY(gpuA.listen().hasValue());
    QVERIFY(gpuB.listen().hasValue());
    const QByteArray yaml = R"(
providers:
  - {name: gpu-a, type: vllm, base_url: )" + gpuA.baseUrl() + R"(}
  - {name: gpu-b, type: sglang, base_url: )" + gpuB.baseUrl() + R"(}
routes:
  - model: chat
    targets: [{provider: gpu-a, model: m, weight: 1}, {provider: gpu-b, model: m, weight: 1}]
)";
    auto gateway = TestSupport::startGateway(yaml, 2);
    QVERIFY(gateway);

    std::vector<std::unique_ptr<TestHttpClient>> clients;
    for (int i = 0; i < STREAMS; ++i) {
        auto client = std::make_unique<TestHttpClient>(gateway->port());
        const int tokens = 5 + i % 11;
        client->post("/v1/chat/completions",
                     "{\"model\":\"chat\",\"stream\":true,\"max_tokens\":" + QByteArray::number(tokens) +
                         ",\"messages\":[{\"role\":\"user\",\"content\":\"stream " + QByteArray::number(i) + "\"}]}");
        clients.push_back(std::move(client));
    }
    QTRY_COMPARE_WITH_TIMEOUT(gpuA.heldStreams() + gpuB.heldStreams(), STREAMS, 20000);
    for (const auto &client : clients) {
        QTRY_VERIFY_WITH_TIMEOUT(client->bodySoFar().contains("tok0"), 10000);
    }
    QCOMPARE(gateway->activeRequests(), STREAMS);
    gpuA.releaseHeldStreams();
    gpuB.releaseHeldStreams();
    for (int i = 0; i < STREAMS; ++i) {
        QVERIFY2(clients[static_cast<std::size_t>(i)]->waitForResponses(1, 30000), qPrintable(QString::number(i)));
        const auto response = clients[static_cast<std::size_t>(i)]->responses().constFirst();
        QCOMPARE(response.status, 200);
        QCOMPARE(TestSupport::joinedStreamContent(response.sseDataLines()), TestSupport::expectedSimContent(5 + i % 11));
        QCOMPARE(response.sseDataLines().constLast(), QByteArray("[DONE]"));
    }
    QCOMPARE(gpuA.streamsCompleted() + gpuB.streamsCompleted(), STREAMS);
    QVERIFY(gpuA.streamsCompleted() > 0);
    QVERIFY(gpuB.streamsCompleted() > 0);
    QTRY_COMPARE(gateway->activeRequests(), 0);
}

QTEST_GUILESS_MAIN(TestProxyConcurrency)
#include "testproxyconcurrency.moc"
