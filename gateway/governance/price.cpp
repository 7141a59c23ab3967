#include "price.h"

#include <algorithm>
#include <cmath>

namespace Gateway::Governance {

qint64 costNanos(const Price &price, const Usage &usage)
{
    const qint64 cached = std::clamp<qint64>(usage.cachedInputTokens, 0, std::max<qint64>(0, usage.inputTokens));
    const qint64 uncached = std::max<qint64>(0, usage.inputTokens) - cached;
    const double cachedRate = price.cachedInputPerMTok >= 0 ? price.cachedInputPerMTok : price.inputPerMTok;
    // $/MTok x tokens = 1e-6 $ per token-dollar = 1e3 nano-dollars.
    const double nanos = (static_cast<double>(uncached) * price.inputPerMTok + static_cast<double>(cached) * cachedRate +
                          static_cast<double>(std::max<qint64>(0, usage.outputTokens)) * price.outputPerMTok) *
                         1e3;
    return std::llround(nanos);
}

} // namespace Gateway::Governance
