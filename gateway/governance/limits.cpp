#include "limits.h"

namespace Gateway::Governance {

QLatin1String limitKindName(LimitKind kind)
{
    switch (kind) {
    case LimitKind::Rpm:
        return QLatin1String("rpm");
    case LimitKind::Tpm:
        return QLatin1String("tpm");
    case LimitKind::Concurrency:
        return QLatin1String("max_concurrent_requests");
    case LimitKind::UsdPerDay:
        return QLatin1String("usd_per_day");
    case LimitKind::UsdPerMonth:
        return QLatin1String("usd_per_month");
    case LimitKind::TokensPerDay:
        return QLatin1String("tokens_per_day");
    case LimitKind::TokensPerMonth:
        return QLatin1String("tokens_per_month");
    }
    return QLatin1String("unknown");
}

bool isBudget(LimitKind kind)
{
    return kind == LimitKind::UsdPerDay || kind == LimitKind::UsdPerMonth || kind == LimitKind::TokensPerDay ||
           kind == LimitKind::TokensPerMonth;
}

} // namespace Gateway::Governance
