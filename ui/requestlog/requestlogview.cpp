#include "requestlogview.h"

#include "requestlogmodel.h"

#include <QComboBox>
#include <QDateTime>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QIntValidator>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

namespace Ui {

RequestLogView::RequestLogView(AdminClient &admin, QWidget *parent)
    : QWidget {parent}
    , m_model {new RequestLogModel(admin, this)}
    , m_sorted {new QSortFilterProxyModel(this)}
    , m_table {new QTableView}
    , m_details {new QPlainTextEdit}
    , m_range {new QComboBox}
    , m_route {new QLineEdit}
    , m_key {new QLineEdit}
    , m_status {new QLineEdit}
    , m_refresh {new QTimer(this)}
{
    m_range->addItem(tr("Last 15 minutes"), 15 * 60);
    m_range->addItem(tr("Last hour"), 60 * 60);
    m_range->addItem(tr("Last 24 hours"), 24 * 60 * 60);
    m_range->addItem(tr("Everything kept"), 0);
    m_range->setCurrentIndex(1);
    m_route->setPlaceholderText(tr("route"));
    m_key->setPlaceholderText(tr("virtual key"));
    m_status->setPlaceholderText(tr("status"));
    m_status->setValidator(new QIntValidator(100, 599, m_status));
    m_status->setMaximumWidth(80);
    auto *apply = new QPushButton(tr("Filter"));

    auto *filters = new QHBoxLayout;
    filters->addWidget(m_range);
    filters->addWidget(m_route);
    filters->addWidget(m_key);
    filters->addWidget(m_status);
    filters->addWidget(apply);
    filters->addStretch(1);

    m_sorted->setSourceModel(m_model);
    m_sorted->setSortRole(RequestLogModel::SortRole);
    m_table->setModel(m_sorted);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(RequestLogModel::TimeColumn, Qt::DescendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setAlternatingRowColors(true);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setToolTip(tr("Sorting orders the rows loaded so far; scroll down to load more."));
    m_details->setReadOnly(true);
    m_details->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_details->setPlaceholderText(tr("Select a request to see every field, including why it was routed where it went."));

    auto *splitter = new QSplitter(Qt::Vertical);
    splitter->addWidget(m_table);
    splitter->addWidget(m_details);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 1);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(filters);
    layout->addWidget(splitter, 1);

    connect(apply, &QPushButton::clicked, this, &RequestLogView::applyFilter);
    for (QLineEdit *edit : {m_route, m_key, m_status}) {
        connect(edit, &QLineEdit::returnPressed, this, &RequestLogView::applyFilter);
    }
    connect(m_range, &QComboBox::currentIndexChanged, this, &RequestLogView::applyFilter);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &RequestLogView::showDetails);
    m_refresh->setInterval(RefreshIntervalMs);
    connect(m_refresh, &QTimer::timeout, m_model, &RequestLogModel::refresh);
    applyFilter();
}

void RequestLogView::applyFilter()
{
    Gateway::Admin::RequestFilter filter;
    const int seconds = m_range->currentData().toInt();
    filter.sinceMs = seconds > 0 ? QDateTime::currentMSecsSinceEpoch() - qint64 {seconds} * 1000 : 0;
    filter.route = m_route->text().trimmed().toUtf8();
    filter.virtualKey = m_key->text().trimmed();
    filter.status = m_status->text().toInt();
    m_model->setFilter(filter);
    m_details->clear();
    m_model->fetchMore({});
}

void RequestLogView::showDetails()
{
    const QModelIndex current = m_sorted->mapToSource(m_table->currentIndex());
    if (!current.isValid()) {
        m_details->clear();
        return;
    }
    m_details->setPlainText(QString::fromUtf8(QJsonDocument(m_model->row(current.row())).toJson(QJsonDocument::Indented)));
}

void RequestLogView::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    m_model->refresh();
    m_refresh->start(); // only while visible: a hidden log costs no queries
}

void RequestLogView::hideEvent(QHideEvent *event)
{
    QWidget::hideEvent(event);
    m_refresh->stop();
}

} // namespace Ui
