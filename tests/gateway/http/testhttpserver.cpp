#include "http/server.h"
#include "testhttpclient.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>
#include <QTimer>

#include <atomic>
#include <memory>

using Gateway::Http::Exchange;
using Gateway::Http::HeaderList;
using Gateway::Http::Request;
using Gateway::Http::RequestHandler;
using Gateway::Http::ResponseWriter;
using Gateway::Http::Server;
using Gateway::Http::ServerLimits;
using TestSupport::TestHttpClient;

namespace {

// Exchanges live on worker threads; the test thread reads these.
std::atomic<int> g_deferredDestroyed {0};
std::atomic<int> g_hangingDestroyed {0};

// Answers from the worker's event loop after handle() has returned, as a proxied
// response would.
class DeferredExchange final : public QObject, public Exchange {
public:
    DeferredExchange(ResponseWriter &writer, QByteArray body)
        : m_writer {writer}
        , m_body {std::move(body)}
    {
        QTimer::singleShot(0, this, [this] {
            const QByteArray body = QByteArrayLiteral("later:") + m_body;
            m_writer.respond(200, {{QByteArrayLiteral("content-type"), QByteArrayLiteral("text/plain")}}, body);
        });
    }
    ~DeferredExchange() override { g_deferredDestroyed.fetch_add(1); }

private:
    ResponseWriter &m_writer;
    QByteArray m_body;
};

// Never answers: only a client disconnect (or server shutdown) ends it.
class HangingExchange final : public Exchange {
public:
    ~HangingExchange() override { g_hangingDestroyed.fetch_add(1); }
};

class TestHandler final : public RequestHandler {
public:
    std::unique_ptr<Exchange> handle(Request &&request, ResponseWriter &writer) override
    {
        if (request.path == "/echo") {
            const HeaderList headers {{QByteArrayLiteral("content-type"), QByteArrayLiteral("text/plain")},
                                      {QByteArrayLiteral("x-method"), request.method},
                                      {QByteArrayLiteral("x-path"), request.path},
                                      {QByteArrayLiteral("x-query"), request.query}};
            writer.respond(200, headers, request.body);
            return nullptr;
        }
        if (request.path == "/stream") {
            writer.writeHead(200, {{QByteArrayLiteral("content-type"), QByteArrayLiteral("text/plain")}}, -1);
            writer.writeBody("one,");
            writer.writeBody("two,");
            writer.writeBody("three");
            writer.finish();
            return nullptr;
        }
        if (request.path == "/later") {
            return std::make_unique<DeferredExchange>(writer, request.body);
        }
        if (request.path == "/hang") {
            return std::make_unique<HangingExchange>();
        }
        writer.respond(404, {}, "not found");
        return nullptr;
    }
};

std::unique_ptr<Server> startServer(const ServerLimits &limits, int threads = 1)
{
    auto server = std::make_unique<Server>(QStringLiteral("test-http"), limits,
                                           [] { return std::make_unique<TestHandler>(); }, threads);
    const auto port = server->listen(QHostAddress::LocalHost, 0);
    if (!port.hasValue()) {
        qWarning("listen failed: %s", qPrintable(port.error()));
        return nullptr;
    }
    return server;
}

QByteArray errorCode(const QByteArray &body)
{
    return QJsonDocument::fromJson(body)
        .object()
        .value(QStringLiteral("error"))
        .toObject()
        .value(QStringLiteral("code"))
        .toString()
        .toUtf8();
}

QByteArray postRaw(const QByteArray &path, const QByteArray &body)
{
    return "POST " + path + " HTTP/1.1\r\nHost: t\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" +
           body;
}

} // namespace

class TestHttpServer final : public QObject {
    Q_OBJECT

private slots:
    void init();

    void keepAliveServesSeveralRequestsOnOneConnection();
    void pipelinedRequestsAreAnsweredInOrder();
    void streamedResponseIsChunked();
    void deferredResponseDestroysItsExchange();
    void contentLengthWithTransferEncodingIs400AndCloses();
    void oversizedBodyIs413AndCloses();
    void oversizedHeadersAre431();
    void slowHeadersAre408();
    void idleKeepAliveConnectionIsClosed();
    void expectContinueGetsInterimResponse();
    void http10ResponseIsCloseDelimited();
    void clientDisconnectDestroysPendingExchange();
    void connectionLimitIs503();
};

