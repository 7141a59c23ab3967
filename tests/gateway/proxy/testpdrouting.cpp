// Prefill/decode disaggregation end to end over real sockets: a route with one prefill
// and two decode fleet-mode servers. A long uncached prompt runs prefill (max_tokens 1,
// kv_transfer_params asking for a remote decode) then decode (with the prefill server's
// kv_transfer_params); short or cached prompts stay on one server, and so does a prompt
// whose context only its decode server holds (the prefill server would have more work); a failing prefill
// server falls back to aggregated serving without the client noticing; streams work
// through the two steps.

#include "gatewayfixture.h"
#include "sim/fleet/syntheticprompt.h"
#include "sim/fleetserver.h"
#include "testhttpclient.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <memory>
#include <vector>

using Gateway::Sim::FleetRequestRecord;
using Gateway::Sim::FleetServer;
using Gateway::Sim::FleetServerConfig;
using TestSupport::TestHttpClient;
using namespace Qt::StringLiterals;

namespace {

// 4-character pseudo-words (the fleet simulator's text): no escaping, distinct per seed.
QByteArray words(std::uint64_t seed, int tokens)
{
    QByteArray text;
    Gateway::Sim::Fleet::PromptRenderer::render(text, seed, tokens);
    return text;
}

QByteArray chatBody(const QByteArray &content, int maxTokens, bool stream, const QByteArray &model = "chat")
{
    return "{\"model\":\"" + model + "\",\"max_tokens\":" + QByteArray::number(maxTokens) +
           (stream ? ",\"stream\":true" : "") + ",\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}]}";
}

TestHttpClient::Response post(quint16 port, const QByteArray &body)
{
    TestHttpClient client {port};
    client.post("/v1/chat/completions", body, {{"x-switchyard-explain", "1"}});
    if (!client.waitForResponses(1)) {
        return {};
    }
    return client.responses().first();
}

double sampleValue(quint16 port, const QByteArray &nameAndLabels)
{
    TestHttpClient client {port};
    client.get("/metrics");
    if (!client.waitForResponses(1)) {
        return -1;
    }
    for (const QByteArray &line : client.responses().first().body.split('\n')) {
        if (line.startsWith(QByteArray(nameAndLabels + ' '))) {
            return line.mid(nameAndLabels.size() + 1).toDouble();
        }
    }
    return -2;
}

std::unique_ptr<FleetServer> startServer(const char *name)
{
    FleetServerConfig config;
    config.timeScale = 0.05; // twenty times faster than a GPU: tests stay short
    auto server = std::make_unique<FleetServer>(QString::fromLatin1(name), config);
    return server->listen().hasValue() ? std::move(server) : nullptr;
}

QByteArray provider(const FleetServer &server)
{
    return "  - {name: " + server.name().toUtf8() + ", type: vllm, base_url: " + server.baseUrl() +
           ", metrics_url: " + server.metricsUrl() + "}\n";
}

} // namespace

class TestPdRouting final : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void longUncachedPromptIsPrefilledThenDecoded();
    void shortAndCachedPromptsStayAggregated();
    void streamsWorkThroughTheTwoSteps();
    void contextHeldOnlyByTheDecodeServerStaysThere();
    void failingPrefillFallsBackToAggregated();
    void failedPrefillMovesToTheNextPrefillServer();
    void failingDecodeFollowsTheRetryRules();
    void stateShowsPoolsAndTheDecidersTally();
    void cleanupTestCase();

private:
    const FleetServer *servedBy(const TestHttpClient::Response &response) const;

    std::unique_ptr<FleetServer> m_prefill;
    std::unique_ptr<FleetServer> m_decode1;
    std::unique_ptr<FleetServer> m_decode2;
    std::unique_ptr<Gateway::GatewayRuntime> m_gateway;
    quint16 m_deadPort = 0;
};

