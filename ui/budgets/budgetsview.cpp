#include "budgetsview.h"

#include "budgetsource.h"
#include "budgettablemodel.h"
#include "weightbardelegate.h"

#include <QHeaderView>
#include <QLabel>
#include <QTableView>
#include <QVBoxLayout>

namespace Ui {

BudgetsView::BudgetsView(BudgetSource &source, QWidget *parent)
    : QWidget {parent}
    , m_source {source}
    , m_model {new BudgetTableModel(this)}
    , m_table {new QTableView}
    , m_note {new QLabel}
{
    m_table->setModel(m_model);
    m_table->setItemDelegateForColumn(BudgetTableModel::SpendColumn,
                                      new WeightBarDelegate(BudgetTableModel::SpentFractionRole, m_table,
                                                            BudgetTableModel::PeriodFractionRole));
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setAlternatingRowColors(true);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    // The bar takes the spare width: the delegate's size hint covers the bar, not the
    // figures drawn over it, which a content-sized column would cut.
    m_table->horizontalHeader()->setSectionResizeMode(BudgetTableModel::SpendColumn, QHeaderView::Stretch);
    m_note->setWordWrap(true);
    m_note->setForegroundRole(QPalette::PlaceholderText);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_table, 1);
    layout->addWidget(m_note);

    connect(&m_source, &BudgetSource::changed, this, &BudgetsView::reload);
    reload();
}

void BudgetsView::reload()
{
    m_model->setEntries(m_source.entries());
    m_note->setText(m_source.description());
}

} // namespace Ui
