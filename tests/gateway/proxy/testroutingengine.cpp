// The routing engine end to end over real sockets: health and circuit breaking with a
// slow-start ramp, key-level cool-down on 429 storms, the retry budget, session
// stickiness and the explain header.

#include "gatewayfixture.h"
#include "loaddriver.h"
#include "sim/simulatedupstream.h"
#include "ssecontent.h"
#include "testhttpclient.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <QTest>

#include <map>
#include <memory>

using Gateway::Sim::Behaviour;
using Gateway::Sim::Flavor;
using Gateway::Sim::SimulatedUpstream;
using TestSupport::LoadDriver;
using TestSupport::TestHttpClient;

namespace {

QByteArray chat(const QByteArray &model)
{
    return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}],\"max_tokens\":4}";
}

LoadDriver::RequestFactory plain(const QByteArray &model)
{
    return [model](int) { return LoadDriver::Request {chat(model), {}}; };
}

std::unique_ptr<SimulatedUpstream> startSim(const QString &name)
{
    auto sim = std::make_unique<SimulatedUpstream>(name, Flavor::OpenAi);
    if (!sim->listen().hasValue()) {
        return nullptr;
    }
    return sim;
}

// `providers:` entries for simulated GPU servers, each named as its simulator.
QByteArray vllmProviders(std::initializer_list<const SimulatedUpstream *> sims)
{
    QByteArray yaml;
    for (const SimulatedUpstream *sim : sims) {
        yaml += "  - {name: " + sim->name().toUtf8() + ", type: vllm, base_url: " + sim->baseUrl() + "}\n";
    }
    return yaml;
}

int countNon200(const QList<TestHttpClient::Response> &responses)
{
    int failures = 0;
    for (const auto &response : responses) {
        failures += response.status == 200 ? 0 : 1;
    }
    return failures;
}

} // namespace

class TestRoutingEngine final : public QObject {
    Q_OBJECT

private slots:
    void failingTargetLosesTrafficThenRampsBack();
    void rateLimitedKeyCoolsDownWhileOthersAbsorb();
    void revokedKeyOpensItsCircuitWhileOthersServe();
    void contextLengthFailureFallsBackToTheLongContextRoute();
    void retryStormIsCappedByTheBudget();
    void sessionsStickWhileHealthy();
    void sessionsMoveWhenTheirTargetFailsAndTheMoveIsRecorded();
    void explainHeaderNamesStrategyAndCandidates();
    void adminExplainDryRunsTheDecision();
    void hedgingCutsTheStragglersTailWithinBudget();
    void streamResetMidwayIsResumedOnAnotherTarget_data();
    void streamResetMidwayIsResumedOnAnotherTarget();
};

