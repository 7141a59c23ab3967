#include "faultupstream.h"

#include <QHostAddress>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

#include <sys/socket.h>

#include <array>
#include <utility>

namespace TestSupport {

namespace {

using Fault = FaultUpstream::Fault;

constexpr std::array<std::pair<Fault, const char *>, 9> SEGMENTS {{
    {Fault::Ok, "ok"},
    {Fault::ResetBeforeHeaders, "reset-before-headers"},
    {Fault::ResetMidStream, "reset-mid-stream"},
    {Fault::NoHeaders, "no-headers"},
    {Fault::StallBody, "stall-body"},
    {Fault::InvalidJson, "invalid-json"},
    {Fault::InvalidSse, "invalid-sse"},
    {Fault::RateLimited, "rate-limited"},
    {Fault::ServerError, "server-error"},
}};

// The first byte of a TLS record carrying a handshake (the ClientHello).
constexpr char TLS_HANDSHAKE = 0x16;

QByteArray chunk(const QByteArray &data)
{
    return QByteArray::number(data.size(), 16) + "\r\n" + data + "\r\n";
}

QByteArray openAiEvent(int index)
{
    return "data: {\"id\":\"fault\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok" +
           QByteArray::number(index) + " \"},\"finish_reason\":null}]}\n\n";
}

QByteArray head(int status, const char *reason, const QByteArray &contentType, const QByteArray &framing)
{
    return "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason + "\r\ncontent-type: " + contentType + "\r\n" +
           framing + "connection: close\r\n\r\n";
}

QByteArray complete(int status, const char *reason, const QByteArray &contentType, const QByteArray &body,
                    const QByteArray &extraHeaders = {})
{
    return head(status, reason, contentType, extraHeaders + "content-length: " + QByteArray::number(body.size()) + "\r\n") +
           body;
}

QByteArray openAiError(const QByteArray &message, const QByteArray &type)
{
    return "{\"error\":{\"message\":\"" + message + "\",\"type\":\"" + type + "\",\"param\":null,\"code\":null}}";
}

// The request's first path segment, or an empty array when the head is not complete.
struct ParsedRequest {
    bool complete = false;
    QByteArray segment;
    QByteArray body;
};

ParsedRequest parse(const QByteArray &bytes)
{
    ParsedRequest request;
    const qsizetype headEnd = bytes.indexOf("\r\n\r\n");
    if (headEnd < 0) {
        return request;
    }
    const QByteArray head = bytes.left(headEnd);
    qsizetype contentLength = 0;
    for (const QByteArray &line : head.split('\n')) {
        const QByteArray trimmed = line.trimmed();
        if (trimmed.toLower().startsWith("content-length:")) {
            contentLength = trimmed.mid(15).trimmed().toLongLong();
        }
    }
    if (bytes.size() < headEnd + 4 + contentLength) {
        return request;
    }
    request.complete = true;
    request.body = bytes.mid(headEnd + 4, contentLength);
    const QByteArray requestLine = head.left(head.indexOf('\r'));
    const QList<QByteArray> parts = requestLine.split(' ');
    if (parts.size() >= 2) {
        const QList<QByteArray> segments = parts[1].split('/');
        request.segment = segments.size() > 1 ? segments[1] : QByteArray();
    }
    return request;
}

} // namespace

FaultUpstream::FaultUpstream(QObject *parent)
    : QObject {parent}
    , m_server {new QTcpServer(this)}
{
    connect(m_server, &QTcpServer::newConnection, this, &FaultUpstream::onNewConnection);
}

FaultUpstream::~FaultUpstream() = default;

bool FaultUpstream::listen()
{
    // Storms open many connections at once; Qt's default backlog (50) would drop the
    // excess SYNs and turn them into connect timeouts the test did not inject.
    m_server->setListenBacklogSize(1024);
    m_server->setMaxPendingConnections(1024);
    return m_server->listen(QHostAddress::LocalHost, 0);
}

quint16 FaultUpstream::port() const
{
    return m_server->serverPort();
}

QByteArray FaultUpstream::pathSegment(Fault fault)
{
    for (const auto &[candidate, segment] : SEGMENTS) {
        if (candidate == fault) {
            return QByteArray(segment);
        }
    }
    return {};
}

QByteArray FaultUpstream::baseUrl(Fault fault) const
{
    return "http://127.0.0.1:" + QByteArray::number(port()) + '/' + pathSegment(fault) + "/v1";
}

QByteArray FaultUpstream::tlsUrl() const
{
    return "https://127.0.0.1:" + QByteArray::number(port()) + "/v1";
}

void FaultUpstream::onNewConnection()
{
    while (QTcpSocket *socket = m_server->nextPendingConnection()) {
        m_peers.insert(socket, Peer {});
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onReadyRead(socket); });
        connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
            m_peers.remove(socket);
            socket->deleteLater();
        });
    }
}

