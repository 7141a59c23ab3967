#include "attemptplanner.h"

#include "routing/sessionhashpolicy.h"

#include <algorithm>
#include <cmath>

namespace Gateway::Proxy {

namespace {

// Routes and backends are few: small vectors beat hash sets (no allocation per entry).
bool contains(const std::vector<int> &values, int value)
{
    return std::find(values.begin(), values.end(), value) != values.end();
}

constexpr const char *CIRCUIT_OPEN = "circuit open";
constexpr const char *OUTSIDE_REGIONS = "outside the allowed regions";
constexpr const char *NO_SERVERS = "no servers discovered yet";

struct Scratch {
    std::vector<int> visitedRoutes;
    std::vector<int> plannedBackends;
    std::vector<int> candidates;
    std::vector<int> circuitOpen;
    std::vector<const Runtime::RouteRuntime *> pending;
    Routing::Ranking ranking;
};

} // namespace

AttemptPlanner::AttemptPlanner(const Runtime::RouteTable &table, Runtime::Endpoint endpoint, Routing::Rng &rng,
                               Runtime::RegionSet regions)
    : m_table {table}
    , m_endpoint {endpoint}
    , m_rng {rng}
    , m_regions {regions}
{
}

const char *AttemptPlanner::exclusionReason(const Runtime::BackendRuntime &backend, const Routing::RequestSummary &request,
                                            const Routing::BackendSnapshot &snapshot, const Runtime::RegionSet &regions)
{
    // Residency first: a target outside the regions is never a candidate, not even as
    // the last resort of panic routing.
    if (!regions.allows(backend.regionBit)) {
        ++m_residencyExclusions;
        return OUTSIDE_REGIONS;
    }
    const auto &provider = m_table.providers()[static_cast<std::size_t>(backend.providerIndex)];
    if (provider.awaitingServers) {
        m_awaitingProvider = provider.config.name;
        return NO_SERVERS;
    }
    if (!provider.supports(m_endpoint) && !provider.servesByTranslation(m_endpoint)) {
        return "endpoint not supported";
    }
    if (backend.contextWindow > 0) {
        const qint64 needed = qint64 {request.estimatedPromptTokens} + std::max(0, request.maxTokens);
        if (needed > backend.contextWindow) {
            return "context window too small";
        }
    }
    const auto id = static_cast<std::size_t>(backend.id);
    if (id < snapshot.backends.size() && !snapshot.backends[id].available) {
        return CIRCUIT_OPEN;
    }
    return nullptr;
}

void AttemptPlanner::noteSessionMove(const Runtime::RouteRuntime &route, const Routing::RequestSummary &request,
                                     const std::vector<int> &candidates, const Routing::Ranking &ranking,
                                     QByteArray *explain) const
{
    if (request.sessionKey.isEmpty() || ranking.order.empty() || route.strategy != u"session_hash") {
        return;
    }
    const auto *sessionPolicy = static_cast<const Routing::SessionHashPolicy *>(route.policy.get());
    // Where the session would go with every target healthy and unloaded: if the pick
    // differs, the session moved, and the operator should see why.
    thread_local std::vector<int> all;
    all.resize(route.targets.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
        all[i] = static_cast<int>(i);
    }
    const int owner = sessionPolicy->owner(request.sessionKey, all);
    if (owner < 0 || owner == ranking.order.front()) {
        if (explain) {
            *explain += " session=sticky";
        }
        return;
    }
    const bool overloaded = contains(candidates, owner);
    auto &moves = overloaded ? route.stats->sessionMovesOverloaded : route.stats->sessionMovesUnavailable;
    moves.fetch_add(1, std::memory_order_relaxed);
    if (explain) {
        const auto &ownerLabel =
            m_table.backends()[static_cast<std::size_t>(route.targets[static_cast<std::size_t>(owner)].backendId)].label;
        *explain += " session=moved from " + ownerLabel + (overloaded ? " (over its load bound)" : " (filtered out)");
    }
}

void AttemptPlanner::plan(const Runtime::RouteRuntime &first, const Routing::RequestSummary &request,
                          const Routing::BackendSnapshot &snapshot, std::span<const int> allowedTargets,
                          std::vector<PlannedAttempt> &out, QByteArray *explain)
{
    const auto maxAttempts = static_cast<std::size_t>(std::max(1, first.maxAttempts));
    // Scratch reused across requests on this worker thread: planning allocates nothing
    // once the vectors have grown to the table's size.
    thread_local Scratch scratch;
    auto &[visitedRoutes, plannedBackends, candidates, circuitOpen, pending, ranking] = scratch;
    visitedRoutes.clear();
    plannedBackends.clear();
    pending.assign(1, &first);
    ranking.explain = explain != nullptr;
    out.reserve(maxAttempts);
    for (std::size_t next = 0; next < pending.size() && out.size() < maxAttempts; ++next) {
        const Runtime::RouteRuntime &route = *pending[next];
        if (contains(visitedRoutes, route.index)) {
            continue;
        }
        visitedRoutes.push_back(route.index);
        for (const int fallback : route.fallbackRoutes) {
            pending.push_back(m_table.routes()[static_cast<std::size_t>(fallback)].get());
        }
        candidates.clear();
        circuitOpen.clear();
        QByteArray filtered;
        const Runtime::RegionSet regions = m_regions.intersected(route.regions);
        for (std::size_t i = 0; i < route.targets.size(); ++i) {
            const auto &backend = m_table.backends()[static_cast<std::size_t>(route.targets[i].backendId)];
            // A prefill-pool server only ever runs prefill steps (planPrefill).
            if (contains(plannedBackends, backend.id) || route.inPrefillPool(static_cast<int>(i))) {
                continue;
            }
            if (next == 0 && !allowedTargets.empty() &&
                std::find(allowedTargets.begin(), allowedTargets.end(), static_cast<int>(i)) == allowedTargets.end()) {
                if (explain) {
                    filtered += (filtered.isEmpty() ? "" : ",") + backend.label + "(not selected by rule)";
                }
                continue;
            }
            const char *reason = exclusionReason(backend, request, snapshot, regions);
            if (!reason) {
                candidates.push_back(static_cast<int>(i));
                continue;
            }
            if (reason == CIRCUIT_OPEN) {
                circuitOpen.push_back(static_cast<int>(i));
            }
            if (explain) {
                filtered += (filtered.isEmpty() ? "" : ",") + backend.label + '(' + reason +
                            (reason == OUTSIDE_REGIONS ? ' ' + m_table.regions().describe(regions) : QByteArray()) + ')';
            }
        }
        bool panic = false;
        if (candidates.empty() && !circuitOpen.empty() && next + 1 >= pending.size()) {
            // Every remaining target's circuit is open and there is nowhere else to go:
            // trying one beats refusing outright (Envoy's panic routing does the same).
            candidates = circuitOpen;
            panic = true;
        }
        if (candidates.empty()) {
            if (explain) {
                *explain += (explain->isEmpty() ? "" : "; ") + QByteArray("route=") + route.model +
                            " no candidates filtered=" + filtered;
            }
            continue;
        }
        const Routing::RankInput input {route.targets, candidates, snapshot, request, route.index,
                                        static_cast<int>(maxAttempts - out.size())};
        route.policy->rank(input, m_rng, ranking);
        for (const int index : ranking.order) {
            const auto &backend = m_table.backends()[static_cast<std::size_t>(route.targets[static_cast<std::size_t>(index)].backendId)];
            plannedBackends.push_back(backend.id);
            const int cached = ranking.cachedPromptTokens.empty() ? 0 : ranking.cachedPromptTokens[static_cast<std::size_t>(index)];
            out.push_back({&route, &backend, cached});
        }
        QByteArray sessionNote;
        noteSessionMove(route, request, candidates, ranking, explain ? &sessionNote : nullptr);
        if (explain) {
            QByteArray scored;
            for (const int index : candidates) {
                const auto &backend = m_table.backends()[static_cast<std::size_t>(route.targets[static_cast<std::size_t>(index)].backendId)];
                const double score = ranking.scores.empty() ? NAN : ranking.scores[static_cast<std::size_t>(index)];
                scored += (scored.isEmpty() ? "" : ",") + backend.label +
                          (std::isnan(score) ? QByteArray() : ':' + QByteArray::number(score, 'g', 4));
            }
            QByteArray order;
            for (const int index : ranking.order) {
                order += (order.isEmpty() ? "" : ">") +
                         m_table.backends()[static_cast<std::size_t>(route.targets[static_cast<std::size_t>(index)].backendId)].label;
            }
            *explain += (explain->isEmpty() ? "" : "; ") + QByteArray("route=") + route.model + " strategy=" +
                        QByteArray(route.policy->name().data(), static_cast<qsizetype>(route.policy->name().size())) +
                        " scores=" + scored + " order=" + order;
            if (!filtered.isEmpty()) {
                *explain += " filtered=" + filtered;
            }
            if (panic) {
                *explain += " panic=all circuits open";
            }
            *explain += sessionNote;

        }
    }
}

void AttemptPlanner::planPrefill(const Runtime::RouteRuntime &route, const Routing::RequestSummary &request,
                                 const Routing::BackendSnapshot &snapshot, int maxTargets,
                                 std::vector<PlannedAttempt> &out, QByteArray *explain)
{
    thread_local std::vector<int> candidates;
    thread_local Routing::Ranking ranking;
    out.clear();
    candidates.clear();
    for (std::size_t i = 0; i < route.targets.size(); ++i) {
        if (!route.inPrefillPool(static_cast<int>(i))) {
            continue;
        }
        const auto &backend = m_table.backends()[static_cast<std::size_t>(route.targets[i].backendId)];
        if (!exclusionReason(backend, request, snapshot, m_regions.intersected(route.regions))) {
            candidates.push_back(static_cast<int>(i));
        }
    }
    if (candidates.empty()) {
        if (explain) {
            *explain += " prefill=none available";
        }
        return;
    }
    // The route's own strategy ranks the prefill pool: load matters most there, and a
    // prefix the prefill server already holds also shortens the prefill.
    ranking.explain = false;
    // A look-ahead: the exchange records the prefill server's placement only when it
    // sends the prefill step (the P/D decider may still keep the request whole).
    const Routing::RankInput input {route.targets, candidates, snapshot, request, route.index, maxTargets, false};
    route.policy->rank(input, m_rng, ranking);
    for (const int index : ranking.order) {
        if (static_cast<int>(out.size()) >= maxTargets) {
            break;
        }
        const auto &backend =
            m_table.backends()[static_cast<std::size_t>(route.targets[static_cast<std::size_t>(index)].backendId)];
        const int cached =
            ranking.cachedPromptTokens.empty() ? 0 : ranking.cachedPromptTokens[static_cast<std::size_t>(index)];
        out.push_back({&route, &backend, cached});
        if (explain) {
            *explain += (out.size() == 1 ? " prefill=" : ",") + backend.label;
        }
    }
}

} // namespace Gateway::Proxy
