#include "redisserver.h"

#include "shared/redisconnection.h"

#include <QDeadlineTimer>
#include <QStandardPaths>
#include <QTcpServer>

namespace TestSupport {

namespace {

quint16 freePort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0)) {
        return 0;
    }
    return probe.serverPort();
}

} // namespace

QString RedisServer::executable()
{
    return QStandardPaths::findExecutable(QStringLiteral("redis-server"));
}

RedisServer::~RedisServer()
{
    kill();
}

QString RedisServer::url() const
{
    return QStringLiteral("redis://127.0.0.1:%1/0").arg(m_port);
}

bool RedisServer::isRunning() const
{
    return m_process && m_process->state() == QProcess::Running;
}

bool RedisServer::start(quint16 port, int timeoutMs)
{
    const QString binary = executable();
    if (binary.isEmpty()) {
        m_error = QStringLiteral("redis-server is not installed (packaging/install-deps.sh installs it)");
        return false;
    }
    if (port == 0) {
        port = m_port != 0 ? m_port : freePort();
    }
    m_port = port;
    m_process = std::make_unique<QProcess>();
    m_process->setProcessChannelMode(QProcess::MergedChannels);
    m_process->start(binary, {QStringLiteral("--port"), QString::number(port), QStringLiteral("--bind"),
                              QStringLiteral("127.0.0.1"), QStringLiteral("--save"), QString(),
                              QStringLiteral("--appendonly"), QStringLiteral("no")});
    if (!m_process->waitForStarted(timeoutMs)) {
        m_error = QStringLiteral("redis-server did not start: ") + m_process->errorString();
        return false;
    }
    // Ready once it logs so; then a PING proves it answers.
    QDeadlineTimer deadline {timeoutMs};
    QByteArray output;
    while (!output.contains("Ready to accept connections")) {
        if (m_process->state() != QProcess::Running || deadline.hasExpired() ||
            !m_process->waitForReadyRead(static_cast<int>(std::max<qint64>(1, deadline.remainingTime())))) {
            output += m_process->readAll();
            if (output.contains("Ready to accept connections")) {
                break;
            }
            m_error = QStringLiteral("redis-server on port %1 did not become ready: %2")
                          .arg(port)
                          .arg(QString::fromUtf8(output.right(400)));
            return false;
        }
        output += m_process->readAll();
    }
    Gateway::Shared::RedisEndpoint endpoint;
    endpoint.host = QStringLiteral("127.0.0.1");
    endpoint.port = port;
    QString error;
    auto connection = Gateway::Shared::RedisConnection::open(endpoint, {1000, 1000}, error);
    if (!connection) {
        m_error = QStringLiteral("redis-server does not answer: ") + error;
        return false;
    }
    const auto pong = connection->command({QByteArrayLiteral("PING")});
    if (!pong) {
        m_error = QStringLiteral("redis-server does not answer PING: ") + connection->lastError();
        return false;
    }
    return true;
}

void RedisServer::kill()
{
    if (!m_process) {
        return;
    }
    if (m_process->state() != QProcess::NotRunning) {
        m_process->kill(); // SIGKILL
        m_process->waitForFinished(10000);
    }
    m_process.reset();
}

} // namespace TestSupport
