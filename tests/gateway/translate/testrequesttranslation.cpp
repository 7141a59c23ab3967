// Request translation OpenAI chat completions <-> Anthropic messages (gateway/translate).
#include "translate/requesttranslation.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace Gateway::Translate;

namespace {

QJsonObject toAnthropic(const QByteArray &body)
{
    auto translated = anthropicRequestFromOpenAi(body, "claude-x");
    if (!translated) {
        qWarning() << "translation failed:" << translated.error().message;
        return {};
    }
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(*translated, &error);
    if (error.error != QJsonParseError::NoError) {
        qWarning() << "not JSON:" << *translated;
    }
    return document.object();
}

QJsonObject toOpenAi(const QByteArray &body)
{
    auto translated = openAiRequestFromAnthropic(body, "gpt-x");
    if (!translated) {
        qWarning() << "translation failed:" << translated.error().message;
        return {};
    }
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(*translated, &error);
    if (error.error != QJsonParseError::NoError) {
        qWarning() << "not JSON:" << *translated;
    }
    return document.object();
}

QJsonValue path(const QJsonObject &root, std::initializer_list<QJsonValue> steps)
{
    QJsonValue at = root;
    for (const QJsonValue &step : steps) {
        at = step.isString() ? at.toObject().value(step.toString()) : at.toArray().at(step.toInt());
    }
    return at;
}

} // namespace

class TestRequestTranslation final : public QObject {
    Q_OBJECT

private slots:
    void systemMessagesBecomeSystem();
    void defaultMaxTokensAndSamplingFields();
    void imagesBecomeImageBlocks();
    void toolsToolCallsAndResults();
    void toolChoiceMapping();
    void untranslatableContentNamesTheField();
    void malformedBodyIsRefused();

    void anthropicSystemAndBlocks();
    void anthropicToolUseAndResults();
    void anthropicStreamAsksForUsage();
    void anthropicServerToolIsRefused();
    void anthropicImageSources();
};

void TestRequestTranslation::systemMessagesBecomeSystem()
{
    const QJsonObject out = toAnthropic(R"({"model":"gpt-4o","messages":[
        {"role":"system","content":"Be brief."},
        {"role":"developer","content":[{"type":"text","text":"Use French."}]},
        {"role":"user","content":"Hi"},
        {"role":"user","content":"again"}]})");
    QCOMPARE(out.value(u"model").toString(), QStringLiteral("claude-x"));
    QCOMPARE(out.value(u"system").toString(), QStringLiteral("Be brief.\n\nUse French."));
    const QJsonArray messages = out.value(u"messages").toArray();
    QCOMPARE(messages.size(), 1); // consecutive user turns merge
    QCOMPARE(path(out, {u"messages"_qs, 0, u"role"_qs}).toString(), QStringLiteral("user"));
    QCOMPARE(path(out, {u"messages"_qs, 0, u"content"_qs}).toArray().size(), 2);
    QCOMPARE(path(out, {u"messages"_qs, 0, u"content"_qs, 1, u"text"_qs}).toString(), QStringLiteral("again"));
}

void TestRequestTranslation::defaultMaxTokensAndSamplingFields()
{
    QJsonObject out = toAnthropic(R"({"model":"m","messages":[{"role":"user","content":"x"}],
        "temperature":1.5,"top_p":0.9,"stop":"END","stream":true,"user":"u-1","seed":7,"logprobs":true,
        "response_format":{"type":"json_object"},"frequency_penalty":0.5})");
    QCOMPARE(out.value(u"max_tokens").toInteger(), DEFAULT_ANTHROPIC_MAX_TOKENS);
    QCOMPARE(out.value(u"temperature").toDouble(), 1.0); // Anthropic's range ends at 1
    QCOMPARE(out.value(u"top_p").toDouble(), 0.9);
    QCOMPARE(out.value(u"stop_sequences").toArray(), QJsonArray {QStringLiteral("END")});
    QCOMPARE(out.value(u"stream").toBool(), true);
    QCOMPARE(path(out, {u"metadata"_qs, u"user_id"_qs}).toString(), QStringLiteral("u-1"));
    for (const auto dropped : {u"seed", u"logprobs", u"response_format", u"frequency_penalty", u"user"}) {
        QVERIFY2(!out.contains(dropped), qPrintable(QStringView(dropped).toString()));
    }
    out = toAnthropic(R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":10,"max_completion_tokens":20})");
    QCOMPARE(out.value(u"max_tokens").toInt(), 20);
}

