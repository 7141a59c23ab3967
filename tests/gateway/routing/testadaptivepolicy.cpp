#include "routing/adaptivepolicy.h"

#include "strategytestsupport.h"

#include <QTest>

#include <algorithm>
#include <cmath>
#include <vector>

using Gateway::Routing::AdaptivePolicy;
using Gateway::Routing::BackendSnapshot;
using Gateway::Routing::PolicyTarget;
using Gateway::Routing::RankInput;
using Gateway::Routing::Ranking;
using Gateway::Routing::RequestSummary;
using Gateway::Routing::Rng;
using Gateway::Routing::TargetFactors;
using Gateway::Routing::XoshiroRng;

using StrategyTest::ScriptedRng;
using StrategyTest::allCandidates;
using StrategyTest::targetsWithWeights;

namespace {

constexpr int ROUNDS = 100000;

// A snapshot with one route (index 0) whose adaptive weights are `adaptive`.
BackendSnapshot snapshotWithRoute(const std::vector<double> &adaptive)
{
    BackendSnapshot snapshot;
    snapshot.backends.resize(adaptive.size());
    snapshot.routes.resize(1);
    for (const double weight : adaptive) {
        TargetFactors factors;
        factors.weight = weight;
        snapshot.routes[0].targets.push_back(factors);
    }
    return snapshot;
}

// First-choice shares over ROUNDS rankings.
std::vector<double> firstChoiceShares(const AdaptivePolicy &policy, const std::vector<PolicyTarget> &targets,
                                      const std::vector<int> &candidates, const BackendSnapshot &snapshot,
                                      int routeIndex)
{
    XoshiroRng rng {2024};
    const RequestSummary request;
    const RankInput input {targets, candidates, snapshot, request, routeIndex, 1};
    Ranking out;
    std::vector<double> shares(targets.size(), 0.0);
    for (int i = 0; i < ROUNDS; ++i) {
        policy.rank(input, rng, out);
        shares[static_cast<std::size_t>(out.order.front())] += 1.0 / ROUNDS;
    }
    return shares;
}

void verifyShares(const std::vector<double> &shares, const std::vector<double> &expected, double tolerance)
{
    QCOMPARE(shares.size(), expected.size());
    for (std::size_t i = 0; i < shares.size(); ++i) {
        QVERIFY2(std::abs(shares[i] - expected[i]) <= tolerance,
                 qPrintable(QStringLiteral("target %1 share %2 expected %3").arg(i).arg(shares[i]).arg(expected[i])));
    }
}

AdaptivePolicy withExploration(double exploration)
{
    AdaptivePolicy::Parameters parameters;
    parameters.exploration = exploration;
    return AdaptivePolicy {parameters};
}

} // namespace

class TestAdaptivePolicy final : public QObject {
    Q_OBJECT

private slots:
    void defaultsAndClamping();
    void exactOrderForGivenDraws();
    void singleCandidateNeedsNoDraw();
    void drawsWithAdaptiveWeightsTimesHealth();
    void fallsBackToEffectiveWeight();
    void explorationShareWithinTolerance();
    void defaultExplorationProbesPenalisedTargets();
    void fallbacksFollowWeightAmongTheRest();
    void onlyCandidatesEachOnce();
    void scoresAreTheWeightsUsed();
};

void TestAdaptivePolicy::defaultsAndClamping()
{
    const AdaptivePolicy policy;
    QCOMPARE(policy.name(), std::string_view {"adaptive"});
    QCOMPARE(policy.parameters().exploration, 0.05);
    QCOMPARE(withExploration(-1.0).parameters().exploration, 0.0);
    QCOMPARE(withExploration(3.0).parameters().exploration, 1.0);
    QCOMPARE(withExploration(std::nan("")).parameters().exploration, AdaptivePolicy::DEFAULT_EXPLORATION);
}

