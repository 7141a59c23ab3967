#include "trafficsplit.h"

#include "sessionhashpolicy.h"

#include <algorithm>

namespace Gateway::Routing {

TrafficSplit::TrafficSplit(std::span<const double> shares, Sticky sticky, QByteArrayView salt)
    : m_sticky {sticky}
    , m_seed {salt.isEmpty() ? 0 : SessionHashPolicy::hashKey(salt)}
{
    double total = 0.0;
    for (const double share : shares) {
        total += std::max(0.0, share);
    }
    double running = 0.0;
    for (const double share : shares) {
        running += total > 0.0 ? std::max(0.0, share) / total : 0.0;
        m_cumulative.push_back(running);
    }
    // Rounding must not leave a sliver past the last arm where no arm is found.
    if (!m_cumulative.empty()) {
        m_cumulative.back() = 1.0;
    }
}

int TrafficSplit::pick(QByteArrayView stickyKey, Rng &rng) const
{
    if (m_cumulative.size() <= 1) {
        return m_cumulative.empty() ? -1 : 0;
    }
    const bool keyed = m_sticky != Sticky::None && !stickyKey.isEmpty();
    return armAt(keyed ? position(stickyKey) : rng.uniform());
}

int TrafficSplit::armAt(double position) const
{
    // Few arms: a linear scan beats a binary search.
    for (std::size_t i = 0; i < m_cumulative.size(); ++i) {
        if (position < m_cumulative[i]) {
            return static_cast<int>(i);
        }
    }
    return m_cumulative.empty() ? -1 : static_cast<int>(m_cumulative.size() - 1);
}

double TrafficSplit::position(QByteArrayView stickyKey) const
{
    // The top 53 bits as a double in [0, 1), as Rng::uniform() does.
    return static_cast<double>(SessionHashPolicy::hashKey(stickyKey, m_seed) >> 11) * (1.0 / 9007199254740992.0);
}

} // namespace Gateway::Routing