void TestRequestTranslation::imagesBecomeImageBlocks()
{
    const QJsonObject out = toAnthropic(R"({"model":"m","messages":[{"role":"user","content":[
        {"type":"text","text":"What is this?"},
        {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"high"}},
        {"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}}]}]})");
    const QJsonArray blocks = path(out, {u"messages"_qs, 0, u"content"_qs}).toArray();
    QCOMPARE(blocks.size(), 3);
    QCOMPARE(blocks[1].toObject().value(u"type").toString(), QStringLiteral("image"));
    const QJsonObject base64 = blocks[1].toObject().value(u"source").toObject();
    QCOMPARE(base64.value(u"type").toString(), QStringLiteral("base64"));
    QCOMPARE(base64.value(u"media_type").toString(), QStringLiteral("image/png"));
    QCOMPARE(base64.value(u"data").toString(), QStringLiteral("iVBORw0KGgo="));
    const QJsonObject url = blocks[2].toObject().value(u"source").toObject();
    QCOMPARE(url.value(u"type").toString(), QStringLiteral("url"));
    QCOMPARE(url.value(u"url").toString(), QStringLiteral("https://example.com/cat.jpg"));
}

void TestRequestTranslation::toolsToolCallsAndResults()
{
    const QJsonObject out = toAnthropic(R"({"model":"m","messages":[
        {"role":"user","content":"Weather in Paris and Rome?"},
        {"role":"assistant","content":null,"tool_calls":[
            {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
            {"id":"call_2","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]},
        {"role":"tool","tool_call_id":"call_1","content":"18C"},
        {"role":"tool","tool_call_id":"call_2","content":[{"type":"text","text":"24C"}]}],
        "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]},"strict":true}}],
        "parallel_tool_calls":false})");
    const QJsonArray tools = out.value(u"tools").toArray();
    QCOMPARE(tools.size(), 1);
    QCOMPARE(tools[0].toObject().value(u"name").toString(), QStringLiteral("get_weather"));
    QCOMPARE(tools[0].toObject().value(u"description").toString(), QStringLiteral("Weather"));
    QCOMPARE(path(tools[0].toObject(), {u"input_schema"_qs, u"required"_qs, 0}).toString(), QStringLiteral("city"));
    QVERIFY(!tools[0].toObject().contains(u"strict"));
    QCOMPARE(path(out, {u"tool_choice"_qs, u"type"_qs}).toString(), QStringLiteral("auto"));
    QCOMPARE(path(out, {u"tool_choice"_qs, u"disable_parallel_tool_use"_qs}).toBool(), true);

    const QJsonArray messages = out.value(u"messages").toArray();
    QCOMPARE(messages.size(), 3);
    const QJsonArray uses = messages[1].toObject().value(u"content").toArray();
    QCOMPARE(uses.size(), 2);
    QCOMPARE(uses[0].toObject().value(u"type").toString(), QStringLiteral("tool_use"));
    QCOMPARE(uses[0].toObject().value(u"id").toString(), QStringLiteral("call_1"));
    QCOMPARE(path(uses[1].toObject(), {u"input"_qs, u"city"_qs}).toString(), QStringLiteral("Rome"));
    const QJsonArray results = messages[2].toObject().value(u"content").toArray();
    QCOMPARE(messages[2].toObject().value(u"role").toString(), QStringLiteral("user"));
    QCOMPARE(results.size(), 2); // both tool messages in one user turn
    QCOMPARE(results[0].toObject().value(u"tool_use_id").toString(), QStringLiteral("call_1"));
    QCOMPARE(results[1].toObject().value(u"content").toString(), QStringLiteral("24C"));
}

void TestRequestTranslation::toolChoiceMapping()
{
    const QByteArray head = R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":)";
    QCOMPARE(path(toAnthropic(head + R"("required"})"), {u"tool_choice"_qs, u"type"_qs}).toString(), QStringLiteral("any"));
    QCOMPARE(path(toAnthropic(head + R"("none"})"), {u"tool_choice"_qs, u"type"_qs}).toString(), QStringLiteral("none"));
    const QJsonObject named = toAnthropic(head + R"({"type":"function","function":{"name":"f"}}})");
    QCOMPARE(path(named, {u"tool_choice"_qs, u"type"_qs}).toString(), QStringLiteral("tool"));
    QCOMPARE(path(named, {u"tool_choice"_qs, u"name"_qs}).toString(), QStringLiteral("f"));
    // A tool without parameters still gets the schema Anthropic requires.
    QCOMPARE(path(named, {u"tools"_qs, 0, u"input_schema"_qs, u"type"_qs}).toString(), QStringLiteral("object"));
}

void TestRequestTranslation::untranslatableContentNamesTheField()
{
    auto audio = anthropicRequestFromOpenAi(R"({"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]})", "c");
    QVERIFY(!audio);
    QCOMPARE(audio.error().param, QByteArray("messages[0].content[0].type"));
    QVERIFY(audio.error().message.contains("input_audio"));
    auto n = anthropicRequestFromOpenAi(R"({"model":"m","messages":[{"role":"user","content":"x"}],"n":3})", "c");
    QVERIFY(!n);
    QCOMPARE(n.error().param, QByteArray("n"));
    auto arguments = anthropicRequestFromOpenAi(R"({"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"a","function":{"name":"f","arguments":"not json"}}]}]})", "c");
    QVERIFY(!arguments);
    QCOMPARE(arguments.error().param, QByteArray("messages[0].tool_calls[0].function.arguments"));
    auto toolId = anthropicRequestFromOpenAi(R"({"model":"m","messages":[{"role":"tool","content":"x"}]})", "c");
    QVERIFY(!toolId);
    QCOMPARE(toolId.error().param, QByteArray("messages[0].tool_call_id"));
    auto image = anthropicRequestFromOpenAi(R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x"}}]}]})", "c");
    QVERIFY(!image);
    QCOMPARE(image.error().param, QByteArray("messages[0].content[0].image_url.url"));
}