void TestRoutingEngine::failingTargetLosesTrafficThenRampsBack()
{
    auto a = startSim(QStringLiteral("a"));
    auto b = startSim(QStringLiteral("b"));
    auto c = startSim(QStringLiteral("c"));
    QVERIFY(a && b && c);
    const QByteArray yaml = R"(
routing:
  health: {window_ms: 2000, min_requests: 10, failed_error_rate: 0.3, consecutive_failures: 5,
           open_ms: 1000, max_open_ms: 4000, half_open_successes: 3, slow_start_ms: 4000}
providers:
)" + vllmProviders({a.get(), b.get(), c.get()}) + R"(
routes:
  - model: chat
    strategy: weighted
    retry: {attempts: 3}
    targets: [{provider: a, model: m}, {provider: b, model: m}, {provider: c, model: m}]
)";
    auto gateway = TestSupport::startGateway(yaml, 2);
    QVERIFY(gateway);
    LoadDriver load {gateway->port(), 4};
    constexpr int BATCH = 60;
    const auto cShareOfBatch = [&](int &non200) {
        const int before[3] = {a->requestsReceived(), b->requestsReceived(), c->requestsReceived()};
        const auto responses = load.run("/v1/chat/completions", BATCH, plain("chat"));
        non200 += responses.isEmpty() ? BATCH : countNon200(responses);
        const int da = a->requestsReceived() - before[0];
        const int db = b->requestsReceived() - before[1];
        const int dc = c->requestsReceived() - before[2];
        return static_cast<double>(dc) / std::max(1, da + db + dc);
    };

    int non200 = 0;
    const double healthyShare = cShareOfBatch(non200);
    QVERIFY2(healthyShare > 0.25 && healthyShare < 0.42, qPrintable(QString::number(healthyShare)));

    // c fails half its requests: within 10 s it gets under 5% of the attempts, and no
    // client sees an error (retries on the other targets absorb the failures).
    Behaviour failing = c->behaviour();
    failing.errorRate = 0.5;
    c->setBehaviour(failing);
    QElapsedTimer clock;
    clock.start();
    double share = 1.0;
    while (clock.elapsed() < 10000 && (share = cShareOfBatch(non200)) >= 0.05) {
    }
    QVERIFY2(share < 0.05, qPrintable(QStringLiteral("share of the failing target stayed at %1").arg(share)));
    QCOMPARE(non200, 0);
    // And it stays low while it keeps failing (probes only).
    QVERIFY(cShareOfBatch(non200) < 0.05 + 1.0 / BATCH);
    // The consoles see the state machine (refreshed at most every 100 ms), not a guess
    // from error counts.
    const auto healthOfC = [&] {
        const auto status = gateway->statusSnapshot();
        for (const auto &backend : status.backends) {
            if (backend.id == u"c/m") {
                return backend.health;
            }
        }
        return QString();
    };
    QTRY_VERIFY_WITH_TIMEOUT(healthOfC() == u"failed" || healthOfC() == u"recovering", 2000);

    // c recovers: its share climbs back to its fair third within 30 s, through values
    // in between (the slow-start ramp), not in one jump.
    failing.errorRate = 0.0;
    c->setBehaviour(failing);
    clock.restart();
    QList<double> shares;
    while (clock.elapsed() < 30000) {
        shares << cShareOfBatch(non200);
        if (shares.last() >= 0.25) {
            break;
        }
    }
    QVERIFY2(!shares.isEmpty() && shares.last() >= 0.25, qPrintable(QStringLiteral("never recovered: %1 batches").arg(shares.size())));
    const bool ramped = std::any_of(shares.cbegin(), shares.cend(), [](double s) { return s > 0.02 && s < 0.2; });
    QVERIFY2(ramped, "the recovered target jumped straight back to full share");
    QCOMPARE(non200, 0);

    // Every transition is exported: c's circuit opened at least once, a and b never.
    TestHttpClient http {gateway->port()};
    http.get("/metrics");
    QVERIFY(http.waitForResponses(1));
    const QByteArray metrics = http.responses().constFirst().body;
    QVERIFY(!metrics.contains("switchyard_backend_health_transitions_total{backend=\"c/m\",to=\"failed\"} 0\n"));
    QVERIFY(metrics.contains("switchyard_backend_health_transitions_total{backend=\"c/m\",to=\"failed\"} "));
    QVERIFY(metrics.contains("switchyard_backend_health_transitions_total{backend=\"a/m\",to=\"failed\"} 0\n"));
}

void TestRoutingEngine::rateLimitedKeyCoolsDownWhileOthersAbsorb()
{
    auto sim = startSim(QStringLiteral("cloud"));
    QVERIFY(sim);
    Behaviour behaviour = sim->behaviour();
    behaviour.rateLimitedKey = "sk-two";
    behaviour.retryAfterSeconds = 30;
    sim->setBehaviour(behaviour);
    // Each of the 4 client connections may meet key two once before its cooldown shows,
    // and all 4 429s may arrive at once on a loaded machine: the retry budget must let 4
    // retries run together (the default floor of 3 would end the fourth with its 429,
    // which is the budget working, not a failover bug).
    const QByteArray yaml = R"(
providers:
  - name: cloud
    type: openai
    base_url: )" + sim->baseUrl() + R"(
    keys:
      - {name: one, secret: sk-one}
      - {name: two, secret: sk-two}
      - {name: three, secret: sk-three}
routing:
  retry_min_concurrency: 4
routes:
  - model: chat
    retry: {attempts: 3}
    targets: [{provider: cloud, model: m}]
)";
    auto gateway = TestSupport::startGateway(yaml, 2);
    QVERIFY(gateway);
    LoadDriver load {gateway->port(), 4};
    const auto responses = load.run("/v1/chat/completions", 300, plain("chat"));
    QCOMPARE(responses.size(), 300);
    // The storm hits key two at most a few times (once per worker before the first 429
    // is seen); after that it cools down for its Retry-After and gets nothing, while
    // keys one and three take every request.
    QVERIFY2(sim->requestsWithKey("sk-two") <= 4, qPrintable(QString::number(sim->requestsWithKey("sk-two"))));
    QVERIFY(sim->requestsWithKey("sk-one") > 100);
    QVERIFY(sim->requestsWithKey("sk-three") > 100);
    // The client never sees the 429: a single target, but another key retries it.
    QCOMPARE(countNon200(responses), 0);
}

