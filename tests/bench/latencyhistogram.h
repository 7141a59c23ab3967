#pragma once

#include <cstdint>
#include <vector>

namespace Bench
{
    // Log-linear latency histogram in the style of HdrHistogram: every power of two is
    // split into kSubBuckets linear buckets, so the relative error stays below
    // 1/kSubBuckets (0.4 %) at any magnitude while memory stays fixed. Recording never
    // allocates, which keeps the load generator's hot loop allocation-free.
    class LatencyHistogram final
    {
    public:
        LatencyHistogram();

        void record(std::uint64_t nanoseconds);
        std::uint64_t count() const;
        std::uint64_t max() const;
        // Smallest recorded bucket value v such that at least `percentile` % of samples are <= v.
        // Reports the bucket's highest equivalent value (conservative), clamped to the exact max.
        std::uint64_t valueAtPercentile(double percentile) const;

    private:
        static constexpr int kSubBucketBits = 8;
        static constexpr std::uint64_t kSubBuckets = std::uint64_t {1} << kSubBucketBits;
        // Values above ~2^44 ns (4.9 hours) are clamped: far beyond any benchmark run.
        static constexpr int kMaxValueBits = 44;

        static std::size_t bucketIndex(std::uint64_t value);
        static std::uint64_t bucketHighestValue(std::size_t index);

        std::vector<std::uint64_t> m_counts;
        std::uint64_t m_total = 0;
        std::uint64_t m_max = 0;
    };
}
