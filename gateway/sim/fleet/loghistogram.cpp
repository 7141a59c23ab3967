#include "loghistogram.h"

#include <algorithm>
#include <cmath>

namespace Gateway::Sim::Fleet {

namespace {

const double LOG_STEP = std::log(1.01);

} // namespace

void LogHistogram::add(double value, std::uint64_t count)
{
    if (count == 0) {
        return;
    }
    // Values below 1 share bucket 0.
    const auto bucket = static_cast<std::size_t>(value > 1.0 ? std::floor(std::log(value) / LOG_STEP) + 1 : 0);
    if (bucket >= m_buckets.size()) {
        m_buckets.resize(bucket + 1, 0);
    }
    m_buckets[bucket] += count;
    m_total += count;
}

double LogHistogram::quantile(double p) const
{
    if (m_total == 0) {
        return 0.0;
    }
    const auto rank = static_cast<std::uint64_t>(std::ceil(std::clamp(p, 0.0, 1.0) * static_cast<double>(m_total)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < m_buckets.size(); ++i) {
        seen += m_buckets[i];
        if (seen >= std::max<std::uint64_t>(rank, 1)) {
            if (i == 0) {
                return 1.0;
            }
            // Geometric middle of [1.01^(i-1), 1.01^i).
            return std::exp((static_cast<double>(i) - 0.5) * LOG_STEP);
        }
    }
    return std::exp((static_cast<double>(m_buckets.size()) - 0.5) * LOG_STEP);
}

double quantileOf(std::vector<double> &values, double p)
{
    if (values.empty()) {
        return 0.0;
    }
    const auto rank = static_cast<std::size_t>(std::ceil(std::clamp(p, 0.0, 1.0) * static_cast<double>(values.size())));
    const std::size_t index = rank == 0 ? 0 : rank - 1;
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index), values.end());
    return values[index];
}

} // namespace Gateway::Sim::Fleet
