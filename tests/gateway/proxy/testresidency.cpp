// Data residency over real sockets: a request restricted to a region never reaches an
// upstream outside it, whatever fails (fallback routes, retries, hedges, stream
// resumption), and gets an error that says why; an unrestricted request fails over.

#include "gatewayfixture.h"
#include "sim/fleet/syntheticprompt.h"
#include "sim/fleetserver.h"
#include "sim/simulatedupstream.h"
#include "testhttpclient.h"

#include <QJsonArray>
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

const QByteArray EU_KEY = "sy-eu-key-0123456789";
const QByteArray TEAM_KEY = "sy-team-key-0123456789";
const QByteArray OPEN_KEY = "sy-open-key-0123456789";
const QByteArray APAC_KEY = "sy-apac-key-0123456789";

QByteArray chat(const QByteArray &model, bool stream = false)
{
    return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}],\"max_tokens\":4" +
           (stream ? ",\"stream\":true" : "") + "}";
}

using TestSupport::errorOf;

using TestSupport::closedPort;

} // namespace

class TestResidency final : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void restrictedKeyNeverLeavesItsRegionAfterUpstream500();
    void restrictedKeyNeverLeavesItsRegionAfterConnectionRefused();
    void unrestrictedKeyFailsOver();
    void teamRegionsApplyToItsKeys();
    void routeRegionsApplyToItsFallbacks();
    void noTargetInTheRegionsIs403NamingThem();
    void hedgesStayInTheRegion();
    void streamResumptionStaysInTheRegion();
    void explainShowsResidencyFiltering();
    void prefillStepStaysInTheRegion();

private:
    TestHttpClient::Response post(const QByteArray &key, const QByteArray &body);
    int usRequests() const { return m_usA->requestsReceived() + m_usB->requestsReceived(); }

    std::unique_ptr<SimulatedUpstream> m_eu;
    std::unique_ptr<SimulatedUpstream> m_usA;
    std::unique_ptr<SimulatedUpstream> m_usB;
    std::unique_ptr<Gateway::GatewayRuntime> m_gateway;
};

void TestResidency::init()
{
    m_eu = std::make_unique<SimulatedUpstream>(QStringLiteral("eu"), Flavor::OpenAi);
    m_usA = std::make_unique<SimulatedUpstream>(QStringLiteral("us-a"), Flavor::OpenAi);
    m_usB = std::make_unique<SimulatedUpstream>(QStringLiteral("us-b"), Flavor::OpenAi);
    QVERIFY(m_eu->listen().hasValue());
    QVERIFY(m_usA->listen().hasValue());
    QVERIFY(m_usB->listen().hasValue());
    const QByteArray yaml = R"(
gateway: {admin_token: test-admin-token}
providers:
  - {name: eu, type: vllm, base_url: )" + m_eu->baseUrl() + R"(}
  - {name: eu-down, type: vllm, base_url: "http://127.0.0.1:)" + QByteArray::number(closedPort()) + R"(/v1"}
  - {name: us-a, type: vllm, base_url: )" + m_usA->baseUrl() + R"(}
  - {name: us-b, type: vllm, base_url: )" + m_usB->baseUrl() + R"(}
routes:
  - model: chat
    retry: {attempts: 4}
    targets: [{provider: eu, model: m, region: eu, weight: 1000}, {provider: us-a, model: m, region: us, weight: 0.001}]
    fallbacks: [chat-us]
  - model: chat-us
    targets: [{provider: us-b, model: m, region: us}]
  - model: refused
    targets: [{provider: eu-down, model: m, region: eu}, {provider: us-a, model: m, region: us, weight: 0.001}]
    fallbacks: [chat-us]
  - model: chat-eu
    regions: [eu]
    targets: [{provider: eu, model: m, region: eu}]
    fallbacks: [chat-us]
  - model: hedged
    hedge: {enabled: true, min_delay_ms: 20, budget: 1}
    targets: [{provider: eu, model: m, region: eu, weight: 1000}, {provider: us-a, model: m, region: us, weight: 0.001}]
  - model: resumed
    stream_resumption: true
    targets: [{provider: eu, model: m, region: eu, weight: 1000}, {provider: us-a, model: m, region: us, weight: 0.001}]
    fallbacks: [chat-us]
teams:
  - {name: europe, regions: [eu]}
virtual_keys:
  - {name: eu-key, key: )" + EU_KEY + R"(, regions: [eu]}
  - {name: team-key, key: )" + TEAM_KEY + R"(, team: europe}
  - {name: open-key, key: )" + OPEN_KEY + R"(}
  - {name: apac-key, key: )" + APAC_KEY + R"(, regions: [apac]}
)";
    m_gateway = TestSupport::startGateway(yaml);
    QVERIFY(m_gateway);
}

