#pragma once

#include <QObject>

#include <chrono>

class QDateTime;
class QTimer;

namespace Gateway {
class StatusProvider;
struct StatusSnapshot;
}

namespace App {

// The --headless view when stdout is not a terminal (a pipe, a file, the journal):
// every interval it writes one logfmt "stats" line, then one line per route and per
// backend, flushing each.
class LogConsole final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LogConsole)

public:
    static constexpr std::chrono::milliseconds DefaultInterval {10000};

    explicit LogConsole(const Gateway::StatusProvider &status, std::chrono::milliseconds interval = DefaultInterval,
                        QObject *parent = nullptr);

    void start();
    void stop();

    // Writes the statistics lines now, e.g. one last time at shutdown.
    void writeStats();

    // The lines writeStats() would write for this snapshot, each ending in '\n'.
    static QByteArray formatStats(const Gateway::StatusSnapshot &snapshot, const QDateTime &timestamp);

private:
    const Gateway::StatusProvider &m_status;
    QTimer *m_timer;
};

} // namespace App
