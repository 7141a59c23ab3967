#include "connectionsweeper.h"

#include "connection.h"

#include <algorithm>

namespace Gateway::Http {

ConnectionSweeper::ConnectionSweeper(QObject *parent)
    : QObject {parent}
{
    m_sweepTimer.setParent(this);
    m_cleanupTimer.setParent(this);
    m_sweepTimer.setInterval(SWEEP_INTERVAL_MS);
    connect(&m_sweepTimer, &QTimer::timeout, this, &ConnectionSweeper::sweep);
    m_cleanupTimer.setSingleShot(true);
    m_cleanupTimer.setInterval(0);
    connect(&m_cleanupTimer, &QTimer::timeout, this, &ConnectionSweeper::runCleanups);
}

void ConnectionSweeper::add(Connection *connection)
{
    m_connections.push_back(connection);
    if (!m_sweepTimer.isActive()) {
        m_sweepTimer.start();
    }
}

void ConnectionSweeper::remove(Connection *connection)
{
    const auto it = std::find(m_connections.begin(), m_connections.end(), connection);
    if (it != m_connections.end()) {
        *it = m_connections.back();
        m_connections.pop_back();
    }
    if (m_connections.empty()) {
        m_sweepTimer.stop();
    }
}

void ConnectionSweeper::scheduleCleanup(Connection *connection)
{
    m_cleanups.emplace_back(connection);
    if (!m_cleanupTimer.isActive()) {
        m_cleanupTimer.start();
    }
}

void ConnectionSweeper::runCleanups()
{
    // A clean-up may serve a pipelined request that finishes synchronously and asks for
    // another clean-up: take the list first.
    std::vector<QPointer<Connection>> due;
    due.swap(m_cleanups);
    for (const auto &connection : due) {
        if (connection) {
            connection->onResponseFinished();
        }
    }
}

void ConnectionSweeper::sweep()
{
    const auto now = Clock::now();
    // Copy: a deadline closes its connection, which removes itself later, not now, but
    // the list must not be walked while anything could change it.
    const std::vector<Connection *> connections = m_connections;
    for (Connection *connection : connections) {
        connection->checkDeadline(now);
    }
}

} // namespace Gateway::Http
