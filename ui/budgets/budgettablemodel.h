#pragma once

#include "runtime/budgetrows.h"

#include <QAbstractTableModel>
#include <QList>

#include <functional>

namespace Ui {

// Budget entries as table rows, keyed by scope, name, window and unit: new entries are
// inserted, changed numbers emit dataChanged, so selection and scroll survive refreshes.
// Alerts are coloured: a reached budget in the error colour, a crossed soft limit or a
// projected exhaustion before the window ends in the warning colour.
class BudgetTableModel final : public QAbstractTableModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BudgetTableModel)

public:
    enum Column { ScopeColumn, NameColumn, BudgetColumn, SpendColumn, BurnColumn, ExhaustionColumn, StatusColumn,
                  ColumnCount };
    enum Role {
        SpentFractionRole = Qt::UserRole + 1, // spent / budget in [0, 1]; invalid without a budget
        PeriodFractionRole,                   // how much of the period has passed
        AlertRole,                            // int: Gateway::BudgetRow::Alert
    };

    using WallClock = std::function<qint64()>;

    explicit BudgetTableModel(QObject *parent = nullptr, WallClock clock = {});

    void setEntries(const QList<Gateway::BudgetRow> &entries);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    QVariant display(const Gateway::BudgetRow &entry, int column) const;

    WallClock m_clock;
    QList<Gateway::BudgetRow> m_rows;
};

} // namespace Ui
