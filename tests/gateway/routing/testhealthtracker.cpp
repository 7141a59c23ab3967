#include "routing/healthtracker.h"

#include <QTest>

#include <cmath>
#include <thread>
#include <vector>

using Gateway::Routing::Admission;
using Gateway::Routing::HealthEvent;
using Gateway::Routing::HealthSettings;
using Gateway::Routing::HealthState;
using Gateway::Routing::HealthTracker;

namespace {

const QByteArray FAILURE_REASON = QByteArrayLiteral("HTTP 503");

void succeed(HealthTracker &tracker, qint64 nowMs, int count = 1)
{
    for (int i = 0; i < count; ++i) {
        tracker.recordSuccess(nowMs, false);
    }
}

void fail(HealthTracker &tracker, qint64 nowMs, int count = 1)
{
    for (int i = 0; i < count; ++i) {
        tracker.recordFailure(nowMs, FAILURE_REASON, false);
    }
}

// Settings where only the error rate can trip (no consecutive-failure trigger).
HealthSettings rateOnly()
{
    HealthSettings settings;
    settings.consecutiveFailures = 1000;
    return settings;
}

// Opens the circuit at `nowMs` with consecutive failures.
void openAt(HealthTracker &tracker, qint64 nowMs)
{
    fail(tracker, nowMs, tracker.settings().consecutiveFailures);
    QCOMPARE(tracker.state(nowMs), HealthState::Failed);
}

// Runs the half-open phase to completion at `nowMs` (the circuit must be half-open).
void passProbes(HealthTracker &tracker, qint64 nowMs)
{
    for (int i = 0; i < tracker.settings().halfOpenSuccesses; ++i) {
        QCOMPARE(tracker.admit(nowMs), Admission::Probe);
        tracker.recordSuccess(nowMs, true);
    }
    QVERIFY(!tracker.reading(nowMs).probing);
}

QByteArray describe(const std::vector<HealthEvent> &events)
{
    QByteArray text;
    for (const HealthEvent &event : events) {
        text += QByteArray::number(static_cast<int>(event.from)) + QByteArrayLiteral("->")
            + QByteArray::number(static_cast<int>(event.to)) + QByteArrayLiteral(" ") + event.reason
            + QByteArrayLiteral("; ");
    }
    return text;
}

} // namespace

class TestHealthTracker final : public QObject {
    Q_OBJECT

private slots:
    void healthyByDefault();
    void noVerdictBelowMinRequests();
    void healthyToDegradedOnErrorRate();
    void degradedReturnsOnlyBelowHalfTheThreshold();
    void degradedToFailedOnErrorRate();
    void healthyToFailedDirectly();
    void consecutiveFailuresOpen();
    void successResetsConsecutiveFailures();
    void openIntervalThenHalfOpen();
    void readingSaysWhenTheStateLastChanged();
    void halfOpenProbeLimit();
    void halfOpenIgnoresStragglers();
    void halfOpenSuccessesStartTheRamp();
    void probeFailureReopensWithDoubledInterval();
    void openIntervalBackoffCapsAndResets();
    void slowStartRampIsMonotone();
    void slowStartAggressionCurve();
    void beginSlowStartRampsAJoiningBackend();
    void rampReopensOnFailures();
    void windowExpiry();
    void windowSpansBuckets();
    void latencyOutlierWithHysteresis();
    void latencyOutlierNeedsPeers();
    void eventsAreDrainedAndBounded();
    void timeNeverRunsBackwards();
    void concurrentRecordingKeepsCounts();
};

void TestHealthTracker::healthyByDefault()
{
    HealthTracker tracker;
    QCOMPARE(tracker.state(0), HealthState::Healthy);
    QCOMPARE(tracker.weightMultiplier(0), 1.0);
    QCOMPARE(tracker.admit(0), Admission::Admitted);
    QCOMPARE(tracker.errorRate(0), 0.0);
    QVERIFY(tracker.takeEvents().empty());
}

void TestHealthTracker::noVerdictBelowMinRequests()
{
    HealthTracker tracker {rateOnly()};
    // 9 requests, all failed: no verdict yet (min_requests 10).
    fail(tracker, 100, 9);
    QCOMPARE(tracker.state(100), HealthState::Healthy);
    QCOMPARE(tracker.errorRate(100), 1.0);
    fail(tracker, 100);
    QCOMPARE(tracker.state(100), HealthState::Failed);
}