void FaultUpstream::onReadyRead(QTcpSocket *socket)
{
    auto peer = m_peers.find(socket);
    if (peer == m_peers.end()) {
        return;
    }
    peer->received += socket->readAll();
    if (peer->answered) {
        return; // a stalled or unanswered request: whatever else arrives is ignored
    }
    if (peer->received.startsWith(TLS_HANDSHAKE)) {
        peer->answered = true;
        ++m_tlsHandshakes;
        socket->write("this port does not speak TLS\r\n\r\n");
        socket->disconnectFromHost();
        return;
    }
    const ParsedRequest request = parse(peer->received);
    if (!request.complete) {
        return;
    }
    peer->answered = true;
    Fault fault = Fault::Ok;
    bool known = false;
    for (const auto &[candidate, segment] : SEGMENTS) {
        if (request.segment == segment) {
            fault = candidate;
            known = true;
        }
    }
    if (!known) {
        socket->write(complete(404, "Not Found", "application/json", openAiError("no such fault", "invalid_request_error")));
        socket->disconnectFromHost();
        return;
    }
    m_requests[static_cast<int>(fault)] += 1;
    answer(socket, fault, request.body.contains("\"stream\":true"));
}

void FaultUpstream::answer(QTcpSocket *socket, Fault fault, bool stream)
{
    const QByteArray chunked = "transfer-encoding: chunked\r\n";
    switch (fault) {
    case Fault::Ok:
        if (stream) {
            QByteArray out = head(200, "OK", "text/event-stream", chunked);
            for (int i = 0; i < 3; ++i) {
                out += chunk(openAiEvent(i));
            }
            out += chunk("data: [DONE]\n\n") + "0\r\n\r\n";
            socket->write(out);
        } else {
            socket->write(complete(200, "OK", "application/json",
                                   "{\"id\":\"fault\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":"
                                   "{\"role\":\"assistant\",\"content\":\"ok\"},\"finish_reason\":\"stop\"}],"
                                   "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}"));
        }
        socket->disconnectFromHost();
        return;
    case Fault::ResetBeforeHeaders:
        reset(socket);
        return;
    case Fault::ResetMidStream: {
        QByteArray out = head(200, "OK", "text/event-stream", chunked);
        for (int i = 0; i < RESET_AFTER_EVENTS; ++i) {
            out += chunk(openAiEvent(i));
        }
        socket->write(out);
        socket->flush();
        // The reset follows once the events had time to be read, as when a server dies
        // mid-generation: a reset arriving with them could discard them on the way.
        QTimer::singleShot(50, socket, [socket] { reset(socket); });
        return;
    }
    case Fault::NoHeaders:
        return; // silence until the peer gives up
    case Fault::StallBody:
        if (stream) {
            socket->write(head(200, "OK", "text/event-stream", chunked) + chunk(openAiEvent(0)));
        } else {
            socket->write(head(200, "OK", "application/json", "content-length: 1000\r\n") + "{\"id\":\"fault\",");
        }
        return;
    case Fault::InvalidJson:
        socket->write(complete(200, "OK", "application/json", "{\"id\":\"fault\",\"choices\":[{\"message\":{\"content\":"));
        socket->disconnectFromHost();
        return;
    case Fault::InvalidSse: {
        QByteArray out = head(200, "OK", "text/event-stream", chunked);
        out += chunk("this line is no SSE field\n\n");
        out += chunk("data: {not json at all\n\n");
        out += chunk(":only a comment\n\n") + "0\r\n\r\n";
        socket->write(out);
        socket->disconnectFromHost();
        return;
    }
    case Fault::RateLimited:
        socket->write(complete(429, "Too Many Requests", "application/json",
                               openAiError("Rate limit reached (injected fault)", "rate_limit_error"),
                               "retry-after: " + QByteArray::number(RETRY_AFTER_SECONDS) + "\r\n"));
        socket->disconnectFromHost();
        return;
    case Fault::ServerError:
        socket->write(complete(503, "Service Unavailable", "application/json",
                               openAiError("The server is overloaded (injected fault)", "server_error")));
        socket->disconnectFromHost();
        return;
    }
}

void FaultUpstream::reset(QTcpSocket *socket)
{
    // SO_LINGER with a zero timeout turns close() into a reset (RST) instead of a FIN.
    const linger abortive {1, 0};
    ::setsockopt(static_cast<int>(socket->socketDescriptor()), SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
    socket->abort();
}

} // namespace TestSupport
