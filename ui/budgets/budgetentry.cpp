#include "budgetentry.h"

#include "governance/burnrate.h"

namespace Ui {

std::optional<qint64> projectedExhaustionMs(const BudgetEntry &entry, qint64 nowMs)
{
    return Gateway::Governance::projectedExhaustionMs(entry.spent, entry.limit, entry.burnPerHour.value_or(0), nowMs,
                                                      entry.periodEndMs);
}

BudgetEntry::Alert budgetAlert(const BudgetEntry &entry, qint64 nowMs)
{
    if (entry.limit <= 0) {
        return BudgetEntry::Alert::None;
    }
    if (entry.spent >= entry.limit) {
        return BudgetEntry::Alert::Hard;
    }
    if (entry.spent >= entry.softFraction * entry.limit) {
        return BudgetEntry::Alert::Soft;
    }
    return projectedExhaustionMs(entry, nowMs) ? BudgetEntry::Alert::Projected : BudgetEntry::Alert::None;
}

} // namespace Ui
