#include "gpu/enginesignalstracker.h"

#include <QTest>

#include <cmath>

using Gateway::Gpu::EngineKind;
using Gateway::Gpu::EngineSample;
using Gateway::Gpu::EngineSignalsTracker;
using Gateway::Routing::EngineSignals;

namespace {

constexpr qint64 STALE_MS = 1000;

EngineSample counters(double hits, double queries)
{
    EngineSample sample;
    sample.engine = EngineKind::Vllm;
    sample.prefixCacheHits = hits;
    sample.prefixCacheQueries = queries;
    return sample;
}

bool near(double actual, double expected)
{
    return std::abs(actual - expected) <= 1e-12;
}

} // namespace

#define VERIFY_NEAR(actual, expected)                                                                                  \
    QVERIFY2(near((actual), (expected)),                                                                               \
             qPrintable(QStringLiteral("%1 != %2").arg((actual), 0, 'g', 17).arg((expected), 0, 'g', 17)))

class TestEngineSignalsTracker final : public QObject {
    Q_OBJECT

private slots:
    void neverScrapedIsNotFresh();
    void staleBoundFollowsTheInterval();
    void freshWithinTheBoundThenStale();
    void copiesGaugesAndGeometry();
    void unreportedValuesStayUnknown();
    void hitRateFromCounterDeltas();
    void idleIntervalKeepsThePreviousRate();
    void counterResetMakesTheIntervalUnknown();
    void hitsOutrunningQueriesAreClamped();
    void engineGaugeWhenThereAreNoCounters();
    void engineGaugeOnlyUntilTheFirstDelta();
    void countersThatDisappearNeedANewBaseline();
    void restartsAreCountersGoingBackwards();
    void timeRunningBackwardsIsAgeZero();
};

void TestEngineSignalsTracker::neverScrapedIsNotFresh()
{
    const EngineSignalsTracker tracker {STALE_MS};
    const EngineSignals signals_ = tracker.signalsAt(123456);
    QVERIFY(!signals_.fresh);
    QCOMPARE(signals_.ageMs, std::int64_t {-1});
    QCOMPARE(signals_.kvCacheUsage, -1.0);
    QCOMPARE(signals_.prefixCacheHitRate, -1.0);
    QCOMPARE(tracker.engine(), EngineKind::Unknown);
}

void TestEngineSignalsTracker::staleBoundFollowsTheInterval()
{
    QCOMPARE(EngineSignalsTracker::staleBoundFor(250), qint64 {1000});
    QCOMPARE(EngineSignalsTracker::staleBoundFor(100), qint64 {1000});
    QCOMPARE(EngineSignalsTracker::staleBoundFor(500), qint64 {1500});
    QCOMPARE(EngineSignalsTracker::staleBoundFor(2000), qint64 {6000});
    QCOMPARE(EngineSignalsTracker::staleBoundFor(0), qint64 {1000});
}

void TestEngineSignalsTracker::freshWithinTheBoundThenStale()
{
    EngineSignalsTracker tracker {STALE_MS};
    EngineSample sample;
    sample.engine = EngineKind::Sglang;
    sample.runningRequests = 5.0;
    tracker.recordSuccess(sample, 10000);

    EngineSignals now = tracker.signalsAt(10000);
    QVERIFY(now.fresh);
    QCOMPARE(now.ageMs, std::int64_t {0});
    QCOMPARE(now.runningRequests, 5.0);

    const EngineSignals atBound = tracker.signalsAt(10000 + STALE_MS);
    QVERIFY(atBound.fresh);
    QCOMPARE(atBound.ageMs, std::int64_t {STALE_MS});

    // No success since (the scrapes failed, or never came): stale, values kept for display.
    const EngineSignals stale = tracker.signalsAt(10000 + STALE_MS + 1);
    QVERIFY(!stale.fresh);
    QCOMPARE(stale.ageMs, std::int64_t {STALE_MS + 1});
    QCOMPARE(stale.runningRequests, 5.0);

    // A new success makes it fresh again.
    tracker.recordSuccess(sample, 20000);
    now = tracker.signalsAt(20100);
    QVERIFY(now.fresh);
    QCOMPARE(now.ageMs, std::int64_t {100});
    QCOMPARE(tracker.engine(), EngineKind::Sglang);
}

void TestEngineSignalsTracker::copiesGaugesAndGeometry()
{
    EngineSignalsTracker tracker {STALE_MS};
    EngineSample sample;
    sample.engine = EngineKind::Vllm;
    sample.waitingRequests = 3.0;
    sample.runningRequests = 12.0;
    sample.kvCacheUsage = 0.42;
    sample.cacheBlockSize = 16;
    sample.cacheBlocks = 27616;
    tracker.recordSuccess(sample, 0);
    const EngineSignals current = tracker.signalsAt(0);
    QCOMPARE(current.waitingRequests, 3.0);
    QCOMPARE(current.runningRequests, 12.0);
    QCOMPARE(current.kvCacheUsage, 0.42);
    QCOMPARE(current.cacheBlockSize, std::int64_t {16});
    QCOMPARE(current.cacheBlocks, std::int64_t {27616});
}

