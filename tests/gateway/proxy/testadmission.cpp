// Admission control end to end over real sockets: per-target concurrency caps hold at the
// upstream, requests wait in the gateway queue instead, priority classes keep their
// time-to-first-token objectives under overload while batch is shed early with 429 +
// Retry-After, a client that gives up leaves the queue, and the queue is visible in
// /metrics.

#include "gatewayfixture.h"
#include "loaddriver.h"
#include "sim/simulatedupstream.h"
#include "testhttpclient.h"

#include "config/policyloader.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <vector>

using Gateway::Sim::Behaviour;
using Gateway::Sim::Flavor;
using Gateway::Sim::SimulatedUpstream;
using TestSupport::LoadDriver;
using TestSupport::TestHttpClient;

namespace {

QByteArray streamingChat(int maxTokens)
{
    return "{\"model\":\"chat\",\"stream\":true,\"max_tokens\":" + QByteArray::number(maxTokens) +
           ",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}";
}

std::unique_ptr<SimulatedUpstream> startSim(const QString &name, const Behaviour &behaviour)
{
    auto sim = std::make_unique<SimulatedUpstream>(name, Flavor::OpenAi);
    sim->setBehaviour(behaviour);
    if (!sim->listen().hasValue()) {
        return nullptr;
    }
    return sim;
}

QByteArray provider(const SimulatedUpstream &sim)
{
    return "  - {name: " + sim.name().toUtf8() + ", type: vllm, base_url: " + sim.baseUrl() + "}\n";
}

// The gateway's /metrics, fetched over HTTP like Prometheus would.
QByteArray fetchMetrics(quint16 port)
{
    TestHttpClient client {port};
    client.get("/metrics");
    if (!client.waitForResponses(1, 5000)) {
        return {};
    }
    return client.responses().constFirst().body;
}

// The value of one series (name and labels exactly as exposed); -1 when it is absent.
double metricValue(const QByteArray &metrics, const QByteArray &series)
{
    const QByteArray prefix = series + ' ';
    for (const QByteArray &line : metrics.split('\n')) {
        if (line.startsWith(prefix)) {
            return line.mid(prefix.size()).toDouble();
        }
    }
    return -1;
}

double metric(quint16 port, const QByteArray &series)
{
    return metricValue(fetchMetrics(port), series);
}

using TestSupport::errorOf;

// One request of an open-loop run: sent on its own connection at its scheduled time,
// whatever happened to the requests before it.
struct OpenLoopRequest {
    QByteArray priority;
    std::unique_ptr<TestHttpClient> client;
    QElapsedTimer sentAt;
    double ttftMs = -1; // first response body byte (the first SSE event of a 200)
};

} // namespace

class TestAdmission final : public QObject {
    Q_OBJECT

private slots:
    void capsHoldAndQueuedRequestsAllSucceed();
    void overloadShedsBatchEarlyWhileInteractiveKeepsItsObjective();
    void invalidPriorityIsRefusedNamingTheHeader();
    void clientThatGivesUpLeavesTheQueue();
    void fullQueueMakesRoomForAHigherClassAndCountsIt();
    void reloadKeepsTheQueueAndGrantsAddedSlots();
};

