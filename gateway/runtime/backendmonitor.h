#pragma once

#include "config/policy.h"
#include "routing/backendsnapshot.h"
#include "routing/healthtracker.h"
#include "routing/peakewma.h"
#include "routing/prefillspeed.h"

#include <QByteArray>
#include <QMutex>

#include <array>
#include <atomic>
#include <cstdint>

namespace Gateway::Runtime {

// How one upstream attempt ended, as the routing engine learns from it.
struct AttemptOutcome {
    bool failed = false;
    // False for failures that say nothing about the backend's health: client errors
    // (the request was refused on its merits), the client hanging up, 429s (the key's
    // business, not the backend's).
    bool countsAgainstBackend = true;
    QByteArray reason;       // why it failed, for the health event
    double latencyMs = -1;   // whole attempt
    double ttftMs = -1;      // first body byte; -1 = none
    qint64 outputTokens = -1; // -1 = unknown
    bool wasProbe = false;
};

// Everything the routing engine observes about one backend (provider + upstream model):
// its health state machine, latency EWMAs, in-flight token load and the counts of the
// current adaptive interval. One per backend label for the life of the process, so
// health survives configuration changes; shared by every worker thread.
class BackendMonitor final {
public:
    BackendMonitor(QByteArray label, const Routing::HealthSettings &settings);
    BackendMonitor(const BackendMonitor &) = delete;
    BackendMonitor &operator=(const BackendMonitor &) = delete;

    const QByteArray &label() const { return m_label; }
    Routing::HealthTracker &health() { return m_health; }

    // Attempt life cycle: started() adds the request's expected tokens to the in-flight
    // load, split into prefill work (its uncached prompt tokens) and decode work (its
    // expected output), and counts it among the prompts waiting for a first token;
    // prefillDone() takes the prefill part off at the first token (and learns the prefill
    // speed from it); finished() takes the rest off, including the prefill part if no
    // first token came, and records what happened. The attempt keeps the PendingPrefill
    // started() returns and hands it back; both calls clear it.
    struct TokenLoad {
        std::int64_t expected = 0; // prompt + expected output
        std::int64_t prefill = 0;  // uncached prompt tokens
        std::int64_t decode = 0;   // expected output tokens
    };
    struct PendingPrefill {
        std::int64_t tokens = 0; // counted in the in-flight prefill load
        bool pending = false;    // no first token yet
        Routing::PrefillTicket ticket;
    };
    // `nowUs`: monotonic µs (Runtime::monotonicNowUs()).
    [[nodiscard]] PendingPrefill started(const TokenLoad &load, std::int64_t nowUs);
    void prefillDone(PendingPrefill &prefill, std::int64_t nowUs);
    // Returns true when this outcome opened the backend's circuit (see
    // SnapshotSource::markStale()).
    bool finished(const TokenLoad &load, PendingPrefill &prefill, const AttemptOutcome &outcome, qint64 nowMs);

    std::int64_t inFlightTokens() const { return m_inFlightTokens.load(std::memory_order_relaxed); }
    std::int64_t inFlightPrefillTokens() const { return m_inFlightPrefill.load(std::memory_order_relaxed); }
    std::int64_t inFlightDecodeTokens() const { return m_inFlightDecode.load(std::memory_order_relaxed); }
    // Attempts still waiting for their first token, when an attempt was last started
    // (monotonic µs; meaningless while none waits), and the learned prefill speed
    // (µs per uncached token; 0 = not learned yet): what prefix_aware reads to estimate
    // how far a prompt's prefill has come (BackendState::prefillsInFlight and after).
    int prefillsInFlight() const { return m_prefillsInFlight.load(std::memory_order_relaxed); }
    std::int64_t lastPrefillSentUs() const { return m_lastPrefillSentUs.load(std::memory_order_relaxed); }
    double prefillUsPerToken() const { return m_prefillUsPerToken.load(std::memory_order_relaxed); }

    // The slow-moving part of a BackendState (health, EWMAs, error rate); the caller
    // adds configuration (prices) and live in-flight counts.
    Routing::BackendState sample(qint64 nowMs);

    // Attempts and failures since the previous call: one adaptive interval's counts.
    struct IntervalCounts {
        std::uint64_t attempts = 0;
        std::uint64_t failures = 0;
    };
    IntervalCounts takeInterval();

    // State transitions counted since start, per target state (for metrics).
    std::uint64_t transitionsTo(Routing::HealthState state) const;
    void countTransitions(const std::vector<Routing::HealthEvent> &events);

private:
    QByteArray m_label;
    Routing::HealthTracker m_health;
    std::atomic<std::int64_t> m_inFlightTokens {0};
    std::atomic<std::int64_t> m_inFlightPrefill {0};
    std::atomic<std::int64_t> m_inFlightDecode {0};
    std::atomic<int> m_prefillsInFlight {0};
    std::atomic<std::int64_t> m_lastPrefillSentUs {0};
    std::atomic<double> m_prefillUsPerToken {0.0}; // m_prefillSpeed's value, for lock-free reads
    std::atomic<std::uint64_t> m_intervalAttempts {0};
    std::atomic<std::uint64_t> m_intervalFailures {0};
    std::array<std::atomic<std::uint64_t>, 4> m_transitions {};

    QMutex m_latencyMutex; // guards the EWMAs (PeakEwma is not thread-safe)
    Routing::PeakEwma m_ttft;
    Routing::PeakEwma m_perToken;
    Routing::PrefillSpeed m_prefillSpeed; // also guarded by m_latencyMutex
};

// The health settings of a policy document, in the routing library's terms.
Routing::HealthSettings healthSettingsOf(const Config::HealthPolicy &policy);

} // namespace Gateway::Runtime
