#include "requestlogbudgetsource.h"

#include <algorithm>

namespace Ui {

RequestLogBudgetSource::RequestLogBudgetSource(qint64 periodStartMs, qint64 periodEndMs, QObject *parent)
    : BudgetSource {parent}
    , m_periodStartMs {periodStartMs}
    , m_periodEndMs {periodEndMs}
{
}

void RequestLogBudgetSource::addRows(const QList<QJsonObject> &rows)
{
    bool any = false;
    for (const QJsonObject &row : rows) {
        const qint64 finished = row.value(u"finished_at_ms").toInteger();
        if (finished < m_periodStartMs || (m_periodEndMs > 0 && finished >= m_periodEndMs)) {
            continue;
        }
        const QString name = row.value(u"virtual_key").toString();
        auto it = m_keys.find(name);
        if (it == m_keys.end()) {
            Key key;
            key.entry.scope = BudgetEntry::Scope::Key;
            key.entry.name = name;
            key.entry.periodStartMs = m_periodStartMs;
            key.entry.periodEndMs = m_periodEndMs;
            it = m_keys.insert(name, key);
            m_order.append(name);
        }
        const double cost = row.value(u"cost_usd").toDouble();
        it->entry.spentUsd += cost;
        it->entry.requests += 1;
        it->entry.tokens += row.value(u"tokens_in").toInteger() + row.value(u"tokens_out").toInteger();
        it->recent.emplace_back(finished, cost);
        m_newestMs = std::max(m_newestMs, finished);
        any = true;
    }
    if (!any) {
        return;
    }
    for (Key &key : m_keys) {
        while (!key.recent.empty() && key.recent.front().first < m_newestMs - BurnWindowMs) {
            key.recent.pop_front();
        }
        double hour = 0;
        for (const auto &entry : key.recent) {
            hour += entry.second;
        }
        // Less than an hour of history: scale what there is to an hourly rate.
        const qint64 span = std::max<qint64>(60 * 1000, std::min(BurnWindowMs, m_newestMs - m_periodStartMs));
        key.entry.burnUsdPerHour = hour * 3600.0 * 1000.0 / static_cast<double>(span);
    }
    emit changed();
}

QList<BudgetEntry> RequestLogBudgetSource::entries() const
{
    QList<BudgetEntry> list;
    list.reserve(m_order.size());
    for (const QString &name : m_order) {
        list.append(m_keys.value(name).entry);
    }
    return list;
}

QString RequestLogBudgetSource::description() const
{
    QString text = tr("Spend per virtual key since midnight, from the request log. Team budgets and limits "
                      "arrive with governance; until then no budget is set.");
    if (m_truncated) {
        text += QLatin1Char(' ') + tr("The log held more rows than one read covers: totals start part-way through the day.");
    }
    return text;
}

} // namespace Ui
