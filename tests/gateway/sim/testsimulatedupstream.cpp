#include "sim/simulatedupstream.h"
#include "testhttpclient.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <memory>
#include <vector>

using Gateway::Sim::Behaviour;
using Gateway::Sim::Flavor;
using Gateway::Sim::SimulatedUpstream;
using TestSupport::TestHttpClient;

namespace {

// 40 characters of content: 10 prompt tokens at 4 characters per token.
const QByteArray FORTY_CHARS = QByteArrayLiteral("0123456789012345678901234567890123456789");

QByteArray chatBody(int maxTokens, bool stream, bool includeUsage = false)
{
    QByteArray body = "{\"model\":\"llama-3-8b\",\"messages\":[{\"role\":\"user\",\"content\":\"" + FORTY_CHARS +
                      "\"}],\"max_tokens\":" + QByteArray::number(maxTokens);
    if (stream) {
        body += ",\"stream\":true";
    }
    if (includeUsage) {
        body += ",\"stream_options\":{\"include_usage\":true}";
    }
    return body + '}';
}

QJsonObject json(const QByteArray &text)
{
    return QJsonDocument::fromJson(text).object();
}

} // namespace

class TestSimulatedUpstream final : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void nonStreamingChatIsDeterministic();
    void streamingChatSendsOneEventPerToken();
    void includeUsageAddsUsageChunk();
    void failNextRequestsFailsExactlyThatMany();
    void rateLimitAnswers429WithRetryAfter();
    void invalidJsonIs400();
    void metricsReportLiveState();
    void heldStreamDeliversChunksThenResumes();
    void clientDisconnectCancelsStream();
    void resetAfterChunksAbortsConnection();
    void keepAliveCountsOneConnection();
    void anthropicStreamFollowsEventOrder();
    void anthropicMessageShape();
    void toolsAreCalledInBothFormats();
    void toolResultsGetATextAnswer();
    void embeddingsAreDeterministic();
    void embeddingsOfSharedWordsAreClose();
    void firstTokenWaitsForTtft();

private:
    std::unique_ptr<TestHttpClient> connectClient();

    std::unique_ptr<SimulatedUpstream> m_upstream;
};

void TestSimulatedUpstream::init()
{
    m_upstream = std::make_unique<SimulatedUpstream>(QStringLiteral("gpu-a"), Flavor::OpenAi);
    const auto port = m_upstream->listen();
    QVERIFY2(port.hasValue(), port.hasValue() ? "" : qPrintable(port.error()));
    QCOMPARE(m_upstream->baseUrl(), "http://127.0.0.1:" + QByteArray::number(port.value()) + "/v1");
}

void TestSimulatedUpstream::cleanup()
{
    m_upstream.reset();
}

std::unique_ptr<TestHttpClient> TestSimulatedUpstream::connectClient()
{
    auto client = std::make_unique<TestHttpClient>(m_upstream->port());
    if (!client->waitForConnected()) {
        return nullptr;
    }
    return client;
}

void TestSimulatedUpstream::nonStreamingChatIsDeterministic()
{
    auto client = connectClient();
    QVERIFY(client);
    const QByteArray body = chatBody(5, false);
    client->post("/v1/chat/completions", body, {{"authorization", "Bearer sk-test"}});
    QVERIFY(client->waitForResponses(1));

    const auto response = client->responses().first();
    QCOMPARE(response.status, 200);
    QCOMPARE(response.header("x-sim-upstream"), QByteArray("gpu-a"));
    QCOMPARE(response.header("Content-Type"), QByteArray("application/json"));
    const QJsonObject object = json(response.body);
    QCOMPARE(object.value(QStringLiteral("object")).toString(), QStringLiteral("chat.completion"));
    QCOMPARE(object.value(QStringLiteral("model")).toString(), QStringLiteral("llama-3-8b"));
    QVERIFY(object.value(QStringLiteral("id")).toString().startsWith(QStringLiteral("chatcmpl-")));
    const QJsonObject choice = object.value(QStringLiteral("choices")).toArray().at(0).toObject();
    QCOMPARE(choice.value(QStringLiteral("message")).toObject().value(QStringLiteral("content")).toString(),
             QStringLiteral("tok0 tok1 tok2 tok3 tok4"));
    QCOMPARE(choice.value(QStringLiteral("finish_reason")).toString(), QStringLiteral("length"));
    const QJsonObject usage = object.value(QStringLiteral("usage")).toObject();
    QCOMPARE(usage.value(QStringLiteral("prompt_tokens")).toInt(), 10);
    QCOMPARE(usage.value(QStringLiteral("completion_tokens")).toInt(), 5);
    QCOMPARE(usage.value(QStringLiteral("total_tokens")).toInt(), 15);

    QCOMPARE(m_upstream->requestsReceived(), 1);
    QCOMPARE(m_upstream->lastRequestBody(), body);
    bool sawAuthorization = false;
    for (const auto &header : m_upstream->lastRequestHeaders()) {
        sawAuthorization = sawAuthorization || (header.name == "authorization" && header.value == "Bearer sk-test");
    }
    QVERIFY(sawAuthorization);
}