void TestPdRouting::initTestCase()
{
    m_prefill = startServer("p1");
    m_decode1 = startServer("d1");
    m_decode2 = startServer("d2");
    QVERIFY(m_prefill && m_decode1 && m_decode2);
    {
        // A port that refuses connections: the prefill server of the broken route.
        auto gone = startServer("gone");
        QVERIFY(gone);
        m_deadPort = gone->port();
    }
    const QByteArray yaml = "gateway: {admin_token: test-admin-token}\nrouting: {metrics_interval_ms: 100}\nproviders:\n" + provider(*m_prefill) +
                            provider(*m_decode1) + provider(*m_decode2) +
                            "  - {name: dead, type: vllm, base_url: http://127.0.0.1:" + QByteArray::number(m_deadPort) +
                            "/v1}\n"
                            "routes:\n"
                            "  - model: chat\n"
                            "    strategy: prefix_aware\n"
                            "    pd: {uncached_tokens_threshold: 16}\n"
                            "    targets: [{provider: p1, model: m, pool: prefill}, {provider: d1, model: m, pool: decode},\n"
                            "              {provider: d2, model: m, pool: decode}]\n"
                            "  - model: chat-dead-decode\n"
                            "    strategy: prefix_aware\n"
                            "    fallbacks: [chat]\n"
                            "    targets: [{provider: p1, model: m, pool: prefill}, {provider: dead, model: d, pool: decode}]\n"
                            "  - model: chat-broken\n"
                            "    strategy: prefix_aware\n"
                            "    targets: [{provider: dead, model: m, pool: prefill}, {provider: d1, model: m, pool: decode}]\n"
                            "  - model: chat-grow\n"
                            "    strategy: prefix_aware\n"
                            "    pd: {uncached_tokens_threshold: 500}\n"
                            "    targets: [{provider: p1, model: m, pool: prefill}, {provider: d1, model: m, pool: decode},\n"
                            "              {provider: d2, model: m, pool: decode}]\n"
                            "  - model: chat-grow-unchecked\n"
                            "    strategy: prefix_aware\n"
                            "    pd: {uncached_tokens_threshold: 500, max_prefill_work_ratio: 0}\n"
                            "    targets: [{provider: p1, model: m, pool: prefill}, {provider: d1, model: m, pool: decode},\n"
                            "              {provider: d2, model: m, pool: decode}]\n"
                            "  - model: chat-second-prefill\n"
                            "    strategy: prefix_aware\n"
                            "    targets: [{provider: dead, model: m, pool: prefill}, {provider: p1, model: m, pool: prefill},\n"
                            "              {provider: d2, model: m, pool: decode}]\n";
    m_gateway = TestSupport::startGateway(yaml, 1);
    QVERIFY(m_gateway);
}

void TestPdRouting::cleanupTestCase()
{
    m_gateway.reset();
}

const FleetServer *TestPdRouting::servedBy(const TestHttpClient::Response &response) const
{
    const QByteArray backend = response.header("x-switchyard-backend");
    if (backend == "d1/m") {
        return m_decode1.get();
    }
    return backend == "d2/m" ? m_decode2.get() : nullptr;
}

void TestPdRouting::longUncachedPromptIsPrefilledThenDecoded()
{
    const auto response = post(m_gateway->port(), chatBody(words(1, 800), 8, false));
    QCOMPARE(response.status, 200);
    const QByteArray reason = response.header("x-switchyard-route-reason");
    QVERIFY2(reason.contains("pd=disaggregated") && reason.contains("prefill=p1/m"), reason.constData());
    // The client sees one normal answer, with the decode server's usage.
    const QJsonObject body = QJsonDocument::fromJson(response.body).object();
    QCOMPARE(body.value(QStringLiteral("usage")).toObject().value(QStringLiteral("completion_tokens")).toInt(), 8);
    QVERIFY2(!body.contains(QStringLiteral("kv_transfer_params")), response.body.constData());

    // Step one: the prefill server got one token to compute and the remote-decode request.
    const std::vector<FleetRequestRecord> prefills = m_prefill->requests();
    QCOMPARE(prefills.size(), std::size_t {1});
    QCOMPARE(prefills[0].maxTokens, 1);
    QVERIFY(!prefills[0].stream);
    QVERIFY(prefills[0].kvTransfer.remoteDecode);
    QVERIFY(!prefills[0].kvTransfer.remotePrefill);
    QVERIFY(prefills[0].promptTokens > 800);
    // Step two: the decode server got the client's request with the returned parameters.
    const FleetServer *decode = servedBy(response);
    QVERIFY(decode);
    const std::vector<FleetRequestRecord> decodes = decode->requests();
    QCOMPARE(decodes.size(), std::size_t {1});
    QCOMPARE(decodes[0].maxTokens, 8);
    QVERIFY(decodes[0].kvTransfer.remotePrefill);
    QVERIFY(!decodes[0].kvTransfer.remoteDecode);
    QCOMPARE(decodes[0].kvTransfer.remoteEngineId, QByteArray("p1"));
    QCOMPARE(decodes[0].kvTransfer.remoteBlocks, (prefills[0].promptTokens + 15) / 16);
    // Both steps under one request id (X-Request-Id), as vLLM's proxy sends them.
    QVERIFY(!prefills[0].requestId.isEmpty());
    QCOMPARE(decodes[0].requestId, prefills[0].requestId);
    QVERIFY2(decodes[0].kvTransfer.raw.contains(QByteArray("\"remote_port\":" + QByteArray::number(m_prefill->port()))),
             decodes[0].kvTransfer.raw.constData());
    QCOMPARE(sampleValue(m_gateway->port(), "switchyard_pd_decisions_total{route=\"chat\",decision=\"disaggregated\"}"), 1.0);
}

