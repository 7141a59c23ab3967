#pragma once

#include <QByteArray>

namespace Gateway::Runtime {

class RouteTable;

// Per-route demand and saturation gauges for autoscalers (KEDA's Prometheus scaler, HPA
// through prometheus-adapter): one series per route, so a scaler selects the route its
// deployment serves. Definitions in docs/METRICS.md and docs/AUTOSCALING.md.
void appendAutoscalingMetrics(QByteArray &out, const RouteTable &table, qint64 nowMs);

} // namespace Gateway::Runtime
