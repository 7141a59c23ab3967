#include "admissionmetrics.h"

#include <algorithm>

namespace Gateway::Admission {

QLatin1String refusalReasonName(RefusalReason reason)
{
    switch (reason) {
    case RefusalReason::None:
        return QLatin1String("none");
    case RefusalReason::PredictedMiss:
        return QLatin1String("predicted_miss");
    case RefusalReason::QueueFull:
        return QLatin1String("queue_full");
    case RefusalReason::Evicted:
        return QLatin1String("evicted");
    case RefusalReason::MaxWait:
        return QLatin1String("max_wait");
    case RefusalReason::Shutdown:
        return QLatin1String("shutdown");
    }
    return QLatin1String("none");
}

void WaitHistogram::record(qint64 waitMs)
{
    const qint64 wait = std::max<qint64>(0, waitMs);
    const auto bound = std::lower_bound(BOUNDS_MS.begin(), BOUNDS_MS.end(), wait);
    ++buckets[static_cast<std::size_t>(bound - BOUNDS_MS.begin())];
    ++count;
    sumMs += static_cast<double>(wait);
}

} // namespace Gateway::Admission
