#include "throughputchart.h"

#include "semanticcolors.h"

#include <QCategoryAxis>
#include <QEvent>
#include <QLineSeries>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace Ui {

namespace {

constexpr double WindowMinutes = ThroughputChart::Capacity * ThroughputChart::SampleIntervalSeconds / 60.0;

// Smallest 1/2/5 x 10^n at or above value, so the axis top only moves in visible steps
// instead of tracking every sample.
double niceCeiling(double value)
{
    if (value <= 1) {
        return 1;
    }
    const double magnitude = std::pow(10.0, std::floor(std::log10(value)));
    for (const double step : {1.0, 2.0, 5.0, 10.0}) {
        if (step * magnitude >= value) {
            return step * magnitude;
        }
    }
    return 10 * magnitude;
}

} // namespace

ThroughputChart::ThroughputChart(QWidget *parent)
    : QChartView {parent}
    , m_chart {new QChart}
    , m_requests {new QLineSeries}
    , m_errors {new QLineSeries}
    , m_timeAxis {new QCategoryAxis}
    , m_rateAxis {new QValueAxis}
{
    m_requests->setName(tr("Requests/s"));
    m_errors->setName(tr("Errors/s"));

    m_timeAxis->setRange(-WindowMinutes, 0);
    m_timeAxis->setStartValue(-WindowMinutes);
    m_timeAxis->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    // The left edge needs no label: the window is always the full 15 minutes.
    m_timeAxis->append(tr("10 min ago"), -10);
    m_timeAxis->append(tr("5 min ago"), -5);
    m_timeAxis->append(tr("now"), 0);

    m_rateAxis->setRange(0, 1);
    m_rateAxis->setTickCount(5);
    m_rateAxis->setLabelFormat(QStringLiteral("%g"));

    // The chart takes ownership of series and axes, the view of the chart.
    m_chart->addSeries(m_requests);
    m_chart->addSeries(m_errors);
    m_chart->addAxis(m_timeAxis, Qt::AlignBottom);
    m_chart->addAxis(m_rateAxis, Qt::AlignLeft);
    for (QLineSeries *series : {m_requests, m_errors}) {
        series->attachAxis(m_timeAxis);
        series->attachAxis(m_rateAxis);
    }
    m_chart->legend()->setAlignment(Qt::AlignTop);
    m_chart->setBackgroundRoundness(0);
    m_chart->setMargins(QMargins {4, 4, 4, 4});
    m_chart->setAnimationOptions(QChart::NoAnimation);
    // setChart() releases the chart the view made for itself without deleting it
    // (LeakSanitizer found it).
    QChart *const defaultChart = chart();
    setChart(m_chart);
    delete defaultChart;
    setRenderHint(QPainter::Antialiasing);
    setMinimumHeight(160);

    applyPalette();
}

void ThroughputChart::addSample(double requestsPerSecond, double errorsPerSecond)
{
    m_samples.push_back(Sample {std::max(0.0, requestsPerSecond), std::max(0.0, errorsPerSecond)});
    while (m_samples.size() > static_cast<std::size_t>(Capacity)) {
        m_samples.pop_front();
    }
    updateSeries();
}

void ThroughputChart::updateSeries()
{
    QList<QPointF> requests;
    QList<QPointF> errors;
    requests.reserve(static_cast<qsizetype>(m_samples.size()));
    errors.reserve(static_cast<qsizetype>(m_samples.size()));
    double peak = 0;
    const auto count = static_cast<qsizetype>(m_samples.size());
    for (qsizetype i = 0; i < count; ++i) {
        const Sample &sample = m_samples[static_cast<std::size_t>(i)];
        // The newest sample sits at 0, older ones to the left, in minutes.
        const double x = -static_cast<double>((count - 1 - i) * SampleIntervalSeconds) / 60.0;
        requests.append(QPointF {x, sample.requestsPerSecond});
        errors.append(QPointF {x, sample.errorsPerSecond});
        peak = std::max({peak, sample.requestsPerSecond, sample.errorsPerSecond});
    }
    // replace() swaps the whole point list in one go: one repaint instead of one per point.
    m_requests->replace(requests);
    m_errors->replace(errors);
    m_rateAxis->setMax(niceCeiling(peak * 1.1));
}

void ThroughputChart::changeEvent(QEvent *event)
{
    QChartView::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::StyleChange) {
        applyPalette();
    }
}

void ThroughputChart::applyPalette()
{
    const QPalette pal = palette();
    const QColor text = pal.color(QPalette::WindowText);
    QColor grid = text;
    grid.setAlphaF(0.15f);
    QColor axisLine = text;
    axisLine.setAlphaF(0.4f);

    m_chart->setBackgroundBrush(pal.color(QPalette::Base));
    m_chart->setBackgroundPen(Qt::NoPen);
    setBackgroundBrush(pal.color(QPalette::Base));
    m_chart->legend()->setLabelColor(text);
    for (QAbstractAxis *axis : {static_cast<QAbstractAxis *>(m_timeAxis), static_cast<QAbstractAxis *>(m_rateAxis)}) {
        axis->setLabelsColor(text);
        axis->setGridLineColor(grid);
        axis->setLinePenColor(axisLine);
    }
    m_timeAxis->setGridLineVisible(true);

    QPen requestsPen {pal.color(QPalette::Highlight)};
    requestsPen.setWidthF(2);
    m_requests->setPen(requestsPen);
    QPen errorsPen {errorColor(pal)};
    errorsPen.setWidthF(2);
    m_errors->setPen(errorsPen);
}

} // namespace Ui