void TestRoutingEngine::revokedKeyOpensItsCircuitWhileOthersServe()
{
    auto sim = startSim(QStringLiteral("cloud"));
    QVERIFY(sim);
    Behaviour behaviour = sim->behaviour();
    behaviour.rejectedKey = "sk-revoked";
    sim->setBehaviour(behaviour);
    const QByteArray yaml = R"(
routing:
  health: {consecutive_failures: 3, open_ms: 60000}
providers:
  - name: cloud
    type: openai
    base_url: )" + sim->baseUrl() + R"(
    keys:
      - {name: good, secret: sk-good}
      - {name: revoked, secret: sk-revoked}
routes:
  - model: chat
    targets: [{provider: cloud, model: m}]
)";
    auto gateway = TestSupport::startGateway(yaml, 1);
    QVERIFY(gateway);
    LoadDriver load {gateway->port(), 2};
    const auto responses = load.run("/v1/chat/completions", 200, plain("chat"));
    QCOMPARE(responses.size(), 200);
    // Each 401 is retried at once on the other key, and after three in a row the revoked
    // key's circuit opens: it gets nothing more (its open interval is a minute). With two
    // clients, one more request may already be on its way when the circuit opens.
    for (const auto &response : responses) {
        QVERIFY2(response.status == 200, response.body.constData());
    }
    QVERIFY2(sim->requestsWithKey("sk-revoked") <= 4, qPrintable(QString::number(sim->requestsWithKey("sk-revoked"))));
    QCOMPARE(sim->requestsWithKey("sk-good"), 200);
    // The backend itself stays healthy: a bad key is not a bad backend.
    const auto status = gateway->statusSnapshot();
    QCOMPARE(status.backends.front().health, QStringLiteral("healthy"));
}

void TestRoutingEngine::contextLengthFailureFallsBackToTheLongContextRoute()
{
    auto small = startSim(QStringLiteral("small"));
    auto large = startSim(QStringLiteral("large"));
    auto other = startSim(QStringLiteral("other"));
    QVERIFY(small && large && other);
    Behaviour limited = small->behaviour();
    limited.contextWindowTokens = 100;
    small->setBehaviour(limited);
    // The operator did not declare context windows, so the refusal is only learnt from the
    // answer; retry.fallbacks sends that class to the long-context route first, while
    // other failures would go to the ordinary fallback.
    const QByteArray yaml = R"(
providers:
)" + vllmProviders({small.get(), large.get(), other.get()}) + R"(
routes:
  - model: chat
    retry: {attempts: 2, fallbacks: {context_length: [chat-long]}}
    targets: [{provider: small, model: m}]
    fallbacks: [chat-other]
  - model: chat-long
    targets: [{provider: large, model: m}]
  - model: chat-other
    targets: [{provider: other, model: m}]
)";
    auto gateway = TestSupport::startGateway(yaml, 1);
    QVERIFY(gateway);
    TestHttpClient http {gateway->port()};
    const QByteArray longPrompt(2000, 'x');
    http.post("/v1/chat/completions",
              "{\"model\":\"chat\",\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":\"" + longPrompt + "\"}]}");
    http.post("/v1/chat/completions", chat("chat"));
    QVERIFY(http.waitForResponses(2));
    QCOMPARE(http.responses().at(0).status, 200);
    QCOMPARE(http.responses().at(0).header("x-switchyard-backend"), QByteArrayLiteral("large/m"));
    QCOMPARE(other->requestsReceived(), 0);
    QCOMPARE(http.responses().at(1).header("x-switchyard-backend"), QByteArrayLiteral("small/m"));
}