void TestAdmission::capsHoldAndQueuedRequestsAllSucceed()
{
    constexpr int REQUESTS = 12;
    constexpr int SLOTS = 4; // two targets with max_concurrency 2
    Behaviour behaviour;
    // Every stream stops after its first event until released, so what is running at the
    // upstream is exactly what the gateway let through.
    behaviour.holdStreamAfterChunks = 1;
    auto a = startSim(QStringLiteral("a"), behaviour);
    auto b = startSim(QStringLiteral("b"), behaviour);
    QVERIFY(a && b);
    const QByteArray yaml = "providers:\n" + provider(*a) + provider(*b) + R"(
routes:
  - model: chat
    targets: [{provider: a, model: m, max_concurrency: 2}, {provider: b, model: m, max_concurrency: 2}]
)";
    auto gateway = TestSupport::startGateway(yaml, 2);
    QVERIFY(gateway);
    const quint16 port = gateway->port();

    std::vector<std::unique_ptr<TestHttpClient>> clients;
    for (int i = 0; i < REQUESTS; ++i) {
        clients.push_back(std::make_unique<TestHttpClient>(port));
        clients.back()->post("/v1/chat/completions", streamingChat(4));
    }
    const QByteArray group = "group=\"a/m,b/m\"";
    int done = 0;
    while (done < REQUESTS) {
        const int running = std::min(SLOTS, REQUESTS - done);
        const int waiting = REQUESTS - done - running;
        // The gateway's own account: every request not done is either holding a slot or
        // waiting, so nothing else can have reached an upstream.
        QTRY_COMPARE_WITH_TIMEOUT(metric(port, "switchyard_queue_slots_in_use{" + group + "}"), double(running), 10000);
        QTRY_COMPARE_WITH_TIMEOUT(metric(port, "switchyard_queue_depth{" + group + ",priority=\"standard\"}"),
                                  double(waiting), 10000);
        QTRY_COMPARE_WITH_TIMEOUT(a->heldStreams() + b->heldStreams(), running, 10000);
        QCOMPARE(a->requestsReceived() + b->requestsReceived(), done + running);
        QCOMPARE(a->inFlight() + b->inFlight(), running);
        SimulatedUpstream::releaseTogether({a.get(), b.get()});
        done += running;
        const auto answered = [&clients] {
            return std::count_if(clients.begin(), clients.end(), [](const auto &c) { return c->responses().size() == 1; });
        };
        QTRY_COMPARE_WITH_TIMEOUT(int(answered()), done, 10000);
    }
    int waited = 0;
    for (const auto &client : clients) {
        const auto response = client->responses().constFirst();
        QCOMPARE(response.status, 200);
        QCOMPARE(response.sseDataLines().constLast(), QByteArray("[DONE]"));
        waited += response.header("x-switchyard-queue-wait-ms").isNull() ? 0 : 1;
    }
    // The first four got a slot at once; the other eight waited and say so.
    QCOMPARE(waited, REQUESTS - SLOTS);
    QCOMPARE(a->requestsReceived() + b->requestsReceived(), REQUESTS);
    const QByteArray metrics = fetchMetrics(port);
    QCOMPARE(metricValue(metrics, "switchyard_queue_slots{" + group + "}"), double(SLOTS));
    QCOMPARE(metricValue(metrics, "switchyard_queue_admitted_total{" + group + ",priority=\"standard\"}"), double(REQUESTS));
    QCOMPARE(metricValue(metrics, "switchyard_queue_queued_total{" + group + ",priority=\"standard\"}"), double(REQUESTS - SLOTS));
    QCOMPARE(metricValue(metrics, "switchyard_queue_wait_seconds_count{" + group + ",priority=\"standard\"}"), double(REQUESTS));
    QCOMPARE(metricValue(metrics, "switchyard_queue_wait_seconds_bucket{" + group + ",priority=\"standard\",le=\"0\"}"),
             double(SLOTS));
}

