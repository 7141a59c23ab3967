// The MCP gateway over real sockets, against two in-test MCP upstreams (replicas of one
// server): JSON and event-stream answers pass through (an event reaches the client while
// the upstream still holds the rest), a session sticks to the replica that opened it,
// DELETE ends it, an unknown session is a 404, a key without access is refused with a
// 403 naming the server, tool allow-lists narrow tools/list and refuse tools/call, an
// unreachable upstream is a 502 naming the server, and all of it is counted in /metrics.

#include "gatewayfixture.h"
#include "mcpupstream.h"
#include "testhttpclient.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpServer>
#include <QTest>

#include <memory>

using TestSupport::McpUpstream;
using TestSupport::TestHttpClient;

namespace {

const QByteArray ALICE = "sk-alice-0000000001";   // every server, every tool
const QByteArray BOB = "sk-bob-00000000000002";   // only the "other" server
const QByteArray CAROL = "sk-carol-000000000003"; // files, read_file and stream_progress only
const QByteArray UPSTREAM_SECRET = "Bearer upstream-secret-token";
const QByteArray ACCEPT_BOTH = "application/json, text/event-stream";

QByteArray rpc(int id, const QByteArray &method, const QByteArray &params = "{}")
{
    return "{\"jsonrpc\":\"2.0\",\"id\":" + QByteArray::number(id) + ",\"method\":\"" + method + "\",\"params\":" + params +
           '}';
}

QByteArray initialize(int id)
{
    return rpc(id, "initialize",
               R"({"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}})");
}

QByteArray callTool(int id, const QByteArray &tool)
{
    return rpc(id, "tools/call", "{\"name\":\"" + tool + "\",\"arguments\":{\"path\":\"/etc/secret-argument\"}}");
}

QJsonObject json(const QByteArray &body)
{
    return QJsonDocument::fromJson(body).object();
}

} // namespace

class TestMcpGateway final : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void jsonAnswersAndSessionsStickToTheirReplica();
    void upstreamCredentialsReplaceTheClients();
    void unknownSessionIsNotFound();
    void deleteEndsTheSession();
    void aSessionBelongsToTheKeyThatOpenedIt();
    void keyWithoutAccessIsRefusedNamingTheServer();
    void toolAllowListNarrowsListAndRefusesCalls();
    void eventStreamAnswersAreNarrowedAndCounted();
    void eventStreamAnswerIsForwardedAsItArrives();
    void getStreamIsProxiedIncrementallyAndCancelled();
    void unreachableUpstreamIsBadGatewayNamingTheServer();
    void unknownServerAndMethodAreRefused();
    void everythingIsCounted();

private:
    TestHttpClient::Response send(const QByteArray &method, const QByteArray &path, const QByteArray &key,
                                  const QByteArray &body, const QByteArray &session = {},
                                  const QByteArray &accept = ACCEPT_BOTH);
    // Opens a session through the gateway; returns its id.
    QByteArray open(const QByteArray &key);
    QByteArray metrics();

    std::unique_ptr<McpUpstream> m_a;
    std::unique_ptr<McpUpstream> m_b;
    std::unique_ptr<McpUpstream> m_other;
    std::unique_ptr<Gateway::GatewayRuntime> m_gateway;
    quint16 m_closedPort = 0;
};

void TestMcpGateway::init()
{
    m_a = std::make_unique<McpUpstream>("replica-a");
    m_b = std::make_unique<McpUpstream>("replica-b");
    m_other = std::make_unique<McpUpstream>("other");
    QVERIFY(m_a->listen() && m_b->listen() && m_other->listen());
    // A port nothing listens on: bound, then closed.
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        m_closedPort = probe.serverPort();
    }
    const QByteArray yaml = "providers: []\nroutes: []\n"
                            "mcp_servers:\n"
                            "  - name: files\n"
                            "    urls: [\"" + m_a->url() + "\", \"" + m_b->url() + "\"]\n"
                            "    headers: {Authorization: \"" + UPSTREAM_SECRET + "\"}\n"
                            "    timeout_ms: 20000\n"
                            "  - name: other\n"
                            "    urls: [\"" + m_other->url() + "\"]\n"
                            "  - name: down\n"
                            "    urls: [\"http://127.0.0.1:" + QByteArray::number(m_closedPort) + "/mcp\"]\n"
                            "virtual_keys:\n"
                            "  - {name: alice, key: " + ALICE + "}\n"
                            "  - {name: bob, key: " + BOB + ", mcp_servers: [other]}\n"
                            "  - {name: carol, key: " + CAROL + ", mcp_servers: [files], "
                            "mcp_tools: {files: [read_file, stream_progress]}}\n";
    m_gateway = TestSupport::startGateway(yaml, 1);
    QVERIFY(m_gateway);
}

