// Cross-format proxying (gateway/translate wired into the proxy): OpenAI clients on
// Anthropic targets and Anthropic clients on OpenAI-format targets, plain, streamed,
// with tools, with errors, and fallbacks across formats the client cannot tell from a
// same-format answer. Real sockets, simulated upstreams of both formats.

#include "gatewayfixture.h"
#include "sim/simulatedupstream.h"
#include "ssecontent.h"
#include "testhttpclient.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <memory>

using Gateway::Sim::Behaviour;
using Gateway::Sim::Flavor;
using Gateway::Sim::SimulatedUpstream;
using TestSupport::TestHttpClient;

namespace {

QJsonObject json(const QByteArray &text)
{
    return QJsonDocument::fromJson(text).object();
}

QByteArray chat(const QByteArray &model, int maxTokens, bool stream, const QByteArray &extra = {})
{
    return R"({"model":")" + model + R"(","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello there"}],"max_tokens":)" +
           QByteArray::number(maxTokens) + (stream ? R"(,"stream":true,"stream_options":{"include_usage":true})" : "") + extra + '}';
}

QByteArray messages(const QByteArray &model, int maxTokens, bool stream, const QByteArray &extra = {})
{
    return R"({"model":")" + model + R"(","system":"Be brief.","messages":[{"role":"user","content":"Hello there"}],"max_tokens":)" +
           QByteArray::number(maxTokens) + (stream ? R"(,"stream":true)" : "") + extra + '}';
}

const QByteArray OPENAI_TOOLS = R"(,"tools":[{"type":"function","function":{"name":"search","description":"Search","parameters":{"type":"object","properties":{"query":{"type":"string"}}}}}])";
const QByteArray ANTHROPIC_TOOLS = R"(,"tools":[{"name":"search","description":"Search","input_schema":{"type":"object","properties":{"query":{"type":"string"}}}}])";

QJsonObject firstChoice(const QJsonObject &completion)
{
    return completion.value(u"choices").toArray().at(0).toObject();
}

// A streamed OpenAI answer, put back together as a client SDK would.
struct OpenAiStream {
    QString content;
    QString toolName;
    QString toolId;
    QString arguments;
    QString finish;
    QJsonObject usage;
    bool done = false;
    int chunks = 0;
};

OpenAiStream readOpenAiStream(const TestHttpClient::Response &response)
{
    OpenAiStream stream;
    for (const QByteArray &data : response.sseDataLines()) {
        if (data == "[DONE]") {
            stream.done = true;
            continue;
        }
        const QJsonObject chunk = json(data);
        ++stream.chunks;
        if (chunk.contains(u"usage") && !chunk.value(u"usage").isNull()) {
            stream.usage = chunk.value(u"usage").toObject();
        }
        const QJsonArray choices = chunk.value(u"choices").toArray();
        if (choices.isEmpty()) {
            continue;
        }
        const QJsonObject choice = choices[0].toObject();
        const QJsonObject delta = choice.value(u"delta").toObject();
        stream.content += delta.value(u"content").toString();
        for (const QJsonValue call : delta.value(u"tool_calls").toArray()) {
            const QJsonObject function = call.toObject().value(u"function").toObject();
            if (call.toObject().contains(u"id")) {
                stream.toolId = call.toObject().value(u"id").toString();
                stream.toolName = function.value(u"name").toString();
            }
            stream.arguments += function.value(u"arguments").toString();
        }
        if (!choice.value(u"finish_reason").isNull()) {
            stream.finish = choice.value(u"finish_reason").toString();
        }
    }
    return stream;
}

// A streamed Anthropic answer, put back together.
struct AnthropicStream {
    QStringList events;
    QString text;
    QString toolName;
    QString partialJson;
    QString stopReason;
    QJsonObject usage;
};

AnthropicStream readAnthropicStream(const TestHttpClient::Response &response)
{
    AnthropicStream stream;
    const QList<QByteArray> names = response.sseEventNames();
    const QList<QByteArray> data = response.sseDataLines();
    for (qsizetype i = 0; i < data.size(); ++i) {
        const QJsonObject event = json(data[i]);
        stream.events << QString::fromUtf8(names.value(i));
        const QString type = event.value(u"type").toString();
        if (type == u"content_block_start" && event.value(u"content_block").toObject().value(u"type").toString() == u"tool_use") {
            stream.toolName = event.value(u"content_block").toObject().value(u"name").toString();
        } else if (type == u"content_block_delta") {
            stream.text += event.value(u"delta").toObject().value(u"text").toString();
            stream.partialJson += event.value(u"delta").toObject().value(u"partial_json").toString();
        } else if (type == u"message_delta") {
            stream.stopReason = event.value(u"delta").toObject().value(u"stop_reason").toString();
            stream.usage = event.value(u"usage").toObject();
        }
    }
    return stream;
}

} // namespace

