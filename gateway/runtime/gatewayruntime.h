#pragma once

#include "cache/cacheregistry.h"
#include "config/policy.h"
#include "configsource.h"
#include "metrics/metricsregistry.h"
#include "routingregistry.h"
#include "statuscollector.h"
#include "statussnapshot.h"
#include "util/expected.h"

#include "http/server.h"
#include "mcp/mcpservices.h"
#include "proxy/proxyenvironment.h"

#include "gpu/metricsscraper.h"

#include "governance/locallimitstore.h"
#include "governance/spendmetrics.h"
#include "safety/redactorslot.h"
#include "shared/redislimitstore.h"
#include "tokencountersource.h"
#include "tracing/spanexporter.h"

#include <QElapsedTimer>
#include <QHostAddress>

#include <memory>
#include <mutex>

namespace Gateway::Discovery {
class DiscoveryService;
struct ServerChange;
} // namespace Gateway::Discovery

namespace Gateway {

// The embedded gateway as the application sees it: compiles the policy, publishes it
// to the workers, runs the HTTP server and reports status. It wires parts together;
// parsing, routing, proxying and accounting live in their own classes.
class GatewayRuntime final : public StatusProvider {
public:
    explicit GatewayRuntime(const Config::Policy &policy);
    ~GatewayRuntime() override;
    GatewayRuntime(const GatewayRuntime &) = delete;
    GatewayRuntime &operator=(const GatewayRuntime &) = delete;

    // Wiring, before start(): where finished requests are logged, the store behind the
    // admin API, and the admin token used when the policy sets none.
    void setRequestLog(RequestLogSink *sink);
    void setAdminService(Admin::AdminService *service) { m_environment.adminService = service; }
    void setFallbackAdminToken(const QByteArray &token);
    // Governance wiring, before start(): where spend is journaled, and the spend of the
    // current day and month recovered from it (budgets survive restarts).
    void setSpendJournal(Governance::SpendJournal *journal) { m_environment.journal = journal; }
    void seedSpend(const Governance::RecoveredSpend &recovered);
    // Response caches (docs/CACHE.md), before start(): where new semantic-cache entries
    // are persisted, and the entries recovered from there (returns how many were kept).
    void setSemanticStore(Cache::SemanticStore *store) { m_cache.setStore(store); }
    int restoreSemanticCache(const std::vector<Cache::SemanticRecord> &records) { return m_cache.restore(records); }
    const Cache::CacheRegistry &cache() const { return m_cache; }
    // Tests: the clock budget windows and reset times are read from (epoch ms).
    void setWallClock(std::function<qint64()> clock) { m_environment.wallClockMs = std::move(clock); }
    Governance::LocalLimitStore &limitStore() { return m_limits; }
    // Shares limits, budgets and reservations with every gateway on the same Redis;
    // before start(), after seedSpend() and setRequestLog() (Redis up/down events go to
    // the event log). The local store stays as the fallback.
    void enableSharedLimits(Shared::RedisLimitStore::Settings settings);
    const Shared::RedisLimitStore *sharedLimits() const { return m_shared.get(); }
    // Keeps the MCP session table in Redis, so gateways on the same Redis route a session
    // to the upstream that owns it (docs/MCP.md); before start().
    void enableSharedMcpSessions(Mcp::RedisSessionStore::Settings settings) { m_mcp.shareSessions(std::move(settings)); }

    // The redaction patterns of the policy in force, kept current on every apply: for the
    // process's log lines (Safety::LogLineRedaction).
    std::shared_ptr<const Safety::RedactorSlot> logRedaction() const { return m_logRedaction; }
    // The exact token counter once it has loaded (null before): settles requests whose
    // provider reported no usage.
    std::shared_ptr<const Tokenize::TokenCounter> tokenCounter() const { return m_tokenCounter.get(); }
    // Binds gateway.listen with gateway.threads workers; returns the bound port.
    Expected<quint16, QString> start();

    // Compiles a validated policy and swaps it in atomically: requests in flight keep
    // the table they started with, new requests use the new one. Providers with DNS
    // discovery are compiled with their servers known so far, and compiled again the
    // same way whenever their server set changes (gateway/discovery).
    void applyPolicy(const Config::Policy &policy);

    // Stop accepting and let in-flight requests finish; poll activeRequests().
    void beginShutdown();
    int activeRequests() const;

    QString baseUrl() const;
    quint16 port() const;
    const Metrics::MetricsRegistry &metrics() const { return m_metrics; }

    StatusSnapshot statusSnapshot() const override;
    std::vector<BudgetStatus> budgetStatus() const override;

    // /admin/v1/state: per route and target weight, health, in-flight, latency, errors.
    QByteArray stateJson() const;

private:
    qint64 wallClockMs() const;
    // The current policy with discovered providers expanded, compiled and published;
    // under m_applyMutex. `change`: the servers of `provider` that just joined start
    // their slow-start ramp before any request can see them.
    void compileAndPublish(const QString &provider = {}, const Discovery::ServerChange *change = nullptr);
    void appendServerMetrics(QByteArray &out) const;
    void recordRedisTransition(const Shared::RedisTransition &transition) const;
    // The scraper for this policy's metrics interval, or null when no provider has a
    // metrics_url. Created on first need; a changed interval gets a new one, and the old
    // one is stopped but kept, since tables still in use may read it.
    Gpu::MetricsScraper *scraperFor(const Config::Policy &policy);

    Config::GatewaySettings m_settings;
    // Before applyPolicy() first runs (in the constructor).
    std::shared_ptr<Safety::RedactorSlot> m_logRedaction = std::make_shared<Safety::RedactorSlot>();
    Metrics::MetricsRegistry m_metrics;
    // Before the environment that points at them; like the routing registry they live
    // for the process, so applies never reset spend or rates.
    Governance::LocalLimitStore m_limits;
    Governance::SpendMetrics m_spendMetrics;
    std::unique_ptr<Shared::RedisLimitStore> m_shared; // null without --redis
    Mcp::McpServices m_mcp;
    Runtime::RoutingRegistry m_routing;
    Runtime::TokenCounterSource m_tokenCounter;
    // Outlives policy applies, like the routing registry; dated by the wall clock below.
    Cache::CacheRegistry m_cache {[this] { return wallClockMs(); }};
    // Before the environment that points at it; its destructor sends what is queued.
    Tracing::SpanExporter m_spans;
    Runtime::ConfigSource m_config;
    Proxy::ProxyEnvironment m_environment;
    mutable Runtime::StatusCollector m_collector;
    std::vector<std::unique_ptr<Gpu::MetricsScraper>> m_scrapers; // the last one is current
    std::unique_ptr<Http::Server> m_server;
    QElapsedTimer m_uptime;
    // Policy applies come from the store's thread, discovery's re-compiles from its own.
    std::mutex m_applyMutex;
    Config::Policy m_policy; // as applied, before discovery's expansion
    // Last: its resolution thread re-compiles through everything above.
    std::unique_ptr<Discovery::DiscoveryService> m_discovery;
};

} // namespace Gateway