void TestMcpGateway::cleanup()
{
    m_gateway.reset();
    m_a.reset();
    m_b.reset();
    m_other.reset();
}

TestHttpClient::Response TestMcpGateway::send(const QByteArray &method, const QByteArray &path, const QByteArray &key,
                                              const QByteArray &body, const QByteArray &session, const QByteArray &accept)
{
    TestHttpClient client {m_gateway->port()};
    TestHttpClient::HeaderList headers {{"authorization", "Bearer " + key}, {"accept", accept},
                                        {"mcp-protocol-version", "2025-06-18"}};
    if (!session.isEmpty()) {
        headers.push_back({"mcp-session-id", session});
    }
    client.request(method, path, body, headers);
    if (!client.waitForResponses(1, 20000)) {
        return {};
    }
    return client.responses().constFirst();
}

QByteArray TestMcpGateway::open(const QByteArray &key)
{
    const auto response = send("POST", "/mcp/files", key, initialize(1));
    if (response.status != 200) {
        qWarning() << "initialize:" << response.status << response.body;
        return {};
    }
    return response.header("mcp-session-id");
}

QByteArray TestMcpGateway::metrics()
{
    TestHttpClient client {m_gateway->port()};
    client.get("/metrics");
    return client.waitForResponses(1, 20000) ? client.responses().constFirst().body : QByteArray();
}

void TestMcpGateway::jsonAnswersAndSessionsStickToTheirReplica()
{
    // One worker: new sessions alternate over the replicas, so one opens on each.
    const QByteArray first = open(ALICE);
    const QByteArray second = open(ALICE);
    QVERIFY(!first.isEmpty() && !second.isEmpty());
    QVERIFY(m_a->liveSessions().contains(first) != m_a->liveSessions().contains(second));
    for (const QByteArray &session : {first, second}) {
        McpUpstream &owner = m_a->liveSessions().contains(session) ? *m_a : *m_b;
        for (int i = 0; i < 4; ++i) {
            const auto response = send("POST", "/mcp/files", ALICE, callTool(10 + i, "read_file"), session);
            QCOMPARE(response.status, 200);
            QVERIFY(response.header("content-type").startsWith("application/json"));
            const QJsonObject answer = json(response.body);
            QCOMPARE(answer[u"id"_qs].toInt(), 10 + i);
            QCOMPARE(answer[u"result"_qs][u"content"_qs][0][u"text"_qs].toString(),
                     QStringLiteral("read_file by ") + QString::fromUtf8(owner.name()));
        }
    }
    // Had any request reached the other replica, it would have answered 404.
    QCOMPARE(m_a->requests("unknown-session") + m_b->requests("unknown-session"), 0);
    QCOMPARE(m_a->requests("tools/call"), 4);
    QCOMPARE(m_b->requests("tools/call"), 4);
}

void TestMcpGateway::upstreamCredentialsReplaceTheClients()
{
    const QByteArray session = open(ALICE);
    QVERIFY(!session.isEmpty());
    McpUpstream &owner = m_a->liveSessions().contains(session) ? *m_a : *m_b;
    QCOMPARE(send("POST", "/mcp/files", ALICE, rpc(2, "tools/list"), session).status, 200);
    QCOMPARE(owner.lastHeader("authorization"), UPSTREAM_SECRET);
    QCOMPARE(owner.lastHeader("x-api-key"), QByteArray());
    QCOMPARE(owner.lastHeader("mcp-session-id"), session);
    QCOMPARE(owner.lastHeader("mcp-protocol-version"), QByteArray("2025-06-18"));
    QCOMPARE(owner.lastHeader("accept"), ACCEPT_BOTH);
}

