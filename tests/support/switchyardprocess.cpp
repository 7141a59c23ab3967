#include "switchyardprocess.h"

#include <QRegularExpression>
#include <QTest>

#include <csignal>

namespace TestSupport {

SwitchyardProcess::SwitchyardProcess(QString binary)
    : m_binary {std::move(binary)}
{
}

SwitchyardProcess::~SwitchyardProcess()
{
    if (isRunning()) {
        signal(SIGKILL);
        m_process.waitForFinished(10000);
    }
}

void SwitchyardProcess::start(const QString &dataDirectory, const QStringList &arguments,
                              const QProcessEnvironment &environment)
{
    QProcessEnvironment merged = QProcessEnvironment::systemEnvironment();
    merged.remove(QStringLiteral("DISPLAY"));
    merged.remove(QStringLiteral("WAYLAND_DISPLAY"));
    merged.insert(environment);
    m_process.setProcessEnvironment(merged);
    m_stdout.clear();
    m_stderr.clear();
    m_started.start();
    m_process.start(m_binary, QStringList {QStringLiteral("--headless"), QStringLiteral("--data-dir"), dataDirectory} +
                                  arguments);
}

void SwitchyardProcess::collect()
{
    m_stdout += m_process.readAllStandardOutput();
    m_stderr += m_process.readAllStandardError();
}

quint16 SwitchyardProcess::waitUntilListening(int timeoutMs)
{
    static const QRegularExpression listening {QStringLiteral(R"(msg="listening" url=https?://[^ ]*:(\d+)/v1)")};
    QRegularExpressionMatch match;
    const bool done = QTest::qWaitFor(
        [&] {
            collect();
            match = listening.match(QString::fromUtf8(m_stdout));
            return match.hasMatch() || !isRunning();
        },
        timeoutMs);
    return done && match.hasMatch() ? static_cast<quint16>(match.captured(1).toUInt()) : 0;
}

void SwitchyardProcess::signal(int signalNumber)
{
    if (isRunning()) {
        ::kill(static_cast<pid_t>(m_process.processId()), signalNumber);
    }
}

bool SwitchyardProcess::waitForExit(int timeoutMs)
{
    const bool exited = QTest::qWaitFor([this] { return !isRunning(); }, timeoutMs);
    collect();
    return exited;
}

QByteArray SwitchyardProcess::standardOutput()
{
    collect();
    return m_stdout;
}

QByteArray SwitchyardProcess::standardError()
{
    collect();
    return m_stderr;
}

} // namespace TestSupport
