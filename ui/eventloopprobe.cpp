#include "eventloopprobe.h"

#include <QDateTime>
#include <QFile>
#include <QTimer>

#include <algorithm>

namespace Ui {

EventLoopProbe::EventLoopProbe(QObject *parent)
    : QObject {parent}
    , m_timer {new QTimer(this)}
{
    m_timer->setTimerType(Qt::PreciseTimer);
    m_timer->setInterval(IntervalMs);
    // Re-armed by each tick: a repeating timer catches up on its own schedule, which
    // would blur when each tick was really due.
    m_timer->setSingleShot(true);
    connect(m_timer, &QTimer::timeout, this, &EventLoopProbe::tick);
}

void EventLoopProbe::start()
{
    m_samples.reserve(std::min<std::size_t>(MaxSamples, 360'000));
    m_clock.start();
    m_dueNs = qint64 {IntervalMs} * 1'000'000;
    m_timer->start();
}

void EventLoopProbe::tick()
{
    const qint64 now = m_clock.nsecsElapsed();
    const qint64 lateness = std::max<qint64>(0, now - m_dueNs);
    if (m_samples.size() < MaxSamples) {
        m_samples.push_back({QDateTime::currentMSecsSinceEpoch(), lateness / 1000});
    }
    m_dueNs = m_clock.nsecsElapsed() + qint64 {IntervalMs} * 1'000'000;
    m_timer->start();
}

bool EventLoopProbe::writeTo(const QString &path) const
{
    QFile file {path};
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text)) {
        return false;
    }
    QByteArray out;
    out.reserve(static_cast<qsizetype>(m_samples.size()) * 24);
    for (const Sample &sample : m_samples) {
        out += QByteArray::number(sample.wallMs) + ' ' + QByteArray::number(sample.latenessUs) + '\n';
    }
    return file.write(out) == out.size();
}

} // namespace Ui
