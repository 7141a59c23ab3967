// The JSON-RPC reading and rewriting of the MCP gateway, as pure functions: what a POST
// body holds, error responses, tools/list narrowing (single answers and batches, only
// the ids asked for), tool-call outcomes, and SSE events rewritten with their fields kept.

#include "mcp/jsonrpcmessages.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace Gateway::Mcp;

namespace {

ToolFilter only(const QStringList &tools)
{
    ToolFilter filter;
    filter.restrictTo(tools);
    return filter;
}

const QByteArray LIST_ANSWER =
    R"({"jsonrpc":"2.0","id":7,"result":{"tools":[{"name":"read"},{"name":"write"},{"name":"rm"}],"nextCursor":"c2"}})";

QStringList toolNames(const QJsonObject &message)
{
    QStringList names;
    for (const QJsonValue &tool : message[u"result"_qs][u"tools"_qs].toArray()) {
        names.append(tool[u"name"_qs].toString());
    }
    return names;
}

} // namespace

class TestJsonRpcMessages final : public QObject {
    Q_OBJECT

private slots:
    void readsMessagesAndBatches() const
    {
        const InboundBody single = parseInbound(R"({"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"read"}})");
        QVERIFY(single.valid && !single.batch);
        QCOMPARE(single.methodLabel(), QByteArray("tools/call"));
        QCOMPARE(single.messages[0].tool, QByteArray("read"));
        QCOMPARE(single.messages[0].id, QJsonValue(u"a"_qs));
        const InboundBody batch =
            parseInbound(R"([{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":2,"result":{}}])");
        QVERIFY(batch.valid && batch.batch);
        QCOMPARE(batch.methodLabel(), QByteArray("batch"));
        QVERIFY(!batch.messages[0].hasId());
        QCOMPARE(parseInbound(R"({"jsonrpc":"2.0","id":2,"result":{}})").methodLabel(), QByteArray("response"));
        QVERIFY(parseInbound(R"({"jsonrpc":"2.0","id":1,"method":"initialize"})").isInitialize());
        QVERIFY(!parseInbound("{broken").valid);
        QVERIFY(!parseInbound("[]").valid);
        QVERIFY(!parseInbound("[1,2]").valid);
        QCOMPARE(parseInbound("{broken").methodLabel(), QByteArray("invalid"));
    }

    void errorResponsesKeepTheId() const
    {
        const QJsonObject error = QJsonDocument::fromJson(rpcError(QJsonValue(5), -32602, "tool 'x'")).object();
        QCOMPARE(error[u"jsonrpc"_qs].toString(), u"2.0"_qs);
        QCOMPARE(error[u"id"_qs].toInt(), 5);
        QCOMPARE(error[u"error"_qs][u"code"_qs].toInt(), -32602);
        QCOMPARE(error[u"error"_qs][u"message"_qs].toString(), u"tool 'x'"_qs);
        QVERIFY(QJsonDocument::fromJson(rpcError(QJsonValue(), -1, "m")).object()[u"id"_qs].isNull());
    }

    void narrowsOnlyTheListsAskedFor() const
    {
        QByteArray answer = LIST_ANSWER;
        QVERIFY(filterToolLists(answer, {QJsonValue(7)}, only({u"read"_qs, u"rm"_qs})));
        const QJsonObject narrowed = QJsonDocument::fromJson(answer).object();
        QCOMPARE(toolNames(narrowed), QStringList({u"read"_qs, u"rm"_qs}));
        QCOMPARE(narrowed[u"result"_qs][u"nextCursor"_qs].toString(), u"c2"_qs); // the rest kept
        // Another id, no restriction, or nothing to remove: untouched, byte for byte.
        answer = LIST_ANSWER;
        QVERIFY(!filterToolLists(answer, {QJsonValue(8)}, only({u"read"_qs})));
        QVERIFY(!filterToolLists(answer, {QJsonValue(7)}, ToolFilter {}));
        QVERIFY(!filterToolLists(answer, {QJsonValue(7)}, only({u"read"_qs, u"write"_qs, u"rm"_qs, u"more"_qs})));
        QCOMPARE(answer, LIST_ANSWER);
        // A batch of answers: only the tools/list one changes.
        QByteArray batch = "[" + LIST_ANSWER + R"(,{"jsonrpc":"2.0","id":8,"result":{"tools":[{"name":"write"}]}}])";
        QVERIFY(filterToolLists(batch, {QJsonValue(7)}, only({u"read"_qs})));
        const QJsonArray answers = QJsonDocument::fromJson(batch).array();
        QCOMPARE(toolNames(answers[0].toObject()), QStringList({u"read"_qs}));
        QCOMPARE(toolNames(answers[1].toObject()), QStringList({u"write"_qs}));
    }

    void readsToolCallOutcomes() const
    {
        QCOMPARE(toolCallOutcome(R"({"jsonrpc":"2.0","id":3,"result":{"content":[]}})", QJsonValue(3)), QByteArray("ok"));
        QCOMPARE(toolCallOutcome(R"({"jsonrpc":"2.0","id":3,"result":{"isError":true}})", QJsonValue(3)), QByteArray("error"));
        QCOMPARE(toolCallOutcome(R"({"jsonrpc":"2.0","id":3,"error":{"code":-1,"message":"m"}})", QJsonValue(3)),
                 QByteArray("error"));
        QCOMPARE(toolCallOutcome(R"({"jsonrpc":"2.0","id":4,"result":{}})", QJsonValue(3)), QByteArray());
        QCOMPARE(toolCallOutcome(R"({"jsonrpc":"2.0","method":"notifications/progress"})", QJsonValue(3)), QByteArray());
    }

    void rewritesAnEventsDataKeepingItsFields() const
    {
        const QByteArray event = "id: 42\r\nevent: message\r\ndata: {\"a\":\r\ndata: 1}\r\nretry: 100\r\n\r\n";
        QCOMPARE(withSseData(event, "{\"b\":2}"),
                 QByteArray("id: 42\nevent: message\ndata: {\"b\":2}\nretry: 100\n\n"));
        QCOMPARE(withSseData("data: x\n\n", "y"), QByteArray("data: y\n\n"));
    }
};

QTEST_APPLESS_MAIN(TestJsonRpcMessages)
#include "testjsonrpcmessages.moc"
