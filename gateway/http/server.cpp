#include "server.h"

#include "listensocket.h"
#include "serverworker.h"

#include "util/cryptothreadstate.h"

#include <QThread>

#include <unistd.h>

namespace Gateway::Http {

void Server::ThreadDeleter::operator()(QThread *thread) const
{
    thread->quit();
    thread->wait();
    delete thread;
}

Server::Server(QString name, ServerLimits limits, HandlerFactory factory, int threads)
    : m_name {std::move(name)}
    , m_limits {limits}
    , m_factory {std::move(factory)}
{
    const int count = threads > 0 ? threads : std::max(1, QThread::idealThreadCount());
    for (int i = 0; i < count; ++i) {
        std::unique_ptr<QThread, ThreadDeleter> thread {new QThread};
        thread->setObjectName(QStringLiteral("%1-%2").arg(m_name).arg(i));
        releaseCryptoStateOnFinish(*thread); // TLS connections and libcurl's OpenSSL
        thread->start();
        m_threads.push_back(std::move(thread));
    }
}

Server::~Server()
{
    for (std::size_t i = 0; i < m_workers.size(); ++i) {
        ServerWorker *worker = m_workers[i];
        // Start-up and shutdown only: wait for the worker's own thread to destroy it.
        QMetaObject::invokeMethod(worker, [worker] { delete worker; }, Qt::BlockingQueuedConnection);
    }
    m_workers.clear();
    m_threads.clear(); // joins
}

Expected<quint16, QString> Server::listen(const QHostAddress &address, quint16 port)
{
    quint16 boundPort = port;
    for (auto &thread : m_threads) {
        auto socket = openListenSocket(address, boundPort);
        if (!socket) {
            return Unexpected {socket.error()};
        }
        boundPort = socket->port; // the others join the port the first one got
        auto *worker = new ServerWorker(m_limits, m_counters);
        worker->moveToThread(thread.get());
        m_workers.push_back(worker);
        bool started = false;
        const int descriptor = socket->descriptor;
        QMetaObject::invokeMethod(
            worker, [worker, descriptor, &started, this] { started = worker->start(m_factory, descriptor); },
            Qt::BlockingQueuedConnection);
        if (!started) {
            ::close(descriptor);
            return Unexpected {QStringLiteral("%1: cannot accept on port %2").arg(m_name).arg(boundPort)};
        }
    }
    m_port = boundPort;
    return boundPort;
}

void Server::beginShutdown()
{
    for (ServerWorker *worker : m_workers) {
        QMetaObject::invokeMethod(worker, &ServerWorker::beginShutdown, Qt::QueuedConnection);
    }
}

int Server::openConnections() const
{
    return m_counters.openConnections.load(std::memory_order_relaxed);
}

int Server::activeRequests() const
{
    return m_counters.activeRequests.load(std::memory_order_relaxed);
}

} // namespace Gateway::Http
