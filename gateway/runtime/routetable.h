#pragma once

#include "config/policy.h"
#include "endpoint.h"
#include "regionset.h"
#include "governance/learnedaverage.h"
#include "governance/price.h"
#include "governance/subject.h"
#include "metrics/metricsregistry.h"
#include "routing/prefilldecode.h"
#include "routing/routepolicy.h"
#include "routing/ruleset.h"
#include "routing/trafficsplit.h"
#include "safety/redactor.h"
#include "snapshotsource.h"
#include "tableprefixsource.h"

#include <QByteArray>
#include <QHash>
#include <QSet>

#include <memory>
#include <span>
#include <vector>

namespace Gateway::Routing {
class KeyPool;
class RetryBudget;
} // namespace Gateway::Routing

namespace Gateway::Gpu {
class MetricsScraper;
}

namespace Gateway::Admission {
class AdmissionQueue;
}

namespace Gateway::Governance {
class LimitStore;
}

namespace Gateway::Runtime {

class BackendMonitor;
class RoutingRegistry;

// A provider with everything the hot path needs precomputed: header lines carrying
// its keys, its extra headers, and the URL of each endpoint.
struct ProviderRuntime {
    Config::Provider config;
    Config::WireFormat format = Config::WireFormat::OpenAi;
    std::vector<QByteArray> authHeaderLines;  // one per key, e.g. "Authorization: Bearer ..."
    std::vector<QByteArray> extraHeaderLines; // "Name: value"
    Routing::KeyPool *keys = nullptr;         // null when the provider has no keys
    // A provider with DNS discovery whose servers are not known yet (no answer so far):
    // its targets are never tried and requests that only have them get a 503 naming it.
    bool awaitingServers = false;

    bool supports(Endpoint endpoint) const;
    // Serves `endpoint` in its own format once the gateway translates the request and
    // the answer (chat completions <-> messages, gateway/translate).
    bool servesByTranslation(Endpoint endpoint) const;
    // The endpoint this provider is called on for a client's `endpoint`.
    Endpoint upstreamEndpoint(Endpoint endpoint) const;
    QByteArray urlFor(Endpoint endpoint, const QByteArray &upstreamModel) const;
};

// One provider + upstream model pair; routes share backends.
struct BackendRuntime {
    int id = -1;
    int providerIndex = -1;
    QByteArray upstreamModel;
    QByteArray label; // "provider/model": the x-switchyard-backend value
    Metrics::BackendStats *stats = nullptr;
    BackendMonitor *monitor = nullptr;
    // From the first target naming this backend that sets them.
    double inputCostPerMTok = 0.0;
    double outputCostPerMTok = 0.0;
    // What a request answered here costs: the target's own costs when it sets them,
    // else the price table's entry for the upstream model (zero when it has none).
    Governance::Price price;
    qint64 contextWindow = 0;
    // The backend's id in the process-wide prefix index and engine-metrics board
    // (RoutingRegistry::stableId); engineId is that id when its provider has a
    // metrics_url, else -1.
    int stableId = -1;
    int engineId = -1;
    // targets[].region as its RegionCatalog bit; 0 = no region.
    std::uint64_t regionBit = 0;
};

// Failure classes a route's `retry.on` names, as bits.
enum RetryClass : unsigned {
    RETRY_CONNECT_ERROR = 1u << 0,
    RETRY_TIMEOUT = 1u << 1,
    RETRY_RATE_LIMITED = 1u << 2,
    RETRY_SERVER_ERROR = 1u << 3,
    RETRY_CONTEXT_LENGTH = 1u << 4,
    RETRY_CONTENT_FILTER = 1u << 5,
};

// One arm of a route's traffic split, compiled: where it sends requests and its metrics.
struct SplitArmRuntime {
    QByteArray name;
    int route = -1;           // another route (index into RouteTable::routes()); -1 = stay
    std::vector<int> targets; // when staying: indices into the splitting route's targets
    Metrics::ArmStats *stats = nullptr;
};

// routes[].firewall, compiled: its rules as one Redactor (rule i = the i-th rule) and,
// aligned with them, the counter of blocks or redactions each rule caused.
struct RouteFirewall {
    Config::FirewallAction action = Config::FirewallAction::Block;
    std::unique_ptr<const Safety::Redactor> patterns;
    std::vector<Metrics::Counter *> counters;
};

struct RouteRuntime {
    int index = -1;
    QByteArray model;
    QString strategy;
    std::vector<Routing::PolicyTarget> targets;
    std::vector<int> fallbackRoutes; // indices into RouteTable::routes()
    std::unique_ptr<Routing::RoutePolicy> policy;
    int maxAttempts = 3;      // retry.attempts
    unsigned retryOn = 0;     // RetryClass bits
    // retry.fallbacks: for a failure class (RetryClass bit), routes tried first.
    std::vector<std::pair<unsigned, std::vector<int>>> classFallbacks;
    Metrics::RouteStats *stats = nullptr;
    // Conditional routing (routes[].rules and .split), evaluated before the strategy.
    // Rule actions hold route indices and indices into `targets`.
    Routing::RuleSet rules;
    std::vector<Metrics::Counter *> ruleMatches; // aligned with rules
    std::unique_ptr<Routing::TrafficSplit> split; // null = no split
    std::vector<SplitArmRuntime> arms;            // aligned with the split's arms
    // Admission control: the queue of the route's target group when every target has a
    // max_concurrency (owned by the AdmissionRegistry, outlives the table); null = the
    // route never queues. `admissionGroup` is the group's key (the metrics' label).
    Admission::AdmissionQueue *admission = nullptr;
    QByteArray admissionGroup;
    // Prefill/decode disaggregation (targets[].pool, routes[].pd): each target's pool,
    // aligned with `targets`. Prefill-pool targets are never planned as attempts; when the
    // route has one, `pdStats` is set and each request is decided (DisaggregatedPrefill).
    std::vector<Routing::TargetPool> pools;
    Routing::PrefillDecodeSettings pd;
    Metrics::PdStats *pdStats = nullptr;
    std::vector<std::pair<int, Metrics::Counter *>> prefillFailures; // by backend id, prefill targets

