#include "drainestimator.h"

#include <algorithm>
#include <cmath>

namespace Gateway::Admission {

namespace {

// A completion reported within the same millisecond still took some time; counting it
// as 1 ms keeps the ratio finite.
constexpr double MIN_HOLD_MS = 1.0;
constexpr double MIN_TOKENS = 1.0;

double ewma(double current, double sample, bool first)
{
    return first ? sample : current + DrainEstimator::EWMA_ALPHA * (sample - current);
}

} // namespace

void DrainEstimator::observeCompletion(std::int64_t tokens, qint64 holdMs)
{
    const bool first = !knowsDrainRate();
    m_tokens = ewma(m_tokens, std::max(MIN_TOKENS, static_cast<double>(tokens)), first);
    m_holdMs = ewma(m_holdMs, std::max(MIN_HOLD_MS, static_cast<double>(holdMs)), first);
}

void DrainEstimator::observeServiceTtft(double ttftMs)
{
    if (!(ttftMs >= 0.0) || !std::isfinite(ttftMs)) {
        return;
    }
    m_ttftMs = ewma(m_ttftMs, ttftMs, !m_sawTtft);
    m_sawTtft = true;
}

double DrainEstimator::slotTokensPerSecond() const
{
    return knowsDrainRate() ? m_tokens * 1000.0 / m_holdMs : 0.0;
}

double DrainEstimator::drainMs(std::int64_t tokens, int busySlots) const
{
    if (!knowsDrainRate() || busySlots <= 0) {
        return -1.0;
    }
    return static_cast<double>(std::max<std::int64_t>(0, tokens)) * m_holdMs / (m_tokens * busySlots);
}

double DrainEstimator::expectedHoldMs(std::int64_t tokens) const
{
    return drainMs(tokens, 1);
}

int retryAfterSeconds(double ms)
{
    if (!(ms > 1000.0)) {
        return 1;
    }
    if (ms >= MAX_RETRY_AFTER_SECONDS * 1000.0) {
        return MAX_RETRY_AFTER_SECONDS;
    }
    return static_cast<int>(std::ceil(ms / 1000.0));
}

} // namespace Gateway::Admission