class TestFormatTranslation final : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void openAiClientOnAnthropicTarget();
    void openAiClientStreamsFromAnthropicTarget();
    void anthropicClientOnOpenAiTarget();
    void anthropicClientStreamsFromOpenAiTarget();
    void openAiClientToolCallRoundTrip();
    void openAiClientStreamedToolCall();
    void anthropicClientToolUseRoundTrip();
    void anthropicClientStreamedToolUse();
    void imagesReachTheOtherFormat();
    void upstreamClientErrorsArriveInTheClientsShape();
    void overloadedAnthropicTargetIsAnOpenAiError();
    void fallbackFromOpenAiToAnthropicIsInvisible();
    void streamedFallbackFromAnthropicToOpenAiIsInvisible();
    void untranslatableRequestIsA400NamingTheField();
    void untranslatableRequestStillUsesSameFormatTargets();
    void translatedAttemptsAreCountedAndAccounted();
    void providerOptedOutIsNotPlannedForTheOtherFormat();
    void brokenTranslatedStreamIsNotResumed();

private:
    TestHttpClient::Response post(const QByteArray &path, const QByteArray &body);
    QByteArray metrics();

    std::unique_ptr<SimulatedUpstream> m_openAi;
    std::unique_ptr<SimulatedUpstream> m_anthropic;
    std::unique_ptr<Gateway::GatewayRuntime> m_gateway;
};

void TestFormatTranslation::init()
{
    m_openAi = std::make_unique<SimulatedUpstream>(QStringLiteral("gpu"), Flavor::OpenAi);
    m_anthropic = std::make_unique<SimulatedUpstream>(QStringLiteral("claude"), Flavor::Anthropic);
    QVERIFY(m_openAi->listen().hasValue());
    QVERIFY(m_anthropic->listen().hasValue());
    const QByteArray yaml = R"(
providers:
  - name: gpu
    type: vllm
    base_url: )" + m_openAi->baseUrl() + R"(
  - name: claude
    type: anthropic
    base_url: )" + m_anthropic->baseUrl() + R"(
    keys: [{name: k1, secret: sk-ant-test}]
  - name: claude-native
    type: anthropic
    base_url: )" + m_anthropic->baseUrl() + R"(
    translate: false
routes:
  - model: to-claude
    targets: [{provider: claude, model: claude-sim}]
  - model: to-gpu
    targets: [{provider: gpu, model: llama-sim}]
  - model: gpu-then-claude
    targets: [{provider: gpu, model: llama-sim}]
    fallbacks: [to-claude]
  - model: claude-then-gpu
    targets: [{provider: claude, model: claude-sim}]
    fallbacks: [to-gpu]
  - model: native-only
    targets: [{provider: claude-native, model: claude-sim}, {provider: gpu, model: llama-sim}]
  - model: native-claude
    targets: [{provider: claude-native, model: claude-sim}]
  - model: resumable-claude
    stream_resumption: true
    targets: [{provider: claude, model: claude-sim}]
    fallbacks: [to-gpu]
)";
    m_gateway = TestSupport::startGateway(yaml);
    QVERIFY(m_gateway);
}

void TestFormatTranslation::cleanup()
{
    m_gateway.reset();
    m_openAi.reset();
    m_anthropic.reset();
}

TestHttpClient::Response TestFormatTranslation::post(const QByteArray &path, const QByteArray &body)
{
    TestHttpClient http {m_gateway->port()};
    http.post(path, body, {{"anthropic-version", "2023-06-01"}});
    if (!http.waitForResponses(1, 20000)) {
        qWarning() << "no response to" << path;
        return {};
    }
    return http.responses().constFirst();
}