void TestHealthTracker::healthyToDegradedOnErrorRate()
{
    {
        HealthTracker tracker;
        succeed(tracker, 0, 9);
        fail(tracker, 0);
        QCOMPARE(tracker.state(0), HealthState::Healthy); // 1 of 10 = 0.1 < 0.2
    }
    HealthTracker tracker;
    succeed(tracker, 0, 8);
    fail(tracker, 0);
    QCOMPARE(tracker.state(0), HealthState::Healthy); // 9 requests: below min_requests
    fail(tracker, 250);
    QCOMPARE(tracker.state(250), HealthState::Degraded); // 2 of 10 = 0.2
    QCOMPARE(tracker.weightMultiplier(250), 0.5);
    QCOMPARE(tracker.admit(250), Admission::Admitted);
    const auto events = tracker.takeEvents();
    QCOMPARE(events.size(), std::size_t {1});
    QCOMPARE(events[0].from, HealthState::Healthy);
    QCOMPARE(events[0].to, HealthState::Degraded);
    QCOMPARE(events[0].atMs, qint64 {250});
    QCOMPARE(events[0].reason, QByteArrayLiteral("error rate 0.2 over 10s >= 0.2 (2 of 10 requests failed)"));
}

void TestHealthTracker::degradedReturnsOnlyBelowHalfTheThreshold()
{
    HealthTracker tracker;
    succeed(tracker, 0, 8);
    fail(tracker, 0, 2);
    QCOMPARE(tracker.state(0), HealthState::Degraded);
    tracker.takeEvents();
    succeed(tracker, 0); // 2 of 11 = 0.18: below 0.2 but not below 0.1
    QCOMPARE(tracker.state(0), HealthState::Degraded);
    succeed(tracker, 0, 9); // 2 of 20 = 0.1: not below 0.1
    QCOMPARE(tracker.state(0), HealthState::Degraded);
    succeed(tracker, 0); // 2 of 21 = 0.095
    QCOMPARE(tracker.state(0), HealthState::Healthy);
    QCOMPARE(tracker.weightMultiplier(0), 1.0);
    const auto events = tracker.takeEvents();
    QCOMPARE(events.size(), std::size_t {1});
    QCOMPARE(events[0].from, HealthState::Degraded);
    QCOMPARE(events[0].to, HealthState::Healthy);
    QCOMPARE(events[0].reason, QByteArrayLiteral("error rate 0.0952 over 10s < 0.1 (2 of 21 requests failed)"));
}

void TestHealthTracker::degradedToFailedOnErrorRate()
{
    HealthTracker tracker;
    succeed(tracker, 0, 8);
    fail(tracker, 0, 2);
    QCOMPARE(tracker.state(0), HealthState::Degraded);
    // Two failures then a success: never 5 in a row, the rate climbs towards 2/3.
    for (int i = 0; i < 4; ++i) {
        fail(tracker, 0, 2);
        succeed(tracker, 0);
    }
    fail(tracker, 0);
    QCOMPARE(tracker.state(0), HealthState::Degraded); // 11 of 23 = 0.48
    fail(tracker, 0);                                  // 12 of 24 = 0.5
    QCOMPARE(tracker.state(0), HealthState::Failed);
    QCOMPARE(tracker.weightMultiplier(0), 0.0);
    QCOMPARE(tracker.admit(0), Admission::Rejected);
    const auto events = tracker.takeEvents();
    QCOMPARE(events.size(), std::size_t {2});
    QCOMPARE(events[1].from, HealthState::Degraded);
    QCOMPARE(events[1].to, HealthState::Failed);
    QCOMPARE(events[1].reason,
             QByteArrayLiteral("error rate 0.5 over 10s >= 0.5 (12 of 24 requests failed); open for 5000 ms"));
}

void TestHealthTracker::healthyToFailedDirectly()
{
    HealthTracker tracker;
    for (int i = 0; i < 5; ++i) {
        succeed(tracker, 0);
        fail(tracker, 0);
    }
    QCOMPARE(tracker.state(0), HealthState::Failed);
    const auto events = tracker.takeEvents();
    QCOMPARE(events.size(), std::size_t {1});
    QCOMPARE(events[0].from, HealthState::Healthy);
    QCOMPARE(events[0].to, HealthState::Failed);
}

