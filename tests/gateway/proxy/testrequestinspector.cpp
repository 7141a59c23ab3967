#include "proxy/requestinspector.h"

#include <QTest>

using Gateway::Proxy::InspectedRequest;
using Gateway::Proxy::InspectionError;
using Gateway::Proxy::RequestInspector;
using Gateway::Runtime::Endpoint;

namespace {

const QByteArray MESSAGES = QByteArrayLiteral("\"messages\":[{\"role\":\"user\",\"content\":\"Hello, world!\"}]");

QByteArray chat(const QByteArray &members)
{
    return "{\"model\":\"chat\"," + MESSAGES + (members.isEmpty() ? QByteArray() : ',' + members) + '}';
}

// The model token as it appears in the body, quotes included.
QByteArray modelToken(const QByteArray &body, const InspectedRequest &inspected)
{
    return body.mid(inspected.modelBegin, inspected.modelEnd - inspected.modelBegin);
}

} // namespace

class TestRequestInspector final : public QObject {
    Q_OBJECT

private slots:
    void modelOffsetsAreExact();
    void modelOffsetsWithWhitespace();
    void escapedModelName();
    void streamFlag_data();
    void streamFlag();
    void streamMustBeBoolean();
    void maxTokens_data();
    void maxTokens();
    void invalidMaxTokens_data();
    void invalidMaxTokens();
    void streamOptions();
    void streamOptionsIncludeUsageFalseKeepsOtherScalars();
    void userField();
    void estimatedTokensForStringContent();
    void estimatedTokensForContentParts();
    void imagesAreDetected_data();
    void imagesAreDetected();
    void toolsAreDetected_data();
    void toolsAreDetected();
    void lastUserMessageIsCaptured_data();
    void lastUserMessageIsCaptured();
    void lastUserMessageOnlyWhenAsked();
    void lastUserMessageIsBoundedAtACharacter();
    void promptBlocksShareTheCommonPrefix();
    void promptBlocksPutTheSystemPromptFirst();
    void promptBlocksDependOnTheModel();
    void promptBlocksOnlyWhenAsked();
    void missingModel();
    void modelNotAString();
    void emptyModel();
    void chatMessagesValidation_data();
    void chatMessagesValidation();
    void messagesEndpointRequiresMaxTokens();
    void completionsRequirePrompt();
    void embeddingsRequireInputAndRefuseStreaming();
    void invalidJson_data();
    void invalidJson();
    void invalidUtf8IsNamed();
    void nestingDepthIsBounded();
    void bodyWithoutSpareCapacity();
    void inspectorIsReusable();
    void usageFromOpenAiResponse();
    void usageFromUsageOnlyChunk();
    void usageNullIsNotUsage();
    void usageFromAnthropicEvents();
    void usageCountsCachedPromptTokens();
};

void TestRequestInspector::modelOffsetsAreExact()
{
    RequestInspector inspector;
    const QByteArray body = chat({});
    const auto result = inspector.inspect(Endpoint::ChatCompletions, body);
    QVERIFY2(result.hasValue(), result.hasValue() ? "" : result.error().message.constData());
    QCOMPARE(result->model, QByteArrayLiteral("chat"));
    QCOMPARE(result->modelBegin, qsizetype {9});
    QCOMPARE(result->modelEnd, qsizetype {15});
    QCOMPARE(modelToken(body, result.value()), QByteArrayLiteral("\"chat\""));
    QCOMPARE(result->objectBegin, qsizetype {0});
    QVERIFY(!result->stream);
    QCOMPARE(result->maxTokens, -1);
    QVERIFY(!result->hasStreamOptions);
    QVERIFY(!result->includeUsage);
    QVERIFY(result->user.isEmpty());
}

void TestRequestInspector::modelOffsetsWithWhitespace()
{
    RequestInspector inspector;
    const QByteArray body = "  \n{ " + MESSAGES + ",\n  \"model\" :  \"chat\" ,\n  \"temperature\": 0.2 }\n";
    const auto result = inspector.inspect(Endpoint::ChatCompletions, body);
    QVERIFY2(result.hasValue(), result.hasValue() ? "" : result.error().message.constData());
    QCOMPARE(result->model, QByteArrayLiteral("chat"));
    QCOMPARE(modelToken(body, result.value()), QByteArrayLiteral("\"chat\""));
    QCOMPARE(result->modelBegin, body.indexOf("\"chat\""));
    QCOMPARE(result->objectBegin, qsizetype {3});

    // Last member, followed directly by the closing brace.
    const QByteArray last = "{" + MESSAGES + ",\"model\":\t\"chat\"\t}";
    const auto lastResult = inspector.inspect(Endpoint::ChatCompletions, last);
    QVERIFY(lastResult.hasValue());
    QCOMPARE(modelToken(last, lastResult.value()), QByteArrayLiteral("\"chat\""));
}

void TestRequestInspector::escapedModelName()
{
    RequestInspector inspector;
    const QByteArray body = "{\"model\":\"org\\/team \\\"x\\\" \\u00e9\"," + MESSAGES + '}';
    const auto result = inspector.inspect(Endpoint::ChatCompletions, body);
    QVERIFY2(result.hasValue(), result.hasValue() ? "" : result.error().message.constData());
    QCOMPARE(result->model, QByteArray("org/team \"x\" \xc3\xa9"));
    QCOMPARE(modelToken(body, result.value()), QByteArrayLiteral("\"org\\/team \\\"x\\\" \\u00e9\""));
}