void TestHttpServer::init()
{
    g_deferredDestroyed = 0;
    g_hangingDestroyed = 0;
}

void TestHttpServer::keepAliveServesSeveralRequestsOnOneConnection()
{
    auto server = startServer(ServerLimits {}, 2);
    QVERIFY(server);
    QCOMPARE(server->threadCount(), 2);
    TestHttpClient client {server->port()};
    QVERIFY(client.waitForConnected());
    const quint16 localPort = client.localPort();

    for (int i = 1; i <= 3; ++i) {
        client.post("/echo?i=" + QByteArray::number(i), "{\"n\":" + QByteArray::number(i) + '}');
        QVERIFY(client.waitForResponses(i, 3000));
        const auto response = client.responses().last();
        QCOMPARE(response.status, 200);
        QCOMPARE(response.body, "{\"n\":" + QByteArray::number(i) + '}');
        QCOMPARE(response.header("x-method"), QByteArrayLiteral("POST"));
        QCOMPARE(response.header("x-path"), QByteArrayLiteral("/echo"));
        QCOMPARE(response.header("x-query"), "i=" + QByteArray::number(i));
        QCOMPARE(response.header("content-length"), QByteArray::number(response.body.size()));
        QVERIFY(response.header("connection").isNull());
    }
    QVERIFY(client.isConnected());
    QCOMPARE(client.localPort(), localPort);
    QTRY_COMPARE(server->openConnections(), 1);
    QTRY_COMPARE(server->activeRequests(), 0);
    QVERIFY(client.parseError().isEmpty());
}

void TestHttpServer::pipelinedRequestsAreAnsweredInOrder()
{
    auto server = startServer(ServerLimits {});
    QVERIFY(server);
    TestHttpClient client {server->port()};
    QVERIFY(client.waitForConnected());
    // One write, three requests; the first is answered asynchronously.
    client.send(postRaw("/later", "A") + postRaw("/echo", "B") + "GET /stream HTTP/1.1\r\nHost: t\r\n\r\n" +
                postRaw("/later", "D"));
    QVERIFY(client.waitForResponses(4, 3000));
    const auto responses = client.responses();
    QCOMPARE(responses.size(), 4);
    QCOMPARE(responses[0].body, QByteArrayLiteral("later:A"));
    QCOMPARE(responses[1].body, QByteArrayLiteral("B"));
    QCOMPARE(responses[2].body, QByteArrayLiteral("one,two,three"));
    QCOMPARE(responses[3].body, QByteArrayLiteral("later:D"));
    for (const auto &response : responses) {
        QCOMPARE(response.status, 200);
    }
    QVERIFY(client.isConnected());
    QTRY_COMPARE(g_deferredDestroyed.load(), 2);
    QCOMPARE(server->openConnections(), 1);
}

void TestHttpServer::streamedResponseIsChunked()
{
    auto server = startServer(ServerLimits {});
    QVERIFY(server);
    TestHttpClient client {server->port()};
    QList<QByteArray> pieces;
    connect(&client, &TestHttpClient::bodyData, this, [&pieces](const QByteArray &data) { pieces.append(data); });
    client.get("/stream");
    QVERIFY(client.waitForResponses(1, 3000));
    const auto response = client.responses().first();
    QCOMPARE(response.status, 200);
    QCOMPARE(response.header("transfer-encoding"), QByteArrayLiteral("chunked"));
    QVERIFY(response.header("content-length").isNull());
    QCOMPARE(response.body, QByteArrayLiteral("one,two,three"));
    QCOMPARE(pieces.join(), QByteArrayLiteral("one,two,three"));
    QVERIFY(client.parseError().isEmpty());

    // The connection is reusable after the terminating chunk.
    client.get("/echo");
    QVERIFY(client.waitForResponses(2, 3000));
    QCOMPARE(client.responses().last().status, 200);
    QCOMPARE(server->openConnections(), 1);
}