void TestHealthTracker::consecutiveFailuresOpen()
{
    HealthTracker tracker;
    fail(tracker, 0, 4);
    QCOMPARE(tracker.state(0), HealthState::Healthy);
    // Only the failure that opens the circuit says so (the caller republishes routing).
    QVERIFY(tracker.recordFailure(0, "connect timeout", false));
    QCOMPARE(tracker.state(0), HealthState::Failed);
    QVERIFY(!tracker.recordFailure(0, "connect timeout", false));
    const auto events = tracker.takeEvents();
    QCOMPARE(events.size(), std::size_t {1});
    QCOMPARE(events[0].reason, QByteArrayLiteral("5 consecutive failures, last: connect timeout; open for 5000 ms"));
}

void TestHealthTracker::successResetsConsecutiveFailures()
{
    HealthSettings settings;
    settings.minRequests = 100; // only the consecutive trigger can fire
    HealthTracker tracker {settings};
    fail(tracker, 0, 4);
    succeed(tracker, 0);
    fail(tracker, 0, 4);
    QCOMPARE(tracker.state(0), HealthState::Healthy);
    fail(tracker, 0);
    QCOMPARE(tracker.state(0), HealthState::Failed);
}

void TestHealthTracker::readingSaysWhenTheStateLastChanged()
{
    HealthTracker tracker;
    succeed(tracker, 500); // first seen: the age counts from here, no transition yet
    QCOMPARE(tracker.reading(900).stateSinceMs, qint64 {500});
    QVERIFY(!tracker.reading(900).transitioned);
    openAt(tracker, 1000);
    QCOMPARE(tracker.reading(1200).stateSinceMs, qint64 {1000});
    QVERIFY(tracker.reading(1200).transitioned);
    // The open interval ending is a transition time alone causes: it is stamped with the
    // reading's time, not the last request's.
    QCOMPARE(tracker.reading(7000).state, HealthState::Recovering);
    QCOMPARE(tracker.reading(7500).stateSinceMs, qint64 {7000});
}

void TestHealthTracker::openIntervalThenHalfOpen()
{
    HealthTracker tracker;
    openAt(tracker, 1000);
    QCOMPARE(tracker.reading(1000).openUntilMs, qint64 {6000});
    QCOMPARE(tracker.state(5999), HealthState::Failed);
    QCOMPARE(tracker.admit(5999), Admission::Rejected);
    QVERIFY(!tracker.reading(5999).available);
    QCOMPARE(tracker.state(6000), HealthState::Recovering);
    QVERIFY(tracker.reading(6000).probing);
    QVERIFY(tracker.reading(6000).available);
    QCOMPARE(tracker.weightMultiplier(6000), 0.1);
    const auto events = tracker.takeEvents();
    QCOMPARE(events.size(), std::size_t {2});
    QCOMPARE(events[1].from, HealthState::Failed);
    QCOMPARE(events[1].to, HealthState::Recovering);
    QCOMPARE(events[1].atMs, qint64 {6000});
    QVERIFY2(events[1].reason.contains("half-open"), events[1].reason.constData());
}

void TestHealthTracker::halfOpenProbeLimit()
{
    {
        HealthTracker tracker;
        openAt(tracker, 0);
        QCOMPARE(tracker.admit(5000), Admission::Probe);
        QCOMPARE(tracker.admit(5000), Admission::Rejected);
        QCOMPARE(tracker.admit(5100), Admission::Rejected);
        QVERIFY(!tracker.reading(5100).available);
        tracker.cancelProbe();
        QCOMPARE(tracker.admit(5100), Admission::Probe);
    }
    HealthSettings settings;
    settings.halfOpenProbes = 2;
    HealthTracker tracker {settings};
    openAt(tracker, 0);
    QCOMPARE(tracker.admit(5000), Admission::Probe);
    QCOMPARE(tracker.admit(5000), Admission::Probe);
    QCOMPARE(tracker.admit(5000), Admission::Rejected);
    tracker.recordSuccess(5000, true); // frees its slot
    QCOMPARE(tracker.admit(5000), Admission::Probe);
    QCOMPARE(tracker.admit(5000), Admission::Rejected);
}

void TestHealthTracker::halfOpenIgnoresStragglers()
{
    HealthTracker tracker;
    openAt(tracker, 0);
    QCOMPARE(tracker.state(5000), HealthState::Recovering);
    fail(tracker, 5000, 10);
    succeed(tracker, 5000, 10);
    QCOMPARE(tracker.state(5000), HealthState::Recovering);
    QVERIFY(tracker.reading(5000).probing);
}

