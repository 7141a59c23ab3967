// Conditional routing end to end over real sockets: rules that redirect to another route
// or narrow the targets, the virtual key's permission on the final route, and a sticky
// 90/10 traffic split with per-arm metrics.

#include "gatewayfixture.h"
#include "loaddriver.h"
#include "sim/simulatedupstream.h"
#include "testhttpclient.h"

#include <QRegularExpression>
#include <QTest>

#include <map>
#include <memory>
#include <set>

using Gateway::Sim::Flavor;
using Gateway::Sim::SimulatedUpstream;
using TestSupport::LoadDriver;
using TestSupport::TestHttpClient;

namespace {

QByteArray chat(const QByteArray &model, const QByteArray &content, const QByteArray &extra = {})
{
    return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":" + content +
           "}],\"max_tokens\":4" + extra + '}';
}

QByteArray text(const QByteArray &words)
{
    return '"' + words + '"';
}

TestHttpClient::HeaderList withKey(const QByteArray &key, TestHttpClient::HeaderList headers = {})
{
    headers.push_back({QByteArrayLiteral("authorization"), "Bearer " + key});
    headers.push_back({QByteArrayLiteral("x-switchyard-explain"), QByteArrayLiteral("1")});
    return headers;
}

// Sends one request and waits for its answer.
TestHttpClient::Response send(quint16 port, const QByteArray &body, const TestHttpClient::HeaderList &headers)
{
    TestHttpClient http {port};
    http.post("/v1/chat/completions", body, headers);
    if (!http.waitForResponses(1)) {
        return {};
    }
    return http.responses().constFirst();
}

QByteArray metricsOf(quint16 port)
{
    TestHttpClient http {port};
    http.get("/metrics");
    return http.waitForResponses(1) ? http.responses().constFirst().body : QByteArray();
}

// The value of one sample in a Prometheus text body; -1 when absent.
double sample(const QByteArray &metrics, const QByteArray &series)
{
    const QByteArray needle = '\n' + series + ' ';
    const qsizetype at = metrics.indexOf(needle);
    if (at < 0) {
        return -1;
    }
    const qsizetype begin = at + 1 + series.size() + 1;
    return metrics.mid(begin, metrics.indexOf('\n', begin) - begin).toDouble();
}

const QByteArray TEAM_A = QByteArrayLiteral("sy-team-a-key-0001");
const QByteArray TEAM_B = QByteArrayLiteral("sy-team-b-key-0002");
const QByteArray TEAM_C = QByteArrayLiteral("sy-team-c-key-0003");

} // namespace

class TestConditionalRouting final : public QObject {
    Q_OBJECT

private slots:
    void init();
    void visionGoesToTheVisionRoute();
    void longPromptGoesToTheBigRoute();
    void codeQuestionGoesToTheCodeRoute();
    void headerRule();
    void virtualKeyRuleNarrowsTheTargets();
    void keywordRuleNarrowsTheTargets();
    void unmatchedRequestsUseTheRouteItself();
    void permissionAppliesToTheFinalRoute();
    void ruleMatchesAreCounted();
    void splitSendsATenthToTheCanaryStickyPerSession();

private:
    std::unique_ptr<SimulatedUpstream> m_sim;
    std::unique_ptr<Gateway::GatewayRuntime> m_gateway;
};

void TestConditionalRouting::init()
{
    m_gateway.reset();
    m_sim = std::make_unique<SimulatedUpstream>(QStringLiteral("gpu"), Flavor::OpenAi);
    QVERIFY(m_sim->listen().hasValue());
    // One upstream; each route's target has its own upstream model name, so the
    // x-switchyard-backend header ("gpu/<model>") tells which route answered.
    const QByteArray yaml = R"(
providers:
  - {name: gpu, type: vllm, base_url: )" + m_sim->baseUrl() + R"(}
routes:
  - model: auto
    rules:
      - name: vision
        when: {has_images: true}
        route: chat-vision
      - name: long
        when: {min_prompt_tokens: 2000}
        route: chat-big
      - name: code
        when: {last_user_message_matches: "(?i)\\b(def|class|function)\\b"}
        route: chat-code
      - name: gold
        when: {header: {x-tier: gold}}
        route: chat-big
      - name: team-b
        when: {virtual_key: [team-b]}
        targets: [gpu/small-b]
      - when: {last_user_message_contains: [stack trace, segfault]}
        targets: [gpu/small-b]
    targets: [{provider: gpu, model: small-a}, {provider: gpu, model: small-b}]
  - model: chat-vision
    targets: [{provider: gpu, model: vision}]
  - model: chat-big
    targets: [{provider: gpu, model: big}]
  - model: chat-code
    targets: [{provider: gpu, model: code}]
virtual_keys:
  - {name: team-a, key: )" + TEAM_A + R"(}
  - {name: team-b, key: )" + TEAM_B + R"(}
  - {name: team-c, key: )" + TEAM_C + R"(, routes: [auto]}
)";
    m_gateway = TestSupport::startGateway(yaml, 2);
    QVERIFY(m_gateway);
}

