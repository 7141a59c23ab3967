#pragma once

#include <cstdint>
#include <vector>

namespace Gateway::Sim::Fleet {

// Counts of positive values in logarithmic buckets 1% wide, for distributions with too
// many samples to keep (every inter-token gap of a run: tens of millions). Quantiles come
// back within 0.5% of the true value.
class LogHistogram final {
public:
    void add(double value, std::uint64_t count = 1);
    // p in [0, 1]; 0 when empty.
    double quantile(double p) const;
    std::uint64_t count() const { return m_total; }

private:
    std::vector<std::uint64_t> m_buckets;
    std::uint64_t m_total = 0;
};

// Nearest-rank quantile (p in [0, 1]) of `values`, reordering them; 0 when empty.
double quantileOf(std::vector<double> &values, double p);

} // namespace Gateway::Sim::Fleet
