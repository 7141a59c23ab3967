#pragma once

#include "limits.h"

#include <QString>

#include <array>

namespace Gateway::Governance {

// Which limit refused a request, for the 429 body and Retry-After.
struct Refusal {
    LimitKind kind = LimitKind::Rpm;
    bool team = false;  // the team's limit, not the key's own
    QString subject;    // the key's or team's name
    double limitValue = 0;
    qint64 resetAtMs = 0; // epoch ms at which retrying can succeed (best estimate)
};

// A budget's soft limit was crossed by committed spend: raised once per window.
struct SoftLimitAlert {
    LimitKind kind = LimitKind::UsdPerDay;
    bool team = false;
    QString subject;
    double limitValue = 0; // the budget (USD or tokens)
    double spent = 0;      // committed spend in the window after this request
    double softFraction = 0;
    qint64 windowStartMs = 0;
};

// At most four budgets per account, key and team: eight alerts from one settlement.
struct SettleAlerts {
    std::array<SoftLimitAlert, 8> alerts;
    int count = 0;

    void add(SoftLimitAlert alert)
    {
        if (count < static_cast<int>(alerts.size())) {
            alerts[static_cast<std::size_t>(count++)] = std::move(alert);
        }
    }
};

} // namespace Gateway::Governance
