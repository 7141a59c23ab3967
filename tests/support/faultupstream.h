#pragma once

#include <QByteArray>
#include <QHash>
#include <QObject>

class QTcpServer;
class QTcpSocket;

namespace TestSupport {

// An upstream that misbehaves on purpose, for fault-injection tests over real sockets.
// One listener on 127.0.0.1 serves every fault: the first path segment of a request
// picks it, so each provider of a test policy points at its own fault through its
// base_url (`baseUrl(Fault::ResetMidStream)` is "http://127.0.0.1:PORT/reset-mid-stream/v1").
// A TLS ClientHello on the same port (an `https://` base_url, see tlsUrl()) is answered
// with plain-text garbage, as a misconfigured port or a middlebox would.
//
// Lives on the thread that created it (the test's): tests wait by processing events, so
// it answers while they wait. Every answer that is not a stall closes its connection
// afterwards, so no keep-alive connection outlives a test's fault.
class FaultUpstream final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FaultUpstream)

public:
    enum class Fault {
        Ok,                 // a valid answer: JSON, or SSE with [DONE] when the request streams
        ResetBeforeHeaders, // the request is read, then the connection is reset (RST)
        ResetMidStream,     // 200 and RESET_AFTER_EVENTS SSE events, then RST
        NoHeaders,          // the request is read and never answered
        StallBody,          // 200 and part of the body, then silence (the connection stays open)
        InvalidJson,        // 200 application/json whose body is cut-off JSON
        InvalidSse,         // 200 text/event-stream of lines that are not SSE fields, non-JSON data, no [DONE]
        RateLimited,        // 429 with Retry-After: RETRY_AFTER_SECONDS and an OpenAI-shaped error
        ServerError,        // 503 with an OpenAI-shaped error
    };
    static constexpr int RESET_AFTER_EVENTS = 2;
    static constexpr int RETRY_AFTER_SECONDS = 7;

    explicit FaultUpstream(QObject *parent = nullptr);
    ~FaultUpstream() override;

    // Binds 127.0.0.1 on a free port.
    bool listen();
    quint16 port() const;

    static QByteArray pathSegment(Fault fault);
    QByteArray baseUrl(Fault fault) const;
    // "https://127.0.0.1:PORT/v1": the TLS handshake fails.
    QByteArray tlsUrl() const;

    // Requests received per fault, and TLS handshakes refused.
    int requests(Fault fault) const { return m_requests.value(static_cast<int>(fault)); }
    int tlsHandshakes() const { return m_tlsHandshakes; }
    // Connections currently open on this side.
    int openConnections() const { return static_cast<int>(m_peers.size()); }

private:
    struct Peer {
        QByteArray received; // bytes of the request so far
        bool answered = false;
    };

    void onNewConnection();
    void onReadyRead(QTcpSocket *socket);
    void answer(QTcpSocket *socket, Fault fault, bool stream);
    static void reset(QTcpSocket *socket);

    QTcpServer *m_server;
    QHash<QTcpSocket *, Peer> m_peers; // open connections
    QHash<int, int> m_requests; // by Fault
    int m_tlsHandshakes = 0;
};

} // namespace TestSupport