void TestSimulatedUpstream::streamingChatSendsOneEventPerToken()
{
    auto client = connectClient();
    QVERIFY(client);
    client->post("/v1/chat/completions", chatBody(3, true));
    QVERIFY(client->waitForResponses(1));

    const auto response = client->responses().first();
    QCOMPARE(response.status, 200);
    QCOMPARE(response.header("content-type"), QByteArray("text/event-stream"));
    QCOMPARE(response.header("x-sim-upstream"), QByteArray("gpu-a"));
    const QList<QByteArray> events = response.sseDataLines();
    QCOMPARE(events.size(), 3 + 1 + 1); // tokens, finish chunk, [DONE]
    QCOMPARE(events.last(), QByteArray("[DONE]"));
    QString content;
    for (int i = 0; i < 3; ++i) {
        const QJsonObject chunk = json(events.at(i));
        QCOMPARE(chunk.value(QStringLiteral("object")).toString(), QStringLiteral("chat.completion.chunk"));
        const QJsonObject choice = chunk.value(QStringLiteral("choices")).toArray().at(0).toObject();
        QVERIFY(choice.value(QStringLiteral("finish_reason")).isNull());
        content += choice.value(QStringLiteral("delta")).toObject().value(QStringLiteral("content")).toString();
    }
    QCOMPARE(content, QStringLiteral("tok0 tok1 tok2"));
    const QJsonObject finish = json(events.at(3)).value(QStringLiteral("choices")).toArray().at(0).toObject();
    QCOMPARE(finish.value(QStringLiteral("finish_reason")).toString(), QStringLiteral("length"));
    QTRY_COMPARE(m_upstream->streamsCompleted(), 1);
    QCOMPARE(m_upstream->streamsCancelled(), 0);
    QTRY_COMPARE(m_upstream->inFlight(), 0);
}

void TestSimulatedUpstream::includeUsageAddsUsageChunk()
{
    auto client = connectClient();
    QVERIFY(client);
    client->post("/v1/chat/completions", chatBody(2, true, true));
    QVERIFY(client->waitForResponses(1));

    const QList<QByteArray> events = client->responses().first().sseDataLines();
    QCOMPARE(events.size(), 2 + 2 + 1); // tokens, finish chunk, usage chunk, [DONE]
    const QJsonObject usageChunk = json(events.at(3));
    QVERIFY(usageChunk.value(QStringLiteral("choices")).toArray().isEmpty());
    const QJsonObject usage = usageChunk.value(QStringLiteral("usage")).toObject();
    QCOMPARE(usage.value(QStringLiteral("prompt_tokens")).toInt(), 10);
    QCOMPARE(usage.value(QStringLiteral("completion_tokens")).toInt(), 2);
    QCOMPARE(usage.value(QStringLiteral("total_tokens")).toInt(), 12);
    QCOMPARE(events.last(), QByteArray("[DONE]"));
}