QByteArray TestFormatTranslation::metrics()
{
    TestHttpClient http {m_gateway->port()};
    http.get("/metrics");
    return http.waitForResponses(1) ? http.responses().constFirst().body : QByteArray();
}

void TestFormatTranslation::openAiClientOnAnthropicTarget()
{
    const auto response = post("/v1/chat/completions", chat("to-claude", 5, false, R"(,"temperature":1.4,"seed":3)"));
    QCOMPARE(response.status, 200);
    QCOMPARE(response.header("x-switchyard-backend"), QByteArray("claude/claude-sim"));
    QVERIFY(response.header("content-type").startsWith("application/json"));
    const QJsonObject completion = json(response.body);
    QCOMPARE(completion.value(u"object").toString(), QStringLiteral("chat.completion"));
    QCOMPARE(firstChoice(completion).value(u"message").toObject().value(u"content").toString(),
             QString::fromUtf8(TestSupport::expectedSimContent(5)));
    QCOMPARE(firstChoice(completion).value(u"finish_reason").toString(), QStringLiteral("length"));
    QCOMPARE(completion.value(u"usage").toObject().value(u"completion_tokens").toInt(), 5);
    QVERIFY(completion.value(u"usage").toObject().value(u"prompt_tokens").toInt() > 0);

    // What the Anthropic target received: its own format.
    const QJsonObject sent = json(m_anthropic->lastRequestBody());
    QCOMPARE(sent.value(u"model").toString(), QStringLiteral("claude-sim"));
    QCOMPARE(sent.value(u"system").toString(), QStringLiteral("Be brief."));
    QCOMPARE(sent.value(u"max_tokens").toInt(), 5);
    QCOMPARE(sent.value(u"temperature").toDouble(), 1.0);
    QVERIFY(!sent.contains(u"seed"));
    bool versioned = false;
    for (const auto &header : m_anthropic->lastRequestHeaders()) {
        versioned = versioned || (header.name == "anthropic-version" && header.value == "2023-06-01");
    }
    QVERIFY(versioned);
}

void TestFormatTranslation::openAiClientStreamsFromAnthropicTarget()
{
    const auto response = post("/v1/chat/completions", chat("to-claude", 6, true));
    QCOMPARE(response.status, 200);
    QVERIFY(response.header("content-type").startsWith("text/event-stream"));
    const OpenAiStream stream = readOpenAiStream(response);
    QCOMPARE(stream.content, QString::fromUtf8(TestSupport::expectedSimContent(6)));
    QCOMPARE(stream.finish, QStringLiteral("length"));
    QVERIFY(stream.done);
    QCOMPARE(stream.usage.value(u"completion_tokens").toInt(), 6);
    for (const QByteArray &name : response.sseEventNames()) {
        QVERIFY2(name.isEmpty(), name.constData()); // no Anthropic events leak through
    }
}

void TestFormatTranslation::anthropicClientOnOpenAiTarget()
{
    const auto response = post("/v1/messages", messages("to-gpu", 4, false, R"(,"top_k":3,"stop_sequences":["END"])"));
    QCOMPARE(response.status, 200);
    QCOMPARE(response.header("x-switchyard-backend"), QByteArray("gpu/llama-sim"));
    const QJsonObject message = json(response.body);
    QCOMPARE(message.value(u"type").toString(), QStringLiteral("message"));
    QCOMPARE(message.value(u"role").toString(), QStringLiteral("assistant"));
    QCOMPARE(message.value(u"content").toArray().at(0).toObject().value(u"text").toString(),
             QString::fromUtf8(TestSupport::expectedSimContent(4)));
    QCOMPARE(message.value(u"stop_reason").toString(), QStringLiteral("max_tokens"));
    QCOMPARE(message.value(u"usage").toObject().value(u"output_tokens").toInt(), 4);

    const QJsonObject sent = json(m_openAi->lastRequestBody());
    QCOMPARE(sent.value(u"model").toString(), QStringLiteral("llama-sim"));
    const QJsonArray sentMessages = sent.value(u"messages").toArray();
    QCOMPARE(sentMessages.at(0).toObject().value(u"role").toString(), QStringLiteral("system"));
    QCOMPARE(sent.value(u"stop").toArray().at(0).toString(), QStringLiteral("END"));
    QVERIFY(!sent.contains(u"top_k"));
}

