#pragma once

#include <QByteArray>

#include <array>
#include <atomic>
#include <cstdint>

namespace Gateway::Metrics {

// Fixed-bucket latency histogram in the Prometheus style, updated lock-free from any
// worker thread with relaxed atomics. Bucket bounds suit LLM traffic: sub-millisecond
// gateway answers up to minute-long generations.
class Histogram {
public:
    static constexpr std::array<double, 18> BOUNDS_MS {0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250,
                                                       500, 1000, 2500, 5000, 10000, 30000, 60000, 120000};

    void observeMs(double ms);

    std::uint64_t count() const { return m_count.load(std::memory_order_relaxed); }
    double sumMs() const;
    // Quantile estimate by linear interpolation inside the bucket that holds it.
    double quantileMs(double q) const;

    // Appends `<name>_bucket{labels,le=...}`, `_sum` and `_count` lines, in seconds.
    void appendPrometheus(QByteArray &out, const QByteArray &name, const QByteArray &labels) const;

    struct Counts {
        std::array<std::uint64_t, BOUNDS_MS.size() + 1> buckets {};
        std::uint64_t count = 0;
    };
    Counts counts() const;

private:
    std::array<std::atomic<std::uint64_t>, BOUNDS_MS.size() + 1> m_buckets {};
    std::atomic<std::uint64_t> m_count {0};
    std::atomic<std::uint64_t> m_sumMicros {0};
};

// Quantile of the difference of two count sets (a sliding window between samples).
double quantileOf(const Histogram::Counts &counts, double q);

} // namespace Gateway::Metrics