void TestEngineSignalsTracker::unreportedValuesStayUnknown()
{
    EngineSignalsTracker tracker {STALE_MS};
    EngineSample sample;
    sample.engine = EngineKind::Tgi;
    sample.waitingRequests = 1.0;
    tracker.recordSuccess(sample, 0);
    const EngineSignals current = tracker.signalsAt(0);
    QVERIFY(current.fresh);
    QCOMPARE(current.runningRequests, 0.0);
    QCOMPARE(current.kvCacheUsage, -1.0);
    QCOMPARE(current.prefixCacheHitRate, -1.0);
    QCOMPARE(current.cacheBlockSize, std::int64_t {0});
    QCOMPARE(current.cacheBlocks, std::int64_t {0});
}

void TestEngineSignalsTracker::hitRateFromCounterDeltas()
{
    EngineSignalsTracker tracker {STALE_MS};
    tracker.recordSuccess(counters(100, 1000), 0);
    QCOMPARE(tracker.signalsAt(0).prefixCacheHitRate, -1.0); // no delta yet, no engine gauge

    tracker.recordSuccess(counters(400, 1600), 250);
    VERIFY_NEAR(tracker.signalsAt(250).prefixCacheHitRate, 300.0 / 600.0);

    tracker.recordSuccess(counters(1000, 2600), 500);
    VERIFY_NEAR(tracker.signalsAt(500).prefixCacheHitRate, 600.0 / 1000.0);

    tracker.recordSuccess(counters(1000, 3600), 750);
    VERIFY_NEAR(tracker.signalsAt(750).prefixCacheHitRate, 0.0);
}

void TestEngineSignalsTracker::idleIntervalKeepsThePreviousRate()
{
    EngineSignalsTracker tracker {STALE_MS};
    tracker.recordSuccess(counters(0, 0), 0);
    tracker.recordSuccess(counters(30, 40), 250);
    VERIFY_NEAR(tracker.signalsAt(250).prefixCacheHitRate, 0.75);
    tracker.recordSuccess(counters(30, 40), 500); // no prompt in this interval
    VERIFY_NEAR(tracker.signalsAt(500).prefixCacheHitRate, 0.75);
    tracker.recordSuccess(counters(31, 50), 750);
    VERIFY_NEAR(tracker.signalsAt(750).prefixCacheHitRate, 0.1);
}

void TestEngineSignalsTracker::counterResetMakesTheIntervalUnknown()
{
    EngineSignalsTracker tracker {STALE_MS};
    tracker.recordSuccess(counters(5000, 10000), 0);
    tracker.recordSuccess(counters(5500, 11000), 250);
    VERIFY_NEAR(tracker.signalsAt(250).prefixCacheHitRate, 0.5);

    // The engine restarted: both counters start again from (almost) zero.
    tracker.recordSuccess(counters(50, 100), 500);
    QCOMPARE(tracker.signalsAt(500).prefixCacheHitRate, -1.0);
    QVERIFY(tracker.signalsAt(500).fresh); // a reset is not a failure

    // An idle interval right after: still nothing known.
    tracker.recordSuccess(counters(50, 100), 750);
    QCOMPARE(tracker.signalsAt(750).prefixCacheHitRate, -1.0);

    // The next interval with prompts measures from the new baseline.
    tracker.recordSuccess(counters(150, 300), 1000);
    VERIFY_NEAR(tracker.signalsAt(1000).prefixCacheHitRate, 0.5);

    // Only one counter going back is a reset too.
    tracker.recordSuccess(counters(100, 400), 1250);
    QCOMPARE(tracker.signalsAt(1250).prefixCacheHitRate, -1.0);
}

void TestEngineSignalsTracker::hitsOutrunningQueriesAreClamped()
{
    EngineSignalsTracker tracker {STALE_MS};
    tracker.recordSuccess(counters(0, 0), 0);
    tracker.recordSuccess(counters(120, 100), 250);
    QCOMPARE(tracker.signalsAt(250).prefixCacheHitRate, 1.0);
}

