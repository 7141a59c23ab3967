#include "routing/adaptiveweights.h"

#include <QTest>

#include <cmath>
#include <vector>

using Gateway::Routing::AdaptiveWeights;
using Gateway::Routing::HealthState;
using Gateway::Routing::TargetFactors;

namespace {

using Sample = AdaptiveWeights::TargetSample;

Sample traffic(std::int64_t attempts, std::int64_t failures, std::int64_t inFlightTokens = 0)
{
    Sample sample;
    sample.attempts = attempts;
    sample.failures = failures;
    sample.inFlightTokens = inFlightTokens;
    return sample;
}

Sample latency(double ttftMs, double perTokenMs)
{
    Sample sample;
    sample.ttftMs = ttftMs;
    sample.latencyPerTokenMs = perTokenMs;
    return sample;
}

// Runs one interval and carries the result into the samples' `previous`, as the caller does.
std::vector<TargetFactors> step(const AdaptiveWeights &weights, std::vector<Sample> &samples)
{
    const auto factors = weights.compute(samples);
    for (std::size_t i = 0; i < samples.size(); ++i) {
        samples[i].previous = factors[i];
    }
    return factors;
}

double shareOf(const std::vector<TargetFactors> &factors, std::size_t index)
{
    double total = 0.0;
    for (const auto &f : factors) {
        total += f.weight;
    }
    return factors[index].weight / total;
}

QString describe(const TargetFactors &f)
{
    return QStringLiteral("error %1 latency %2 util %3 momentum %4 weight %5")
        .arg(f.errorPenalty)
        .arg(f.latencyScore)
        .arg(f.utilisation)
        .arg(f.momentum)
        .arg(f.weight);
}

} // namespace

class TestAdaptiveWeights final : public QObject {
    Q_OBJECT

private slots:
    void noDataKeepsConfiguredWeights();
    void parametersAreClamped();
    void failingTargetLosesItsShare();
    void oneBadIntervalDoesNotZeroThePenalty();
    void momentumDropsAtOnceAndRampsBackGradually();
    void openCircuitHoldsMomentumDown();
    void latencyIsTokenNormalised();
    void ttftMattersLessForLongerReferenceAnswers();
    void utilisationOverFairShareLowersWeight();
    void utilisationIgnoresNearlyIdleRoutes();
    void utilisationDoesNotDoubleCountLatencyOrHealth();
    void floorKeepsTargetsProbed();
};

void TestAdaptiveWeights::noDataKeepsConfiguredWeights()
{
    const AdaptiveWeights weights;
    std::vector<Sample> samples(3);
    samples[0].configuredWeight = 1.0;
    samples[1].configuredWeight = 2.5;
    samples[2].configuredWeight = 7.0;
    const auto factors = weights.compute(samples);
    QCOMPARE(factors.size(), std::size_t {3});
    for (std::size_t i = 0; i < 3; ++i) {
        QCOMPARE(factors[i].errorPenalty, 1.0);
        QCOMPARE(factors[i].latencyScore, 1.0);
        QCOMPARE(factors[i].utilisation, 1.0);
        QCOMPARE(factors[i].momentum, 1.0);
        QCOMPARE(factors[i].weight, samples[i].configuredWeight);
    }
    QVERIFY(weights.compute(std::vector<Sample> {}).empty());
}

void TestAdaptiveWeights::parametersAreClamped()
{
    AdaptiveWeights::Parameters wild;
    wild.errorSmoothing = 5.0;
    wild.utilisationSmoothing = -1.0;
    wild.recoveryIntervals = 0;
    wild.minWeightShare = 2.0;
    wild.referenceOutputTokens = -3;
    wild.errorSensitivity = std::nan("");
    const AdaptiveWeights weights {wild};
    QCOMPARE(weights.parameters().errorSmoothing, 1.0);
    QVERIFY(weights.parameters().utilisationSmoothing > 0.0);
    QCOMPARE(weights.parameters().recoveryIntervals, 1);
    QCOMPARE(weights.parameters().minWeightShare, 1.0);
    QCOMPARE(weights.parameters().referenceOutputTokens, 1);
    QCOMPARE(weights.parameters().errorSensitivity, AdaptiveWeights::Parameters {}.errorSensitivity);

    const AdaptiveWeights defaults;
    QCOMPARE(defaults.parameters().intervalMs, 2000);
    QCOMPARE(defaults.parameters().recoveryIntervals, 5);
    QCOMPARE(defaults.parameters().minWeightShare, 0.01);
    QCOMPARE(defaults.parameters().referenceOutputTokens, 256);
}