void TestAdmission::overloadShedsBatchEarlyWhileInteractiveKeepsItsObjective()
{
    constexpr int SLOTS = 4;
    constexpr int LOAD_MS = 7000;
    Behaviour behaviour;
    behaviour.ttftBaseMs = 60;
    behaviour.interTokenMs = 15;
    auto a = startSim(QStringLiteral("a"), behaviour);
    auto b = startSim(QStringLiteral("b"), behaviour);
    QVERIFY(a && b);
    const auto policyWith = [&a, &b](const QByteArray &admission) -> QByteArray {
        return "providers:\n" + provider(*a) + provider(*b) + admission + R"(
routes:
  - model: chat
    targets: [{provider: a, model: m, max_concurrency: 2}, {provider: b, model: m, max_concurrency: 2}]
)";
    };
    auto gateway = TestSupport::startGateway(policyWith({}), 2);
    QVERIFY(gateway);
    const quint16 port = gateway->port();
    const QByteArray body = streamingChat(8);

    // Calibration, closed loop with as many clients as slots: the group's real service
    // time on this machine, so that "120%" is 120% of what it can do here and the
    // objectives below are tight for it. It also teaches the queue its drain rate, as
    // earlier traffic would have.
    std::vector<double> latencies;
    LoadDriver calibration {port, SLOTS};
    const auto warm = calibration.run("/v1/chat/completions", 4 * SLOTS,
                                      [&body](int) { return LoadDriver::Request {body, {}}; }, 20000, &latencies);
    QCOMPARE(warm.size(), 4 * SLOTS);
    const double serviceMs = std::accumulate(latencies.begin(), latencies.end(), 0.0) / double(latencies.size());
    const int intervalMs = std::max(1, int(serviceMs / SLOTS / 1.2));
    const int total = LOAD_MS / intervalMs;

    // Interactive is promised 2.5 service times, batch twice that. Served first, an
    // interactive request waits at most about one service time for a slot; were it
    // served in arrival order it would wait behind the batch backlog, which grows until
    // batch is shed at its own objective, well past interactive's. A refusal can only
    // come from the prediction: the max waits are far beyond the objectives.
    const qint64 interactiveObjectiveMs = qint64(std::ceil(2.5 * serviceMs));
    const qint64 batchObjectiveMs = 2 * interactiveObjectiveMs;
    const auto classSettings = [](qint64 objectiveMs) -> QByteArray {
        return "{ttft_objective_ms: " + QByteArray::number(objectiveMs) +
               ", max_queue_wait_ms: " + QByteArray::number(4 * objectiveMs) + "}";
    };
    const auto noEnvironment = [](const QString &) -> std::optional<QByteArray> { return std::nullopt; };
    auto policy = Gateway::Config::parsePolicy(policyWith("admission:\n  classes:\n    interactive: " +
                                                          classSettings(interactiveObjectiveMs) + "\n    batch: " +
                                                          classSettings(batchObjectiveMs) + "\n"),
                                               QStringLiteral("objectives.yaml"), noEnvironment);
    QVERIFY(policy.hasValue());
    gateway->applyPolicy(policy.value());

    // Open loop: one request every intervalMs whatever the answers do, one in three
    // interactive (40% of the capacity), the rest batch (80%).
    std::vector<std::unique_ptr<OpenLoopRequest>> sent;
    QTimer arrivals;
    arrivals.setTimerType(Qt::PreciseTimer);
    arrivals.setInterval(intervalMs);
    connect(&arrivals, &QTimer::timeout, this, [&] {
        auto request = std::make_unique<OpenLoopRequest>();
        request->priority = sent.size() % 3 == 0 ? QByteArray("interactive") : QByteArray("batch");
        request->client = std::make_unique<TestHttpClient>(port);
        OpenLoopRequest *raw = request.get();
        connect(raw->client.get(), &TestHttpClient::bodyData, raw->client.get(), [raw] {
            if (raw->ttftMs < 0) {
                raw->ttftMs = double(raw->sentAt.nsecsElapsed()) / 1e6;
            }
        });
        raw->sentAt.start();
        raw->client->post("/v1/chat/completions", body, {{"x-priority", raw->priority}});
        sent.push_back(std::move(request));
        if (int(sent.size()) >= total) {
            arrivals.stop();
        }
    });
    arrivals.start();
    const auto answered = [&sent] {
        return std::count_if(sent.begin(), sent.end(), [](const auto &r) { return r->client->responses().size() == 1; });
    };
    QTRY_VERIFY_WITH_TIMEOUT(int(sent.size()) == total && int(answered()) == total, LOAD_MS + 10000);

    int interactive = 0;
    double slowestInteractiveMs = 0;
    int batchServed = 0;
    double slowestBatchMs = 0;
    int batchShed = 0;
    int waitedHeaders = 0;
    const QString batchObjectiveText = QString::number(batchObjectiveMs) + QStringLiteral(" ms");
    for (const auto &request : sent) {
        const auto response = request->client->responses().constFirst();
        // Nothing times out inside the gateway: every answer is a success or an early 429.
        QVERIFY2(response.status == 200 || response.status == 429, response.body.constData());
        waitedHeaders += response.header("x-switchyard-queue-wait-ms").isNull() ? 0 : 1;
        if (request->priority == "interactive") {
            ++interactive;
            QCOMPARE(response.status, 200);
            QVERIFY(request->ttftMs >= 0);
            slowestInteractiveMs = std::max(slowestInteractiveMs, request->ttftMs);
            continue;
        }
        if (response.status == 200) {
            ++batchServed;
            slowestBatchMs = std::max(slowestBatchMs, request->ttftMs);
            continue;
        }
        ++batchShed;
        bool numeric = false;
        QVERIFY(response.header("retry-after").toInt(&numeric) >= 1 && numeric);
        const QJsonObject error = errorOf(response);
        QCOMPARE(error.value(QStringLiteral("type")).toString(), QStringLiteral("rate_limit_error"));
        const QString code = error.value(QStringLiteral("code")).toString();
        QVERIFY2(code == u"predicted_slo_miss" || code == u"queue_full", qPrintable(code));
        const QString message = error.value(QStringLiteral("message")).toString();
        QVERIFY2(message.contains(QStringLiteral("batch")) && message.contains(batchObjectiveText), qPrintable(message));
    }
    qInfo("service %.0f ms, a request every %d ms; interactive: %d served, slowest first token %.0f ms (objective %lld);"
          " batch: %d served, slowest first token %.0f ms (objective %lld), %d shed",
          serviceMs, intervalMs, interactive, slowestInteractiveMs, interactiveObjectiveMs, batchServed, slowestBatchMs,
          batchObjectiveMs, batchShed);
    QVERIFY(interactive > 0);
    QVERIFY(slowestInteractiveMs <= double(interactiveObjectiveMs));
    QVERIFY2(batchShed > 0, "at 120% load some batch requests must be shed");
    QVERIFY2(batchServed > 0, "batch gets what interactive leaves");
    // The backlog interactive went past was real: batch waited longer than interactive
    // was allowed to.
    QVERIFY(slowestBatchMs > double(interactiveObjectiveMs));
    QVERIFY(waitedHeaders > 0);

    const QByteArray metrics = fetchMetrics(port);
    const QByteArray group = "group=\"a/m,b/m\"";
    const QByteArray batch = group + ",priority=\"batch\"";
    const QByteArray interactiveLabels = group + ",priority=\"interactive\"";
    double batchShedMetric = 0;
    for (const char *reason : {"predicted_miss", "queue_full", "evicted", "shutdown"}) {
        batchShedMetric += metricValue(metrics, "switchyard_queue_shed_total{" + batch + ",reason=\"" + reason + "\"}");
        QCOMPARE(metricValue(metrics, "switchyard_queue_shed_total{" + interactiveLabels + ",reason=\"" + reason + "\"}"), 0.0);
    }
    QCOMPARE(batchShedMetric, double(batchShed));
    QVERIFY(metricValue(metrics, "switchyard_queue_shed_total{" + batch + ",reason=\"predicted_miss\"}") > 0);
    QCOMPARE(metricValue(metrics, "switchyard_queue_timed_out_total{" + batch + "}"), 0.0);
    QCOMPARE(metricValue(metrics, "switchyard_queue_timed_out_total{" + interactiveLabels + "}"), 0.0);
    QCOMPARE(metricValue(metrics, "switchyard_queue_admitted_total{" + interactiveLabels + "}"), double(interactive));
    QCOMPARE(metricValue(metrics, "switchyard_queue_depth{" + batch + "}"), 0.0);
    QVERIFY(metricValue(metrics, "switchyard_queue_drain_tokens_per_second{" + group + "}") > 0);
}

