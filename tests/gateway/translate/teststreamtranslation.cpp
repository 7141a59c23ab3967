// Incremental stream translation (gateway/translate/streamtranslator): OpenAI chunks <->
// Anthropic events, fed event by event as the proxy's SSE splitter delivers them.
#include "proxy/sseeventsplitter.h"
#include "translate/streamtranslator.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace Gateway::Translate;
using Gateway::Config::WireFormat;
using Gateway::Proxy::SseEventSplitter;

class TestStreamTranslation final : public QObject {
    Q_OBJECT

private slots:
    void openAiTextAndToolsAsAnthropicEvents_data();
    void openAiTextAndToolsAsAnthropicEvents();
    void openAiStreamWithoutDoneIsClosedAtTheEnd();
    void openAiCutShortStaysIncomplete();
    void openAiErrorChunkBecomesErrorEvent();
    void anthropicEventsAsOpenAiChunks_data();
    void anthropicEventsAsOpenAiChunks();
    void anthropicUsageOnlyWhenAsked();
    void anthropicErrorEventBecomesErrorChunk();
    void garbageNeverBreaksTheStream();
    void sameFormatNeedsNoTranslator();
};

namespace {

struct Event {
    QByteArray name;
    QByteArray data;
    QJsonObject json;
};

// Feeds `stream` to a translator in reads of `readSize` bytes through the SSE splitter,
// then finish(); returns the client's events.
QList<Event> translate(WireFormat upstream, WireFormat client, const QByteArray &stream, qsizetype readSize,
                       StreamOptions options = {})
{
    auto translator = makeStreamTranslator(upstream, client, options);
    SseEventSplitter splitter;
    QByteArray out;
    for (qsizetype at = 0; at < stream.size(); at += readSize) {
        splitter.feed(QByteArrayView(stream).sliced(at, std::min(readSize, stream.size() - at)),
                      [&](QByteArrayView event) { translator->translateEvent(event, out); });
    }
    translator->finish(out);
    QList<Event> events;
    SseEventSplitter clientSplitter;
    clientSplitter.feed(out, [&](QByteArrayView event) {
        const auto fields = Gateway::Proxy::parseSseEvent(event);
        events.push_back({fields.name, fields.data, QJsonDocument::fromJson(fields.data).object()});
    });
    if (!clientSplitter.takeRemainder().isEmpty()) {
        qWarning() << "the translated stream ends inside an event";
    }
    return events;
}

QByteArray openAiChunk(const QByteArray &delta, const QByteArray &finish = "null")
{
    return R"(data: {"id":"chatcmpl-7","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":)" +
           delta + R"(,"logprobs":null,"finish_reason":)" + finish + "}]}\n\n";
}

QByteArray anthropicEvent(const QByteArray &name, const QByteArray &json)
{
    return "event: " + name + "\ndata: " + json + "\n\n";
}

QStringList names(const QList<Event> &events)
{
    QStringList out;
    for (const Event &event : events) {
        out << QString::fromUtf8(event.name.isEmpty() ? event.data.left(12) : event.name);
    }
    return out;
}

const QByteArray OPENAI_TOOL_STREAM =
    openAiChunk(R"({"role":"assistant","content":"Let me look."})") +
    openAiChunk(R"({"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"lookup","arguments":""}}]})") +
    openAiChunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"q\":"}}]})") +
    openAiChunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"\"x\"}"}}]})") +
    openAiChunk(R"({"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"other","arguments":"{}"}}]})") +
    openAiChunk("{}", R"("tool_calls")") +
    R"(data: {"id":"chatcmpl-7","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":40,"completion_tokens":9,"total_tokens":49,"prompt_tokens_details":{"cached_tokens":16}}})"
    "\n\ndata: [DONE]\n\n";

const QByteArray ANTHROPIC_TOOL_STREAM =
    anthropicEvent("message_start", R"({"type":"message_start","message":{"id":"msg_5","type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":30,"cache_read_input_tokens":10,"output_tokens":1}}})") +
    anthropicEvent("content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})") +
    anthropicEvent("ping", R"({"type":"ping"})") +
    anthropicEvent("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}})") +
    anthropicEvent("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" world"}})") +
    anthropicEvent("content_block_stop", R"({"type":"content_block_stop","index":0})") +
    anthropicEvent("content_block_start", R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"lookup","input":{}}})") +
    anthropicEvent("content_block_delta", R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"q\":"}})") +
    anthropicEvent("content_block_delta", R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"x\"}"}})") +
    anthropicEvent("content_block_stop", R"({"type":"content_block_stop","index":1})") +
    anthropicEvent("message_delta", R"({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":12}})") +
    anthropicEvent("message_stop", R"({"type":"message_stop"})");

} // namespace


void TestStreamTranslation::openAiTextAndToolsAsAnthropicEvents_data()
{
    QTest::addColumn<int>("readSize");
    QTest::newRow("byte by byte") << 1;
    QTest::newRow("7 bytes") << 7;
    QTest::newRow("whole stream") << 100000;
}