void TestAdaptiveWeights::failingTargetLosesItsShare()
{
    const AdaptiveWeights weights;
    // Target 0 fails half its attempts; its peers are clean and carry the traffic it lost.
    std::vector<Sample> samples {traffic(100, 50, 2000), traffic(200, 0, 40000), traffic(200, 0, 40000)};
    double previousShare = 1.0;
    for (int interval = 1; interval <= 3; ++interval) {
        const auto factors = step(weights, samples);
        const double share = shareOf(factors, 0);
        QVERIFY2(share < previousShare, qPrintable(describe(factors[0])));
        previousShare = share;
        // The healthy peers keep (nearly) full weight: carrying the lost traffic is their
        // fair share now, not an overload.
        QVERIFY2(factors[1].weight > 0.95, qPrintable(describe(factors[1])));
    }
    // Three peers would each get 1/3 without errors; a few intervals later under 5% total.
    QVERIFY2(previousShare < 0.05, qPrintable(QStringLiteral("share %1").arg(previousShare)));
}

void TestAdaptiveWeights::oneBadIntervalDoesNotZeroThePenalty()
{
    const AdaptiveWeights weights;
    std::vector<Sample> samples {traffic(10, 10), traffic(10, 0)};
    const auto bad = step(weights, samples);
    // Interval rate 10 / (10 + 4 prior) = 0.714, smoothed halfway from 0: 0.357.
    QCOMPARE(bad[0].errorPenalty, 1.0 / (1.0 + 10.0 * 0.5 * (10.0 / 14.0)));
    QVERIFY(bad[0].errorPenalty > 0.2);

    // Clean intervals forget it geometrically, not all at once.
    samples[0] = traffic(10, 0);
    samples[0].previous = bad[0];
    const auto first = step(weights, samples);
    QVERIFY(first[0].errorPenalty > bad[0].errorPenalty);
    QVERIFY(first[0].errorPenalty < 0.5);
    for (int i = 0; i < 20; ++i) {
        step(weights, samples);
    }
    QVERIFY(samples[0].previous.errorPenalty > 0.999);

    // A lone failure on a quiet route hurts less than a steady 50%.
    std::vector<Sample> lone {traffic(1, 1)};
    std::vector<Sample> steady {traffic(100, 50)};
    QVERIFY(weights.compute(lone)[0].momentum > weights.compute(steady)[0].momentum);
}

void TestAdaptiveWeights::momentumDropsAtOnceAndRampsBackGradually()
{
    const AdaptiveWeights weights;
    std::vector<Sample> samples {traffic(100, 50), traffic(100, 0)};
    const auto dropped = step(weights, samples);
    // Drops in the same interval, to 1 / (1 + 10 * 50 / 104).
    QCOMPARE(dropped[0].momentum, 1.0 / (1.0 + 10.0 * 50.0 / 104.0));
    QCOMPARE(dropped[1].momentum, 1.0);
    step(weights, samples);
    step(weights, samples);

    // Errors stop: momentum climbs a fixed step per interval.
    samples[0].failures = 0;
    std::vector<double> ramp {samples[0].previous.momentum};
    std::vector<double> shares;
    for (int i = 0; i < 6; ++i) {
        const auto factors = step(weights, samples);
        ramp.push_back(factors[0].momentum);
        shares.push_back(shareOf(factors, 0));
    }
    QVERIFY2(ramp[1] < 0.5, qPrintable(QStringLiteral("first step %1").arg(ramp[1])));
    QVERIFY(ramp[2] < 1.0);
    QVERIFY(ramp[3] < 1.0);
    for (std::size_t i = 1; i < ramp.size(); ++i) {
        QVERIFY(ramp[i] >= ramp[i - 1]);
    }
    for (std::size_t i = 1; i < shares.size(); ++i) {
        QVERIFY(shares[i] >= shares[i - 1]);
    }
    const double stepSize = ramp[2] - ramp[1];
    QCOMPARE(ramp[3] - ramp[2], stepSize);
    // Back to full within recovery_intervals clean intervals.
    QCOMPARE(ramp[5], 1.0);
    QCOMPARE(ramp[6], 1.0);
    QVERIFY(shares.front() < 0.25); // no jump back to an even split

    // A new error knocks it straight back down.
    samples[0].failures = 50;
    QVERIFY(step(weights, samples)[0].momentum < 0.2);
}

