#include "plainconnection.h"

#include "plainroute.h"

#include <QSocketNotifier>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace Gateway::Upstream {

namespace {

constexpr qsizetype READ_CHUNK = 16 * 1024;
constexpr std::size_t MAX_IDLE_CONNECTIONS = 256; // as CURLMOPT_MAXCONNECTS
// curl's default: an idle connection older than this is not reused.
constexpr auto MAX_IDLE_AGE = std::chrono::seconds(118);
// A connection idle for longer is checked (one non-blocking peek) before it is reused; a
// busy pool is not. A connection the server closed anyway is retried once, as curl does.
constexpr auto LIVENESS_CHECK_AFTER = std::chrono::seconds(1);

} // namespace

PlainConnection::PlainConnection(QObject *parent, PlainOrigin &origin, int descriptor)
    : QObject {parent}
    , m_descriptor {descriptor}
    , m_origin {&origin}
    , m_read {new QSocketNotifier(descriptor, QSocketNotifier::Read, this)}
    , m_write {new QSocketNotifier(descriptor, QSocketNotifier::Write, this)}
{
    m_read->setEnabled(false);
    m_write->setEnabled(false);
}

PlainConnection::~PlainConnection()
{
    closeDescriptor();
}

void PlainConnection::watch(bool read, bool write)
{
    if (m_read->isEnabled() != read) {
        m_read->setEnabled(read);
    }
    if (m_write->isEnabled() != write) {
        m_write->setEnabled(write);
    }
}

void PlainConnection::closeDescriptor()
{
    if (m_descriptor < 0) {
        return;
    }
    m_read->setEnabled(false);
    m_write->setEnabled(false);
    ::close(m_descriptor);
    m_descriptor = -1;
}

qsizetype PlainConnection::prepareSpace(qsizetype limit)
{
    if (m_buffer.empty()) {
        m_buffer.resize(static_cast<std::size_t>(READ_CHUNK));
    }
    if (m_begin > 0 && m_end == static_cast<qsizetype>(m_buffer.size())) {
        std::memmove(m_buffer.data(), m_buffer.data() + m_begin, static_cast<std::size_t>(m_end - m_begin));
        m_end -= m_begin;
        m_begin = 0;
    }
    if (m_end == static_cast<qsizetype>(m_buffer.size()) && static_cast<qsizetype>(m_buffer.size()) < limit) {
        m_buffer.resize(std::min<std::size_t>(m_buffer.size() * 2, static_cast<std::size_t>(limit)));
    }
    return static_cast<qsizetype>(m_buffer.size()) - m_end;
}

PlainConnectionPool::~PlainConnectionPool()
{
    for (PlainConnection *connection : m_connections) {
        delete connection;
    }
}

PlainConnection *PlainConnectionPool::takeIdle(PlainOrigin &origin)
{
    const auto now = std::chrono::steady_clock::now();
    while (!origin.idle.empty()) {
        PlainConnection *connection = origin.idle.back();
        origin.idle.pop_back();
        --m_idleConnections;
        bool alive = now - connection->idleSince <= MAX_IDLE_AGE;
        if (alive && now - connection->idleSince > LIVENESS_CHECK_AFTER) {
            // Quiet for a while: the server may have closed it meanwhile.
            char byte;
            const ssize_t n = ::recv(connection->descriptor(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
            alive = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
        }
        if (alive) {
            return connection;
        }
        forget(connection);
    }
    return nullptr;
}

void PlainConnectionPool::release(PlainConnection *connection, bool reusable)
{
    connection->owner = nullptr;
    if (reusable && connection->buffered() == 0 && m_idleConnections < MAX_IDLE_CONNECTIONS) {
        connection->watch(false, false);
        connection->idleSince = std::chrono::steady_clock::now();
        ++connection->requests;
        connection->origin()->idle.push_back(connection);
        ++m_idleConnections;
        return;
    }
    forget(connection);
}

void PlainConnectionPool::forget(PlainConnection *connection)
{
    connection->closeDescriptor();
    const auto it = std::find(m_connections.begin(), m_connections.end(), connection);
    if (it != m_connections.end()) {
        *it = m_connections.back();
        m_connections.pop_back();
    }
    connection->deleteLater(); // may be inside one of its notifiers' activation
}

} // namespace Gateway::Upstream