void TestStreamTranslation::openAiTextAndToolsAsAnthropicEvents()
{
    QFETCH(int, readSize);
    const QList<Event> events = translate(WireFormat::OpenAi, WireFormat::Anthropic, OPENAI_TOOL_STREAM, readSize);
    const QStringList expected = QStringLiteral("message_start,content_block_start,content_block_delta,content_block_stop,content_block_start,content_block_delta,content_block_delta,content_block_stop,content_block_start,content_block_delta,content_block_stop,message_delta,message_stop").split(u',');
    QCOMPARE(names(events), expected);
    for (const Event &event : events) {
        QCOMPARE(event.json.value(u"type").toString().toUtf8(), event.name); // each payload is JSON naming itself
    }
    QCOMPARE(events[0].json.value(u"message").toObject().value(u"model").toString(), QStringLiteral("gpt-4o"));
    QCOMPARE(events[2].json.value(u"delta").toObject().value(u"text").toString(), QStringLiteral("Let me look."));
    const QJsonObject toolBlock = events[4].json.value(u"content_block").toObject();
    QCOMPARE(events[4].json.value(u"index").toInt(), 1);
    QCOMPARE(toolBlock.value(u"type").toString(), QStringLiteral("tool_use"));
    QCOMPARE(toolBlock.value(u"id").toString(), QStringLiteral("call_1"));
    QCOMPARE(toolBlock.value(u"name").toString(), QStringLiteral("lookup"));
    const QString json = events[5].json.value(u"delta").toObject().value(u"partial_json").toString() +
                         events[6].json.value(u"delta").toObject().value(u"partial_json").toString();
    QCOMPARE(QJsonDocument::fromJson(json.toUtf8()).object().value(u"q").toString(), QStringLiteral("x"));
    QCOMPARE(events[6].json.value(u"delta").toObject().value(u"type").toString(), QStringLiteral("input_json_delta"));
    QCOMPARE(events[8].json.value(u"index").toInt(), 2);
    const QJsonObject delta = events[11].json;
    QCOMPARE(delta.value(u"delta").toObject().value(u"stop_reason").toString(), QStringLiteral("tool_use"));
    QCOMPARE(delta.value(u"usage").toObject().value(u"output_tokens").toInt(), 9);
    QCOMPARE(delta.value(u"usage").toObject().value(u"input_tokens").toInt(), 24);
    QCOMPARE(delta.value(u"usage").toObject().value(u"cache_read_input_tokens").toInt(), 16);
}

void TestStreamTranslation::openAiStreamWithoutDoneIsClosedAtTheEnd()
{
    // Some servers end the stream after the finish chunk without [DONE].
    const QByteArray stream = openAiChunk(R"({"content":"Hi"})") + openAiChunk("{}", R"("length")");
    const QList<Event> events = translate(WireFormat::OpenAi, WireFormat::Anthropic, stream, 1000);
    QCOMPARE(names(events).last(), QStringLiteral("message_stop"));
    QCOMPARE(events[events.size() - 2].json.value(u"delta").toObject().value(u"stop_reason").toString(), QStringLiteral("max_tokens"));
}

void TestStreamTranslation::openAiCutShortStaysIncomplete()
{
    const QList<Event> events = translate(WireFormat::OpenAi, WireFormat::Anthropic, openAiChunk(R"({"content":"Hi"})"), 1000);
    QVERIFY(!names(events).contains(QStringLiteral("message_stop")));
    QVERIFY(!names(events).contains(QStringLiteral("message_delta")));
}

void TestStreamTranslation::openAiErrorChunkBecomesErrorEvent()
{
    const QByteArray stream = openAiChunk(R"({"content":"Hi"})") +
                              R"(data: {"error":{"message":"upstream broke","type":"server_error","code":null}})" "\n\n" +
                              openAiChunk(R"({"content":"never"})") + "data: [DONE]\n\n";
    const QList<Event> events = translate(WireFormat::OpenAi, WireFormat::Anthropic, stream, 1000);
    QCOMPARE(names(events).last(), QStringLiteral("error"));
    QCOMPARE(events.last().json.value(u"error").toObject().value(u"message").toString(), QStringLiteral("upstream broke"));
    QVERIFY(!names(events).contains(QStringLiteral("message_stop")));
}

void TestStreamTranslation::anthropicEventsAsOpenAiChunks_data()
{
    QTest::addColumn<int>("readSize");
    QTest::newRow("byte by byte") << 1;
    QTest::newRow("13 bytes") << 13;
    QTest::newRow("whole stream") << 100000;
}

