#include "governancebudgetsource.h"

#include "runtime/statussnapshot.h"

#include <QTimer>

namespace Ui {

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

void GovernanceBudgetSource::pollNow()
{
    QList<Gateway::BudgetRow> entries = m_tracker.update(m_status.budgetStatus());
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
