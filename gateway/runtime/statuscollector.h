#pragma once

#include "metrics/metricsregistry.h"
#include "statussnapshot.h"

#include <QMutex>

#include <chrono>
#include <deque>
#include <map>

namespace Gateway::Runtime {

class RouteTable;

// Turns the cumulative counters into what an operator wants to see: rates and
// percentiles over the last few seconds. Keeps a short, bounded history of samples;
// safe to call from several consumer threads.
class StatusCollector final {
public:
    using Clock = std::chrono::steady_clock;

    explicit StatusCollector(const Metrics::MetricsRegistry &metrics);

    // Fills routes, backends and totals of `snapshot` for the given table.
    void collect(const RouteTable &table, StatusSnapshot &snapshot);

private:
    struct Totals {
        std::uint64_t requests = 0;
        std::uint64_t errors = 0;
        Metrics::Histogram::Counts latency;
        Metrics::Histogram::Counts ttft;
    };
    struct Sample {
        Clock::time_point at;
        std::map<QByteArray, Totals> routes;
        std::map<QByteArray, Totals> backends;
    };

    Sample takeSample() const;
    const Sample &baseline(Clock::time_point now);

    const Metrics::MetricsRegistry &m_metrics;
    QMutex m_mutex;
    std::deque<Sample> m_history;
    Clock::time_point m_startedAt;
};

} // namespace Gateway::Runtime