void TestPdRouting::shortAndCachedPromptsStayAggregated()
{
    const std::size_t prefillsBefore = m_prefill->requests().size();
    // Short: fewer uncached tokens than the threshold anywhere.
    const auto shortResponse = post(m_gateway->port(), chatBody("Hi", 4, false));
    QCOMPARE(shortResponse.status, 200);
    QVERIFY2(shortResponse.header("x-switchyard-route-reason").contains("pd=aggregated"),
             shortResponse.header("x-switchyard-route-reason").constData());
    // Cached: the long prompt again; its decode server imported and now holds its blocks.
    const QByteArray longBody = chatBody(words(1, 800), 4, false);
    const auto repeat = post(m_gateway->port(), longBody);
    QCOMPARE(repeat.status, 200);
    const QByteArray reason = repeat.header("x-switchyard-route-reason");
    QVERIFY2(reason.contains("pd=aggregated"), reason.constData());
    QCOMPARE(m_prefill->requests().size(), prefillsBefore);
    const FleetServer *decode = servedBy(repeat);
    QVERIFY(decode);
    QVERIFY(!decode->requests().back().kvTransfer.present);
    QVERIFY(sampleValue(m_gateway->port(), "switchyard_pd_decisions_total{route=\"chat\",decision=\"aggregated\"}") >= 2.0);
}

void TestPdRouting::streamsWorkThroughTheTwoSteps()
{
    const std::size_t prefillsBefore = m_prefill->requests().size();
    TestHttpClient client {m_gateway->port()};
    client.post("/v1/chat/completions", chatBody(words(2, 600), 6, true), {{"x-switchyard-explain", "1"}});
    QVERIFY(client.waitForResponses(1));
    const auto response = client.responses().first();
    QCOMPARE(response.status, 200);
    QVERIFY(response.header("content-type").contains("text/event-stream"));
    QVERIFY2(response.header("x-switchyard-route-reason").contains("pd=disaggregated"),
             response.header("x-switchyard-route-reason").constData());
    const QList<QByteArray> events = response.sseDataLines();
    QVERIFY(!events.isEmpty());
    QCOMPARE(events.last(), QByteArray("[DONE]"));
    int tokens = 0;
    for (const QByteArray &event : events) {
        const QJsonObject chunk = QJsonDocument::fromJson(event).object();
        tokens += chunk.value(QStringLiteral("choices")).toArray().at(0).toObject().value(QStringLiteral("delta"))
                      .toObject().contains(QStringLiteral("content"))
                      ? 1
                      : 0;
    }
    QCOMPARE(tokens, 6);
    const auto prefills = m_prefill->requests();
    QCOMPARE(prefills.size(), prefillsBefore + 1);
    // The prefill step is never streamed, whatever the client asked for.
    QVERIFY(!prefills.back().stream);
    QCOMPARE(prefills.back().maxTokens, 1);
    const FleetServer *decode = servedBy(response);
    QVERIFY(decode);
    QVERIFY(decode->requests().back().stream);
    QVERIFY(decode->requests().back().kvTransfer.remotePrefill);
}

