#pragma once

#include "runtime/endpoint.h"
#include "runtime/routetable.h"

#include <QByteArray>

#include <span>
#include <vector>

namespace Gateway::Proxy {

struct PlannedAttempt {
    const Runtime::RouteRuntime *route = nullptr;
    const Runtime::BackendRuntime *backend = nullptr;
    int cachedPromptTokens = 0; // the strategy's guess of the prompt already in its KV cache
};

// Turns a request into the ordered list of upstream attempts: filters each route's
// targets (endpoint support, open circuits, context window), asks the route's strategy
// to rank the rest, then continues with the fallback routes, up to the first route's
// retry.attempts. Optionally writes down why, for x-switchyard-route-reason and the
// request log.
class AttemptPlanner final {
public:
    // `regions`: where the request may be served (its key's, team's and requested
    // route's regions); each planned route's own regions narrow it further.
    AttemptPlanner(const Runtime::RouteTable &table, Runtime::Endpoint endpoint, Routing::Rng &rng,
                   Runtime::RegionSet regions = Runtime::RegionSet::unrestricted());

    // `allowedTargets` (indices into the first route's targets; empty = all) narrows the
    // first route, as conditional rules may; fallback routes are never narrowed.
    void plan(const Runtime::RouteRuntime &route, const Routing::RequestSummary &request,
              const Routing::BackendSnapshot &snapshot, std::span<const int> allowedTargets,
              std::vector<PlannedAttempt> &out, QByteArray *explain);

    // The prefill step of a disaggregated request: the route's strategy ranks its
    // prefill-pool targets (filtered like any attempt) and the best `maxTargets` go to
    // `out`, best first (the next is where a failed step is tried again). Empty when none
    // can take it.
    void planPrefill(const Runtime::RouteRuntime &route, const Routing::RequestSummary &request,
                     const Routing::BackendSnapshot &snapshot, int maxTargets, std::vector<PlannedAttempt> &out,
                     QByteArray *explain);

    // Targets left out of the plans so far because of their region: when nothing else
    // was planned, the refusal names residency rather than the endpoint.
    int residencyExclusions() const { return m_residencyExclusions; }
    // A provider left out because DNS discovery has not found its servers yet (the last
    // one met; empty when none): when nothing else was planned, the 503 names it.
    const QString &awaitingProvider() const { return m_awaitingProvider; }

private:
    // Why a target is left out, or null when it may be ranked.
    const char *exclusionReason(const Runtime::BackendRuntime &backend, const Routing::RequestSummary &request,
                                const Routing::BackendSnapshot &snapshot, const Runtime::RegionSet &regions);

    // For session_hash routes: counts a session that left its own target (filtered out,
    // or over its load bound) and says so in the explanation.
    void noteSessionMove(const Runtime::RouteRuntime &route, const Routing::RequestSummary &request,
                         const std::vector<int> &candidates, const Routing::Ranking &ranking, QByteArray *explain) const;

    const Runtime::RouteTable &m_table;
    Runtime::Endpoint m_endpoint;
    Routing::Rng &m_rng;
    Runtime::RegionSet m_regions;
    int m_residencyExclusions = 0;
    QString m_awaitingProvider;
};

} // namespace Gateway::Proxy
