#pragma once

#include <QObject>

#include <chrono>
#include <vector>

class QSocketNotifier;

namespace Gateway::Upstream {

class Transfer;
struct PlainOrigin;

// One TCP connection of the built-in HTTP/1.1 client, kept across requests (keep-alive):
// its descriptor, its read/write notifiers and the bytes received but not yet framed.
// Owned by a PlainConnectionPool; lent to one Transfer at a time.
class PlainConnection final : public QObject {
public:
    PlainConnection(QObject *parent, PlainOrigin &origin, int descriptor);
    ~PlainConnection() override;
    Q_DISABLE_COPY_MOVE(PlainConnection)

    int descriptor() const { return m_descriptor; }
    PlainOrigin *origin() const { return m_origin; }
    QSocketNotifier *readNotifier() const { return m_read; }
    QSocketNotifier *writeNotifier() const { return m_write; }

    void watch(bool read, bool write);
    // Switched off, not deleted: this may run inside a notifier's activation.
    void closeDescriptor();

    // The receive buffer.
    qsizetype buffered() const { return m_end - m_begin; }
    const char *data() const { return m_buffer.data() + m_begin; }
    void consume(qsizetype bytes)
    {
        m_begin += bytes;
        if (m_begin == m_end) {
            m_begin = m_end = 0;
        }
    }
    // Room to receive into: moves unread bytes to the front, grows up to `limit`.
    qsizetype prepareSpace(qsizetype limit);
    char *space() { return m_buffer.data() + m_end; }
    void received(qsizetype bytes) { m_end += bytes; }

    Transfer *owner = nullptr;
    std::chrono::steady_clock::time_point idleSince;
    int requests = 0; // answered on this connection

private:
    int m_descriptor;
    PlainOrigin *m_origin;
    QSocketNotifier *m_read;
    QSocketNotifier *m_write;
    std::vector<char> m_buffer;
    qsizetype m_begin = 0;
    qsizetype m_end = 0;
};

// Every open connection of one worker's built-in client, and the idle ones per origin
// (kept as curl keeps its own: at most MAX_IDLE_CONNECTIONS, none older than
// MAX_IDLE_AGE, and one quiet for a while is checked before it is reused).
class PlainConnectionPool final {
public:
    PlainConnectionPool() = default;
    ~PlainConnectionPool();
    PlainConnectionPool(const PlainConnectionPool &) = delete;
    PlainConnectionPool &operator=(const PlainConnectionPool &) = delete;

    // A new connection joins the pool (in use).
    void add(PlainConnection *connection) { m_connections.push_back(connection); }
    // An idle connection to `origin` that is still usable, or null.
    PlainConnection *takeIdle(PlainOrigin &origin);
    // Given back by its transfer: kept idle when `reusable`, closed otherwise.
    void release(PlainConnection *connection, bool reusable);

private:
    void forget(PlainConnection *connection);

    std::vector<PlainConnection *> m_connections; // every open connection, owned
    std::size_t m_idleConnections = 0;
};

} // namespace Gateway::Upstream
