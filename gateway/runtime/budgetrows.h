#pragma once

#include "governance/burnrate.h"

#include <QHash>
#include <QList>
#include <QString>

#include <optional>
#include <vector>

namespace Gateway {

struct BudgetStatus;

// One budget of one team or virtual key in its current UTC window, as the consoles show
// it (the window's budgets view and the terminal's): e.g. key "research-agent", dollars
// per day, $3.10 of $10 spent. Plain data, so both consoles build the same rows.
struct BudgetRow {
    enum class Scope { Team, Key };
    enum class Window { Day, Month };
    enum class Unit { Usd, Tokens };
    // Worst first: Hard = the budget is reached (requests are refused), Soft = its soft
    // limit is crossed (the gateway recorded a budget.soft_limit event), Projected = at
    // the current burn rate it runs out before the window ends.
    enum class Alert { None, Projected, Soft, Hard };

    Scope scope = Scope::Key;
    QString name;
    QString team; // a key's team, when it has one
    Window window = Window::Day;
    Unit unit = Unit::Usd;
    double spent = 0;           // committed plus the estimates of requests in flight
    // Without the in-flight estimates: what burn rates are measured on, since a request's
    // estimate shrinks to its real cost when it ends and `spent` may go down meanwhile.
    double committed = 0;
    double limit = 0;           // 0 = no budget (the row only shows spend)
    double softFraction = 0.8;
    std::optional<double> burnPerHour; // unknown until the readings span a few seconds
    qint64 periodStartMs = 0;   // the UTC window (Unix ms)
    qint64 periodEndMs = 0;

    bool operator==(const BudgetRow &) const = default;
};

// One row per configured budget of each subject; a subject without any budget gets one
// row of its spend today. Burn rates are left unknown.
QList<BudgetRow> budgetRowsFrom(const std::vector<BudgetStatus> &status);

// Identifies a row across polls: scope, name, window and unit.
QString budgetRowKey(const BudgetRow &row);

// When the budget runs out at the current burn rate (see Governance::projectedExhaustionMs).
std::optional<qint64> projectedExhaustionMs(const BudgetRow &row, qint64 nowMs);
BudgetRow::Alert budgetAlert(const BudgetRow &row, qint64 nowMs);

// Turns successive budgetStatus() readings into rows with burn rates: each poll adds a
// reading of committed spend per row; rows gone from the policy drop their history.
// Pure: the time is the readings' own.
class BudgetRowTracker final {
public:
    QList<BudgetRow> update(const std::vector<BudgetStatus> &status);

private:
    QHash<QString, Governance::BurnRate> m_burn; // by budgetRowKey()
};

} // namespace Gateway
