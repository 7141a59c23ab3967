#include "chartsview.h"

#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineSeries>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>

namespace Ui {

ChartsView::ChartsView(const MetricHistory &history, QWidget *parent)
    : QWidget {parent}
    , m_history {history}
    , m_metric {new QComboBox}
    , m_scope {new QComboBox}
    , m_chart {new QChart}
    , m_view {new QChartView(m_chart)}
    , m_series {new QLineSeries}
    , m_timeAxis {new QValueAxis}
    , m_valueAxis {new QValueAxis}
{
    for (int metric = 0; metric < static_cast<int>(MetricHistory::Metric::Count); ++metric) {
        m_metric->addItem(MetricHistory::metricName(static_cast<MetricHistory::Metric>(metric)), metric);
    }
    m_metric->setAccessibleName(tr("Metric"));
    m_scope->setAccessibleName(tr("Route or backend"));
    m_scope->setSizeAdjustPolicy(QComboBox::AdjustToContents);

    auto *controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Metric:")));
    controls->addWidget(m_metric);
    controls->addSpacing(12);
    controls->addWidget(new QLabel(tr("Of:")));
    controls->addWidget(m_scope);
    controls->addStretch(1);

    m_chart->addSeries(m_series);
    m_chart->legend()->hide();
    m_chart->setMargins(QMargins {4, 4, 4, 4});
    m_timeAxis->setRange(-MetricHistory::WindowSeconds, 0);
    m_timeAxis->setTickCount(7); // every 2.5 minutes
    m_timeAxis->setLabelFormat(QStringLiteral("%.0f s"));
    m_timeAxis->setTitleText(tr("seconds ago"));
    m_valueAxis->setLabelFormat(QStringLiteral("%.3g"));
    m_valueAxis->setMin(0);
    m_chart->addAxis(m_timeAxis, Qt::AlignBottom);
    m_chart->addAxis(m_valueAxis, Qt::AlignLeft);
    m_series->attachAxis(m_timeAxis);
    m_series->attachAxis(m_valueAxis);
    m_view->setRenderHint(QPainter::Antialiasing);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addWidget(m_view, 1);

    const auto reselect = [this] { refresh(m_lastNowMs); };
    connect(m_metric, &QComboBox::currentIndexChanged, this, reselect);
    connect(m_scope, &QComboBox::currentIndexChanged, this, reselect);
    applyPalette();
}

void ChartsView::syncScopes()
{
    // Scopes only ever grow (a removed route keeps its history for 15 minutes), so
    // appending keeps the current choice stable.
    const QStringList scopes = m_history.scopes();
    for (qsizetype i = m_scope->count(); i < scopes.size(); ++i) {
        const QString &scope = scopes.at(i);
        QString label = scope == MetricHistory::allScope() ? tr("All traffic") : scope;
        label.replace(QStringLiteral("route:"), tr("route "));
        label.replace(QStringLiteral("backend:"), tr("backend "));
        m_scope->addItem(label, scope);
    }
}

void ChartsView::select(const QString &scope, MetricHistory::Metric metric)
{
    syncScopes();
    m_metric->setCurrentIndex(m_metric->findData(static_cast<int>(metric)));
    const int index = m_scope->findData(scope);
    if (index >= 0) {
        m_scope->setCurrentIndex(index);
    }
    refresh(m_lastNowMs);
}

void ChartsView::refresh(qint64 nowMs)
{
    m_lastNowMs = nowMs;
    syncScopes();
    if (m_scope->count() > 0 && m_scope->currentIndex() < 0) {
        m_scope->setCurrentIndex(0);
    }
    if (!isVisible() && m_series->count() > 0) {
        return; // nothing to paint; the next refresh after showing catches up
    }
    const auto metric = static_cast<MetricHistory::Metric>(m_metric->currentData().toInt());
    const std::vector<QPointF> points = m_history.series(m_scope->currentData().toString(), metric, nowMs);
    double top = 0;
    for (const QPointF &point : points) {
        top = std::max(top, point.y());
    }
    // Headroom, and a floor so an idle line does not fill the plot with noise.
    m_valueAxis->setRange(0, top > 0 ? top * 1.15 : 1);
    m_valueAxis->setTitleText(MetricHistory::metricName(metric));
    // One replace() per refresh: a single repaint instead of one per point.
    m_series->replace(QList<QPointF>(points.cbegin(), points.cend()));
}

int ChartsView::pointCount() const
{
    return static_cast<int>(m_series->count());
}

void ChartsView::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) {
        applyPalette();
    }
}

void ChartsView::applyPalette()
{
    // Follow the system palette rather than a Qt Charts theme, so light and dark both fit.
    const QPalette pal = palette();
    m_chart->setBackgroundBrush(pal.color(QPalette::Base));
    m_chart->setPlotAreaBackgroundVisible(false);
    const QColor text = pal.color(QPalette::Text);
    QColor grid = text;
    grid.setAlphaF(0.15f);
    for (QValueAxis *axis : {m_timeAxis, m_valueAxis}) {
        axis->setLabelsColor(text);
        axis->setTitleBrush(text);
        axis->setGridLineColor(grid);
        axis->setLinePenColor(grid);
    }
    QPen pen {pal.color(QPalette::Highlight)};
    pen.setWidthF(2);
    m_series->setPen(pen);
}

} // namespace Ui
