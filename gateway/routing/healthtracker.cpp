#include "healthtracker.h"

#include <QStringBuilder>

#include <algorithm>
#include <cmath>

namespace Gateway::Routing {

namespace {

// Rounds towards minus infinity, so buckets stay aligned for any monotonic origin.
qint64 floorDiv(qint64 a, qint64 b)
{
    const qint64 q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

HealthSettings sanitized(HealthSettings s)
{
    s.windowMs = std::max<qint64>(s.windowMs, HealthTracker::WINDOW_BUCKETS);
    s.minRequests = std::max(s.minRequests, 1);
    s.degradedErrorRate = std::clamp(s.degradedErrorRate, 0.0, 1.0);
    s.failedErrorRate = std::clamp(s.failedErrorRate, 0.0, 1.0);
    s.consecutiveFailures = std::max(s.consecutiveFailures, 1);
    s.openMs = std::max<qint64>(s.openMs, 1);
    s.maxOpenMs = std::max(s.maxOpenMs, s.openMs);
    s.halfOpenProbes = std::max(s.halfOpenProbes, 1);
    s.halfOpenSuccesses = std::max(s.halfOpenSuccesses, 1);
    // A zero weight would starve the ramp of the traffic it needs to prove itself.
    s.slowStartMinWeight = std::clamp(s.slowStartMinWeight, 0.001, 1.0);
    s.slowStartMs = std::max<qint64>(s.slowStartMs, 0);
    s.slowStartAggression = s.slowStartAggression > 0.0 ? s.slowStartAggression : 1.0;
    s.degradedWeight = std::clamp(s.degradedWeight, 0.001, 1.0);
    s.latencyOutlierFactor = std::max(s.latencyOutlierFactor, 1.0);
    s.latencyRecoveryFactor = std::clamp(s.latencyRecoveryFactor, 1.0, s.latencyOutlierFactor);
    return s;
}

QByteArray windowText(qint64 windowMs)
{
    if (windowMs % 1000 == 0) {
        return QByteArray::number(windowMs / 1000) + QByteArrayLiteral("s");
    }
    return QByteArray::number(windowMs) + QByteArrayLiteral("ms");
}

} // namespace

double HealthTracker::Counts::rate() const
{
    const int all = total();
    return all == 0 ? 0.0 : static_cast<double>(failures) / all;
}

HealthTracker::HealthTracker(const HealthSettings &settings)
    : m_settings {sanitized(settings)}
    , m_bucketMs {m_settings.windowMs / WINDOW_BUCKETS}
{
}

Admission HealthTracker::admit(qint64 nowMs)
{
    const std::lock_guard lock {m_mutex};
    advance(nowMs);
    switch (m_state) {
    case HealthState::Failed:
        return Admission::Rejected;
    case HealthState::Recovering:
        if (!m_probing) {
            return Admission::Admitted;
        }
        if (m_probesInFlight >= m_settings.halfOpenProbes) {
            return Admission::Rejected;
        }
        ++m_probesInFlight;
        return Admission::Probe;
    case HealthState::Healthy:
    case HealthState::Degraded:
        break;
    }
    return Admission::Admitted;
}

void HealthTracker::cancelProbe()
{
    const std::lock_guard lock {m_mutex};
    releaseProbe();
}

void HealthTracker::recordSuccess(qint64 nowMs, bool wasProbe)
{
    const std::lock_guard lock {m_mutex};
    nowMs = advance(nowMs);
    if (wasProbe) {
        releaseProbe();
    }
    if (m_state == HealthState::Failed) {
        return; // a straggler from before the circuit opened
    }
    if (m_state == HealthState::Recovering && m_probing) {
        if (!wasProbe) {
            return;
        }
        if (++m_probeSuccesses >= m_settings.halfOpenSuccesses) {
            m_probing = false;
            m_probesInFlight = 0;
            m_rampStartMs = nowMs;
            clearWindow();
            transition(HealthState::Recovering, nowMs,
                       QByteArray::number(m_probeSuccesses)
                           + QByteArrayLiteral(" consecutive probe successes: slow start from ")
                           + QByteArray::number(m_settings.slowStartMinWeight) + QByteArrayLiteral(" over ")
                           + QByteArray::number(m_settings.slowStartMs) + QByteArrayLiteral(" ms"));
        }
        return;
    }
    bucketAt(nowMs).successes += 1;
    m_consecutiveFailures = 0;
    evaluateWindow(nowMs);
}

bool HealthTracker::recordFailure(qint64 nowMs, QByteArrayView reason, bool wasProbe)
{
    const std::lock_guard lock {m_mutex};
    nowMs = advance(nowMs);
    if (wasProbe) {
        releaseProbe();
    }
    if (m_state == HealthState::Failed) {
        return false;
    }
    if (m_state == HealthState::Recovering && m_probing) {
        if (wasProbe) {
            open(nowMs, QByteArrayLiteral("probe failed: ") + reason.toByteArray());
            return true;
        }
        return false;
    }
    bucketAt(nowMs).failures += 1;
    if (++m_consecutiveFailures >= m_settings.consecutiveFailures) {
        open(nowMs, QByteArray::number(m_consecutiveFailures) + QByteArrayLiteral(" consecutive failures, last: ")
                        + reason.toByteArray());
        return true;
    }
    evaluateWindow(nowMs);
    return m_state == HealthState::Failed;
}

void HealthTracker::evaluateLatency(double ownMs, double peerMedianMs, qint64 nowMs)
{
    const std::lock_guard lock {m_mutex};
    nowMs = advance(nowMs);
    if (!(peerMedianMs > 0.0) || !(ownMs >= 0.0)) {
        return; // no peers with samples yet: nothing to compare against
    }
    m_haveLatency = true;
    m_ownLatencyMs = ownMs;
    m_peerMedianMs = peerMedianMs;
    if (ownMs > m_settings.latencyOutlierFactor * peerMedianMs) {
        m_latencyOutlier = true;
    } else if (ownMs <= m_settings.latencyRecoveryFactor * peerMedianMs) {
        m_latencyOutlier = false;
    }
    evaluateWindow(nowMs);
}

HealthState HealthTracker::state(qint64 nowMs)
{
    const std::lock_guard lock {m_mutex};
    advance(nowMs);
    return m_state;
}

double HealthTracker::weightMultiplier(qint64 nowMs)
{
    const std::lock_guard lock {m_mutex};
    return weightLocked(advance(nowMs));
}

double HealthTracker::errorRate(qint64 nowMs)
{
    const std::lock_guard lock {m_mutex};
    return windowCounts(advance(nowMs)).rate();
}

HealthReading HealthTracker::reading(qint64 nowMs)
{
    const std::lock_guard lock {m_mutex};
    nowMs = advance(nowMs);
    const Counts counts = windowCounts(nowMs);
    HealthReading r;
    r.state = m_state;
    r.weightMultiplier = weightLocked(nowMs);
    r.errorRate = counts.rate();
    r.windowRequests = counts.total();
    r.probing = m_state == HealthState::Recovering && m_probing;
    r.available = m_state != HealthState::Failed && !(r.probing && m_probesInFlight >= m_settings.halfOpenProbes);
    r.openUntilMs = m_state == HealthState::Failed ? m_openUntilMs : 0;
    r.stateSinceMs = m_stateSinceMs;
    r.transitioned = m_transitioned;
    return r;
}

std::vector<HealthEvent> HealthTracker::takeEvents()
{
    const std::lock_guard lock {m_mutex};
    std::vector<HealthEvent> events {std::make_move_iterator(m_events.begin()),
                                     std::make_move_iterator(m_events.end())};
    m_events.clear();
    return events;
}

std::uint64_t HealthTracker::droppedEvents() const
{
    const std::lock_guard lock {m_mutex};
    return m_droppedEvents;
}

// Applies the transitions that time alone causes, then re-judges the window (old
// buckets expire). Returns the effective (never decreasing) time.
qint64 HealthTracker::advance(qint64 nowMs)
{
    nowMs = std::max(nowMs, m_lastNowMs);
    m_lastNowMs = nowMs;
    if (m_stateSinceMs == std::numeric_limits<qint64>::min()) {
        m_stateSinceMs = nowMs;
    }
    if (m_state == HealthState::Failed && nowMs >= m_openUntilMs) {
        m_probing = true;
        m_probesInFlight = 0;
        m_probeSuccesses = 0;
        transition(HealthState::Recovering, nowMs,
                   QByteArrayLiteral("open interval ended: half-open, up to ")
                       + QByteArray::number(m_settings.halfOpenProbes)
                       + QByteArrayLiteral(" concurrent probe(s), ") + QByteArray::number(m_settings.halfOpenSuccesses)
                       + QByteArrayLiteral(" successes needed"));
    }
    if (m_state == HealthState::Recovering && !m_probing && nowMs - m_rampStartMs >= m_settings.slowStartMs) {
        m_consecutiveOpens = 0;
        transition(HealthState::Healthy, nowMs,
                   QByteArrayLiteral("slow start complete after ") + QByteArray::number(nowMs - m_rampStartMs)
                       + QByteArrayLiteral(" ms"));
    }
    evaluateWindow(nowMs);
    return nowMs;
}

void HealthTracker::evaluateWindow(qint64 nowMs)
{
    if (m_state == HealthState::Failed || (m_state == HealthState::Recovering && m_probing)) {
        return;
    }
    const Counts counts = windowCounts(nowMs);
    const bool enough = counts.total() >= m_settings.minRequests;
    if (enough && counts.rate() >= m_settings.failedErrorRate) {
        open(nowMs, rateText(counts, QByteArrayLiteral(">="), m_settings.failedErrorRate));
        return;
    }
    // The ramp only watches for a re-open; once Healthy, the degraded check applies again.
    if (m_state == HealthState::Healthy) {
        if (enough && counts.rate() >= m_settings.degradedErrorRate) {
            transition(HealthState::Degraded, nowMs,
                       rateText(counts, QByteArrayLiteral(">="), m_settings.degradedErrorRate));
        } else if (m_latencyOutlier) {
            transition(HealthState::Degraded, nowMs,
                       latencyText(QByteArrayLiteral(">"), m_settings.latencyOutlierFactor));
        }
    } else if (m_state == HealthState::Degraded) {
        const double healthyBelow = m_settings.degradedErrorRate / 2;
        if (counts.rate() < healthyBelow && !m_latencyOutlier) {
            QByteArray reason = rateText(counts, QByteArrayLiteral("<"), healthyBelow);
            if (m_haveLatency) {
                reason += QByteArrayLiteral(", ")
                    + latencyText(QByteArrayLiteral("<="), m_settings.latencyRecoveryFactor);
            }
            transition(HealthState::Healthy, nowMs, reason);
        }
    }
}

HealthTracker::Counts HealthTracker::windowCounts(qint64 nowMs) const
{
    const qint64 current = floorDiv(nowMs, m_bucketMs);
    Counts counts;
    for (const Bucket &bucket : m_buckets) {
        if (bucket.epoch > current - WINDOW_BUCKETS && bucket.epoch <= current) {
            counts.successes += bucket.successes;
            counts.failures += bucket.failures;
        }
    }
    return counts;
}

HealthTracker::Bucket &HealthTracker::bucketAt(qint64 nowMs)
{
    const qint64 epoch = floorDiv(nowMs, m_bucketMs);
    Bucket &bucket = m_buckets[static_cast<std::size_t>(((epoch % WINDOW_BUCKETS) + WINDOW_BUCKETS) % WINDOW_BUCKETS)];
    if (bucket.epoch != epoch) {
        bucket = Bucket {epoch, 0, 0};
    }
    return bucket;
}

void HealthTracker::clearWindow()
{
    m_buckets.fill(Bucket {});
    m_consecutiveFailures = 0;
}

void HealthTracker::open(qint64 nowMs, const QByteArray &reason)
{
    // Doubling per consecutive re-open, computed by repeated doubling so it cannot overflow.
    qint64 interval = m_settings.openMs;
    for (int i = 0; i < m_consecutiveOpens && interval < m_settings.maxOpenMs; ++i) {
        interval *= 2;
    }
    interval = std::min(interval, m_settings.maxOpenMs);
    ++m_consecutiveOpens;
    m_openUntilMs = nowMs + interval;
    m_probing = false;
    m_probesInFlight = 0;
    m_probeSuccesses = 0;
    clearWindow();
    transition(HealthState::Failed, nowMs,
               reason + QByteArrayLiteral("; open for ") + QByteArray::number(interval) + QByteArrayLiteral(" ms"));
}

void HealthTracker::transition(HealthState to, qint64 nowMs, const QByteArray &reason)
{
    if (m_events.size() >= MAX_PENDING_EVENTS) {
        m_events.pop_front();
        ++m_droppedEvents;
    }
    m_events.push_back(HealthEvent {m_state, to, reason, nowMs});
    // The end of half-open (Recovering -> Recovering, the ramp begins) is a transition
    // too: the console's "recovering · 4s" then counts the ramp.
    m_state = to;
    m_stateSinceMs = nowMs;
    m_transitioned = true;
}

void HealthTracker::beginSlowStart(qint64 nowMs, QByteArrayView reason)
{
    const std::lock_guard lock {m_mutex};
    nowMs = advance(nowMs);
    if (m_state == HealthState::Failed || m_settings.slowStartMs <= 0) {
        return;
    }
    m_probing = false;
    m_probesInFlight = 0;
    m_rampStartMs = nowMs;
    transition(HealthState::Recovering, nowMs,
               reason.toByteArray() + QByteArrayLiteral(": slow start from ") +
                   QByteArray::number(m_settings.slowStartMinWeight) + QByteArrayLiteral(" over ") +
                   QByteArray::number(m_settings.slowStartMs) + QByteArrayLiteral(" ms"));
}

void HealthTracker::releaseProbe()
{
    if (m_probesInFlight > 0) {
        --m_probesInFlight;
    }
}

double HealthTracker::weightLocked(qint64 nowMs) const
{
    switch (m_state) {
    case HealthState::Healthy:
        return 1.0;
    case HealthState::Degraded:
        return m_settings.degradedWeight;
    case HealthState::Failed:
        return 0.0;
    case HealthState::Recovering:
        break;
    }
    const double min = m_settings.slowStartMinWeight;
    if (m_probing || m_settings.slowStartMs <= 0) {
        return min;
    }
    const double progress = std::clamp(static_cast<double>(nowMs - m_rampStartMs) / m_settings.slowStartMs, 0.0, 1.0);
    return min + (1.0 - min) * std::pow(progress, 1.0 / m_settings.slowStartAggression);
}

QByteArray HealthTracker::rateText(const Counts &counts, const QByteArray &op, double threshold) const
{
    return QByteArrayLiteral("error rate ") + QByteArray::number(counts.rate(), 'g', 3) + QByteArrayLiteral(" over ")
        + windowText(m_settings.windowMs) + QByteArrayLiteral(" ") + op + QByteArrayLiteral(" ")
        + QByteArray::number(threshold) + QByteArrayLiteral(" (") + QByteArray::number(counts.failures)
        + QByteArrayLiteral(" of ") + QByteArray::number(counts.total()) + QByteArrayLiteral(" requests failed)");
}

QByteArray HealthTracker::latencyText(const QByteArray &op, double factor) const
{
    return QByteArrayLiteral("latency ") + QByteArray::number(m_ownLatencyMs, 'f', 0) + QByteArrayLiteral(" ms ") + op
        + QByteArrayLiteral(" ") + QByteArray::number(factor) + QByteArrayLiteral(" x peer median ")
        + QByteArray::number(m_peerMedianMs, 'f', 0) + QByteArrayLiteral(" ms");
}

} // namespace Gateway::Routing