void TestMcpGateway::unknownSessionIsNotFound()
{
    QVERIFY(!open(ALICE).isEmpty());
    const int before = m_a->totalRequests() + m_b->totalRequests();
    const auto response = send("POST", "/mcp/files", ALICE, rpc(3, "tools/list"), "made-up-session");
    QCOMPARE(response.status, 404);
    const QJsonObject error = json(response.body)[u"error"_qs].toObject();
    QCOMPARE(error[u"code"_qs].toInt(), -32001);
    QVERIFY2(error[u"message"_qs].toString().contains(u"made-up-session"), qPrintable(error[u"message"_qs].toString()));
    QCOMPARE(json(response.body)[u"id"_qs].toInt(), 3);
    QCOMPARE(m_a->totalRequests() + m_b->totalRequests(), before);
}

void TestMcpGateway::deleteEndsTheSession()
{
    const QByteArray session = open(ALICE);
    QVERIFY(!session.isEmpty());
    McpUpstream &owner = m_a->liveSessions().contains(session) ? *m_a : *m_b;
    QCOMPARE(send("DELETE", "/mcp/files", ALICE, {}, session).status, 200);
    QCOMPARE(owner.requests("DELETE"), 1);
    QVERIFY(!owner.liveSessions().contains(session));
    const int before = owner.totalRequests();
    const auto after = send("POST", "/mcp/files", ALICE, rpc(4, "tools/list"), session);
    QCOMPARE(after.status, 404);
    QCOMPARE(owner.totalRequests(), before); // the gateway knew, the upstream was not asked
    QCOMPARE(send("DELETE", "/mcp/files", ALICE, {}).status, 400); // no session named
}

void TestMcpGateway::aSessionBelongsToTheKeyThatOpenedIt()
{
    const QByteArray session = open(ALICE);
    QVERIFY(!session.isEmpty());
    QCOMPARE(send("POST", "/mcp/files", CAROL, rpc(5, "tools/list"), session).status, 404);
    QCOMPARE(send("POST", "/mcp/files", ALICE, rpc(6, "tools/list"), session).status, 200);
}

void TestMcpGateway::keyWithoutAccessIsRefusedNamingTheServer()
{
    const auto response = send("POST", "/mcp/files", BOB, initialize(7));
    QCOMPARE(response.status, 403);
    const QJsonObject body = json(response.body);
    QCOMPARE(body[u"jsonrpc"_qs].toString(), u"2.0"_qs);
    QCOMPARE(body[u"id"_qs].toInt(), 7);
    const QString message = body[u"error"_qs][u"message"_qs].toString();
    QVERIFY2(message.contains(u"'files'") && message.contains(u"'bob'"), qPrintable(message));
    QCOMPARE(m_a->totalRequests() + m_b->totalRequests(), 0);
    // Bob's own server works, and a request without a key is a 401 in the same shape.
    QCOMPARE(send("POST", "/mcp/other", BOB, initialize(8)).status, 200);
    const auto anonymous = send("POST", "/mcp/files", "not-a-key", initialize(9));
    QCOMPARE(anonymous.status, 401);
    QCOMPARE(json(anonymous.body)[u"error"_qs][u"code"_qs].toInt(), -32004);
}

void TestMcpGateway::toolAllowListNarrowsListAndRefusesCalls()
{
    const QByteArray session = open(CAROL);
    QVERIFY(!session.isEmpty());
    const auto listed = send("POST", "/mcp/files", CAROL, rpc(11, "tools/list"), session);
    QCOMPARE(listed.status, 200);
    QStringList names;
    for (const QJsonValue &tool : json(listed.body)[u"result"_qs][u"tools"_qs].toArray()) {
        names.append(tool[u"name"_qs].toString());
    }
    QCOMPARE(names, QStringList({u"read_file"_qs, u"stream_progress"_qs}));
    // Alice sees everything the server has.
    const QByteArray aliceSession = open(ALICE);
    QCOMPARE(json(send("POST", "/mcp/files", ALICE, rpc(12, "tools/list"), aliceSession).body)[u"result"_qs][u"tools"_qs]
                 .toArray()
                 .size(),
             4);

    const int callsBefore = m_a->requests("tools/call") + m_b->requests("tools/call");
    const auto refused = send("POST", "/mcp/files", CAROL, callTool(13, "delete_file"), session);
    QCOMPARE(refused.status, 200);
    const QJsonObject answer = json(refused.body);
    QCOMPARE(answer[u"id"_qs].toInt(), 13);
    QCOMPARE(answer[u"error"_qs][u"code"_qs].toInt(), -32602);
    QVERIFY2(answer[u"error"_qs][u"message"_qs].toString().contains(u"'delete_file'"), refused.body.constData());
    QCOMPARE(m_a->requests("tools/call") + m_b->requests("tools/call"), callsBefore);
    QCOMPARE(send("POST", "/mcp/files", CAROL, callTool(14, "read_file"), session).status, 200);
    QCOMPARE(m_a->requests("tools/call") + m_b->requests("tools/call"), callsBefore + 1);
}

