#pragma once

#include "metrichistory.h"

#include <QWidget>

class QChart;
class QChartView;
class QComboBox;
class QLineSeries;
class QValueAxis;

namespace Ui {

// Qt Charts view of MetricHistory: one metric for one scope (everything, a route or a
// backend) over the last 15 minutes, both chosen from combo boxes. Reads the history the
// window feeds; never touches the gateway itself.
class ChartsView final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ChartsView)

public:
    explicit ChartsView(const MetricHistory &history, QWidget *parent = nullptr);

    // Re-reads the history (call after each sample; cheap when hidden).
    void refresh(qint64 nowMs);
    void select(const QString &scope, MetricHistory::Metric metric);
    int pointCount() const;

protected:
    void changeEvent(QEvent *event) override;

private:
    void syncScopes();
    void applyPalette();

    const MetricHistory &m_history;
    QComboBox *m_metric;
    QComboBox *m_scope;
    QChart *m_chart;
    QChartView *m_view;
    QLineSeries *m_series;
    QValueAxis *m_timeAxis;
    QValueAxis *m_valueAxis;
    qint64 m_lastNowMs = 0;
};

} // namespace Ui
