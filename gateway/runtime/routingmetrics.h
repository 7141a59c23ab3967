#pragma once

#include <QByteArray>

namespace Gateway::Runtime {

class RouteTable;

// Prometheus series of the routing engine for the table in use: each backend's health
// state, weight multiplier, latency EWMAs and state transitions; each adaptive route's
// per-target weights; the retry budget.
void appendRoutingMetrics(QByteArray &out, const RouteTable &table);

} // namespace Gateway::Runtime
