// The gateway's built-in HTTP/1.1 upstream client (gateway/upstream/curlmulti.h,
// plaintransfer.cpp) against libcurl, which it replaces for plain http:// upstreams: every
// scenario runs once on each path against the same scripted server, and the request bytes
// the server received and the outcome the observer saw must be identical.

#include "upstream/curlmulti.h"

#include <QElapsedTimer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>

#include <functional>
#include <memory>

using namespace Gateway;
using namespace Gateway::Upstream;

namespace {

// One scripted answer: bytes to send once a whole request has arrived, then what to do.
struct Reply {
    QByteArray bytes;
    bool closeAfter = false;
    int sendFirst = -1; // > 0: send only this many bytes, the rest never (then close)
    bool dribble = false; // one byte per write, a few milliseconds apart: every split
};

// A raw TCP server: records every request (head and Content-Length body) and answers
// with the next scripted reply. Counts connections.
class ScriptedServer final : public QObject {
public:
    ScriptedServer()
    {
        QObject::connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection()) {
                ++connections;
                QObject::connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onReadable(socket); });
                QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            }
        });
        QVERIFY(m_server.listen(QHostAddress::LocalHost));
    }
    quint16 port() const { return m_server.serverPort(); }

    QList<Reply> replies;
    QList<QByteArray> requests;
    int connections = 0;
    bool closeIdleAfterReply = false; // the server's keep-alive timeout, made instant

private:
    void onReadable(QTcpSocket *socket)
    {
        QByteArray &buffer = m_buffers[socket];
        buffer += socket->readAll();
        for (;;) {
            const qsizetype headEnd = buffer.indexOf("\r\n\r\n");
            if (headEnd < 0) {
                return;
            }
            qsizetype length = 0;
            for (const QByteArray &line : buffer.first(headEnd).split('\n')) {
                if (line.toLower().startsWith("content-length:")) {
                    length = line.mid(15).trimmed().toLongLong();
                }
            }
            if (buffer.size() < headEnd + 4 + length) {
                return;
            }
            requests.push_back(buffer.first(headEnd + 4 + length));
            buffer.remove(0, headEnd + 4 + length);
            const Reply reply = replies.isEmpty() ? Reply {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"} : replies.takeFirst();
            if (reply.sendFirst >= 0) {
                socket->write(reply.bytes.first(reply.sendFirst));
                socket->flush();
                socket->disconnectFromHost();
                return;
            }
            if (reply.dribble) {
                dribble(socket, reply.bytes, reply.closeAfter || closeIdleAfterReply);
                return;
            }
            socket->write(reply.bytes);
            socket->flush();
            if (reply.closeAfter || closeIdleAfterReply) {
                socket->disconnectFromHost();
                return;
            }
        }
    }

    // The response one byte at a time, so the client sees it split at every boundary.
    void dribble(QTcpSocket *socket, QByteArray bytes, bool closeAfter)
    {
        if (bytes.isEmpty()) {
            if (closeAfter) {
                socket->disconnectFromHost();
            }
            return;
        }
        socket->write(bytes.first(1));
        socket->flush();
        QTimer::singleShot(2, socket, [this, socket, rest = bytes.sliced(1), closeAfter] { dribble(socket, rest, closeAfter); });
    }

    QTcpServer m_server;
    QHash<QTcpSocket *, QByteArray> m_buffers;
};

// What an observer saw.
struct Outcome {
    int headStatus = -1;
    Http::HeaderList headers;
    QByteArray body;
    TransferResult result;
    bool done = false;

    QByteArray describe() const
    {
        QByteArray text = "head " + QByteArray::number(headStatus) + " status " + QByteArray::number(result.status) +
                          " error " + QByteArray::number(static_cast<int>(result.error)) + " '" + result.errorText +
                          "' headers";
        for (const auto &header : headers) {
            text += " [" + header.name + "=" + header.value + "]";
        }
        return text + " body '" + body + "'";
    }
};

class Recorder final : public TransferObserver {
public:
    explicit Recorder(Outcome &outcome)
        : m_outcome {outcome}
    {
    }
    std::function<bool(Recorder &, QByteArrayView)> onData; // optional: decides what to return
    std::unique_ptr<Transfer> transfer;

    void onResponseHead(int status, const Http::HeaderList &headers) override
    {
        m_outcome.headStatus = status;
        m_outcome.headers = headers;
    }
    bool onResponseData(QByteArrayView data) override
    {
        m_outcome.body += data.toByteArray();
        return onData ? onData(*this, data) : true;
    }
    void onComplete(const TransferResult &result) override
    {
        m_outcome.result = result;
        m_outcome.done = true;
    }

private:
    Outcome &m_outcome;
};