void TestRequestInspector::streamFlag_data()
{
    QTest::addColumn<QByteArray>("member");
    QTest::addColumn<bool>("stream");
    QTest::newRow("true") << QByteArrayLiteral("\"stream\":true") << true;
    QTest::newRow("false") << QByteArrayLiteral("\"stream\":false") << false;
    QTest::newRow("null") << QByteArrayLiteral("\"stream\":null") << false;
    QTest::newRow("absent") << QByteArray() << false;
}

void TestRequestInspector::streamFlag()
{
    QFETCH(QByteArray, member);
    QFETCH(bool, stream);
    RequestInspector inspector;
    const auto result = inspector.inspect(Endpoint::ChatCompletions, chat(member));
    QVERIFY2(result.hasValue(), result.hasValue() ? "" : result.error().message.constData());
    QCOMPARE(result->stream, stream);
}

void TestRequestInspector::streamMustBeBoolean()
{
    RequestInspector inspector;
    for (const QByteArray &value : {QByteArrayLiteral("\"yes\""), QByteArrayLiteral("1"), QByteArrayLiteral("{}")}) {
        const auto result = inspector.inspect(Endpoint::ChatCompletions, chat("\"stream\":" + value));
        QVERIFY(!result.hasValue());
        QCOMPARE(result.error().code, QByteArrayLiteral("invalid_field"));
        QCOMPARE(result.error().param, QByteArrayLiteral("stream"));
    }
}

void TestRequestInspector::maxTokens_data()
{
    QTest::addColumn<QByteArray>("member");
    QTest::addColumn<int>("maxTokens");
    QTest::newRow("max_tokens") << QByteArrayLiteral("\"max_tokens\":256") << 256;
    QTest::newRow("max_completion_tokens") << QByteArrayLiteral("\"max_completion_tokens\":1") << 1;
    QTest::newRow("null") << QByteArrayLiteral("\"max_tokens\":null") << -1;
    QTest::newRow("upper bound") << QByteArrayLiteral("\"max_tokens\":100000000") << 100000000;
}

void TestRequestInspector::maxTokens()
{
    QFETCH(QByteArray, member);
    QFETCH(int, maxTokens);
    RequestInspector inspector;
    const auto result = inspector.inspect(Endpoint::ChatCompletions, chat(member));
    QVERIFY2(result.hasValue(), result.hasValue() ? "" : result.error().message.constData());
    QCOMPARE(result->maxTokens, maxTokens);
}

void TestRequestInspector::invalidMaxTokens_data()
{
    QTest::addColumn<QByteArray>("member");
    QTest::addColumn<QByteArray>("param");
    QTest::newRow("zero") << QByteArrayLiteral("\"max_tokens\":0") << QByteArrayLiteral("max_tokens");
    QTest::newRow("negative") << QByteArrayLiteral("\"max_tokens\":-5") << QByteArrayLiteral("max_tokens");
    QTest::newRow("string") << QByteArrayLiteral("\"max_tokens\":\"10\"") << QByteArrayLiteral("max_tokens");
    QTest::newRow("fraction") << QByteArrayLiteral("\"max_tokens\":1.5") << QByteArrayLiteral("max_tokens");
    QTest::newRow("too large") << QByteArrayLiteral("\"max_tokens\":100000001") << QByteArrayLiteral("max_tokens");
    QTest::newRow("completion zero") << QByteArrayLiteral("\"max_completion_tokens\":0")
                                     << QByteArrayLiteral("max_completion_tokens");
}

void TestRequestInspector::invalidMaxTokens()
{
    QFETCH(QByteArray, member);
    QFETCH(QByteArray, param);
    RequestInspector inspector;
    const auto result = inspector.inspect(Endpoint::ChatCompletions, chat(member));
    QVERIFY(!result.hasValue());
    QCOMPARE(result.error().code, QByteArrayLiteral("invalid_field"));
    QCOMPARE(result.error().param, param);
    QVERIFY(result.error().message.contains(param));
}

void TestRequestInspector::streamOptions()
{
    RequestInspector inspector;
    const QByteArray options = QByteArrayLiteral("{ \"include_usage\" : true, \"note\":\"a}b\" }");
    const QByteArray body = chat("\"stream\":true,\"stream_options\": " + options + " ,\"n\":1");
    const auto result = inspector.inspect(Endpoint::ChatCompletions, body);
    QVERIFY2(result.hasValue(), result.hasValue() ? "" : result.error().message.constData());
    QVERIFY(result->stream);
    QVERIFY(result->hasStreamOptions);
    QVERIFY(result->includeUsage);
    QCOMPARE(body.mid(result->streamOptionsBegin, result->streamOptionsEnd - result->streamOptionsBegin), options);
    QCOMPARE(result->streamOptionsScalars, QByteArrayLiteral("\"note\":\"a}b\""));

    // null stream_options asks for nothing, but its range is kept so a rewrite can
    // replace the null rather than add a second key.
    const QByteArray nullOptions = chat(QByteArrayLiteral("\"stream_options\":null"));
    const auto none = inspector.inspect(Endpoint::ChatCompletions, nullOptions);
    QVERIFY(none.hasValue());
    QVERIFY(!none->includeUsage);
    QVERIFY(none->hasStreamOptions);
    QCOMPARE(nullOptions.mid(none->streamOptionsBegin, none->streamOptionsEnd - none->streamOptionsBegin),
             QByteArrayLiteral("null"));

    const auto wrong = inspector.inspect(Endpoint::ChatCompletions, chat(QByteArrayLiteral("\"stream_options\":true")));
    QVERIFY(!wrong.hasValue());
    QCOMPARE(wrong.error().param, QByteArrayLiteral("stream_options"));
    QCOMPARE(wrong.error().code, QByteArrayLiteral("invalid_field"));
}

