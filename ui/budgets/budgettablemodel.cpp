#include "budgettablemodel.h"

#include "semanticcolors.h"

#include <QDateTime>
#include <QGuiApplication>
#include <QLocale>
#include <QPalette>

#include <algorithm>

namespace Ui {

namespace {

QString money(double usd)
{
    return QStringLiteral("$") + QString::number(usd, 'f', usd < 10 ? 4 : 2);
}

bool sameRow(const BudgetEntry &a, const BudgetEntry &b)
{
    return a.scope == b.scope && a.name == b.name;
}

} // namespace

BudgetTableModel::BudgetTableModel(QObject *parent, WallClock clock)
    : QAbstractTableModel {parent}
    , m_clock {clock ? std::move(clock) : WallClock {[] { return QDateTime::currentMSecsSinceEpoch(); }}}
{
}

void BudgetTableModel::setEntries(const QList<BudgetEntry> &entries)
{
    // Entries never disappear within a period; a new period (or source) starts over.
    for (const BudgetEntry &old : std::as_const(m_rows)) {
        const bool kept = std::any_of(entries.cbegin(), entries.cend(), [&old](const BudgetEntry &e) { return sameRow(e, old); });
        if (!kept) {
            beginResetModel();
            m_rows.clear();
            endResetModel();
            break;
        }
    }
    for (const BudgetEntry &entry : entries) {
        const auto it = std::find_if(m_rows.begin(), m_rows.end(), [&entry](const BudgetEntry &e) { return sameRow(e, entry); });
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

QVariant BudgetTableModel::display(const BudgetEntry &entry, int column) const
{
    switch (column) {
    case ScopeColumn:
        return entry.scope == BudgetEntry::Scope::Team ? tr("team") : tr("key");
    case NameColumn:
        return entry.name.isEmpty() ? tr("(no key)") : entry.name;
    case SpendColumn:
        return entry.budgetUsd > 0 ? QString {money(entry.spentUsd) + QStringLiteral(" / ") + money(entry.budgetUsd)}
                                   : money(entry.spentUsd);
    case BudgetColumn:
        return entry.budgetUsd > 0 ? money(entry.budgetUsd) : tr("none");
    case BurnColumn:
        return QString {money(entry.burnUsdPerHour) + tr("/h")};
    case ExhaustionColumn: {
        if (entry.budgetUsd <= 0) {
            return QStringLiteral("\u2013");
        }
        const auto at = projectedExhaustionMs(entry, m_clock());
        if (!at) {
            return tr("not this period");
        }
        return QLocale {}.toString(QDateTime::fromMSecsSinceEpoch(*at), QLocale::ShortFormat);
    }
    case RequestsColumn:
        return QLocale {}.toString(entry.requests);
    case TokensColumn:
        return QLocale {}.toString(entry.tokens);
    default:
        return {};
    }
}

QVariant BudgetTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size()) {
        return {};
    }
    const BudgetEntry &entry = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
        return display(entry, index.column());
    case Qt::TextAlignmentRole:
        if (index.column() >= BudgetColumn) {
            return QVariant::fromValue(Qt::Alignment {Qt::AlignRight | Qt::AlignVCenter});
        }
        return {};
    case Qt::ForegroundRole:
        if (budgetAlert(entry, m_clock())) {
            return errorColor(QGuiApplication::palette());
        }
        return {};
    case SpentFractionRole:
        if (index.column() != SpendColumn || entry.budgetUsd <= 0) {
            return {};
        }
        return std::clamp(entry.spentUsd / entry.budgetUsd, 0.0, 1.0);
    case PeriodFractionRole: {
        if (index.column() != SpendColumn || entry.budgetUsd <= 0 || entry.periodEndMs <= entry.periodStartMs) {
            return {};
        }
        const double elapsed = static_cast<double>(m_clock() - entry.periodStartMs);
        return std::clamp(elapsed / static_cast<double>(entry.periodEndMs - entry.periodStartMs), 0.0, 1.0);
    }
    case AlertRole:
        return budgetAlert(entry, m_clock());
    case Qt::ToolTipRole:
        if (index.column() == SpendColumn && entry.budgetUsd > 0) {
            return tr("Bar: budget spent. Tick: share of the period gone; a bar past the tick spends faster than the budget allows.");
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
    case SpendColumn:
        return tr("Spend today");
    case BudgetColumn:
        return tr("Budget");
    case BurnColumn:
        return tr("Burn rate");
    case ExhaustionColumn:
        return tr("Projected exhaustion");
    case RequestsColumn:
        return tr("Requests");
    case TokensColumn:
        return tr("Tokens");
    default:
        return {};
    }
}

} // namespace Ui
