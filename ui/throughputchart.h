#pragma once

#include <QChartView>

#include <deque>

class QCategoryAxis;
class QLineSeries;
class QValueAxis;

namespace Ui {

// Requests/s and errors/s over the last 15 minutes. The caller adds one sample per
// SampleIntervalSeconds; older samples fall off a bounded ring.
class ThroughputChart final : public QChartView {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ThroughputChart)

public:
    static constexpr int SampleIntervalSeconds = 1;
    static constexpr int Capacity = 15 * 60 / SampleIntervalSeconds;

    explicit ThroughputChart(QWidget *parent = nullptr);

    void addSample(double requestsPerSecond, double errorsPerSecond);
    int sampleCount() const { return static_cast<int>(m_samples.size()); }

protected:
    void changeEvent(QEvent *event) override;

private:
    struct Sample {
        double requestsPerSecond = 0;
        double errorsPerSecond = 0;
    };

    void applyPalette();
    void updateSeries();

    QChart *m_chart;
    QLineSeries *m_requests;
    QLineSeries *m_errors;
    QCategoryAxis *m_timeAxis;
    QValueAxis *m_rateAxis;
    std::deque<Sample> m_samples;
};

} // namespace Ui