    Metrics::Counter *prefillFailureCounter(int backendId) const
    {
        for (const auto &[id, counter] : prefillFailures) {
            if (id == backendId) {
                return counter;
            }
        }
        return nullptr;
    }

    bool hasPrefillPool() const { return pdStats != nullptr; }
    bool inPrefillPool(int targetIndex) const
    {
        return pools[static_cast<std::size_t>(targetIndex)] == Routing::TargetPool::Prefill;
    }
    // Governance estimates: the dearest target's price (a reservation must cover
    // whichever target answers) and the learned completion size for requests without
    // max_tokens (starts at governance.default_output_tokens on each policy apply).
    Governance::Price estimatePrice;
    std::unique_ptr<Governance::LearnedAverage> outputTokens;
    // routes[].regions: applies to the route's own targets whenever it is planned, and
    // to the whole plan (fallbacks included) of requests that asked for it.
    RegionSet regions;
    std::unique_ptr<RouteFirewall> firewall; // null = no prompt firewall
};

struct VirtualKeyRuntime {
    QString name;
    bool allRoutes = true;
    QSet<QByteArray> routes;
    // The admission class of its requests without an x-priority header.
    Admission::PriorityClass priority = Admission::DEFAULT_PRIORITY_CLASS;
    // Who its requests are charged to, with the key's and its team's limits; bound to
    // the limit store's live state. `routes` above already honours the team's routes.
    Governance::Subject subject;
    // Data residency: the key's regions intersected with its team's.
    RegionSet regions;
};

// The immutable, compiled form of a validated policy. Published to the workers as a
// shared_ptr<const RouteTable>; a request keeps the table it started with.
class RouteTable final {
public:
    // The policy must have passed validation (Config::parsePolicy).
    // `engines` (may be null; must outlive the table) holds what GPU servers report on
    // their metrics_url, by BackendRuntime::engineId.
    // `limits` (may be null: nothing is enforced) binds each virtual key's subject.
    // `awaitingServers`: providers with discovery and no server known yet (the policy
    // has the others expanded into one provider per server, gateway/discovery).
    static std::shared_ptr<const RouteTable> build(const Config::Policy &policy, Metrics::MetricsRegistry &metrics,
                                                   RoutingRegistry &routing, const Gpu::MetricsScraper *engines = nullptr,
                                                   Governance::LimitStore *limits = nullptr,
                                                   const QSet<QString> &awaitingServers = {});

