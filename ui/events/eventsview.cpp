#include "eventsview.h"

#include "eventsmodel.h"
#include "runtime/eventkinds.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

namespace Ui {

EventsView::EventsView(AdminClient &admin, QWidget *parent)
    : QWidget {parent}
    , m_model {new EventsModel(admin, this)}
    , m_kind {new QComboBox}
    , m_table {new QTableView}
    , m_refresh {new QTimer(this)}
{
    m_kind->addItem(tr("All events"), QString {});
    m_kind->addItem(tr("Health transitions"), QString(Gateway::EventKinds::HEALTH));
    m_kind->addItem(tr("Failovers"), QString(Gateway::EventKinds::FAILOVER));
    m_kind->addItem(tr("Policy applies"), QString(Gateway::EventKinds::POLICY_APPLIED));
    m_kind->addItem(tr("Rollbacks"), QString(Gateway::EventKinds::ROLLBACK));
    m_kind->addItem(tr("Budget alerts"), QString(Gateway::EventKinds::BUDGET_SOFT_LIMIT));
    m_kind->addItem(tr("Engine restarts"), QString(Gateway::EventKinds::ENGINE_RESTART));
    connect(m_kind, &QComboBox::currentIndexChanged, this,
            [this] { m_model->setKind(m_kind->currentData().toString()); });

    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setAlternatingRowColors(true);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(EventsModel::DetailColumn, QHeaderView::Stretch);

    auto *top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Show:")));
    top->addWidget(m_kind);
    top->addStretch(1);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(m_table, 1);

    m_refresh->setInterval(RefreshIntervalMs);
    connect(m_refresh, &QTimer::timeout, m_model, &EventsModel::refresh);
    m_model->refresh();
}

void EventsView::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    m_model->refresh();
    m_refresh->start();
}

void EventsView::hideEvent(QHideEvent *event)
{
    QWidget::hideEvent(event);
    m_refresh->stop();
}

} // namespace Ui
