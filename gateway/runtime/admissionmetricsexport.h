#pragma once

#include <QByteArray>

namespace Gateway::Runtime {

class RouteTable;

// The admission-control part of the gateway's own /metrics: for every queue the table's
// routes use (label `group`, the sorted backend labels of the target group) and every
// priority class (label `priority`): depth, time waited for a slot, admissions, refusals by
// reason, time-outs and cancellations; per queue its slots and what it learned.
// Nothing is written when no route has a queue.
void appendAdmissionMetrics(QByteArray &out, const RouteTable &table);

} // namespace Gateway::Runtime
