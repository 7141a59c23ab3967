#include "tokenbucket.h"

#include <algorithm>

namespace Gateway::Governance {

void TokenBucket::reset(qint64 limitPerMinute, qint64 nowMs)
{
    m_limit = std::max<qint64>(0, limitPerMinute);
    m_level = m_limit * SCALE;
    m_lastMs = nowMs;
}

void TokenBucket::refill(qint64 nowMs)
{
    // A clock that steps back refills nothing rather than draining the bucket.
    if (nowMs <= m_lastMs) {
        return;
    }
    const qint64 capacity = m_limit * SCALE;
    const qint64 elapsed = nowMs - m_lastMs;
    m_lastMs = nowMs;
    // elapsed * limit cannot overflow for any sane limit once it is capped at a minute.
    const qint64 gained = std::min<qint64>(elapsed, SCALE) * m_limit;
    m_level = std::min(capacity, m_level + gained);
}

bool TokenBucket::canTake(qint64 amount, qint64 nowMs)
{
    if (m_limit == 0) {
        return true;
    }
    refill(nowMs);
    const qint64 capacity = m_limit * SCALE;
    return m_level >= amount * SCALE || m_level == capacity;
}

void TokenBucket::adjust(qint64 delta)
{
    if (m_limit == 0) {
        return;
    }
    m_level = std::min(m_limit * SCALE, m_level - delta * SCALE);
}

qint64 TokenBucket::waitMs(qint64 amount, qint64 nowMs)
{
    if (m_limit == 0) {
        return 0;
    }
    refill(nowMs);
    // An amount above capacity waits for a full bucket.
    const qint64 needed = std::min(amount, m_limit) * SCALE;
    if (m_level >= needed) {
        return 0;
    }
    return (needed - m_level + m_limit - 1) / m_limit;
}

qint64 TokenBucket::available(qint64 nowMs)
{
    refill(nowMs);
    return m_level / SCALE;
}

} // namespace Gateway::Governance
