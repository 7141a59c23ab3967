#pragma once

#include <QProcess>
#include <QString>

#include <memory>

namespace TestSupport {

// A real redis-server for the shared-limit tests, on 127.0.0.1 with no persistence
// (a killed server comes back empty, as a restarted cache would). start() waits until
// the server answers PING, with a deadline; nothing sleeps.
class RedisServer final {
public:
    RedisServer() = default;
    ~RedisServer();
    RedisServer(const RedisServer &) = delete;
    RedisServer &operator=(const RedisServer &) = delete;

    // The redis-server on PATH, or empty when it is not installed.
    static QString executable();

    // port 0 picks a free port; starting again after kill() reuses the previous one.
    bool start(quint16 port = 0, int timeoutMs = 20000);
    // SIGKILL, as a crash or an OOM kill would; waits until the process is gone.
    void kill();
    bool isRunning() const;

    quint16 port() const { return m_port; }
    QString url() const; // redis://127.0.0.1:PORT/0
    const QString &error() const { return m_error; }

private:
    std::unique_ptr<QProcess> m_process;
    quint16 m_port = 0;
    QString m_error;
};

} // namespace TestSupport
