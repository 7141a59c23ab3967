#include "shutdowncoordinator.h"

#include "runtime/gatewayruntime.h"

namespace App {

namespace {
constexpr int DRAIN_POLL_MS = 20;
}

ShutdownCoordinator::ShutdownCoordinator(Gateway::GatewayRuntime &runtime, int drainTimeoutMs, QObject *parent)
    : QObject {parent}
    , m_runtime {runtime}
    , m_drainTimeoutMs {drainTimeoutMs}
{
    m_pollTimer.setInterval(DRAIN_POLL_MS);
    connect(&m_pollTimer, &QTimer::timeout, this, &ShutdownCoordinator::poll);
}

void ShutdownCoordinator::requestShutdown()
{
    if (m_finished) {
        return;
    }
    if (m_draining) {
        m_finished = true; // asked twice: stop now
        m_pollTimer.stop();
        Q_EMIT drained(m_runtime.activeRequests());
        return;
    }
    m_draining = true;
    m_elapsed.start();
    m_runtime.beginShutdown();
    m_pollTimer.start();
    poll();
}

void ShutdownCoordinator::poll()
{
    const int active = m_runtime.activeRequests();
    if (!m_finished && (active == 0 || m_elapsed.elapsed() >= m_drainTimeoutMs)) {
        m_finished = true;
        m_pollTimer.stop();
        Q_EMIT drained(active);
    }
}

} // namespace App
