#pragma once

#include "charts/metrichistory.h"

#include <QElapsedTimer>
#include <QMainWindow>

#include <deque>
#include <functional>
#include <optional>

class QLabel;
class QSystemTrayIcon;
class QTabWidget;
class QTimer;
class QToolButton;

namespace Gateway {
class StatusProvider;
struct StatusSnapshot;
namespace Admin {
class AdminService;
}
}

namespace Ui {

class AdminClient;
class BudgetsView;
class ChartsView;
class DashboardView;
class EventsView;
class KeysView;
class PolicyEditorView;
class GovernanceBudgetSource;
class RequestLogTail;
class RequestLogView;

// The operator console: one tab per view (dashboard, charts, budgets, policy, keys,
// request log, events), a status bar and a tray icon. Reads the gateway through its
// status snapshot on a timer and the store through the admin service; it never touches
// the data plane or runs SQL itself. Without an admin service only the live views exist.
class MainWindow final : public QMainWindow {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    static constexpr int RefreshIntervalMs = 500;

    enum class View { Dashboard, Charts, Budgets, Policy, Keys, Requests, Events };

    MainWindow(const Gateway::StatusProvider &status, Gateway::Admin::AdminService *admin = nullptr,
               QWidget *parent = nullptr);
    ~MainWindow() override;

    // Offers the admin API token (Copy button in the status bar); empty hides it.
    void setAdminToken(const QByteArray &token);

    bool showView(View view);
    // The next tab, wrapping around (the responsiveness benchmark keeps every view busy).
    void showNextView();
    DashboardView *dashboard() const { return m_dashboard; }
    ChartsView *charts() const { return m_charts; }
    PolicyEditorView *policyEditor() const { return m_policy; }
    KeysView *keys() const { return m_keys; }
    RequestLogView *requestLog() const { return m_requests; }
    EventsView *events() const { return m_events; }
    BudgetsView *budgets() const { return m_budgets; }
    QString overallHealth() const { return m_healthText; }

    // Shows each view in turn, waits settleMs for its data, saves a PNG of the window
    // per view into `directory` (01-dashboard.png, ...), then calls done(ok). For the
    // README screenshots and their CI job.
    void captureViews(const QString &directory, int settleMs, std::function<void(bool ok)> done);

private:
    struct Totals {
        qint64 requests = 0;
        qint64 errors = 0;
    };

    void setUpTabs(Gateway::Admin::AdminService *admin);
    void setUpStatusBar();
    void setUpActions();
    void setUpTray();
    void refresh();
    void sampleThroughput(const Gateway::StatusSnapshot &snapshot);
    void updateStatusBar(const Gateway::StatusSnapshot &snapshot);
    void updateHealth(const Gateway::StatusSnapshot &snapshot);
    void loadProviderLimits();
    void copyBaseUrl();
    void captureNext(const QString &directory, int index, int settleMs, std::function<void(bool ok)> done);

    const Gateway::StatusProvider &m_status;
    AdminClient *m_admin = nullptr;
    QTabWidget *m_tabs;
    DashboardView *m_dashboard;
    ChartsView *m_charts;
    BudgetsView *m_budgets = nullptr;
    PolicyEditorView *m_policy = nullptr;
    KeysView *m_keys = nullptr;
    RequestLogView *m_requests = nullptr;
    EventsView *m_events = nullptr;
    RequestLogTail *m_logTail = nullptr;
    GovernanceBudgetSource *m_budgetSource = nullptr;
    QTimer *m_refreshTimer;
    QLabel *m_baseUrlLabel = nullptr;
    QToolButton *m_copyButton = nullptr;
    QLabel *m_connectionsLabel = nullptr;
    QLabel *m_activeLabel = nullptr;
    QLabel *m_healthLabel = nullptr;
    QSystemTrayIcon *m_tray = nullptr;
    QString m_healthText;

    MetricHistory m_history;
    QElapsedTimer m_sampleClock; // monotonic, so errors/s survives wall-clock jumps
    std::optional<Totals> m_lastSampleTotals; // unset until the first snapshot
    std::deque<Totals> m_healthWindow; // one entry per chart sample, bounded
    QToolButton *m_copyTokenButton = nullptr;
    QByteArray m_adminToken;
};

} // namespace Ui
