#pragma once

#include <QElapsedTimer>
#include <QObject>

#include <vector>

class QTimer;

namespace Ui {

// Measures how late the event loop of the thread it lives on serves a timer: a precise
// timer is due every IntervalMs, and each tick records how much later than due it ran.
// That lateness is what any event (a click, a repaint) would wait at that moment. The
// GUI responsiveness benchmark (tests/bench/gui-bench.sh) enables it through the
// SWITCHYARD_GUI_PROBE environment variable; samples stay in memory (bounded) and are
// written once, at exit, so the probe adds no I/O to the loop it measures.
class EventLoopProbe final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EventLoopProbe)

public:
    static constexpr int IntervalMs = 10;
    static constexpr std::size_t MaxSamples = 4'000'000; // 11 hours at 100 a second

    struct Sample {
        qint64 wallMs = 0;    // Unix ms of the tick, to cut out a measurement window
        qint64 latenessUs = 0;
    };

    explicit EventLoopProbe(QObject *parent = nullptr);

    void start();
    const std::vector<Sample> &samples() const { return m_samples; }
    // "wall_ms lateness_us" lines; false when the file cannot be written.
    bool writeTo(const QString &path) const;

private:
    void tick();

    QTimer *m_timer;
    QElapsedTimer m_clock;
    qint64 m_dueNs = 0;
    std::vector<Sample> m_samples;
};

} // namespace Ui
