// The prompt firewall over real sockets: `block` refuses a request whose message text
// matches a rule with a 400 in the client's format that names the rule (never the
// text); `redact` forwards the body with the matches replaced and JSON still valid, the
// rest of the client's bytes unchanged; both are counted per route and rule.

#include "gatewayfixture.h"
#include "sim/simulatedupstream.h"
#include "testhttpclient.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <memory>

using Gateway::Sim::Flavor;
using Gateway::Sim::SimulatedUpstream;
using TestSupport::TestHttpClient;

namespace {

const QByteArray API_KEY = QByteArrayLiteral("sk-proj-AbCdEfGhIjKlMnOpQrStUv123456");
const QByteArray EMAIL = QByteArrayLiteral("jane.doe@example.com");

QByteArray chat(const QByteArray &model, const QByteArray &content, const QByteArray &extra = {})
{
    return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}]" + extra +
           ",\"max_tokens\":4}";
}

} // namespace

class TestPromptFirewall final : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void blockNamesTheRuleNotTheText();
    void blockLooksOnlyAtMessageText();
    void blockOnMessagesIsAnthropicShaped();
    void redactRewritesTheForwardedBody();
    void redactCoversPartsSystemAndPrompt();
    void aRuleRedirectDoesNotBypassTheFirewall();
    void routesWithoutAFirewallForwardUnchanged();
    void decisionsAreCountedPerRouteAndRule();

private:
    TestHttpClient::Response post(const QByteArray &path, const QByteArray &body, const TestHttpClient::HeaderList &headers = {});
    QJsonObject forwarded(SimulatedUpstream &upstream) const;

    std::unique_ptr<SimulatedUpstream> m_openai;
    std::unique_ptr<SimulatedUpstream> m_anthropic;
    std::unique_ptr<Gateway::GatewayRuntime> m_gateway;
};

void TestPromptFirewall::init()
{
    m_openai = std::make_unique<SimulatedUpstream>(QStringLiteral("openai"), Flavor::OpenAi);
    m_anthropic = std::make_unique<SimulatedUpstream>(QStringLiteral("anthropic"), Flavor::Anthropic);
    QVERIFY(m_openai->listen().hasValue());
    QVERIFY(m_anthropic->listen().hasValue());
    const QByteArray yaml = R"(
redaction:
  custom: [{name: employee_id, regex: 'EMP-[0-9]{6}'}]
providers:
  - {name: gpu, type: vllm, base_url: )" + m_openai->baseUrl() + R"(}
  - {name: claude, type: anthropic, base_url: )" + m_anthropic->baseUrl() + R"(, keys: [{secret: sk-ant-test}]}
routes:
  - model: guarded
    firewall: {action: block, rules: [api_keys, emails, {name: project_code, regex: 'PRJ-[0-9]{4}'}]}
    targets: [{provider: gpu, model: upstream-model}]
  - model: scrubbed
    firewall: {action: redact, rules: [api_keys, emails, card_numbers, employee_id]}
    targets: [{provider: gpu, model: upstream-model-with-a-longer-name}]
  - model: claude
    firewall: {action: block, rules: [emails]}
    targets: [{provider: claude, model: claude-x}]
  - model: scrubbed-claude
    firewall: {action: redact, rules: [emails]}
    targets: [{provider: claude, model: claude-x}]
  - model: entry
    firewall: {action: redact, rules: [emails]}
    rules: [{name: to-guarded, when: {header: {x-tier: gold}}, route: guarded}]
    targets: [{provider: gpu, model: upstream-model}]
  - model: open
    targets: [{provider: gpu, model: upstream-model}]
)";
    m_gateway = TestSupport::startGateway(yaml);
    QVERIFY(m_gateway);
}

void TestPromptFirewall::cleanup()
{
    m_gateway.reset();
    m_openai.reset();
    m_anthropic.reset();
}

TestHttpClient::Response TestPromptFirewall::post(const QByteArray &path, const QByteArray &body,
                                                  const TestHttpClient::HeaderList &headers)
{
    TestHttpClient http {m_gateway->port()};
    http.post(path, body, headers);
    return http.waitForResponses(1, 20000) ? http.responses().constFirst() : TestHttpClient::Response {};
}

QJsonObject TestPromptFirewall::forwarded(SimulatedUpstream &upstream) const
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(upstream.lastRequestBody(), &error);
    if (error.error != QJsonParseError::NoError) {
        qWarning("forwarded body is not JSON: %s", upstream.lastRequestBody().constData());
    }
    return document.object();
}