void TestFormatTranslation::anthropicClientStreamsFromOpenAiTarget()
{
    const auto response = post("/v1/messages", messages("to-gpu", 5, true));
    QCOMPARE(response.status, 200);
    const AnthropicStream stream = readAnthropicStream(response);
    QCOMPARE(stream.events.first(), QStringLiteral("message_start"));
    QCOMPARE(stream.events.last(), QStringLiteral("message_stop"));
    QCOMPARE(stream.events.count(QStringLiteral("content_block_start")), 1);
    QCOMPARE(stream.events.count(QStringLiteral("content_block_stop")), 1);
    QCOMPARE(stream.text, QString::fromUtf8(TestSupport::expectedSimContent(5)));
    QCOMPARE(stream.stopReason, QStringLiteral("max_tokens"));
    QCOMPARE(stream.usage.value(u"output_tokens").toInt(), 5);
    QVERIFY(stream.usage.value(u"input_tokens").toInt() > 0);
    // The gateway asked the OpenAI target for usage, which the Anthropic client always gets.
    QCOMPARE(json(m_openAi->lastRequestBody()).value(u"stream_options").toObject().value(u"include_usage").toBool(), true);
}

void TestFormatTranslation::openAiClientToolCallRoundTrip()
{
    const auto call = post("/v1/chat/completions", chat("to-claude", 50, false, OPENAI_TOOLS));
    QCOMPARE(call.status, 200);
    const QJsonObject choice = firstChoice(json(call.body));
    QCOMPARE(choice.value(u"finish_reason").toString(), QStringLiteral("tool_calls"));
    const QJsonObject toolCall = choice.value(u"message").toObject().value(u"tool_calls").toArray().at(0).toObject();
    QCOMPARE(toolCall.value(u"type").toString(), QStringLiteral("function"));
    QCOMPARE(toolCall.value(u"function").toObject().value(u"name").toString(), QStringLiteral("search"));
    QCOMPARE(json(toolCall.value(u"function").toObject().value(u"arguments").toString().toUtf8()).value(u"query").toString(),
             QStringLiteral("tok0 tok1"));
    QCOMPARE(json(m_anthropic->lastRequestBody()).value(u"tools").toArray().at(0).toObject().value(u"input_schema").toObject().value(u"type").toString(),
             QStringLiteral("object"));

    // The client runs the tool and sends the result back: the target answers in text.
    const QByteArray id = toolCall.value(u"id").toString().toUtf8();
    const QByteArray followUp = R"({"model":"to-claude","max_tokens":3,"messages":[{"role":"user","content":"Find it"},
        {"role":"assistant","content":null,"tool_calls":[{"id":")" + id + R"(","type":"function","function":{"name":"search","arguments":"{\"query\":\"tok0 tok1\"}"}}]},
        {"role":"tool","tool_call_id":")" + id + R"(","content":"found"}])" + OPENAI_TOOLS + "}";
    const auto answer = post("/v1/chat/completions", followUp);
    QCOMPARE(answer.status, 200);
    QCOMPARE(firstChoice(json(answer.body)).value(u"message").toObject().value(u"content").toString(),
             QString::fromUtf8(TestSupport::expectedSimContent(3)));
    const QJsonArray sent = json(m_anthropic->lastRequestBody()).value(u"messages").toArray();
    QCOMPARE(sent.size(), 3);
    QCOMPARE(sent[1].toObject().value(u"content").toArray().at(0).toObject().value(u"type").toString(), QStringLiteral("tool_use"));
    QCOMPARE(sent[2].toObject().value(u"content").toArray().at(0).toObject().value(u"tool_use_id").toString(), QString::fromUtf8(id));
}

void TestFormatTranslation::openAiClientStreamedToolCall()
{
    const auto response = post("/v1/chat/completions", chat("to-claude", 50, true, OPENAI_TOOLS));
    QCOMPARE(response.status, 200);
    const OpenAiStream stream = readOpenAiStream(response);
    QCOMPARE(stream.toolName, QStringLiteral("search"));
    QVERIFY(stream.toolId.startsWith(u"toolu_"));
    QCOMPARE(json(stream.arguments.toUtf8()).value(u"query").toString(), QStringLiteral("tok0 tok1"));
    QCOMPARE(stream.finish, QStringLiteral("tool_calls"));
    QVERIFY(stream.done);
}

