#pragma once

#include <QByteArray>

namespace Gateway::Governance {
class LocalLimitStore;
class SpendMetrics;
} // namespace Gateway::Governance

namespace Gateway::Runtime {

class RouteTable;

// The governance part of /metrics: spend and tokens by key, team and route, refusals by
// limit, and for every key and team of the table with a dollar or token budget what is
// left of it in the current UTC day and month (committed spend and reservations in
// flight both count).
void appendGovernanceMetrics(QByteArray &out, const RouteTable &table, const Governance::LocalLimitStore &limits,
                             const Governance::SpendMetrics &spend, qint64 nowMs);

} // namespace Gateway::Runtime