    const Config::Policy &policy() const { return m_policy; }
    const std::vector<ProviderRuntime> &providers() const { return m_providers; }
    const std::vector<BackendRuntime> &backends() const { return m_backends; }
    const std::vector<std::unique_ptr<RouteRuntime>> &routes() const { return m_routes; }

    const RouteRuntime *findRoute(const QByteArray &model) const;

    RoutingRegistry &routing() const { return *m_routing; }
    // routing.session_key_sources as bytes (header names, or `user` / `metadata.user_id`),
    // so the hot path compares without converting.
    const std::vector<QByteArray> &sessionKeySources() const { return m_sessionKeySources; }
    Routing::RetryBudget &retryBudget() const { return *m_retryBudget; }
    // The live view of this table's backends policies rank over (mutable caches behind
    // an immutable table: rebuilding it never changes the configuration).
    SnapshotSource &snapshots() const { return *m_snapshots; }

    // Some route has a rule on the last user message, so the inspector must capture it.
    bool readsLastUserMessage() const { return m_readsLastUserMessage; }
    // > 0 when a route routes by prompt prefix: the block size requests must be hashed in
    // (RequestInspector), else 0 and no request pays for hashing.
    int promptBlockChars() const { return m_prefixSource ? m_prefixSource->blockChars() : 0; }
    // The prefix index as this table's backend ids see it; null without prefix routes.
    const TablePrefixSource *prefixSource() const { return m_prefixSource.get(); }
    // Tells the prefix index that `blocks` of a prompt were sent to `backendId` (for a
    // placement decided after a look-ahead ranking, RankInput::recordChoice false). The
    // index synchronises itself, so this is safe from every worker thread.
    void recordPrefixPlacement(int backendId, std::span<const std::uint64_t> blocks) const;
    const Gpu::MetricsScraper *engines() const { return m_engines; }

    bool requiresClientKey() const { return !m_virtualKeys.isEmpty(); }
    // SHA-256 of gateway.admin_token, empty when the policy sets none.
    const QByteArray &adminTokenDigest() const { return m_adminTokenDigest; }
    // Looks the presented key up by its SHA-256, so plaintext keys are not kept.
    const VirtualKeyRuntime *findVirtualKey(QByteArrayView presentedKey) const;
    // By name, for the admin API's explanation (a scan; never on the request path).
    const VirtualKeyRuntime *findVirtualKeyByName(const QString &name) const;
    // The redaction patterns of this policy (`redaction:`), for what is logged or stored
    // about its requests; shared with the sinks that outlive the table.
    const std::shared_ptr<const Safety::Redactor> &redactor() const { return m_redactor; }
    // Names of the regions behind RegionSet bits, for messages.
    const RegionCatalog &regions() const { return m_regions; }
    // The subject of requests on a gateway without virtual keys: spend is still
    // accounted (by route), nothing is limited.
    const Governance::Subject &openSubject() const { return m_openSubject; }

private:
    RouteTable() = default;
    void compileConditionalRouting(const Config::Route &route, RouteRuntime &runtime, Metrics::MetricsRegistry &metrics);

    Config::Policy m_policy;
    std::vector<ProviderRuntime> m_providers;
    std::vector<BackendRuntime> m_backends;
    std::vector<std::unique_ptr<RouteRuntime>> m_routes;
    QHash<QByteArray, int> m_routeIndex;
    QHash<QByteArray, VirtualKeyRuntime> m_virtualKeys; // by SHA-256 of the key
    Governance::Subject m_openSubject;
    RegionCatalog m_regions;
    std::shared_ptr<const Safety::Redactor> m_redactor;
    QByteArray m_adminTokenDigest;
    bool m_readsLastUserMessage = false;
    RoutingRegistry *m_routing = nullptr;
    std::vector<QByteArray> m_sessionKeySources;
    Routing::RetryBudget *m_retryBudget = nullptr;
    std::unique_ptr<SnapshotSource> m_snapshots;
    std::unique_ptr<TablePrefixSource> m_prefixSource;
    const Gpu::MetricsScraper *m_engines = nullptr;
};

} // namespace Gateway::Runtime
