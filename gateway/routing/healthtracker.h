#pragma once

#include "backendsnapshot.h"

#include <QByteArray>
#include <QByteArrayView>

#include <array>
#include <cstdint>
#include <deque>
#include <limits>
#include <mutex>
#include <vector>

namespace Gateway::Routing {

// Thresholds of one health state machine. Member names map to the snake_case config keys
// (windowMs = window_ms, ...). Out-of-range values are clamped by HealthTracker.
struct HealthSettings {
    qint64 windowMs = 10000;          // sliding error-rate window
    int minRequests = 10;             // no error-rate verdict on fewer requests in the window
    double degradedErrorRate = 0.2;   // Healthy -> Degraded; back to Healthy below half of it
    double failedErrorRate = 0.5;     // -> Failed (circuit open)
    int consecutiveFailures = 5;      // -> Failed regardless of the window
    qint64 openMs = 5000;             // first open interval; doubles per consecutive re-open
    qint64 maxOpenMs = 60000;         // cap of the doubling
    int halfOpenProbes = 1;           // concurrent probe requests while half-open
    int halfOpenSuccesses = 3;        // consecutive probe successes that end half-open
    double slowStartMinWeight = 0.1;  // weight at the start of the ramp (and while probing)
    qint64 slowStartMs = 10000;       // ramp length
    double slowStartAggression = 1.0; // ramp curve: 1 = linear, > 1 rises early, < 1 late
    double degradedWeight = 0.5;      // weight multiplier while Degraded
    double latencyOutlierFactor = 3.0;  // own latency > factor x peer median -> Degraded
    double latencyRecoveryFactor = 2.0; // outlier clears at <= factor x peer median (hysteresis)
};

// One state change, for the event log and the console. `from == to == Recovering` marks
// the end of half-open (the slow-start ramp begins).
struct HealthEvent {
    HealthState from = HealthState::Healthy;
    HealthState to = HealthState::Healthy;
    QByteArray reason; // human readable, names the numbers that decided it
    qint64 atMs = 0;   // monotonic, as passed in
};

// What admit() allows.
enum class Admission : std::uint8_t {
    Rejected, // circuit open, or half-open with every probe slot taken
    Admitted, // normal request
    Probe,    // half-open probe: report its outcome with wasProbe = true (or cancelProbe())
};

// Everything a snapshot publisher needs, read under one lock so the fields agree.
struct HealthReading {
    HealthState state = HealthState::Healthy;
    double weightMultiplier = 1.0;
    double errorRate = 0.0;
    int windowRequests = 0;
    bool probing = false;   // Recovering, half-open phase (before the ramp)
    bool available = true;  // admit() would not reject right now
    qint64 openUntilMs = 0; // while Failed: when half-open begins
    // When the state last changed (monotonic ms, as passed in); before any transition,
    // when the tracker was first asked or told anything. `transitioned` says which.
    qint64 stateSinceMs = 0;
    bool transitioned = false;
};

// Passive health of one backend or one provider key: a circuit breaker with a degraded
// level, half-open probing and a slow-start ramp.
//
//   Healthy  --(rate >= degraded_error_rate, or latency outlier)-->        Degraded
//   Degraded --(rate < degraded_error_rate / 2 and no latency outlier)-->  Healthy
//   Healthy/Degraded/ramp --(rate >= failed_error_rate, or N consecutive failures)--> Failed
//   Failed   --(open interval elapsed)-->  Recovering (half-open: probes only)
//   half-open --(any probe failure)--> Failed, with the open interval doubled (up to max_open_ms)
//   half-open --(half_open_successes consecutive probe successes)--> Recovering (ramp)
//   ramp     --(slow_start_ms elapsed)--> Healthy (the re-open backoff resets)
//
// Error-rate verdicts need at least min_requests in the window. The window is
// WINDOW_BUCKETS time buckets of window_ms / WINDOW_BUCKETS, so it spans between
// window_ms minus one bucket and window_ms; recording never allocates. The window is
// cleared when the circuit opens: the failures that opened it must not re-trip the ramp.
// Only probes decide half-open; results of requests admitted before the circuit opened
// (stragglers arriving while Failed or half-open) are ignored.
//
// Slow-start weight at fraction p of the ramp: min + (1 - min) * p^(1 / aggression)
// (Envoy's slow start uses the same time-factor exponent).
//
// Callers must not record client errors (4xx other than 429) against a backend: they say
// nothing about its health. Rate limiting (429) is the KeyPool's business (cool-down),
// not a health failure, unless the caller decides otherwise.
//
// Thread safety: every public method takes an internal std::mutex, so one tracker can be
// shared by all worker threads. Time must be passed in (monotonic ms); a timestamp older
// than the latest one seen (threads racing to the lock) counts as the latest.
class HealthTracker {
public:
    static constexpr int WINDOW_BUCKETS = 10;
    static constexpr std::size_t MAX_PENDING_EVENTS = 64; // oldest dropped beyond this

