#include "connection.h"

#include "connectionsweeper.h"
#include "statustext.h"
#include "streamsocket.h"

#include <cstdio>
#include "util/jsonwriter.h"


namespace Gateway::Http {

namespace {

// Read at most this much from the kernel ahead of the parser; it bounds the memory a
// pipelining or flooding client can make us hold while a response is in progress.
constexpr qint64 READ_BUFFER_BYTES = 256 * 1024;

QByteArray errorBody(int status, QByteArrayView message)
{
    QByteArray body = "{\"error\":{\"message\":";
    Json::appendString(body, message);
    body += ",\"type\":\"invalid_request_error\",\"code\":";
    switch (status) {
    case 408: body += "\"request_timeout\""; break;
    case 413: body += "\"request_too_large\""; break;
    case 431: body += "\"headers_too_large\""; break;
    case 501: body += "\"not_implemented\""; break;
    case 503: body += "\"too_many_connections\""; break;
    default: body += "\"bad_request\""; break;
    }
    body += "}}";
    return body;
}

} // namespace

Connection::Connection(qintptr socketDescriptor, RequestHandler &handler, const ServerLimits &limits,
                       ServerCounters &counters, ConnectionSweeper &sweeper, QObject *parent)
    : QObject {parent}
    , m_socket {new StreamSocket(socketDescriptor, this)}
    , m_handler {handler}
    , m_limits {limits}
    , m_counters {counters}
    , m_parser {limits.maxBodyBytes, limits.maxHeaderBytes}
    , m_sweeper {sweeper}
{
    m_sweeper.add(this);
    m_counters.openConnections.fetch_add(1, std::memory_order_relaxed);
    m_socket->setReadBufferSize(READ_BUFFER_BYTES);
    if (m_limits.tls) {
        m_socket->startServerTls(m_limits.tls);
    }
    connect(m_socket, &StreamSocket::readyRead, this, &Connection::onReadyRead);
    connect(m_socket, &StreamSocket::bytesWritten, this, &Connection::onBytesWritten);
    // Queued: a disconnect noticed inside write() must not destroy the exchange that
    // is calling us.
    connect(m_socket, &StreamSocket::disconnected, this, &Connection::onDisconnected, Qt::QueuedConnection);

    if (m_counters.openConnections.load(std::memory_order_relaxed) > m_limits.maxConnections) {
        rejectRequest(503, "the gateway has reached its connection limit");
        return;
    }
    armDeadline(Deadline::Idle);
    if (m_socket->bytesAvailable() > 0) {
        onReadyRead();
    }
}

Connection::~Connection()
{
    // The exchange goes first: its destructor cancels upstream work that may still
    // reference this writer.
    m_exchange.reset();
    if (m_responding) {
        m_counters.activeRequests.fetch_sub(1, std::memory_order_relaxed);
    }
    m_counters.openConnections.fetch_sub(1, std::memory_order_relaxed);
    m_sweeper.remove(this);
}

void Connection::closeWhenIdle()
{
    m_closeWhenIdle = true;
    if (!m_responding && !m_closing) {
        m_closing = true;
        m_socket->disconnectFromHost();
    }
}

void Connection::armDeadline(Deadline deadline)
{
    m_deadline = deadline;
    int timeoutMs = 0;
    switch (deadline) {
    case Deadline::None: return;
    case Deadline::Head: timeoutMs = m_limits.headerTimeoutMs; break;
    case Deadline::Body: timeoutMs = m_limits.bodyTimeoutMs; break;
    case Deadline::Idle: timeoutMs = m_limits.idleTimeoutMs; break;
    }
    m_deadlineAt = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
}

void Connection::checkDeadline(std::chrono::steady_clock::time_point now)
{
    if (m_deadline != Deadline::None && now >= m_deadlineAt) {
        onDeadline();
    }
}

void Connection::onReadyRead()
{
    if (m_closing) {
        m_socket->readAll(); // discard: we are closing after an error
        return;
    }
    if (m_responding) {
        return; // pipelined bytes wait in the socket buffer until this response is done
    }
    if (m_input.isEmpty()) {
        m_input = m_socket->readAll(); // the common case: take the buffer, no copy
    } else {
        m_input.append(m_socket->readAll());
    }
    processInput();
}

void Connection::processInput()
{
    while (!m_responding && !m_closing && !m_input.isEmpty()) {
        const bool wasStarted = m_parser.hasStarted();
        const bool hadHeaders = m_parser.headersComplete();
        const auto result = m_parser.feed(m_input.constData(), m_input.size());
        m_input.remove(0, result.consumed);
        if (result.status == RequestParser::Status::Error) {
            int status = 400;
            switch (m_parser.errorKind()) {
            case RequestParser::ErrorKind::HeadersTooLarge: status = 431; break;
            case RequestParser::ErrorKind::BodyTooLarge: status = 413; break;
            case RequestParser::ErrorKind::UnsupportedCoding: status = 501; break;
            default: break;
            }
            rejectRequest(status, m_parser.errorMessage());
            return;
        }
        if (result.status == RequestParser::Status::Complete) {
            Request request = m_parser.takeRequest();
            request.peer = m_socket->peerAddress();
            request.peerPort = m_socket->peerPort();
            dispatch(std::move(request));
            continue;
        }
        // Need more bytes: move the deadline along with the request's progress.
        if (!wasStarted && m_parser.hasStarted()) {
            armDeadline(Deadline::Head);
        }
        if (!hadHeaders && m_parser.headersComplete()) {
            armDeadline(Deadline::Body);
            if (m_parser.expectsContinue() && !m_continueSent) {
                m_continueSent = true;
                write("HTTP/1.1 100 Continue\r\n\r\n");
            }
        }
        break;
    }
}

void Connection::dispatch(Request &&request)
{
    armDeadline(Deadline::None);
    m_responding = true;
    m_counters.activeRequests.fetch_add(1, std::memory_order_relaxed);
    m_headSent = false;
    m_chunked = false;
    m_finishPending = false;
    m_continueSent = false;
    m_requestVersionMinor = request.versionMinor;
    m_requestKeepAlive = request.keepAlive;
    m_closeAfterResponse = !request.keepAlive || m_closeWhenIdle;

    m_inHandler = true;
    auto exchange = m_handler.handle(std::move(request), *this);
    m_inHandler = false;
    if (m_finishPending) {
        // Answered synchronously: nothing of the handler is on the stack any more.
        exchange.reset();
        onResponseFinished();
    } else {
        m_exchange = std::move(exchange);
    }
}

void Connection::rejectRequest(int status, QByteArrayView message)
{
    // Framing is unreliable after a parse error, so the connection always closes.
    m_closing = true;
    armDeadline(Deadline::None);
    const QByteArray body = errorBody(status, message);
    QByteArray head = "HTTP/1.1 " + QByteArray::number(status) + ' ' + statusText(status).toByteArray() +
                      "\r\ncontent-type: application/json\r\ncontent-length: " + QByteArray::number(body.size()) +
                      "\r\nconnection: close\r\n\r\n";
    write(QByteArray(head + body));
    m_socket->disconnectFromHost();
}

void Connection::write(QByteArrayView data)
{
    if (!m_socket->isConnected()) {
        return;
    }
    m_socket->write(data);
}

void Connection::writeHead(int status, const HeaderList &headers, qint64 contentLength)
{
    if (m_headSent || !m_responding) {
        return;
    }
    m_headSent = true;
    QByteArray head;
    head.reserve(256);
    head += "HTTP/1.1 ";
    head += QByteArray::number(status);
    head += ' ';
    head += statusText(status);
    head += "\r\n";
    for (const auto &header : headers) {
        head += header.name;
        head += ": ";
        head += header.value;
        head += "\r\n";
    }
    if (contentLength >= 0) {
        head += "content-length: ";
        head += QByteArray::number(contentLength);
        head += "\r\n";
    } else if (m_requestVersionMinor >= 1) {
        m_chunked = true;
        head += "transfer-encoding: chunked\r\n";
    } else {
        m_closeAfterResponse = true; // HTTP/1.0 has no chunking: the close ends the body
    }
    if (m_closeAfterResponse) {
        head += "connection: close\r\n";
    } else if (m_requestVersionMinor == 0) {
        head += "connection: keep-alive\r\n";
    }
    head += "\r\n";
    write(head);
}

void Connection::writeBody(QByteArrayView data)
{
    if (!m_headSent || data.isEmpty() || !m_responding) {
        return;
    }
    if (m_chunked) {
        // The frame goes straight into the socket's output buffer: no copy per chunk.
        char size[20];
        const int length = std::snprintf(size, sizeof size, "%llx\r\n", static_cast<unsigned long long>(data.size()));
        write(QByteArrayView(size, length));
        write(data);
        write("\r\n");
        m_socket->flush(); // streamed chunks go out now, not at the next loop turn
    } else {
        write(data);
    }
    if (pendingBytes() > m_limits.writeHighWaterBytes) {
        m_congested = true;
    }
}

qint64 Connection::pendingBytes() const
{
    return m_socket->bytesToWrite();
}

void Connection::finish()
{
    if (!m_responding || m_finishPending) {
        return;
    }
    if (!m_headSent) {
        writeHead(204, {}, 0);
    }
    if (m_chunked) {
        write("0\r\n\r\n");
    }
    m_socket->flush();
    m_finishPending = true;
    if (!m_inHandler) {
        // The caller is the exchange itself: destroy it only after it has returned.
        m_sweeper.scheduleCleanup(this);
    }
}

void Connection::abort()
{
    m_closing = true;
    m_finishPending = true;
    m_socket->abort();
    QMetaObject::invokeMethod(this, &Connection::onDisconnected, Qt::QueuedConnection);
}

void Connection::onResponseFinished()
{
    if (!m_finishPending || !m_responding) {
        return;
    }
    m_exchange.reset();
    m_responding = false;
    m_counters.activeRequests.fetch_sub(1, std::memory_order_relaxed);
    m_finishPending = false;
    m_drained = nullptr;
    m_congested = false;
    if (m_closeAfterResponse || m_closeWhenIdle) {
        m_closing = true;
        m_socket->disconnectFromHost();
        return;
    }
    armDeadline(Deadline::Idle);
    // Pipelined requests already read, then anything still in the socket buffer.
    processInput();
    if (!m_responding && m_socket->bytesAvailable() > 0) {
        onReadyRead();
    }
}

void Connection::onDeadline()
{
    switch (m_deadline) {
    case Deadline::Head:
        rejectRequest(408, "the request headers did not arrive in time");
        break;
    case Deadline::Body:
        rejectRequest(408, "the request body did not arrive in time");
        break;
    case Deadline::Idle:
        m_closing = true;
        m_socket->disconnectFromHost();
        break;
    case Deadline::None:
        break;
    }
}

void Connection::onBytesWritten()
{
    if (m_congested && pendingBytes() <= m_limits.writeHighWaterBytes / 2) {
        m_congested = false;
        if (m_drained) {
            m_drained();
        }
    }
}

void Connection::onDisconnected()
{
    m_exchange.reset(); // cancels the upstream transfer, if any
    if (m_responding) {
        m_responding = false;
        m_counters.activeRequests.fetch_sub(1, std::memory_order_relaxed);
    }
    deleteLater();
}

} // namespace Gateway::Http