void TestRequestInspector::streamOptionsIncludeUsageFalseKeepsOtherScalars()
{
    RequestInspector inspector;
    const QByteArray options =
        QByteArrayLiteral("{\"include_usage\":false,\"continuous_usage_stats\":true,\"nested\":{\"a\":1},\"k\":7,\"z\":null}");
    const QByteArray body = chat("\"stream\":true,\"stream_options\":" + options);
    const auto result = inspector.inspect(Endpoint::ChatCompletions, body);
    QVERIFY2(result.hasValue(), result.hasValue() ? "" : result.error().message.constData());
    QVERIFY(result->hasStreamOptions);
    QVERIFY(!result->includeUsage);
    QCOMPARE(body.mid(result->streamOptionsBegin, result->streamOptionsEnd - result->streamOptionsBegin), options);
    QCOMPARE(result->streamOptionsScalars, QByteArrayLiteral("\"continuous_usage_stats\":true,\"k\":7,\"z\":null"));
}

void TestRequestInspector::userField()
{
    RequestInspector inspector;
    const auto result = inspector.inspect(Endpoint::ChatCompletions, chat(QByteArrayLiteral("\"user\":\"alice\\u0040corp\"")));
    QVERIFY(result.hasValue());
    QCOMPARE(result->user, QByteArrayLiteral("alice@corp"));

    // A non-string user is ignored rather than refused.
    const auto numeric = inspector.inspect(Endpoint::ChatCompletions, chat(QByteArrayLiteral("\"user\":42")));
    QVERIFY(numeric.hasValue());
    QVERIFY(numeric->user.isEmpty());
}

void TestRequestInspector::estimatedTokensForStringContent()
{
    RequestInspector inspector;
    // One message of 13 characters: ceil(13 / 4) + 4 = 8.
    auto result = inspector.inspect(Endpoint::ChatCompletions, chat({}));
    QVERIFY(result.hasValue());
    QCOMPARE(result->estimatedPromptTokens, 8);

    // Two messages of 4 + 8 characters: ceil(12 / 4) + 2 * 4 = 11. Roles do not count.
    const QByteArray body = QByteArrayLiteral("{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"abcd\"},"
                                              "{\"role\":\"user\",\"content\":\"abcdefgh\"}]}");
    result = inspector.inspect(Endpoint::ChatCompletions, body);
    QVERIFY(result.hasValue());
    QCOMPARE(result->estimatedPromptTokens, 11);

    // Anthropic: the top-level system text counts too: ceil((5 + 4) / 4) + 4 = 7.
    const QByteArray anthropic = QByteArrayLiteral("{\"model\":\"m\",\"max_tokens\":10,\"system\":\"sssss\","
                                                   "\"messages\":[{\"role\":\"user\",\"content\":\"abcd\"}]}");
    result = inspector.inspect(Endpoint::Messages, anthropic);
    QVERIFY(result.hasValue());
    QCOMPARE(result->estimatedPromptTokens, 7);

    // Completions: a prompt string and no messages: ceil(10 / 4) = 3.
    result = inspector.inspect(Endpoint::Completions, QByteArrayLiteral("{\"model\":\"m\",\"prompt\":\"0123456789\"}"));
    QVERIFY(result.hasValue());
    QCOMPARE(result->estimatedPromptTokens, 3);
}

