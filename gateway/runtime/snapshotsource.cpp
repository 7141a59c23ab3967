#include "snapshotsource.h"

#include "gpu/metricsscraper.h"
#include "routing/prefixindex.h"
#include "routingregistry.h"
#include "runtime/eventkinds.h"

#include "backendmonitor.h"
#include "requestlog.h"
#include "routetable.h"
#include "util/jsonwriter.h"

#include <algorithm>

namespace Gateway::Runtime {

namespace {

QByteArrayView healthStateName(Routing::HealthState state)
{
    switch (state) {
    case Routing::HealthState::Healthy: return "healthy";
    case Routing::HealthState::Degraded: return "degraded";
    case Routing::HealthState::Failed: return "failed";
    case Routing::HealthState::Recovering: return "recovering";
    }
    return "unknown";
}

// Expected milliseconds of a typical answer: how latency outliers are compared.
constexpr int OUTLIER_REFERENCE_TOKENS = 256;
// Peers needed before "slower than the median" means anything.
constexpr std::size_t MIN_OUTLIER_PEERS = 3;

} // namespace

SnapshotSource::SnapshotSource(const RouteTable &table)
    : m_table {table}
{
    for (const auto &route : table.routes()) {
        if (route->strategy != u"adaptive") {
            continue;
        }
        const Config::Route *config = table.policy().findRoute(route->model);
        Routing::AdaptiveWeights::Parameters parameters;
        parameters.intervalMs = config ? config->options.intervalMs : parameters.intervalMs;
        AdaptiveRoute adaptive {route->index, Routing::AdaptiveWeights {parameters}, 0, {}};
        adaptive.factors.resize(route->targets.size());
        m_adaptive.push_back(std::move(adaptive));
    }
}

void SnapshotSource::refreshIfStale(qint64 nowMs)
{
    const auto due = [&] {
        return nowMs >= m_nextRefreshMs.load(std::memory_order_relaxed) || m_markedStale.load(std::memory_order_relaxed);
    };
    if (due() && !m_rebuilding.test_and_set(std::memory_order_acquire)) {
        if (due()) {
            // Cleared before sampling: a mark that lands during this rebuild (sampled
            // too early to see it) survives for the next one.
            m_markedStale.store(false, std::memory_order_relaxed);
            rebuild(nowMs);
            m_nextRefreshMs.store(nowMs + REFRESH_MS, std::memory_order_relaxed);
        }
        m_rebuilding.clear(std::memory_order_release);
    }
}

std::shared_ptr<const Routing::BackendSnapshot> SnapshotSource::current() const
{
    const QMutexLocker lock {&m_mutex};
    return m_snapshot;
}

void SnapshotSource::rebuild(qint64 nowMs)
{
    auto snapshot = std::make_shared<Routing::BackendSnapshot>();
    snapshot->takenAtMs = nowMs;
    snapshot->backends.reserve(m_table.backends().size());
    for (const auto &backend : m_table.backends()) {
        Routing::BackendState state = backend.monitor->sample(nowMs);
        state.inFlightRequests = std::max(0, backend.stats->inFlight.load(std::memory_order_relaxed));
        state.inputCostPerMTok = backend.inputCostPerMTok;
        state.outputCostPerMTok = backend.outputCostPerMTok;
        state.contextWindow = backend.contextWindow;
        if (backend.engineId >= 0 && m_table.engines()) {
            state.engine = m_table.engines()->signalsFor(backend.engineId, nowMs);
            forgetRestartedCache(backend, state.engine);
            // Size what the prefix index assumes the server keeps to the KV cache it
            // reports (vllm:cache_config_info), as the endpoint picker's auto-tuning does.
            if (m_table.prefixSource() && state.engine.cacheBlocks > 0) {
                const auto capacity = Routing::PrefixIndex::capacityForEngine(state.engine, m_table.prefixSource()->blockChars());
                if (capacity != m_table.routing().prefixIndex().capacityBlocks(backend.stableId)) {
                    m_table.routing().prefixIndex().setCapacityBlocks(backend.stableId, capacity);
                }
            }
        }
        snapshot->backends.push_back(state);
    }
    evaluateLatencyOutliers(*snapshot, nowMs);
    updateAdaptive(*snapshot, nowMs);
    recordHealthEvents();
    {
        const QMutexLocker lock {&m_mutex};
        m_snapshot = std::move(snapshot);
    }
    m_generation.fetch_add(1, std::memory_order_release);
}

void SnapshotSource::forgetRestartedCache(const BackendRuntime &backend, const Routing::EngineSignals &engine)
{
    if (!m_table.routing().engineRestarted(backend.stableId, engine.restarts) || !m_table.prefixSource()) {
        return;
    }
    const std::int64_t cleared = m_table.routing().prefixIndex().clear(backend.stableId);
    if (RequestLogSink *sink = m_eventSink.load(std::memory_order_acquire)) {
        sink->recordEvent(QString(EventKinds::ENGINE_RESTART), QString::fromUtf8(backend.label),
                          "{\"backend\":" + Json::quoted(backend.label) + ",\"restarts\":" + QByteArray::number(engine.restarts) +
                              ",\"prefix_index_blocks_cleared\":" + QByteArray::number(cleared) + '}');
    }
}

void SnapshotSource::recordHealthEvents()
{
    RequestLogSink *sink = m_eventSink.load(std::memory_order_acquire);
    for (const auto &backend : m_table.backends()) {
        const auto events = backend.monitor->health().takeEvents();
        if (events.empty()) {
            continue;
        }
        backend.monitor->countTransitions(events);
        if (!sink) {
            continue;
        }
        for (const auto &event : events) {
            sink->recordEvent(QString(EventKinds::HEALTH), QString::fromUtf8(backend.label),
                              "{\"from\":" + Json::quoted(healthStateName(event.from).toByteArray()) +
                                  ",\"to\":" + Json::quoted(healthStateName(event.to).toByteArray()) +
                                  ",\"reason\":" + Json::quoted(event.reason) + '}');
        }
    }
}

void SnapshotSource::evaluateLatencyOutliers(const Routing::BackendSnapshot &snapshot, qint64 nowMs)
{
    // Peers are the other targets of the same route: the backends a request could have
    // gone to instead.
    std::vector<double> expected;
    for (const auto &route : m_table.routes()) {
        expected.clear();
        for (const auto &target : route->targets) {
            const auto &state = snapshot.backends[static_cast<std::size_t>(target.backendId)];
            if (state.ttftMs > 0 || state.latencyPerTokenMs > 0) {
                expected.push_back(state.ttftMs + state.latencyPerTokenMs * OUTLIER_REFERENCE_TOKENS);
            }
        }
        if (expected.size() < MIN_OUTLIER_PEERS) {
            continue;
        }
        std::vector<double> sorted = expected;
        std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2), sorted.end());
        const double median = sorted[sorted.size() / 2];
        for (const auto &target : route->targets) {
            const auto &state = snapshot.backends[static_cast<std::size_t>(target.backendId)];
            if (state.ttftMs > 0 || state.latencyPerTokenMs > 0) {
                m_table.backends()[static_cast<std::size_t>(target.backendId)].monitor->health().evaluateLatency(
                    state.ttftMs + state.latencyPerTokenMs * OUTLIER_REFERENCE_TOKENS, median, nowMs);
            }
        }
    }
}

