#pragma once

#include <QElapsedTimer>
#include <QMainWindow>

#include <deque>
#include <optional>

class QLabel;
class QTimer;
class QToolButton;
class QTreeView;

namespace Gateway {
class StatusProvider;
struct StatusSnapshot;
}

namespace Ui {

class RouteTableModel;
class ThroughputChart;

// The operator console: routes and targets with live numbers, a 15-minute throughput
// chart and a status bar. Polls the gateway's snapshot on its own timer and never
// touches the data plane otherwise.
class MainWindow final : public QMainWindow {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    static constexpr int RefreshIntervalMs = 500;

    explicit MainWindow(const Gateway::StatusProvider &status, QWidget *parent = nullptr);

    // Offers the admin API token (Copy button in the status bar); empty hides it.
    void setAdminToken(const QByteArray &token);
    ~MainWindow() override;

private:
    struct Totals {
        qint64 requests = 0;
        qint64 errors = 0;
    };

    void setUpRoutesView();
    void setUpStatusBar();
    void setUpActions();
    void refresh();
    void sampleThroughput(const Gateway::StatusSnapshot &snapshot);
    void updateStatusBar(const Gateway::StatusSnapshot &snapshot);
    void updateHealth(const Gateway::StatusSnapshot &snapshot);
    void copyBaseUrl();

    const Gateway::StatusProvider &m_status;
    RouteTableModel *m_model;
    QTreeView *m_routesView;
    ThroughputChart *m_chart;
    QTimer *m_refreshTimer;
    QLabel *m_baseUrlLabel = nullptr;
    QToolButton *m_copyButton = nullptr;
    QLabel *m_connectionsLabel = nullptr;
    QLabel *m_activeLabel = nullptr;
    QLabel *m_healthLabel = nullptr;

    QElapsedTimer m_sampleClock; // monotonic, so errors/s survives wall-clock jumps
    std::optional<Totals> m_lastSampleTotals; // unset until the first snapshot
    std::deque<Totals> m_healthWindow; // one entry per chart sample, bounded
    bool m_columnsSized = false;
    QToolButton *m_copyTokenButton = nullptr;
    QByteArray m_adminToken;
};

} // namespace Ui
