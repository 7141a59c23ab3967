#include "routepolicy.h"

#include <algorithm>
#include <limits>

namespace Gateway::Routing {

void Ranking::reset(std::size_t targetCount)
{
    order.clear();
    cachedPromptTokens.clear();
    if (explain) {
        scores.assign(targetCount, std::numeric_limits<double>::quiet_NaN());
    }
}

void Ranking::setScore(int targetIndex, double score)
{
    if (explain && targetIndex >= 0 && static_cast<std::size_t>(targetIndex) < scores.size()) {
        scores[static_cast<std::size_t>(targetIndex)] = score;
    }
}

} // namespace Gateway::Routing