void TestSimulatedUpstream::failNextRequestsFailsExactlyThatMany()
{
    Behaviour behaviour;
    behaviour.failNextRequests = 2;
    behaviour.errorStatus = 503;
    m_upstream->setBehaviour(behaviour);
    auto client = connectClient();
    QVERIFY(client);
    for (int i = 0; i < 3; ++i) {
        client->post("/v1/chat/completions", chatBody(1, false));
    }
    QVERIFY(client->waitForResponses(3));

    const auto responses = client->responses();
    QCOMPARE(responses.at(0).status, 503);
    QCOMPARE(responses.at(1).status, 503);
    QCOMPARE(responses.at(2).status, 200);
    QCOMPARE(responses.at(0).header("x-sim-upstream"), QByteArray("gpu-a"));
    const QJsonObject error = json(responses.at(0).body).value(QStringLiteral("error")).toObject();
    QVERIFY(!error.value(QStringLiteral("message")).toString().isEmpty());
    QCOMPARE(m_upstream->behaviour().failNextRequests, 0);
    QCOMPARE(m_upstream->requestsReceived(), 3);
}

void TestSimulatedUpstream::rateLimitAnswers429WithRetryAfter()
{
    Behaviour behaviour;
    behaviour.rateLimitRate = 1.0;
    behaviour.retryAfterSeconds = 7;
    m_upstream->setBehaviour(behaviour);
    auto client = connectClient();
    QVERIFY(client);
    client->post("/v1/chat/completions", chatBody(1, true));
    QVERIFY(client->waitForResponses(1));

    const auto response = client->responses().first();
    QCOMPARE(response.status, 429);
    QCOMPARE(response.header("retry-after"), QByteArray("7"));
    const QJsonObject error = json(response.body).value(QStringLiteral("error")).toObject();
    QCOMPARE(error.value(QStringLiteral("type")).toString(), QStringLiteral("rate_limit_error"));
}

void TestSimulatedUpstream::invalidJsonIs400()
{
    auto client = connectClient();
    QVERIFY(client);
    client->post("/v1/chat/completions", "{\"model\": ");
    client->post("/v1/chat/completions", "{\"stream\": \"yes\"}");
    QVERIFY(client->waitForResponses(2));
    QCOMPARE(client->responses().at(0).status, 400);
    QCOMPARE(client->responses().at(1).status, 400);
    QVERIFY(json(client->responses().at(1).body).contains(QStringLiteral("error")));
}

void TestSimulatedUpstream::metricsReportLiveState()
{
    Behaviour behaviour;
    behaviour.holdStreamAfterChunks = 1;
    behaviour.capacityTokens = 100;
    m_upstream->setBehaviour(behaviour);
    m_upstream->setModels({"llama-3-8b"});
    auto streaming = connectClient();
    QVERIFY(streaming);
    streaming->post("/v1/chat/completions", chatBody(4, true));
    QTRY_COMPARE(m_upstream->heldStreams(), 1);

    auto scraper = connectClient();
    QVERIFY(scraper);
    scraper->get("/metrics");
    QVERIFY(scraper->waitForResponses(1));
    const QByteArray text = scraper->responses().first().body;
    QVERIFY2(text.contains("vllm:num_requests_running{model_name=\"llama-3-8b\"} 1.0\n"), text.constData());
    QVERIFY(text.contains("vllm:num_requests_waiting{model_name=\"llama-3-8b\"} 0.0\n"));
    // 10 prompt tokens plus 1 generated, out of 100.
    QVERIFY(text.contains("vllm:kv_cache_usage_perc{model_name=\"llama-3-8b\"} 0.110000\n"));
    QVERIFY(text.contains("vllm:prefix_cache_queries_total{model_name=\"llama-3-8b\"} 10.0\n"));
    QVERIFY(text.contains("vllm:prefix_cache_hits_total{model_name=\"llama-3-8b\"} 0.0\n"));
    QVERIFY(text.contains("vllm:prompt_tokens_total{model_name=\"llama-3-8b\"} 10.0\n"));
    QVERIFY(text.contains("vllm:generation_tokens_total{model_name=\"llama-3-8b\"} 1.0\n"));
    QVERIFY(text.contains(
        "vllm:cache_config_info{block_size=\"16\",model_name=\"llama-3-8b\",num_gpu_blocks=\"6\"} 1.0\n"));
    QVERIFY(text.contains("# TYPE vllm:num_requests_running gauge\n"));
    QCOMPARE(m_upstream->requestsReceived(), 1); // scrapes are not inference requests
    QCOMPARE(m_upstream->metricsScrapes(), 1);

    m_upstream->releaseHeldStreams();
    QVERIFY(streaming->waitForResponses(1));
    QTRY_COMPARE(m_upstream->inFlight(), 0);
}

