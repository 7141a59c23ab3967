#pragma once

#include "priorityclass.h"

#include <QtGlobal>

#include <array>
#include <cstddef>
#include <cstdint>

namespace Gateway::Admission {

// Why a request was answered without a slot. The proxy turns every one of them into a
// 429 (or 503) with Retry-After.
enum class RefusalReason : std::uint8_t {
    None,          // not refused
    PredictedMiss, // its predicted time to first token is past its objective (on arrival or while waiting)
    QueueFull,     // the queue holds max_queued requests, none of a lower class
    Evicted,       // it waited, and a request of a higher class took its place in a full queue
    MaxWait,       // it waited max_queue_wait_ms (verdict TimedOut)
    Shutdown,      // the queue was destroyed while it waited
};
inline constexpr std::size_t REFUSAL_REASON_COUNT = 6;

// The metric label of a reason: "predicted_miss", "queue_full", ...
QLatin1String refusalReasonName(RefusalReason reason);

// Distribution of the time requests spent in the gateway queue before getting a slot.
// Bucket i counts waits <= BOUNDS_MS[i] (and above the previous bound); the last bucket
// counts the rest. Not cumulative: the exporter sums them for Prometheus "le" buckets.
struct WaitHistogram {
    // From "no wait" to the longest default max_queue_wait_ms (batch, 120 s).
    static constexpr std::array<qint64, 11> BOUNDS_MS {0, 10, 50, 100, 250, 500, 1000, 2500, 5000, 30000, 120000};

    std::array<std::uint64_t, BOUNDS_MS.size() + 1> buckets {};
    std::uint64_t count = 0;
    double sumMs = 0.0;

    void record(qint64 waitMs);
};

// Counters of one priority class since the queue was created, plus its current depth.
// For every class: queued = grantedFromQueue + shed while queued (PredictedMiss after
// arrival, Evicted, Shutdown) + timedOut + cancelled + depth.
struct ClassMetrics {
    int depth = 0;                       // waiting now
    std::int64_t queuedTokens = 0;       // their expected tokens
    std::uint64_t grantedAtOnce = 0;     // got a slot on arrival
    std::uint64_t queued = 0;            // had to wait
    std::uint64_t grantedFromQueue = 0;  // got a slot after waiting
    std::uint64_t shedOnArrival = 0;     // refused on arrival (PredictedMiss or QueueFull)
    std::uint64_t shedWhileQueued = 0;   // refused after waiting (PredictedMiss, Evicted or Shutdown)
    std::array<std::uint64_t, REFUSAL_REASON_COUNT> shedByReason {}; // both of the above, by reason
    std::uint64_t timedOut = 0;          // waited max_queue_wait_ms
    std::uint64_t cancelled = 0;         // left the queue because the caller gave up
    WaitHistogram wait;                  // every grant, at once (0 ms) or after waiting

    std::uint64_t shed(RefusalReason reason) const { return shedByReason[static_cast<std::size_t>(reason)]; }
};

// A consistent copy of a queue's state, taken under its lock.
struct QueueMetrics {
    std::array<ClassMetrics, PRIORITY_CLASS_COUNT> classes;
    int slotCount = 0;                 // sum of the targets' max_concurrency
    int inUse = 0;                     // tickets held now (may exceed slotCount right after it shrank)
    double drainTokensPerSecond = 0.0; // learned; 0 = unknown
    double serviceTtftMs = 0.0;        // learned; 0 = unknown

    const ClassMetrics &operator[](PriorityClass priority) const { return classes[classIndex(priority)]; }
};

} // namespace Gateway::Admission
