#pragma once

#include "budgetsource.h"

#include <QHash>
#include <QJsonObject>

#include <deque>

namespace Ui {

// Spend per virtual key since local midnight, summed from request-log rows (cost_usd,
// tokens) as RequestLogTail delivers them; the burn rate is the spend of the last hour.
// There are no budgets without governance, so budgetUsd stays 0.
class RequestLogBudgetSource final : public BudgetSource {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RequestLogBudgetSource)

public:
    static constexpr qint64 BurnWindowMs = 60 * 60 * 1000;

    RequestLogBudgetSource(qint64 periodStartMs, qint64 periodEndMs, QObject *parent = nullptr);

    void addRows(const QList<QJsonObject> &rows);
    void setTruncated(bool truncated) { m_truncated = truncated; }

    QList<BudgetEntry> entries() const override;
    QString description() const override;

private:
    struct Key {
        BudgetEntry entry;
        std::deque<std::pair<qint64, double>> recent; // (finished_at, cost) within BurnWindowMs
    };

    qint64 m_periodStartMs;
    qint64 m_periodEndMs;
    QHash<QString, Key> m_keys;
    QStringList m_order;
    qint64 m_newestMs = 0;
    bool m_truncated = false;
};

} // namespace Ui