void TestEngineSignalsTracker::engineGaugeWhenThereAreNoCounters()
{
    EngineSignalsTracker tracker {STALE_MS};
    EngineSample sample;
    sample.engine = EngineKind::Vllm;
    sample.prefixCacheHitRate = 0.37;
    tracker.recordSuccess(sample, 0);
    VERIFY_NEAR(tracker.signalsAt(0).prefixCacheHitRate, 0.37);
    sample.prefixCacheHitRate = 0.41;
    tracker.recordSuccess(sample, 250);
    VERIFY_NEAR(tracker.signalsAt(250).prefixCacheHitRate, 0.41);
}

void TestEngineSignalsTracker::engineGaugeOnlyUntilTheFirstDelta()
{
    // SGLang reports both its own gauge and the token counters.
    EngineSignalsTracker tracker {STALE_MS};
    EngineSample sample = counters(100, 1000);
    sample.engine = EngineKind::Sglang;
    sample.prefixCacheHitRate = 0.1;
    tracker.recordSuccess(sample, 0);
    VERIFY_NEAR(tracker.signalsAt(0).prefixCacheHitRate, 0.1);

    sample.prefixCacheHits = 190.0;
    sample.prefixCacheQueries = 1100.0;
    tracker.recordSuccess(sample, 250);
    VERIFY_NEAR(tracker.signalsAt(250).prefixCacheHitRate, 0.9);
}

void TestEngineSignalsTracker::countersThatDisappearNeedANewBaseline()
{
    EngineSignalsTracker tracker {STALE_MS};
    tracker.recordSuccess(counters(0, 0), 0);
    tracker.recordSuccess(counters(10, 20), 250);
    VERIFY_NEAR(tracker.signalsAt(250).prefixCacheHitRate, 0.5);

    EngineSample without;
    without.engine = EngineKind::Vllm;
    tracker.recordSuccess(without, 500);
    QCOMPARE(tracker.signalsAt(500).prefixCacheHitRate, -1.0);

    // Back again: the first scrape is a baseline, not a delta against the old values.
    tracker.recordSuccess(counters(1000, 1000), 750);
    QCOMPARE(tracker.signalsAt(750).prefixCacheHitRate, -1.0);
    tracker.recordSuccess(counters(1001, 1010), 1000);
    VERIFY_NEAR(tracker.signalsAt(1000).prefixCacheHitRate, 0.1);
}

void TestEngineSignalsTracker::restartsAreCountersGoingBackwards()
{
    EngineSignalsTracker tracker {STALE_MS};
    QCOMPARE(tracker.signalsAt(0).restarts, std::int64_t {0});
    // One scrape every 250 ms; the restarts counted after it.
    qint64 now = 0;
    const auto restartsAfter = [&](const EngineSample &scraped) {
        now += 250;
        tracker.recordSuccess(scraped, now);
        return tracker.signalsAt(now).restarts;
    };
    EngineSample sample = counters(100, 1000);
    sample.promptTokens = 5000.0;
    sample.generationTokens = 700.0;
    QCOMPARE(restartsAfter(sample), std::int64_t {0}); // a first scrape is a baseline

    // Counters that grow or stand still are one process.
    sample.promptTokens = 6000.0;
    QCOMPARE(restartsAfter(sample), std::int64_t {0});

    // Any one of them going back is a new process: prompt tokens,
    sample.promptTokens = 10.0;
    QCOMPARE(restartsAfter(sample), std::int64_t {1});
    QCOMPARE(restartsAfter(sample), std::int64_t {1}); // once: measured from the new values
    // generation tokens,
    sample.generationTokens = 0.0;
    QCOMPARE(restartsAfter(sample), std::int64_t {2});
    // prefix-cache hits (TGI and llama.cpp report only the token totals, vLLM all four),
    sample.prefixCacheHits = 99.0;
    QCOMPARE(restartsAfter(sample), std::int64_t {3});
    // or queries.
    sample.prefixCacheQueries = 999.0;
    QCOMPARE(restartsAfter(sample), std::int64_t {4});

    // A counter missing from one scrape has no baseline in the next: not a restart.
    EngineSample without = sample;
    without.promptTokens.reset();
    QCOMPARE(restartsAfter(without), std::int64_t {4});
    sample.promptTokens = 1.0;
    QCOMPARE(restartsAfter(sample), std::int64_t {4});
    // The count survives staleness, for display.
    QCOMPARE(tracker.signalsAt(now + 10 * STALE_MS).restarts, std::int64_t {4});
}

void TestEngineSignalsTracker::timeRunningBackwardsIsAgeZero()
{
    EngineSignalsTracker tracker {STALE_MS};
    tracker.recordSuccess(counters(0, 0), 5000);
    const EngineSignals current = tracker.signalsAt(4000);
    QVERIFY(current.fresh);
    QCOMPARE(current.ageMs, std::int64_t {0});
}

QTEST_APPLESS_MAIN(TestEngineSignalsTracker)
#include "testenginesignalstracker.moc"