void SnapshotSource::updateAdaptive(Routing::BackendSnapshot &snapshot, qint64 nowMs)
{
    snapshot.routes.resize(m_table.routes().size());
    std::vector<Routing::AdaptiveWeights::TargetSample> samples;
    for (auto &adaptive : m_adaptive) {
        const auto &route = *m_table.routes()[static_cast<std::size_t>(adaptive.routeIndex)];
        if (nowMs >= adaptive.nextRunMs) {
            samples.clear();
            for (std::size_t i = 0; i < route.targets.size(); ++i) {
                const auto &target = route.targets[i];
                const auto &backend = m_table.backends()[static_cast<std::size_t>(target.backendId)];
                const auto &state = snapshot.backends[static_cast<std::size_t>(target.backendId)];
                const auto counts = backend.monitor->takeInterval();
                Routing::AdaptiveWeights::TargetSample sample;
                sample.configuredWeight = target.weight;
                sample.attempts = static_cast<std::int64_t>(counts.attempts);
                sample.failures = static_cast<std::int64_t>(counts.failures);
                sample.latencyPerTokenMs = state.latencyPerTokenMs;
                sample.ttftMs = state.ttftMs;
                sample.inFlightTokens = state.inFlightTokens;
                sample.health = state.health;
                sample.healthWeight = state.healthWeight;
                sample.previous = adaptive.factors[i];
                samples.push_back(sample);
            }
            adaptive.calculator.compute(samples, adaptive.factors);
            adaptive.nextRunMs = nowMs + adaptive.calculator.parameters().intervalMs;
        }
        snapshot.routes[static_cast<std::size_t>(adaptive.routeIndex)].targets = adaptive.factors;
    }
}

} // namespace Gateway::Runtime
