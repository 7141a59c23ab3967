#pragma once

#include "budgetsource.h"

#include "runtime/budgetrows.h"

class QTimer;

namespace Gateway {
class StatusProvider;
}

namespace Ui {

// Budgets of every team and virtual key of the active policy, read from the gateway's
// limit store (what it enforces: committed spend plus requests in flight) every
// PollIntervalMs, with a burn rate per budget from successive readings. The read is in
// memory and locks each account only briefly, so it runs on the GUI thread like the
// status snapshot; the spend journal's SQL totals would scan the ledger on every poll.
class GovernanceBudgetSource final : public BudgetSource {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(GovernanceBudgetSource)

public:
    static constexpr int PollIntervalMs = 1000;

    explicit GovernanceBudgetSource(const Gateway::StatusProvider &status, QObject *parent = nullptr);

    void start();
    void pollNow();

    QList<Gateway::BudgetRow> entries() const override { return m_entries; }
    QString description() const override;

private:
    const Gateway::StatusProvider &m_status;
    QTimer *m_timer;
    QList<Gateway::BudgetRow> m_entries;
    Gateway::BudgetRowTracker m_tracker;
};

} // namespace Ui