void TestConditionalRouting::visionGoesToTheVisionRoute()
{
    const QByteArray parts = R"([{"type":"text","text":"what is this?"},{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}])";
    const auto response = send(m_gateway->port(), chat("auto", parts), withKey(TEAM_A));
    QCOMPARE(response.status, 200);
    QCOMPARE(response.header("x-switchyard-backend"), QByteArrayLiteral("gpu/vision"));
    const QByteArray reason = response.header("x-switchyard-route-reason");
    QVERIFY2(reason.startsWith("rule=vision -> route chat-vision; route=chat-vision"), reason.constData());
    // The upstream got the model of the route that serves it.
    QVERIFY(m_sim->lastRequestBody().contains("\"model\":\"vision\""));
}

void TestConditionalRouting::longPromptGoesToTheBigRoute()
{
    const QByteArray longPrompt = text(QByteArray(9000, 'x')); // about 2250 tokens
    const auto response = send(m_gateway->port(), chat("auto", longPrompt), withKey(TEAM_A));
    QCOMPARE(response.status, 200);
    QCOMPARE(response.header("x-switchyard-backend"), QByteArrayLiteral("gpu/big"));
    QVERIFY(response.header("x-switchyard-route-reason").startsWith("rule=long -> route chat-big"));
    // Just under the bound: stays.
    const auto shorter = send(m_gateway->port(), chat("auto", text(QByteArray(7000, 'x'))), withKey(TEAM_A));
    QVERIFY(shorter.header("x-switchyard-backend").startsWith("gpu/small-"));
}

void TestConditionalRouting::codeQuestionGoesToTheCodeRoute()
{
    const auto code = send(m_gateway->port(), chat("auto", text("Why does my Python CLASS not pickle?")), withKey(TEAM_A));
    QCOMPARE(code.status, 200);
    QCOMPARE(code.header("x-switchyard-backend"), QByteArrayLiteral("gpu/code"));
    QVERIFY(code.header("x-switchyard-route-reason").startsWith("rule=code -> route chat-code"));
    // Only the last user message counts: code in an earlier turn does not.
    const QByteArray conversation =
        R"({"model":"auto","max_tokens":4,"messages":[{"role":"user","content":"def f(): pass"},)"
        R"({"role":"assistant","content":"ok"},{"role":"user","content":"thanks, and the weather?"}]})";
    const auto chatty = send(m_gateway->port(), conversation, withKey(TEAM_A));
    QCOMPARE(chatty.status, 200);
    QVERIFY2(chatty.header("x-switchyard-backend").startsWith("gpu/small-"), chatty.header("x-switchyard-backend").constData());
}

void TestConditionalRouting::headerRule()
{
    const auto gold = send(m_gateway->port(), chat("auto", text("hello")),
                           withKey(TEAM_A, {{QByteArrayLiteral("x-tier"), QByteArrayLiteral("gold")}}));
    QCOMPARE(gold.status, 200);
    QCOMPARE(gold.header("x-switchyard-backend"), QByteArrayLiteral("gpu/big"));
    QVERIFY(gold.header("x-switchyard-route-reason").startsWith("rule=gold -> route chat-big"));
    const auto silver = send(m_gateway->port(), chat("auto", text("hello")),
                             withKey(TEAM_A, {{QByteArrayLiteral("x-tier"), QByteArrayLiteral("silver")}}));
    QVERIFY(silver.header("x-switchyard-backend").startsWith("gpu/small-"));
}