void TestResidency::cleanup()
{
    m_gateway.reset();
    m_eu.reset();
    m_usA.reset();
    m_usB.reset();
}

TestHttpClient::Response TestResidency::post(const QByteArray &key, const QByteArray &body)
{
    TestHttpClient http {m_gateway->port()};
    http.post("/v1/chat/completions", body, {{QByteArrayLiteral("authorization"), "Bearer " + key}});
    if (!http.waitForResponses(1, 20000)) {
        return {};
    }
    return http.responses().constFirst();
}

void TestResidency::restrictedKeyNeverLeavesItsRegionAfterUpstream500()
{
    Behaviour failing;
    failing.errorRate = 1.0; // every request fails: retries would go elsewhere if allowed
    failing.errorStatus = 500;
    m_eu->setBehaviour(failing);
    const auto response = post(EU_KEY, chat("chat"));
    QCOMPARE(response.status, 502);
    const QJsonObject error = errorOf(response);
    QCOMPARE(error.value(QStringLiteral("code")).toString(), QStringLiteral("upstream_error"));
    QVERIFY2(error.value(QStringLiteral("message")).toString().contains(QStringLiteral("allowed regions (eu)")),
             response.body.constData());
    QVERIFY2(error.value(QStringLiteral("message")).toString().contains(QStringLiteral("data residency")),
             response.body.constData());
    QVERIFY(m_eu->requestsReceived() >= 1);
    QCOMPARE(usRequests(), 0);
}

void TestResidency::restrictedKeyNeverLeavesItsRegionAfterConnectionRefused()
{
    const auto response = post(EU_KEY, chat("refused"));
    QCOMPARE(response.status, 502);
    QCOMPARE(errorOf(response).value(QStringLiteral("code")).toString(), QStringLiteral("upstream_unreachable"));
    QCOMPARE(usRequests(), 0);
}

void TestResidency::unrestrictedKeyFailsOver()
{
    Behaviour failing;
    failing.errorRate = 1.0;
    failing.errorStatus = 500;
    m_eu->setBehaviour(failing);
    const auto response = post(OPEN_KEY, chat("chat"));
    QCOMPARE(response.status, 200);
    QVERIFY(response.header("x-switchyard-backend").startsWith("us-"));
    QVERIFY(usRequests() >= 1);
    // And a connection refused in eu fails over as well.
    const auto refused = post(OPEN_KEY, chat("refused"));
    QCOMPARE(refused.status, 200);
    QVERIFY(refused.header("x-switchyard-backend").startsWith("us-"));
}

void TestResidency::teamRegionsApplyToItsKeys()
{
    Behaviour failing;
    failing.errorRate = 1.0;
    m_eu->setBehaviour(failing);
    const auto response = post(TEAM_KEY, chat("chat"));
    QCOMPARE(response.status, 502);
    QCOMPARE(usRequests(), 0);
}