void TestRequestInspector::estimatedTokensForContentParts()
{
    RequestInspector inspector;
    // Text parts 5 + 6 = 11 characters (the image part adds none): ceil(11 / 4) + 4 = 7.
    const QByteArray body = QByteArrayLiteral(
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":["
        "{\"type\":\"text\",\"text\":\"hello\"},"
        "{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://example.com/cat.png\"}},"
        "{\"type\":\"text\",\"text\":\" world\"}]}]}");
    const auto result = inspector.inspect(Endpoint::ChatCompletions, body);
    QVERIFY2(result.hasValue(), result.hasValue() ? "" : result.error().message.constData());
    QCOMPARE(result->estimatedPromptTokens, 7);

    // A tool result nests its content inside a part: ceil(8 / 4) + 4 = 6.
    const QByteArray nested = QByteArrayLiteral(
        "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":["
        "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\",\"content\":\"12345678\"}]}]}");
    const auto nestedResult = inspector.inspect(Endpoint::Messages, nested);
    QVERIFY(nestedResult.hasValue());
    QCOMPARE(nestedResult->estimatedPromptTokens, 6);
}

void TestRequestInspector::imagesAreDetected_data()
{
    QTest::addColumn<int>("endpoint");
    QTest::addColumn<QByteArray>("messages");
    QTest::addColumn<bool>("hasImages");
    const auto chatRow = [](const char *name, const char *messages, bool images) {
        QTest::newRow(name) << int(Endpoint::ChatCompletions) << QByteArray(messages) << images;
    };
    chatRow("text only", R"([{"role":"user","content":"a cat?"}])", false);
    chatRow("text parts", R"([{"role":"user","content":[{"type":"text","text":"a cat?"}]}])", false);
    chatRow("openai image_url", R"([{"role":"user","content":[{"type":"text","text":"what is it?"},)"
                                R"({"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}])",
            true);
    chatRow("input_image", R"([{"role":"user","content":[{"type":"input_image","image_url":"https://x/y.png"}]}])", true);
    chatRow("image in an earlier message",
            R"([{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]},)"
            R"({"role":"assistant","content":"a cat"},{"role":"user","content":"thanks"}])",
            true);
    chatRow("the word image in text", R"([{"role":"user","content":[{"type":"text","text":"image"}]}])", false);
    QTest::newRow("anthropic image") << int(Endpoint::Messages)
                                     << QByteArray(R"([{"role":"user","content":[{"type":"image","source":)"
                                                   R"({"type":"base64","media_type":"image/png","data":"AAAA"}}]}])")
                                     << true;
    QTest::newRow("anthropic image in a tool result")
        << int(Endpoint::Messages)
        << QByteArray(R"([{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":)"
                      R"([{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}]}]}])")
        << true;
}

void TestRequestInspector::imagesAreDetected()
{
    QFETCH(int, endpoint);
    QFETCH(QByteArray, messages);
    QFETCH(bool, hasImages);
    RequestInspector inspector;
    const QByteArray body = "{\"model\":\"m\",\"max_tokens\":10,\"messages\":" + messages + '}';
    const auto result = inspector.inspect(static_cast<Endpoint>(endpoint), body);
    QVERIFY2(result.hasValue(), result.hasValue() ? "" : result.error().message.constData());
    QCOMPARE(result->hasImages, hasImages);
    QVERIFY(!result->hasTools);
}

void TestRequestInspector::toolsAreDetected_data()
{
    QTest::addColumn<QByteArray>("members");
    QTest::addColumn<bool>("hasTools");
    QTest::newRow("none") << QByteArray() << false;
    QTest::newRow("openai tools")
        << QByteArray(R"("tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}])") << true;
    QTest::newRow("empty tools") << QByteArray(R"("tools":[])") << false;
    QTest::newRow("null tools") << QByteArray(R"("tools":null)") << false;
    QTest::newRow("legacy functions") << QByteArray(R"("functions":[{"name":"f"}])") << true;
    QTest::newRow("anthropic tools")
        << QByteArray(R"("tools":[{"name":"get_weather","input_schema":{"type":"object"}}],"tool_choice":{"type":"auto"})")
        << true;
}

void TestRequestInspector::toolsAreDetected()
{
    QFETCH(QByteArray, members);
    QFETCH(bool, hasTools);
    RequestInspector inspector;
    const QByteArray body = chat(members);
    const auto result = inspector.inspect(Endpoint::ChatCompletions, body);
    QVERIFY2(result.hasValue(), result.hasValue() ? "" : result.error().message.constData());
    QCOMPARE(result->hasTools, hasTools);
    // The rest of the body is still read after the tools.
    QCOMPARE(result->model, QByteArrayLiteral("chat"));
    QCOMPARE(result->estimatedPromptTokens, 8);
}

void TestRequestInspector::lastUserMessageIsCaptured_data()
{
    QTest::addColumn<int>("endpoint");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("text");
    const auto row = [](const char *name, Endpoint endpoint, const char *body, const char *text) {
        QTest::newRow(name) << int(endpoint) << QByteArray(body) << QByteArray(text);
    };
    row("string content", Endpoint::ChatCompletions,
        R"({"model":"m","messages":[{"role":"user","content":"def f(): pass"}]})", "def f(): pass");
    row("the last user message, not the assistant's", Endpoint::ChatCompletions,
        R"({"model":"m","messages":[{"role":"system","content":"be nice"},{"role":"user","content":"first"},)"
        R"({"role":"assistant","content":"answer"},{"role":"user","content":"second"},{"role":"assistant","content":"x"}]})",
        "second");
    row("text parts joined", Endpoint::ChatCompletions,
        R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"look at"},)"
        R"({"type":"image_url","image_url":{"url":"https://x/y.png"}},{"type":"text","text":"this"}]}]})",
        "look at\nthis");
    row("role after content", Endpoint::ChatCompletions,
        R"({"model":"m","messages":[{"content":"mine","role":"user"},{"content":"not mine","role":"assistant"}]})", "mine");
    row("escapes decoded", Endpoint::ChatCompletions,
        R"({"model":"m","messages":[{"role":"user","content":"a\nb \"q\" \u00e9"}]})", "a\nb \"q\" \xc3\xa9");
    row("anthropic tool result is not the user's text", Endpoint::Messages,
        R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t",)"
        R"("content":"tool output"},{"type":"text","text":"and now?"}]}]})",
        "and now?");
    row("no user message", Endpoint::ChatCompletions,
        R"({"model":"m","messages":[{"role":"system","content":"only system"}]})", "");
    row("completions prompt", Endpoint::Completions, R"({"model":"m","prompt":"class Foo:"})", "class Foo:");
}

