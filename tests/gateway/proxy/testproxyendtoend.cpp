// The gateway end to end over real sockets: client -> gateway -> simulated upstream.

#include "gatewayfixture.h"
#include "sim/simulatedupstream.h"
#include "ssecontent.h"
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

const QByteArray TEAM_A_KEY = QByteArrayLiteral("sk-team-a-0001");
const QByteArray TEAM_B_KEY = QByteArrayLiteral("sk-team-b-0001");
const QByteArray UPSTREAM_SECRET = QByteArrayLiteral("sk-upstream-secret");

QByteArray chat(const QByteArray &model, int maxTokens, bool stream, const QByteArray &extra = {})
{
    return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello there\"}],\"max_tokens\":" +
           QByteArray::number(maxTokens) + (stream ? ",\"stream\":true" : "") + extra + "}";
}

QJsonObject json(const QByteArray &text)
{
    return QJsonDocument::fromJson(text).object();
}

QJsonObject openAiError(const TestHttpClient::Response &response)
{
    return json(response.body).value(QStringLiteral("error")).toObject();
}

using TestSupport::closedPort;

} // namespace

class TestProxyEndToEnd final : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void nonStreamingChatIsProxied();
    void streamChunksReachClientBeforeUpstreamFinishes();
    void clientRequestedUsageIsForwarded();
    void clientDisconnectCancelsUpstream();
    void keepAliveReusesInboundAndUpstreamConnections();
    void anthropicMessagesPassThrough();
    void anthropicStreamPassesThrough();
    void modelsListHonoursVirtualKey();
    void healthAndMetricsEndpoints();

    void malformedJsonIs400();
    void missingModelIs400();
    void unknownModelIs404();
    void missingKeyIs401();
    void unknownKeyIs401();
    void keyNotAllowedForModelIs403();
    void wrongMethodIs405();
    void unknownPathIs404();
    void oversizedBodyIs413();
    void wrongContentTypeIs415();
    void anthropicEndpointErrorsUseAnthropicShape();
    void unreachableUpstreamIs502();
    void upstreamTimeoutIs504();
    void upstreamClientErrorPassesThrough();

private:
    std::unique_ptr<TestHttpClient> client();
    TestHttpClient::Response postOnce(const QByteArray &path, const QByteArray &body,
                                      const TestHttpClient::HeaderList &headers);

    std::unique_ptr<SimulatedUpstream> m_gpu;
    std::unique_ptr<SimulatedUpstream> m_claude;
    std::unique_ptr<Gateway::GatewayRuntime> m_gateway;
    TestHttpClient::HeaderList m_teamA;
};

void TestProxyEndToEnd::init()
{
    m_gpu = std::make_unique<SimulatedUpstream>(QStringLiteral("gpu-a"), Flavor::OpenAi);
    m_claude = std::make_unique<SimulatedUpstream>(QStringLiteral("claude"), Flavor::Anthropic);
    QVERIFY(m_gpu->listen().hasValue());
    QVERIFY(m_claude->listen().hasValue());
    const QByteArray yaml = R"(
gateway:
  max_body_bytes: 4096
providers:
  - name: gpu-a
    type: vllm
    base_url: )" + m_gpu->baseUrl() + R"(
    keys: [{name: k1, secret: )" + UPSTREAM_SECRET + R"(}]
  - name: gpu-a-impatient
    type: vllm
    base_url: )" + m_gpu->baseUrl() + R"(
    timeouts: {connect_ms: 1000, first_token_ms: 150, idle_ms: 1000}
  - name: dead
    type: openai-compatible
    base_url: http://127.0.0.1:)" + QByteArray::number(closedPort()) + R"(/v1
  - name: claude
    type: anthropic
    base_url: )" + m_claude->baseUrl() + R"(
    keys: [{name: k1, secret: sk-ant-secret}]
routes:
  - model: chat
    targets: [{provider: gpu-a, model: llama-3.1-8b}]
  - model: impatient
    targets: [{provider: gpu-a-impatient, model: llama-3.1-8b}]
  - model: dead
    targets: [{provider: dead, model: nothing}]
  - model: sonnet
    targets: [{provider: claude, model: claude-sonnet-4}]
virtual_keys:
  - {name: team-a, key: )" + TEAM_A_KEY + R"(}
  - {name: team-b, key: )" + TEAM_B_KEY + R"(, routes: [sonnet]}
)";
    m_gateway = TestSupport::startGateway(yaml);
    QVERIFY(m_gateway);
    m_teamA = {{"authorization", "Bearer " + TEAM_A_KEY}};
}

