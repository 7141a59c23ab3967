#pragma once

#include <QWidget>

class QTreeView;

namespace Gateway {
struct StatusSnapshot;
}

namespace Ui {

class RouteTableModel;
class ThroughputChart;

// The at-a-glance view: every route with its targets (expected vs actual share bars,
// adaptive factors, health chips with the time since their last transition, load, engine
// queue and KV cache, latency, errors, RPM/TPM against limits) above the 15-minute
// throughput chart. showSnapshot() changes rows in place, so selection, expansion and scroll
// survive the refresh.
class DashboardView final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DashboardView)

public:
    explicit DashboardView(QWidget *parent = nullptr);

    void showSnapshot(const Gateway::StatusSnapshot &snapshot);

    RouteTableModel *model() const { return m_model; }
    QTreeView *tree() const { return m_tree; }
    ThroughputChart *chart() const { return m_chart; }

private:
    RouteTableModel *m_model;
    QTreeView *m_tree;
    ThroughputChart *m_chart;
    bool m_columnsSized = false;
};

} // namespace Ui
