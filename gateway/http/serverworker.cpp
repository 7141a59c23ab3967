#include "serverworker.h"

#include "connection.h"
#include "connectionsweeper.h"

namespace Gateway::Http {

ServerWorker::ServerWorker(const ServerLimits &limits, ServerCounters &counters)
    : m_limits {limits}
    , m_counters {counters}
{
}

ServerWorker::~ServerWorker()
{
    // Connections hold exchanges that reference the handler: they go first.
    qDeleteAll(findChildren<Connection *>(Qt::FindDirectChildrenOnly));
    m_handler.reset();
}

bool ServerWorker::start(const std::function<std::unique_ptr<RequestHandler>()> &factory, int descriptor)
{
    m_sweeper = new ConnectionSweeper(this); // created here, on the worker's thread
    m_handler = factory();
    setMaxPendingConnections(1024);
    return setSocketDescriptor(descriptor);
}

void ServerWorker::beginShutdown()
{
    close();
    for (auto *connection : findChildren<Connection *>(Qt::FindDirectChildrenOnly)) {
        connection->closeWhenIdle();
    }
}

void ServerWorker::incomingConnection(qintptr socketDescriptor)
{
    // Parented to this listener; the connection deletes itself when the socket closes.
    new Connection(socketDescriptor, *m_handler, m_limits, m_counters, *m_sweeper, this);
}

} // namespace Gateway::Http