void TestSimulatedUpstream::heldStreamDeliversChunksThenResumes()
{
    Behaviour behaviour;
    behaviour.holdStreamAfterChunks = 2;
    m_upstream->setBehaviour(behaviour);
    auto client = connectClient();
    QVERIFY(client);
    client->post("/v1/chat/completions", chatBody(4, true));

    QTRY_COMPARE(m_upstream->heldStreams(), 1);
    // The first two events reach the client while the upstream is still "generating".
    QTRY_COMPARE(client->currentResponse().sseDataLines().size(), 2);
    QCOMPARE(client->responses().size(), 0);
    QVERIFY(client->bodySoFar().contains("tok1"));

    m_upstream->releaseHeldStreams();
    QVERIFY(client->waitForResponses(1));
    QCOMPARE(client->responses().first().sseDataLines().size(), 4 + 1 + 1);
    QTRY_COMPARE(m_upstream->streamsCompleted(), 1);
    QCOMPARE(m_upstream->heldStreams(), 0);
}

void TestSimulatedUpstream::clientDisconnectCancelsStream()
{
    Behaviour behaviour;
    behaviour.holdStreamAfterChunks = 1;
    m_upstream->setBehaviour(behaviour);
    auto client = connectClient();
    QVERIFY(client);
    client->post("/v1/chat/completions", chatBody(4, true));
    QTRY_COMPARE(m_upstream->heldStreams(), 1);

    client->close();
    QTRY_COMPARE(m_upstream->streamsCancelled(), 1);
    QCOMPARE(m_upstream->streamsCompleted(), 0);
    QTRY_COMPARE(m_upstream->heldStreams(), 0);
    QTRY_COMPARE(m_upstream->inFlight(), 0);
}

void TestSimulatedUpstream::resetAfterChunksAbortsConnection()
{
    Behaviour behaviour;
    behaviour.resetAfterChunks = 2;
    m_upstream->setBehaviour(behaviour);
    auto client = connectClient();
    QVERIFY(client);
    client->post("/v1/chat/completions", chatBody(5, true));

    QVERIFY(client->waitForDisconnected());
    QCOMPARE(client->responses().size(), 0);
    QCOMPARE(client->currentResponse().sseDataLines().size(), 2);
    QVERIFY(!client->parseError().isEmpty()); // the chunked body never ended
    QTRY_COMPARE(m_upstream->streamsReset(), 1);
    QCOMPARE(m_upstream->streamsCancelled(), 0);
}

void TestSimulatedUpstream::keepAliveCountsOneConnection()
{
    auto first = connectClient();
    QVERIFY(first);
    first->post("/v1/chat/completions", chatBody(1, false));
    first->post("/v1/completions", "{\"model\":\"m\",\"prompt\":\"abcdefgh\",\"max_tokens\":2}");
    QVERIFY(first->waitForResponses(2));
    const QJsonObject completion = json(first->responses().at(1).body);
    QCOMPARE(completion.value(QStringLiteral("object")).toString(), QStringLiteral("text_completion"));
    QCOMPARE(completion.value(QStringLiteral("choices")).toArray().at(0).toObject().value(QStringLiteral("text")),
             QStringLiteral("tok0 tok1"));
    QCOMPARE(m_upstream->connectionsAccepted(), 1);

    auto second = connectClient();
    QVERIFY(second);
    second->get("/v1/models");
    QVERIFY(second->waitForResponses(1));
    const QJsonArray models = json(second->responses().first().body).value(QStringLiteral("data")).toArray();
    QCOMPARE(models.at(0).toObject().value(QStringLiteral("id")).toString(), QStringLiteral("sim-model"));
    QCOMPARE(m_upstream->connectionsAccepted(), 2);
}

