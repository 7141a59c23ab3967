// MCP sessions across two real `switchyard --headless` processes sharing one real
// redis-server: a session opened through the first gateway (on whichever replica its
// round robin picked) is routed by the second to the same replica, DELETE through the
// second ends it for the first, and each replica only ever sees its own sessions.

#include "mcpupstream.h"
#include "redisserver.h"
#include "switchyardprocess.h"
#include "testhttpclient.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using TestSupport::McpUpstream;
using TestSupport::RedisServer;
using TestSupport::SwitchyardProcess;
using TestSupport::TestHttpClient;

namespace {

const QString BINARY = QStringLiteral(SWITCHYARD_BINARY);
const QByteArray KEY = "sk-mcp-shared-000001";

} // namespace

class TestMcpSharedSessions final : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void sessionsAreStickyAcrossGateways();

private:
    TestHttpClient::Response send(quint16 port, const QByteArray &method, const QByteArray &body,
                                  const QByteArray &session = {});
    QByteArray open(quint16 port);

    QTemporaryDir m_dir;
    RedisServer m_redis;
    std::unique_ptr<McpUpstream> m_a;
    std::unique_ptr<McpUpstream> m_b;
    std::unique_ptr<SwitchyardProcess> m_first;
    std::unique_ptr<SwitchyardProcess> m_second;
    quint16 m_firstPort = 0;
    quint16 m_secondPort = 0;
};

void TestMcpSharedSessions::initTestCase()
{
    if (RedisServer::executable().isEmpty()) {
        QSKIP("redis-server is not installed (packaging/install-deps.sh installs it)");
    }
    QVERIFY(m_dir.isValid());
    QVERIFY2(m_redis.start(), qPrintable(m_redis.error()));
    m_a = std::make_unique<McpUpstream>("replica-a");
    m_b = std::make_unique<McpUpstream>("replica-b");
    QVERIFY(m_a->listen() && m_b->listen());
    const QByteArray yaml = "gateway:\n  listen: 127.0.0.1:0\n  threads: 1\n"
                            "providers: []\nroutes: []\n"
                            "mcp_servers:\n"
                            "  - name: files\n"
                            "    urls: [\"" + m_a->url() + "\", \"" + m_b->url() + "\"]\n"
                            "virtual_keys:\n"
                            "  - {name: agent, key: " + KEY + "}\n";
    const QString config = m_dir.filePath(QStringLiteral("policy.yaml"));
    QFile file {config};
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(yaml);
    file.close();
    const QStringList arguments {QStringLiteral("--config"), config, QStringLiteral("--redis"), m_redis.url(),
                                 // Generous: the test machine runs other suites meanwhile.
                                 QStringLiteral("--redis-timeout-ms"), QStringLiteral("1000")};
    m_first = std::make_unique<SwitchyardProcess>(BINARY);
    m_second = std::make_unique<SwitchyardProcess>(BINARY);
    m_first->start(m_dir.filePath(QStringLiteral("first")), arguments);
    m_second->start(m_dir.filePath(QStringLiteral("second")), arguments);
    m_firstPort = m_first->waitUntilListening();
    m_secondPort = m_second->waitUntilListening();
    QVERIFY2(m_firstPort != 0, m_first->standardError().constData());
    QVERIFY2(m_secondPort != 0, m_second->standardError().constData());
}

void TestMcpSharedSessions::cleanupTestCase()
{
    m_first.reset();
    m_second.reset();
}

TestHttpClient::Response TestMcpSharedSessions::send(quint16 port, const QByteArray &method, const QByteArray &body,
                                                     const QByteArray &session)
{
    TestHttpClient client {port};
    TestHttpClient::HeaderList headers {{"authorization", "Bearer " + KEY},
                                        {"accept", "application/json, text/event-stream"}};
    if (!session.isEmpty()) {
        headers.push_back({"mcp-session-id", session});
    }
    client.request(method, "/mcp/files", body, headers);
    // The upstreams live on this thread: waiting processes their events too.
    if (!client.waitForResponses(1, 30000)) {
        return {};
    }
    return client.responses().constFirst();
}

QByteArray TestMcpSharedSessions::open(quint16 port)
{
    const auto response = send(port, "POST",
                               R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",)"
                               R"("capabilities":{},"clientInfo":{"name":"test","version":"1"}}})");
    return response.status == 200 ? response.header("mcp-session-id") : QByteArray();
}

void TestMcpSharedSessions::sessionsAreStickyAcrossGateways()
{
    // The first gateway opens two sessions; its round robin puts one on each replica.
    const QByteArray first = open(m_firstPort);
    const QByteArray second = open(m_firstPort);
    QVERIFY(!first.isEmpty() && !second.isEmpty());
    QVERIFY(m_a->liveSessions().contains(first) != m_a->liveSessions().contains(second));
    const QByteArray call = R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"read_file","arguments":{}}})";
    // The second gateway never saw either session; it finds both owners in Redis.
    for (const QByteArray &session : {first, second}) {
        const McpUpstream &owner = m_a->liveSessions().contains(session) ? *m_a : *m_b;
        for (quint16 port : {m_secondPort, m_firstPort, m_secondPort}) {
            const auto response = send(port, "POST", call, session);
            QCOMPARE(response.status, 200);
            const QString text = QJsonDocument::fromJson(response.body)
                                     .object()[u"result"_qs][u"content"_qs][0][u"text"_qs]
                                     .toString();
            QCOMPARE(text, QStringLiteral("read_file by ") + QString::fromUtf8(owner.name()));
        }
    }
    QCOMPARE(m_a->requests("unknown-session") + m_b->requests("unknown-session"), 0);
    QCOMPARE(m_a->requests("tools/call"), 3);
    QCOMPARE(m_b->requests("tools/call"), 3);

    // Ended through the second gateway, the session is gone for the first one too.
    QCOMPARE(send(m_secondPort, "DELETE", {}, first).status, 200);
    const int before = m_a->totalRequests() + m_b->totalRequests();
    QCOMPARE(send(m_firstPort, "POST", call, first).status, 404);
    QCOMPARE(m_a->totalRequests() + m_b->totalRequests(), before);
    QCOMPARE(send(m_firstPort, "POST", call, second).status, 200);
}

QTEST_GUILESS_MAIN(TestMcpSharedSessions)
#include "testmcpsharedsessions.moc"
