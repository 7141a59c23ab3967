#include "backendmonitor.h"

#include <algorithm>

namespace Gateway::Runtime {

BackendMonitor::BackendMonitor(QByteArray label, const Routing::HealthSettings &settings)
    : m_label {std::move(label)}
    , m_health {settings}
{
}

BackendMonitor::PendingPrefill BackendMonitor::started(const TokenLoad &load, std::int64_t nowUs)
{
    m_inFlightTokens.fetch_add(load.expected, std::memory_order_relaxed);
    m_inFlightPrefill.fetch_add(load.prefill, std::memory_order_relaxed);
    m_inFlightDecode.fetch_add(load.decode, std::memory_order_relaxed);
    const bool alone = m_prefillsInFlight.fetch_add(1, std::memory_order_relaxed) == 0;
    m_lastPrefillSentUs.store(nowUs, std::memory_order_relaxed);
    return {load.prefill, true, {nowUs, alone}};
}

void BackendMonitor::prefillDone(PendingPrefill &prefill, std::int64_t nowUs)
{
    if (!prefill.pending) {
        return;
    }
    m_inFlightPrefill.fetch_sub(prefill.tokens, std::memory_order_relaxed);
    m_prefillsInFlight.fetch_sub(1, std::memory_order_relaxed);
    if (prefill.ticket.alone) { // only such prompts teach the speed: no lock for the others
        const QMutexLocker lock {&m_latencyMutex};
        m_prefillSpeed.observe(prefill.ticket, prefill.tokens, nowUs);
        m_prefillUsPerToken.store(m_prefillSpeed.usPerToken(), std::memory_order_relaxed);
    }
    prefill = {};
}

bool BackendMonitor::finished(const TokenLoad &load, PendingPrefill &prefill, const AttemptOutcome &outcome,
                              qint64 nowMs)
{
    m_inFlightTokens.fetch_sub(load.expected, std::memory_order_relaxed);
    m_inFlightDecode.fetch_sub(load.decode, std::memory_order_relaxed);
    if (prefill.pending) { // no first token: nothing to learn from
        m_inFlightPrefill.fetch_sub(prefill.tokens, std::memory_order_relaxed);
        m_prefillsInFlight.fetch_sub(1, std::memory_order_relaxed);
    }
    prefill = {};
    if (!outcome.countsAgainstBackend) {
        if (outcome.wasProbe) {
            m_health.cancelProbe();
        }
        return false;
    }
    m_intervalAttempts.fetch_add(1, std::memory_order_relaxed);
    if (outcome.failed) {
        m_intervalFailures.fetch_add(1, std::memory_order_relaxed);
        return m_health.recordFailure(nowMs, outcome.reason, outcome.wasProbe);
    }
    m_health.recordSuccess(nowMs, outcome.wasProbe);
    const QMutexLocker lock {&m_latencyMutex};
    if (outcome.ttftMs >= 0) {
        m_ttft.observe(outcome.ttftMs, nowMs);
    }
    // Per output token, the time after the first token: so a long answer does not make
    // a backend look slow, only a slow decode does.
    if (outcome.outputTokens > 1 && outcome.latencyMs >= 0) {
        const double decodeMs = std::max(0.0, outcome.latencyMs - std::max(0.0, outcome.ttftMs));
        m_perToken.observe(decodeMs / static_cast<double>(outcome.outputTokens - 1), nowMs);
    }
    return false;
}

Routing::BackendState BackendMonitor::sample(qint64 nowMs)
{
    const Routing::HealthReading reading = m_health.reading(nowMs);
    Routing::BackendState state;
    state.health = reading.state;
    // A half-open backend is "available": the data plane asks admit() for a probe slot
    // before sending, so at most half_open_probes requests reach it.
    state.available = reading.state != Routing::HealthState::Failed;
    state.healthWeight = std::max(reading.weightMultiplier, 1e-3);
    state.healthSinceMs = reading.stateSinceMs;
    state.healthTransitioned = reading.transitioned;
    state.errorRate = reading.errorRate;
    state.inFlightTokens = inFlightTokens();
    const QMutexLocker lock {&m_latencyMutex};
    state.ttftMs = m_ttft.value(nowMs);
    state.latencyPerTokenMs = m_perToken.value(nowMs);
    return state;
}

BackendMonitor::IntervalCounts BackendMonitor::takeInterval()
{
    IntervalCounts counts;
    counts.attempts = m_intervalAttempts.exchange(0, std::memory_order_relaxed);
    counts.failures = m_intervalFailures.exchange(0, std::memory_order_relaxed);
    return counts;
}

std::uint64_t BackendMonitor::transitionsTo(Routing::HealthState state) const
{
    return m_transitions[static_cast<std::size_t>(state)].load(std::memory_order_relaxed);
}

void BackendMonitor::countTransitions(const std::vector<Routing::HealthEvent> &events)
{
    for (const auto &event : events) {
        m_transitions[static_cast<std::size_t>(event.to)].fetch_add(1, std::memory_order_relaxed);
    }
}

Routing::HealthSettings healthSettingsOf(const Config::HealthPolicy &policy)
{
    Routing::HealthSettings settings;
    settings.windowMs = policy.windowMs;
    settings.minRequests = policy.minRequests;
    settings.degradedErrorRate = policy.degradedErrorRate;
    settings.failedErrorRate = policy.failedErrorRate;
    settings.consecutiveFailures = policy.consecutiveFailures;
    settings.openMs = policy.openMs;
    settings.maxOpenMs = policy.maxOpenMs;
    settings.halfOpenProbes = policy.halfOpenProbes;
    settings.halfOpenSuccesses = policy.halfOpenSuccesses;
    settings.slowStartMs = policy.slowStartMs;
    settings.latencyOutlierFactor = policy.latencyOutlierFactor;
    return settings;
}

} // namespace Gateway::Runtime