void TestSimulatedUpstream::anthropicStreamFollowsEventOrder()
{
    SimulatedUpstream cloud {QStringLiteral("cloud"), Flavor::Anthropic};
    QVERIFY(cloud.listen().hasValue());
    TestHttpClient client {cloud.port()};
    client.post("/v1/messages",
                "{\"model\":\"claude-x\",\"max_tokens\":2,\"stream\":true,\"system\":\"" + FORTY_CHARS +
                    "\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"" + FORTY_CHARS +
                    "\"}]}]}",
                {{"x-api-key", "k"}, {"anthropic-version", "2023-06-01"}});
    QVERIFY(client.waitForResponses(1));

    const auto response = client.responses().first();
    QCOMPARE(response.header("x-sim-upstream"), QByteArray("cloud"));
    const QList<QByteArray> expected {"message_start",       "content_block_start", "content_block_delta",
                                      "content_block_delta", "content_block_stop",  "message_delta",
                                      "message_stop"};
    QCOMPARE(response.sseEventNames(), expected);
    const QList<QByteArray> data = response.sseDataLines();
    QCOMPARE(data.size(), expected.size());
    const QJsonObject start = json(data.at(0)).value(QStringLiteral("message")).toObject();
    QCOMPARE(start.value(QStringLiteral("model")).toString(), QStringLiteral("claude-x"));
    QCOMPARE(start.value(QStringLiteral("usage")).toObject().value(QStringLiteral("input_tokens")).toInt(), 20);
    QString text;
    for (int i = 2; i < 4; ++i) {
        const QJsonObject delta = json(data.at(i)).value(QStringLiteral("delta")).toObject();
        QCOMPARE(delta.value(QStringLiteral("type")).toString(), QStringLiteral("text_delta"));
        text += delta.value(QStringLiteral("text")).toString();
    }
    QCOMPARE(text, QStringLiteral("tok0 tok1"));
    const QJsonObject messageDelta = json(data.at(5));
    QCOMPARE(messageDelta.value(QStringLiteral("delta")).toObject().value(QStringLiteral("stop_reason")).toString(),
             QStringLiteral("max_tokens"));
    QCOMPARE(messageDelta.value(QStringLiteral("usage")).toObject().value(QStringLiteral("output_tokens")).toInt(), 2);
    QCOMPARE(json(data.at(6)).value(QStringLiteral("type")).toString(), QStringLiteral("message_stop"));
}