UpstreamRequest chatRequest(quint16 port, QByteArray path = "/v1/chat/completions")
{
    UpstreamRequest request;
    request.url = "http://127.0.0.1:" + QByteArray::number(port) + path;
    request.headers = {"Content-Type: application/json", "Authorization: Bearer sk-test", "x-switchyard-request-id: r-1"};
    request.body = R"({"model":"m","messages":[{"role":"user","content":"hi"}]})";
    request.firstByteTimeoutMs = 5000;
    request.idleTimeoutMs = 5000;
    return request;
}

bool waitFor(const std::function<bool()> &condition, int timeoutMs = 5000)
{
    QElapsedTimer timer;
    timer.start();
    while (!condition() && timer.elapsed() < timeoutMs) {
        QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
    }
    return condition();
}

} // namespace

class TestPlainClient final : public QObject {
    Q_OBJECT

private:
    // Runs `scenario` with the built-in client and with curl, each against a fresh server
    // set up by `script`; compares the outcomes and the request bytes.
    struct Run {
        QList<Outcome> outcomes;
        QList<QByteArray> requests;
        int connections = 0;
        quint64 plainTransfers = 0;
    };
    using Script = std::function<void(ScriptedServer &)>;
    using Scenario = std::function<void(CurlMulti &, ScriptedServer &, QList<Outcome> &)>;

    static Run runOnce(bool plain, const Script &script, const Scenario &scenario)
    {
        Run run;
        ScriptedServer server;
        script(server);
        CurlMulti multi;
        multi.setPlainClientEnabled(plain);
        scenario(multi, server, run.outcomes);
        // Let the server see everything before it is compared.
        QTest::qWait(20);
        // Each run has its own server: its port is the one expected difference.
        for (QByteArray request : server.requests) {
            const QByteArray host = "127.0.0.1:" + QByteArray::number(server.port());
            run.requests.push_back(request.replace(host, QByteArrayLiteral("127.0.0.1:PORT")));
        }
        run.connections = server.connections;
        run.plainTransfers = multi.plainTransfers();
        return run;
    }

    static void compare(const Script &script, const Scenario &scenario, bool compareConnections = true)
    {
        const Run plain = runOnce(true, script, scenario);
        const Run curl = runOnce(false, script, scenario);
        QVERIFY(plain.plainTransfers > 0);
        QCOMPARE(curl.plainTransfers, quint64(0));
        QCOMPARE(plain.outcomes.size(), curl.outcomes.size());
        for (qsizetype i = 0; i < plain.outcomes.size(); ++i) {
            QVERIFY2(plain.outcomes[i].done, plain.outcomes[i].describe().constData());
            QCOMPARE(plain.outcomes[i].describe(), curl.outcomes[i].describe());
        }
        QCOMPARE(plain.requests, curl.requests);
        if (compareConnections) {
            QCOMPARE(plain.connections, curl.connections);
        }
    }

    // One request, waited for.
    static Scenario single(std::function<void(UpstreamRequest &)> edit = {},
                           std::function<bool(Recorder &, QByteArrayView)> onData = {})
    {
        return [edit, onData](CurlMulti &multi, ScriptedServer &server, QList<Outcome> &outcomes) {
            outcomes.push_back({});
            Outcome &outcome = outcomes.back();
            Recorder recorder {outcome};
            recorder.onData = onData;
            UpstreamRequest request = chatRequest(server.port());
            if (edit) {
                edit(request);
            }
            recorder.transfer = multi.start(std::move(request), recorder);
            multi.kick();
            QVERIFY(waitFor([&] { return outcome.done; }));
        };
    }

    static Script replies(QList<Reply> list, bool closeIdle = false)
    {
        return [list, closeIdle](ScriptedServer &server) {
            server.replies = list;
            server.closeIdleAfterReply = closeIdle;
        };
    }

private slots:
    void contentLengthResponse()
    {
        compare(replies({{"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nx-ratelimit-remaining-requests: 7\r\n"
                          "Server: x\r\nContent-Length: 11\r\n\r\n{\"ok\":true}"}}),
                single());
    }

