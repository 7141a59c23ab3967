#pragma once

#include "terminalframe.h"

#include <QByteArray>
#include <QObject>

class QSocketNotifier;
class QTimer;

namespace Gateway {
class StatusProvider;
}

namespace App {

// The --headless view when stdout is a terminal: routes with their targets' live weights
// and health, backends and budgets (see renderTerminalFrame), redrawn in place twice a
// second on the alternate screen and at once on a resize. Keys: q quits, r cycles the
// view (all, routes, backends, budgets), 1-4 pick one, Ctrl+L repaints.
//
// The terminal is process-wide state, so only one instance may be started at a time.
// The original settings come back on stop(), on destruction, at exit(), on Ctrl+Z
// (re-entered on fg) and on SIGINT/SIGTERM/SIGHUP/SIGQUIT if nobody else handles them.
class TerminalConsole final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TerminalConsole)

public:
    static constexpr int RefreshIntervalMs = 500;

    explicit TerminalConsole(const Gateway::StatusProvider &status, QObject *parent = nullptr);
    ~TerminalConsole() override;

    // Takes over the terminal. Returns false, changing nothing, if stdout is not a
    // terminal or another console is active.
    bool start();
    void stop();
    bool isActive() const { return m_active; }

    // Shown in the header, like a notebook server's token, so the operator can use the
    // admin API; empty hides it.
    void setAdminToken(const QByteArray &token) { m_adminToken = token; }

signals:
    void quitRequested();

private:
    void refresh(); // reads budgets, then redraws
    void redraw();
    void readKeys();
    void readSignals();
    void readTerminalSize();
    void enterTerminalMode();

    const Gateway::StatusProvider &m_status;
    QTimer *m_timer;
    QSocketNotifier *m_keyNotifier = nullptr;
    QSocketNotifier *m_signalNotifier = nullptr;
    int m_signalPipe[2] = {-1, -1};
    int m_width = 80;
    int m_height = 24;
    TerminalView m_view = TerminalView::All;
    Gateway::BudgetRowTracker m_budgetTracker;
    QList<Gateway::BudgetRow> m_budgets;
    bool m_active = false;
    QByteArray m_adminToken;
};

} // namespace App
