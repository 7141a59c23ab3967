#pragma once

#include <QLatin1StringView>

namespace Gateway::EventKinds {

// The `kind` of events the gateway and its store record (GET /admin/v1/events, the
// console's events view), for the ones a reader picks out by kind. One list for writers
// and readers, so a filter cannot name a kind nobody writes (the console's "Budget
// alerts" once asked for "budget_alert").
inline constexpr QLatin1StringView HEALTH {"health"};
inline constexpr QLatin1StringView FAILOVER {"failover"};
inline constexpr QLatin1StringView POLICY_APPLIED {"policy_applied"};
inline constexpr QLatin1StringView ROLLBACK {"rollback"};
inline constexpr QLatin1StringView BUDGET_SOFT_LIMIT {"budget.soft_limit"};
inline constexpr QLatin1StringView ENGINE_RESTART {"engine.restart"};

} // namespace Gateway::EventKinds