void TestConditionalRouting::virtualKeyRuleNarrowsTheTargets()
{
    TestHttpClient http {m_gateway->port()};
    for (int i = 0; i < 10; ++i) {
        http.post("/v1/chat/completions", chat("auto", text("hello")), withKey(TEAM_B));
    }
    QVERIFY(http.waitForResponses(10));
    for (const auto &response : http.responses()) {
        QCOMPARE(response.status, 200);
        // Same route, one of its two targets.
        QCOMPARE(response.header("x-switchyard-backend"), QByteArrayLiteral("gpu/small-b"));
        const QByteArray reason = response.header("x-switchyard-route-reason");
        QVERIFY2(reason.startsWith("rule=team-b -> targets gpu/small-b; route=auto"), reason.constData());
        QVERIFY2(reason.contains("gpu/small-a(not selected by rule)"), reason.constData());
    }
}

void TestConditionalRouting::keywordRuleNarrowsTheTargets()
{
    const auto response = send(m_gateway->port(), chat("auto", text("here is a Stack Trace from prod")), withKey(TEAM_A));
    QCOMPARE(response.status, 200);
    QCOMPARE(response.header("x-switchyard-backend"), QByteArrayLiteral("gpu/small-b"));
    // Unnamed rules are numbered by position.
    QVERIFY2(response.header("x-switchyard-route-reason").startsWith("rule=#6 -> targets gpu/small-b"),
             response.header("x-switchyard-route-reason").constData());
}

void TestConditionalRouting::unmatchedRequestsUseTheRouteItself()
{
    TestHttpClient http {m_gateway->port()};
    for (int i = 0; i < 10; ++i) {
        http.post("/v1/chat/completions", chat("auto", text("hello")), withKey(TEAM_A));
    }
    QVERIFY(http.waitForResponses(10));
    std::set<QByteArray> backends;
    for (const auto &response : http.responses()) {
        QCOMPARE(response.status, 200);
        backends.insert(response.header("x-switchyard-backend"));
        QVERIFY(response.header("x-switchyard-route-reason").startsWith("route=auto strategy=weighted"));
    }
    QCOMPARE(backends, (std::set<QByteArray> {"gpu/small-a", "gpu/small-b"}));
}

void TestConditionalRouting::permissionAppliesToTheFinalRoute()
{
    // team-c may use "auto" only: what stays there is served, a redirect is refused.
    const auto plain = send(m_gateway->port(), chat("auto", text("hello")), withKey(TEAM_C));
    QCOMPARE(plain.status, 200);
    const int before = m_sim->requestsReceived();
    const auto redirected = send(m_gateway->port(), chat("auto", text("def main(): pass")), withKey(TEAM_C));
    QCOMPARE(redirected.status, 403);
    QVERIFY2(redirected.body.contains("model_not_allowed"), redirected.body.constData());
    QVERIFY2(redirected.body.contains("chat-code"), redirected.body.constData());
    QCOMPARE(m_sim->requestsReceived(), before);
    // Nor can it name the destination directly.
    QCOMPARE(send(m_gateway->port(), chat("chat-code", text("hello")), withKey(TEAM_C)).status, 403);
}

void TestConditionalRouting::ruleMatchesAreCounted()
{
    QCOMPARE(send(m_gateway->port(), chat("auto", text("class A")), withKey(TEAM_A)).status, 200);
    QCOMPARE(send(m_gateway->port(), chat("auto", text("class B")), withKey(TEAM_A)).status, 200);
    const QByteArray metrics = metricsOf(m_gateway->port());
    // Counters outlive a gateway in the process-wide registry, so compare at least.
    QVERIFY2(sample(metrics, "switchyard_rule_matches_total{route=\"auto\",rule=\"code\"}") >= 2, metrics.constData());
    QVERIFY(sample(metrics, "switchyard_rule_matches_total{route=\"auto\",rule=\"#6\"}") >= 0);
}

