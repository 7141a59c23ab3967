#include "budgetentry.h"

namespace Ui {

std::optional<qint64> projectedExhaustionMs(const BudgetEntry &entry, qint64 nowMs)
{
    if (entry.budgetUsd <= 0) {
        return std::nullopt;
    }
    const double remaining = entry.budgetUsd - entry.spentUsd;
    if (remaining <= 0) {
        return nowMs;
    }
    if (entry.burnUsdPerHour <= 0) {
        return std::nullopt;
    }
    const auto at = nowMs + static_cast<qint64>(remaining / entry.burnUsdPerHour * 3600.0 * 1000.0);
    if (entry.periodEndMs > 0 && at >= entry.periodEndMs) {
        return std::nullopt; // the period resets first
    }
    return at;
}

bool budgetAlert(const BudgetEntry &entry, qint64 nowMs)
{
    if (entry.budgetUsd <= 0) {
        return false;
    }
    return entry.spentUsd >= BudgetAlertFraction * entry.budgetUsd || projectedExhaustionMs(entry, nowMs).has_value();
}

} // namespace Ui
