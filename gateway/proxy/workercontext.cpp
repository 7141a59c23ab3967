#include "workercontext.h"

#include "runtime/backendmonitor.h"

#include <algorithm>

namespace Gateway::Proxy {

WorkerContext::WorkerContext(const ProxyEnvironment &environment, std::uint64_t seed)
    : m_environment {environment}
    , m_rng {seed}
    , m_config {environment.config}
    , m_requestPrefix {m_rng.next()}
{
}

QByteArray WorkerContext::nextRequestId()
{
    // A random per-worker prefix plus a counter: unique without coordination.
    std::uint64_t value = (m_requestPrefix << 24) ^ ++m_requestCounter;
    static constexpr char HEX[] = "0123456789abcdef";
    QByteArray id("req_0000000000000000", 20); // one allocation, filled from the right
    for (qsizetype i = 19; i >= 4; --i, value >>= 4) {
        id[i] = HEX[value & 0xF];
    }
    return id;
}

const Routing::BackendSnapshot &WorkerContext::routingSnapshot(const Runtime::RouteTable &table, qint64 nowMs)
{
    Runtime::SnapshotSource &source = table.snapshots();
    source.refreshIfStale(nowMs);
    const std::uint64_t generation = source.generation();
    if (&table != m_snapshotTable || generation != m_snapshotGeneration) {
        // A copy per published snapshot (every REFRESH_MS at most), not per request.
        if (const auto published = source.current()) {
            m_snapshot = *published;
        } else {
            m_snapshot = {};
        }
        m_snapshotTable = &table;
        m_snapshotGeneration = generation;
        m_engineAgesAtSnapshot.clear();
        for (const auto &state : m_snapshot.backends) {
            m_engineAgesAtSnapshot.push_back(state.engine.ageMs);
        }
    }
    const auto &backends = table.backends();
    const std::int64_t nowUs = Runtime::monotonicNowUs();
    m_snapshot.backends.resize(backends.size());
    m_engineAgesAtSnapshot.resize(backends.size(), -1);
    for (std::size_t i = 0; i < backends.size(); ++i) {
        auto &state = m_snapshot.backends[i];
        // Rebuilt at most every REFRESH_MS, but prefix_aware fades a scraped queue by its
        // age at this request (engine_queue_fade_ms).
        state.engine.ageMs = Routing::engineAgeAt(m_engineAgesAtSnapshot[i], m_snapshot.takenAtMs, nowMs);
        state.inFlightRequests = std::max(0, backends[i].stats->inFlight.load(std::memory_order_relaxed));
        state.inFlightTokens = backends[i].monitor->inFlightTokens();
        state.inFlightPrefillTokens = backends[i].monitor->inFlightPrefillTokens();
        state.inFlightDecodeTokens = backends[i].monitor->inFlightDecodeTokens();
        const Runtime::BackendMonitor &monitor = *backends[i].monitor;
        state.prefillsInFlight = monitor.prefillsInFlight();
        state.prefillElapsedUs =
            state.prefillsInFlight > 0 ? std::max<std::int64_t>(0, nowUs - monitor.lastPrefillSentUs()) : -1;
        state.prefillUsPerToken = monitor.prefillUsPerToken();
    }
    return m_snapshot;
}

} // namespace Gateway::Proxy