void TestConditionalRouting::splitSendsATenthToTheCanaryStickyPerSession()
{
    m_gateway.reset();
    const QByteArray yaml = R"(
providers:
  - {name: gpu, type: vllm, base_url: )" + m_sim->baseUrl() + R"(}
routes:
  - model: chat
    split:
      sticky: session
      arms:
        - {name: control, share: 0.9, targets: [gpu/v1]}
        - {name: canary, share: 0.1, route: chat-v2}
    targets: [{provider: gpu, model: v1}, {provider: gpu, model: v1-spare}]
  - model: chat-v2
    targets: [{provider: gpu, model: v2}]
)";
    m_gateway = TestSupport::startGateway(yaml, 2);
    QVERIFY(m_gateway);
    const double controlBefore =
        std::max(0.0, sample(metricsOf(m_gateway->port()), "switchyard_split_requests_total{route=\"chat\",arm=\"control\"}"));
    const double canaryBefore =
        std::max(0.0, sample(metricsOf(m_gateway->port()), "switchyard_split_requests_total{route=\"chat\",arm=\"canary\"}"));

    // 2000 sessions, one request each: about 10% reach the canary. The assignment is a
    // hash of the session id, so the count is fixed for these ids; the tolerance (3
    // points, over four binomial standard deviations) is what any ids must meet.
    constexpr int SESSIONS = 2000;
    LoadDriver load {m_gateway->port(), 8};
    const auto responses = load.run("/v1/chat/completions", SESSIONS, [](int index) {
        return LoadDriver::Request {chat("chat", text("hello")),
                                    {{QByteArrayLiteral("x-session-id"), "session-" + QByteArray::number(index)}}};
    });
    QCOMPARE(responses.size(), SESSIONS);
    int canary = 0;
    for (const auto &response : responses) {
        QCOMPARE(response.status, 200);
        const QByteArray backend = response.header("x-switchyard-backend");
        QVERIFY2(backend == "gpu/v1" || backend == "gpu/v2", backend.constData()); // never the spare
        canary += backend == "gpu/v2" ? 1 : 0;
    }
    const double share = static_cast<double>(canary) / SESSIONS;
    QVERIFY2(share > 0.07 && share < 0.13, qPrintable(QString::number(share)));

    // Sticky: every request of a session lands on the same arm, in every round.
    constexpr int STICKY_SESSIONS = 60;
    TestHttpClient http {m_gateway->port()};
    for (int round = 0; round < 3; ++round) {
        for (int s = 0; s < STICKY_SESSIONS; ++s) {
            http.post("/v1/chat/completions", chat("chat", text("again")),
                      {{QByteArrayLiteral("x-session-id"), "session-" + QByteArray::number(s)},
                       {QByteArrayLiteral("x-switchyard-explain"), QByteArrayLiteral("1")}});
        }
    }
    QVERIFY(http.waitForResponses(3 * STICKY_SESSIONS, 30000));
    std::map<int, std::set<QByteArray>> armsBySession;
    for (int i = 0; i < 3 * STICKY_SESSIONS; ++i) {
        const auto &response = http.responses().at(i);
        QCOMPARE(response.status, 200);
        const QByteArray reason = response.header("x-switchyard-route-reason");
        const bool toCanary = response.header("x-switchyard-backend") == "gpu/v2";
        QVERIFY2(reason.startsWith(toCanary ? "split=canary -> route chat-v2; route=chat-v2"
                                            : "split=control -> targets gpu/v1; route=chat"),
                 reason.constData());
        armsBySession[i % STICKY_SESSIONS].insert(response.header("x-switchyard-backend"));
    }
    std::set<QByteArray> armsSeen;
    for (const auto &[session, arms] : armsBySession) {
        QVERIFY2(arms.size() == 1, qPrintable(QStringLiteral("session-%1 changed arm").arg(session)));
        armsSeen.insert(*arms.begin());
    }
    QCOMPARE(armsSeen.size(), std::size_t {2}); // both arms among these sessions

    // Per-arm metrics for both arms, counting every request above.
    const QByteArray metrics = metricsOf(m_gateway->port());
    const double control = sample(metrics, "switchyard_split_requests_total{route=\"chat\",arm=\"control\"}") - controlBefore;
    const double canaryCount = sample(metrics, "switchyard_split_requests_total{route=\"chat\",arm=\"canary\"}") - canaryBefore;
    QCOMPARE(control + canaryCount, double(SESSIONS + 3 * STICKY_SESSIONS));
    QVERIFY(canaryCount >= canary);
    for (const char *series : {"switchyard_split_errors_total{route=\"chat\",arm=\"canary\"}",
                               "switchyard_split_tokens_total{route=\"chat\",arm=\"control\",direction=\"out\"}",
                               "switchyard_split_duration_seconds_count{route=\"chat\",arm=\"canary\"}"}) {
        QVERIFY2(sample(metrics, series) >= 0, series);
    }
    QVERIFY(sample(metrics, "switchyard_split_tokens_total{route=\"chat\",arm=\"control\",direction=\"out\"}") > 0);
}

QTEST_GUILESS_MAIN(TestConditionalRouting)
#include "testconditionalrouting.moc"
