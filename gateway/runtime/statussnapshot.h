#pragma once

#include "governance/account.h"
#include "governance/limits.h"
#include "routing/backendsnapshot.h"

// What the consoles (GUI, terminal, log lines) show: a value type copied out of the
// running gateway a few times a second. Reading it never blocks the data plane.

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <vector>

namespace Gateway {

struct LatencySummary {
    double p50Ms = 0;
    double p99Ms = 0;
};

// One upstream provider/model pair, shared by every route that targets it.
struct BackendStatus {
    QString id;         // "provider/model", as in x-switchyard-backend
    QString provider;
    QString providerType; // "vllm", "openai", ...
    QByteArray model;
    qint64 requests = 0;  // attempts sent to this backend
    qint64 errors = 0;    // attempts that failed (connect, timeout, 5xx, 429)
    double requestsPerSecond = 0;
    int inFlight = 0;
    qint64 tokensIn = 0;
    qint64 tokensOut = 0;
    LatencySummary latency; // whole attempt
    LatencySummary ttft;    // time to first byte of the body / first token
    // From the routing engine's health state machine.
    QString health = QStringLiteral("healthy"); // healthy, degraded, failed, recovering
    double healthWeight = 1.0;   // slow-start ramp / degraded share
    // How long the backend has been in `health`: since its last transition, or, when
    // healthTransitioned is false, since the gateway first saw it (so at least this long).
    qint64 healthForMs = 0;
    bool healthTransitioned = false;
    double windowErrorRate = 0;  // over the health window
    double ttftEwmaMs = 0;       // peak-EWMA; 0 = no sample yet
    double tokenLatencyEwmaMs = 0;
    // The gateway's in-flight token load split by phase, and what the server's engine
    // reports on its metrics_url (hasEngineMetrics = false without one).
    qint64 inFlightPrefillTokens = 0;
    qint64 inFlightDecodeTokens = 0;
    bool hasEngineMetrics = false;
    Routing::EngineSignals engine;
};

struct RouteTargetStatus {
    int backendIndex = -1; // into StatusSnapshot::backends
    double weight = 0;     // configured weight
    double share = 0;      // weight / sum of weights of the route
    // Adaptive routes: the factors of the last recomputation and the resulting weight
    // (all 1 on other strategies).
    double errorPenalty = 1;
    double latencyScore = 1;
    double utilisation = 1;
    double momentum = 1;
    double effectiveWeight = 0; // what the strategy draws with now (health ramp included)
    QString pool {};            // "prefill" / "decode" (targets[].pool), empty for both steps
};

// A route's response cache (routes[].cache): what it answered and saved since start.
struct RouteCacheStatus {
    bool enabled = false;
    qint64 hits = 0;    // exact and semantic
    qint64 lookups = 0; // requests looked up (cache-control bypasses not counted)
    qint64 entries = 0;
    qint64 bytes = 0;
    qint64 savedTokens = 0;
    double savedUsd = 0;
    double hitRatio() const { return lookups > 0 ? static_cast<double>(hits) / static_cast<double>(lookups) : 0.0; }
};

struct RouteStatus {
    QByteArray model;
    QString strategy;
    std::vector<RouteTargetStatus> targets;
    QStringList fallbacks;
    // Routes with a prefill pool: how many requests the P/D decider split and kept whole.
    bool hasPrefillPool = false;
    qint64 disaggregated = 0;
    qint64 aggregated = 0;
    // The split share as whole percent ("P/D 34%" in both consoles); empty before the
    // first decision or without a prefill pool.
    QString pdSplitPercent() const
    {
        const qint64 decided = disaggregated + aggregated;
        if (!hasPrefillPool || decided <= 0) {
            return {};
        }
        return QString::number(100.0 * static_cast<double>(disaggregated) / static_cast<double>(decided), 'f', 0) + QLatin1Char('%');
    }
    qint64 requests = 0; // client requests answered for this route
    qint64 errors = 0;   // of those, answered with an error status
    double requestsPerSecond = 0;
    LatencySummary latency;
    LatencySummary ttft;
    RouteCacheStatus cache;
};

// Where limit state lives: in this process, or shared through Redis (--redis), and
// whether Redis is reachable right now (if not, the gateway serves on local state).
struct LimitStoreStatus {
    bool shared = false;    // --redis given
    bool redisUp = false;
    QString endpoint;       // redis://host:port/db (never a password)
    qint64 changedAtMs = 0; // when Redis last went up or down
    QString lastError;
    quint64 fallbackReservations = 0; // requests admitted on local state while Redis was down
    quint64 backlogEntries = 0;       // usage sums waiting for Redis to come back
};

struct StatusSnapshot {
    QString baseUrl; // e.g. http://127.0.0.1:8420/v1
    int threads = 0;
    qint64 uptimeMs = 0;
    int openConnections = 0;
    int activeRequests = 0;
    qint64 totalRequests = 0;
    qint64 totalErrors = 0;
    double requestsPerSecond = 0;
    std::vector<RouteStatus> routes;
    std::vector<BackendStatus> backends;
    LimitStoreStatus limitStore;
};

// One virtual key or team of the active policy: its budgets and what it has used in the
// current UTC day and month, as the limit store enforces them (committed spend, plus the
// estimates of requests in flight in `usage.reserved*`). Read from memory: no SQL.
struct BudgetStatus {
    bool isTeam = false;
    QString name;
    QString team; // a key's team; empty for teams and keys without one
    Governance::Budgets budgets;
    Governance::AccountUsage usage;
    qint64 atMs = 0; // wall clock (Unix ms) the usage was read at; windows derive from it
};

// Implemented by the running gateway; consumers poll it on their own timer.
class StatusProvider {
public:
    virtual ~StatusProvider() = default;
    virtual StatusSnapshot statusSnapshot() const = 0;
    // Every team and virtual key of the active policy, teams first, in policy order.
    // Separate from the snapshot because it locks each account briefly: consumers that
    // show budgets ask for it on their own (slower) timer.
    virtual std::vector<BudgetStatus> budgetStatus() const { return {}; }
};

} // namespace Gateway