void TestHealthTracker::halfOpenSuccessesStartTheRamp()
{
    HealthTracker tracker;
    openAt(tracker, 0);
    QCOMPARE(tracker.admit(5000), Admission::Probe);
    tracker.recordSuccess(5000, true);
    QCOMPARE(tracker.admit(5000), Admission::Probe);
    tracker.recordSuccess(5000, true);
    QVERIFY(tracker.reading(5000).probing);
    QCOMPARE(tracker.admit(5000), Admission::Probe);
    tracker.recordSuccess(5000, true);
    QVERIFY(!tracker.reading(5000).probing);
    QCOMPARE(tracker.state(5000), HealthState::Recovering);
    // The ramp admits everything, not as probes.
    QCOMPARE(tracker.admit(5000), Admission::Admitted);
    QCOMPARE(tracker.admit(5000), Admission::Admitted);
    const auto events = tracker.takeEvents();
    QCOMPARE(events.back().from, HealthState::Recovering);
    QCOMPARE(events.back().to, HealthState::Recovering);
    QVERIFY2(events.back().reason.startsWith("3 consecutive probe successes"), events.back().reason.constData());

    // A failure after two successes re-opens; the next half-open starts counting afresh.
    HealthTracker other;
    openAt(other, 0);
    for (int i = 0; i < 2; ++i) {
        QCOMPARE(other.admit(5000), Admission::Probe);
        other.recordSuccess(5000, true);
    }
    QCOMPARE(other.admit(5000), Admission::Probe);
    other.recordFailure(5000, FAILURE_REASON, true);
    QCOMPARE(other.state(5000), HealthState::Failed);
    QCOMPARE(other.state(15000), HealthState::Recovering);
    for (int i = 0; i < 2; ++i) {
        QCOMPARE(other.admit(15000), Admission::Probe);
        other.recordSuccess(15000, true);
    }
    QVERIFY(other.reading(15000).probing);
}

void TestHealthTracker::probeFailureReopensWithDoubledInterval()
{
    HealthTracker tracker;
    openAt(tracker, 0);
    QCOMPARE(tracker.admit(5000), Admission::Probe);
    tracker.recordFailure(5000, FAILURE_REASON, true);
    QCOMPARE(tracker.state(5000), HealthState::Failed);
    QCOMPARE(tracker.reading(5000).openUntilMs, qint64 {15000});
    QCOMPARE(tracker.state(14999), HealthState::Failed);
    QCOMPARE(tracker.state(15000), HealthState::Recovering);
    const auto events = tracker.takeEvents();
    QCOMPARE(events.size(), std::size_t {4}); // H->F, F->R, R->F, F->R
    QCOMPARE(events[2].from, HealthState::Recovering);
    QCOMPARE(events[2].to, HealthState::Failed);
    QCOMPARE(events[2].reason, QByteArrayLiteral("probe failed: HTTP 503; open for 10000 ms"));
}

void TestHealthTracker::openIntervalBackoffCapsAndResets()
{
    HealthTracker tracker;
    openAt(tracker, 0);
    qint64 now = 0;
    const qint64 expected[] = {5000, 10000, 20000, 40000, 60000, 60000};
    for (const qint64 interval : expected) {
        QCOMPARE(tracker.reading(now).openUntilMs - now, interval);
        now += interval;
        QCOMPARE(tracker.admit(now), Admission::Probe);
        tracker.recordFailure(now, FAILURE_REASON, true);
    }
    // A full recovery to Healthy resets the backoff.
    now += 60000;
    passProbes(tracker, now);
    now += tracker.settings().slowStartMs;
    QCOMPARE(tracker.state(now), HealthState::Healthy);
    openAt(tracker, now);
    QCOMPARE(tracker.reading(now).openUntilMs - now, qint64 {5000});
}

