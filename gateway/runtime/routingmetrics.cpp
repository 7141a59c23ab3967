#include "routingmetrics.h"

#include "metrics/exposition.h"

#include "backendmonitor.h"
#include "routetable.h"
#include "routing/retrybudget.h"

#include <array>

namespace Gateway::Runtime {

namespace {

constexpr std::array<const char *, 4> STATE_NAMES {"healthy", "degraded", "failed", "recovering"};

} // namespace

void appendRoutingMetrics(QByteArray &out, const RouteTable &table)
{
    const auto snapshot = table.snapshots().current();
    Metrics::appendMetricHeader(out, "switchyard_backend_health_state", "gauge",
           "Health state of a backend: 0 healthy, 1 degraded, 2 failed (circuit open), 3 recovering.");
    for (const auto &backend : table.backends()) {
        const auto state = snapshot && static_cast<std::size_t>(backend.id) < snapshot->backends.size()
                               ? snapshot->backends[static_cast<std::size_t>(backend.id)].health
                               : Routing::HealthState::Healthy;
        out += "switchyard_backend_health_state{backend=\"" + Metrics::escapeLabelValue(backend.label) + "\"} " +
               QByteArray::number(static_cast<int>(state)) + '\n';
    }
    Metrics::appendMetricHeader(out, "switchyard_backend_health_weight", "gauge",
           "Weight multiplier from health: slow-start ramp or degraded share, 1 when healthy.");
    Metrics::appendMetricHeader(out, "switchyard_backend_ttft_ewma_ms", "gauge", "Peak-EWMA of time to first token.");
    Metrics::appendMetricHeader(out, "switchyard_backend_token_latency_ewma_ms", "gauge", "Peak-EWMA of decode time per output token.");
    if (snapshot) {
        for (const auto &backend : table.backends()) {
            const auto id = static_cast<std::size_t>(backend.id);
            if (id >= snapshot->backends.size()) {
                continue;
            }
            const auto &state = snapshot->backends[id];
            const QByteArray labels = "{backend=\"" + Metrics::escapeLabelValue(backend.label) + "\"} ";
            out += "switchyard_backend_health_weight" + labels + QByteArray::number(state.healthWeight) + '\n';
            out += "switchyard_backend_ttft_ewma_ms" + labels + QByteArray::number(state.ttftMs) + '\n';
            out += "switchyard_backend_token_latency_ewma_ms" + labels + QByteArray::number(state.latencyPerTokenMs) + '\n';
        }
    }
    Metrics::appendMetricHeader(out, "switchyard_backend_health_transitions_total", "counter",
           "Health state changes of a backend, by the state entered.");
    for (const auto &backend : table.backends()) {
        for (std::size_t s = 0; s < STATE_NAMES.size(); ++s) {
            out += "switchyard_backend_health_transitions_total{backend=\"" + Metrics::escapeLabelValue(backend.label) + "\",to=\"" +
                   STATE_NAMES[s] + "\"} " +
                   QByteArray::number(backend.monitor->transitionsTo(static_cast<Routing::HealthState>(s))) + '\n';
        }
    }
    Metrics::appendMetricHeader(out, "switchyard_adaptive_weight", "gauge",
           "Weight the adaptive strategy draws a route's target with (before the health ramp).");
    if (snapshot) {
        for (const auto &route : table.routes()) {
            const auto index = static_cast<std::size_t>(route->index);
            if (index >= snapshot->routes.size() || snapshot->routes[index].targets.size() != route->targets.size()) {
                continue;
            }
            for (std::size_t t = 0; t < route->targets.size(); ++t) {
                const auto &backend = table.backends()[static_cast<std::size_t>(route->targets[t].backendId)];
                out += "switchyard_adaptive_weight{route=\"" + Metrics::escapeLabelValue(route->model) + "\",backend=\"" + Metrics::escapeLabelValue(backend.label) +
                       "\"} " + QByteArray::number(snapshot->routes[index].targets[t].weight) + '\n';
            }
        }
    }
    const Routing::RetryBudget &budget = table.retryBudget();
    Metrics::appendMetricHeader(out, "switchyard_retries_in_flight", "gauge", "Retries running now (capped by the retry budget).");
    out += "switchyard_retries_in_flight " + QByteArray::number(budget.retriesInFlight()) + '\n';
    Metrics::appendMetricHeader(out, "switchyard_retry_budget_rejected_total", "counter", "Retries not made because the retry budget was spent.");
    out += "switchyard_retry_budget_rejected_total " + QByteArray::number(budget.rejectedRetries()) + '\n';
}

} // namespace Gateway::Runtime