void TestRequestInspector::lastUserMessageIsCaptured()
{
    QFETCH(int, endpoint);
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, text);
    RequestInspector inspector;
    const auto result = inspector.inspect(static_cast<Endpoint>(endpoint), body, true);
    QVERIFY2(result.hasValue(), result.hasValue() ? "" : result.error().message.constData());
    QCOMPARE(result->lastUserMessage, text);
    // The same inspector, reused, starts from scratch.
    const auto next = inspector.inspect(Endpoint::ChatCompletions, chat({}), true);
    QCOMPARE(next->lastUserMessage, QByteArrayLiteral("Hello, world!"));
}

void TestRequestInspector::lastUserMessageOnlyWhenAsked()
{
    RequestInspector inspector;
    const auto result = inspector.inspect(Endpoint::ChatCompletions, chat({}));
    QVERIFY(result.hasValue());
    QVERIFY(result->lastUserMessage.isEmpty());
    QCOMPARE(result->estimatedPromptTokens, 8); // counting does not depend on capturing
}

void TestRequestInspector::lastUserMessageIsBoundedAtACharacter()
{
    RequestInspector inspector;
    constexpr auto limit = static_cast<qsizetype>(RequestInspector::MAX_CAPTURED_TEXT);
    // One ASCII byte, then two-byte characters: the limit falls inside a character,
    // which is left out whole.
    QByteArray text = "a";
    while (text.size() < limit + 100) {
        text += "\xc3\xa9";
    }
    const QByteArray body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"" + text + "\"}]}";
    const auto result = inspector.inspect(Endpoint::ChatCompletions, body, true);
    QVERIFY(result.hasValue());
    QCOMPARE(result->lastUserMessage.size(), limit - 1);
    QCOMPARE(result->lastUserMessage, text.left(limit - 1));
    QCOMPARE(QString::fromUtf8(result->lastUserMessage).toUtf8(), result->lastUserMessage); // valid UTF-8
    // The estimate still counts all of it.
    QVERIFY(result->estimatedPromptTokens > (limit + 100) / 4);
}

namespace {

// A chat body whose first message is a long shared system prompt.
QByteArray longChat(const QByteArray &model, const QByteArray &question)
{
    const QByteArray system = QByteArray("You are a careful assistant. ").repeated(40); // 1,160 chars
    return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"system\",\"content\":\"" + system +
           "\"},{\"role\":\"user\",\"content\":\"" + question + "\"}]}";
}

std::vector<std::uint64_t> blocksOf(const QByteArray &body, Endpoint endpoint = Endpoint::ChatCompletions)
{
    RequestInspector inspector;
    auto result = inspector.inspect(endpoint, body, false, 64);
    return result ? result->promptBlocks : std::vector<std::uint64_t> {};
}

int commonPrefix(const std::vector<std::uint64_t> &a, const std::vector<std::uint64_t> &b)
{
    int n = 0;
    while (n < static_cast<int>(std::min(a.size(), b.size())) && a[static_cast<std::size_t>(n)] == b[static_cast<std::size_t>(n)]) {
        ++n;
    }
    return n;
}

} // namespace

void TestRequestInspector::promptBlocksShareTheCommonPrefix()
{
    const auto first = blocksOf(longChat("m", QByteArray("What is the capital of France? ").repeated(8)));
    const auto second = blocksOf(longChat("m", QByteArray("How do I sort a list in C++? ").repeated(8)));
    // "system" + 1,160 characters + "user": 18 full 64-character blocks lie before the
    // questions differ; the block holding the boundary already differs.
    QCOMPARE(static_cast<int>(first.size()), (6 + 1160 + 4 + 240) / 64);
    QCOMPARE(commonPrefix(first, second), (6 + 1160 + 4) / 64);
    QCOMPARE(blocksOf(longChat("m", QByteArray("What is the capital of France? ").repeated(8))), first);
}

void TestRequestInspector::promptBlocksPutTheSystemPromptFirst()
{
    // Anthropic's top-level system prompt hashes first whichever member comes first, so
    // requests sharing it share blocks even when the SDK writes messages before system.
    const QByteArray system = QByteArray("Shared instructions for every caller. ").repeated(20);
    const QByteArray messages = "\"messages\":[{\"role\":\"user\",\"content\":\"" + QByteArray("Question one? ").repeated(10) + "\"}]";
    const QByteArray before = "{\"model\":\"m\",\"max_tokens\":5,\"system\":\"" + system + "\"," + messages + '}';
    const QByteArray after = "{\"model\":\"m\",\"max_tokens\":5," + messages + ",\"system\":\"" + system + "\"}";
    const auto a = blocksOf(before, Endpoint::Messages);
    const auto b = blocksOf(after, Endpoint::Messages);
    QVERIFY(!a.empty());
    QCOMPARE(a, b);
}

