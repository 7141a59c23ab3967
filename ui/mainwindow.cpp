#include "mainwindow.h"

#include "routetablemodel.h"
#include "semanticcolors.h"
#include "throughputchart.h"
#include "weightbardelegate.h"

#include "runtime/statussnapshot.h"

#include <QAction>
#include <QClipboard>
#include <QGuiApplication>
#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QStatusBar>
#include <QTimer>
#include <QToolButton>
#include <QTreeView>

#include <algorithm>

namespace Ui {

namespace {

// Health is judged over the last few chart samples so one failed request doesn't flash
// the status bar, but a real outage shows within seconds.
constexpr std::size_t HealthWindowSamples = 10;
constexpr double DegradedErrorRate = 0.01;
constexpr double FailingErrorRate = 0.25;
constexpr int CopiedFeedbackMs = 1500;
constexpr int ColumnPadding = 12;

} // namespace

MainWindow::MainWindow(const Gateway::StatusProvider &status, QWidget *parent)
    : QMainWindow {parent}
    , m_status {status}
    , m_model {new RouteTableModel(this)}
    , m_routesView {new QTreeView}
    , m_chart {new ThroughputChart}
    , m_refreshTimer {new QTimer(this)}
{
    setWindowTitle(tr("Switchyard"));
    resize(1180, 720);

    setUpRoutesView();

    auto *splitter = new QSplitter(Qt::Vertical);
    splitter->addWidget(m_routesView);
    splitter->addWidget(m_chart);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    splitter->setChildrenCollapsible(false);
    setCentralWidget(splitter);

    setUpStatusBar();
    setUpActions();

    m_refreshTimer->setInterval(RefreshIntervalMs);
    connect(m_refreshTimer, &QTimer::timeout, this, &MainWindow::refresh);
    m_refreshTimer->start();
    m_sampleClock.start();
    // Show the current state straight away rather than an empty window for one interval.
    refresh();
}

MainWindow::~MainWindow() = default;

void MainWindow::setUpRoutesView()
{
    m_routesView->setModel(m_model);
    m_routesView->setItemDelegateForColumn(RouteTableModel::ShareColumn,
                                           new WeightBarDelegate(RouteTableModel::ShareRole, m_routesView));
    m_routesView->setUniformRowHeights(true);
    m_routesView->setAlternatingRowColors(true);
    m_routesView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_routesView->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_routesView->setAllColumnsShowFocus(true);
    m_routesView->header()->setStretchLastSection(false);
    m_routesView->header()->setSectionsMovable(true);

    // New routes open expanded: their targets are the point of the table.
    connect(m_model, &QAbstractItemModel::rowsInserted, this,
            [this](const QModelIndex &parent, int first, int last) {
                if (parent.isValid()) {
                    return;
                }
                for (int row = first; row <= last; ++row) {
                    m_routesView->expand(m_model->index(row, 0));
                }
            });
}

void MainWindow::setUpStatusBar()
{
    m_baseUrlLabel = new QLabel;
    m_baseUrlLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_baseUrlLabel->setToolTip(tr("OpenAI-compatible base URL of the gateway"));

    m_copyButton = new QToolButton;
    m_copyButton->setText(tr("Copy"));
    m_copyButton->setToolTip(tr("Copy the base URL to the clipboard"));
    m_copyButton->setAutoRaise(true);
    connect(m_copyButton, &QToolButton::clicked, this, &MainWindow::copyBaseUrl);

    m_connectionsLabel = new QLabel;
    m_activeLabel = new QLabel;
    m_healthLabel = new QLabel;

    QStatusBar *bar = statusBar();
    bar->addWidget(new QLabel(tr("Base URL:")));
    bar->addWidget(m_baseUrlLabel);
    bar->addWidget(m_copyButton);
    bar->addPermanentWidget(m_connectionsLabel);
    bar->addPermanentWidget(m_activeLabel);
    bar->addPermanentWidget(m_healthLabel);
}

void MainWindow::setUpActions()
{
    auto *quit = new QAction(tr("Quit"), this);
    quit->setShortcut(QKeySequence {Qt::CTRL | Qt::Key_Q});
    quit->setShortcutContext(Qt::ApplicationShortcut);
    // Ctrl+Q closes the window exactly as the title-bar button does, so the application
    // has one shutdown path: whatever it attaches to the last window closing.
    connect(quit, &QAction::triggered, this, &QWidget::close);
    addAction(quit);
}

void MainWindow::refresh()
{
    const Gateway::StatusSnapshot snapshot = m_status.statusSnapshot();
    m_model->update(snapshot);
    if (!m_columnsSized && m_model->rowCount() > 0) {
        m_columnsSized = true;
        for (int column = 0; column < RouteTableModel::ColumnCount; ++column) {
            m_routesView->resizeColumnToContents(column);
            // Numbers grow; leave them room so columns don't need resizing later.
            m_routesView->setColumnWidth(column, m_routesView->columnWidth(column) + ColumnPadding);
        }
    }
    sampleThroughput(snapshot);
    updateStatusBar(snapshot);
    updateHealth(snapshot);
}

void MainWindow::sampleThroughput(const Gateway::StatusSnapshot &snapshot)
{
    const qint64 elapsedMs = m_sampleClock.elapsed();
    if (m_lastSampleTotals && elapsedMs < ThroughputChart::SampleIntervalSeconds * 1000) {
        return;
    }
    const Totals totals {snapshot.totalRequests, snapshot.totalErrors};
    if (!m_lastSampleTotals) {
        // Counters start before the window opens; the first snapshot is only a baseline.
        m_lastSampleTotals = totals;
        m_healthWindow.push_back(totals);
        m_sampleClock.restart();
        return;
    }
    m_sampleClock.restart();
    // A restarted gateway resets its counters; count that interval as zero, not negative.
    const qint64 newErrors = std::max<qint64>(0, totals.errors - m_lastSampleTotals->errors);
    m_lastSampleTotals = totals;
    m_chart->addSample(snapshot.requestsPerSecond,
                       static_cast<double>(newErrors) * 1000.0 / static_cast<double>(elapsedMs));

    m_healthWindow.push_back(totals);
    while (m_healthWindow.size() > HealthWindowSamples) {
        m_healthWindow.pop_front();
    }
}

void MainWindow::updateStatusBar(const Gateway::StatusSnapshot &snapshot)
{
    if (m_baseUrlLabel->text() != snapshot.baseUrl) {
        m_baseUrlLabel->setText(snapshot.baseUrl);
    }
    m_copyButton->setEnabled(!snapshot.baseUrl.isEmpty());
    m_connectionsLabel->setText(tr("Connections: %1").arg(snapshot.openConnections));
    m_activeLabel->setText(tr("Active: %1").arg(snapshot.activeRequests));
}

void MainWindow::updateHealth(const Gateway::StatusSnapshot &snapshot)
{
    QString text;
    QColor color;
    if (snapshot.routes.empty()) {
        text = tr("No routes configured");
        color = warningColor(palette());
    } else if (m_healthWindow.size() < 2) {
        text = tr("Starting");
    } else {
        const qint64 requests = m_healthWindow.back().requests - m_healthWindow.front().requests;
        const qint64 errors = m_healthWindow.back().errors - m_healthWindow.front().errors;
        if (requests <= 0) {
            text = tr("Idle");
        } else {
            const double rate = static_cast<double>(std::max<qint64>(0, errors)) / static_cast<double>(requests);
            const QString percent = QString::number(rate * 100, 'f', 1);
            if (rate >= FailingErrorRate) {
                text = tr("Failing: %1% errors").arg(percent);
                color = errorColor(palette());
            } else if (rate >= DegradedErrorRate) {
                text = tr("Degraded: %1% errors").arg(percent);
                color = warningColor(palette());
            } else {
                text = tr("Healthy");
            }
        }
    }
    m_healthLabel->setText(text);
    QPalette labelPalette = palette();
    if (color.isValid()) {
        labelPalette.setColor(QPalette::WindowText, color);
    }
    m_healthLabel->setPalette(labelPalette);
    m_healthLabel->setToolTip(tr("Client error rate over the last %1 seconds")
                                  .arg(HealthWindowSamples * ThroughputChart::SampleIntervalSeconds));
}

void MainWindow::setAdminToken(const QByteArray &token)
{
    m_adminToken = token;
    if (!m_copyTokenButton) {
        m_copyTokenButton = new QToolButton;
        m_copyTokenButton->setText(tr("Copy admin token"));
        m_copyTokenButton->setToolTip(tr("Copy the bearer token of the admin API (/admin/v1/...)"));
        m_copyTokenButton->setAutoRaise(true);
        connect(m_copyTokenButton, &QToolButton::clicked, this,
                [this] { QGuiApplication::clipboard()->setText(QString::fromLatin1(m_adminToken)); });
        statusBar()->addWidget(m_copyTokenButton);
    }
    m_copyTokenButton->setVisible(!token.isEmpty());
}

void MainWindow::copyBaseUrl()
{
    QGuiApplication::clipboard()->setText(m_baseUrlLabel->text());
    m_copyButton->setText(tr("Copied"));
    QTimer::singleShot(CopiedFeedbackMs, m_copyButton, [button = m_copyButton] { button->setText(tr("Copy")); });
}

} // namespace Ui