void TestProxyEndToEnd::cleanup()
{
    m_gateway.reset();
    m_gpu.reset();
    m_claude.reset();
}

std::unique_ptr<TestHttpClient> TestProxyEndToEnd::client()
{
    auto result = std::make_unique<TestHttpClient>(m_gateway->port());
    result->waitForConnected();
    return result;
}

TestHttpClient::Response TestProxyEndToEnd::postOnce(const QByteArray &path, const QByteArray &body,
                                                     const TestHttpClient::HeaderList &headers)
{
    auto http = client();
    http->post(path, body, headers);
    if (!http->waitForResponses(1)) {
        return {};
    }
    return http->responses().constFirst();
}

void TestProxyEndToEnd::nonStreamingChatIsProxied()
{
    const auto response = postOnce("/v1/chat/completions", chat("chat", 5, false), m_teamA);
    QCOMPARE(response.status, 200);
    const QJsonObject body = json(response.body);
    QCOMPARE(body[u"choices"_qs].toArray().first().toObject()[u"message"_qs].toObject()[u"content"_qs].toString(),
             QStringLiteral("tok0 tok1 tok2 tok3 tok4"));
    QCOMPARE(body[u"usage"_qs].toObject()[u"completion_tokens"_qs].toInt(), 5);
    QCOMPARE(response.header("x-switchyard-backend"), QByteArray("gpu-a/llama-3.1-8b"));
    QVERIFY(response.header("x-switchyard-request-id").startsWith("req_"));

    // The target's model name and the provider's own key went upstream; the client's
    // virtual key did not.
    QVERIFY(m_gpu->lastRequestBody().contains("\"model\":\"llama-3.1-8b\""));
    QVERIFY(!m_gpu->lastRequestBody().contains("\"model\":\"chat\""));
    bool sawProviderKey = false;
    for (const auto &header : m_gpu->lastRequestHeaders()) {
        QVERIFY2(!header.value.contains(TEAM_A_KEY), header.name.constData());
        sawProviderKey = sawProviderKey || (header.name == "authorization" && header.value == "Bearer " + UPSTREAM_SECRET);
    }
    QVERIFY(sawProviderKey);
}

void TestProxyEndToEnd::streamChunksReachClientBeforeUpstreamFinishes()
{
    Behaviour behaviour;
    behaviour.holdStreamAfterChunks = 2;
    m_gpu->setBehaviour(behaviour);
    auto http = client();
    http->post("/v1/chat/completions", chat("chat", 6, true), m_teamA);

    // The upstream is parked after two events; they must already be at the client.
    QTRY_COMPARE_WITH_TIMEOUT(m_gpu->heldStreams(), 1, 5000);
    QTRY_VERIFY_WITH_TIMEOUT(http->bodySoFar().contains("tok1"), 5000);
    QVERIFY(http->responses().isEmpty());
    QCOMPARE(http->currentResponse().header("content-type"), QByteArray("text/event-stream"));

    m_gpu->releaseHeldStreams();
    QVERIFY(http->waitForResponses(1));
    const auto response = http->responses().constFirst();
    QCOMPARE(response.status, 200);
    const QList<QByteArray> data = response.sseDataLines();
    QCOMPARE(data.constLast(), QByteArray("[DONE]"));
    QCOMPARE(TestSupport::joinedStreamContent(data), TestSupport::expectedSimContent(6));
    // The gateway asked for usage on the client's behalf and kept that chunk to itself.
    QVERIFY(m_gpu->lastRequestBody().contains("\"include_usage\":true"));
    for (const QByteArray &line : data) {
        QVERIFY2(!line.contains("\"usage\":{"), line.constData());
    }
    auto metrics = client();
    metrics->get("/metrics");
    QVERIFY(metrics->waitForResponses(1));
    QVERIFY(metrics->responses().constFirst().body.contains("switchyard_tokens_total{route=\"chat\",direction=\"out\"} 6\n"));
}