void TestRequestInspector::promptBlocksDependOnTheModel()
{
    const QByteArray question = QByteArray("Same words. ").repeated(30);
    const auto a = blocksOf(longChat("model-a", question));
    const auto b = blocksOf(longChat("model-b", question));
    QCOMPARE(a.size(), b.size());
    QCOMPARE(commonPrefix(a, b), 0);
}

void TestRequestInspector::promptBlocksOnlyWhenAsked()
{
    RequestInspector inspector;
    const auto result = inspector.inspect(Endpoint::ChatCompletions, longChat("m", "hi"));
    QVERIFY(result);
    QVERIFY(result->promptBlocks.empty());
}

void TestRequestInspector::missingModel()
{
    RequestInspector inspector;
    const auto result = inspector.inspect(Endpoint::ChatCompletions, "{" + MESSAGES + '}');
    QVERIFY(!result.hasValue());
    QCOMPARE(result.error().code, QByteArrayLiteral("missing_field"));
    QCOMPARE(result.error().param, QByteArrayLiteral("model"));
}

void TestRequestInspector::modelNotAString()
{
    RequestInspector inspector;
    for (const QByteArray &model : {QByteArrayLiteral("5"), QByteArrayLiteral("null"), QByteArrayLiteral("[\"chat\"]")}) {
        const auto result = inspector.inspect(Endpoint::ChatCompletions, "{\"model\":" + model + ',' + MESSAGES + '}');
        QVERIFY(!result.hasValue());
        QCOMPARE(result.error().code, QByteArrayLiteral("invalid_field"));
        QCOMPARE(result.error().param, QByteArrayLiteral("model"));
    }
}

void TestRequestInspector::emptyModel()
{
    RequestInspector inspector;
    const auto result = inspector.inspect(Endpoint::ChatCompletions, "{\"model\":\"\"," + MESSAGES + '}');
    QVERIFY(!result.hasValue());
    QCOMPARE(result.error().code, QByteArrayLiteral("invalid_field"));
    QCOMPARE(result.error().param, QByteArrayLiteral("model"));
}

void TestRequestInspector::chatMessagesValidation_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("code");
    QTest::newRow("missing") << QByteArrayLiteral("{\"model\":\"chat\"}") << QByteArrayLiteral("missing_field");
    QTest::newRow("empty") << QByteArrayLiteral("{\"model\":\"chat\",\"messages\":[]}") << QByteArrayLiteral("invalid_field");
    QTest::newRow("object") << QByteArrayLiteral("{\"model\":\"chat\",\"messages\":{\"role\":\"user\"}}")
                            << QByteArrayLiteral("invalid_field");
    QTest::newRow("string") << QByteArrayLiteral("{\"model\":\"chat\",\"messages\":\"hi\"}") << QByteArrayLiteral("invalid_field");
}

void TestRequestInspector::chatMessagesValidation()
{
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, code);
    RequestInspector inspector;
    const auto result = inspector.inspect(Endpoint::ChatCompletions, body);
    QVERIFY(!result.hasValue());
    QCOMPARE(result.error().code, code);
    QCOMPARE(result.error().param, QByteArrayLiteral("messages"));
}

void TestRequestInspector::messagesEndpointRequiresMaxTokens()
{
    RequestInspector inspector;
    const QByteArray body = "{\"model\":\"claude\"," + MESSAGES + '}';
    const auto without = inspector.inspect(Endpoint::Messages, body);
    QVERIFY(!without.hasValue());
    QCOMPARE(without.error().code, QByteArrayLiteral("missing_field"));
    QCOMPARE(without.error().param, QByteArrayLiteral("max_tokens"));

    const auto with = inspector.inspect(Endpoint::Messages, "{\"model\":\"claude\",\"max_tokens\":64," + MESSAGES + '}');
    QVERIFY(with.hasValue());
    QCOMPARE(with->maxTokens, 64);

    // The same body is fine for chat completions, where max_tokens is optional.
    QVERIFY(inspector.inspect(Endpoint::ChatCompletions, body).hasValue());
}

void TestRequestInspector::completionsRequirePrompt()
{
    RequestInspector inspector;
    const auto without = inspector.inspect(Endpoint::Completions, QByteArrayLiteral("{\"model\":\"m\",\"max_tokens\":5}"));
    QVERIFY(!without.hasValue());
    QCOMPARE(without.error().code, QByteArrayLiteral("missing_field"));
    QCOMPARE(without.error().param, QByteArrayLiteral("prompt"));

    const auto with = inspector.inspect(Endpoint::Completions, QByteArrayLiteral("{\"model\":\"m\",\"prompt\":[\"ab\",\"cd\"]}"));
    QVERIFY(with.hasValue());
    QCOMPARE(with->estimatedPromptTokens, 1);
}