void TestPdRouting::contextHeldOnlyByTheDecodeServerStaysThere()
{
    // Turn one is short enough to stay on a decode server, which then holds it; turn two
    // adds more uncached tokens than the threshold. llm-d's rule alone would send turn two
    // to the prefill server, which lacks the whole context: more work than the decode
    // server has left. With the check (default ratio 1) it stays; without it, it splits.
    for (const QByteArray &model : {QByteArrayLiteral("chat-grow"), QByteArrayLiteral("chat-grow-unchecked")}) {
        const bool checked = model == "chat-grow";
        const QByteArray first = words(checked ? 40 : 41, 200);
        const auto turnOne = post(m_gateway->port(), chatBody(first, 4, false, model));
        QCOMPARE(turnOne.status, 200);
        QVERIFY2(turnOne.header("x-switchyard-route-reason").contains("pd=aggregated uncached="),
                 turnOne.header("x-switchyard-route-reason").constData());
        const FleetServer *holder = servedBy(turnOne);
        QVERIFY(holder);

        const std::size_t prefillsBefore = m_prefill->requests().size();
        const auto turnTwo = post(m_gateway->port(), chatBody(first + words(checked ? 50 : 51, 1000), 4, false, model));
        QCOMPARE(turnTwo.status, 200);
        const QByteArray reason = turnTwo.header("x-switchyard-route-reason");
        QCOMPARE(servedBy(turnTwo), holder); // the prefix keeps it on the same decode server
        if (checked) {
            QVERIFY2(reason.contains("pd=aggregated") && reason.contains("prefill_work=") && reason.contains("(prefill server p1/m busier)"),
                     reason.constData());
            QCOMPARE(m_prefill->requests().size(), prefillsBefore);
            QVERIFY(!holder->requests().back().kvTransfer.present);
            // Turn three grows again. The prefill server was ranked for turn two but never
            // got it, so the gateway must not believe it holds turn two now.
            const auto turnThree =
                post(m_gateway->port(), chatBody(first + words(50, 1000) + words(52, 1000), 4, false, model));
            QCOMPARE(turnThree.status, 200);
            const QByteArray third = turnThree.header("x-switchyard-route-reason");
            QVERIFY2(third.contains("pd=aggregated") && third.contains("busier"), third.constData());
            QCOMPARE(m_prefill->requests().size(), prefillsBefore);
        } else {
            QVERIFY2(reason.contains("pd=disaggregated") && reason.contains("prefill=p1/m"), reason.constData());
            QCOMPARE(m_prefill->requests().size(), prefillsBefore + 1);
            QVERIFY(holder->requests().back().kvTransfer.remotePrefill);
        }
    }
    QCOMPARE(sampleValue(m_gateway->port(), "switchyard_pd_decisions_total{route=\"chat-grow\",decision=\"aggregated\"}"), 3.0);
    QCOMPARE(sampleValue(m_gateway->port(), "switchyard_pd_decisions_total{route=\"chat-grow-unchecked\",decision=\"disaggregated\"}"),
             1.0);
}

void TestPdRouting::failingPrefillFallsBackToAggregated()
{
    const std::size_t decodesBefore = m_decode1->requests().size();
    const auto response = post(m_gateway->port(), chatBody(words(3, 700), 4, false, "chat-broken"));
    QCOMPARE(response.status, 200);
    const QByteArray reason = response.header("x-switchyard-route-reason");
    QVERIFY2(reason.contains("pd=disaggregated") && reason.contains("ran aggregated"), reason.constData());
    QCOMPARE(response.header("x-switchyard-backend"), QByteArray("d1/m"));
    const auto decodes = m_decode1->requests();
    QCOMPARE(decodes.size(), decodesBefore + 1);
    QVERIFY(!decodes.back().kvTransfer.present); // it prefilled itself
    QCOMPARE(sampleValue(m_gateway->port(), "switchyard_pd_prefill_failures_total{route=\"chat-broken\",backend=\"dead/m\"}"),
             1.0);
}