    void requestBytesWithAcceptGetAndQuery()
    {
        compare(replies({{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"}}), single([](UpstreamRequest &request) {
                    request.headers.push_back("Accept: text/event-stream");
                    request.headers.push_back("X-Removed:");
                }));
        compare(replies({{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"}}), single([](UpstreamRequest &request) {
                    request.method = "GET";
                    request.url += "?a=1&b=x%20y";
                    request.headers = {"x-switchyard-request-id: r-2"};
                }));
        // No Content-Type from the caller: curl's default is sent.
        compare(replies({{"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"}}), single([](UpstreamRequest &request) {
                    request.headers = {};
                }));
    }

    void chunkedResponseWithExtensionsAndTrailer()
    {
        compare(replies({{"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "5;ext=1\r\ndata:\r\n3\r\n abc\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n"}}),
                single());
    }

    void closeDelimitedResponse()
    {
        compare(replies({{"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nuntil the end",
                          true}}),
                single());
        compare(replies({{"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nold", true}}), single());
    }

    void interimAndBodilessResponses()
    {
        compare(replies({{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Type: a/b\r\nContent-Length: 1\r\n\r\nx"}}),
                single());
        compare(replies({{"HTTP/1.1 204 No Content\r\nContent-Type: a/b\r\n\r\n"}}), single());
        compare(replies({{"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nContent-Length: 4\r\n\r\nslow"}}), single());
    }

    void splitAtEveryByte()
    {
        // http-parser frames what arrives; heads, chunk size lines, trailers and interim
        // responses cut anywhere must give the same outcome.
        Reply chunked {"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nx-ratelimit-limit-tokens: 90\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n5;ext=\"q\"\r\ndata:\r\n3\r\n abc\r\n0\r\nX-Trailer: t\r\n\r\n"};
        chunked.dribble = true;
        compare(replies({chunked}), single());
        Reply interim {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nRetry-After:  7 \r\nContent-Length: 4\r\n\r\nbody"};
        interim.dribble = true;
        compare(replies({interim}), single());
    }

    void keepAliveDecisions()
    {
        const Scenario twice = [](CurlMulti &multi, ScriptedServer &server, QList<Outcome> &outcomes) {
            single()(multi, server, outcomes);
            single()(multi, server, outcomes);
        };
        // HTTP/1.1 saying close is not reused. (Not compared: a kept HTTP/1.0 connection,
        // on which curl then sends HTTP/1.0 requests and the built-in client HTTP/1.1.)
        compare(replies({{"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na"},
                         {"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nb"}}),
                twice);
    }

    void keepAliveReusesOneConnection()
    {
        const Scenario twice = [](CurlMulti &multi, ScriptedServer &server, QList<Outcome> &outcomes) {
            single()(multi, server, outcomes);
            single()(multi, server, outcomes);
            single()(multi, server, outcomes);
        };
        compare(replies({{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"},
                         {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nb\r\n0\r\n\r\n"},
                         {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nc"}}),
                twice);
    }

    void closedIdleConnectionIsNotAnError()
    {
        // The server closes every connection right after its answer (its keep-alive
        // timeout, instantly): the next request must still succeed.
        const Scenario twice = [](CurlMulti &multi, ScriptedServer &server, QList<Outcome> &outcomes) {
            single()(multi, server, outcomes);
            QTest::qWait(50);
            single()(multi, server, outcomes);
        };
        compare(replies({{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"}, {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"}},
                        true),
                twice);
    }

    void failures()
    {
        // Refused: nothing listens on the port any more.
        quint16 closedPort = 0;
        {
            QTcpServer probe;
            QVERIFY(probe.listen(QHostAddress::LocalHost));
            closedPort = probe.serverPort();
        }
        compare([](ScriptedServer &) {}, single([closedPort](UpstreamRequest &request) {
                    request.url = "http://127.0.0.1:" + QByteArray::number(closedPort) + "/v1/chat/completions";
                }));
        // Cut off in the body, and no answer at all.
        compare(replies({{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789", false, 48}}), single());
        compare(replies({{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n", false, 52}}), single());
        compare(replies({{"HTTP/1.1 200 OK\r\n\r\n", false, 0}}), single());
        // The observer stops the transfer.
        compare(replies({{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabcde"}}),
                single({}, [](Recorder &, QByteArrayView) { return false; }));
    }

    void pauseAndResume()
    {
        // The observer pauses after the first bytes and resumes a little later.
        const auto onData = [](Recorder &recorder, QByteArrayView) {
            recorder.transfer->pauseReceiving();
            Transfer *transfer = recorder.transfer.get();
            QTimer::singleShot(30, [transfer] { transfer->resumeReceiving(); });
            return true;
        };
        const Scenario paused = [onData](CurlMulti &multi, ScriptedServer &server, QList<Outcome> &outcomes) {
            single({}, onData)(multi, server, outcomes);
        };
        QByteArray chunked = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (int i = 0; i < 5; ++i) {
            chunked += "6\r\nchunk" + QByteArray::number(i) + "\r\n";
        }
        chunked += "0\r\n\r\n";
        compare(replies({{chunked}}), paused);
    }

    void cancelClosesTheConnection()
    {
        for (const bool plain : {true, false}) {
            ScriptedServer server;
            server.replies = {{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial", false, -1}};
            CurlMulti multi;
            multi.setPlainClientEnabled(plain);
            Outcome outcome;
            Recorder recorder {outcome};
            recorder.transfer = multi.start(chatRequest(server.port()), recorder);
            multi.kick();
            QVERIFY(waitFor([&] { return outcome.body == "partial"; }));
            recorder.transfer.reset(); // the client went away
            QVERIFY(!outcome.done);
            // A new request cannot reuse the cancelled connection.
            QList<Outcome> next;
            single()(multi, server, next);
            QCOMPARE(server.connections, 2);
        }
    }
};

QTEST_GUILESS_MAIN(TestPlainClient)
#include "testplainclient.moc"