void TestHealthTracker::slowStartRampIsMonotone()
{
    HealthTracker tracker;
    openAt(tracker, 0);
    const qint64 start = 5000;
    passProbes(tracker, start);
    constexpr qint64 STEP_MS = 250;
    const double maxStep = 0.9 * STEP_MS / 10000.0 + 1e-9; // linear: no jump anywhere
    double previous = tracker.weightMultiplier(start);
    QCOMPARE(previous, 0.1);
    for (qint64 t = start + STEP_MS; t < start + 10000; t += STEP_MS) {
        const double weight = tracker.weightMultiplier(t);
        QVERIFY2(weight > previous && weight - previous <= maxStep,
                 qPrintable(QStringLiteral("t %1: %2 after %3").arg(t).arg(weight).arg(previous)));
        QCOMPARE(tracker.state(t), HealthState::Recovering);
        if (t == start + 5000) {
            QVERIFY(std::abs(weight - 0.55) < 1e-9); // linear by default
        }
        previous = weight;
    }
    QCOMPARE(tracker.state(start + 9999), HealthState::Recovering);
    QCOMPARE(tracker.state(start + 10000), HealthState::Healthy);
    QCOMPARE(tracker.weightMultiplier(start + 10000), 1.0);
    const auto events = tracker.takeEvents();
    QCOMPARE(events.back().from, HealthState::Recovering);
    QCOMPARE(events.back().to, HealthState::Healthy);
    QCOMPARE(events.back().reason, QByteArrayLiteral("slow start complete after 10000 ms"));
}

void TestHealthTracker::beginSlowStartRampsAJoiningBackend()
{
    // A server that joined (service discovery): the same ramp as after half-open, from now.
    HealthTracker tracker;
    QCOMPARE(tracker.weightMultiplier(1000), 1.0);
    tracker.beginSlowStart(2000, "joined by DNS discovery");
    QCOMPARE(tracker.state(2000), HealthState::Recovering);
    QCOMPARE(tracker.weightMultiplier(2000), 0.1);
    QVERIFY(std::abs(tracker.weightMultiplier(7000) - 0.55) < 1e-9);
    QVERIFY(tracker.reading(7000).available);
    QCOMPARE(tracker.admit(7000), Gateway::Routing::Admission::Admitted); // no probing phase
    QCOMPARE(tracker.state(12000), HealthState::Healthy);
    const auto events = tracker.takeEvents();
    QCOMPARE(events.front().to, HealthState::Recovering);
    QVERIFY(events.front().reason.startsWith("joined by DNS discovery: slow start from 0.1 over 10000 ms"));
    // A tracker whose circuit is open is left to its circuit.
    HealthTracker failed;
    openAt(failed, 0);
    failed.beginSlowStart(10, "joined");
    QCOMPARE(failed.state(10), HealthState::Failed);
}

void TestHealthTracker::slowStartAggressionCurve()
{
    HealthSettings settings;
    settings.slowStartAggression = 2.0; // weight = 0.1 + 0.9 * p^(1/2): rises early
    HealthTracker tracker {settings};
    openAt(tracker, 0);
    passProbes(tracker, 5000);
    QVERIFY(std::abs(tracker.weightMultiplier(5000 + 2500) - (0.1 + 0.9 * 0.5)) < 1e-9);
    QVERIFY(std::abs(tracker.weightMultiplier(5000 + 5000) - (0.1 + 0.9 * std::sqrt(0.5))) < 1e-9);
}

void TestHealthTracker::rampReopensOnFailures()
{
    HealthTracker tracker;
    openAt(tracker, 0);
    passProbes(tracker, 5000);
    fail(tracker, 6000, 4);
    QCOMPARE(tracker.state(6000), HealthState::Recovering);
    fail(tracker, 6000);
    QCOMPARE(tracker.state(6000), HealthState::Failed);
    QCOMPARE(tracker.reading(6000).openUntilMs, qint64 {16000}); // second open in a row: doubled
}

void TestHealthTracker::windowExpiry()
{
    HealthTracker tracker;
    succeed(tracker, 0, 8);
    fail(tracker, 0, 2);
    QCOMPARE(tracker.state(0), HealthState::Degraded);
    tracker.takeEvents();
    QCOMPARE(tracker.errorRate(9999), 0.2);
    QCOMPARE(tracker.state(9999), HealthState::Degraded);
    QCOMPARE(tracker.errorRate(10000), 0.0); // the bucket of t = 0 left the window
    QCOMPARE(tracker.state(10000), HealthState::Healthy);
    const auto events = tracker.takeEvents();
    QCOMPARE(events.size(), std::size_t {1});
    QCOMPARE(events[0].reason, QByteArrayLiteral("error rate 0 over 10s < 0.1 (0 of 0 requests failed)"));
}

