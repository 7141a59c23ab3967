// Answer and error translation (gateway/translate/responsetranslation).
#include "translate/responsetranslation.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace Gateway::Translate;
using Gateway::Config::WireFormat;

namespace {

QJsonObject json(const QByteArray &text)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(text, &error);
    if (error.error != QJsonParseError::NoError) {
        qWarning() << "not JSON:" << text;
    }
    return document.object();
}

} // namespace

class TestResponseTranslation final : public QObject {
    Q_OBJECT

private slots:
    void openAiAnswerAsAnthropic_data();
    void openAiAnswerAsAnthropic();
    void openAiToolCallsAsToolUse();
    void anthropicAnswerAsOpenAi_data();
    void anthropicAnswerAsOpenAi();
    void anthropicToolUseAsToolCalls();
    void malformedAnswersAreErrors();
    void errorsInTheClientsShape();
};

void TestResponseTranslation::openAiAnswerAsAnthropic_data()
{
    QTest::addColumn<QString>("finish");
    QTest::addColumn<QString>("stop");
    QTest::newRow("stop") << "stop" << "end_turn";
    QTest::newRow("length") << "length" << "max_tokens";
    QTest::newRow("tool_calls") << "tool_calls" << "tool_use";
    QTest::newRow("content_filter") << "content_filter" << "refusal";
}

void TestResponseTranslation::openAiAnswerAsAnthropic()
{
    QFETCH(QString, finish);
    QFETCH(QString, stop);
    const QByteArray body = R"({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there"},"finish_reason":")" +
                            finish.toUtf8() + R"("}],"usage":{"prompt_tokens":30,"completion_tokens":5,"total_tokens":35,"prompt_tokens_details":{"cached_tokens":10}}})";
    auto translated = anthropicResponseFromOpenAi(body);
    QVERIFY(translated);
    const QJsonObject out = json(*translated);
    QCOMPARE(out.value(u"type").toString(), QStringLiteral("message"));
    QCOMPARE(out.value(u"role").toString(), QStringLiteral("assistant"));
    QCOMPARE(out.value(u"model").toString(), QStringLiteral("gpt-4o"));
    QCOMPARE(out.value(u"stop_reason").toString(), stop);
    const QJsonArray content = out.value(u"content").toArray();
    QCOMPARE(content.size(), 1);
    QCOMPARE(content[0].toObject().value(u"text").toString(), QStringLiteral("Hello there"));
    const QJsonObject usage = out.value(u"usage").toObject();
    QCOMPARE(usage.value(u"input_tokens").toInt(), 20); // Anthropic's input excludes cache reads
    QCOMPARE(usage.value(u"cache_read_input_tokens").toInt(), 10);
    QCOMPARE(usage.value(u"output_tokens").toInt(), 5);
}

void TestResponseTranslation::openAiToolCallsAsToolUse()
{
    auto translated = anthropicResponseFromOpenAi(R"({"id":"c","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,
        "tool_calls":[{"id":"call_9","type":"function","function":{"name":"lookup","arguments":"{\"q\":\"x\"}"}}]},"finish_reason":"tool_calls"}],
        "usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}})");
    QVERIFY(translated);
    const QJsonObject out = json(*translated);
    const QJsonArray content = out.value(u"content").toArray();
    QCOMPARE(content.size(), 1);
    const QJsonObject use = content[0].toObject();
    QCOMPARE(use.value(u"type").toString(), QStringLiteral("tool_use"));
    QCOMPARE(use.value(u"id").toString(), QStringLiteral("call_9"));
    QCOMPARE(use.value(u"name").toString(), QStringLiteral("lookup"));
    QCOMPARE(use.value(u"input").toObject().value(u"q").toString(), QStringLiteral("x"));
    QCOMPARE(out.value(u"stop_reason").toString(), QStringLiteral("tool_use"));
}

void TestResponseTranslation::anthropicAnswerAsOpenAi_data()
{
    QTest::addColumn<QString>("stop");
    QTest::addColumn<QString>("finish");
    QTest::newRow("end_turn") << "end_turn" << "stop";
    QTest::newRow("stop_sequence") << "stop_sequence" << "stop";
    QTest::newRow("max_tokens") << "max_tokens" << "length";
    QTest::newRow("tool_use") << "tool_use" << "tool_calls";
    QTest::newRow("refusal") << "refusal" << "content_filter";
}

