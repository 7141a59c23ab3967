#include "autoscalingmetricsexport.h"

#include "metrics/exposition.h"

#include "backendmonitor.h"
#include "routetable.h"

#include "admission/admissionqueue.h"

#include <algorithm>
#include <vector>

namespace Gateway::Runtime {

namespace {

struct RouteSignals {
    QByteArray route; // escaped for a label value
    double queued = 0;
    double inFlightRequests = 0;
    double inFlightTokens = 0;
    double capacity = 0; // slots of the route's capped group; 0 = uncapped (unknown)
    double predictedTtftMs = 0;
    double objectiveMs = 0;

    // The larger of how full the route's slots are (waiting requests count: a queue means
    // demand beyond capacity) and how close its predicted time to first token is to its
    // objective. 1 = at capacity or at the objective; above 1 = past it.
    double saturation() const
    {
        const double utilisation = capacity > 0 ? (inFlightRequests + queued) / capacity : 0.0;
        const double latency = objectiveMs > 0 ? predictedTtftMs / objectiveMs : 0.0;
        return std::max(utilisation, latency);
    }
};

RouteSignals signalsOf(const RouteTable &table, const RouteRuntime &route, qint64 nowMs)
{
    RouteSignals out;
    out.route = Metrics::escapeLabelValue(route.model);
    // The objective of requests without a priority: the standard class's (the default).
    out.objectiveMs = static_cast<double>(
        table.policy().admission.classes[Admission::classIndex(Admission::DEFAULT_PRIORITY_CLASS)].ttftObjectiveMs);
    std::vector<int> seen;
    double bestTtftMs = 0;
    for (const auto &target : route.targets) {
        if (std::find(seen.begin(), seen.end(), target.backendId) != seen.end()) {
            continue;
        }
        seen.push_back(target.backendId);
        const BackendRuntime &backend = table.backends()[static_cast<std::size_t>(target.backendId)];
        out.inFlightRequests += backend.stats->inFlight.load(std::memory_order_relaxed);
        const Routing::BackendState state = backend.monitor->sample(nowMs);
        out.inFlightTokens += static_cast<double>(state.inFlightTokens);
        if (state.available && state.ttftMs > 0 && (bestTtftMs == 0 || state.ttftMs < bestTtftMs)) {
            bestTtftMs = state.ttftMs;
        }
    }
    double serviceTtftMs = bestTtftMs;
    double queueWaitMs = 0;
    if (route.admission) {
        const Admission::QueueMetrics queue = route.admission->metrics();
        std::int64_t queuedTokens = 0;
        for (const auto &klass : queue.classes) {
            out.queued += klass.depth;
            queuedTokens += klass.queuedTokens;
        }
        out.capacity = queue.slotCount;
        if (queue.serviceTtftMs > 0) {
            serviceTtftMs = queue.serviceTtftMs;
        }
        if (queuedTokens > 0 && queue.drainTokensPerSecond > 0) {
            queueWaitMs = static_cast<double>(queuedTokens) / queue.drainTokensPerSecond * 1000.0;
        }
    }
    out.predictedTtftMs = queueWaitMs + serviceTtftMs;
    return out;
}

void gauge(QByteArray &out, const std::vector<RouteSignals> &routes, const char *name, const char *help,
           double (*read)(const RouteSignals &))
{
    Metrics::appendMetricHeader(out, name, "gauge", help);
    for (const RouteSignals &route : routes) {
        out += name + ("{route=\"" + route.route + "\"} ") + QByteArray::number(read(route), 'g', 10) + '\n';
    }
}

} // namespace

void appendAutoscalingMetrics(QByteArray &out, const RouteTable &table, qint64 nowMs)
{
    std::vector<RouteSignals> routes;
    for (const auto &route : table.routes()) {
        routes.push_back(signalsOf(table, *route, nowMs));
    }
    if (routes.empty()) {
        return;
    }
    gauge(out, routes, "switchyard_route_queued_requests",
          "Requests of the route's target group waiting in the gateway queue now (all priority classes).",
          [](const RouteSignals &r) { return r.queued; });
    gauge(out, routes, "switchyard_route_inflight_requests", "Attempts in progress on the route's targets.",
          [](const RouteSignals &r) { return r.inFlightRequests; });
    gauge(out, routes, "switchyard_route_inflight_tokens",
          "Expected tokens (prompt + expected output) of the requests in progress on the route's targets.",
          [](const RouteSignals &r) { return r.inFlightTokens; });
    gauge(out, routes, "switchyard_route_capacity_requests",
          "Requests the route's targets take at once: the sum of their max_concurrency (0 = uncapped).",
          [](const RouteSignals &r) { return r.capacity; });
    gauge(out, routes, "switchyard_route_predicted_ttft_ms",
          "Time to first token a new request is predicted to get: queue wait (queued tokens / learned drain rate) + "
          "service TTFT (learned by the queue, else the fastest available target's TTFT EWMA); 0 = nothing learned.",
          [](const RouteSignals &r) { return r.predictedTtftMs; });
    gauge(out, routes, "switchyard_route_ttft_objective_ms",
          "The time-to-first-token objective the route is held to: admission.classes.standard.ttft_objective_ms.",
          [](const RouteSignals &r) { return r.objectiveMs; });
    gauge(out, routes, "switchyard_route_saturation",
          "max((inflight_requests + queued_requests) / capacity_requests, predicted_ttft_ms / ttft_objective_ms); "
          "1 = at capacity or at the objective.",
          [](const RouteSignals &r) { return r.saturation(); });
}

} // namespace Gateway::Runtime
