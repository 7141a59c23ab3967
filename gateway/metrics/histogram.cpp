#include "histogram.h"

#include <algorithm>

namespace Gateway::Metrics {

void Histogram::observeMs(double ms)
{
    const auto it = std::lower_bound(BOUNDS_MS.begin(), BOUNDS_MS.end(), ms);
    const auto index = static_cast<std::size_t>(it - BOUNDS_MS.begin());
    m_buckets[index].fetch_add(1, std::memory_order_relaxed);
    m_count.fetch_add(1, std::memory_order_relaxed);
    m_sumMicros.fetch_add(static_cast<std::uint64_t>(std::max(0.0, ms) * 1000.0), std::memory_order_relaxed);
}

double Histogram::sumMs() const
{
    return static_cast<double>(m_sumMicros.load(std::memory_order_relaxed)) / 1000.0;
}

Histogram::Counts Histogram::counts() const
{
    Counts counts;
    for (std::size_t i = 0; i < m_buckets.size(); ++i) {
        counts.buckets[i] = m_buckets[i].load(std::memory_order_relaxed);
        counts.count += counts.buckets[i];
    }
    return counts;
}

double quantileOf(const Histogram::Counts &counts, double q)
{
    if (counts.count == 0) {
        return 0;
    }
    const double rank = q * static_cast<double>(counts.count);
    double seen = 0;
    for (std::size_t i = 0; i < counts.buckets.size(); ++i) {
        const auto inBucket = static_cast<double>(counts.buckets[i]);
        if (seen + inBucket >= rank && inBucket > 0) {
            const double lower = i == 0 ? 0 : Histogram::BOUNDS_MS[i - 1];
            if (i == Histogram::BOUNDS_MS.size()) {
                return lower; // beyond the last bound: report the bound
            }
            const double upper = Histogram::BOUNDS_MS[i];
            return lower + (upper - lower) * ((rank - seen) / inBucket);
        }
        seen += inBucket;
    }
    return Histogram::BOUNDS_MS.back();
}

double Histogram::quantileMs(double q) const
{
    return quantileOf(counts(), q);
}

void Histogram::appendPrometheus(QByteArray &out, const QByteArray &name, const QByteArray &labels) const
{
    const Counts snapshot = counts();
    std::uint64_t cumulative = 0;
    const QByteArray prefix = labels.isEmpty() ? QByteArray() : labels + ',';
    for (std::size_t i = 0; i < snapshot.buckets.size(); ++i) {
        cumulative += snapshot.buckets[i];
        const QByteArray le = i < BOUNDS_MS.size() ? QByteArray::number(BOUNDS_MS[i] / 1000.0) : QByteArray("+Inf");
        out += name + "_bucket{" + prefix + "le=\"" + le + "\"} " + QByteArray::number(cumulative) + '\n';
    }
    const QByteArray braces = labels.isEmpty() ? QByteArray() : '{' + labels + '}';
    out += name + "_sum" + braces + ' ' + QByteArray::number(sumMs() / 1000.0, 'g', 12) + '\n';
    out += name + "_count" + braces + ' ' + QByteArray::number(cumulative) + '\n';
}

} // namespace Gateway::Metrics