void TestFormatTranslation::anthropicClientToolUseRoundTrip()
{
    const auto call = post("/v1/messages", messages("to-gpu", 50, false, ANTHROPIC_TOOLS));
    QCOMPARE(call.status, 200);
    const QJsonObject message = json(call.body);
    QCOMPARE(message.value(u"stop_reason").toString(), QStringLiteral("tool_use"));
    const QJsonObject use = message.value(u"content").toArray().at(0).toObject();
    QCOMPARE(use.value(u"type").toString(), QStringLiteral("tool_use"));
    QCOMPARE(use.value(u"name").toString(), QStringLiteral("search"));
    QCOMPARE(use.value(u"input").toObject().value(u"query").toString(), QStringLiteral("tok0 tok1"));

    const QByteArray id = use.value(u"id").toString().toUtf8();
    const QByteArray followUp = R"({"model":"to-gpu","max_tokens":2,"messages":[{"role":"user","content":"Find it"},
        {"role":"assistant","content":[{"type":"tool_use","id":")" + id + R"(","name":"search","input":{"query":"tok0 tok1"}}]},
        {"role":"user","content":[{"type":"tool_result","tool_use_id":")" + id + R"(","content":"found"}]}])" + ANTHROPIC_TOOLS + "}";
    const auto answer = post("/v1/messages", followUp);
    QCOMPARE(answer.status, 200);
    QCOMPARE(json(answer.body).value(u"content").toArray().at(0).toObject().value(u"text").toString(),
             QString::fromUtf8(TestSupport::expectedSimContent(2)));
    const QJsonArray sent = json(m_openAi->lastRequestBody()).value(u"messages").toArray();
    QCOMPARE(sent.last().toObject().value(u"role").toString(), QStringLiteral("tool"));
    QCOMPARE(sent.last().toObject().value(u"tool_call_id").toString(), QString::fromUtf8(id));
}

void TestFormatTranslation::anthropicClientStreamedToolUse()
{
    const auto response = post("/v1/messages", messages("to-gpu", 50, true, ANTHROPIC_TOOLS));
    QCOMPARE(response.status, 200);
    const AnthropicStream stream = readAnthropicStream(response);
    QCOMPARE(stream.toolName, QStringLiteral("search"));
    QCOMPARE(json(stream.partialJson.toUtf8()).value(u"query").toString(), QStringLiteral("tok0 tok1"));
    QCOMPARE(stream.stopReason, QStringLiteral("tool_use"));
    QCOMPARE(stream.events.last(), QStringLiteral("message_stop"));
}

void TestFormatTranslation::imagesReachTheOtherFormat()
{
    const QByteArray body = R"({"model":"to-claude","max_tokens":2,"messages":[{"role":"user","content":[{"type":"text","text":"What is it?"},
        {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}]})";
    const auto response = post("/v1/chat/completions", body);
    QCOMPARE(response.status, 200);
    const QJsonObject image = json(m_anthropic->lastRequestBody()).value(u"messages").toArray().at(0).toObject().value(u"content").toArray().at(1).toObject();
    QCOMPARE(image.value(u"type").toString(), QStringLiteral("image"));
    QCOMPARE(image.value(u"source").toObject().value(u"media_type").toString(), QStringLiteral("image/png"));

    const QByteArray anthropicBody = R"({"model":"to-gpu","max_tokens":2,"messages":[{"role":"user","content":[{"type":"text","text":"And this?"},
        {"type":"image","source":{"type":"url","url":"https://example.com/a.png"}}]}]})";
    QCOMPARE(post("/v1/messages", anthropicBody).status, 200);
    const QJsonObject part = json(m_openAi->lastRequestBody()).value(u"messages").toArray().at(0).toObject().value(u"content").toArray().at(1).toObject();
    QCOMPARE(part.value(u"image_url").toObject().value(u"url").toString(), QStringLiteral("https://example.com/a.png"));
}

