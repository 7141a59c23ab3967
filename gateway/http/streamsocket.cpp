#include "streamsocket.h"

#include "tlssession.h"

#include <QSocketNotifier>

#include <arpa/inet.h>
#include <cerrno>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace Gateway::Http {

namespace {

// Reads go through a fixed buffer and only what arrived is appended: sizing the
// destination for a whole chunk on every read made a 64 KiB allocation per request.
constexpr qsizetype READ_CHUNK = 16 * 1024;

} // namespace

StreamSocket::StreamSocket(qintptr descriptor, QObject *parent)
    : QObject {parent}
    , m_descriptor {static_cast<int>(descriptor)}
    , m_readNotifier {new QSocketNotifier(m_descriptor, QSocketNotifier::Read, this)}
    , m_writeNotifier {new QSocketNotifier(m_descriptor, QSocketNotifier::Write, this)}
{
    ::fcntl(m_descriptor, F_SETFL, ::fcntl(m_descriptor, F_GETFL) | O_NONBLOCK);
    const int one = 1;
    ::setsockopt(m_descriptor, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_storage peer {};
    socklen_t length = sizeof peer;
    if (::getpeername(m_descriptor, reinterpret_cast<sockaddr *>(&peer), &length) == 0) {
        m_peerAddress.setAddress(reinterpret_cast<const sockaddr *>(&peer));
        m_peerPort = peer.ss_family == AF_INET6 ? ntohs(reinterpret_cast<const sockaddr_in6 *>(&peer)->sin6_port)
                                                : ntohs(reinterpret_cast<const sockaddr_in *>(&peer)->sin_port);
    }
    m_writeNotifier->setEnabled(false);
    connect(m_readNotifier, &QSocketNotifier::activated, this, &StreamSocket::onReadable);
    connect(m_writeNotifier, &QSocketNotifier::activated, this, &StreamSocket::onWritable);
}

void StreamSocket::startServerTls(std::shared_ptr<const TlsContext> context)
{
    m_tls = std::make_unique<TlsSession>(std::move(context));
}

StreamSocket::~StreamSocket()
{
    if (m_descriptor >= 0) {
        m_readNotifier->setEnabled(false);
        m_writeNotifier->setEnabled(false);
        ::close(m_descriptor);
    }
}

void StreamSocket::updateReadInterest()
{
    const bool wanted = m_descriptor >= 0 && !m_peerClosed && (m_readLimit <= 0 || m_input.size() < m_readLimit);
    if (m_readNotifier->isEnabled() != wanted) {
        m_readNotifier->setEnabled(wanted);
    }
}

bool StreamSocket::received(const char *data, qsizetype size)
{
    if (!m_tls) {
        m_input.append(data, size);
        return true;
    }
    const auto status = m_tls->receive(QByteArrayView(data, size), m_input);
    const QByteArray output = m_tls->takeOutput(); // handshake records, alerts
    queueRaw(output);
    if (status != TlsSession::Status::Ok) {
        // Not TLS, or broken TLS: send the refusal or alert, then close.
        m_closing = true;
        flush();
        return false;
    }
    if (!output.isEmpty()) {
        flush();
    }
    return true;
}

void StreamSocket::onReadable()
{
    const qsizetype before = m_input.size();
    char chunk[READ_CHUNK];
    while (m_descriptor >= 0 && (m_readLimit <= 0 || m_input.size() < m_readLimit)) {
        const ssize_t n = ::recv(m_descriptor, chunk, READ_CHUNK, 0);
        if (n > 0) {
            if (!received(chunk, static_cast<qsizetype>(n))) {
                break; // TLS refused: nothing more is read
            }
            if (n < READ_CHUNK) {
                break; // drained for now; level-triggered notifiers report the rest
            }
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            break;
        }
        // 0: the client closed its side; < 0: reset. Either way nothing more arrives.
        m_peerClosed = true;
        break;
    }
    updateReadInterest();
    if (m_input.size() > before) {
        Q_EMIT readyRead();
    }
    if (m_peerClosed && m_descriptor >= 0) {
        abort();
    }
}

QByteArray StreamSocket::readAll()
{
    QByteArray data = std::move(m_input);
    m_input = QByteArray();
    updateReadInterest();
    return data;
}

void StreamSocket::write(QByteArrayView data)
{
    if (m_descriptor < 0 || m_closing || data.isEmpty()) {
        return;
    }
    if (m_tls) {
        m_tls->send(data);
        queueRaw(m_tls->takeOutput());
        return;
    }
    queueRaw(data);
}

void StreamSocket::queueRaw(QByteArrayView data)
{
    if (m_descriptor < 0 || data.isEmpty()) {
        return;
    }
    m_output.append(data.data(), data.size());
    if (!m_writeNotifier->isEnabled()) {
        m_writeNotifier->setEnabled(true);
    }
}

void StreamSocket::flush()
{
    while (m_descriptor >= 0 && bytesToWrite() > 0) {
        const ssize_t n = ::send(m_descriptor, m_output.constData() + m_outputOffset,
                                 static_cast<size_t>(bytesToWrite()), MSG_NOSIGNAL);
        if (n > 0) {
            m_outputOffset += n;
            Q_EMIT bytesWritten(n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            m_writeNotifier->setEnabled(true); // the rest when the kernel has room
            return;
        }
        abort(); // EPIPE, ECONNRESET: the client is gone
        return;
    }
    m_output.clear();
    m_outputOffset = 0;
    if (m_writeNotifier->isEnabled()) {
        m_writeNotifier->setEnabled(false);
    }
    if (m_closing) {
        closeNow();
    }
}

void StreamSocket::onWritable()
{
    flush();
}

void StreamSocket::disconnectFromHost()
{
    if (m_descriptor < 0) {
        return;
    }
    if (m_tls && !m_closing) {
        m_tls->shutdown();
        queueRaw(m_tls->takeOutput());
    }
    m_closing = true;
    flush();
}

void StreamSocket::abort()
{
    m_output.clear();
    m_outputOffset = 0;
    closeNow();
}

void StreamSocket::closeNow()
{
    if (m_descriptor < 0) {
        return;
    }
    // Notifiers are switched off, not deleted: this may run inside their activation.
    m_readNotifier->setEnabled(false);
    m_writeNotifier->setEnabled(false);
    ::close(m_descriptor);
    m_descriptor = -1;
    m_closing = false;
    Q_EMIT disconnected();
}

} // namespace Gateway::Http