void TestRoutingEngine::retryStormIsCappedByTheBudget()
{
    auto a = startSim(QStringLiteral("a"));
    auto b = startSim(QStringLiteral("b"));
    auto c = startSim(QStringLiteral("c"));
    QVERIFY(a && b && c);
    for (auto *sim : {a.get(), b.get(), c.get()}) {
        Behaviour failing = sim->behaviour();
        failing.errorRate = 1.0;
        sim->setBehaviour(failing);
    }
    // Circuits never open here, so only the budget stands between a total outage and
    // three upstream attempts per request.
    const QByteArray yaml = R"(
routing:
  retry_budget: 0.2
  retry_min_concurrency: 0
  health: {failed_error_rate: 1, degraded_error_rate: 1, consecutive_failures: 1000000}
providers:
)" + vllmProviders({a.get(), b.get(), c.get()}) + R"(
routes:
  - model: chat
    retry: {attempts: 3}
    targets: [{provider: a, model: m}, {provider: b, model: m}, {provider: c, model: m}]
)";
    auto gateway = TestSupport::startGateway(yaml, 2);
    QVERIFY(gateway);
    constexpr int REQUESTS = 400;
    LoadDriver load {gateway->port(), 20};
    const auto responses = load.run("/v1/chat/completions", REQUESTS, plain("chat"));
    QCOMPARE(responses.size(), REQUESTS);
    QCOMPARE(countNon200(responses), REQUESTS); // nothing can succeed
    const int attempts = a->requestsReceived() + b->requestsReceived() + c->requestsReceived();
    // Without a budget: 3 attempts per request (1200). With 20 in flight and a 20% budget
    // at most 4 retries run at once; the extra load stays a fraction of the traffic.
    const double perRequest = static_cast<double>(attempts) / REQUESTS;
    QVERIFY2(perRequest > 1.0, "no retry happened at all");
    QVERIFY2(perRequest <= 1.5, qPrintable(QStringLiteral("%1 attempts per request").arg(perRequest)));
}

void TestRoutingEngine::sessionsStickWhileHealthy()
{
    auto a = startSim(QStringLiteral("a"));
    auto b = startSim(QStringLiteral("b"));
    auto c = startSim(QStringLiteral("c"));
    QVERIFY(a && b && c);
    const QByteArray yaml = R"(
providers:
)" + vllmProviders({a.get(), b.get(), c.get()}) + R"(
routes:
  - model: chat
    strategy: session_hash
    targets: [{provider: a, model: m}, {provider: b, model: m}, {provider: c, model: m}]
)";
    auto gateway = TestSupport::startGateway(yaml, 2);
    QVERIFY(gateway);
    constexpr int SESSIONS = 60;
    constexpr int PER_SESSION = 20;
    LoadDriver load {gateway->port(), 6};
    const auto responses = load.run("/v1/chat/completions", SESSIONS * PER_SESSION, [](int index) {
        const QByteArray session = "session-" + QByteArray::number(index % SESSIONS);
        return LoadDriver::Request {chat("chat"), {{QByteArrayLiteral("x-session-id"), session}}};
    });
    QCOMPARE(responses.size(), SESSIONS * PER_SESSION);
    // Responses do not say which session they belong to, so ask again one by one and
    // compare each session's backend with where its earlier requests went.
    TestHttpClient http {gateway->port()};
    std::map<QByteArray, std::map<QByteArray, int>> backendsBySession;
    for (int round = 0; round < 5; ++round) {
        for (int s = 0; s < SESSIONS; ++s) {
            const QByteArray session = "session-" + QByteArray::number(s);
            http.post("/v1/chat/completions", chat("chat"), {{QByteArrayLiteral("x-session-id"), session}});
        }
    }
    QVERIFY(http.waitForResponses(5 * SESSIONS, 30000));
    const auto sequential = http.responses();
    for (int i = 0; i < sequential.size(); ++i) {
        QCOMPARE(sequential[i].status, 200);
        ++backendsBySession["session-" + QByteArray::number(i % SESSIONS)][sequential[i].header("x-switchyard-backend")];
    }
    int sticky = 0;
    int total = 0;
    std::map<QByteArray, int> sessionsPerBackend;
    for (const auto &[session, backends] : backendsBySession) {
        int most = 0;
        QByteArray owner;
        for (const auto &[backend, count] : backends) {
            total += count;
            if (count > most) {
                most = count;
                owner = backend;
            }
        }
        sticky += most;
        ++sessionsPerBackend[owner];
    }
    QVERIFY2(sticky >= total * 99 / 100, qPrintable(QStringLiteral("%1 of %2 sticky").arg(sticky).arg(total)));
    // And the sessions spread over all three targets.
    QCOMPARE(sessionsPerBackend.size(), std::size_t {3});
    QCOMPARE(countNon200(responses), 0);

    // While healthy and under its load bound, the route reason says the session stayed.
    TestHttpClient explained {gateway->port()};
    const TestHttpClient::HeaderList headers {{QByteArrayLiteral("x-session-id"), QByteArrayLiteral("session-1")},
                                              {QByteArrayLiteral("x-switchyard-explain"), QByteArrayLiteral("1")}};
    explained.post("/v1/chat/completions", chat("chat"), headers);
    QVERIFY(explained.waitForResponses(1));
    const QByteArray reason = explained.responses().constFirst().header("x-switchyard-route-reason");
    QVERIFY2(reason.contains("session=sticky"), reason.constData());
}

