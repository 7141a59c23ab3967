#pragma once

#include <QtGlobal>

#include <chrono>

namespace Gateway::Gpu {

// Monotonic milliseconds from std::chrono::steady_clock: the same time base as the
// gateway's health trackers and snapshots (Runtime::monotonicNowMs), so the `nowMs` a
// snapshot rebuild passes to MetricsScraper::signalsFor compares with the scrape times.
inline qint64 steadyNowMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

} // namespace Gateway::Gpu
