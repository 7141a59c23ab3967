#include "burnrate.h"

namespace Gateway::Governance {

void BurnRate::add(qint64 nowMs, double spent)
{
    if (!m_readings.empty() && (spent < m_readings.back().second || nowMs < m_readings.back().first)) {
        m_readings.clear();
    }
    m_readings.emplace_back(nowMs, spent);
    // Keep one reading at or before the window's start, so the slope spans the window.
    while (m_readings.size() > 2 && m_readings[1].first <= nowMs - WindowMs) {
        m_readings.pop_front();
    }
}

std::optional<double> BurnRate::perHour() const
{
    if (m_readings.size() < 2) {
        return std::nullopt;
    }
    const auto &[firstMs, firstSpent] = m_readings.front();
    const auto &[lastMs, lastSpent] = m_readings.back();
    const qint64 span = lastMs - firstMs;
    if (span < MinSpanMs) {
        return std::nullopt;
    }
    return (lastSpent - firstSpent) * 3600.0 * 1000.0 / static_cast<double>(span);
}

std::optional<qint64> projectedExhaustionMs(double spent, double limit, double perHour, qint64 nowMs,
                                            qint64 windowEndMs)
{
    if (limit <= 0) {
        return std::nullopt;
    }
    const double remaining = limit - spent;
    if (remaining <= 0) {
        return nowMs;
    }
    if (perHour <= 0) {
        return std::nullopt;
    }
    const auto at = nowMs + static_cast<qint64>(remaining / perHour * 3600.0 * 1000.0);
    if (windowEndMs > 0 && at >= windowEndMs) {
        return std::nullopt; // the window resets first
    }
    return at;
}

} // namespace Gateway::Governance
