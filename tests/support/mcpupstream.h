#pragma once

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QObject>
#include <QSet>
#include <QStringList>

class QTcpServer;
class QTcpSocket;

namespace TestSupport {

// A small MCP server over the streamable HTTP transport for tests, on 127.0.0.1 (real
// sockets, one request per connection). It issues a session id on `initialize`
// ("<name>-<n>") and answers 404 to any session it did not issue, so a request that
// reaches the wrong replica shows. Methods:
//   initialize, notifications/* (202), tools/list (application/json), ping
//   tools/call: "stream_progress" answers as text/event-stream: a progress notification
//     at once, then the result only after releaseStreams(); any other tool answers JSON
//     {"content":[{"type":"text","text":"<tool> by <name>"}]}
//   GET: an event stream that sends one notification at once and stays open
//   DELETE: ends the session (200), 404 when unknown
// Lives on the test's thread; tests wait by processing events.
class McpUpstream final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(McpUpstream)

public:
    explicit McpUpstream(QByteArray name, QStringList tools = {}, QObject *parent = nullptr);
    ~McpUpstream() override;

    bool listen();
    quint16 port() const;
    QByteArray url() const; // http://127.0.0.1:PORT/mcp

    const QByteArray &name() const { return m_name; }
    // Requests by JSON-RPC method ("GET" and "DELETE" for those verbs).
    int requests(const QByteArray &method) const { return m_requests.value(method); }
    int totalRequests() const;
    const QSet<QByteArray> &liveSessions() const { return m_sessions; }
    // Header values (lower-case names) of the last request.
    QByteArray lastHeader(const QByteArray &lowerName) const { return m_lastHeaders.value(lowerName); }
    // Event streams (GET and stream_progress answers) open now.
    int openStreams() const { return static_cast<int>(m_streams.size()); }

    // Answers tools/list and tools/call as a one-event text/event-stream instead of JSON
    // (when the client accepts it), as SDK servers do by default.
    void setEventStreamAnswers(bool enabled) { m_eventStreamAnswers = enabled; }

    // Sends the held result of every stream_progress call and closes those streams.
    void releaseStreams();
    // Sends `data` as one event on every GET stream.
    void pushToStreams(const QByteArray &data);

private:
    struct Pending {
        QByteArray bytes;
    };
    struct Stream {
        bool get = false;
        QByteArray heldResult; // stream_progress: the final message
    };

    void onNewConnection();
    void onReadyRead(QTcpSocket *socket);
    void answer(QTcpSocket *socket, const QByteArray &method, const QHash<QByteArray, QByteArray> &headers,
                const QByteArray &body);
    void answerPost(QTcpSocket *socket, const QHash<QByteArray, QByteArray> &headers, const QByteArray &body);
    static void respond(QTcpSocket *socket, int status, const QByteArray &contentType, const QByteArray &body,
                        const QByteArray &extraHeaders = {});
    static void startStream(QTcpSocket *socket, const QByteArray &extraHeaders = {});
    // JSON, or one event when event-stream answers are on and the client accepts them.
    void respondMessage(QTcpSocket *socket, const QHash<QByteArray, QByteArray> &headers, const QByteArray &message);

    QByteArray m_name;
    QStringList m_tools;
    QTcpServer *m_server;
    QHash<QTcpSocket *, Pending> m_pending;
    QHash<QTcpSocket *, Stream> m_streams;
    QHash<QByteArray, int> m_requests;
    QHash<QByteArray, QByteArray> m_lastHeaders;
    QSet<QByteArray> m_sessions;
    int m_nextSession = 1;
    int m_nextEvent = 1;
    bool m_eventStreamAnswers = false;
};

} // namespace TestSupport