void TestResidency::routeRegionsApplyToItsFallbacks()
{
    // An unrestricted key on a route restricted to eu: its fallback (all in us) is never
    // used, since the request asked for the eu-only model.
    Behaviour failing;
    failing.errorRate = 1.0;
    m_eu->setBehaviour(failing);
    const auto response = post(OPEN_KEY, chat("chat-eu"));
    QCOMPARE(response.status, 502);
    QCOMPARE(usRequests(), 0);
    // Healthy, it answers from eu.
    m_eu->setBehaviour(Behaviour {});
    const auto healthy = post(OPEN_KEY, chat("chat-eu"));
    QCOMPARE(healthy.status, 200);
    QCOMPARE(healthy.header("x-switchyard-backend"), QByteArrayLiteral("eu/m"));
}

void TestResidency::noTargetInTheRegionsIs403NamingThem()
{
    const auto response = post(APAC_KEY, chat("chat"));
    QCOMPARE(response.status, 403);
    const QJsonObject error = errorOf(response);
    QCOMPARE(error.value(QStringLiteral("code")).toString(), QStringLiteral("residency_violation"));
    QVERIFY2(error.value(QStringLiteral("message")).toString().contains(QStringLiteral("(apac)")), response.body.constData());
    // An eu key on a us-only route: the intersection is empty.
    const auto usOnly = post(EU_KEY, chat("chat-us"));
    QCOMPARE(usOnly.status, 403);
    QCOMPARE(errorOf(usOnly).value(QStringLiteral("code")).toString(), QStringLiteral("residency_violation"));
    QCOMPARE(m_eu->requestsReceived() + usRequests(), 0);
    // The refusals are counted per route.
    TestHttpClient http {m_gateway->port()};
    http.get("/metrics");
    QVERIFY(http.waitForResponses(1));
    QVERIFY(http.responses().constFirst().body.contains("switchyard_residency_refusals_total{route=\"chat\"} 1"));
}

void TestResidency::hedgesStayInTheRegion()
{
    // The route hedges once it has 20 answers of history: fast ones, from eu.
    for (int i = 0; i < 20; ++i) {
        QCOMPARE(post(OPEN_KEY, chat("hedged")).status, 200);
    }
    QCOMPARE(usRequests(), 0);
    // Then a slow eu target is hedged onto the us one when residency allows it...
    Behaviour slow;
    slow.headerDelayMs = 300;
    m_eu->setBehaviour(slow);
    const auto open = post(OPEN_KEY, chat("hedged"));
    QCOMPARE(open.status, 200);
    QTRY_VERIFY_WITH_TIMEOUT(usRequests() >= 1, 10000);
    const int usBefore = usRequests();
    // ...and never for a key restricted to eu.
    for (int i = 0; i < 3; ++i) {
        const auto response = post(EU_KEY, chat("hedged"));
        QCOMPARE(response.status, 200);
        QCOMPARE(response.header("x-switchyard-backend"), QByteArrayLiteral("eu/m"));
    }
    QCOMPARE(usRequests(), usBefore);
}

void TestResidency::streamResumptionStaysInTheRegion()
{
    // The eu stream breaks after two events; resumption may only continue it in eu.
    Behaviour breaking;
    breaking.resetAfterChunks = 2;
    m_eu->setBehaviour(breaking);
    const auto response = post(EU_KEY, chat("resumed", true));
    QCOMPARE(response.status, 200);
    QCOMPARE(usRequests(), 0);
    QVERIFY(m_eu->requestsReceived() >= 2); // the first stream and its continuation
}

void TestResidency::explainShowsResidencyFiltering()
{
    TestHttpClient http {m_gateway->port()};
    const TestHttpClient::HeaderList admin {{QByteArrayLiteral("authorization"), QByteArrayLiteral("Bearer test-admin-token")}};
    http.post("/admin/v1/explain?key=eu-key", chat("chat"), admin);
    http.post("/admin/v1/explain?key=open-key", chat("chat"), admin);
    QVERIFY(http.waitForResponses(2));
    const QJsonObject restricted = QJsonDocument::fromJson(http.responses().at(0).body).object();
    QCOMPARE(restricted.value(QStringLiteral("regions")).toString(), QStringLiteral("eu"));
    QCOMPARE(restricted.value(QStringLiteral("residency_excluded")).toInt(), 2); // us-a, and us-b of the fallback
    QCOMPARE(restricted.value(QStringLiteral("attempts")).toArray(), QJsonArray {QStringLiteral("eu/m")});
    QVERIFY2(restricted.value(QStringLiteral("route_reason")).toString().contains(QStringLiteral("us-a/m(outside the allowed regions eu)")),
             http.responses().at(0).body.constData());
    const QJsonObject open = QJsonDocument::fromJson(http.responses().at(1).body).object();
    QCOMPARE(open.value(QStringLiteral("regions")).toString(), QStringLiteral("any"));
    QCOMPARE(open.value(QStringLiteral("residency_excluded")).toInt(), 0);
    QCOMPARE(open.value(QStringLiteral("attempts")).toArray().size(), 3);
    QCOMPARE(m_eu->requestsReceived() + usRequests(), 0);
}