void TestStreamTranslation::anthropicEventsAsOpenAiChunks()
{
    QFETCH(int, readSize);
    StreamOptions options;
    options.includeUsage = true;
    options.created = 1234;
    const QList<Event> events = translate(WireFormat::Anthropic, WireFormat::OpenAi, ANTHROPIC_TOOL_STREAM, readSize, options);
    // role, "Hello", " world", tool call start, two argument fragments, finish, usage, [DONE]
    QCOMPARE(events.size(), 9);
    QCOMPARE(events.last().data, QByteArray("[DONE]"));
    QString text;
    QString arguments;
    QString finish;
    for (const Event &event : events.first(events.size() - 1)) {
        QCOMPARE(event.json.value(u"object").toString(), QStringLiteral("chat.completion.chunk"));
        QCOMPARE(event.json.value(u"id").toString(), QStringLiteral("msg_5"));
        QCOMPARE(event.json.value(u"created").toInt(), 1234);
        QCOMPARE(event.json.value(u"model").toString(), QStringLiteral("claude-x"));
        const QJsonArray choices = event.json.value(u"choices").toArray();
        if (choices.isEmpty()) {
            continue;
        }
        const QJsonObject choice = choices[0].toObject();
        const QJsonObject delta = choice.value(u"delta").toObject();
        text += delta.value(u"content").toString();
        const QJsonArray calls = delta.value(u"tool_calls").toArray();
        if (!calls.isEmpty()) {
            const QJsonObject call = calls[0].toObject();
            QCOMPARE(call.value(u"index").toInt(), 0);
            if (call.contains(u"id")) {
                QCOMPARE(call.value(u"id").toString(), QStringLiteral("toolu_1"));
                QCOMPARE(call.value(u"function").toObject().value(u"name").toString(), QStringLiteral("lookup"));
            }
            arguments += call.value(u"function").toObject().value(u"arguments").toString();
        }
        if (!choice.value(u"finish_reason").isNull()) {
            finish = choice.value(u"finish_reason").toString();
        }
    }
    QCOMPARE(events[0].json.value(u"choices").toArray()[0].toObject().value(u"delta").toObject().value(u"role").toString(),
             QStringLiteral("assistant"));
    QCOMPARE(text, QStringLiteral("Hello world"));
    QCOMPARE(QJsonDocument::fromJson(arguments.toUtf8()).object().value(u"q").toString(), QStringLiteral("x"));
    QCOMPARE(finish, QStringLiteral("tool_calls"));
    const QJsonObject usage = events[events.size() - 2].json.value(u"usage").toObject();
    QCOMPARE(usage.value(u"prompt_tokens").toInt(), 40);
    QCOMPARE(usage.value(u"completion_tokens").toInt(), 12);
    QCOMPARE(usage.value(u"prompt_tokens_details").toObject().value(u"cached_tokens").toInt(), 10);
}

void TestStreamTranslation::anthropicUsageOnlyWhenAsked()
{
    const QList<Event> events = translate(WireFormat::Anthropic, WireFormat::OpenAi, ANTHROPIC_TOOL_STREAM, 64);
    for (const Event &event : events) {
        QVERIFY(!event.json.contains(u"usage"));
    }
    QCOMPARE(events.last().data, QByteArray("[DONE]"));
}

void TestStreamTranslation::anthropicErrorEventBecomesErrorChunk()
{
    const QByteArray stream = ANTHROPIC_TOOL_STREAM.left(ANTHROPIC_TOOL_STREAM.indexOf("event: content_block_stop")) +
                              anthropicEvent("error", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
    const QList<Event> events = translate(WireFormat::Anthropic, WireFormat::OpenAi, stream, 1000);
    const QJsonObject error = events.last().json.value(u"error").toObject();
    QCOMPARE(error.value(u"message").toString(), QStringLiteral("Overloaded"));
    QCOMPARE(error.value(u"code").toString(), QStringLiteral("overloaded_error"));
    for (const Event &event : events) {
        QVERIFY(event.data != "[DONE]");
    }
}

void TestStreamTranslation::garbageNeverBreaksTheStream()
{
    const QByteArray garbage = "data: {not json\n\nevent: content_block_delta\ndata: {\"index\":99999999,\"delta\":{}}\n\n"
                               "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":-4}]}}]}\n\n: comment\n\n";
    for (const auto &[from, to] : {std::pair {WireFormat::OpenAi, WireFormat::Anthropic}, std::pair {WireFormat::Anthropic, WireFormat::OpenAi}}) {
        const QList<Event> events = translate(from, to, garbage, 3);
        for (const Event &event : events) {
            QVERIFY2(event.data == "[DONE]" || !event.json.isEmpty(), event.data.constData());
        }
    }
}

void TestStreamTranslation::sameFormatNeedsNoTranslator()
{
    QVERIFY(!makeStreamTranslator(WireFormat::OpenAi, WireFormat::OpenAi, {}));
    QVERIFY(!makeStreamTranslator(WireFormat::Anthropic, WireFormat::Anthropic, {}));
}

QTEST_APPLESS_MAIN(TestStreamTranslation)
#include "teststreamtranslation.moc"