void TestRoutingEngine::sessionsMoveWhenTheirTargetFailsAndTheMoveIsRecorded()
{
    auto a = startSim(QStringLiteral("a"));
    auto b = startSim(QStringLiteral("b"));
    auto c = startSim(QStringLiteral("c"));
    QVERIFY(a && b && c);
    const QByteArray yaml = R"(
routing:
  health: {consecutive_failures: 3, open_ms: 60000}
providers:
)" + vllmProviders({a.get(), b.get(), c.get()}) + R"(
routes:
  - model: chat
    strategy: session_hash
    targets: [{provider: a, model: m}, {provider: b, model: m}, {provider: c, model: m}]
)";
    auto gateway = TestSupport::startGateway(yaml, 1);
    QVERIFY(gateway);
    TestHttpClient http {gateway->port()};
    const auto ask = [&](const QByteArray &session) {
        http.post("/v1/chat/completions", chat("chat"),
                  {{QByteArrayLiteral("x-session-id"), session}, {QByteArrayLiteral("x-switchyard-explain"), QByteArrayLiteral("1")}});
        const auto count = http.responses().size() + 1;
        return http.waitForResponses(static_cast<int>(count)) ? http.responses().last() : TestHttpClient::Response {};
    };
    // Find a session that lives on a.
    QByteArray onA;
    for (int i = 0; i < 100 && onA.isEmpty(); ++i) {
        const QByteArray session = "s-" + QByteArray::number(i);
        if (ask(session).header("x-switchyard-backend") == "a/m") {
            onA = session;
        }
    }
    QVERIFY(!onA.isEmpty());
    // a starts failing: retries answer the session elsewhere, and once a's circuit opens
    // the session moves, consistently, and the move is counted.
    Behaviour failing = a->behaviour();
    failing.errorRate = 1.0;
    a->setBehaviour(failing);
    QByteArray movedTo;
    QByteArray reason;
    for (int i = 0; i < 10; ++i) {
        const auto response = ask(onA);
        QCOMPARE(response.status, 200);
        QVERIFY(response.header("x-switchyard-backend") != "a/m");
        reason = response.header("x-switchyard-route-reason");
        // The third failure opened a's circuit and republished the routing snapshot, so
        // from the fourth request on the decision itself moves the session, every time to
        // the same new target.
        if (i >= 3) {
            QVERIFY2(reason.contains("session=moved from a/m (filtered out)"), reason.constData());
            if (movedTo.isEmpty()) {
                movedTo = response.header("x-switchyard-backend");
            }
            QCOMPARE(response.header("x-switchyard-backend"), movedTo);
        }
    }
    http.get("/metrics");
    QVERIFY(http.waitForResponses(static_cast<int>(http.responses().size() + 1)));
    const QByteArray metrics = http.responses().last().body;
    QVERIFY(metrics.contains("switchyard_session_moves_total{route=\"chat\",reason=\"unavailable\"} "));
    QVERIFY(!metrics.contains("switchyard_session_moves_total{route=\"chat\",reason=\"unavailable\"} 0\n"));
}

void TestRoutingEngine::explainHeaderNamesStrategyAndCandidates()
{
    auto a = startSim(QStringLiteral("a"));
    auto b = startSim(QStringLiteral("b"));
    QVERIFY(a && b);
    const QByteArray yaml = R"(
providers:
)" + vllmProviders({a.get(), b.get()}) + R"(
routes:
  - model: chat
    strategy: p2c
    targets: [{provider: a, model: m}, {provider: b, model: m}]
)";
    auto gateway = TestSupport::startGateway(yaml, 1);
    QVERIFY(gateway);
    TestHttpClient http {gateway->port()};
    http.post("/v1/chat/completions", chat("chat"), {{QByteArrayLiteral("x-switchyard-explain"), QByteArrayLiteral("1")}});
    http.post("/v1/chat/completions", chat("chat"));
    QVERIFY(http.waitForResponses(2));
    const auto explained = http.responses().at(0);
    QCOMPARE(explained.status, 200);
    const QByteArray reason = explained.header("x-switchyard-route-reason");
    QVERIFY2(reason.contains("route=chat strategy=p2c"), reason.constData());
    QVERIFY2(reason.contains("a/m") && reason.contains("b/m"), reason.constData());
    QVERIFY2(reason.contains(QByteArray("attempts=" + explained.header("x-switchyard-backend") + ":200")), reason.constData());
    // Only on request.
    QVERIFY(http.responses().at(1).header("x-switchyard-route-reason").isNull());
}

