// The per-route autoscaling gauges move with load, over real sockets: a route whose only
// target is capped at one request queues the rest (queued requests, in-flight requests
// and tokens, capacity, saturation above 1), and everything falls back once the streams
// are released; an uncapped route has no capacity and counts its in-flight work.

#include "gatewayfixture.h"
#include "sim/simulatedupstream.h"
#include "testhttpclient.h"

#include <QTest>

#include <memory>
#include <vector>

using Gateway::Sim::Behaviour;
using Gateway::Sim::Flavor;
using Gateway::Sim::SimulatedUpstream;
using TestSupport::TestHttpClient;

namespace {

constexpr int DEADLINE_MS = 20000;

std::unique_ptr<SimulatedUpstream> startSim(const QString &name, const Behaviour &behaviour)
{
    auto sim = std::make_unique<SimulatedUpstream>(name, Flavor::OpenAi);
    sim->setBehaviour(behaviour);
    return sim->listen().hasValue() ? std::move(sim) : nullptr;
}

double metricValue(quint16 port, const QByteArray &series)
{
    TestHttpClient client {port};
    client.get("/metrics");
    if (!client.waitForResponses(1)) {
        return -1;
    }
    for (const QByteArray &line : client.responses().constFirst().body.split('\n')) {
        if (line.startsWith(QByteArray(series + ' '))) {
            return line.mid(series.size() + 1).toDouble();
        }
    }
    return -1;
}

QByteArray route(const char *gauge, const char *model)
{
    return QByteArray("switchyard_route_") + gauge + "{route=\"" + model + "\"}";
}

QByteArray stream(const char *model)
{
    return QByteArray("{\"model\":\"") + model +
           "\",\"stream\":true,\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\"Hello there\"}]}";
}

} // namespace

class TestAutoscalingMetrics final : public QObject {
    Q_OBJECT

private slots:
    void gaugesFollowQueueAndInFlightLoad();
};

void TestAutoscalingMetrics::gaugesFollowQueueAndInFlightLoad()
{
    Behaviour holding;
    holding.holdStreamAfterChunks = 1;
    holding.defaultMaxTokens = 4;
    auto capped = startSim(QStringLiteral("capped"), holding);
    auto open = startSim(QStringLiteral("open"), holding);
    QVERIFY(capped && open);
    const QByteArray yaml = "providers:\n"
                            "  - {name: capped, type: vllm, base_url: " + capped->baseUrl() + "}\n"
                            "  - {name: open, type: vllm, base_url: " + open->baseUrl() + "}\n"
                            "routes:\n"
                            "  - {model: chat, targets: [{provider: capped, model: m, max_concurrency: 1}]}\n"
                            "  - {model: free, targets: [{provider: open, model: m}]}\n";
    auto gateway = TestSupport::startGateway(yaml, 2);
    QVERIFY(gateway);
    const quint16 port = gateway->port();

    // Idle: nothing queued or in flight; the objective is the standard class's default.
    QCOMPARE(metricValue(port, route("queued_requests", "chat")), 0.0);
    QCOMPARE(metricValue(port, route("capacity_requests", "chat")), 1.0);
    QCOMPARE(metricValue(port, route("capacity_requests", "free")), 0.0);
    QCOMPARE(metricValue(port, route("ttft_objective_ms", "chat")), 10000.0);
    QCOMPARE(metricValue(port, route("saturation", "chat")), 0.0);

    std::vector<std::unique_ptr<TestHttpClient>> clients;
    for (int i = 0; i < 3; ++i) {
        clients.push_back(std::make_unique<TestHttpClient>(port));
        clients.back()->post("/v1/chat/completions", stream("chat"));
    }
    clients.push_back(std::make_unique<TestHttpClient>(port));
    clients.back()->post("/v1/chat/completions", stream("free"));

    // One stream holds the capped server's only slot; two wait in the gateway queue.
    QTRY_COMPARE_WITH_TIMEOUT(metricValue(port, route("queued_requests", "chat")), 2.0, DEADLINE_MS);
    QTRY_COMPARE_WITH_TIMEOUT(metricValue(port, route("inflight_requests", "chat")), 1.0, DEADLINE_MS);
    QVERIFY(metricValue(port, route("inflight_tokens", "chat")) > 0);
    // (in flight + queued) / capacity = 3.
    QCOMPARE(metricValue(port, route("saturation", "chat")), 3.0);
    // The uncapped route counts its stream and has no capacity term.
    QTRY_COMPARE_WITH_TIMEOUT(metricValue(port, route("inflight_requests", "free")), 1.0, DEADLINE_MS);
    QVERIFY(metricValue(port, route("inflight_tokens", "free")) > 0);
    QCOMPARE(metricValue(port, route("queued_requests", "free")), 0.0);

    // Released one by one (each queued stream gets the slot, then holds), every request
    // completes and the gauges fall back.
    for (int released = 0; released < 3; ++released) {
        QTRY_COMPARE_WITH_TIMEOUT(capped->heldStreams(), 1, DEADLINE_MS);
        capped->releaseHeldStreams();
        QTRY_COMPARE_WITH_TIMEOUT(capped->streamsCompleted(), released + 1, DEADLINE_MS);
    }
    open->releaseHeldStreams();
    for (const auto &client : clients) {
        QVERIFY(client->waitForResponses(1, DEADLINE_MS));
        QCOMPARE(client->responses().constFirst().status, 200);
    }
    QTRY_COMPARE_WITH_TIMEOUT(metricValue(port, route("queued_requests", "chat")), 0.0, DEADLINE_MS);
    QTRY_COMPARE_WITH_TIMEOUT(metricValue(port, route("inflight_requests", "chat")), 0.0, DEADLINE_MS);
    QTRY_COMPARE_WITH_TIMEOUT(metricValue(port, route("inflight_tokens", "chat")), 0.0, DEADLINE_MS);
    QTRY_COMPARE_WITH_TIMEOUT(metricValue(port, route("inflight_requests", "free")), 0.0, DEADLINE_MS);
    // Completions taught the route a time to first token: predicted, and far below the
    // 10 s objective on an idle local server.
    QVERIFY(metricValue(port, route("predicted_ttft_ms", "chat")) > 0);
    QVERIFY(metricValue(port, route("saturation", "chat")) < 1.0);
}

QTEST_MAIN(TestAutoscalingMetrics)
#include "testautoscalingmetrics.moc"
