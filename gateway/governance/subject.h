#pragma once

#include "limits.h"

#include <QString>

namespace Gateway::Governance {

class Account;

// Who a request is charged to: a virtual key and, optionally, its team, with the limits
// the current policy gives each. Compiled into the route table (one per virtual key) and
// bound to live state by the LimitStore that serves it; requests keep the table they
// started with, so the pointer stays valid for the request's whole life.
struct Subject {
    QString key;  // virtual key name; empty for an open gateway (no keys configured)
    QString team; // empty = no team
    AccountLimits keyLimits;
    AccountLimits teamLimits;
    // Bound by LocalLimitStore::bind(); null for a store that keeps state elsewhere.
    Account *keyAccount = nullptr;
    Account *teamAccount = nullptr;
};

} // namespace Gateway::Governance