void TestAdmission::invalidPriorityIsRefusedNamingTheHeader()
{
    auto sim = startSim(QStringLiteral("a"), Behaviour {});
    QVERIFY(sim);
    auto gateway = TestSupport::startGateway("providers:\n" + provider(*sim) + R"(
routes:
  - model: chat
    targets: [{provider: a, model: m, max_concurrency: 1}]
)");
    QVERIFY(gateway);
    const auto send = [&](const QByteArray &value) {
        TestHttpClient client {gateway->port()};
        client.post("/v1/chat/completions", streamingChat(2), {{"x-priority", value}});
        return client.waitForResponses(1) ? client.responses().constFirst() : TestHttpClient::Response {};
    };
    for (const QByteArray &value : {QByteArray("urgent"), QByteArray(""), QByteArray("batch, interactive")}) {
        const auto response = send(value);
        QCOMPARE(response.status, 400);
        const QJsonObject error = errorOf(response);
        QCOMPARE(error.value(QStringLiteral("param")).toString(), QStringLiteral("x-priority"));
        QCOMPARE(error.value(QStringLiteral("code")).toString(), QStringLiteral("invalid_priority"));
        QVERIFY2(error.value(QStringLiteral("message")).toString().startsWith(QStringLiteral("x-priority ")),
                 response.body.constData());
    }
    QCOMPARE(sim->requestsReceived(), 0);
    // Names are case-insensitive and may be padded.
    QCOMPARE(send(" Interactive ").status, 200);
    QCOMPARE(sim->requestsReceived(), 1);
}