void TestRequestTranslation::malformedBodyIsRefused()
{
    QVERIFY(!anthropicRequestFromOpenAi("not json", "c"));
    QVERIFY(!anthropicRequestFromOpenAi("[1,2]", "c"));
    auto noMessages = anthropicRequestFromOpenAi(R"({"model":"m"})", "c");
    QVERIFY(!noMessages);
    QCOMPARE(noMessages.error().param, QByteArray("messages"));
    QVERIFY(!openAiRequestFromAnthropic("{", "g"));
    auto badRole = openAiRequestFromAnthropic(R"({"model":"m","max_tokens":5,"messages":[{"role":"system","content":"x"}]})", "g");
    QVERIFY(!badRole);
    QCOMPARE(badRole.error().param, QByteArray("messages[0].role"));
}

void TestRequestTranslation::anthropicSystemAndBlocks()
{
    const QJsonObject out = toOpenAi(R"({"model":"claude","max_tokens":100,"system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],
        "messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]},{"role":"assistant","content":"Hello"},{"role":"user","content":"More"}],
        "stop_sequences":["X"],"temperature":0.2,"top_k":5,"metadata":{"user_id":"u-9"},"thinking":{"type":"enabled","budget_tokens":1000}})");
    QCOMPARE(out.value(u"model").toString(), QStringLiteral("gpt-x"));
    QCOMPARE(out.value(u"max_tokens").toInt(), 100);
    QCOMPARE(out.value(u"stop").toArray(), QJsonArray {QStringLiteral("X")});
    QCOMPARE(out.value(u"user").toString(), QStringLiteral("u-9"));
    QVERIFY(!out.contains(u"top_k"));
    QVERIFY(!out.contains(u"thinking"));
    const QJsonArray messages = out.value(u"messages").toArray();
    QCOMPARE(messages.size(), 4);
    QCOMPARE(messages[0].toObject().value(u"role").toString(), QStringLiteral("system"));
    QCOMPARE(messages[0].toObject().value(u"content").toString(), QStringLiteral("Be brief."));
    QCOMPARE(messages[1].toObject().value(u"content").toString(), QStringLiteral("Hi"));
    QCOMPARE(messages[2].toObject().value(u"content").toString(), QStringLiteral("Hello"));
}

