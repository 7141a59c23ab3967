#include "rankkeybuffer.h"

namespace Gateway::Routing {

RankKeyBuffer::RankKeyBuffer(std::size_t candidateCount, int maxChoices, Ties ties, std::uint64_t tieSeed)
    : m_tieSeed {tieSeed}
    , m_maxChoices {maxChoices}
    , m_ties {ties}
    , m_bestOnly {maxChoices <= 1}
{
    if (!m_bestOnly && candidateCount > INLINE_CAPACITY) {
        m_heap.resize(candidateCount);
        m_data = m_heap.data();
    } else {
        m_data = m_inline.data();
    }
}

void RankKeyBuffer::appendBest(std::vector<int> &order)
{
    if (m_size == 0) {
        return;
    }
    if (m_bestOnly) {
        order.push_back(m_best.index);
        return;
    }
    const std::size_t count = choiceCount(m_maxChoices, m_size);
    // A heap of `count` entries: O(n log k), in place, no allocation.
    std::partial_sort(m_data, m_data + count, m_data + m_size,
                      [this](const RankKey &a, const RankKey &b) { return less(a, b); });
    for (std::size_t i = 0; i < count; ++i) {
        order.push_back(m_data[i].index);
    }
}

} // namespace Gateway::Routing