void TestResidency::prefillStepStaysInTheRegion()
{
    // A long, uncached prompt is normally prefilled on the prefill pool (in us) and
    // decoded in eu; restricted to eu it runs aggregated on the eu decode server.
    Gateway::Sim::FleetServerConfig config;
    config.timeScale = 0.05;
    Gateway::Sim::FleetServer prefill {QStringLiteral("p-us"), config};
    Gateway::Sim::FleetServer decode {QStringLiteral("d-eu"), config};
    QVERIFY(prefill.listen().hasValue() && decode.listen().hasValue());
    const auto provider = [](const Gateway::Sim::FleetServer &server) -> QByteArray {
        return "  - {name: " + server.name().toUtf8() + ", type: vllm, base_url: " + server.baseUrl() +
               ", metrics_url: " + server.metricsUrl() + "}\n";
    };
    auto gateway = TestSupport::startGateway("routing: {metrics_interval_ms: 100}\nproviders:\n" + provider(prefill) +
                                             provider(decode) +
                                             "routes:\n"
                                             "  - model: chat\n"
                                             "    strategy: prefix_aware\n"
                                             "    targets: [{provider: p-us, model: m, pool: prefill, region: us},\n"
                                             "              {provider: d-eu, model: m, pool: decode, region: eu}]\n"
                                             "virtual_keys:\n"
                                             "  - {name: eu-key, key: " + EU_KEY + ", regions: [eu]}\n"
                                             "  - {name: open-key, key: " + OPEN_KEY + "}\n");
    QVERIFY(gateway);
    const auto longPrompt = [](std::uint64_t seed) -> QByteArray {
        QByteArray text;
        Gateway::Sim::Fleet::PromptRenderer::render(text, seed, 800);
        return "{\"model\":\"chat\",\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":\"" + text + "\"}]}";
    };
    const auto send = [&gateway](const QByteArray &key, const QByteArray &body) -> TestHttpClient::Response {
        TestHttpClient http {gateway->port()};
        http.post("/v1/chat/completions", body, {{QByteArrayLiteral("authorization"), "Bearer " + key},
                                                 {QByteArrayLiteral("x-switchyard-explain"), QByteArrayLiteral("1")}});
        return http.waitForResponses(1, 20000) ? http.responses().constFirst() : TestHttpClient::Response {};
    };
    const auto restricted = send(EU_KEY, longPrompt(1));
    QCOMPARE(restricted.status, 200);
    QCOMPARE(restricted.header("x-switchyard-backend"), QByteArrayLiteral("d-eu/m"));
    QVERIFY2(restricted.header("x-switchyard-route-reason").contains("prefill=none available"),
             restricted.header("x-switchyard-route-reason").constData());
    QCOMPARE(prefill.requests().size(), std::size_t {0});
    // The control: the same kind of request from an unrestricted key is disaggregated.
    const auto open = send(OPEN_KEY, longPrompt(2));
    QCOMPARE(open.status, 200);
    QVERIFY2(open.header("x-switchyard-route-reason").contains("prefill=p-us/m"), open.header("x-switchyard-route-reason").constData());
    QCOMPARE(prefill.requests().size(), std::size_t {1});
}

QTEST_MAIN(TestResidency)
#include "testresidency.moc"