void TestMcpGateway::eventStreamAnswersAreNarrowedAndCounted()
{
    m_a->setEventStreamAnswers(true);
    m_b->setEventStreamAnswers(true);
    const QByteArray session = open(CAROL);
    QVERIFY(!session.isEmpty());
    const auto listed = send("POST", "/mcp/files", CAROL, rpc(41, "tools/list"), session);
    QCOMPARE(listed.status, 200);
    QVERIFY(listed.header("content-type").startsWith("text/event-stream"));
    const QList<QByteArray> events = listed.sseDataLines();
    QCOMPARE(events.size(), 1);
    QStringList names;
    for (const QJsonValue &tool : json(events[0])[u"result"_qs][u"tools"_qs].toArray()) {
        names.append(tool[u"name"_qs].toString());
    }
    QCOMPARE(names, QStringList({u"read_file"_qs, u"stream_progress"_qs}));
    QCOMPARE(listed.sseEventNames(), QList<QByteArray> {"message"}); // the event's other fields are kept
    // Alice's list is not narrowed: the upstream's event passes as it is.
    const QByteArray aliceSession = open(ALICE);
    const auto full = send("POST", "/mcp/files", ALICE, rpc(42, "tools/list"), aliceSession);
    QCOMPARE(json(full.sseDataLines().value(0))[u"result"_qs][u"tools"_qs].toArray().size(), 4);
    // A tool call answered as an event stream is counted by its outcome too.
    QCOMPARE(send("POST", "/mcp/files", CAROL, callTool(43, "read_file"), session).status, 200);
    QVERIFY(metrics().contains(R"(switchyard_mcp_tool_calls_total{server="files",tool="read_file",outcome="ok"} 1)"));
}

void TestMcpGateway::eventStreamAnswerIsForwardedAsItArrives()
{
    const QByteArray session = open(ALICE);
    QVERIFY(!session.isEmpty());
    McpUpstream &owner = m_a->liveSessions().contains(session) ? *m_a : *m_b;
    TestHttpClient client {m_gateway->port()};
    client.post("/mcp/files", callTool(21, "stream_progress"),
                {{"authorization", "Bearer " + ALICE}, {"accept", ACCEPT_BOTH}, {"mcp-session-id", session}});
    // The progress event arrives while the upstream still holds the result.
    QTRY_VERIFY_WITH_TIMEOUT(client.bodySoFar().contains("notifications/progress"), 20000);
    QCOMPARE(client.responses().size(), 0);
    QCOMPARE(client.currentResponse().status, 200);
    QVERIFY(client.currentResponse().header("content-type").startsWith("text/event-stream"));
    QVERIFY(!client.bodySoFar().contains("stream_progress by"));
    owner.releaseStreams();
    QVERIFY(client.waitForResponses(1, 20000));
    const QList<QByteArray> events = client.responses().constFirst().sseDataLines();
    QCOMPARE(events.size(), 2);
    QCOMPARE(json(events[1])[u"result"_qs][u"content"_qs][0][u"text"_qs].toString(),
             QStringLiteral("stream_progress by ") + QString::fromUtf8(owner.name()));
}

