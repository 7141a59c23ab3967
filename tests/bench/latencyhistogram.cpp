#include "latencyhistogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace Bench
{
    LatencyHistogram::LatencyHistogram()
        : m_counts(bucketIndex((std::uint64_t {1} << kMaxValueBits) - 1) + 1, 0)
    {
    }

    // Values below kSubBuckets map 1:1. Above, the top kSubBucketBits+1 significant bits
    // select the bucket: `shift` says which power of two, the remaining bits the slot in it.
    std::size_t LatencyHistogram::bucketIndex(std::uint64_t value)
    {
        value = std::min(value, (std::uint64_t {1} << kMaxValueBits) - 1);
        if (value < kSubBuckets)
            return static_cast<std::size_t>(value);
        const int msb = std::bit_width(value) - 1;
        const int shift = msb - kSubBucketBits;
        const std::uint64_t slot = (value >> shift) - kSubBuckets;
        return static_cast<std::size_t>((static_cast<std::uint64_t>(shift) + 1) * kSubBuckets + slot);
    }

    std::uint64_t LatencyHistogram::bucketHighestValue(std::size_t index)
    {
        if (index < kSubBuckets)
            return index;
        const std::uint64_t shift = index / kSubBuckets - 1;
        const std::uint64_t slot = index % kSubBuckets;
        const std::uint64_t lowest = (kSubBuckets + slot) << shift;
        return lowest + ((std::uint64_t {1} << shift) - 1);
    }

    void LatencyHistogram::record(std::uint64_t nanoseconds)
    {
        ++m_counts[bucketIndex(nanoseconds)];
        ++m_total;
        m_max = std::max(m_max, nanoseconds);
    }

    std::uint64_t LatencyHistogram::count() const
    {
        return m_total;
    }

    std::uint64_t LatencyHistogram::max() const
    {
        return m_max;
    }

    std::uint64_t LatencyHistogram::valueAtPercentile(double percentile) const
    {
        if (m_total == 0)
            return 0;
        const double clamped = std::clamp(percentile, 0.0, 100.0);
        const auto rank = std::max<std::uint64_t>(
            1, static_cast<std::uint64_t>(std::ceil(clamped / 100.0 * static_cast<double>(m_total))));
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < m_counts.size(); ++i) {
            seen += m_counts[i];
            if (seen >= rank)
                return std::min(bucketHighestValue(i), m_max);
        }
        return m_max;
    }
}