void TestProxyEndToEnd::clientRequestedUsageIsForwarded()
{
    const auto response =
        postOnce("/v1/chat/completions", chat("chat", 3, true, ",\"stream_options\":{\"include_usage\":true}"), m_teamA);
    QCOMPARE(response.status, 200);
    bool sawUsage = false;
    for (const QByteArray &line : response.sseDataLines()) {
        if (line.contains("\"usage\":{")) {
            sawUsage = true;
            QCOMPARE(json(line)[u"usage"_qs].toObject()[u"completion_tokens"_qs].toInt(), 3);
        }
    }
    QVERIFY(sawUsage);
}

void TestProxyEndToEnd::clientDisconnectCancelsUpstream()
{
    Behaviour behaviour;
    behaviour.holdStreamAfterChunks = 1;
    m_gpu->setBehaviour(behaviour);
    auto http = client();
    http->post("/v1/chat/completions", chat("chat", 50, true), m_teamA);
    QTRY_VERIFY_WITH_TIMEOUT(http->bodySoFar().contains("tok0"), 5000);
    QCOMPARE(m_gpu->streamsCancelled(), 0);
    http->close();
    QTRY_COMPARE_WITH_TIMEOUT(m_gpu->streamsCancelled(), 1, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->activeRequests(), 0, 5000);
}

void TestProxyEndToEnd::keepAliveReusesInboundAndUpstreamConnections()
{
    auto http = client();
    for (int i = 0; i < 5; ++i) {
        http->post("/v1/chat/completions", chat("chat", 2, i % 2 == 1), m_teamA);
        QVERIFY(http->waitForResponses(i + 1));
        QCOMPARE(http->responses().at(i).status, 200);
    }
    QVERIFY(http->isConnected());
    QCOMPARE(m_gateway->statusSnapshot().openConnections, 1);
    QCOMPARE(m_gpu->requestsReceived(), 5);
    QCOMPARE(m_gpu->connectionsAccepted(), 1);
}

void TestProxyEndToEnd::anthropicMessagesPassThrough()
{
    const QByteArray body = R"({"model":"sonnet","max_tokens":4,"messages":[{"role":"user","content":"Hi"}]})";
    const auto response = postOnce("/v1/messages", body, {{"x-api-key", TEAM_B_KEY}, {"anthropic-version", "2023-06-01"}});
    QCOMPARE(response.status, 200);
    const QJsonObject message = json(response.body);
    QCOMPARE(message[u"type"_qs].toString(), QStringLiteral("message"));
    QCOMPARE(message[u"content"_qs].toArray().first().toObject()[u"text"_qs].toString(), QStringLiteral("tok0 tok1 tok2 tok3"));
    QCOMPARE(response.header("x-switchyard-backend"), QByteArray("claude/claude-sonnet-4"));
    bool sawKey = false;
    for (const auto &header : m_claude->lastRequestHeaders()) {
        sawKey = sawKey || (header.name == "x-api-key" && header.value == "sk-ant-secret");
        QVERIFY(!header.value.contains(TEAM_B_KEY));
    }
    QVERIFY(sawKey);
}

void TestProxyEndToEnd::anthropicStreamPassesThrough()
{
    const QByteArray body = R"({"model":"sonnet","max_tokens":3,"stream":true,"messages":[{"role":"user","content":"Hi"}]})";
    const auto response = postOnce("/v1/messages", body, {{"x-api-key", TEAM_B_KEY}});
    QCOMPARE(response.status, 200);
    const QList<QByteArray> names = response.sseEventNames();
    QCOMPARE(names.constFirst(), QByteArray("message_start"));
    QCOMPARE(names.constLast(), QByteArray("message_stop"));
    QCOMPARE(TestSupport::joinedStreamContent(response.sseDataLines()), TestSupport::expectedSimContent(3));
    // No OpenAI-only stream_options may be sent to an Anthropic upstream.
    QVERIFY(!m_claude->lastRequestBody().contains("stream_options"));
}