void TestAdaptiveWeights::openCircuitHoldsMomentumDown()
{
    const AdaptiveWeights weights;
    std::vector<Sample> samples {traffic(100, 20), traffic(100, 0)};
    const auto erring = step(weights, samples);

    samples[0] = traffic(0, 0);
    samples[0].health = HealthState::Failed;
    samples[0].previous = erring[0];
    for (int i = 0; i < 10; ++i) {
        const auto factors = step(weights, samples);
        // Momentum at its lowest, the error penalty neither forgiven nor worsened.
        QCOMPARE(factors[0].momentum, 1.0 / 11.0);
        QCOMPARE(factors[0].errorPenalty, erring[0].errorPenalty);
    }

    // Half-open: clean probes ramp it back like any recovery.
    const TargetFactors whileOpen = samples[0].previous;
    samples[0] = traffic(5, 0);
    samples[0].health = HealthState::Recovering;
    samples[0].healthWeight = 0.1;
    samples[0].previous = whileOpen;
    double previous = whileOpen.momentum;
    for (int i = 0; i < 5; ++i) {
        const double momentum = step(weights, samples)[0].momentum;
        QVERIFY(momentum > previous);
        previous = momentum;
    }
    QCOMPARE(previous, 1.0);
}

void TestAdaptiveWeights::latencyIsTokenNormalised()
{
    const AdaptiveWeights weights;
    // 0 and 1 generate at the same speed; 1 happens to serve long answers, so its mean
    // request latency is far higher, but per token (which is what it reports) it is equal.
    std::vector<Sample> samples {latency(300, 20), latency(300, 20), latency(300, 40), latency(3000, 20),
                                 latency(0, 0), latency(0, 20)};
    const auto factors = weights.compute(samples);
    const double best = 300 + 20 * 256;
    QCOMPARE(factors[0].latencyScore, 1.0);
    QCOMPARE(factors[1].latencyScore, 1.0);
    QCOMPARE(factors[2].latencyScore, best / (300 + 40 * 256)); // twice as slow per token
    QCOMPARE(factors[3].latencyScore, best / (3000 + 20 * 256)); // slow first token
    QCOMPARE(factors[4].latencyScore, 1.0);                      // unknown
    QCOMPARE(factors[5].latencyScore, 1.0);                      // TTFT unknown: assumed the best peer's
    QCOMPARE(factors[2].weight, factors[2].latencyScore);
    QVERIFY(factors[2].weight < factors[0].weight);
}

void TestAdaptiveWeights::ttftMattersLessForLongerReferenceAnswers()
{
    std::vector<Sample> samples {latency(300, 20), latency(3000, 20)};
    AdaptiveWeights::Parameters longAnswers;
    longAnswers.referenceOutputTokens = 4096;
    const double shortScore = AdaptiveWeights {}.compute(samples)[1].latencyScore;
    const double longScore = AdaptiveWeights {longAnswers}.compute(samples)[1].latencyScore;
    QCOMPARE(longScore, (300.0 + 20 * 4096) / (3000.0 + 20 * 4096));
    QVERIFY(longScore > shortScore);
}