void TestFormatTranslation::upstreamClientErrorsArriveInTheClientsShape()
{
    Behaviour refusing;
    refusing.failNextRequests = 1;
    refusing.errorStatus = 400;
    m_anthropic->setBehaviour(refusing);
    const auto openAiClient = post("/v1/chat/completions", chat("to-claude", 3, false));
    QCOMPARE(openAiClient.status, 400);
    const QJsonObject openAiError = json(openAiClient.body).value(u"error").toObject();
    QCOMPARE(openAiError.value(u"message").toString(), QStringLiteral("simulated upstream failure"));
    QCOMPARE(openAiError.value(u"type").toString(), QStringLiteral("invalid_request_error"));

    m_openAi->setBehaviour(refusing);
    const auto anthropicClient = post("/v1/messages", messages("to-gpu", 3, true));
    QCOMPARE(anthropicClient.status, 400);
    const QJsonObject anthropicError = json(anthropicClient.body);
    QCOMPARE(anthropicError.value(u"type").toString(), QStringLiteral("error"));
    QCOMPARE(anthropicError.value(u"error").toObject().value(u"type").toString(), QStringLiteral("invalid_request_error"));
    QCOMPARE(anthropicError.value(u"error").toObject().value(u"message").toString(), QStringLiteral("simulated upstream failure"));
}

void TestFormatTranslation::overloadedAnthropicTargetIsAnOpenAiError()
{
    Behaviour overloaded;
    overloaded.failNextRequests = 1;
    overloaded.errorStatus = 529;
    m_anthropic->setBehaviour(overloaded);
    const auto response = post("/v1/chat/completions", chat("to-claude", 3, false));
    QCOMPARE(response.status, 502);
    const QJsonObject error = json(response.body).value(u"error").toObject();
    QVERIFY(error.value(u"message").toString().contains(u"529"));
    QCOMPARE(error.value(u"code").toString(), QStringLiteral("upstream_error"));
}

void TestFormatTranslation::fallbackFromOpenAiToAnthropicIsInvisible()
{
    Behaviour failing;
    failing.failNextRequests = 1;
    failing.errorStatus = 500;
    m_openAi->setBehaviour(failing);
    const auto response = post("/v1/chat/completions", chat("gpu-then-claude", 4, false));
    QCOMPARE(response.status, 200);
    QCOMPARE(response.header("x-switchyard-backend"), QByteArray("claude/claude-sim"));
    const QJsonObject completion = json(response.body);
    QCOMPARE(completion.value(u"object").toString(), QStringLiteral("chat.completion"));
    QCOMPARE(firstChoice(completion).value(u"message").toObject().value(u"content").toString(),
             QString::fromUtf8(TestSupport::expectedSimContent(4)));
    QCOMPARE(m_openAi->requestsReceived(), 1);
    QCOMPARE(m_anthropic->requestsReceived(), 1);

    // Streamed: the same chunks an OpenAI target would have sent.
    m_openAi->setBehaviour(failing);
    const auto streamed = post("/v1/chat/completions", chat("gpu-then-claude", 4, true));
    QCOMPARE(streamed.status, 200);
    const OpenAiStream stream = readOpenAiStream(streamed);
    QCOMPARE(stream.content, QString::fromUtf8(TestSupport::expectedSimContent(4)));
    QVERIFY(stream.done);
    QCOMPARE(stream.usage.value(u"completion_tokens").toInt(), 4);
}

void TestFormatTranslation::streamedFallbackFromAnthropicToOpenAiIsInvisible()
{
    Behaviour failing;
    failing.failNextRequests = 1;
    failing.errorStatus = 503;
    m_anthropic->setBehaviour(failing);
    const auto response = post("/v1/messages", messages("claude-then-gpu", 3, true));
    QCOMPARE(response.status, 200);
    QCOMPARE(response.header("x-switchyard-backend"), QByteArray("gpu/llama-sim"));
    const AnthropicStream stream = readAnthropicStream(response);
    const QStringList expected = QStringLiteral("message_start,content_block_start,content_block_delta,content_block_delta,content_block_delta,content_block_stop,message_delta,message_stop").split(u',');
    QCOMPARE(stream.events, expected);
    QCOMPARE(stream.text, QString::fromUtf8(TestSupport::expectedSimContent(3)));
    QCOMPARE(stream.stopReason, QStringLiteral("max_tokens"));
}