void TestPdRouting::failedPrefillMovesToTheNextPrefillServer()
{
    // Two prefill servers, one refusing connections. Whenever the dead one is ranked
    // first, its failure hands the step to the live one, and the decode still imports
    // the prompt's blocks. Which one ranks first depends on the strategy's tie-breaks,
    // so requests go until one has tried the dead server.
    bool movedOn = false;
    for (int attempt = 0; attempt < 20 && !movedOn; ++attempt) {
        const std::size_t prefillsBefore = m_prefill->requests().size();
        const auto response =
            post(m_gateway->port(), chatBody(words(100 + static_cast<std::uint64_t>(attempt), 700), 4, false,
                                             "chat-second-prefill"));
        QCOMPARE(response.status, 200);
        const QByteArray reason = response.header("x-switchyard-route-reason");
        QVERIFY2(reason.contains("pd=disaggregated"), reason.constData());
        QCOMPARE(response.header("x-switchyard-backend"), QByteArray("d2/m"));
        QCOMPARE(m_prefill->requests().size(), prefillsBefore + 1); // the live one always ran it
        QVERIFY2(!reason.contains("ran aggregated"), reason.constData());
        QVERIFY(m_decode2->requests().back().kvTransfer.present);
        movedOn = reason.contains("prefill=dead/m");
        if (movedOn) {
            QVERIFY2(reason.indexOf("prefill=dead/m") < reason.indexOf("prefill=p1/m"), reason.constData());
        }
    }
    QVERIFY2(movedOn, "the dead prefill server was never ranked first");
}

void TestPdRouting::failingDecodeFollowsTheRetryRules()
{
    // The decode target refuses connections after a successful prefill: the route's
    // fallback serves the request, prefilling it itself (the transferred blocks belonged
    // to the failed attempt).
    const std::size_t prefillsBefore = m_prefill->requests().size();
    const auto response = post(m_gateway->port(), chatBody(words(4, 700), 4, false, "chat-dead-decode"));
    QCOMPARE(response.status, 200);
    const QByteArray reason = response.header("x-switchyard-route-reason");
    QVERIFY2(reason.contains("pd=disaggregated") && reason.contains("dead/d:"), reason.constData());
    QCOMPARE(m_prefill->requests().size(), prefillsBefore + 1);
    const FleetServer *decode = servedBy(response);
    QVERIFY2(decode, response.header("x-switchyard-backend").constData());
    QVERIFY(!decode->requests().back().kvTransfer.present);
    QCOMPARE(decode->requests().back().maxTokens, 4);
}

void TestPdRouting::stateShowsPoolsAndTheDecidersTally()
{
    const auto stateOf = [this](const QString &model) {
        TestHttpClient admin {m_gateway->port()};
        admin.get("/admin/v1/state", {{"authorization", "Bearer test-admin-token"}});
        if (!admin.waitForResponses(1)) {
            return QJsonObject {};
        }
        const QJsonArray routes = QJsonDocument::fromJson(admin.responses().first().body).object()[u"routes"_s].toArray();
        for (const QJsonValue &route : routes) {
            if (route.toObject()[u"model"_s].toString() == model) {
                return route.toObject();
            }
        }
        return QJsonObject {};
    };
    // The earlier tests split requests on `chat` and kept short or cached ones whole.
    QTRY_VERIFY_WITH_TIMEOUT(stateOf(u"chat"_s)[u"pd"_s].toObject()[u"aggregated"_s].toInt() > 0, 5000);
    const QJsonObject chat = stateOf(u"chat"_s);
    QVERIFY(chat[u"pd"_s].toObject()[u"disaggregated"_s].toInt() > 0);
    QStringList pools;
    for (const QJsonValue &target : chat[u"targets"_s].toArray()) {
        pools << target.toObject()[u"backend"_s].toString() + u'=' + target.toObject()[u"pool"_s].toString();
    }
    QCOMPARE(pools, (QStringList {u"p1/m=prefill"_s, u"d1/m=decode"_s, u"d2/m=decode"_s}));
}

QTEST_GUILESS_MAIN(TestPdRouting)
#include "testpdrouting.moc"