void TestProxyEndToEnd::modelsListHonoursVirtualKey()
{
    auto http = client();
    http->get("/v1/models", {{"authorization", "Bearer " + TEAM_B_KEY}});
    http->get("/v1/models", m_teamA);
    QVERIFY(http->waitForResponses(2));
    const QJsonArray teamB = json(http->responses().at(0).body)[u"data"_qs].toArray();
    QCOMPARE(teamB.size(), 1);
    QCOMPARE(teamB.first().toObject()[u"id"_qs].toString(), QStringLiteral("sonnet"));
    QCOMPARE(json(http->responses().at(1).body)[u"data"_qs].toArray().size(), 4);
}

void TestProxyEndToEnd::healthAndMetricsEndpoints()
{
    auto http = client();
    http->get("/healthz");
    http->get("/metrics");
    QVERIFY(http->waitForResponses(2));
    QCOMPARE(http->responses().at(0).status, 200);
    QCOMPARE(json(http->responses().at(0).body)[u"status"_qs].toString(), QStringLiteral("ok"));
    const QByteArray metrics = http->responses().at(1).body;
    QVERIFY(metrics.contains("# TYPE switchyard_requests_total counter"));
    QVERIFY(metrics.contains("switchyard_open_connections 1\n"));
    QVERIFY(metrics.contains("switchyard_request_duration_seconds_bucket{route=\"chat\",le=\"+Inf\"} 0\n"));
}

void TestProxyEndToEnd::malformedJsonIs400()
{
    const auto response = postOnce("/v1/chat/completions", "{\"model\": \"chat\", ", m_teamA);
    QCOMPARE(response.status, 400);
    const QJsonObject error = openAiError(response);
    QCOMPARE(error[u"type"_qs].toString(), QStringLiteral("invalid_request_error"));
    QCOMPARE(error[u"code"_qs].toString(), QStringLiteral("invalid_json"));
    QVERIFY(!error[u"message"_qs].toString().isEmpty());
    QCOMPARE(m_gpu->requestsReceived(), 0);
}

void TestProxyEndToEnd::missingModelIs400()
{
    const auto response = postOnce("/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}]})", m_teamA);
    QCOMPARE(response.status, 400);
    QCOMPARE(openAiError(response)[u"code"_qs].toString(), QStringLiteral("missing_field"));
    QCOMPARE(openAiError(response)[u"param"_qs].toString(), QStringLiteral("model"));
    QVERIFY(openAiError(response)[u"message"_qs].toString().contains(u"'model'"));
}

void TestProxyEndToEnd::unknownModelIs404()
{
    const auto response = postOnce("/v1/chat/completions", chat("nope", 2, false), m_teamA);
    QCOMPARE(response.status, 404);
    QCOMPARE(openAiError(response)[u"code"_qs].toString(), QStringLiteral("model_not_found"));
    QVERIFY(openAiError(response)[u"message"_qs].toString().contains(u"'nope'"));
}

void TestProxyEndToEnd::missingKeyIs401()
{
    const auto response = postOnce("/v1/chat/completions", chat("chat", 2, false), {});
    QCOMPARE(response.status, 401);
    QCOMPARE(openAiError(response)[u"type"_qs].toString(), QStringLiteral("authentication_error"));
    QCOMPARE(openAiError(response)[u"code"_qs].toString(), QStringLiteral("missing_api_key"));
}

void TestProxyEndToEnd::unknownKeyIs401()
{
    const auto response = postOnce("/v1/chat/completions", chat("chat", 2, false), {{"authorization", "Bearer sk-wrong-key"}});
    QCOMPARE(response.status, 401);
    QCOMPARE(openAiError(response)[u"code"_qs].toString(), QStringLiteral("invalid_api_key"));
}

void TestProxyEndToEnd::keyNotAllowedForModelIs403()
{
    const auto response = postOnce("/v1/chat/completions", chat("chat", 2, false), {{"x-api-key", TEAM_B_KEY}});
    QCOMPARE(response.status, 403);
    QCOMPARE(openAiError(response)[u"type"_qs].toString(), QStringLiteral("permission_error"));
    QCOMPARE(openAiError(response)[u"code"_qs].toString(), QStringLiteral("model_not_allowed"));
    QCOMPARE(m_gpu->requestsReceived(), 0);
}

