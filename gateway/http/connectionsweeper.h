#pragma once

#include <QObject>
#include <QPointer>
#include <QTimer>

#include <chrono>
#include <vector>

namespace Gateway::Http {

class Connection;

// Per-worker housekeeping for its connections, so no connection arms a timer of its own
// on every request: one coarse sweep enforces header, body and idle deadlines, and one
// 0 ms timer runs the clean-ups that must wait until an exchange has returned.
class ConnectionSweeper final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectionSweeper)

public:
    using Clock = std::chrono::steady_clock;
    // Deadlines are enforced within this much of their time.
    static constexpr int SWEEP_INTERVAL_MS = 50;

    explicit ConnectionSweeper(QObject *parent = nullptr);

    void add(Connection *connection);
    void remove(Connection *connection);

    // Runs connection->onResponseFinished() once the current event has been handled.
    void scheduleCleanup(Connection *connection);

private:
    void sweep();
    void runCleanups();

    std::vector<Connection *> m_connections;
    std::vector<QPointer<Connection>> m_cleanups;
    QTimer m_sweepTimer;
    QTimer m_cleanupTimer;
};

} // namespace Gateway::Http
