#pragma once

#include <QByteArray>
#include <QProcess>
#include <QString>
#include <QTemporaryDir>

namespace Soak {

// The switchyard binary as a child process (headless, its own data directory), started
// with a policy document and told to pick a free port.
class GatewayProcess final {
public:
    explicit GatewayProcess(QString binary);
    ~GatewayProcess(); // SIGTERM, then waits for the drain
    GatewayProcess(const GatewayProcess &) = delete;
    GatewayProcess &operator=(const GatewayProcess &) = delete;

    // Writes `policy` (which must set gateway.listen to 127.0.0.1:0), starts the process
    // and waits for it to listen. Empty on success, else what went wrong.
    QString start(const QByteArray &policy);
    // Asks it to stop (SIGTERM) and waits; true when it exited cleanly with status 0.
    bool stop();

    quint16 port() const { return m_port; }
    qint64 pid() const { return m_process.processId(); }
    // Everything it printed so far (stdout and stderr).
    QByteArray output();

private:
    QString m_binary;
    QTemporaryDir m_dir;
    QProcess m_process;
    QByteArray m_output;
    quint16 m_port = 0;
};

} // namespace Soak