void TestAdaptivePolicy::exactOrderForGivenDraws()
{
    const auto targets = targetsWithWeights({1, 1, 1});
    const BackendSnapshot snapshot = snapshotWithRoute({1, 2, 7});
    const auto candidates = allCandidates(3);
    const RequestSummary request;
    const RankInput input {targets, candidates, snapshot, request, 0, 3};
    const AdaptivePolicy policy;
    Ranking out;

    // No exploration (0.5 >= 0.05); 0.05 * 10 = 0.5 falls in target 0's [0, 1); then among
    // {2, 7}: 0.9 * 9 = 8.1 passes target 1's 2 and lands in target 2; the last needs no draw.
    ScriptedRng exploit {{0.5, 0.05, 0.9}};
    policy.rank(input, exploit, out);
    QCOMPARE(out.order, (std::vector<int> {0, 2, 1}));
    QCOMPARE(exploit.draws(), std::size_t {3});

    // 0.5 * 10 = 5 lands in target 2's [3, 10); then among {1, 2}, 0 lands in target 0.
    ScriptedRng second {{0.5, 0.5, 0.0}};
    policy.rank(input, second, out);
    QCOMPARE(out.order, (std::vector<int> {2, 0, 1}));

    // Exploring (0.01 < 0.05): uniform index floor(0.4 * 3) = 1, then by weight among {1, 7}:
    // 0.1 * 8 = 0.8 lands in target 0.
    ScriptedRng explore {{0.01, 0.4, 0.1}};
    policy.rank(input, explore, out);
    QCOMPARE(out.order, (std::vector<int> {1, 0, 2}));
    QCOMPARE(explore.draws(), std::size_t {3});

    // Without exploration no draw is spent on it.
    ScriptedRng noExplore {{0.95}};
    const RankInput firstOnly {targets, candidates, snapshot, request, 0, 1};
    withExploration(0.0).rank(firstOnly, noExplore, out);
    QCOMPARE(out.order, std::vector<int> {2});
    QCOMPARE(noExplore.draws(), std::size_t {1});
}

void TestAdaptivePolicy::singleCandidateNeedsNoDraw()
{
    const auto targets = targetsWithWeights({1, 1});
    const BackendSnapshot snapshot = snapshotWithRoute({1, 1});
    const std::vector<int> candidates {1};
    const RequestSummary request;
    ScriptedRng rng {{}};
    Ranking out;
    AdaptivePolicy {}.rank(RankInput {targets, candidates, snapshot, request, 0, 3}, rng, out);
    QCOMPARE(out.order, std::vector<int> {1});
    QCOMPARE(rng.draws(), std::size_t {0});
}

void TestAdaptivePolicy::drawsWithAdaptiveWeightsTimesHealth()
{
    // Configured weights are ignored in favour of the computed ones, times the health ramp.
    const auto targets = targetsWithWeights({5, 5, 5});
    BackendSnapshot snapshot = snapshotWithRoute({1, 3, 6});
    snapshot.backends[2].healthWeight = 0.5;
    const auto shares = firstChoiceShares(withExploration(0.0), targets, allCandidates(3), snapshot, 0);
    verifyShares(shares, {1.0 / 7, 3.0 / 7, 3.0 / 7}, 0.01);
}

void TestAdaptivePolicy::fallsBackToEffectiveWeight()
{
    const auto targets = targetsWithWeights({2, 1, 1});
    BackendSnapshot snapshot = snapshotWithRoute({100, 1, 1});
    snapshot.backends[0].healthWeight = 0.5; // effective weights {1, 1, 1} ...
    const AdaptivePolicy policy = withExploration(0.0);

    // ... when the route has no entry,
    verifyShares(firstChoiceShares(policy, targets, allCandidates(3), snapshot, -1), {1.0 / 3, 1.0 / 3, 1.0 / 3}, 0.01);
    verifyShares(firstChoiceShares(policy, targets, allCandidates(3), snapshot, 5), {1.0 / 3, 1.0 / 3, 1.0 / 3}, 0.01);
    // ... or its factors were not computed yet,
    snapshot.routes[0].targets.clear();
    verifyShares(firstChoiceShares(policy, targets, allCandidates(3), snapshot, 0), {1.0 / 3, 1.0 / 3, 1.0 / 3}, 0.01);
    // ... and per target when the vector is short (a target added since the last run).
    snapshot.routes[0].targets.resize(2);
    snapshot.routes[0].targets[0].weight = 4.0; // x 0.5 health = 2
    snapshot.routes[0].targets[1].weight = 1.0;
    verifyShares(firstChoiceShares(policy, targets, allCandidates(3), snapshot, 0), {0.5, 0.25, 0.25}, 0.01);
}