void TestMcpGateway::getStreamIsProxiedIncrementallyAndCancelled()
{
    const QByteArray session = open(ALICE);
    QVERIFY(!session.isEmpty());
    McpUpstream &owner = m_a->liveSessions().contains(session) ? *m_a : *m_b;
    auto client = std::make_unique<TestHttpClient>(m_gateway->port());
    client->get("/mcp/files", {{"authorization", "Bearer " + ALICE}, {"accept", "text/event-stream"},
                               {"mcp-session-id", session}, {"last-event-id", "7"}});
    QTRY_VERIFY_WITH_TIMEOUT(client->bodySoFar().contains(QByteArray("stream opened on " + owner.name())), 20000);
    QCOMPARE(owner.lastHeader("last-event-id"), QByteArray("7"));
    QCOMPARE(owner.openStreams(), 1);
    owner.pushToStreams(R"({"jsonrpc":"2.0","method":"notifications/tools/list_changed"})");
    QTRY_VERIFY_WITH_TIMEOUT(client->bodySoFar().contains("list_changed"), 20000);
    QCOMPARE(client->responses().size(), 0); // still open
    // The client leaves: the gateway closes its upstream stream.
    client->close();
    client.reset();
    QTRY_COMPARE_WITH_TIMEOUT(owner.openStreams(), 0, 20000);
}

void TestMcpGateway::unreachableUpstreamIsBadGatewayNamingTheServer()
{
    const auto response = send("POST", "/mcp/down", ALICE, callTool(31, "read_file"));
    QCOMPARE(response.status, 502);
    const QJsonObject body = json(response.body);
    QCOMPARE(body[u"id"_qs].toInt(), 31);
    QCOMPARE(body[u"error"_qs][u"code"_qs].toInt(), -32002);
    const QString message = body[u"error"_qs][u"message"_qs].toString();
    QVERIFY2(message.contains(u"MCP server 'down'"), qPrintable(message));
}

void TestMcpGateway::unknownServerAndMethodAreRefused()
{
    const auto unknown = send("POST", "/mcp/nope", ALICE, initialize(1));
    QCOMPARE(unknown.status, 404);
    QVERIFY(json(unknown.body)[u"error"_qs][u"message"_qs].toString().contains(u"files, other, down"));
    const auto put = send("PUT", "/mcp/files", ALICE, initialize(1));
    QCOMPARE(put.status, 405);
    QCOMPARE(put.header("allow"), QByteArray("GET, POST, DELETE"));
    const auto garbage = send("POST", "/mcp/files", ALICE, "{not json");
    QCOMPARE(garbage.status, 400);
    QCOMPARE(json(garbage.body)[u"error"_qs][u"code"_qs].toInt(), -32700);
}

void TestMcpGateway::everythingIsCounted()
{
    const QByteArray session = open(CAROL);
    QVERIFY(!session.isEmpty());
    QCOMPARE(send("POST", "/mcp/files", CAROL, callTool(1, "read_file"), session).status, 200);
    QCOMPARE(send("POST", "/mcp/files", CAROL, callTool(2, "read_file"), session).status, 200);
    QCOMPARE(send("POST", "/mcp/files", CAROL, callTool(3, "delete_file"), session).status, 200);
    QCOMPARE(send("POST", "/mcp/files", BOB, initialize(4)).status, 403);
    QCOMPARE(send("POST", "/mcp/down", ALICE, callTool(5, "read_file")).status, 502);
    const QByteArray text = metrics();
    for (const QByteArray &line : {
             QByteArray(R"(switchyard_mcp_requests_total{server="files",method="initialize",status="200"} 1)"),
             QByteArray(R"(switchyard_mcp_requests_total{server="files",method="tools/call",status="200"} 3)"),
             QByteArray(R"(switchyard_mcp_requests_total{server="files",method="initialize",status="403"} 1)"),
             QByteArray(R"(switchyard_mcp_requests_total{server="down",method="tools/call",status="502"} 1)"),
             QByteArray(R"(switchyard_mcp_tool_calls_total{server="files",tool="read_file",outcome="ok"} 2)"),
             QByteArray(R"(switchyard_mcp_tool_calls_total{server="files",tool="delete_file",outcome="denied"} 1)"),
             QByteArray(R"(switchyard_mcp_tool_calls_total{server="down",tool="read_file",outcome="upstream_error"} 1)"),
             QByteArray(R"(switchyard_mcp_sessions{server="files"} 1)"),
         }) {
        QVERIFY2(text.contains(QByteArray(line + '\n')), line.constData());
    }
    QCOMPARE(send("DELETE", "/mcp/files", CAROL, {}, session).status, 200);
    QVERIFY(metrics().contains(R"(switchyard_mcp_sessions{server="files"} 0)"));
}

QTEST_GUILESS_MAIN(TestMcpGateway)
#include "testmcpgateway.moc"
