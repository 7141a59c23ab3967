#include "slotforecast.h"

#include <algorithm>
#include <iterator>

namespace Gateway::Admission {

SlotForecast::SlotForecast(const std::multiset<qint64> &expectedFreesMs, int slotCount, qint64 nowMs)
{
    if (slotCount <= 0) {
        return;
    }
    std::vector<double> freeAt;
    freeAt.reserve(static_cast<std::size_t>(slotCount));
    const auto inUse = static_cast<std::ptrdiff_t>(expectedFreesMs.size());
    // Only the last slotCount of the expected finishes free a slot that a waiter can take.
    auto it = expectedFreesMs.begin();
    std::advance(it, std::max<std::ptrdiff_t>(0, inUse - slotCount));
    for (; it != expectedFreesMs.end(); ++it) {
        freeAt.push_back(static_cast<double>(std::max<qint64>(0, *it - nowMs)));
    }
    freeAt.resize(static_cast<std::size_t>(slotCount), 0.0); // slots nobody holds
    m_freeAtMs = decltype(m_freeAtMs)(std::greater<>(), std::move(freeAt));
}

double SlotForecast::nextStartMs() const
{
    return m_freeAtMs.empty() ? 0.0 : m_freeAtMs.top();
}

void SlotForecast::take(double holdMs)
{
    if (m_freeAtMs.empty()) {
        return;
    }
    const double start = m_freeAtMs.top();
    m_freeAtMs.pop();
    m_freeAtMs.push(start + std::max(0.0, holdMs));
}

} // namespace Gateway::Admission