void TestRequestInspector::embeddingsRequireInputAndRefuseStreaming()
{
    RequestInspector inspector;
    const auto without = inspector.inspect(Endpoint::Embeddings, QByteArrayLiteral("{\"model\":\"e\"}"));
    QVERIFY(!without.hasValue());
    QCOMPARE(without.error().code, QByteArrayLiteral("missing_field"));
    QCOMPARE(without.error().param, QByteArrayLiteral("input"));

    const auto streamed =
        inspector.inspect(Endpoint::Embeddings, QByteArrayLiteral("{\"model\":\"e\",\"input\":\"text\",\"stream\":true}"));
    QVERIFY(!streamed.hasValue());
    QCOMPARE(streamed.error().code, QByteArrayLiteral("invalid_field"));
    QCOMPARE(streamed.error().param, QByteArrayLiteral("stream"));

    const auto ok = inspector.inspect(Endpoint::Embeddings, QByteArrayLiteral("{\"model\":\"e\",\"input\":\"12345678\"}"));
    QVERIFY(ok.hasValue());
    QCOMPARE(ok->model, QByteArrayLiteral("e"));
    QCOMPARE(ok->estimatedPromptTokens, 2);
}

void TestRequestInspector::invalidJson_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("not json") << QByteArrayLiteral("model=chat");
    QTest::newRow("top-level array") << QByteArray("[" + chat({}) + "]");
    QTest::newRow("top-level string") << QByteArrayLiteral("\"chat\"");
    QTest::newRow("trailing garbage") << QByteArray(chat({}) + "garbage");
    QTest::newRow("second object") << QByteArray(chat({}) + chat({}));
    QTest::newRow("truncated") << chat({}).chopped(1);
    QTest::newRow("missing colon") << QByteArrayLiteral("{\"model\" \"chat\"}");
}

void TestRequestInspector::invalidJson()
{
    QFETCH(QByteArray, body);
    RequestInspector inspector;
    const auto result = inspector.inspect(Endpoint::ChatCompletions, body);
    QVERIFY(!result.hasValue());
    QCOMPARE(result.error().code, QByteArrayLiteral("invalid_json"));
    QVERIFY(result.error().param.isEmpty());
}

void TestRequestInspector::invalidUtf8IsNamed()
{
    RequestInspector inspector;
    const auto result = inspector.inspect(
        Endpoint::ChatCompletions, QByteArray("{\"model\":\"chat\",\"messages\":[{\"role\":\"user\",\"content\":\"caf\xC3\x28\"}]}"));
    QVERIFY(!result.hasValue());
    QCOMPARE(result.error().code, QByteArrayLiteral("invalid_json"));
    QCOMPARE(result.error().message, QByteArrayLiteral("the request body is not valid UTF-8"));
}

void TestRequestInspector::nestingDepthIsBounded()
{
    RequestInspector inspector;
    const auto withMetadata = [](int levels, const QByteArray &inner = {}) {
        // The top-level object is one level; `levels` more inside "metadata".
        return QByteArray("{\"model\":\"chat\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"metadata\":" +
                          QByteArray(levels, '[') + inner + QByteArray(levels, ']') + "}");
    };
    const int limit = RequestInspector::MAX_NESTING;
    QVERIFY(inspector.inspect(Endpoint::ChatCompletions, withMetadata(limit - 1)).hasValue());
    const auto deep = inspector.inspect(Endpoint::ChatCompletions, withMetadata(limit));
    QVERIFY(!deep.hasValue());
    QCOMPARE(deep.error().code, QByteArrayLiteral("invalid_json"));
    QVERIFY(deep.error().message.contains("nested too deeply"));
    // 100,000 levels: refused without recursion.
    QVERIFY(!inspector.inspect(Endpoint::ChatCompletions, withMetadata(100000)).hasValue());
    // Brackets inside strings (escaped quotes included) are text, not nesting.
    const QByteArray brackets = "\"\\\"" + QByteArray(3 * limit, '[') + "\\\\\"";
    const auto text = inspector.inspect(Endpoint::ChatCompletions, withMetadata(1, brackets));
    QVERIFY2(text.hasValue(), text.hasValue() ? "" : text.error().message.constData());
}

void TestRequestInspector::bodyWithoutSpareCapacity()
{
    static const char raw[] = "{\"model\":\"chat\",\"messages\":[{\"role\":\"user\",\"content\":\"abcd\"}],\"stream\":true}";
    RequestInspector inspector;

    const QByteArray unowned = QByteArray::fromRawData(raw, sizeof(raw) - 1);
    QVERIFY(unowned.capacity() - unowned.size() < 64);
    const auto fromRaw = inspector.inspect(Endpoint::ChatCompletions, unowned);
    QVERIFY2(fromRaw.hasValue(), fromRaw.hasValue() ? "" : fromRaw.error().message.constData());
    QCOMPARE(fromRaw->model, QByteArrayLiteral("chat"));
    QCOMPARE(modelToken(unowned, fromRaw.value()), QByteArrayLiteral("\"chat\""));
    QVERIFY(fromRaw->stream);
    QCOMPARE(fromRaw->estimatedPromptTokens, 5);

    QByteArray exact(raw, sizeof(raw) - 1);
    exact.squeeze();
    const auto fromExact = inspector.inspect(Endpoint::ChatCompletions, exact);
    QVERIFY(fromExact.hasValue());
    QCOMPARE(modelToken(exact, fromExact.value()), QByteArrayLiteral("\"chat\""));

    // With room to spare the body is read in place; the answer is the same.
    QByteArray roomy;
    roomy.reserve(4096);
    roomy.append(raw);
    const auto fromRoomy = inspector.inspect(Endpoint::ChatCompletions, roomy);
    QVERIFY(fromRoomy.hasValue());
    QCOMPARE(fromRoomy->modelBegin, fromExact->modelBegin);
    QCOMPARE(fromRoomy->estimatedPromptTokens, 5);
}