void TestSimulatedUpstream::anthropicMessageShape()
{
    SimulatedUpstream cloud {QStringLiteral("cloud"), Flavor::Anthropic};
    QVERIFY(cloud.listen().hasValue());
    Behaviour behaviour;
    behaviour.stopAfterTokens = 3;
    cloud.setBehaviour(behaviour);
    TestHttpClient client {cloud.port()};
    client.post("/v1/messages",
                "{\"model\":\"claude-x\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    QVERIFY(client.waitForResponses(1));

    const QJsonObject message = json(client.responses().first().body);
    QCOMPARE(message.value(QStringLiteral("type")).toString(), QStringLiteral("message"));
    QCOMPARE(message.value(QStringLiteral("role")).toString(), QStringLiteral("assistant"));
    const QJsonObject block = message.value(QStringLiteral("content")).toArray().at(0).toObject();
    QCOMPARE(block.value(QStringLiteral("type")).toString(), QStringLiteral("text"));
    QCOMPARE(block.value(QStringLiteral("text")).toString(), QStringLiteral("tok0 tok1 tok2"));
    QCOMPARE(message.value(QStringLiteral("stop_reason")).toString(), QStringLiteral("end_turn"));
    const QJsonObject usage = message.value(QStringLiteral("usage")).toObject();
    QCOMPARE(usage.value(QStringLiteral("input_tokens")).toInt(), 1);
    QCOMPARE(usage.value(QStringLiteral("output_tokens")).toInt(), 3);
}

void TestSimulatedUpstream::toolsAreCalledInBothFormats()
{
    SimulatedUpstream upstream {QStringLiteral("tools"), Flavor::OpenAi};
    QVERIFY(upstream.listen().hasValue());
    TestHttpClient client {upstream.port()};
    const QByteArray user = R"("messages":[{"role":"user","content":"find it"}])";
    client.post("/v1/chat/completions", R"({"model":"m",)" + user +
                R"(,"tools":[{"type":"function","function":{"name":"search","parameters":{}}}]})");
    client.post("/v1/chat/completions", R"({"model":"m","stream":true,)" + user +
                R"(,"tools":[{"type":"function","function":{"name":"search"}}]})");
    client.post("/v1/messages", R"({"model":"c","max_tokens":9,)" + user + R"(,"tools":[{"name":"lookup","input_schema":{}}]})");
    client.post("/v1/messages", R"({"model":"c","max_tokens":9,"stream":true,)" + user + R"(,"tools":[{"name":"lookup"}]})");
    client.post("/v1/chat/completions", R"({"model":"m",)" + user +
                R"(,"tools":[{"type":"function","function":{"name":"search"}}],"tool_choice":"none"})");
    QVERIFY(client.waitForResponses(5));
    const auto responses = client.responses();

    const QJsonObject choice = json(responses[0].body).value(u"choices").toArray().at(0).toObject();
    QCOMPARE(choice.value(u"finish_reason").toString(), QStringLiteral("tool_calls"));
    const QJsonObject function = choice.value(u"message").toObject().value(u"tool_calls").toArray().at(0).toObject().value(u"function").toObject();
    QCOMPARE(function.value(u"name").toString(), QStringLiteral("search"));
    QCOMPARE(function.value(u"arguments").toString(), QStringLiteral(R"({"query":"tok0 tok1"})"));

    QString arguments;
    for (const QByteArray &data : responses[1].sseDataLines()) {
        for (const QJsonValue call : json(data).value(u"choices").toArray().at(0).toObject().value(u"delta").toObject().value(u"tool_calls").toArray()) {
            arguments += call.toObject().value(u"function").toObject().value(u"arguments").toString();
        }
    }
    QCOMPARE(arguments, QStringLiteral(R"({"query":"tok0 tok1"})"));
    QVERIFY(responses[1].sseDataLines().last() == "[DONE]");

    const QJsonObject message = json(responses[2].body);
    QCOMPARE(message.value(u"stop_reason").toString(), QStringLiteral("tool_use"));
    const QJsonObject use = message.value(u"content").toArray().at(0).toObject();
    QCOMPARE(use.value(u"name").toString(), QStringLiteral("lookup"));
    QCOMPARE(use.value(u"input").toObject().value(u"query").toString(), QStringLiteral("tok0 tok1"));

    QString partial;
    for (const QByteArray &data : responses[3].sseDataLines()) {
        partial += json(data).value(u"delta").toObject().value(u"partial_json").toString();
    }
    QCOMPARE(partial, QStringLiteral(R"({"query":"tok0 tok1"})"));
    QCOMPARE(responses[3].sseEventNames().last(), QByteArray("message_stop"));

    // tool_choice "none": a text answer.
    QCOMPARE(json(responses[4].body).value(u"choices").toArray().at(0).toObject().value(u"finish_reason").toString(),
             QStringLiteral("stop"));
}

void TestSimulatedUpstream::toolResultsGetATextAnswer()
{
    SimulatedUpstream upstream {QStringLiteral("tools"), Flavor::Anthropic};
    QVERIFY(upstream.listen().hasValue());
    TestHttpClient client {upstream.port()};
    client.post("/v1/chat/completions", R"({"model":"m","max_tokens":2,"tools":[{"type":"function","function":{"name":"search"}}],"messages":[
        {"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"search","arguments":"{}"}}]},
        {"role":"tool","tool_call_id":"c","content":"found"}]})");
    client.post("/v1/messages", R"({"model":"c","max_tokens":2,"tools":[{"name":"search"}],"messages":[
        {"role":"user","content":"x"},{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"search","input":{}}]},
        {"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"found"}]}]})");
    QVERIFY(client.waitForResponses(2));
    QCOMPARE(json(client.responses()[0].body).value(u"choices").toArray().at(0).toObject().value(u"message").toObject().value(u"content").toString(),
             QStringLiteral("tok0 tok1"));
    QCOMPARE(json(client.responses()[1].body).value(u"content").toArray().at(0).toObject().value(u"text").toString(),
             QStringLiteral("tok0 tok1"));
}

