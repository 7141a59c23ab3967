#pragma once

#include <QString>

#include <optional>

namespace Ui {

// One budget of one team or virtual key in its current UTC window, as the budgets view
// shows it: e.g. key "research-agent", dollars per day, $3.10 of $10 spent.
struct BudgetEntry {
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
    double limit = 0;           // 0 = no budget (the row only shows spend)
    double softFraction = 0.8;
    std::optional<double> burnPerHour; // unknown until the readings span a few seconds
    qint64 periodStartMs = 0;   // the UTC window (Unix ms)
    qint64 periodEndMs = 0;

    bool operator==(const BudgetEntry &) const = default;
};

// When the budget runs out at the current burn rate (see Governance::projectedExhaustionMs).
std::optional<qint64> projectedExhaustionMs(const BudgetEntry &entry, qint64 nowMs);
BudgetEntry::Alert budgetAlert(const BudgetEntry &entry, qint64 nowMs);

} // namespace Ui