void TestRequestInspector::inspectorIsReusable()
{
    RequestInspector inspector;
    QVERIFY(!inspector.inspect(Endpoint::ChatCompletions, QByteArrayLiteral("{broken")).hasValue());
    const auto result = inspector.inspect(Endpoint::ChatCompletions, chat(QByteArrayLiteral("\"max_tokens\":9")));
    QVERIFY(result.hasValue());
    QCOMPARE(result->maxTokens, 9);
}

void TestRequestInspector::usageFromOpenAiResponse()
{
    RequestInspector inspector;
    const QByteArray response = QByteArrayLiteral(
        "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":"
        "{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}],"
        "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":34,\"total_tokens\":46}}");
    RequestInspector::Usage usage;
    QVERIFY(inspector.extractUsage(response, usage));
    QCOMPARE(usage.input, qint64 {12});
    QCOMPARE(usage.output, qint64 {34});
    QVERIFY(!usage.choicesEmpty);
}

void TestRequestInspector::usageFromUsageOnlyChunk()
{
    RequestInspector inspector;
    const QByteArray chunk = QByteArrayLiteral("{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],"
                                               "\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3}}");
    RequestInspector::Usage usage;
    QVERIFY(inspector.extractUsage(chunk, usage));
    QCOMPARE(usage.input, qint64 {7});
    QCOMPARE(usage.output, qint64 {3});
    QVERIFY(usage.choicesEmpty);

    // A content chunk has no usage.
    RequestInspector::Usage none;
    QVERIFY(!inspector.extractUsage(
        QByteArrayLiteral("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}"), none));
    QCOMPARE(none.input, qint64 {-1});
    QCOMPARE(none.output, qint64 {-1});
    QVERIFY(!none.choicesEmpty);

    // Not JSON at all (e.g. the [DONE] sentinel).
    QVERIFY(!inspector.extractUsage(QByteArrayLiteral("[DONE]"), none));
}

void TestRequestInspector::usageNullIsNotUsage()
{
    RequestInspector inspector;
    RequestInspector::Usage usage;
    QVERIFY(!inspector.extractUsage(
        QByteArrayLiteral("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}],\"usage\":null}"), usage));
    QCOMPARE(usage.input, qint64 {-1});
    QCOMPARE(usage.output, qint64 {-1});
}

void TestRequestInspector::usageFromAnthropicEvents()
{
    RequestInspector inspector;
    const QByteArray start = QByteArrayLiteral(
        "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\","
        "\"content\":[],\"model\":\"claude\",\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}");
    RequestInspector::Usage usage;
    QVERIFY(inspector.extractUsage(start, usage));
    QCOMPARE(usage.input, qint64 {25});
    QCOMPARE(usage.output, qint64 {1});

    const QByteArray delta = QByteArrayLiteral("{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},"
                                               "\"usage\":{\"output_tokens\":15}}");
    QVERIFY(inspector.extractUsage(delta, usage));
    QCOMPARE(usage.input, qint64 {25}); // untouched: the delta carries only output
    QCOMPARE(usage.output, qint64 {15});

    const QByteArray message = QByteArrayLiteral("{\"id\":\"msg_1\",\"type\":\"message\",\"content\":[{\"type\":\"text\","
                                                 "\"text\":\"hi\"}],\"usage\":{\"input_tokens\":3,\"output_tokens\":4}}");
    RequestInspector::Usage complete;
    QVERIFY(inspector.extractUsage(message, complete));
    QCOMPARE(complete.input, qint64 {3});
    QCOMPARE(complete.output, qint64 {4});
}

void TestRequestInspector::usageCountsCachedPromptTokens()
{
    RequestInspector inspector;
    // OpenAI: cached tokens are part of prompt_tokens.
    RequestInspector::Usage openAi;
    QVERIFY(inspector.extractUsage(
        QByteArrayLiteral("{\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":20,"
                          "\"prompt_tokens_details\":{\"cached_tokens\":768,\"audio_tokens\":0}}}"),
        openAi));
    QCOMPARE(openAi.input, qint64 {1000});
    QCOMPARE(openAi.cachedInput, qint64 {768});
    QCOMPARE(openAi.output, qint64 {20});
    // Anthropic: cache reads and writes come beside input_tokens; input becomes the whole prompt.
    RequestInspector::Usage anthropic;
    QVERIFY(inspector.extractUsage(
        QByteArrayLiteral("{\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":10,"
                          "\"cache_creation_input_tokens\":100,\"cache_read_input_tokens\":900,\"output_tokens\":1}}}"),
        anthropic));
    QCOMPARE(anthropic.input, qint64 {1010});
    QCOMPARE(anthropic.cachedInput, qint64 {900});
    // Without cache fields nothing is reported as cached.
    RequestInspector::Usage plain;
    QVERIFY(inspector.extractUsage(QByteArrayLiteral("{\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1}}"), plain));
    QCOMPARE(plain.cachedInput, qint64 {-1});
}

QTEST_APPLESS_MAIN(TestRequestInspector)
#include "testrequestinspector.moc"