void TestAdmission::clientThatGivesUpLeavesTheQueue()
{
    Behaviour behaviour;
    behaviour.holdStreamAfterChunks = 1;
    auto sim = startSim(QStringLiteral("a"), behaviour);
    QVERIFY(sim);
    auto gateway = TestSupport::startGateway("providers:\n" + provider(*sim) + R"(
routes:
  - model: chat
    targets: [{provider: a, model: m, max_concurrency: 1}]
)");
    QVERIFY(gateway);
    const quint16 port = gateway->port();
    const QByteArray depth = "switchyard_queue_depth{group=\"a/m\",priority=\"standard\"}";

    TestHttpClient holder {port};
    holder.post("/v1/chat/completions", streamingChat(4));
    QTRY_COMPARE_WITH_TIMEOUT(sim->heldStreams(), 1, 5000);
    TestHttpClient quitter {port};
    quitter.post("/v1/chat/completions", streamingChat(4));
    QTRY_COMPARE_WITH_TIMEOUT(metric(port, depth), 1.0, 5000);
    TestHttpClient patient {port};
    patient.post("/v1/chat/completions", streamingChat(4));
    QTRY_COMPARE_WITH_TIMEOUT(metric(port, depth), 2.0, 5000);

    // The first waiter gives up: its place goes, not the slot's next turn.
    quitter.close();
    QTRY_COMPARE_WITH_TIMEOUT(metric(port, depth), 1.0, 5000);
    QCOMPARE(metric(port, "switchyard_queue_cancelled_total{group=\"a/m\",priority=\"standard\"}"), 1.0);

    behaviour.holdStreamAfterChunks = -1;
    sim->setBehaviour(behaviour);
    sim->releaseHeldStreams();
    QVERIFY(holder.waitForResponses(1));
    QVERIFY(patient.waitForResponses(1));
    QCOMPARE(holder.responses().constFirst().status, 200);
    const auto response = patient.responses().constFirst();
    QCOMPARE(response.status, 200);
    QVERIFY(response.header("x-switchyard-queue-wait-ms").toInt() >= 0);
    QVERIFY(!response.header("x-switchyard-queue-wait-ms").isNull());
    // The one that left never reached the server.
    QCOMPARE(sim->requestsReceived(), 2);
    QTRY_COMPARE_WITH_TIMEOUT(metric(port, "switchyard_queue_slots_in_use{group=\"a/m\"}"), 0.0, 5000);
}

void TestAdmission::fullQueueMakesRoomForAHigherClassAndCountsIt()
{
    Behaviour behaviour;
    behaviour.holdStreamAfterChunks = 1;
    auto sim = startSim(QStringLiteral("a"), behaviour);
    QVERIFY(sim);
    auto gateway = TestSupport::startGateway("providers:\n" + provider(*sim) + R"(
admission: {max_queued: 1}
routes:
  - model: chat
    targets: [{provider: a, model: m, max_concurrency: 1}]
)");
    QVERIFY(gateway);
    const quint16 port = gateway->port();
    const QByteArray group = "group=\"a/m\"";

    TestHttpClient holder {port};
    holder.post("/v1/chat/completions", streamingChat(4));
    QTRY_COMPARE_WITH_TIMEOUT(sim->heldStreams(), 1, 5000);
    TestHttpClient batch {port};
    batch.post("/v1/chat/completions", streamingChat(4), {{"x-priority", "batch"}});
    QTRY_COMPARE_WITH_TIMEOUT(metric(port, "switchyard_queue_depth{" + group + ",priority=\"batch\"}"), 1.0, 5000);

    // An interactive request takes the batch request's place in the full queue...
    TestHttpClient interactive {port};
    interactive.post("/v1/chat/completions", streamingChat(4), {{"x-priority", "interactive"}});
    QVERIFY(batch.waitForResponses(1));
    const auto evicted = batch.responses().constFirst();
    QCOMPARE(evicted.status, 429);
    QVERIFY(evicted.header("retry-after").toInt() >= 1);
    QCOMPARE(errorOf(evicted).value(QStringLiteral("code")).toString(), QStringLiteral("queue_full"));
    QVERIFY(!evicted.header("x-switchyard-queue-wait-ms").isNull());
    // ...and the next one finds no lower class to push out.
    TestHttpClient second {port};
    second.post("/v1/chat/completions", streamingChat(4), {{"x-priority", "interactive"}});
    QVERIFY(second.waitForResponses(1));
    const auto full = second.responses().constFirst();
    QCOMPARE(full.status, 429);
    QVERIFY(full.header("retry-after").toInt() >= 1);
    const QJsonObject error = errorOf(full);
    QCOMPARE(error.value(QStringLiteral("code")).toString(), QStringLiteral("queue_full"));
    QCOMPARE(error.value(QStringLiteral("type")).toString(), QStringLiteral("rate_limit_error"));
    QVERIFY2(error.value(QStringLiteral("message")).toString().contains(QStringLiteral("interactive")), full.body.constData());

    const QByteArray metrics = fetchMetrics(port);
    QCOMPARE(metricValue(metrics, "switchyard_queue_shed_total{" + group + ",priority=\"batch\",reason=\"evicted\"}"), 1.0);
    QCOMPARE(metricValue(metrics, "switchyard_queue_shed_total{" + group + ",priority=\"interactive\",reason=\"queue_full\"}"), 1.0);
    QCOMPARE(metricValue(metrics, "switchyard_queue_depth{" + group + ",priority=\"interactive\"}"), 1.0);
    QCOMPARE(metricValue(metrics, "switchyard_queue_slots_in_use{" + group + "}"), 1.0);

    behaviour.holdStreamAfterChunks = -1;
    sim->setBehaviour(behaviour);
    sim->releaseHeldStreams();
    QVERIFY(holder.waitForResponses(1));
    QVERIFY(interactive.waitForResponses(1));
    QCOMPARE(interactive.responses().constFirst().status, 200);
    QCOMPARE(sim->requestsReceived(), 2);
}

