#include "peakewma.h"

#include <algorithm>
#include <cmath>

namespace Gateway::Routing {

PeakEwma::PeakEwma(qint64 decayMs)
    : m_decayMs {std::max(decayMs, MIN_DECAY_MS)}
{
}

double PeakEwma::decayFactor(qint64 nowMs) const
{
    const qint64 elapsed = std::max<qint64>(nowMs - m_stampMs, 0);
    return std::exp(-static_cast<double>(elapsed) / static_cast<double>(m_decayMs));
}

void PeakEwma::observe(double sample, qint64 nowMs)
{
    if (!std::isfinite(sample)) {
        return; // a broken measurement must not poison the average for good
    }
    sample = std::max(sample, 0.0);
    const double w = decayFactor(nowMs);
    const double current = m_value * w;
    // Peak: compared with the value policies see now, not the stale stored one.
    m_value = sample > current ? sample : current + sample * (1.0 - w);
    // Time never runs backwards for the average: an out-of-order stamp keeps the newer one.
    m_stampMs = std::max(m_stampMs, nowMs);
}

double PeakEwma::value(qint64 nowMs) const
{
    return m_value * decayFactor(nowMs);
}

} // namespace Gateway::Routing
