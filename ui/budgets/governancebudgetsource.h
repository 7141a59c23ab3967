#pragma once

#include "budgetsource.h"

#include "governance/burnrate.h"

#include <QHash>

class QTimer;

namespace Gateway {
class StatusProvider;
struct BudgetStatus;
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

    QList<BudgetEntry> entries() const override { return m_entries; }
    QString description() const override;

    // One row per configured budget of each subject; a subject without any budget gets
    // one row of its spend today. Burn rates are left unknown.
    static QList<BudgetEntry> entriesFrom(const std::vector<Gateway::BudgetStatus> &status);

private:
    const Gateway::StatusProvider &m_status;
    QTimer *m_timer;
    QList<BudgetEntry> m_entries;
    QHash<QString, Gateway::Governance::BurnRate> m_burn; // by rowKey()
};

// Identifies a row across polls: scope, name, window and unit.
QString budgetRowKey(const BudgetEntry &entry);

} // namespace Ui
