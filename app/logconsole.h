#pragma once

#include "runtime/budgetrows.h"

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
// every interval it writes one logfmt "stats" line, then one line per route, per backend
// and per budget of each team and key, flushing each.
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

    // The lines writeStats() would write for this snapshot and these budgets, each ending
    // in '\n'.
    static QByteArray formatStats(const Gateway::StatusSnapshot &snapshot, const QList<Gateway::BudgetRow> &budgets,
                                  const QDateTime &timestamp);

private:
    const Gateway::StatusProvider &m_status;
    QTimer *m_timer;
    Gateway::BudgetRowTracker m_budgetTracker; // burn rates from one reading per interval
};

} // namespace App
