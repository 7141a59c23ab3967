#include "routing/peakewma.h"

#include <QTest>

#include <cmath>

using Gateway::Routing::PeakEwma;

namespace {

constexpr qint64 TAU = 10000;

bool near(double actual, double expected)
{
    return std::abs(actual - expected) <= 1e-9 * std::max(1.0, std::abs(expected));
}

} // namespace

#define VERIFY_NEAR(actual, expected)                                                                               \
    QVERIFY2(near((actual), (expected)), qPrintable(QStringLiteral("%1 != %2").arg(actual, 0, 'g', 17).arg(expected, 0, 'g', 17)))

class TestPeakEwma final : public QObject {
    Q_OBJECT

private slots:
    void unobservedIsZero();
    void defaultDecay();
    void firstSampleIsTakenAsIs();
    void peakReplacesAtOnce();
    void lowerSampleDecaysTowardIt();
    void decayWeightFollowsElapsedTime();
    void valueFadesWhileIdle();
    void peakIsJudgedAgainstTheCurrentValue();
    void convergesToSteadySamples();
    void timeRunningBackwardsDoesNotDecay();
    void ignoresBrokenSamples();
    void clampsTheTimeConstant();
};

void TestPeakEwma::unobservedIsZero()
{
    const PeakEwma ewma;
    QCOMPARE(ewma.value(0), 0.0);
    QCOMPARE(ewma.value(123456789), 0.0);
}

void TestPeakEwma::defaultDecay()
{
    QCOMPARE(PeakEwma {}.decayMs(), qint64 {10000});
    QCOMPARE(PeakEwma::DEFAULT_DECAY_MS, qint64 {10000});
    QCOMPARE(PeakEwma {2500}.decayMs(), qint64 {2500});
}

void TestPeakEwma::firstSampleIsTakenAsIs()
{
    PeakEwma ewma {TAU};
    ewma.observe(120.0, 5000);
    QCOMPARE(ewma.value(5000), 120.0);
}

void TestPeakEwma::peakReplacesAtOnce()
{
    PeakEwma ewma {TAU};
    ewma.observe(100.0, 0);
    ewma.observe(100.0, 1000);
    ewma.observe(900.0, 1001); // one ms later: no averaging, the spike is the value
    QCOMPARE(ewma.value(1001), 900.0);
}

void TestPeakEwma::lowerSampleDecaysTowardIt()
{
    // 500 at t = 0, then 100 after one time constant: w = 1/e,
    // v = 500 w + 100 (1 - w) = 100 + 400 / e.
    PeakEwma ewma {TAU};
    ewma.observe(500.0, 0);
    ewma.observe(100.0, TAU);
    VERIFY_NEAR(ewma.value(TAU), 100.0 + 400.0 / std::exp(1.0));
    QVERIFY(ewma.value(TAU) < 500.0);
    QVERIFY(ewma.value(TAU) > 100.0);
}

void TestPeakEwma::decayWeightFollowsElapsedTime()
{
    // The same lower sample moves the average further the longer since the last one
    // (while 1000 w stays above 200, i.e. dt < tau ln 5 = 16.1 s; beyond, 200 is a peak).
    for (const qint64 dt : {qint64 {1}, qint64 {100}, qint64 {2500}, qint64 {10000}, qint64 {16000}}) {
        PeakEwma ewma {TAU};
        ewma.observe(1000.0, 0);
        ewma.observe(200.0, dt);
        const double w = std::exp(-static_cast<double>(dt) / TAU);
        VERIFY_NEAR(ewma.value(dt), 1000.0 * w + 200.0 * (1.0 - w));
    }
    {
        PeakEwma ewma {TAU};
        ewma.observe(1000.0, 0);
        ewma.observe(200.0, 40000);
        QCOMPARE(ewma.value(40000), 200.0);
    }
    // A sample at the same instant does not move it.
    PeakEwma ewma {TAU};
    ewma.observe(1000.0, 0);
    ewma.observe(200.0, 0);
    QCOMPARE(ewma.value(0), 1000.0);
}

void TestPeakEwma::valueFadesWhileIdle()
{
    PeakEwma ewma {TAU};
    ewma.observe(800.0, 1000);
    VERIFY_NEAR(ewma.value(1000 + TAU), 800.0 / std::exp(1.0));
    VERIFY_NEAR(ewma.value(1000 + 3 * TAU), 800.0 / std::exp(3.0));
    // Reading does not change the state.
    QCOMPARE(ewma.value(1000), 800.0);
}

void TestPeakEwma::peakIsJudgedAgainstTheCurrentValue()
{
    // 100 at t = 0 has faded to 100 / e = 36.8 by t = tau: a sample of 50 is a new peak
    // there, although it is below the stored 100.
    PeakEwma ewma {TAU};
    ewma.observe(100.0, 0);
    ewma.observe(50.0, TAU);
    QCOMPARE(ewma.value(TAU), 50.0);
}

void TestPeakEwma::convergesToSteadySamples()
{
    PeakEwma ewma {TAU};
    ewma.observe(1000.0, 0);
    for (qint64 t = 1000; t <= 200000; t += 1000) {
        ewma.observe(40.0, t);
    }
    VERIFY_NEAR(ewma.value(200000), 40.0);
}

void TestPeakEwma::timeRunningBackwardsDoesNotDecay()
{
    PeakEwma ewma {TAU};
    ewma.observe(300.0, 5000);
    QCOMPARE(ewma.value(4000), 300.0);
    ewma.observe(100.0, 4000); // out of order: weight 1, keeps the newer stamp
    QCOMPARE(ewma.value(5000), 300.0);
    VERIFY_NEAR(ewma.value(5000 + TAU), 300.0 / std::exp(1.0));
}

void TestPeakEwma::ignoresBrokenSamples()
{
    PeakEwma ewma {TAU};
    ewma.observe(200.0, 0);
    ewma.observe(std::nan(""), 10);
    ewma.observe(INFINITY, 20);
    QCOMPARE(ewma.value(0), 200.0);
    // A negative sample counts as 0.
    ewma.observe(-50.0, TAU);
    VERIFY_NEAR(ewma.value(TAU), 200.0 / std::exp(1.0));
}

void TestPeakEwma::clampsTheTimeConstant()
{
    PeakEwma ewma {0};
    QCOMPARE(ewma.decayMs(), PeakEwma::MIN_DECAY_MS);
    ewma.observe(100.0, 0);
    ewma.observe(10.0, 1000);
    VERIFY_NEAR(ewma.value(1000), 10.0);
}

QTEST_APPLESS_MAIN(TestPeakEwma)
#include "testpeakewma.moc"
