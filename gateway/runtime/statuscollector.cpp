#include "statuscollector.h"

#include "backendmonitor.h"

#include "routetable.h"

namespace Gateway::Runtime {

namespace {

// Rates and percentiles cover about this much recent time.
constexpr auto WINDOW = std::chrono::seconds(10);
constexpr auto SAMPLE_EVERY = std::chrono::milliseconds(500);
constexpr std::size_t MAX_SAMPLES = 64;

std::uint64_t errorCount(const std::array<Metrics::Counter, Metrics::ERROR_CLASS_COUNT> &errors)
{
    std::uint64_t total = 0;
    for (int c = 0; c < Metrics::ERROR_CLASS_COUNT; ++c) {
        // A client hanging up is not a failure of the gateway or a backend.
        if (static_cast<Metrics::ErrorClass>(c) != Metrics::ErrorClass::ClientClosed) {
            total += errors[static_cast<std::size_t>(c)].load(std::memory_order_relaxed);
        }
    }
    return total;
}

Metrics::Histogram::Counts minus(const Metrics::Histogram::Counts &now, const Metrics::Histogram::Counts &before)
{
    Metrics::Histogram::Counts delta;
    for (std::size_t i = 0; i < now.buckets.size(); ++i) {
        delta.buckets[i] = now.buckets[i] - std::min(now.buckets[i], before.buckets[i]);
        delta.count += delta.buckets[i];
    }
    return delta;
}

LatencySummary summarize(const Metrics::Histogram::Counts &window)
{
    return {Metrics::quantileOf(window, 0.5), Metrics::quantileOf(window, 0.99)};
}

} // namespace

StatusCollector::StatusCollector(const Metrics::MetricsRegistry &metrics)
    : m_metrics {metrics}
    , m_startedAt {Clock::now()}
{
}

StatusCollector::Sample StatusCollector::takeSample() const
{
    Sample sample;
    sample.at = Clock::now();
    m_metrics.forEachRoute([&sample](const Metrics::RouteStats &stats) {
        Totals &totals = sample.routes[stats.route];
        totals.requests = stats.requests.load(std::memory_order_relaxed);
        totals.errors = errorCount(stats.errors);
        totals.latency = stats.latency.counts();
        totals.ttft = stats.ttft.counts();
    });
    m_metrics.forEachBackend([&sample](const Metrics::BackendStats &stats) {
        Totals &totals = sample.backends[stats.backend];
        totals.requests = stats.attempts.load(std::memory_order_relaxed);
        totals.errors = errorCount(stats.errors);
        totals.latency = stats.latency.counts();
        totals.ttft = stats.ttft.counts();
    });
    return sample;
}

const StatusCollector::Sample &StatusCollector::baseline(Clock::time_point now)
{
    if (m_history.empty()) {
        Sample start;
        start.at = m_startedAt; // all counters were zero when the gateway started
        m_history.push_back(std::move(start));
    }
    while (m_history.size() > 1 && now - m_history[1].at >= WINDOW) {
        m_history.pop_front();
    }
    return m_history.front();
}

void StatusCollector::collect(const RouteTable &table, StatusSnapshot &snapshot)
{
    const QMutexLocker lock {&m_mutex};
    Sample current = takeSample();
    const Sample &base = baseline(current.at);
    const double seconds = std::max(0.001, std::chrono::duration<double>(current.at - base.at).count());

    const auto fill = [&](const QByteArray &name, const std::map<QByteArray, Totals> &now,
                          const std::map<QByteArray, Totals> &before, qint64 &requests, qint64 &errors, double &rate,
                          LatencySummary &latency, LatencySummary &ttft) {
        const auto it = now.find(name);
        if (it == now.end()) {
            return;
        }
        static const Totals zero;
        const auto old = before.find(name);
        const Totals &previous = old == before.end() ? zero : old->second;
        requests = static_cast<qint64>(it->second.requests);
        errors = static_cast<qint64>(it->second.errors);
        rate = static_cast<double>(it->second.requests - std::min(it->second.requests, previous.requests)) / seconds;
        latency = summarize(minus(it->second.latency, previous.latency));
        ttft = summarize(minus(it->second.ttft, previous.ttft));
    };

    // The data plane refreshes the snapshot as requests arrive; an idle gateway's console
    // must still see circuits close and ramps finish, so the status poll refreshes it too.
    table.snapshots().refreshIfStale(monotonicNowMs());
    const auto routing = table.snapshots().current();
    const qint64 nowMs = monotonicNowMs();
    const auto healthName = [](Routing::HealthState state) {
        switch (state) {
        case Routing::HealthState::Degraded: return QStringLiteral("degraded");
        case Routing::HealthState::Failed: return QStringLiteral("failed");
        case Routing::HealthState::Recovering: return QStringLiteral("recovering");
        case Routing::HealthState::Healthy: break;
        }
        return QStringLiteral("healthy");
    };
    for (const auto &backend : table.backends()) {
        BackendStatus status;
        if (routing && static_cast<std::size_t>(backend.id) < routing->backends.size()) {
            const auto &state = routing->backends[static_cast<std::size_t>(backend.id)];
            status.health = healthName(state.health);
            status.healthWeight = state.healthWeight;
            status.healthForMs = std::max<qint64>(0, nowMs - state.healthSinceMs);
            status.healthTransitioned = state.healthTransitioned;
            status.windowErrorRate = state.errorRate;
            status.ttftEwmaMs = state.ttftMs;
            status.tokenLatencyEwmaMs = state.latencyPerTokenMs;
            status.engine = state.engine;
        }
        status.hasEngineMetrics = backend.engineId >= 0;
        status.inFlightPrefillTokens = backend.monitor->inFlightPrefillTokens();
        status.inFlightDecodeTokens = backend.monitor->inFlightDecodeTokens();
        const auto &provider = table.providers()[static_cast<std::size_t>(backend.providerIndex)];
        status.id = QString::fromUtf8(backend.label);
        status.provider = provider.config.name;
        status.providerType = Config::providerTypeName(provider.config.type);
        status.model = backend.upstreamModel;
        status.inFlight = std::max(0, backend.stats->inFlight.load(std::memory_order_relaxed));
        status.tokensIn = static_cast<qint64>(backend.stats->tokensIn.load(std::memory_order_relaxed));
        status.tokensOut = static_cast<qint64>(backend.stats->tokensOut.load(std::memory_order_relaxed));
        fill(backend.label, current.backends, base.backends, status.requests, status.errors, status.requestsPerSecond,
             status.latency, status.ttft);
        snapshot.backends.push_back(std::move(status));
    }
    for (const auto &route : table.routes()) {
        RouteStatus status;
        status.model = route->model;
        status.strategy = route->strategy;
        double weightSum = 0;
        for (const auto &target : route->targets) {
            weightSum += target.weight;
        }
        const auto routeIndex = static_cast<std::size_t>(route->index);
        const bool adaptive = routing && routeIndex < routing->routes.size() &&
                              routing->routes[routeIndex].targets.size() == route->targets.size();
        for (std::size_t t = 0; t < route->targets.size(); ++t) {
            const auto &target = route->targets[t];
            RouteTargetStatus entry;
            entry.backendIndex = target.backendId;
            entry.weight = target.weight;
            entry.share = weightSum > 0 ? target.weight / weightSum : 0;
            const double health = routing && static_cast<std::size_t>(target.backendId) < routing->backends.size()
                                      ? routing->backends[static_cast<std::size_t>(target.backendId)].healthWeight
                                      : 1.0;
            entry.effectiveWeight = target.weight * health;
            if (adaptive) {
                const auto &factors = routing->routes[routeIndex].targets[t];
                entry.errorPenalty = factors.errorPenalty;
                entry.latencyScore = factors.latencyScore;
                entry.utilisation = factors.utilisation;
                entry.momentum = factors.momentum;
                entry.effectiveWeight = factors.weight * health;
            }
            if (t < route->pools.size()) {
                entry.pool = Routing::targetPoolName(route->pools[t]);
            }
            status.targets.push_back(entry);
        }
        if (route->pdStats) {
            status.hasPrefillPool = true;
            status.disaggregated = route->pdStats->disaggregated.load(std::memory_order_relaxed);
            status.aggregated = route->pdStats->aggregated.load(std::memory_order_relaxed);
        }
        for (const int fallback : route->fallbackRoutes) {
            status.fallbacks << QString::fromUtf8(table.routes()[static_cast<std::size_t>(fallback)]->model);
        }
        fill(route->model, current.routes, base.routes, status.requests, status.errors, status.requestsPerSecond,
             status.latency, status.ttft);
        snapshot.totalRequests += status.requests;
        snapshot.totalErrors += status.errors;
        snapshot.requestsPerSecond += status.requestsPerSecond;
        snapshot.routes.push_back(std::move(status));
    }
    if (current.at - m_history.back().at >= SAMPLE_EVERY) {
        m_history.push_back(std::move(current));
        if (m_history.size() > MAX_SAMPLES) {
            m_history.pop_front();
        }
    }
}

} // namespace Gateway::Runtime
