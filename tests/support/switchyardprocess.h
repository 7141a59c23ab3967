#pragma once

#include <QByteArray>
#include <QElapsedTimer>
#include <QProcess>
#include <QString>
#include <QStringList>

namespace TestSupport {

// The real `switchyard --headless` executable as a child process, the way an operator
// runs it: a data directory, optional arguments, stdout and stderr captured whole (the
// security tests grep them). No display, so the window never opens.
class SwitchyardProcess final {
public:
    explicit SwitchyardProcess(QString binary);
    ~SwitchyardProcess(); // SIGKILLs a process still running
    SwitchyardProcess(const SwitchyardProcess &) = delete;
    SwitchyardProcess &operator=(const SwitchyardProcess &) = delete;

    // `environment` adds to (and overrides) this process's environment.
    void start(const QString &dataDirectory, const QStringList &arguments,
               const QProcessEnvironment &environment = {});
    // Waits for the `msg="listening"` line; returns the port, or 0 if the process exited
    // or did not get there within the deadline.
    quint16 waitUntilListening(int timeoutMs = 30000);
    // Milliseconds since start().
    qint64 elapsedMs() const { return m_started.elapsed(); }

    qint64 pid() const { return m_process.processId(); }
    bool isRunning() const { return m_process.state() != QProcess::NotRunning; }
    // Sends a signal (SIGKILL, SIGTERM, SIGSEGV, ...).
    void signal(int signalNumber);
    bool waitForExit(int timeoutMs = 30000);
    QProcess::ExitStatus exitStatus() const { return m_process.exitStatus(); }
    int exitCode() const { return m_process.exitCode(); }

    // Everything printed so far.
    QByteArray standardOutput();
    QByteArray standardError();

private:
    void collect();

    QString m_binary;
    QProcess m_process;
    QByteArray m_stdout;
    QByteArray m_stderr;
    QElapsedTimer m_started;
};

} // namespace TestSupport
