#include "fairshare.h"

#include <algorithm>

namespace Gateway::Admission {

namespace {

// Every request costs at least one token, so tags always advance and a stream of
// zero-token estimates cannot starve other keys.
constexpr double MIN_COST_TOKENS = 1.0;

} // namespace

FairShare::Tag FairShare::tagFor(const QString &key, std::int64_t tokens, double weight) const
{
    const double cost = std::max(MIN_COST_TOKENS, static_cast<double>(tokens));
    Tag tag;
    tag.start = std::max(m_virtualTime, m_finish.value(key, m_virtualTime));
    // A weight that is not positive (the queue validates them) counts as 1 rather than
    // producing infinite or negative tags.
    tag.finish = tag.start + cost / (weight > 0.0 ? weight : 1.0);
    return tag;
}

void FairShare::charge(const QString &key, const Tag &tag)
{
    m_finish.insert(key, tag.finish);
}

void FairShare::started(double start)
{
    if (start <= m_virtualTime) {
        return;
    }
    m_virtualTime = start;
    if (m_finish.size() > PRUNE_ABOVE_KEYS) {
        pruneIdleKeys();
    }
}

void FairShare::pruneIdleKeys()
{
    for (auto it = m_finish.begin(); it != m_finish.end();) {
        if (it.value() <= m_virtualTime) {
            it = m_finish.erase(it);
        } else {
            ++it;
        }
    }
}

} // namespace Gateway::Admission