void TestAdmission::reloadKeepsTheQueueAndGrantsAddedSlots()
{
    Behaviour behaviour;
    behaviour.holdStreamAfterChunks = 1;
    auto sim = startSim(QStringLiteral("a"), behaviour);
    QVERIFY(sim);
    const auto policyWithCap = [&sim](int cap) -> QByteArray {
        return "providers:\n" + provider(*sim) + "routes:\n  - model: chat\n    targets: [{provider: a, model: m, max_concurrency: " +
               QByteArray::number(cap) + "}]\n";
    };
    auto gateway = TestSupport::startGateway(policyWithCap(1));
    QVERIFY(gateway);
    const quint16 port = gateway->port();
    const QByteArray group = "group=\"a/m\"";

    TestHttpClient first {port};
    first.post("/v1/chat/completions", streamingChat(4));
    QTRY_COMPARE_WITH_TIMEOUT(sim->heldStreams(), 1, 5000);
    TestHttpClient waiter {port};
    waiter.post("/v1/chat/completions", streamingChat(4));
    QTRY_COMPARE_WITH_TIMEOUT(metric(port, "switchyard_queue_depth{" + group + ",priority=\"standard\"}"), 1.0, 5000);

    // A second slot in a new policy lets the waiter through at once; the queue, and its
    // counters, are the same.
    const auto noEnvironment = [](const QString &) -> std::optional<QByteArray> { return std::nullopt; };
    auto policy = Gateway::Config::parsePolicy(policyWithCap(2), QStringLiteral("reload.yaml"), noEnvironment);
    QVERIFY(policy.hasValue());
    gateway->applyPolicy(policy.value());
    QTRY_COMPARE_WITH_TIMEOUT(sim->heldStreams(), 2, 5000);
    const QByteArray metrics = fetchMetrics(port);
    QCOMPARE(metricValue(metrics, "switchyard_queue_slots{" + group + "}"), 2.0);
    QCOMPARE(metricValue(metrics, "switchyard_queue_slots_in_use{" + group + "}"), 2.0);
    QCOMPARE(metricValue(metrics, "switchyard_queue_admitted_total{" + group + ",priority=\"standard\"}"), 2.0);
    QCOMPARE(metricValue(metrics, "switchyard_queue_depth{" + group + ",priority=\"standard\"}"), 0.0);

    behaviour.holdStreamAfterChunks = -1;
    sim->setBehaviour(behaviour);
    sim->releaseHeldStreams();
    QVERIFY(first.waitForResponses(1));
    QVERIFY(waiter.waitForResponses(1));
    QCOMPARE(first.responses().constFirst().status, 200);
    QCOMPARE(waiter.responses().constFirst().status, 200);
}

QTEST_GUILESS_MAIN(TestAdmission)
#include "testadmission.moc"
