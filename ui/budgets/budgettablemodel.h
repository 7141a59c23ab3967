#pragma once

#include "budgetentry.h"

#include <QAbstractTableModel>
#include <QList>

#include <functional>

namespace Ui {

// Budget entries as table rows, keyed by scope and name: new entries are inserted,
// changed numbers emit dataChanged, so selection and scroll survive refreshes.
class BudgetTableModel final : public QAbstractTableModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BudgetTableModel)

public:
    enum Column { ScopeColumn, NameColumn, SpendColumn, BudgetColumn, BurnColumn, ExhaustionColumn, RequestsColumn,
                  TokensColumn, ColumnCount };
    enum Role {
        SpentFractionRole = Qt::UserRole + 1, // spent / budget in [0, 1]; invalid without a budget
        PeriodFractionRole,                   // how much of the period has passed
        AlertRole,                            // bool
    };

    using WallClock = std::function<qint64()>;

    explicit BudgetTableModel(QObject *parent = nullptr, WallClock clock = {});

    void setEntries(const QList<BudgetEntry> &entries);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    QVariant display(const BudgetEntry &entry, int column) const;

    WallClock m_clock;
    QList<BudgetEntry> m_rows;
};

} // namespace Ui
