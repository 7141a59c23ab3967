#pragma once

#include "requesthandler.h"
#include "serverlimits.h"
#include "util/expected.h"

#include <QHostAddress>
#include <QString>

#include <functional>
#include <memory>
#include <vector>

class QThread;

namespace Gateway::Http {

class ServerWorker;

// Creates the handler of one worker thread; called on that thread, so the handler and
// everything it creates (e.g. its curl multi handle) live there.
using HandlerFactory = std::function<std::unique_ptr<RequestHandler>()>;

// An HTTP/1.1 server over N worker threads, each with its own event loop, listener
// (SO_REUSEPORT on the same port) and handler. Nothing runs on the caller's thread.
class Server final {
public:
    Server(QString name, ServerLimits limits, HandlerFactory factory, int threads);
    ~Server(); // closes everything and joins the threads
    Server(const Server &) = delete;
    Server &operator=(const Server &) = delete;

    // Binds and starts accepting; port 0 picks a free port. Returns the bound port.
    Expected<quint16, QString> listen(const QHostAddress &address, quint16 port);

    quint16 port() const { return m_port; }
    int threadCount() const { return static_cast<int>(m_threads.size()); }

    // Graceful shutdown, step 1: stop accepting, close idle keep-alive connections,
    // let in-flight requests finish. Poll activeRequests() until 0 or a deadline.
    void beginShutdown();

    int openConnections() const;
    int activeRequests() const;

private:
    struct ThreadDeleter {
        void operator()(QThread *thread) const;
    };

    QString m_name;
    ServerLimits m_limits;
    HandlerFactory m_factory;
    ServerCounters m_counters;
    std::vector<std::unique_ptr<QThread, ThreadDeleter>> m_threads;
    std::vector<ServerWorker *> m_workers; // each lives on (and is deleted on) its thread
    quint16 m_port = 0;
};

} // namespace Gateway::Http