    explicit HealthTracker(const HealthSettings &settings = {});
    HealthTracker(const HealthTracker &) = delete;
    HealthTracker &operator=(const HealthTracker &) = delete;

    // Whether a request may be sent now. In half-open it takes a probe slot (Probe).
    Admission admit(qint64 nowMs);
    // Frees a probe slot whose request ended without an outcome (cancelled by the client).
    void cancelProbe();
    // Puts the tracker on the slow-start ramp as if half-open had just ended: a server that
    // has just joined (service discovery) takes a growing share instead of a full one while
    // its caches are cold. A Failed tracker is left alone (its circuit decides).
    void beginSlowStart(qint64 nowMs, QByteArrayView reason);

    void recordSuccess(qint64 nowMs, bool wasProbe);
    // True when this failure opened the circuit: the caller should republish the
    // routing snapshot now rather than route onto a failed backend until the next tick.
    bool recordFailure(qint64 nowMs, QByteArrayView reason, bool wasProbe);
    // Latency outlier detection against the median of the backend's peers.
    void evaluateLatency(double ownMs, double peerMedianMs, qint64 nowMs);

    HealthState state(qint64 nowMs);
    double weightMultiplier(qint64 nowMs);
    double errorRate(qint64 nowMs); // failed / all over the window; 0 when empty
    HealthReading reading(qint64 nowMs);

    // Drains the pending state changes, oldest first.
    std::vector<HealthEvent> takeEvents();
    std::uint64_t droppedEvents() const;

    const HealthSettings &settings() const { return m_settings; }

private:
    struct Bucket {
        qint64 epoch = std::numeric_limits<qint64>::min();
        int successes = 0;
        int failures = 0;
    };
    struct Counts {
        int successes = 0;
        int failures = 0;
        int total() const { return successes + failures; }
        double rate() const;
    };

    qint64 advance(qint64 nowMs);
    void evaluateWindow(qint64 nowMs);
    Counts windowCounts(qint64 nowMs) const;
    Bucket &bucketAt(qint64 nowMs);
    void clearWindow();
    void open(qint64 nowMs, const QByteArray &reason);
    void transition(HealthState to, qint64 nowMs, const QByteArray &reason);
    void releaseProbe();
    double weightLocked(qint64 nowMs) const;
    QByteArray rateText(const Counts &counts, const QByteArray &op, double threshold) const;
    QByteArray latencyText(const QByteArray &op, double factor) const;

    const HealthSettings m_settings;
    const qint64 m_bucketMs;

    mutable std::mutex m_mutex; // guards everything below
    HealthState m_state = HealthState::Healthy;
    std::array<Bucket, WINDOW_BUCKETS> m_buckets;
    qint64 m_lastNowMs = std::numeric_limits<qint64>::min();
    int m_consecutiveFailures = 0;
    int m_consecutiveOpens = 0; // opens since the last time Healthy was reached
    qint64 m_openUntilMs = 0;
    bool m_probing = false;     // Recovering: half-open (true) or ramp (false)
    int m_probesInFlight = 0;
    int m_probeSuccesses = 0;
    qint64 m_rampStartMs = 0;
    bool m_latencyOutlier = false;
    bool m_haveLatency = false;
    double m_ownLatencyMs = 0.0;
    double m_peerMedianMs = 0.0;
    std::deque<HealthEvent> m_events;
    std::uint64_t m_droppedEvents = 0;
    qint64 m_stateSinceMs = std::numeric_limits<qint64>::min(); // unset until the first call
    bool m_transitioned = false;
};

} // namespace Gateway::Routing