void TestHealthTracker::windowSpansBuckets()
{
    {
        HealthTracker tracker {rateOnly()};
        succeed(tracker, 0, 5);
        succeed(tracker, 5000, 3);
        fail(tracker, 5000, 2);
        QCOMPARE(tracker.state(5000), HealthState::Degraded); // 2 of 10 over both buckets
    }
    HealthTracker tracker {rateOnly()};
    succeed(tracker, 0, 5);
    succeed(tracker, 10000, 3);
    fail(tracker, 10000, 2);
    QCOMPARE(tracker.state(10000), HealthState::Healthy); // the first 5 expired: 5 < min_requests
    QCOMPARE(tracker.reading(10000).windowRequests, 5);
}

void TestHealthTracker::latencyOutlierWithHysteresis()
{
    HealthTracker tracker;
    tracker.evaluateLatency(899, 300, 0);
    QCOMPARE(tracker.state(0), HealthState::Healthy);
    tracker.evaluateLatency(950, 300, 100);
    QCOMPARE(tracker.state(100), HealthState::Degraded);
    QCOMPARE(tracker.weightMultiplier(100), 0.5);
    tracker.evaluateLatency(800, 300, 200); // 2.7x: between the two factors, stays
    QCOMPARE(tracker.state(200), HealthState::Degraded);
    tracker.evaluateLatency(600, 300, 300);
    QCOMPARE(tracker.state(300), HealthState::Healthy);
    const auto events = tracker.takeEvents();
    QCOMPARE(events.size(), std::size_t {2});
    QCOMPARE(events[0].reason, QByteArrayLiteral("latency 950 ms > 3 x peer median 300 ms"));
    QCOMPARE(events[0].atMs, qint64 {100});
    QVERIFY2(events[1].reason.endsWith("latency 600 ms <= 2 x peer median 300 ms"), events[1].reason.constData());
}

void TestHealthTracker::latencyOutlierNeedsPeers()
{
    HealthTracker tracker;
    tracker.evaluateLatency(5000, 0, 0);
    QCOMPARE(tracker.state(0), HealthState::Healthy);
}

void TestHealthTracker::eventsAreDrainedAndBounded()
{
    HealthTracker tracker;
    constexpr int FLAPS = 100;
    for (int i = 0; i < FLAPS; ++i) {
        tracker.evaluateLatency(1000, 100, i);
        tracker.evaluateLatency(100, 100, i);
    }
    const auto events = tracker.takeEvents();
    QCOMPARE(events.size(), HealthTracker::MAX_PENDING_EVENTS);
    QCOMPARE(tracker.droppedEvents(), std::uint64_t {2 * FLAPS - HealthTracker::MAX_PENDING_EVENTS});
    QCOMPARE(events.back().to, HealthState::Healthy);
    QCOMPARE(events.back().atMs, qint64 {FLAPS - 1});
    QVERIFY2(tracker.takeEvents().empty(), describe(tracker.takeEvents()).constData());
}

void TestHealthTracker::timeNeverRunsBackwards()
{
    HealthTracker tracker;
    succeed(tracker, 20000, 8);
    fail(tracker, 5000, 2); // a thread that read the clock earlier: counts as now
    QCOMPARE(tracker.errorRate(20000), 0.2);
    QCOMPARE(tracker.state(20000), HealthState::Degraded);
    const auto events = tracker.takeEvents();
    QCOMPARE(events.size(), std::size_t {1});
    QCOMPARE(events[0].atMs, qint64 {20000});
}

void TestHealthTracker::concurrentRecordingKeepsCounts()
{
    HealthTracker tracker {rateOnly()};
    constexpr int THREADS = 4;
    constexpr int PER_THREAD = 2500;
    std::vector<std::thread> threads;
    for (int t = 0; t < THREADS; ++t) {
        threads.emplace_back([&tracker] {
            for (int i = 0; i < PER_THREAD; ++i) {
                if (tracker.admit(1000) != Admission::Admitted) {
                    return;
                }
                if (i % 10 == 0) {
                    tracker.recordFailure(1000, FAILURE_REASON, false);
                } else {
                    tracker.recordSuccess(1000, false);
                }
                tracker.weightMultiplier(1000);
            }
        });
    }
    for (auto &thread : threads) {
        thread.join();
    }
    const auto reading = tracker.reading(1000);
    QCOMPARE(reading.windowRequests, THREADS * PER_THREAD);
    QCOMPARE(reading.errorRate, 0.1);
    QCOMPARE(reading.state, HealthState::Healthy);
}

QTEST_APPLESS_MAIN(TestHealthTracker)
#include "testhealthtracker.moc"