void TestProxyEndToEnd::wrongMethodIs405()
{
    auto http = client();
    http->get("/v1/chat/completions", m_teamA);
    QVERIFY(http->waitForResponses(1));
    const auto response = http->responses().constFirst();
    QCOMPARE(response.status, 405);
    QCOMPARE(response.header("allow"), QByteArray("POST"));
    QCOMPARE(openAiError(response)[u"code"_qs].toString(), QStringLiteral("method_not_allowed"));
}

void TestProxyEndToEnd::unknownPathIs404()
{
    const auto response = postOnce("/v1/nothing", "{}", m_teamA);
    QCOMPARE(response.status, 404);
    QCOMPARE(openAiError(response)[u"code"_qs].toString(), QStringLiteral("unknown_url"));
}

void TestProxyEndToEnd::oversizedBodyIs413()
{
    const QByteArray big = chat("chat", 2, false, ",\"pad\":\"" + QByteArray(5000, 'x') + "\"");
    const auto response = postOnce("/v1/chat/completions", big, m_teamA);
    QCOMPARE(response.status, 413);
    QCOMPARE(openAiError(response)[u"code"_qs].toString(), QStringLiteral("request_too_large"));
    QCOMPARE(m_gpu->requestsReceived(), 0);
}

void TestProxyEndToEnd::wrongContentTypeIs415()
{
    auto headers = m_teamA;
    headers.push_back({"content-type", "text/plain"});
    const auto response = postOnce("/v1/chat/completions", chat("chat", 2, false), headers);
    QCOMPARE(response.status, 415);
    QCOMPARE(openAiError(response)[u"code"_qs].toString(), QStringLiteral("unsupported_media_type"));
}

void TestProxyEndToEnd::anthropicEndpointErrorsUseAnthropicShape()
{
    const auto response = postOnce("/v1/messages", R"({"model":"sonnet","messages":[{"role":"user","content":"x"}]})",
                                   {{"x-api-key", TEAM_B_KEY}});
    QCOMPARE(response.status, 400);
    const QJsonObject body = json(response.body);
    QCOMPARE(body[u"type"_qs].toString(), QStringLiteral("error"));
    QCOMPARE(body[u"error"_qs].toObject()[u"type"_qs].toString(), QStringLiteral("invalid_request_error"));
    QVERIFY(body[u"error"_qs].toObject()[u"message"_qs].toString().contains(u"max_tokens"));
}

void TestProxyEndToEnd::unreachableUpstreamIs502()
{
    const auto response = postOnce("/v1/chat/completions", chat("dead", 2, false), m_teamA);
    QCOMPARE(response.status, 502);
    QCOMPARE(openAiError(response)[u"code"_qs].toString(), QStringLiteral("upstream_unreachable"));
    QVERIFY(openAiError(response)[u"message"_qs].toString().contains(u"dead/nothing"));
    QCOMPARE(response.header("x-switchyard-backend"), QByteArray("dead/nothing"));
}

void TestProxyEndToEnd::upstreamTimeoutIs504()
{
    Behaviour behaviour;
    behaviour.headerDelayMs = 5000;
    m_gpu->setBehaviour(behaviour);
    const auto response = postOnce("/v1/chat/completions", chat("impatient", 2, false), m_teamA);
    QCOMPARE(response.status, 504);
    QCOMPARE(openAiError(response)[u"code"_qs].toString(), QStringLiteral("upstream_timeout"));
    QCOMPARE(openAiError(response)[u"type"_qs].toString(), QStringLiteral("timeout_error"));
}

void TestProxyEndToEnd::upstreamClientErrorPassesThrough()
{
    Behaviour behaviour;
    behaviour.failNextRequests = 1;
    behaviour.errorStatus = 400;
    m_gpu->setBehaviour(behaviour);
    const auto response = postOnce("/v1/chat/completions", chat("chat", 2, false), m_teamA);
    QCOMPARE(response.status, 400);
    QCOMPARE(response.header("x-switchyard-backend"), QByteArray("gpu-a/llama-3.1-8b"));
    QVERIFY(openAiError(response).contains(u"message"_qs));
    QCOMPARE(m_gpu->requestsReceived(), 1);
}

QTEST_GUILESS_MAIN(TestProxyEndToEnd)
#include "testproxyendtoend.moc"