void TestAdaptiveWeights::utilisationOverFairShareLowersWeight()
{
    const AdaptiveWeights weights;
    // Equal weights, speed and errors, but target 0 holds three times the in-flight tokens.
    std::vector<Sample> samples {traffic(100, 0, 30000), traffic(100, 0, 10000)};
    const auto first = step(weights, samples);
    // Reading: fair 0.5 over share (30000 + 4096) / (40000 + 8192); smoothed halfway from 1.
    const double reading = 0.5 / ((30000.0 + 4096.0) / 48192.0);
    QCOMPARE(first[0].utilisation, 1.0 + 0.5 * (reading - 1.0));
    QCOMPARE(first[1].utilisation, 1.0);
    QVERIFY(first[0].weight < first[1].weight);
    for (int i = 0; i < 10; ++i) {
        step(weights, samples);
    }
    QVERIFY(std::abs(samples[0].previous.utilisation - reading) < 0.01);

    // Once the load evens out, the factor recovers.
    samples[0].inFlightTokens = 10000;
    for (int i = 0; i < 10; ++i) {
        step(weights, samples);
    }
    QVERIFY(samples[0].previous.utilisation > 0.99);
}

void TestAdaptiveWeights::utilisationIgnoresNearlyIdleRoutes()
{
    const AdaptiveWeights weights;
    // One 500-token request is all of the route's load: not a real imbalance.
    std::vector<Sample> samples {traffic(1, 0, 500), traffic(0, 0, 0)};
    QVERIFY(weights.compute(samples)[0].utilisation > 0.95);
    // The same split at scale is one (reading ~0.5, halfway there after one interval).
    std::vector<Sample> busy {traffic(1, 0, 500000), traffic(0, 0, 0)};
    QVERIFY(weights.compute(busy)[0].utilisation < 0.8);
}

void TestAdaptiveWeights::utilisationDoesNotDoubleCountLatencyOrHealth()
{
    const AdaptiveWeights weights;
    // Target 1 is twice as slow per request, so it gets half the request rate, yet holds
    // each request twice as long: by Little's law equal in-flight tokens are its fair share.
    Sample fast = latency(0, 10);
    Sample slow = latency(0, 20);
    fast.inFlightTokens = 50000;
    slow.inFlightTokens = 50000;
    auto factors = weights.compute(std::vector<Sample> {fast, slow});
    QCOMPARE(factors[0].utilisation, 1.0);
    QCOMPARE(factors[1].utilisation, 1.0);
    QCOMPARE(factors[1].latencyScore, 0.5);

    // A slow-starting target (health ramp 0.25) carries less; its peer carrying the rest
    // is at its fair share, not over it.
    Sample ramping = traffic(10, 0, 10000);
    ramping.health = HealthState::Recovering;
    ramping.healthWeight = 0.25;
    factors = weights.compute(std::vector<Sample> {ramping, traffic(100, 0, 40000)});
    QCOMPARE(factors[0].utilisation, 1.0);
    QCOMPARE(factors[1].utilisation, 1.0);
    // The ramp itself is applied by the policy, not baked into the weight.
    QCOMPARE(factors[0].weight, 1.0);

    // The same split without the ramp is an over-share for the busy one.
    factors = weights.compute(std::vector<Sample> {traffic(10, 0, 10000), traffic(100, 0, 40000)});
    QVERIFY(factors[1].utilisation < 0.9);
}

void TestAdaptiveWeights::floorKeepsTargetsProbed()
{
    const AdaptiveWeights weights;
    // Everything wrong at once: all attempts fail, 10x slower, holding all the tokens.
    Sample bad = latency(3000, 200);
    bad.configuredWeight = 3.0;
    bad.attempts = 100;
    bad.failures = 100;
    bad.inFlightTokens = 100000;
    Sample good = latency(300, 20);
    std::vector<Sample> samples {bad, good};
    for (int i = 0; i < 20; ++i) {
        const auto factors = step(weights, samples);
        QVERIFY2(factors[0].weight >= 0.01 * 3.0, qPrintable(describe(factors[0])));
    }
    const TargetFactors &floored = samples[0].previous;
    QCOMPARE(floored.weight, 0.01 * 3.0);
    QVERIFY(floored.errorPenalty * floored.latencyScore * floored.utilisation * floored.momentum * 3.0 < floored.weight);

    AdaptiveWeights::Parameters higherFloor;
    higherFloor.minWeightShare = 0.2;
    QCOMPARE(AdaptiveWeights {higherFloor}.compute(samples)[0].weight, 0.2 * 3.0);
}

QTEST_APPLESS_MAIN(TestAdaptiveWeights)
#include "testadaptiveweights.moc"