void TestSimulatedUpstream::embeddingsAreDeterministic()
{
    auto client = connectClient();
    QVERIFY(client);
    const QByteArray body = "{\"model\":\"embed\",\"input\":[\"alpha\",\"beta\"]}";
    client->post("/v1/embeddings", body);
    client->post("/v1/embeddings", body);
    QVERIFY(client->waitForResponses(2));

    QCOMPARE(client->responses().at(0).body, client->responses().at(1).body);
    const QJsonArray data = json(client->responses().at(0).body).value(QStringLiteral("data")).toArray();
    QCOMPARE(data.size(), 2);
    QCOMPARE(data.at(0).toObject().value(QStringLiteral("embedding")).toArray().size(), 128);
    QVERIFY(data.at(0).toObject().value(QStringLiteral("embedding")) !=
            data.at(1).toObject().value(QStringLiteral("embedding")));
}

void TestSimulatedUpstream::embeddingsOfSharedWordsAreClose()
{
    auto client = connectClient();
    QVERIFY(client);
    client->post("/v1/embeddings", "{\"model\":\"embed\",\"input\":[\"What is the capital city of France?\","
                                   "\"what is the CAPITAL city of france\",\"Tell me, what is the capital city of France?\","
                                   "\"Write a haiku about autumn leaves\"]}");
    QVERIFY(client->waitForResponses(1));
    const QJsonArray data = json(client->responses().at(0).body).value(QStringLiteral("data")).toArray();
    QCOMPARE(data.size(), 4);
    std::vector<std::vector<double>> vectors;
    for (const QJsonValue &item : data) {
        std::vector<double> vector;
        for (const QJsonValue &value : item.toObject().value(QStringLiteral("embedding")).toArray()) {
            vector.push_back(value.toDouble());
        }
        vectors.push_back(std::move(vector));
    }
    const auto cosine = [&](std::size_t a, std::size_t b) {
        double dot = 0;
        for (std::size_t i = 0; i < vectors[a].size(); ++i) {
            dot += vectors[a][i] * vectors[b][i];
        }
        return dot; // unit vectors
    };
    QVERIFY(qAbs(cosine(0, 0) - 1.0) < 1e-4);
    QVERIFY(qAbs(cosine(0, 1) - 1.0) < 1e-4); // case and punctuation do not count
    QVERIFY2(cosine(0, 2) > 0.8 && cosine(0, 2) < 0.95, qPrintable(QString::number(cosine(0, 2))));
    QVERIFY2(cosine(0, 3) < 0.3, qPrintable(QString::number(cosine(0, 3))));
}

void TestSimulatedUpstream::firstTokenWaitsForTtft()
{
    Behaviour behaviour;
    behaviour.ttftBaseMs = 40;
    behaviour.ttftPerPromptTokenMs = 1.0; // 10 prompt tokens: 10 ms more
    behaviour.interTokenMs = 5;
    m_upstream->setBehaviour(behaviour);
    auto client = connectClient();
    QVERIFY(client);
    QElapsedTimer elapsed;
    elapsed.start();
    client->post("/v1/chat/completions", chatBody(3, true));
    QVERIFY(client->waitForResponses(1));
    // Timers never fire early: 50 ms to the first token, then 2 gaps of 5 ms.
    QVERIFY2(elapsed.elapsed() >= 60, QByteArray::number(elapsed.elapsed()).constData());
    QCOMPARE(client->responses().first().sseDataLines().size(), 3 + 1 + 1);
}

QTEST_GUILESS_MAIN(TestSimulatedUpstream)
#include "testsimulatedupstream.moc"
