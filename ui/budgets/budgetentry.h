#pragma once

#include <QString>

#include <optional>

namespace Ui {

// Spend of one team or virtual key in the current budget period, as the budgets view
// shows it. Governance (teams, budgets, enforced spend) will supply these; until then
// RequestLogBudgetSource derives spend from the request log and knows no budget.
struct BudgetEntry {
    enum class Scope { Team, Key };
    Scope scope = Scope::Key;
    QString name;          // team name or virtual key name; empty = requests without a key
    QString team;          // a key's team, when known
    double spentUsd = 0;
    double budgetUsd = 0;  // 0 = no budget set
    double burnUsdPerHour = 0; // recent spend rate, for the projection
    qint64 periodStartMs = 0;
    qint64 periodEndMs = 0;    // when the budget resets (Unix ms)
    qint64 requests = 0;
    qint64 tokens = 0;

    bool operator==(const BudgetEntry &) const = default;
};

// When the budget runs out at the current burn rate: now when already spent, nothing
// without a budget or without spend, and nothing when the period resets first.
std::optional<qint64> projectedExhaustionMs(const BudgetEntry &entry, qint64 nowMs);

// Alerts: 80% spent, or projected to run out before the period ends.
bool budgetAlert(const BudgetEntry &entry, qint64 nowMs);

constexpr double BudgetAlertFraction = 0.8;

} // namespace Ui
