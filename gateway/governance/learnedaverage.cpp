#include "learnedaverage.h"

#include <algorithm>

namespace Gateway::Governance {

void LearnedAverage::observe(qint64 sample)
{
    sample = std::max<qint64>(0, sample);
    const qint64 current = m_scaled.load(std::memory_order_relaxed);
    // avg += (sample - avg) / 16, in units of 1/16.
    m_scaled.store(current + (sample * SCALE - current) / SCALE, std::memory_order_relaxed);
}

} // namespace Gateway::Governance