void TestRoutingEngine::adminExplainDryRunsTheDecision()
{
    auto a = startSim(QStringLiteral("a"));
    auto b = startSim(QStringLiteral("b"));
    QVERIFY(a && b);
    const QByteArray yaml = R"(
gateway: {admin_token: test-admin-token}
providers:
)" + vllmProviders({a.get(), b.get()}) + R"(
routes:
  - model: chat
    strategy: session_hash
    targets: [{provider: a, model: m}, {provider: b, model: m}]
)";
    auto gateway = TestSupport::startGateway(yaml, 1);
    QVERIFY(gateway);
    TestHttpClient http {gateway->port()};
    const TestHttpClient::HeaderList headers {{QByteArrayLiteral("authorization"), QByteArrayLiteral("Bearer test-admin-token")},
                                              {QByteArrayLiteral("x-session-id"), QByteArrayLiteral("conversation-7")}};
    http.post("/admin/v1/explain", chat("chat"), headers);
    http.post("/admin/v1/explain", chat("nope"), headers);
    http.post("/admin/v1/explain", chat("chat"));
    QVERIFY(http.waitForResponses(3));
    const auto explained = http.responses().at(0);
    QCOMPARE(explained.status, 200);
    const QJsonObject body = QJsonDocument::fromJson(explained.body).object();
    QCOMPARE(body.value(QStringLiteral("route")).toString(), QStringLiteral("chat"));
    QCOMPARE(body.value(QStringLiteral("session_key")).toString(), QStringLiteral("conversation-7"));
    QCOMPARE(body.value(QStringLiteral("attempts")).toArray().size(), 2);
    QVERIFY(body.value(QStringLiteral("route_reason")).toString().contains(QStringLiteral("strategy=session_hash")));
    QVERIFY(body.value(QStringLiteral("route_reason")).toString().contains(QStringLiteral("session=sticky")));
    // Nothing was sent upstream: it is a dry run.
    QCOMPARE(a->requestsReceived() + b->requestsReceived(), 0);
    QCOMPARE(http.responses().at(1).status, 404);
    QCOMPARE(http.responses().at(2).status, 401); // the admin token is required
}

void TestRoutingEngine::hedgingCutsTheStragglersTailWithinBudget()
{
    // One straggler target (300 ms before it answers) takes 1 in 40 requests: without
    // hedging that is the route's p99. With hedging, a request still waiting after the
    // route's p95 (or min_delay_ms) gets a backup on the fast target.
    auto slow = startSim(QStringLiteral("slow"));
    auto fast = startSim(QStringLiteral("fast"));
    QVERIFY(slow && fast);
    Behaviour straggler = slow->behaviour();
    straggler.headerDelayMs = 300;
    slow->setBehaviour(straggler);
    const auto yamlWith = [&](bool hedge) -> QByteArray {
        return R"(
providers:
)" + vllmProviders({slow.get(), fast.get()}) + R"(
routes:
  - model: chat
    hedge: {enabled: )" + QByteArray(hedge ? "true" : "false") + R"(, percentile: 0.95, min_delay_ms: 20, budget: 0.05}
    targets: [{provider: slow, model: m, weight: 1}, {provider: fast, model: m, weight: 39}]
)";
    };
    constexpr int REQUESTS = 400;
    const auto p99Of = [&](bool hedge, int &upstreamAttempts) {
        auto gateway = TestSupport::startGateway(yamlWith(hedge), 1);
        if (!gateway) {
            return -1.0;
        }
        const int before = slow->requestsReceived() + fast->requestsReceived();
        LoadDriver load {gateway->port(), 4};
        std::vector<double> latencies;
        const auto responses = load.run("/v1/chat/completions", REQUESTS, plain("chat"), 60000, &latencies);
        if (responses.size() != REQUESTS || countNon200(responses) != 0) {
            return -1.0;
        }
        upstreamAttempts = slow->requestsReceived() + fast->requestsReceived() - before;
        std::sort(latencies.begin(), latencies.end());
        return latencies[static_cast<std::size_t>(REQUESTS * 99 / 100)];
    };
    int attemptsOff = 0;
    int attemptsOn = 0;
    const double p99Off = p99Of(false, attemptsOff);
    const double p99On = p99Of(true, attemptsOn);
    QVERIFY(p99Off > 0 && p99On > 0);
    qInfo("p99 without hedging %.1f ms, with %.1f ms; %d hedges for %d requests", p99Off, p99On, attemptsOn - REQUESTS,
          REQUESTS);
    QVERIFY2(p99Off >= 250, qPrintable(QStringLiteral("without hedging p99 %1 ms").arg(p99Off)));
    QVERIFY2(p99On < p99Off / 3, qPrintable(QStringLiteral("p99 %1 ms hedged vs %2 ms").arg(p99On).arg(p99Off)));
    QCOMPARE(attemptsOff, REQUESTS);
    // Extra requests stay within the 5% budget (the straggler's 1 in 40, give or take).
    const int hedges = attemptsOn - REQUESTS;
    QVERIFY2(hedges > 0 && hedges <= REQUESTS * 5 / 100, qPrintable(QStringLiteral("%1 hedges").arg(hedges)));
}

