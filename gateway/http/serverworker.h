#pragma once

#include "requesthandler.h"
#include "serverlimits.h"

#include <QTcpServer>

#include <functional>
#include <memory>

namespace Gateway::Http {

class ConnectionSweeper;

// The per-thread part of Server: a listener on the shared port plus the handler that
// serves its connections. Created on the main thread, moved to its worker thread,
// initialised and destroyed there.
class ServerWorker final : public QTcpServer {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ServerWorker)

public:
    ServerWorker(const ServerLimits &limits, ServerCounters &counters);
    ~ServerWorker() override;

    // On the worker thread: creates the handler and starts accepting on `descriptor`.
    bool start(const std::function<std::unique_ptr<RequestHandler>()> &factory, int descriptor);
    void beginShutdown();

protected:
    void incomingConnection(qintptr socketDescriptor) override;

private:
    const ServerLimits &m_limits;
    ServerCounters &m_counters;
    std::unique_ptr<RequestHandler> m_handler;
    ConnectionSweeper *m_sweeper = nullptr; // child; outlives the connections' clean-up
};

} // namespace Gateway::Http
