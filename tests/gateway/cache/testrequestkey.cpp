// The exact cache's key: equal for requests that differ only in key order, whitespace,
// number spelling or the fields that do not change the answer; different for anything
// else, for another route, scope or stream-ness. The semantic partition ignores only the
// last user message.

#include "cache/requestkey.h"

#include <QTest>

using Gateway::Cache::buildRequestKey;
using Gateway::Runtime::Endpoint;

class TestRequestKey final : public QObject {
    Q_OBJECT

private slots:
    void keyOrderWhitespaceAndNumbersDoNotMatter()
    {
        const auto a = buildRequestKey(Endpoint::ChatCompletions,
                                       R"({"model":"m","temperature":1.0,"messages":[{"role":"user","content":"Hi"}]})", "chat", "*");
        const auto b = buildRequestKey(Endpoint::ChatCompletions,
                                       "{ \"messages\" : [ {\"content\":\"Hi\", \"role\":\"user\"} ],\n \"temperature\": 1, \"model\":\"m\" }",
                                       "chat", "*");
        QVERIFY(a.valid);
        QCOMPARE(a.exact.size(), 32);
        QCOMPARE(a.exact, b.exact);
    }

    void ignoredFieldsDoNotMatter()
    {
        const auto plain = buildRequestKey(Endpoint::ChatCompletions, R"({"model":"m","messages":[]})", "chat", "*");
        const auto extra = buildRequestKey(Endpoint::ChatCompletions,
                                           R"({"model":"m","messages":[],"user":"u1","metadata":{"a":1},"store":true})", "chat", "*");
        QCOMPARE(plain.exact, extra.exact);
        QCOMPARE(Gateway::Cache::canonicalBody(R"({"b":1, "user":"x", "a":[1, 2.50]})"), QByteArray(R"({"a":[1,2.5],"b":1})"));
    }

    void answerChangingFieldsMatter()
    {
        const auto cold = buildRequestKey(Endpoint::ChatCompletions, R"({"model":"m","temperature":0,"messages":[]})", "chat", "*");
        const auto warm = buildRequestKey(Endpoint::ChatCompletions, R"({"model":"m","temperature":0.7,"messages":[]})", "chat", "*");
        QVERIFY(cold.exact != warm.exact);
        const auto otherText = buildRequestKey(Endpoint::ChatCompletions,
                                               R"({"model":"m","temperature":0,"messages":[{"role":"user","content":"x"}]})", "chat", "*");
        QVERIFY(cold.exact != otherText.exact);
    }

    void routeScopeEndpointAndStreamMatter()
    {
        const QByteArray body = R"({"model":"m","messages":[{"role":"user","content":"Hi"}]})";
        const QByteArray streamed = R"({"model":"m","stream":true,"messages":[{"role":"user","content":"Hi"}]})";
        const QByteArray withUsage =
            R"({"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Hi"}]})";
        const auto base = buildRequestKey(Endpoint::ChatCompletions, body, "chat", "key:a");
        QVERIFY(base.exact != buildRequestKey(Endpoint::ChatCompletions, body, "other", "key:a").exact);
        QVERIFY(base.exact != buildRequestKey(Endpoint::ChatCompletions, body, "chat", "key:b").exact);
        QVERIFY(base.exact != buildRequestKey(Endpoint::Messages, body, "chat", "key:a").exact);
        const auto stream = buildRequestKey(Endpoint::ChatCompletions, streamed, "chat", "key:a");
        QVERIFY(stream.stream);
        QVERIFY(base.exact != stream.exact);
        const auto usage = buildRequestKey(Endpoint::ChatCompletions, withUsage, "chat", "key:a");
        QVERIFY(usage.includeUsage);
        QVERIFY(usage.exact != stream.exact);
        // Length-prefixed: ("ab", "c") and ("a", "bc") never collide.
        QVERIFY(buildRequestKey(Endpoint::ChatCompletions, body, "ab", "c").exact !=
                buildRequestKey(Endpoint::ChatCompletions, body, "a", "bc").exact);
    }

    void contextIgnoresOnlyTheLastUserMessage()
    {
        const auto a = buildRequestKey(Endpoint::ChatCompletions,
                                       R"({"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is the capital of France?"}]})",
                                       "chat", "*");
        const auto b = buildRequestKey(Endpoint::ChatCompletions,
                                       R"({"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Capital of France?"}]}]})",
                                       "chat", "*");
        const auto otherSystem = buildRequestKey(Endpoint::ChatCompletions,
                                                 R"({"model":"m","messages":[{"role":"system","content":"Be long."},{"role":"user","content":"Capital of France?"}]})",
                                                 "chat", "*");
        QCOMPARE(a.lastUserText, QStringLiteral("What is the capital of France?"));
        QCOMPARE(b.lastUserText, QStringLiteral("Capital of France?"));
        QVERIFY(a.exact != b.exact);
        QCOMPARE(a.context, b.context);
        QVERIFY(a.context != otherSystem.context);
    }

    void invalidBodiesAreNotKeyed()
    {
        QVERIFY(!buildRequestKey(Endpoint::ChatCompletions, "not json", "chat", "*").valid);
        QVERIFY(!buildRequestKey(Endpoint::ChatCompletions, "[1,2]", "chat", "*").valid);
    }
};

QTEST_APPLESS_MAIN(TestRequestKey)
#include "testrequestkey.moc"