void TestFormatTranslation::untranslatableRequestIsA400NamingTheField()
{
    const QByteArray body = R"({"model":"to-claude","max_tokens":3,"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]})";
    const auto response = post("/v1/chat/completions", body);
    QCOMPARE(response.status, 400);
    const QJsonObject error = json(response.body).value(u"error").toObject();
    QCOMPARE(error.value(u"code").toString(), QStringLiteral("untranslatable_request"));
    QVERIFY2(error.value(u"message").toString().contains(u"messages[0].content[0].type"), response.body.constData());
    QCOMPARE(m_anthropic->requestsReceived(), 0);
}

void TestFormatTranslation::untranslatableRequestStillUsesSameFormatTargets()
{
    // The OpenAI target takes what cannot be translated; only the Anthropic fallback is lost.
    const QByteArray body = R"({"model":"gpu-then-claude","max_tokens":3,"n":2,"messages":[{"role":"user","content":"x"}]})";
    const auto response = post("/v1/chat/completions", body);
    QCOMPARE(response.status, 200);
    QCOMPARE(response.header("x-switchyard-backend"), QByteArray("gpu/llama-sim"));
}

void TestFormatTranslation::translatedAttemptsAreCountedAndAccounted()
{
    QCOMPARE(post("/v1/chat/completions", chat("to-claude", 7, true)).status, 200);
    QCOMPARE(post("/v1/messages", messages("to-gpu", 2, false)).status, 200);
    const QByteArray text = metrics();
    QVERIFY2(text.contains("switchyard_backend_translated_attempts_total{backend=\"claude/claude-sim\"} 1"), text.constData());
    QVERIFY(text.contains("switchyard_backend_translated_attempts_total{backend=\"gpu/llama-sim\"} 1"));
    // Usage from the translated answers reached the accounting.
    QVERIFY(text.contains("switchyard_backend_tokens_total{backend=\"claude/claude-sim\",direction=\"out\"} 7"));
    QVERIFY(text.contains("switchyard_backend_tokens_total{backend=\"gpu/llama-sim\",direction=\"out\"} 2"));
}

void TestFormatTranslation::providerOptedOutIsNotPlannedForTheOtherFormat()
{
    // translate: false keeps the Anthropic provider to Anthropic clients: an OpenAI
    // client is always answered by the OpenAI-format target of the route.
    for (int i = 0; i < 4; ++i) {
        const auto response = post("/v1/chat/completions", chat("native-only", 2, false));
        QCOMPARE(response.status, 200);
        QCOMPARE(response.header("x-switchyard-backend"), QByteArray("gpu/llama-sim"));
    }
    QCOMPARE(m_anthropic->requestsReceived(), 0);
    // Its own format still reaches it; alone on a route, it has nothing for OpenAI clients.
    const auto own = post("/v1/messages", messages("native-claude", 2, false));
    QCOMPARE(own.status, 200);
    QCOMPARE(own.header("x-switchyard-backend"), QByteArray("claude-native/claude-sim"));
    const auto other = post("/v1/chat/completions", chat("native-claude", 2, false));
    QCOMPARE(other.status, 400);
    QCOMPARE(json(other.body).value(u"error").toObject().value(u"code").toString(), QStringLiteral("unsupported_endpoint"));
}

void TestFormatTranslation::brokenTranslatedStreamIsNotResumed()
{
    // Resumption splices the continuation in as the upstream's own events; a translated
    // stream is not resumed (docs/TRANSLATION.md) and ends with a terminal error instead.
    Behaviour breaking;
    breaking.resetAfterChunks = 4; // message_start, block start, two deltas
    m_anthropic->setBehaviour(breaking);
    const auto response = post("/v1/chat/completions", chat("resumable-claude", 8, true));
    QCOMPARE(response.status, 200);
    const OpenAiStream stream = readOpenAiStream(response);
    QCOMPARE(stream.content, QStringLiteral("tok0 tok1"));
    QVERIFY(!stream.done);
    const QJsonObject error = json(response.sseDataLines().last()).value(u"error").toObject();
    QVERIFY2(error.value(u"message").toString().contains(u"incomplete"), response.body.constData());
    QCOMPARE(m_openAi->requestsReceived(), 0);
}

QTEST_MAIN(TestFormatTranslation)
#include "testformattranslation.moc"