void TestRoutingEngine::streamResetMidwayIsResumedOnAnotherTarget_data()
{
    QTest::addColumn<bool>("anthropic");
    QTest::newRow("openai via vllm continue_final_message") << false;
    QTest::newRow("anthropic assistant prefill") << true;
}

void TestRoutingEngine::streamResetMidwayIsResumedOnAnotherTarget()
{
    QFETCH(bool, anthropic);
    const Flavor flavor = anthropic ? Flavor::Anthropic : Flavor::OpenAi;
    auto first = std::make_unique<SimulatedUpstream>(QStringLiteral("first"), flavor);
    auto second = std::make_unique<SimulatedUpstream>(QStringLiteral("second"), flavor);
    QVERIFY(first->listen().hasValue() && second->listen().hasValue());
    Behaviour resets = first->behaviour();
    resets.resetAfterChunks = 5; // the connection breaks after five events reached the client
    first->setBehaviour(resets);
    const QByteArray type = anthropic ? "anthropic" : "vllm";
    const QByteArray yaml = R"(
providers:
  - {name: first, type: )" + type + R"(, base_url: )" + first->baseUrl() + R"(}
  - {name: second, type: )" + type + R"(, base_url: )" + second->baseUrl() + R"(}
routes:
  - model: chat
    stream_resumption: true
    targets: [{provider: first, model: m}]
    fallbacks: [chat-second]
  - model: chat-second
    targets: [{provider: second, model: m}]
)";
    auto gateway = TestSupport::startGateway(yaml, 1);
    QVERIFY(gateway);
    TestHttpClient http {gateway->port()};
    const QByteArray body = "{\"model\":\"chat\",\"stream\":true,\"max_tokens\":12,"
                            "\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}";
    http.post(anthropic ? "/v1/messages" : "/v1/chat/completions", body);
    QVERIFY(http.waitForResponses(1));
    const auto response = http.responses().constFirst();
    QCOMPARE(response.status, 200);
    // The first target really broke mid-stream, and the second was asked to continue.
    QCOMPARE(first->streamsReset(), 1);
    QCOMPARE(second->requestsReceived(), 1);
    const QList<QByteArray> data = response.sseDataLines();
    // One uninterrupted answer: every token exactly once, in order, then a clean end.
    QCOMPARE(TestSupport::joinedStreamContent(data), TestSupport::expectedSimContent(12));
    const QByteArray all = response.body;
    QVERIFY2(!all.contains("\"error\""), all.constData());
    if (anthropic) {
        QCOMPARE(response.sseEventNames().count(QByteArrayLiteral("message_start")), 1);
        QCOMPARE(response.sseEventNames().count(QByteArrayLiteral("message_stop")), 1);
    } else {
        QCOMPARE(data.count(QByteArrayLiteral("[DONE]")), 1);
        QCOMPARE(data.last(), QByteArrayLiteral("[DONE]"));
    }
}

QTEST_GUILESS_MAIN(TestRoutingEngine)
#include "testroutingengine.moc"
