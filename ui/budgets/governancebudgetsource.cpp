#include "governancebudgetsource.h"

#include "governance/utcwindow.h"
#include "runtime/statussnapshot.h"

#include <QTimer>

namespace Ui {

namespace {

using Gateway::Governance::nanosToUsd;

BudgetEntry entryFor(const Gateway::BudgetStatus &subject, BudgetEntry::Window window, BudgetEntry::Unit unit,
                     double limit)
{
    namespace Gov = Gateway::Governance;
    BudgetEntry entry;
    entry.scope = subject.isTeam ? BudgetEntry::Scope::Team : BudgetEntry::Scope::Key;
    entry.name = subject.name;
    entry.team = subject.team;
    entry.window = window;
    entry.unit = unit;
    entry.limit = limit;
    entry.softFraction = subject.budgets.softFraction;
    const bool day = window == BudgetEntry::Window::Day;
    // In-flight estimates count, as the gateway counts them when it admits a request.
    const Gov::AccountUsage &usage = subject.usage;
    if (unit == BudgetEntry::Unit::Usd) {
        entry.spent = nanosToUsd((day ? usage.dayNanos : usage.monthNanos) + usage.reservedNanos);
    } else {
        entry.spent = static_cast<double>((day ? usage.dayTokens : usage.monthTokens) + usage.reservedTokens);
    }
    entry.periodStartMs = day ? Gov::utcDayStartMs(subject.atMs) : Gov::utcMonthStartMs(subject.atMs);
    entry.periodEndMs = day ? Gov::nextUtcDayStartMs(subject.atMs) : Gov::nextUtcMonthStartMs(subject.atMs);
    return entry;
}

} // namespace

QString budgetRowKey(const BudgetEntry &entry)
{
    return QString::number(static_cast<int>(entry.scope)) + QLatin1Char('/') + QString::number(static_cast<int>(entry.window))
        + QLatin1Char('/') + QString::number(static_cast<int>(entry.unit)) + QLatin1Char('/') + entry.name;
}

GovernanceBudgetSource::GovernanceBudgetSource(const Gateway::StatusProvider &status, QObject *parent)
    : BudgetSource {parent}
    , m_status {status}
    , m_timer {new QTimer(this)}
{
    m_timer->setInterval(PollIntervalMs);
    connect(m_timer, &QTimer::timeout, this, &GovernanceBudgetSource::pollNow);
}

void GovernanceBudgetSource::start()
{
    pollNow();
    m_timer->start();
}

QList<BudgetEntry> GovernanceBudgetSource::entriesFrom(const std::vector<Gateway::BudgetStatus> &status)
{
    using Window = BudgetEntry::Window;
    using Unit = BudgetEntry::Unit;
    QList<BudgetEntry> entries;
    for (const Gateway::BudgetStatus &subject : status) {
        const auto &b = subject.budgets;
        if (b.isUnlimited()) {
            entries.append(entryFor(subject, Window::Day, Unit::Usd, 0));
            continue;
        }
        if (b.usdPerDay > 0) {
            entries.append(entryFor(subject, Window::Day, Unit::Usd, b.usdPerDay));
        }
        if (b.usdPerMonth > 0) {
            entries.append(entryFor(subject, Window::Month, Unit::Usd, b.usdPerMonth));
        }
        if (b.tokensPerDay > 0) {
            entries.append(entryFor(subject, Window::Day, Unit::Tokens, static_cast<double>(b.tokensPerDay)));
        }
        if (b.tokensPerMonth > 0) {
            entries.append(entryFor(subject, Window::Month, Unit::Tokens, static_cast<double>(b.tokensPerMonth)));
        }
    }
    return entries;
}

void GovernanceBudgetSource::pollNow()
{
    const std::vector<Gateway::BudgetStatus> status = m_status.budgetStatus();
    QList<BudgetEntry> entries = entriesFrom(status);
    QHash<QString, Gateway::Governance::BurnRate> burn;
    const qint64 atMs = status.empty() ? 0 : status.front().atMs;
    for (BudgetEntry &entry : entries) {
        const QString key = budgetRowKey(entry);
        Gateway::Governance::BurnRate rate = m_burn.value(key);
        rate.add(atMs, entry.spent);
        entry.burnPerHour = rate.perHour();
        burn.insert(key, std::move(rate));
    }
    m_burn = std::move(burn); // rows gone from the policy drop their history
    if (entries != m_entries) {
        m_entries = std::move(entries);
        emit changed();
    }
}

QString GovernanceBudgetSource::description() const
{
    return tr("Spend in the current UTC day and month as the gateway enforces it: committed spend plus the "
              "estimates of requests in flight. Burn rate over the last %1 minutes. Bars show the budget spent; "
              "the tick, how much of the window has passed.")
        .arg(Gateway::Governance::BurnRate::WindowMs / 60000);
}

} // namespace Ui