void TestPromptFirewall::blockNamesTheRuleNotTheText()
{
    const auto response = post("/v1/chat/completions", chat("guarded", "my key is " + API_KEY + " and I am " + EMAIL));
    QCOMPARE(response.status, 400);
    const QJsonObject error = QJsonDocument::fromJson(response.body).object().value(QStringLiteral("error")).toObject();
    QCOMPARE(error.value(QStringLiteral("code")).toString(), QStringLiteral("prompt_blocked"));
    QCOMPARE(error.value(QStringLiteral("type")).toString(), QStringLiteral("invalid_request_error"));
    QCOMPARE(error.value(QStringLiteral("param")).toString(), QStringLiteral("messages"));
    // The first rule in the firewall's order that matches.
    QVERIFY2(error.value(QStringLiteral("message")).toString().contains(QStringLiteral("rule 'api_keys'")), response.body.constData());
    QVERIFY(!response.body.contains(API_KEY));
    QVERIFY(!response.body.contains(EMAIL));
    // A custom rule of the route.
    const auto custom = post("/v1/chat/completions", chat("guarded", "about PRJ-0042"));
    QCOMPARE(custom.status, 400);
    QVERIFY(custom.body.contains("rule 'project_code'"));
    QCOMPARE(m_openai->requestsReceived(), 0);
}

void TestPromptFirewall::blockLooksOnlyAtMessageText()
{
    // An e-mail in the user field, or a key-shaped model parameter, is not message text.
    const auto response = post("/v1/chat/completions", chat("guarded", "hello there", ",\"user\":\"" + EMAIL + "\""));
    QCOMPARE(response.status, 200);
    QCOMPARE(m_openai->requestsReceived(), 1);
    // A JSON-escaped e-mail in the text is found (the match runs on the decoded text).
    const auto escaped = post("/v1/chat/completions", chat("guarded", "mail \\u006aane.doe@example.com"));
    QCOMPARE(escaped.status, 400);
    QVERIFY(escaped.body.contains("rule 'emails'"));
}

void TestPromptFirewall::blockOnMessagesIsAnthropicShaped()
{
    const QByteArray body = "{\"model\":\"claude\",\"max_tokens\":4,\"system\":\"Reply to " + EMAIL +
                            "\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}";
    const auto response = post("/v1/messages", body);
    QCOMPARE(response.status, 400);
    const QJsonObject document = QJsonDocument::fromJson(response.body).object();
    QCOMPARE(document.value(QStringLiteral("type")).toString(), QStringLiteral("error"));
    const QJsonObject error = document.value(QStringLiteral("error")).toObject();
    QCOMPARE(error.value(QStringLiteral("type")).toString(), QStringLiteral("invalid_request_error"));
    QVERIFY(error.value(QStringLiteral("message")).toString().contains(QStringLiteral("rule 'emails'")));
    QVERIFY(!response.body.contains(EMAIL));
    QCOMPARE(m_anthropic->requestsReceived(), 0);
}

void TestPromptFirewall::redactRewritesTheForwardedBody()
{
    // Quotes, a backslash and a newline around the secrets: the re-encoded strings must
    // be valid JSON, and everything else the client sent arrives byte for byte.
    const QByteArray content = "Say \\\"hi\\\" to " + EMAIL + " \\\\ key " + API_KEY +
                               "\\ncard 4111 1111 1111 1111, order 4111111111111112, badge EMP-204863";
    const QByteArray body = "{\"model\":\"scrubbed\", \"temperature\":0.25,\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
                            "{\"role\":\"user\",\"content\":\"" + content + "\"}],\"max_tokens\":4,\"stream\":true}";
    const auto response = post("/v1/chat/completions", body);
    QCOMPARE(response.status, 200);
    const QByteArray raw = m_openai->lastRequestBody();
    const QJsonObject sent = forwarded(*m_openai);
    QVERIFY2(!sent.isEmpty(), raw.constData());
    // The model rewrite still lands on the right bytes after the body changed length.
    QCOMPARE(sent.value(QStringLiteral("model")).toString(), QStringLiteral("upstream-model-with-a-longer-name"));
    QCOMPARE(sent.value(QStringLiteral("temperature")).toDouble(), 0.25);
    QVERIFY(raw.contains("\"temperature\":0.25"));
    QVERIFY(raw.contains("{\"role\":\"system\",\"content\":\"Be brief.\"}"));
    // stream_options.include_usage was still added on the client's behalf.
    QVERIFY(sent.value(QStringLiteral("stream_options")).toObject().value(QStringLiteral("include_usage")).toBool());
    const QString text = sent.value(QStringLiteral("messages")).toArray().at(1).toObject().value(QStringLiteral("content")).toString();
    QCOMPARE(text, QStringLiteral("Say \"hi\" to [REDACTED:emails] \\ key [REDACTED:api_keys]\ncard [REDACTED:card_numbers], "
                                  "order 4111111111111112, badge [REDACTED:employee_id]"));
    QVERIFY(!raw.contains(EMAIL));
    QVERIFY(!raw.contains(API_KEY));
}