void TestHttpServer::deferredResponseDestroysItsExchange()
{
    auto server = startServer(ServerLimits {});
    QVERIFY(server);
    TestHttpClient client {server->port()};
    client.post("/later", "payload");
    QVERIFY(client.waitForResponses(1, 3000));
    QCOMPARE(client.responses().first().status, 200);
    QCOMPARE(client.responses().first().body, QByteArrayLiteral("later:payload"));
    QTRY_COMPARE(g_deferredDestroyed.load(), 1);
    QTRY_COMPARE(server->activeRequests(), 0);

    // Unknown paths get the handler's own answer.
    client.get("/nowhere");
    QVERIFY(client.waitForResponses(2, 3000));
    QCOMPARE(client.responses().last().status, 404);
}

void TestHttpServer::contentLengthWithTransferEncodingIs400AndCloses()
{
    auto server = startServer(ServerLimits {});
    QVERIFY(server);
    TestHttpClient client {server->port()};
    client.send(QByteArrayLiteral("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
                                  "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
    QVERIFY(client.waitForResponses(1, 3000));
    const auto response = client.responses().first();
    QCOMPARE(response.status, 400);
    QCOMPARE(response.header("content-type"), QByteArrayLiteral("application/json"));
    QCOMPARE(response.header("connection"), QByteArrayLiteral("close"));
    QCOMPARE(errorCode(response.body), QByteArrayLiteral("bad_request"));
    QVERIFY(client.waitForDisconnected(3000));
    QTRY_COMPARE(server->openConnections(), 0);
}

void TestHttpServer::oversizedBodyIs413AndCloses()
{
    ServerLimits limits;
    limits.maxBodyBytes = 64;
    auto server = startServer(limits);
    QVERIFY(server);
    TestHttpClient client {server->port()};
    client.post("/echo", QByteArray(100, 'x'));
    QVERIFY(client.waitForResponses(1, 3000));
    const auto response = client.responses().first();
    QCOMPARE(response.status, 413);
    QCOMPARE(errorCode(response.body), QByteArrayLiteral("request_too_large"));
    QVERIFY(client.waitForDisconnected(3000));

    // At the limit is fine.
    TestHttpClient second {server->port()};
    second.post("/echo", QByteArray(64, 'y'));
    QVERIFY(second.waitForResponses(1, 3000));
    QCOMPARE(second.responses().first().status, 200);
    QCOMPARE(second.responses().first().body, QByteArray(64, 'y'));
}

void TestHttpServer::oversizedHeadersAre431()
{
    ServerLimits limits;
    limits.maxHeaderBytes = 1024;
    auto server = startServer(limits);
    QVERIFY(server);
    TestHttpClient client {server->port()};
    client.get("/echo", {{QByteArrayLiteral("X-Padding"), QByteArray(2000, 'p')}});
    QVERIFY(client.waitForResponses(1, 3000));
    const auto response = client.responses().first();
    QCOMPARE(response.status, 431);
    QCOMPARE(errorCode(response.body), QByteArrayLiteral("headers_too_large"));
    QVERIFY(client.waitForDisconnected(3000));
}

void TestHttpServer::slowHeadersAre408()
{
    ServerLimits limits;
    limits.headerTimeoutMs = 200;
    auto server = startServer(limits);
    QVERIFY(server);
    TestHttpClient client {server->port()};
    client.send(QByteArrayLiteral("GET /ec"));
    QVERIFY(client.waitForResponses(1, 3000));
    const auto response = client.responses().first();
    QCOMPARE(response.status, 408);
    QCOMPARE(errorCode(response.body), QByteArrayLiteral("request_timeout"));
    QVERIFY(client.waitForDisconnected(3000));
    QTRY_COMPARE(server->openConnections(), 0);
}

void TestHttpServer::idleKeepAliveConnectionIsClosed()
{
    ServerLimits limits;
    limits.idleTimeoutMs = 200;
    auto server = startServer(limits);
    QVERIFY(server);
    TestHttpClient client {server->port()};
    client.get("/echo");
    QVERIFY(client.waitForResponses(1, 3000));
    QCOMPARE(client.responses().first().status, 200);
    QVERIFY(client.waitForDisconnected(3000));
    QCOMPARE(client.responses().size(), 1); // closed silently, no error response
    QTRY_COMPARE(server->openConnections(), 0);
}

void TestHttpServer::expectContinueGetsInterimResponse()
{
    auto server = startServer(ServerLimits {});
    QVERIFY(server);
    TestHttpClient client {server->port()};
    client.send(QByteArrayLiteral("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
    QTRY_COMPARE(client.informationalResponses(), 1);
    QCOMPARE(client.responses().size(), 0);
    client.send(QByteArrayLiteral("hello"));
    QVERIFY(client.waitForResponses(1, 3000));
    QCOMPARE(client.responses().first().status, 200);
    QCOMPARE(client.responses().first().body, QByteArrayLiteral("hello"));
    QCOMPARE(client.informationalResponses(), 1);

    // A body sent together with the headers gets no interim response.
    client.send(QByteArrayLiteral("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nok"));
    QVERIFY(client.waitForResponses(2, 3000));
    QCOMPARE(client.responses().last().body, QByteArrayLiteral("ok"));
    QCOMPARE(client.informationalResponses(), 1);
}

void TestHttpServer::http10ResponseIsCloseDelimited()
{
    auto server = startServer(ServerLimits {});
    QVERIFY(server);

    TestHttpClient streaming {server->port()};
    streaming.send(QByteArrayLiteral("GET /stream HTTP/1.0\r\n\r\n"));
    QVERIFY(streaming.waitForResponses(1, 3000));
    const auto streamed = streaming.responses().first();
    QCOMPARE(streamed.status, 200);
    QVERIFY(streamed.header("transfer-encoding").isNull());
    QVERIFY(streamed.header("content-length").isNull());
    QCOMPARE(streamed.header("connection"), QByteArrayLiteral("close"));
    QCOMPARE(streamed.body, QByteArrayLiteral("one,two,three"));
    QVERIFY(streaming.waitForDisconnected(3000));

    TestHttpClient plain {server->port()};
    plain.send(QByteArrayLiteral("POST /echo HTTP/1.0\r\nContent-Length: 4\r\n\r\nping"));
    QVERIFY(plain.waitForResponses(1, 3000));
    const auto response = plain.responses().first();
    QCOMPARE(response.status, 200);
    QCOMPARE(response.header("content-length"), QByteArrayLiteral("4"));
    QCOMPARE(response.header("connection"), QByteArrayLiteral("close"));
    QCOMPARE(response.body, QByteArrayLiteral("ping"));
    QVERIFY(plain.waitForDisconnected(3000));
    QTRY_COMPARE(server->openConnections(), 0);
}

void TestHttpServer::clientDisconnectDestroysPendingExchange()
{
    auto server = startServer(ServerLimits {}, 2);
    QVERIFY(server);
    TestHttpClient client {server->port()};
    client.get("/hang");
    QTRY_COMPARE(server->activeRequests(), 1);
    QCOMPARE(g_hangingDestroyed.load(), 0);
    QCOMPARE(client.responses().size(), 0);

    client.close();
    QTRY_COMPARE(g_hangingDestroyed.load(), 1);
    QTRY_COMPARE(server->activeRequests(), 0);
    QTRY_COMPARE(server->openConnections(), 0);
}

void TestHttpServer::connectionLimitIs503()
{
    ServerLimits limits;
    limits.maxConnections = 1;
    auto server = startServer(limits, 2);
    QVERIFY(server);
    TestHttpClient first {server->port()};
    QVERIFY(first.waitForConnected());
    QTRY_COMPARE(server->openConnections(), 1);

    // Refused as soon as it is accepted, before it sends anything.
    TestHttpClient second {server->port()};
    QVERIFY(second.waitForResponses(1, 3000));
    const auto refused = second.responses().first();
    QCOMPARE(refused.status, 503);
    QCOMPARE(errorCode(refused.body), QByteArrayLiteral("too_many_connections"));
    QVERIFY(second.waitForDisconnected(3000));
    QTRY_COMPARE(server->openConnections(), 1);

    // The admitted connection is unaffected.
    first.get("/echo");
    QVERIFY(first.waitForResponses(1, 3000));
    QCOMPARE(first.responses().first().status, 200);
}

QTEST_GUILESS_MAIN(TestHttpServer)
#include "testhttpserver.moc"