void TestAdaptivePolicy::explorationShareWithinTolerance()
{
    // Target 0 holds virtually all the weight, so every pick of 1..3 is exploration:
    // each gets exploration / 4.
    const auto targets = targetsWithWeights({1, 1, 1, 1});
    const BackendSnapshot snapshot = snapshotWithRoute({1, 1e-9, 1e-9, 1e-9});
    const auto shares = firstChoiceShares(withExploration(0.2), targets, allCandidates(4), snapshot, 0);
    // Standard deviation at p = 0.05 over 100k rounds is 0.0007.
    verifyShares(shares, {0.85, 0.05, 0.05, 0.05}, 0.004);
}

void TestAdaptivePolicy::defaultExplorationProbesPenalisedTargets()
{
    // A target floored at 1% of its weight next to a healthy one still gets probes:
    // 5% / 2 from exploration plus its weight share of the rest.
    const auto targets = targetsWithWeights({1, 1});
    const BackendSnapshot snapshot = snapshotWithRoute({1, 0.01});
    const auto shares = firstChoiceShares(AdaptivePolicy {}, targets, allCandidates(2), snapshot, 0);
    const double expected = 0.05 / 2 + 0.95 * (0.01 / 1.01);
    verifyShares(shares, {1.0 - expected, expected}, 0.003);
}

void TestAdaptivePolicy::fallbacksFollowWeightAmongTheRest()
{
    const auto targets = targetsWithWeights({1, 1, 1});
    const BackendSnapshot snapshot = snapshotWithRoute({7, 1, 2});
    const auto candidates = allCandidates(3);
    const RequestSummary request;
    const RankInput input {targets, candidates, snapshot, request, 0, 2};
    const AdaptivePolicy policy = withExploration(0.0);
    XoshiroRng rng {8};
    Ranking out;
    int firstIsZero = 0;
    int secondIsTwo = 0;
    for (int i = 0; i < ROUNDS; ++i) {
        policy.rank(input, rng, out);
        QCOMPARE(out.order.size(), std::size_t {2});
        if (out.order[0] == 0) {
            ++firstIsZero;
            secondIsTwo += out.order[1] == 2 ? 1 : 0;
        }
    }
    QVERIFY(std::abs(static_cast<double>(firstIsZero) / ROUNDS - 0.7) < 0.01);
    // Given target 0 went first, 1 and 2 keep their 1:2 ratio.
    const double share = static_cast<double>(secondIsTwo) / firstIsZero;
    QVERIFY2(std::abs(share - 2.0 / 3.0) < 0.015, qPrintable(QStringLiteral("second share %1").arg(share)));
}

void TestAdaptivePolicy::onlyCandidatesEachOnce()
{
    const auto targets = targetsWithWeights({1, 1, 1, 1, 1, 1});
    const BackendSnapshot snapshot = snapshotWithRoute({5, 1, 0.001, 3, 1e-30, 2});
    const std::vector<int> candidates {1, 2, 4, 5};
    const RequestSummary request;
    const AdaptivePolicy policy = withExploration(0.3);
    XoshiroRng rng {17};
    Ranking out;
    for (const int maxChoices : {1, 2, 4, 9}) {
        const RankInput input {targets, candidates, snapshot, request, 0, maxChoices};
        for (int i = 0; i < 2000; ++i) {
            policy.rank(input, rng, out);
            QCOMPARE(out.order.size(), std::min<std::size_t>(candidates.size(), static_cast<std::size_t>(maxChoices)));
            auto sorted = out.order;
            std::sort(sorted.begin(), sorted.end());
            QVERIFY(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
            for (const int index : out.order) {
                QVERIFY(std::binary_search(candidates.begin(), candidates.end(), index));
            }
        }
    }
}

void TestAdaptivePolicy::scoresAreTheWeightsUsed()
{
    const auto targets = targetsWithWeights({1, 1, 1});
    BackendSnapshot snapshot = snapshotWithRoute({0.5, 2, 4});
    snapshot.backends[1].healthWeight = 0.25;
    const std::vector<int> candidates {0, 1};
    const RequestSummary request;
    XoshiroRng rng {1};
    Ranking out;
    out.explain = true;
    AdaptivePolicy {}.rank(RankInput {targets, candidates, snapshot, request, 0, 1}, rng, out);
    QCOMPARE(out.scores.size(), std::size_t {3});
    QCOMPARE(out.scores[0], 0.5);
    QCOMPARE(out.scores[1], 0.5); // 2 x 0.25
    QVERIFY(std::isnan(out.scores[2])); // filtered out: not scored
}

QTEST_APPLESS_MAIN(TestAdaptivePolicy)
#include "testadaptivepolicy.moc"