void TestResponseTranslation::anthropicAnswerAsOpenAi()
{
    QFETCH(QString, stop);
    QFETCH(QString, finish);
    const QByteArray body = R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"thinking","thinking":"..."},{"type":"text","text":"Hello"},{"type":"text","text":" world"}],"stop_reason":")" +
                            stop.toUtf8() + R"(","stop_sequence":null,"usage":{"input_tokens":12,"cache_read_input_tokens":8,"cache_creation_input_tokens":4,"output_tokens":6}})";
    auto translated = openAiResponseFromAnthropic(body, 1700000000);
    QVERIFY(translated);
    const QJsonObject out = json(*translated);
    QCOMPARE(out.value(u"object").toString(), QStringLiteral("chat.completion"));
    QCOMPARE(out.value(u"created").toInteger(), 1700000000);
    QCOMPARE(out.value(u"id").toString(), QStringLiteral("msg_1"));
    const QJsonObject choice = out.value(u"choices").toArray().at(0).toObject();
    QCOMPARE(choice.value(u"finish_reason").toString(), finish);
    QCOMPARE(choice.value(u"message").toObject().value(u"content").toString(), QStringLiteral("Hello world"));
    const QJsonObject usage = out.value(u"usage").toObject();
    QCOMPARE(usage.value(u"prompt_tokens").toInt(), 24); // OpenAI's prompt includes cached tokens
    QCOMPARE(usage.value(u"completion_tokens").toInt(), 6);
    QCOMPARE(usage.value(u"total_tokens").toInt(), 30);
    QCOMPARE(usage.value(u"prompt_tokens_details").toObject().value(u"cached_tokens").toInt(), 8);
}

void TestResponseTranslation::anthropicToolUseAsToolCalls()
{
    auto translated = openAiResponseFromAnthropic(R"({"id":"msg_2","model":"c","content":[{"type":"tool_use","id":"toolu_1","name":"lookup","input":{"q":"x","n":2}}],
        "stop_reason":"tool_use","usage":{"input_tokens":3,"output_tokens":2}})", 1);
    QVERIFY(translated);
    const QJsonObject message = json(*translated).value(u"choices").toArray().at(0).toObject().value(u"message").toObject();
    QVERIFY(message.value(u"content").isNull());
    const QJsonObject call = message.value(u"tool_calls").toArray().at(0).toObject();
    QCOMPARE(call.value(u"id").toString(), QStringLiteral("toolu_1"));
    QCOMPARE(call.value(u"type").toString(), QStringLiteral("function"));
    const QJsonObject function = call.value(u"function").toObject();
    QCOMPARE(function.value(u"name").toString(), QStringLiteral("lookup"));
    QCOMPARE(QJsonDocument::fromJson(function.value(u"arguments").toString().toUtf8()).object().value(u"n").toInt(), 2);
}

void TestResponseTranslation::malformedAnswersAreErrors()
{
    QVERIFY(!anthropicResponseFromOpenAi("<html>"));
    QVERIFY(!anthropicResponseFromOpenAi(R"({"choices":[]})"));
    QVERIFY(!openAiResponseFromAnthropic(R"({"id":"x"})", 1));
    QVERIFY(!openAiResponseFromAnthropic("", 1));
}

void TestResponseTranslation::errorsInTheClientsShape()
{
    // Anthropic overloaded -> an OpenAI client sees a 503 in OpenAI's shape.
    TranslatedError overloaded = translateErrorResponse(WireFormat::Anthropic, WireFormat::OpenAi, 529,
                                                        R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
    QCOMPARE(overloaded.status, 503);
    QJsonObject error = json(overloaded.body).value(u"error").toObject();
    QCOMPARE(error.value(u"message").toString(), QStringLiteral("Overloaded"));
    QCOMPARE(error.value(u"code").toString(), QStringLiteral("overloaded_error"));

    // OpenAI invalid request -> Anthropic's shape, same status.
    TranslatedError invalid = translateErrorResponse(WireFormat::OpenAi, WireFormat::Anthropic, 400,
                                                     R"({"error":{"message":"max_tokens is too large","type":"invalid_request_error","param":"max_tokens","code":null}})");
    QCOMPARE(invalid.status, 400);
    const QJsonObject anthropic = json(invalid.body);
    QCOMPARE(anthropic.value(u"type").toString(), QStringLiteral("error"));
    QCOMPARE(anthropic.value(u"error").toObject().value(u"type").toString(), QStringLiteral("invalid_request_error"));
    QCOMPARE(anthropic.value(u"error").toObject().value(u"message").toString(), QStringLiteral("max_tokens is too large"));

    // A server's own shapes ({"detail"}, plain text) keep their words.
    QCOMPARE(json(translateErrorResponse(WireFormat::OpenAi, WireFormat::Anthropic, 422, R"({"detail":"bad field"})").body)
                 .value(u"error").toObject().value(u"message").toString(),
             QStringLiteral("bad field"));
    QCOMPARE(json(translateErrorResponse(WireFormat::OpenAi, WireFormat::Anthropic, 400, "plain words").body)
                 .value(u"error").toObject().value(u"message").toString(),
             QStringLiteral("plain words"));
}

QTEST_APPLESS_MAIN(TestResponseTranslation)
#include "testresponsetranslation.moc"
