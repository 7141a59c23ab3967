#include "dashboardview.h"

#include "healthchipdelegate.h"
#include "routetablemodel.h"
#include "throughputchart.h"
#include "weightbardelegate.h"

#include <QHeaderView>
#include <QSplitter>
#include <QTreeView>
#include <QVBoxLayout>

#include <algorithm>

namespace Ui {

namespace {

constexpr int ColumnPadding = 12;

} // namespace

DashboardView::DashboardView(QWidget *parent)
    : QWidget {parent}
    , m_model {new RouteTableModel(this)}
    , m_tree {new QTreeView}
    , m_chart {new ThroughputChart}
{
    m_tree->setModel(m_model);
    m_tree->setItemDelegateForColumn(RouteTableModel::ShareColumn,
                                     new WeightBarDelegate(RouteTableModel::ShareRole, m_tree, RouteTableModel::ActualShareRole));
    m_tree->setItemDelegateForColumn(RouteTableModel::HealthColumn,
                                     new HealthChipDelegate(RouteTableModel::HealthStateRole, RouteTableModel::HealthAgeRole, m_tree));
    m_tree->setUniformRowHeights(true);
    m_tree->setAlternatingRowColors(true);
    m_tree->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_tree->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_tree->setAllColumnsShowFocus(true);
    m_tree->header()->setStretchLastSection(false);
    m_tree->header()->setSectionsMovable(true);

    // New routes open expanded: their targets are the point of the table.
    connect(m_model, &QAbstractItemModel::rowsInserted, this, [this](const QModelIndex &parent, int first, int last) {
        if (parent.isValid()) {
            return;
        }
        for (int row = first; row <= last; ++row) {
            m_tree->expand(m_model->index(row, 0));
        }
    });

    auto *splitter = new QSplitter(Qt::Vertical);
    splitter->addWidget(m_tree);
    splitter->addWidget(m_chart);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    splitter->setChildrenCollapsible(false);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(splitter);
}

void DashboardView::showSnapshot(const Gateway::StatusSnapshot &snapshot)
{
    m_model->update(snapshot);
    if (!m_columnsSized && m_model->rowCount() > 0) {
        m_columnsSized = true;
        for (int column = 0; column < RouteTableModel::ColumnCount; ++column) {
            m_tree->resizeColumnToContents(column);
            // Numbers grow; leave them room so columns don't need resizing later.
            m_tree->setColumnWidth(column, m_tree->columnWidth(column) + ColumnPadding);
        }
    } else if (m_columnsSized) {
        // The type column's text grows after the first sizing (a P/D route's split share
        // appears with its first decisions): widen it, never narrow it under the user.
        int wanted = 0;
        for (int row = 0; row < m_model->rowCount(); ++row) {
            const QString text = m_model->index(row, RouteTableModel::TypeColumn).data().toString();
            wanted = std::max(wanted, m_tree->fontMetrics().horizontalAdvance(text) + ColumnPadding);
        }
        if (wanted > m_tree->columnWidth(RouteTableModel::TypeColumn)) {
            m_tree->setColumnWidth(RouteTableModel::TypeColumn, wanted);
        }
    }
}

} // namespace Ui
