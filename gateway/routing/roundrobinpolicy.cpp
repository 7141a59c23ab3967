#include "roundrobinpolicy.h"

#include "rankkeybuffer.h"

namespace Gateway::Routing {

void RoundRobinPolicy::rank(const RankInput &input, Rng & /*rng: deterministic*/, Ranking &out) const
{
    out.reset(input.targets.size());
    const std::size_t candidateCount = input.candidates.size();
    const std::uint64_t ticket = m_cursor.fetch_add(1, std::memory_order_relaxed);
    const auto start = static_cast<std::size_t>(ticket % candidateCount);
    const std::size_t count = RankKeyBuffer::choiceCount(input.maxChoices, candidateCount);
    const std::size_t scored = out.explain ? candidateCount : count;
    for (std::size_t step = 0; step < scored; ++step) {
        std::size_t position = start + step;
        if (position >= candidateCount) {
            position -= candidateCount;
        }
        const int index = input.candidates[position];
        if (step < count) {
            out.order.push_back(index);
        }
        if (out.explain) {
            out.setScore(index, static_cast<double>(step));
        }
    }
}

} // namespace Gateway::Routing
