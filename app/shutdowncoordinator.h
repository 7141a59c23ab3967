#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

namespace Gateway {
class GatewayRuntime;
}

namespace App {

// Graceful stop: the gateway stops accepting, in-flight requests get up to the drain
// timeout to finish, then the application quits. A second request quits at once.
class ShutdownCoordinator final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ShutdownCoordinator)

public:
    ShutdownCoordinator(Gateway::GatewayRuntime &runtime, int drainTimeoutMs, QObject *parent = nullptr);

    void requestShutdown();

Q_SIGNALS:
    void drained(int unfinishedRequests);

private:
    void poll();

    Gateway::GatewayRuntime &m_runtime;
    int m_drainTimeoutMs;
    QTimer m_pollTimer;
    QElapsedTimer m_elapsed;
    bool m_draining = false;
    bool m_finished = false;
};

} // namespace App