void TestPromptFirewall::redactCoversPartsSystemAndPrompt()
{
    // OpenAI content parts.
    const QByteArray parts = "{\"model\":\"scrubbed\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a " +
                             EMAIL + "\"},{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://x.test/" + EMAIL +
                             "\"}}]}],\"max_tokens\":4}";
    QCOMPARE(post("/v1/chat/completions", parts).status, 200);
    const QJsonArray sentParts =
        forwarded(*m_openai).value(QStringLiteral("messages")).toArray().at(0).toObject().value(QStringLiteral("content")).toArray();
    QCOMPARE(sentParts.at(0).toObject().value(QStringLiteral("text")).toString(), QStringLiteral("a [REDACTED:emails]"));
    // Only message text is rewritten: an image URL is not text.
    QVERIFY(sentParts.at(1).toObject().value(QStringLiteral("image_url")).toObject().value(QStringLiteral("url")).toString().contains(
        QString::fromUtf8(EMAIL)));
    // Completions prompt.
    const QByteArray prompt = "{\"model\":\"scrubbed\",\"prompt\":[\"x " + EMAIL + "\",\"clean\"],\"max_tokens\":4}";
    QCOMPARE(post("/v1/completions", prompt).status, 200);
    const QJsonArray sentPrompt = forwarded(*m_openai).value(QStringLiteral("prompt")).toArray();
    QCOMPARE(sentPrompt.at(0).toString(), QStringLiteral("x [REDACTED:emails]"));
    QCOMPARE(sentPrompt.at(1).toString(), QStringLiteral("clean"));
    // Anthropic system blocks and message blocks.
    const QByteArray messages = "{\"model\":\"scrubbed-claude\",\"max_tokens\":4,\"system\":[{\"type\":\"text\",\"text\":\"to " + EMAIL +
                                "\"}],\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"" + EMAIL + "\"}]}]}";
    QCOMPARE(post("/v1/messages", messages).status, 200);
    const QJsonObject sent = forwarded(*m_anthropic);
    QCOMPARE(sent.value(QStringLiteral("system")).toArray().at(0).toObject().value(QStringLiteral("text")).toString(),
             QStringLiteral("to [REDACTED:emails]"));
    QCOMPARE(sent.value(QStringLiteral("messages")).toArray().at(0).toObject().value(QStringLiteral("content")).toArray().at(0)
                 .toObject().value(QStringLiteral("text")).toString(),
             QStringLiteral("[REDACTED:emails]"));
}

void TestPromptFirewall::aRuleRedirectDoesNotBypassTheFirewall()
{
    // `entry` redacts e-mails, then its rule sends gold traffic to `guarded`, which blocks
    // API keys: both firewalls apply.
    const auto redirected = post("/v1/chat/completions", chat("entry", "key " + API_KEY), {{"x-tier", "gold"}});
    QCOMPARE(redirected.status, 400);
    QVERIFY(redirected.body.contains("model 'guarded'"));
    QCOMPARE(m_openai->requestsReceived(), 0);
    // The e-mail is redacted by `entry` before `guarded` looks, so it passes.
    const auto scrubbed = post("/v1/chat/completions", chat("entry", "mail " + EMAIL), {{"x-tier", "gold"}});
    QCOMPARE(scrubbed.status, 200);
    QVERIFY(!m_openai->lastRequestBody().contains(EMAIL));
}

void TestPromptFirewall::routesWithoutAFirewallForwardUnchanged()
{
    const QByteArray body = chat("open", "key " + API_KEY + " mail " + EMAIL);
    QCOMPARE(post("/v1/chat/completions", body).status, 200);
    QVERIFY(m_openai->lastRequestBody().contains(API_KEY));
    QVERIFY(m_openai->lastRequestBody().contains(EMAIL));
}

void TestPromptFirewall::decisionsAreCountedPerRouteAndRule()
{
    QCOMPARE(post("/v1/chat/completions", chat("guarded", "mail " + EMAIL)).status, 400);
    QCOMPARE(post("/v1/chat/completions", chat("guarded", "mail " + EMAIL)).status, 400);
    QCOMPARE(post("/v1/chat/completions", chat("scrubbed", "mail " + EMAIL + " badge EMP-000001")).status, 200);
    TestHttpClient http {m_gateway->port()};
    http.get("/metrics");
    QVERIFY(http.waitForResponses(1));
    const QByteArray metrics = http.responses().constFirst().body;
    QVERIFY(metrics.contains("switchyard_firewall_actions_total{route=\"guarded\",rule=\"emails\",action=\"blocked\"} 2"));
    QVERIFY(metrics.contains("switchyard_firewall_actions_total{route=\"guarded\",rule=\"api_keys\",action=\"blocked\"} 0"));
    QVERIFY(metrics.contains("switchyard_firewall_actions_total{route=\"scrubbed\",rule=\"emails\",action=\"redacted\"} 1"));
    QVERIFY(metrics.contains("switchyard_firewall_actions_total{route=\"scrubbed\",rule=\"employee_id\",action=\"redacted\"} 1"));
    QVERIFY(metrics.contains("switchyard_firewall_actions_total{route=\"scrubbed\",rule=\"card_numbers\",action=\"redacted\"} 0"));
}

QTEST_MAIN(TestPromptFirewall)
#include "testpromptfirewall.moc"
