#include "mainwindow.h"

#include "admin/adminclient.h"
#include "admin/requestlogtail.h"
#include "budgets/budgetsview.h"
#include "budgets/governancebudgetsource.h"
#include "charts/chartsview.h"
#include "dashboard/dashboardview.h"
#include "events/eventsview.h"
#include "keys/keysview.h"
#include "policyeditor/policyeditorview.h"
#include "requestlog/requestlogview.h"
#include "routetablemodel.h"
#include "semanticcolors.h"
#include "throughputchart.h"

#include "runtime/statussnapshot.h"

#include <QAction>
#include <QClipboard>
#include <QDateTime>
#include <QDir>
#include <QGuiApplication>
#include <QJsonArray>
#include <QLabel>
#include <QMenu>
#include <QPainter>
#include <QStatusBar>
#include <QSystemTrayIcon>
#include <QTabWidget>
#include <QTimer>
#include <QToolButton>

#include <algorithm>

namespace Ui {

namespace {

// Health is judged over the last few chart samples so one failed request doesn't flash
// the status bar, but a real outage shows within seconds.
constexpr std::size_t HealthWindowSamples = 10;
constexpr double DegradedErrorRate = 0.01;
constexpr double FailingErrorRate = 0.25;
constexpr int CopiedFeedbackMs = 1500;

QIcon healthIcon(const QColor &color)
{
    QPixmap pixmap {32, 32};
    pixmap.fill(Qt::transparent);
    QPainter painter {&pixmap};
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setBrush(color);
    painter.setPen(Qt::NoPen);
    painter.drawEllipse(QRectF {3, 3, 26, 26});
    return QIcon {pixmap};
}

QString viewFileName(int index, const QString &title)
{
    QString slug = title.toLower();
    slug.remove(QLatin1Char('&'));
    slug.replace(QLatin1Char(' '), QLatin1Char('-'));
    return QStringLiteral("%1-%2.png").arg(index + 1, 2, 10, QLatin1Char('0')).arg(slug);
}

} // namespace

MainWindow::MainWindow(const Gateway::StatusProvider &status, Gateway::Admin::AdminService *admin, QWidget *parent)
    : QMainWindow {parent}
    , m_status {status}
    , m_tabs {new QTabWidget}
    , m_dashboard {new DashboardView}
    , m_charts {new ChartsView(m_history)}
    , m_refreshTimer {new QTimer(this)}
{
    setWindowTitle(tr("Switchyard"));
    resize(1280, 760);

    setUpTabs(admin);
    setCentralWidget(m_tabs);
    setUpStatusBar();
    setUpActions();
    setUpTray();

    m_refreshTimer->setInterval(RefreshIntervalMs);
    connect(m_refreshTimer, &QTimer::timeout, this, &MainWindow::refresh);
    m_refreshTimer->start();
    m_sampleClock.start();
    // Show the current state straight away rather than an empty window for one interval.
    refresh();
}

MainWindow::~MainWindow() = default;

void MainWindow::setUpTabs(Gateway::Admin::AdminService *admin)
{
    m_tabs->setDocumentMode(true);
    m_tabs->addTab(m_dashboard, tr("&Dashboard"));
    m_tabs->addTab(m_charts, tr("&Charts"));
    // Budgets come from the gateway's limit store, so they need no store.
    m_budgetSource = new GovernanceBudgetSource(m_status, this);
    m_budgets = new BudgetsView(*m_budgetSource);
    m_tabs->addTab(m_budgets, tr("&Budgets"));
    m_budgetSource->start();
    if (admin == nullptr) {
        return;
    }
    m_admin = new AdminClient(*admin, this);

    // The cost chart follows the request log from local midnight on.
    const QDateTime midnight {QDate::currentDate(), QTime {0, 0}};
    m_logTail = new RequestLogTail(*m_admin, midnight.toMSecsSinceEpoch(), this);
    connect(m_logTail, &RequestLogTail::rowsArrived, this, [this](const QList<QJsonObject> &rows) {
        for (const QJsonObject &row : rows) {
            m_history.addCost(row.value(u"route").toString(), row.value(u"backend").toString(),
                              row.value(u"cost_usd").toDouble(), row.value(u"finished_at_ms").toInteger());
        }
    });
    m_logTail->start();

    m_policy = new PolicyEditorView(*m_admin);
    m_keys = new KeysView(*m_admin);
    m_requests = new RequestLogView(*m_admin);
    m_events = new EventsView(*m_admin);
    m_tabs->addTab(m_policy, tr("&Policy"));
    m_tabs->addTab(m_keys, tr("&Keys"));
    m_tabs->addTab(m_requests, tr("&Requests"));
    m_tabs->addTab(m_events, tr("&Events"));

    connect(m_admin, &AdminClient::policyChanged, this, &MainWindow::loadProviderLimits);
    loadProviderLimits();
}

bool MainWindow::showView(View view)
{
    QWidget *widget = nullptr;
    switch (view) {
    case View::Dashboard:
        widget = m_dashboard;
        break;
    case View::Charts:
        widget = m_charts;
        break;
    case View::Budgets:
        widget = m_budgets;
        break;
    case View::Policy:
        widget = m_policy;
        break;
    case View::Keys:
        widget = m_keys;
        break;
    case View::Requests:
        widget = m_requests;
        break;
    case View::Events:
        widget = m_events;
        break;
    }
    if (widget == nullptr) {
        return false;
    }
    m_tabs->setCurrentWidget(widget);
    return true;
}

void MainWindow::showNextView()
{
    m_tabs->setCurrentIndex((m_tabs->currentIndex() + 1) % m_tabs->count());
}

void MainWindow::loadProviderLimits()
{
    m_admin->activePolicyJson(this, [this](const AdminReply &reply) {
        if (!reply.ok()) {
            return;
        }
        QHash<QString, RouteTableModel::Limits> limits;
        for (const QJsonValue &providerValue : reply.json().value(u"providers").toArray()) {
            const QJsonObject provider = providerValue.toObject();
            RouteTableModel::Limits sum;
            bool unlimitedRpm = false;
            bool unlimitedTpm = false;
            // A provider's capacity is the sum of its keys' limits; one unlimited key
            // makes the provider unlimited.
            for (const QJsonValue &keyValue : provider.value(u"keys").toArray()) {
                const QJsonObject key = keyValue.toObject();
                const qint64 rpm = key.value(u"rpm").toInteger();
                const qint64 tpm = key.value(u"tpm").toInteger();
                unlimitedRpm |= rpm <= 0;
                unlimitedTpm |= tpm <= 0;
                sum.rpm += rpm;
                sum.tpm += tpm;
            }
            if (unlimitedRpm) {
                sum.rpm = 0;
            }
            if (unlimitedTpm) {
                sum.tpm = 0;
            }
            limits.insert(provider.value(u"name").toString(), sum);
        }
        m_dashboard->model()->setProviderLimits(std::move(limits));
    });
}

void MainWindow::setUpStatusBar()
{
    m_baseUrlLabel = new QLabel;
    m_baseUrlLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_baseUrlLabel->setToolTip(tr("OpenAI-compatible base URL of the gateway"));

    m_copyButton = new QToolButton;
    m_copyButton->setText(tr("Copy"));
    m_copyButton->setToolTip(tr("Copy the base URL to the clipboard (Ctrl+Shift+C)"));
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

    // Ctrl+1 ... Ctrl+7 jump to the tabs in order.
    for (int tab = 0; tab < m_tabs->count() && tab < 9; ++tab) {
        auto *jump = new QAction(this);
        jump->setShortcut(QKeySequence {Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + tab)});
        connect(jump, &QAction::triggered, this, [this, tab] { m_tabs->setCurrentIndex(tab); });
        addAction(jump);
    }
    auto *copyUrl = new QAction(this);
    copyUrl->setShortcut(QKeySequence {Qt::CTRL | Qt::SHIFT | Qt::Key_C});
    connect(copyUrl, &QAction::triggered, this, &MainWindow::copyBaseUrl);
    addAction(copyUrl);
    auto *refreshNow = new QAction(this);
    refreshNow->setShortcut(QKeySequence {Qt::Key_F5});
    connect(refreshNow, &QAction::triggered, this, &MainWindow::refresh);
    addAction(refreshNow);
}