void TestRequestTranslation::anthropicToolUseAndResults()
{
    const QJsonObject out = toOpenAi(R"({"model":"c","max_tokens":10,"messages":[
        {"role":"user","content":"Weather?"},
        {"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"s"},{"type":"text","text":"Let me check."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}]},
        {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"18C"}]},{"type":"text","text":"Thanks"}]}],
        "tools":[{"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}],
        "tool_choice":{"type":"any","disable_parallel_tool_use":true}})");
    QCOMPARE(path(out, {u"tools"_qs, 0, u"type"_qs}).toString(), QStringLiteral("function"));
    QCOMPARE(path(out, {u"tools"_qs, 0, u"function"_qs, u"name"_qs}).toString(), QStringLiteral("get_weather"));
    QCOMPARE(path(out, {u"tools"_qs, 0, u"function"_qs, u"parameters"_qs, u"type"_qs}).toString(), QStringLiteral("object"));
    QCOMPARE(out.value(u"tool_choice").toString(), QStringLiteral("required"));
    QCOMPARE(out.value(u"parallel_tool_calls").toBool(true), false);
    const QJsonArray messages = out.value(u"messages").toArray();
    QCOMPARE(messages.size(), 4);
    const QJsonObject assistant = messages[1].toObject();
    QCOMPARE(assistant.value(u"content").toString(), QStringLiteral("Let me check."));
    QCOMPARE(path(assistant, {u"tool_calls"_qs, 0, u"id"_qs}).toString(), QStringLiteral("toolu_1"));
    const QString arguments = path(assistant, {u"tool_calls"_qs, 0, u"function"_qs, u"arguments"_qs}).toString();
    QCOMPARE(QJsonDocument::fromJson(arguments.toUtf8()).object().value(u"city").toString(), QStringLiteral("Paris"));
    QCOMPARE(messages[2].toObject().value(u"role").toString(), QStringLiteral("tool"));
    QCOMPARE(messages[2].toObject().value(u"tool_call_id").toString(), QStringLiteral("toolu_1"));
    QCOMPARE(messages[2].toObject().value(u"content").toString(), QStringLiteral("18C"));
    QCOMPARE(messages[3].toObject().value(u"content").toString(), QStringLiteral("Thanks"));
}

void TestRequestTranslation::anthropicStreamAsksForUsage()
{
    const QJsonObject out = toOpenAi(R"({"model":"c","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"x"}]})");
    QCOMPARE(out.value(u"stream").toBool(), true);
    QCOMPARE(path(out, {u"stream_options"_qs, u"include_usage"_qs}).toBool(), true);
}

void TestRequestTranslation::anthropicServerToolIsRefused()
{
    auto out = openAiRequestFromAnthropic(R"({"model":"c","max_tokens":10,"messages":[{"role":"user","content":"x"}],"tools":[{"type":"web_search_20250305","name":"web_search"}]})", "g");
    QVERIFY(!out);
    QCOMPARE(out.error().param, QByteArray("tools[0].type"));
}

void TestRequestTranslation::anthropicImageSources()
{
    const QJsonObject out = toOpenAi(R"({"model":"c","max_tokens":10,"messages":[{"role":"user","content":[
        {"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/4AAQ"}},
        {"type":"image","source":{"type":"url","url":"https://example.com/a.png"}},
        {"type":"text","text":"Compare"}]}]})");
    const QJsonArray parts = path(out, {u"messages"_qs, 0, u"content"_qs}).toArray();
    QCOMPARE(parts.size(), 3);
    QCOMPARE(path(parts[0].toObject(), {u"image_url"_qs, u"url"_qs}).toString(), QStringLiteral("data:image/jpeg;base64,/9j/4AAQ"));
    QCOMPARE(path(parts[1].toObject(), {u"image_url"_qs, u"url"_qs}).toString(), QStringLiteral("https://example.com/a.png"));
    QCOMPARE(parts[2].toObject().value(u"type").toString(), QStringLiteral("text"));
}

QTEST_APPLESS_MAIN(TestRequestTranslation)
#include "testrequesttranslation.moc"
