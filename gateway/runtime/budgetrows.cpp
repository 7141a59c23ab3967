#include "budgetrows.h"

#include "governance/utcwindow.h"
#include "runtime/statussnapshot.h"

namespace Gateway {

namespace {

BudgetRow rowFor(const BudgetStatus &subject, BudgetRow::Window window, BudgetRow::Unit unit, double limit)
{
    namespace Gov = Governance;
    BudgetRow row;
    row.scope = subject.isTeam ? BudgetRow::Scope::Team : BudgetRow::Scope::Key;
    row.name = subject.name;
    row.team = subject.team;
    row.window = window;
    row.unit = unit;
    row.limit = limit;
    row.softFraction = subject.budgets.softFraction;
    const bool day = window == BudgetRow::Window::Day;
    // In-flight estimates count, as the gateway counts them when it admits a request.
    const Gov::AccountUsage &usage = subject.usage;
    if (unit == BudgetRow::Unit::Usd) {
        const qint64 committed = day ? usage.dayNanos : usage.monthNanos;
        row.committed = Gov::nanosToUsd(committed);
        row.spent = Gov::nanosToUsd(committed + usage.reservedNanos);
    } else {
        const qint64 committed = day ? usage.dayTokens : usage.monthTokens;
        row.committed = static_cast<double>(committed);
        row.spent = static_cast<double>(committed + usage.reservedTokens);
    }
    row.periodStartMs = day ? Gov::utcDayStartMs(subject.atMs) : Gov::utcMonthStartMs(subject.atMs);
    row.periodEndMs = day ? Gov::nextUtcDayStartMs(subject.atMs) : Gov::nextUtcMonthStartMs(subject.atMs);
    return row;
}

} // namespace

QList<BudgetRow> budgetRowsFrom(const std::vector<BudgetStatus> &status)
{
    using Window = BudgetRow::Window;
    using Unit = BudgetRow::Unit;
    QList<BudgetRow> rows;
    for (const BudgetStatus &subject : status) {
        const auto &b = subject.budgets;
        if (b.isUnlimited()) {
            rows.append(rowFor(subject, Window::Day, Unit::Usd, 0));
            continue;
        }
        if (b.usdPerDay > 0) {
            rows.append(rowFor(subject, Window::Day, Unit::Usd, b.usdPerDay));
        }
        if (b.usdPerMonth > 0) {
            rows.append(rowFor(subject, Window::Month, Unit::Usd, b.usdPerMonth));
        }
        if (b.tokensPerDay > 0) {
            rows.append(rowFor(subject, Window::Day, Unit::Tokens, static_cast<double>(b.tokensPerDay)));
        }
        if (b.tokensPerMonth > 0) {
            rows.append(rowFor(subject, Window::Month, Unit::Tokens, static_cast<double>(b.tokensPerMonth)));
        }
    }
    return rows;
}

QString budgetRowKey(const BudgetRow &row)
{
    return QString::number(static_cast<int>(row.scope)) + QLatin1Char('/') + QString::number(static_cast<int>(row.window))
        + QLatin1Char('/') + QString::number(static_cast<int>(row.unit)) + QLatin1Char('/') + row.name;
}

std::optional<qint64> projectedExhaustionMs(const BudgetRow &row, qint64 nowMs)
{
    return Governance::projectedExhaustionMs(row.spent, row.limit, row.burnPerHour.value_or(0), nowMs,
                                             row.periodEndMs);
}

BudgetRow::Alert budgetAlert(const BudgetRow &row, qint64 nowMs)
{
    if (row.limit <= 0) {
        return BudgetRow::Alert::None;
    }
    if (row.spent >= row.limit) {
        return BudgetRow::Alert::Hard;
    }
    if (row.spent >= row.softFraction * row.limit) {
        return BudgetRow::Alert::Soft;
    }
    return projectedExhaustionMs(row, nowMs) ? BudgetRow::Alert::Projected : BudgetRow::Alert::None;
}

QList<BudgetRow> BudgetRowTracker::update(const std::vector<BudgetStatus> &status)
{
    QList<BudgetRow> rows = budgetRowsFrom(status);
    QHash<QString, Governance::BurnRate> burn;
    const qint64 atMs = status.empty() ? 0 : status.front().atMs;
    for (BudgetRow &row : rows) {
        const QString key = budgetRowKey(row);
        Governance::BurnRate rate = m_burn.value(key);
        rate.add(atMs, row.committed);
        row.burnPerHour = rate.perHour();
        burn.insert(key, std::move(rate));
    }
    m_burn = std::move(burn); // rows gone from the policy drop their history
    return rows;
}

} // namespace Gateway
