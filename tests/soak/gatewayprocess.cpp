#include "gatewayprocess.h"

#include <QDeadlineTimer>
#include <QFile>
#include <QProcessEnvironment>
#include <QRegularExpression>
#include <QTest>

#include <signal.h>

namespace Soak {

GatewayProcess::GatewayProcess(QString binary)
    : m_binary {std::move(binary)}
{
    m_process.setProcessChannelMode(QProcess::MergedChannels);
}

GatewayProcess::~GatewayProcess()
{
    stop();
}

QString GatewayProcess::start(const QByteArray &policy)
{
    if (!m_dir.isValid()) {
        return QStringLiteral("no temporary directory");
    }
    const QString configPath = m_dir.filePath(QStringLiteral("policy.yaml"));
    QFile config {configPath};
    if (!config.open(QIODevice::WriteOnly) || config.write(policy) != policy.size()) {
        return QStringLiteral("cannot write %1").arg(configPath);
    }
    config.close();
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.remove(QStringLiteral("DISPLAY"));
    environment.remove(QStringLiteral("WAYLAND_DISPLAY"));
    m_process.setProcessEnvironment(environment);
    m_process.start(m_binary, {QStringLiteral("--headless"), QStringLiteral("--config"), configPath,
                               QStringLiteral("--data-dir"), m_dir.path()});
    const QRegularExpression listening {QStringLiteral(R"(url=http://127\.0\.0\.1:(\d+)/v1)")};
    const bool up = QTest::qWaitFor(
        [&] {
            const auto match = listening.match(QString::fromUtf8(output()));
            if (match.hasMatch()) {
                m_port = static_cast<quint16>(match.captured(1).toUInt());
            }
            return m_port != 0 || m_process.state() == QProcess::NotRunning;
        },
        30000);
    if (!up || m_port == 0) {
        return QStringLiteral("the gateway did not start listening: %1").arg(QString::fromUtf8(output()));
    }
    return {};
}

bool GatewayProcess::stop()
{
    if (m_process.state() == QProcess::NotRunning) {
        return m_process.exitStatus() == QProcess::NormalExit && m_process.exitCode() == 0;
    }
    ::kill(static_cast<pid_t>(m_process.processId()), SIGTERM);
    if (!m_process.waitForFinished(30000)) {
        m_process.kill();
        m_process.waitForFinished(10000);
        return false;
    }
    return m_process.exitStatus() == QProcess::NormalExit && m_process.exitCode() == 0;
}

QByteArray GatewayProcess::output()
{
    m_output += m_process.readAll();
    return m_output;
}

} // namespace Soak