void MainWindow::setUpTray()
{
    if (!QSystemTrayIcon::isSystemTrayAvailable()) {
        return;
    }
    m_tray = new QSystemTrayIcon(healthIcon(okColor(palette())), this);
    auto *menu = new QMenu(this);
    menu->addAction(tr("Show console"), this, [this] {
        showNormal();
        raise();
        activateWindow();
    });
    menu->addAction(tr("Copy base URL"), this, &MainWindow::copyBaseUrl);
    menu->addSeparator();
    menu->addAction(tr("Quit"), this, &QWidget::close);
    m_tray->setContextMenu(menu);
    connect(m_tray, &QSystemTrayIcon::activated, this, [this](QSystemTrayIcon::ActivationReason reason) {
        if (reason == QSystemTrayIcon::Trigger) {
            showNormal();
            raise();
            activateWindow();
        }
    });
    m_tray->show();
}

void MainWindow::refresh()
{
    const Gateway::StatusSnapshot snapshot = m_status.statusSnapshot();
    m_dashboard->showSnapshot(snapshot);
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
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    m_history.addSnapshot(snapshot, now);
    m_charts->refresh(now);
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
    m_dashboard->chart()->addSample(snapshot.requestsPerSecond,
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
    // Backends with an open circuit make the overall state at least degraded.
    const auto open = std::count_if(snapshot.backends.cbegin(), snapshot.backends.cend(),
                                    [](const Gateway::BackendStatus &backend) { return backend.health == u"failed"; });
    if (open > 0 && !color.isValid()) {
        text += tr(" · %n circuit(s) open", nullptr, static_cast<int>(open));
        color = warningColor(palette());
    }
    m_healthText = text;
    m_healthLabel->setText(text);
    QPalette labelPalette = palette();
    if (color.isValid()) {
        labelPalette.setColor(QPalette::WindowText, color);
    }
    m_healthLabel->setPalette(labelPalette);
    m_healthLabel->setToolTip(tr("Client error rate over the last %1 seconds")
                                  .arg(HealthWindowSamples * ThroughputChart::SampleIntervalSeconds));
    if (m_tray != nullptr) {
        const QString tip = tr("Switchyard: %1").arg(text);
        if (m_tray->toolTip() != tip) {
            m_tray->setToolTip(tip);
            m_tray->setIcon(healthIcon(color.isValid() ? color : okColor(palette())));
        }
    }
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

void MainWindow::captureViews(const QString &directory, int settleMs, std::function<void(bool ok)> done)
{
    if (!QDir {}.mkpath(directory)) {
        done(false);
        return;
    }
    captureNext(directory, 0, settleMs, std::move(done));
}

void MainWindow::captureNext(const QString &directory, int index, int settleMs, std::function<void(bool ok)> done)
{
    if (index >= m_tabs->count()) {
        done(true);
        return;
    }
    m_tabs->setCurrentIndex(index);
    // Each view loads its data asynchronously when shown; give it settleMs of event loop.
    QTimer::singleShot(settleMs, this, [this, directory, index, settleMs, done = std::move(done)]() mutable {
        refresh();
        const QString path = QDir {directory}.filePath(viewFileName(index, m_tabs->tabText(index)));
        if (!grab().save(path, "PNG")) {
            done(false);
            return;
        }
        captureNext(directory, index + 1, settleMs, std::move(done));
    });
}

} // namespace Ui
