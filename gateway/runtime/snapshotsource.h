#pragma once

#include "routing/adaptiveweights.h"
#include "routing/backendsnapshot.h"

#include <QMutex>

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

namespace Gateway {
class RequestLogSink;
}

namespace Gateway::Runtime {

class RouteTable;
struct BackendRuntime;

// Monotonic milliseconds: the time base of health trackers, EWMAs and snapshots.
inline qint64 monotonicNowMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Monotonic microseconds, on the same clock: prefill progress (BackendMonitor).
inline std::int64_t monotonicNowUs()
{
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The routing engine's view of every backend of one RouteTable, as the immutable
// snapshot policies rank over. Rebuilt at most every REFRESH_MS by whichever worker
// first asks after it went stale (others keep using the previous one: nobody waits), so
// no timer thread is needed and an idle gateway does no work. Adaptive routes get their
// weights recomputed here every `interval_ms`.
class SnapshotSource final {
public:
    static constexpr qint64 REFRESH_MS = 100;

    explicit SnapshotSource(const RouteTable &table);
    SnapshotSource(const SnapshotSource &) = delete;
    SnapshotSource &operator=(const SnapshotSource &) = delete;

    // Health events found while rebuilding go here as "health" events (may be null).
    void setEventSink(RequestLogSink *sink) { m_eventSink.store(sink, std::memory_order_release); }

    // Rebuilds the snapshot when it is older than REFRESH_MS, unless another thread is
    // already doing so. Cheap when fresh: one relaxed atomic load.
    void refreshIfStale(qint64 nowMs);
    // Makes the next refreshIfStale() rebuild whatever the age: a circuit just opened,
    // and routing onto it for up to REFRESH_MS more would only earn skipped attempts.
    void markStale() { m_markedStale.store(true, std::memory_order_relaxed); }
    std::shared_ptr<const Routing::BackendSnapshot> current() const;
    // Bumped on every rebuild, so a worker can keep its own copy until it changes.
    std::uint64_t generation() const { return m_generation.load(std::memory_order_acquire); }

private:
    struct AdaptiveRoute {
        int routeIndex = -1;
        Routing::AdaptiveWeights calculator;
        qint64 nextRunMs = 0;
        std::vector<Routing::TargetFactors> factors;
    };

    void rebuild(qint64 nowMs);
    void recordHealthEvents();
    // A restarted engine's KV cache is empty: forgets what the prefix index believed
    // the backend held (else prefix_aware keeps sending it the prompts it "holds", each
    // a full recompute priced as a hit) and records an engine.restart event.
    void forgetRestartedCache(const BackendRuntime &backend, const Routing::EngineSignals &engine);
    void evaluateLatencyOutliers(const Routing::BackendSnapshot &snapshot, qint64 nowMs);
    void updateAdaptive(Routing::BackendSnapshot &snapshot, qint64 nowMs);

    const RouteTable &m_table;
    std::atomic<RequestLogSink *> m_eventSink {nullptr};
    mutable QMutex m_mutex; // guards m_snapshot
    std::shared_ptr<const Routing::BackendSnapshot> m_snapshot;
    std::atomic<std::uint64_t> m_generation {0};
    std::atomic<qint64> m_nextRefreshMs {0};
    std::atomic<bool> m_markedStale {false};
    std::atomic_flag m_rebuilding = ATOMIC_FLAG_INIT;
    std::vector<AdaptiveRoute> m_adaptive; // only touched by the rebuilding thread
};

} // namespace Gateway::Runtime
