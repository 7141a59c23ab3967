#include "gatewayruntime.h"

#include "admissionmetricsexport.h"
#include "autoscalingmetricsexport.h"
#include "enginemetricsexport.h"
#include "governancemetricsexport.h"
#include "routingmetrics.h"

#include "discovery/discoveryservice.h"
#include "http/tlscontext.h"
#include "proxy/proxyhandler.h"
#include "routetable.h"
#include "util/jsonwriter.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QThread>

#include <algorithm>
#include <random>

namespace Gateway {

GatewayRuntime::GatewayRuntime(const Config::Policy &policy)
    : m_settings {policy.gateway}
    , m_environment {m_config, m_metrics, [this](QByteArray &out) { appendServerMetrics(out); }, nullptr, nullptr, {},
                     [this] { return stateJson(); }, nullptr, nullptr, nullptr, {}}
    , m_collector {m_metrics}
{
    m_environment.limits = &m_limits;
    m_environment.spendMetrics = &m_spendMetrics;
    m_environment.tokenCounter = &m_tokenCounter;
    m_environment.cache = &m_cache;
    m_discovery = std::make_unique<Discovery::DiscoveryService>(
        [this](const QString &provider, const Discovery::ServerChange &change) {
            const std::lock_guard lock {m_applyMutex};
            compileAndPublish(provider, &change);
        },
        [this](const QString &kind, const QString &subject, const QByteArray &detail) {
            // On the resolution thread: the sink only queues.
            if (RequestLogSink *events = m_environment.requestLog) {
                events->recordEvent(kind, subject, detail);
            }
        });
    m_environment.spans = &m_spans;
    m_environment.mcp = &m_mcp;
    applyPolicy(policy);
    m_uptime.start();
}

GatewayRuntime::~GatewayRuntime()
{
    m_discovery.reset(); // joins the resolution thread, which re-compiles through the members
    m_server.reset(); // joins the workers before the state they reference goes away
    m_shared.reset(); // joins its reconnect thread, which reports through m_environment
}

Expected<quint16, QString> GatewayRuntime::start()
{
    Http::ServerLimits limits;
    limits.maxBodyBytes = m_settings.maxBodyBytes;
    limits.headerTimeoutMs = m_settings.headerTimeoutMs;
    limits.bodyTimeoutMs = m_settings.bodyTimeoutMs;
    limits.idleTimeoutMs = m_settings.idleTimeoutMs;
    limits.maxConnections = m_settings.maxConnections;
    if (!m_settings.tlsCertFile.isEmpty()) {
        auto tls = Http::TlsContext::fromPemFiles(m_settings.tlsCertFile, m_settings.tlsKeyFile);
        if (!tls) {
            return Unexpected {tls.error()};
        }
        limits.tls = std::move(tls).value();
    }

    std::random_device entropy;
    const std::uint64_t seedBase = (static_cast<std::uint64_t>(entropy()) << 32) | entropy();
    auto seedCounter = std::make_shared<std::atomic<std::uint64_t>>(seedBase);
    const Proxy::ProxyEnvironment &environment = m_environment;
    m_server = std::make_unique<Http::Server>(
        QStringLiteral("gateway"), limits,
        [&environment, seedCounter] {
            return std::make_unique<Proxy::ProxyHandler>(environment, seedCounter->fetch_add(0x9e3779b97f4a7c15ULL));
        },
        m_settings.threads);

    QHostAddress address;
    if (m_settings.listenHost == u"localhost") {
        address = QHostAddress::LocalHost;
    } else {
        address = QHostAddress(m_settings.listenHost);
    }
    return m_server->listen(address, m_settings.listenPort);
}

Gpu::MetricsScraper *GatewayRuntime::scraperFor(const Config::Policy &policy)
{
    const bool wanted = std::any_of(policy.providers.begin(), policy.providers.end(),
                                    [](const Config::Provider &provider) { return !provider.metricsUrl.isEmpty(); });
    Gpu::MetricsScraper *current = m_scrapers.empty() ? nullptr : m_scrapers.back().get();
    if (!wanted) {
        if (current) {
            current->setTargets({});
        }
        return current;
    }
    Gpu::ScrapeSettings settings;
    settings.intervalMs = policy.routing.metricsIntervalMs;
    if (current && current->settings().intervalMs == Gpu::resolveScrapeSettings(settings).intervalMs) {
        return current;
    }
    if (current) {
        current->stop();
    }
    m_scrapers.push_back(std::make_unique<Gpu::MetricsScraper>(settings));
    m_scrapers.back()->start();
    return m_scrapers.back().get();
}

qint64 GatewayRuntime::wallClockMs() const
{
    return m_environment.wallClockMs ? m_environment.wallClockMs() : QDateTime::currentMSecsSinceEpoch();
}

void GatewayRuntime::setFallbackAdminToken(const QByteArray &token)
{
    m_environment.fallbackAdminTokenDigest =
        token.isEmpty() ? QByteArray() : QCryptographicHash::hash(token, QCryptographicHash::Sha256);
}

void GatewayRuntime::setRequestLog(RequestLogSink *sink)
{
    m_environment.requestLog = sink;
    if (const auto table = m_config.current()) {
        table->snapshots().setEventSink(sink);
        if (sink) {
            sink->setRedaction(table->redactor());
        }
    }
}

void GatewayRuntime::applyPolicy(const Config::Policy &policy)
{
    const std::lock_guard lock {m_applyMutex};
    m_policy = policy;
    m_discovery->configure(policy);
    compileAndPublish();
}

void GatewayRuntime::compileAndPublish(const QString &discoveredProvider, const Discovery::ServerChange *change)
{
    const Config::Policy policy = Discovery::expandDiscoveredProviders(m_policy, m_discovery->servers());
    Gpu::MetricsScraper *scraper = scraperFor(policy);
    auto table = Runtime::RouteTable::build(policy, m_metrics, m_routing, scraper, &m_limits, m_discovery->awaitingServers());
    if (change && !change->initial) {
        // Before the table is published: no request sees a new server at full weight.
        const qint64 now = Runtime::monotonicNowMs();
        for (const Discovery::ServerAddress &server : change->added) {
            const QString name = Discovery::serverProviderName(discoveredProvider, server);
            for (const auto &backend : table->backends()) {
                if (table->providers()[static_cast<std::size_t>(backend.providerIndex)].config.name == name) {
                    backend.monitor->health().beginSlowStart(now, QByteArrayLiteral("joined by DNS discovery"));
                }
            }
        }
    }
    if (scraper) {
        std::vector<Gpu::ScrapeTarget> targets;
        for (const auto &backend : table->backends()) {
            if (backend.engineId >= 0) {
                const auto &provider = table->providers()[static_cast<std::size_t>(backend.providerIndex)].config;
                targets.push_back({backend.engineId, QUrl(QString::fromUtf8(provider.metricsUrl))});
            }
        }
        scraper->setTargets(std::move(targets));
    }
    // Servers no longer configured: their learned prefix state goes (a server that comes
    // back starts cold, as its cache most likely did).
    std::vector<QByteArray> labels;
    for (const auto &backend : table->backends()) {
        labels.push_back(backend.label);
    }
    m_routing.retainBackends(labels);
    table->snapshots().setEventSink(m_environment.requestLog);
    if (m_environment.requestLog) {
        m_environment.requestLog->setRedaction(table->redactor());
    }
    m_logRedaction->set(table->redactor());
    m_cache.configure(policy); // before the table that routes to the caches is published
    if (policy.tracing) {
        // The exporter's thread starts with the first policy that traces; a policy
        // without the section stops new spans (requests check it) but not the export
        // of those already queued.
        m_spans.configure({policy.tracing->otlpEndpoint, policy.tracing->headers, policy.tracing->serviceName,
                           policy.tracing->exportIntervalMs, policy.tracing->maxQueueSpans});
    }
    m_config.publish(std::move(table));
}

void GatewayRuntime::seedSpend(const Governance::RecoveredSpend &recovered)
{
    m_limits.seed(recovered, m_environment.wallClockMs ? m_environment.wallClockMs() : QDateTime::currentMSecsSinceEpoch());
}

void GatewayRuntime::enableSharedLimits(Shared::RedisLimitStore::Settings settings)
{
    if (!settings.wallClockMs && m_environment.wallClockMs) {
        settings.wallClockMs = m_environment.wallClockMs;
    }
    m_shared = std::make_unique<Shared::RedisLimitStore>(
        m_limits, std::move(settings), [this](const Shared::RedisTransition &transition) { recordRedisTransition(transition); });
    m_environment.limits = m_shared.get();
}

void GatewayRuntime::recordRedisTransition(const Shared::RedisTransition &transition) const
{
    // Called on a worker (down) or the store's own thread (up): the sink only queues.
    RequestLogSink *events = m_environment.requestLog;
    if (!events) {
        return;
    }
    QByteArray detail = "{\"endpoint\":" + Json::quoted(transition.endpoint.toUtf8());
    if (transition.up) {
        detail += ",\"pushed_entries\":" + QByteArray::number(transition.pushedEntries) +
                  ",\"resynced_accounts\":" + QByteArray::number(transition.resyncedAccounts);
    } else {
        detail += ",\"error\":" + Json::quoted(transition.error.toUtf8()) + ",\"fallback\":\"local\"";
    }
    detail += '}';
    events->recordEvent(transition.up ? QStringLiteral("redis.up") : QStringLiteral("redis.down"), transition.endpoint,
                        detail);
}

void GatewayRuntime::beginShutdown()
{
    if (m_server) {
        m_server->beginShutdown();
    }
}

int GatewayRuntime::activeRequests() const
{
    return m_server ? m_server->activeRequests() : 0;
}

quint16 GatewayRuntime::port() const
{
    return m_server ? m_server->port() : 0;
}

QString GatewayRuntime::baseUrl() const
{
    QString host = m_settings.listenHost;
    if (host == u"0.0.0.0") {
        host = QStringLiteral("127.0.0.1");
    } else if (host == u"::") {
        host = QStringLiteral("[::1]");
    } else if (host.contains(u':')) {
        host = u'[' + host + u']';
    }
    const QString scheme = m_settings.tlsCertFile.isEmpty() ? QStringLiteral("http") : QStringLiteral("https");
    return QStringLiteral("%1://%2:%3/v1").arg(scheme, host).arg(port());
}

void GatewayRuntime::appendServerMetrics(QByteArray &out) const
{
    const int open = m_server ? m_server->openConnections() : 0;
    const int active = m_server ? m_server->activeRequests() : 0;
    out += "# HELP switchyard_open_connections Client connections open.\n# TYPE switchyard_open_connections gauge\n";
    out += "switchyard_open_connections " + QByteArray::number(open) + '\n';
    out += "# HELP switchyard_active_requests Client requests being answered.\n# TYPE switchyard_active_requests gauge\n";
    out += "switchyard_active_requests " + QByteArray::number(active) + '\n';
    out += "# HELP switchyard_uptime_seconds Seconds since the gateway started.\n# TYPE switchyard_uptime_seconds gauge\n";
    out += "switchyard_uptime_seconds " + QByteArray::number(static_cast<double>(m_uptime.elapsed()) / 1000.0) + '\n';
    if (const auto table = m_config.current()) {
        Runtime::appendRoutingMetrics(out, *table);
        Runtime::appendEngineMetrics(out, *table, Runtime::monotonicNowMs());
        Runtime::appendAdmissionMetrics(out, *table);
        Runtime::appendAutoscalingMetrics(out, *table, Runtime::monotonicNowMs());
        Runtime::appendGovernanceMetrics(out, *table, m_limits, m_spendMetrics,
                                         m_environment.wallClockMs ? m_environment.wallClockMs()
                                                                   : QDateTime::currentMSecsSinceEpoch());
    }
    m_cache.appendPrometheus(out);
    m_discovery->appendMetrics(out);
    if (m_shared) {
        const Shared::RedisStatus redis = m_shared->status();
        out += "# HELP switchyard_redis_up Whether the shared limit store (Redis) is reachable; 0 = serving on local state.\n"
               "# TYPE switchyard_redis_up gauge\n";
        out += "switchyard_redis_up " + QByteArray(redis.up ? "1" : "0") + '\n';
        out += "# HELP switchyard_redis_reservations_total Requests admitted, by where their limits were checked.\n"
               "# TYPE switchyard_redis_reservations_total counter\n";
        out += "switchyard_redis_reservations_total{store=\"redis\"} " + QByteArray::number(redis.sharedReservations) + '\n';
        out += "switchyard_redis_reservations_total{store=\"local\"} " + QByteArray::number(redis.fallbackReservations) +
               '\n';
        out += "# HELP switchyard_redis_errors_total Redis connections or commands that failed.\n"
               "# TYPE switchyard_redis_errors_total counter\n";
        out += "switchyard_redis_errors_total " + QByteArray::number(redis.errors) + '\n';
        out += "# HELP switchyard_redis_reconnects_total Outages ended: Redis reachable again and the outage's usage pushed.\n"
               "# TYPE switchyard_redis_reconnects_total counter\n";
        out += "switchyard_redis_reconnects_total " + QByteArray::number(redis.reconnects) + '\n';
        out += "# HELP switchyard_redis_backlog_entries Usage sums (key, team, UTC day) waiting for Redis.\n"
               "# TYPE switchyard_redis_backlog_entries gauge\n";
        out += "switchyard_redis_backlog_entries " + QByteArray::number(redis.backlogEntries) + '\n';
    }
    m_spans.appendPrometheus(out);
    m_mcp.appendPrometheus(out);
    if (const RequestLogSink *log = m_environment.requestLog) {
        out += "# HELP switchyard_request_log_rows_total Request-log rows committed to the store.\n"
               "# TYPE switchyard_request_log_rows_total counter\n";
        out += "switchyard_request_log_rows_total " + QByteArray::number(log->writtenRows()) + '\n';
        out += "# HELP switchyard_request_log_dropped_total Request-log rows dropped because the writer fell behind.\n"
               "# TYPE switchyard_request_log_dropped_total counter\n";
        out += "switchyard_request_log_dropped_total " + QByteArray::number(log->droppedRows()) + '\n';
    }
}

std::vector<BudgetStatus> GatewayRuntime::budgetStatus() const
{
    std::vector<BudgetStatus> out;
    const auto table = m_config.current();
    if (!table) {
        return out;
    }
    const qint64 nowMs = m_environment.wallClockMs ? m_environment.wallClockMs() : QDateTime::currentMSecsSinceEpoch();
    QHash<QString, Governance::AccountUsage> keys;
    QHash<QString, Governance::AccountUsage> teams;
    for (const auto &account : m_limits.snapshots(nowMs)) {
        (account.team ? teams : keys).insert(account.name, account.usage);
    }
    const auto &policy = table->policy();
    out.reserve(policy.teams.size() + policy.virtualKeys.size());
    for (const auto &team : policy.teams) {
        out.push_back({true, team.name, {}, team.budgets, teams.value(team.name), nowMs});
    }
    for (const auto &key : policy.virtualKeys) {
        out.push_back({false, key.name, key.team, key.budgets, keys.value(key.name), nowMs});
    }
    return out;
}

StatusSnapshot GatewayRuntime::statusSnapshot() const
{
    StatusSnapshot snapshot;
    snapshot.baseUrl = baseUrl();
    snapshot.threads = m_server ? m_server->threadCount() : 0;
    snapshot.uptimeMs = m_uptime.elapsed();
    snapshot.openConnections = m_server ? m_server->openConnections() : 0;
    snapshot.activeRequests = m_server ? m_server->activeRequests() : 0;
    const auto table = m_config.current();
    if (table) {
        m_collector.collect(*table, snapshot);
    }
    for (RouteStatus &route : snapshot.routes) {
        const Cache::CacheFigures figures = m_cache.figures(route.model);
        route.cache.enabled = figures.enabled;
        route.cache.hits = static_cast<qint64>(figures.hits);
        route.cache.lookups = static_cast<qint64>(figures.lookups);
        route.cache.entries = figures.entries;
        route.cache.bytes = figures.bytes;
        route.cache.savedTokens = static_cast<qint64>(figures.savedTokens);
        route.cache.savedUsd = figures.savedUsd;
    }
    if (m_shared) {
        const Shared::RedisStatus redis = m_shared->status();
        snapshot.limitStore.shared = true;
        snapshot.limitStore.redisUp = redis.up;
        snapshot.limitStore.endpoint = redis.endpoint;
        snapshot.limitStore.changedAtMs = redis.changedAtMs;
        snapshot.limitStore.lastError = redis.lastError;
        snapshot.limitStore.fallbackReservations = redis.fallbackReservations;
        snapshot.limitStore.backlogEntries = redis.backlogEntries;
    }
    return snapshot;
}

namespace {

// Until health tracking exists, a target's state is read off its recent error rate with
// the thresholds operators know from Bifrost: >5% failed, >2% degraded.

QJsonObject latencyJson(const LatencySummary &latency, const char *prefix)
{
    return {{QLatin1String(prefix) + QStringLiteral("_p50_ms"), latency.p50Ms},
            {QLatin1String(prefix) + QStringLiteral("_p99_ms"), latency.p99Ms}};
}

} // namespace

namespace {

QJsonValue engineJson(const BackendStatus &backend)
{
    if (!backend.hasEngineMetrics) {
        return QJsonValue::Null;
    }
    const Routing::EngineSignals &e = backend.engine;
    const auto known = [](double value) { return value < 0 ? QJsonValue(QJsonValue::Null) : QJsonValue(value); };
    return QJsonObject {
        {QStringLiteral("fresh"), e.fresh},
        {QStringLiteral("age_ms"), e.ageMs < 0 ? QJsonValue(QJsonValue::Null) : QJsonValue(static_cast<double>(e.ageMs))},
        {QStringLiteral("waiting"), e.waitingRequests},
        {QStringLiteral("running"), e.runningRequests},
        {QStringLiteral("kv_cache_usage"), known(e.kvCacheUsage)},
        {QStringLiteral("prefix_cache_hit_rate"), known(e.prefixCacheHitRate)},
        {QStringLiteral("cache_blocks"), static_cast<double>(e.cacheBlocks)},
        {QStringLiteral("cache_block_size"), static_cast<double>(e.cacheBlockSize)},
        {QStringLiteral("restarts"), static_cast<double>(e.restarts)},
    };
}

} // namespace

namespace {

QJsonObject limitStoreJson(const LimitStoreStatus &store)
{
    if (!store.shared) {
        return {{QStringLiteral("kind"), QStringLiteral("local")}};
    }
    return {
        {QStringLiteral("kind"), QStringLiteral("redis")},
        {QStringLiteral("endpoint"), store.endpoint},
        // "degraded": Redis unreachable, limits enforced on this gateway's own state.
        {QStringLiteral("state"), store.redisUp ? QStringLiteral("shared") : QStringLiteral("degraded")},
        {QStringLiteral("redis_up"), store.redisUp},
        {QStringLiteral("changed_at_ms"), static_cast<double>(store.changedAtMs)},
        {QStringLiteral("last_error"), store.lastError},
        {QStringLiteral("fallback_reservations"), static_cast<double>(store.fallbackReservations)},
        {QStringLiteral("backlog_entries"), static_cast<double>(store.backlogEntries)},
    };
}

} // namespace

namespace {

// Routes with a response cache: its figures; null elsewhere.
QJsonValue cacheJson(const RouteCacheStatus &cache)
{
    if (!cache.enabled) {
        return QJsonValue::Null;
    }
    return QJsonObject {
        {QStringLiteral("hits"), static_cast<double>(cache.hits)},
        {QStringLiteral("lookups"), static_cast<double>(cache.lookups)},
        {QStringLiteral("hit_ratio"), cache.hitRatio()},
        {QStringLiteral("entries"), static_cast<double>(cache.entries)},
        {QStringLiteral("bytes"), static_cast<double>(cache.bytes)},
        {QStringLiteral("saved_tokens"), static_cast<double>(cache.savedTokens)},
        {QStringLiteral("saved_usd"), cache.savedUsd},
    };
}

} // namespace

QByteArray GatewayRuntime::stateJson() const
{
    const StatusSnapshot snapshot = statusSnapshot();
    QJsonArray routes;
    for (const auto &route : snapshot.routes) {
        QJsonArray targets;
        for (const auto &target : route.targets) {
            const BackendStatus &backend = snapshot.backends[static_cast<std::size_t>(target.backendIndex)];
            QJsonObject entry {
                {QStringLiteral("backend"), backend.id},
                {QStringLiteral("weight"), target.weight},
                {QStringLiteral("share"), target.share},
                {QStringLiteral("health"), backend.health},
                {QStringLiteral("health_weight"), backend.healthWeight},
                {QStringLiteral("effective_weight"), target.effectiveWeight},
                {QStringLiteral("factors"), QJsonObject {{QStringLiteral("error_penalty"), target.errorPenalty},
                                                         {QStringLiteral("latency_score"), target.latencyScore},
                                                         {QStringLiteral("utilisation"), target.utilisation},
                                                         {QStringLiteral("momentum"), target.momentum}}},
                {QStringLiteral("ttft_ewma_ms"), backend.ttftEwmaMs},
                {QStringLiteral("token_latency_ewma_ms"), backend.tokenLatencyEwmaMs},
                {QStringLiteral("in_flight"), backend.inFlight},
                // The engine's own queue while its metrics are fresh; null without a
                // metrics_url or when they are stale.
                {QStringLiteral("queue"), backend.engine.fresh ? QJsonValue(backend.engine.waitingRequests) : QJsonValue::Null},
                {QStringLiteral("inflight_prefill_tokens"), backend.inFlightPrefillTokens},
                {QStringLiteral("inflight_decode_tokens"), backend.inFlightDecodeTokens},
                {QStringLiteral("engine"), engineJson(backend)},
                {QStringLiteral("requests_per_second"), backend.requestsPerSecond},
                {QStringLiteral("error_rate"),
                 backend.requests > 0 ? static_cast<double>(backend.errors) / static_cast<double>(backend.requests) : 0.0},
            };
            for (const auto &part : {latencyJson(backend.latency, "latency"), latencyJson(backend.ttft, "ttft")}) {
                for (auto it = part.begin(); it != part.end(); ++it) {
                    entry.insert(it.key(), it.value());
                }
            }
            entry.insert(QStringLiteral("pool"), target.pool.isEmpty() ? QJsonValue::Null : QJsonValue(target.pool));
            targets.append(entry);
        }
        QJsonArray fallbacks;
        for (const auto &fallback : route.fallbacks) {
            fallbacks.append(fallback);
        }
        // Routes with a prefill pool: the decider's tally; null elsewhere.
        const QJsonValue pd = route.hasPrefillPool ? QJsonValue(QJsonObject {
                                                         {QStringLiteral("disaggregated"), route.disaggregated},
                                                         {QStringLiteral("aggregated"), route.aggregated},
                                                     })
                                                   : QJsonValue::Null;
        routes.append(QJsonObject {
            {QStringLiteral("model"), QString::fromUtf8(route.model)},
            {QStringLiteral("strategy"), route.strategy},
            {QStringLiteral("requests"), route.requests},
            {QStringLiteral("errors"), route.errors},
            {QStringLiteral("requests_per_second"), route.requestsPerSecond},
            {QStringLiteral("fallbacks"), fallbacks},
            {QStringLiteral("pd"), pd},
            {QStringLiteral("cache"), cacheJson(route.cache)},
            {QStringLiteral("targets"), targets},
        });
    }
    const QJsonObject root {
        {QStringLiteral("base_url"), snapshot.baseUrl},
        {QStringLiteral("uptime_ms"), snapshot.uptimeMs},
        {QStringLiteral("open_connections"), snapshot.openConnections},
        {QStringLiteral("active_requests"), snapshot.activeRequests},
        {QStringLiteral("requests_per_second"), snapshot.requestsPerSecond},
        {QStringLiteral("routes"), routes},
        {QStringLiteral("limit_store"), limitStoreJson(snapshot.limitStore)},
        {QStringLiteral("discovery"), m_discovery->stateJson([this](const QString &serverProvider) {
             // Attempts in progress on the server's backends, draining ones included.
             const QByteArray prefix = serverProvider.toUtf8() + '/';
             int inFlight = 0;
             m_metrics.forEachBackend([&](const Metrics::BackendStats &stats) {
                 if (stats.backend.startsWith(prefix)) {
                     inFlight += stats.inFlight.load(std::memory_order_relaxed);
                 }
             });
             return inFlight;
         })},
    };
    return QJsonDocument(root).toJson(QJsonDocument::Compact);
}

} // namespace Gateway
