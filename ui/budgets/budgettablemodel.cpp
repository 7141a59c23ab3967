#include "budgettablemodel.h"

#include "semanticcolors.h"

#include <QDateTime>
#include <QFont>
#include <QGuiApplication>
#include <QLocale>
#include <QPalette>

#include <algorithm>

namespace Ui {

namespace {

QString amount(const Gateway::BudgetRow &entry, double value)
{
    if (entry.unit == Gateway::BudgetRow::Unit::Tokens) {
        return QLocale {}.toString(static_cast<qint64>(value + 0.5));
    }
    return QStringLiteral("$") + QString::number(value, 'f', value < 10 ? 4 : 2);
}

bool sameRow(const Gateway::BudgetRow &a, const Gateway::BudgetRow &b)
{
    return a.scope == b.scope && a.name == b.name && a.window == b.window && a.unit == b.unit;
}

} // namespace

BudgetTableModel::BudgetTableModel(QObject *parent, WallClock clock)
    : QAbstractTableModel {parent}
    , m_clock {clock ? std::move(clock) : WallClock {[] { return QDateTime::currentMSecsSinceEpoch(); }}}
{
}

void BudgetTableModel::setEntries(const QList<Gateway::BudgetRow> &entries)
{
    // Entries never disappear within a period; a new period (or source) starts over.
    for (const Gateway::BudgetRow &old : std::as_const(m_rows)) {
        const bool kept = std::any_of(entries.cbegin(), entries.cend(), [&old](const Gateway::BudgetRow &e) { return sameRow(e, old); });
        if (!kept) {
            beginResetModel();
            m_rows.clear();
            endResetModel();
            break;
        }
    }
    for (const Gateway::BudgetRow &entry : entries) {
        const auto it = std::find_if(m_rows.begin(), m_rows.end(), [&entry](const Gateway::BudgetRow &e) { return sameRow(e, entry); });
        if (it == m_rows.end()) {
            const int row = static_cast<int>(m_rows.size());
            beginInsertRows({}, row, row);
            m_rows.append(entry);
            endInsertRows();
        } else if (!(*it == entry)) {
            *it = entry;
            const int row = static_cast<int>(it - m_rows.begin());
            emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
        }
    }
}

int BudgetTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int BudgetTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant BudgetTableModel::display(const Gateway::BudgetRow &entry, int column) const
{
    switch (column) {
    case ScopeColumn:
        return entry.scope == Gateway::BudgetRow::Scope::Team ? tr("team") : tr("key");
    case NameColumn:
        return entry.team.isEmpty() ? entry.name : tr("%1 (team %2)").arg(entry.name, entry.team);
    case BudgetColumn: {
        const bool day = entry.window == Gateway::BudgetRow::Window::Day;
        const QString per = entry.unit == Gateway::BudgetRow::Unit::Usd ? (day ? tr("USD / day") : tr("USD / month"))
                                                                  : (day ? tr("tokens / day") : tr("tokens / month"));
        return entry.limit > 0 ? QString {amount(entry, entry.limit) + QLatin1Char(' ') + per}
                               : tr("none (spend today)");
    }
    case SpendColumn:
        if (entry.limit <= 0) {
            return amount(entry, entry.spent);
        }
        return QStringLiteral("%1 / %2 (%3%)")
            .arg(amount(entry, entry.spent), amount(entry, entry.limit),
                 QString::number(100.0 * entry.spent / entry.limit, 'f', 0));
    case BurnColumn:
        if (!entry.burnPerHour) {
            return tr("measuring");
        }
        return QString {amount(entry, *entry.burnPerHour) + tr(" /h")};
    case ExhaustionColumn: {
        if (entry.limit <= 0) {
            return QStringLiteral("\u2013");
        }
        const qint64 now = m_clock();
        const auto at = projectedExhaustionMs(entry, now);
        if (!at) {
            return entry.burnPerHour ? tr("not this window") : QStringLiteral("\u2013");
        }
        if (*at <= now) {
            return tr("reached");
        }
        return QLocale {}.toString(QDateTime::fromMSecsSinceEpoch(*at), QLocale::ShortFormat);
    }
    case StatusColumn:
        switch (budgetAlert(entry, m_clock())) {
        case Gateway::BudgetRow::Alert::Hard:
            return tr("hard limit reached: refusing");
        case Gateway::BudgetRow::Alert::Soft:
            return tr("soft limit crossed (%1%)").arg(QString::number(entry.softFraction * 100, 'f', 0));
        case Gateway::BudgetRow::Alert::Projected:
            return tr("runs out before the window ends");
        case Gateway::BudgetRow::Alert::None:
            return entry.limit > 0 ? tr("ok") : QString {};
        }
        return {};
    default:
        return {};
    }
}

QVariant BudgetTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size()) {
        return {};
    }
    const Gateway::BudgetRow &entry = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
        return display(entry, index.column());
    case Qt::TextAlignmentRole:
        if (index.column() == BurnColumn || index.column() == ExhaustionColumn) {
            return QVariant::fromValue(Qt::Alignment {Qt::AlignRight | Qt::AlignVCenter});
        }
        return {};
    case Qt::ForegroundRole:
        switch (budgetAlert(entry, m_clock())) {
        case Gateway::BudgetRow::Alert::Hard:
            return errorColor(QGuiApplication::palette());
        case Gateway::BudgetRow::Alert::Soft:
        case Gateway::BudgetRow::Alert::Projected:
            return warningColor(QGuiApplication::palette());
        case Gateway::BudgetRow::Alert::None:
            return {};
        }
        return {};
    case Qt::FontRole:
        if (index.column() == StatusColumn && budgetAlert(entry, m_clock()) >= Gateway::BudgetRow::Alert::Soft) {
            QFont bold;
            bold.setBold(true);
            return bold;
        }
        return {};
    case SpentFractionRole:
        if (index.column() != SpendColumn || entry.limit <= 0) {
            return {};
        }
        return std::clamp(entry.spent / entry.limit, 0.0, 1.0);
    case PeriodFractionRole: {
        if (index.column() != SpendColumn || entry.limit <= 0 || entry.periodEndMs <= entry.periodStartMs) {
            return {};
        }
        const double elapsed = static_cast<double>(m_clock() - entry.periodStartMs);
        return std::clamp(elapsed / static_cast<double>(entry.periodEndMs - entry.periodStartMs), 0.0, 1.0);
    }
    case AlertRole:
        return static_cast<int>(budgetAlert(entry, m_clock()));
    case Qt::ToolTipRole:
        if (index.column() == SpendColumn && entry.limit > 0) {
            return tr("Bar: budget spent (requests in flight included). Tick: share of the UTC window gone; "
                      "a bar past the tick spends faster than the budget allows.");
        }
        return {};
    default:
        return {};
    }
}

QVariant BudgetTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) {
        return {};
    }
    switch (section) {
    case ScopeColumn:
        return tr("Scope");
    case NameColumn:
        return tr("Team / key");
    case BudgetColumn:
        return tr("Budget");
    case SpendColumn:
        return tr("Spent");
    case BurnColumn:
        return tr("Burn rate");
    case ExhaustionColumn:
        return tr("Projected exhaustion");
    case StatusColumn:
        return tr("Alert");
    default:
        return {};
    }
}

} // namespace Ui
