// What a stream keeps of its answer: the text only, taken out of each forwarded event,
// for mid-stream resumption and for exact settle of streams that end without usage.
#include "proxy/streamcontinuation.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using Gateway::Proxy::StreamContinuation;

class TestStreamContinuation final : public QObject {
    Q_OBJECT

private slots:
    void keepsOpenAiDeltaTextOnly();
    void keepsAnthropicTextDeltasOnly();
    void keepsLegacyCompletionText();
    void ignoresEventsThatAreNotJson();
    void overflowEndsResumption();
    void continuationAppendsThePartialAnswer();
};

void TestStreamContinuation::keepsOpenAiDeltaTextOnly()
{
    StreamContinuation kept {StreamContinuation::Format::OpenAi};
    kept.observe(R"(data: {"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]})"
                 "\n\n");
    kept.observe(R"(data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hel"}}]})"
                 "\n\n");
    // Escapes and non-ASCII come out decoded, as the client's SDK would see them.
    kept.observe(R"(data: {"id":"c1","choices":[{"index":0,"delta":{"content":"lo \"w\u00f6rld\"\n"}}]})"
                 "\n\n");
    // A tool-call chunk carries no answer text.
    kept.observe(R"(data: {"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}}]})"
                 "\n\n");
    kept.observe(R"(data: {"id":"c1","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}})"
                 "\n\n");
    kept.observe("data: [DONE]\n\n");
    QVERIFY(kept.canResume());
    QCOMPARE(kept.partialText(), QByteArray("Hello \"w\xc3\xb6rld\"\n"));
}

void TestStreamContinuation::keepsAnthropicTextDeltasOnly()
{
    StreamContinuation kept {StreamContinuation::Format::Anthropic};
    kept.observe("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"content\":[]}}\n\n");
    kept.observe("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
                 "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n");
    kept.observe("event: ping\ndata: {\"type\":\"ping\"}\n\n");
    kept.observe("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
                 "\"delta\":{\"type\":\"text_delta\",\"text\":\"Bonjour\"}}\n\n");
    kept.observe("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,"
                 "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"a\\\"\"}}\n\n");
    kept.observe("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
                 "\"delta\":{\"type\":\"text_delta\",\"text\":\" !\"}}\n\n");
    kept.observe("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    QCOMPARE(kept.partialText(), QByteArray("Bonjour !"));
}

void TestStreamContinuation::keepsLegacyCompletionText()
{
    StreamContinuation kept {StreamContinuation::Format::OpenAi};
    kept.observe(R"(data: {"id":"x","object":"text_completion","choices":[{"index":0,"text":"Once"}]})"
                 "\n\n");
    kept.observe(R"(data: {"id":"x","object":"text_completion","choices":[{"index":0,"text":" upon"}]})"
                 "\n\n");
    QCOMPARE(kept.partialText(), QByteArray("Once upon"));
}

void TestStreamContinuation::ignoresEventsThatAreNotJson()
{
    StreamContinuation kept {StreamContinuation::Format::OpenAi};
    kept.observe(": keep-alive comment\n\n");
    kept.observe("data: {not json\n\n");
    kept.observe(R"(data: {"choices":[{"delta":{"content":"ok"}}]})"
                 "\n\n");
    QCOMPARE(kept.partialText(), QByteArray("ok"));
    QVERIFY(kept.canResume());
}

void TestStreamContinuation::overflowEndsResumption()
{
    StreamContinuation kept {StreamContinuation::Format::OpenAi};
    const QByteArray chunk = QByteArray(64 * 1024, 'a');
    const QByteArray event = R"(data: {"choices":[{"delta":{"content":")" + chunk + "\"}}]}\n\n";
    for (int i = 0; i < 8 * 16; ++i) { // 8 MiB of text exactly: still kept
        kept.observe(event);
    }
    QVERIFY(kept.canResume());
    QCOMPARE(kept.partialText().size(), qsizetype {8 * 1024 * 1024});
    kept.observe(R"(data: {"choices":[{"delta":{"content":"b"}}]})"
                 "\n\n");
    QVERIFY(!kept.canResume());
    QVERIFY(kept.partialText().isEmpty()); // released, not kept while useless
}

void TestStreamContinuation::continuationAppendsThePartialAnswer()
{
    StreamContinuation kept {StreamContinuation::Format::OpenAi};
    kept.observe(R"(data: {"choices":[{"delta":{"content":"The answer is"}}]})"
                 "\n\n");
    const QByteArray body = kept.continuationBody(R"({"model":"m","messages":[{"role":"user","content":"Q?"}]})", true);
    const QJsonObject request = QJsonDocument::fromJson(body).object();
    const QJsonArray messages = request.value(u"messages").toArray();
    QCOMPARE(messages.size(), 2);
    QCOMPARE(messages.at(1).toObject().value(u"role").toString(), QStringLiteral("assistant"));
    QCOMPARE(messages.at(1).toObject().value(u"content").toString(), QStringLiteral("The answer is"));
    QCOMPARE(request.value(u"continue_final_message").toBool(), true);
    QCOMPARE(request.value(u"add_generation_prompt").toBool(true), false);
}

QTEST_GUILESS_MAIN(TestStreamContinuation)
#include "teststreamcontinuation.moc"
