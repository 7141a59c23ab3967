#include "routing/randompolicy.h"

#include "strategytestsupport.h"

#include <QTest>

using namespace StrategyTest;

namespace {

// Ranks all targets of `weights` (or the given candidates) with scripted draws.
std::vector<int> rankWith(const std::vector<double> &weights, const std::vector<double> &draws,
                          const BackendSnapshot &snapshot, int maxChoices = 64, std::vector<int> candidates = {},
                          std::size_t *drawsUsed = nullptr)
{
    RandomPolicy policy;
    ScriptedRng rng {draws};
    if (candidates.empty()) {
        candidates = allCandidates(weights.size());
    }
    const Ranking out = rankOnce(policy, targetsWithWeights(weights), candidates, snapshot, RequestSummary {}, rng,
                                 maxChoices);
    if (drawsUsed) {
        *drawsUsed = rng.draws();
    }
    return out.order;
}

} // namespace

class TestRandomPolicy final : public QObject {
    Q_OBJECT

private slots:
    void scriptedRngInvertsUniform();
    void exactOrderForGivenDraws();
    void weightsShiftTheOrder();
    void healthRampScalesTheWeight();
    void singleCandidateNeedsNoDraw();
    void drawsPerChoiceNotPerCandidate();
    void redrawsATakenTargetThenScansExactly();
    void onlyCandidatesAreRanked();
    void targetsMapToBackendsById();
    void backendIdsOutsideTheSnapshotHaveFullWeight();
    void zeroWeightRanksAfterPositiveWeights();
    void scoresAreFirstChoiceProbabilities();
    void firstChoiceShareFollowsWeightsTwoTargets();
    void firstChoiceShareFollowsWeightsThreeTargets();
    void firstChoiceShareFollowsWeights64Targets();
    void furtherChoicesFollowWeightsAmongTheRest();
    void keepsTheRankingContract();
};

void TestRandomPolicy::scriptedRngInvertsUniform()
{
    ScriptedRng rng {{0.0, 0.25, 0.5, 0.999}};
    QCOMPARE(rng.uniform(), 0.0);
    QCOMPARE(rng.uniform(), 0.25);
    QCOMPARE(rng.uniform(), 0.5);
    QCOMPARE(rng.uniform(), 0.999);
}

void TestRandomPolicy::exactOrderForGivenDraws()
{
    // Each draw is a point on the candidates' weights laid end to end, in index order; a
    // further choice that lands on a taken target is drawn again; the last one left needs
    // no draw.
    std::size_t draws = 0;
    // 0.2 * 3 = 0.6 -> 0; 0.9 * 3 = 2.7 -> 2; then 1.
    QCOMPARE(rankWith({1, 1, 1}, {0.2, 0.9}, snapshotOf(3), 64, {}, &draws), (std::vector<int> {0, 2, 1}));
    QCOMPARE(draws, std::size_t {2});
    // 3.6 -> 3; 0.4 -> 0; 2.0 -> 2 (the boundary belongs to the next target); then 1.
    QCOMPARE(rankWith({1, 1, 1, 1}, {0.9, 0.1, 0.5}, snapshotOf(4)), (std::vector<int> {3, 0, 2, 1}));
    // A zero draw takes the first candidate.
    QCOMPARE(rankWith({1, 1}, {0.0}, snapshotOf(2)), (std::vector<int> {0, 1}));
}

void TestRandomPolicy::weightsShiftTheOrder()
{
    // Weights 3 and 1: target 0 owns [0, 0.75) of the unit interval.
    QCOMPARE(rankWith({3, 1}, {0.74}, snapshotOf(2)), (std::vector<int> {0, 1}));
    QCOMPARE(rankWith({3, 1}, {0.76}, snapshotOf(2)), (std::vector<int> {1, 0}));
    // 10, 1, 2 (total 13): 0.8 * 13 = 10.4 lands on target 1; then 6.5 -> 0.
    QCOMPARE(rankWith({10, 1, 2}, {0.8, 0.5}, snapshotOf(3)), (std::vector<int> {1, 0, 2}));
}

void TestRandomPolicy::healthRampScalesTheWeight()
{
    // Effective weights 0.25 and 1: target 0 owns [0, 0.2).
    BackendSnapshot snapshot = snapshotOf(2);
    snapshot.backends[0].healthWeight = 0.25;
    QCOMPARE(rankWith({1, 1}, {0.19}, snapshot), (std::vector<int> {0, 1}));
    QCOMPARE(rankWith({1, 1}, {0.21}, snapshot), (std::vector<int> {1, 0}));

    RandomPolicy policy;
    const auto shares = firstChoiceShares(policy, targetsWithWeights({1, 1}), allCandidates(2), snapshot,
                                          RequestSummary {}, 100000, 5);
    STRATEGY_VERIFY_SHARE(shares[0], 0.2, 0.015);
}

void TestRandomPolicy::singleCandidateNeedsNoDraw()
{
    std::size_t draws = 1;
    QCOMPARE(rankWith({5}, {}, snapshotOf(1), 3, {}, &draws), std::vector<int> {0});
    QCOMPARE(draws, std::size_t {0});
    // One candidate among several targets: still no draw.
    QCOMPARE(rankWith({5, 1, 1}, {}, snapshotOf(3), 3, {2}, &draws), std::vector<int> {2});
    QCOMPARE(draws, std::size_t {0});
}

void TestRandomPolicy::drawsPerChoiceNotPerCandidate()
{
    // The hot path does work for maxChoices entries: 64 candidates, one draw for one choice.
    const std::vector<double> weights(64, 1.0);
    std::size_t draws = 0;
    QCOMPARE(rankWith(weights, {0.5}, snapshotOf(64), 1, {}, &draws), std::vector<int> {32});
    QCOMPARE(draws, std::size_t {1});
    // Three choices: 32; 0.5 hits 32 again and is redrawn; 0.25 -> 16; 0.75 -> 48.
    QCOMPARE(rankWith(weights, {0.5, 0.5, 0.25, 0.75}, snapshotOf(64), 3, {}, &draws), (std::vector<int> {32, 16, 48}));
    QCOMPARE(draws, std::size_t {4});
}

void TestRandomPolicy::redrawsATakenTargetThenScansExactly()
{
    // Weights 100, 1, 1: after target 0 is taken, draws keep landing on it. After
    // MAX_REJECTIONS of them one more draw picks among {1, 2} by their own weights:
    // 0.6 * 2 = 1.2 -> 2.
    static_assert(RandomPolicy::MAX_REJECTIONS == 4);
    std::size_t draws = 0;
    QCOMPARE(rankWith({100, 1, 1}, {0.1, 0.1, 0.2, 0.3, 0.4, 0.6}, snapshotOf(3), 2, {}, &draws),
             (std::vector<int> {0, 2}));
    QCOMPARE(draws, std::size_t {6});
    // A redraw that finds a free target ends the search.
    QCOMPARE(rankWith({100, 1, 1}, {0.1, 0.5, 0.995}, snapshotOf(3), 2, {}, &draws), (std::vector<int> {0, 2}));
    QCOMPARE(draws, std::size_t {3});
}

void TestRandomPolicy::onlyCandidatesAreRanked()
{
    // Target 0 has by far the largest weight but is not a candidate.
    QCOMPARE(rankWith({100, 1, 1, 1}, {0.6}, snapshotOf(4), 4, {1, 3}), (std::vector<int> {3, 1}));

    RandomPolicy policy;
    XoshiroRng rng {7};
    const auto targets = targetsWithWeights({100, 2, 50, 4, 5});
    const std::vector<int> candidates {1, 3, 4};
    for (int round = 0; round < 1000; ++round) {
        const Ranking out = rankOnce(policy, targets, candidates, snapshotOf(5), RequestSummary {}, rng, 5);
        std::vector<int> sorted = out.order;
        std::sort(sorted.begin(), sorted.end());
        QCOMPARE(sorted, candidates);
    }
}

void TestRandomPolicy::targetsMapToBackendsById()
{
    // Target 0 is backend 3 (ramping at 0.25), target 1 is backend 0.
    const std::vector<PolicyTarget> targets {{3, 1.0}, {0, 1.0}};
    BackendSnapshot snapshot = snapshotOf(4);
    snapshot.backends[3].healthWeight = 0.25;
    RandomPolicy policy;
    ScriptedRng rng {{0.21}};
    const Ranking out = rankOnce(policy, targets, allCandidates(2), snapshot, RequestSummary {}, rng, 2);
    QCOMPARE(out.order, (std::vector<int> {1, 0}));
}

void TestRandomPolicy::backendIdsOutsideTheSnapshotHaveFullWeight()
{
    // An empty snapshot (no state yet): configured weights only.
    QCOMPARE(rankWith({1, 1}, {0.49}, BackendSnapshot {}), (std::vector<int> {0, 1}));
    QCOMPARE(rankWith({1, 1}, {0.51}, BackendSnapshot {}), (std::vector<int> {1, 0}));
}

void TestRandomPolicy::zeroWeightRanksAfterPositiveWeights()
{
    QCOMPARE(rankWith({0, 1, 0}, {0.0}, snapshotOf(3), 1), std::vector<int> {1});
    QCOMPARE(rankWith({0, 1, 0}, {0.99, 0.7}, snapshotOf(3)), (std::vector<int> {1, 2, 0}));
}

void TestRandomPolicy::scoresAreFirstChoiceProbabilities()
{
    RandomPolicy policy;
    ScriptedRng rng {{0.1}};
    BackendSnapshot snapshot = snapshotOf(4);
    snapshot.backends[2].healthWeight = 0.5;
    const Ranking out = rankOnce(policy, targetsWithWeights({1, 9, 4, 100}), {0, 1, 2}, snapshot, RequestSummary {},
                                 rng, 1);
    // Effective weights 1, 9 and 4 * 0.5: total 12.
    QCOMPARE(out.scores[0], 1.0 / 12.0);
    QCOMPARE(out.scores[1], 9.0 / 12.0);
    QCOMPARE(out.scores[2], 2.0 / 12.0);
    QVERIFY(std::isnan(out.scores[3]));
}

void TestRandomPolicy::firstChoiceShareFollowsWeightsTwoTargets()
{
    RandomPolicy policy;
    const auto shares = firstChoiceShares(policy, targetsWithWeights({3, 1}), allCandidates(2), snapshotOf(2),
                                          RequestSummary {}, 100000, 42);
    STRATEGY_VERIFY_SHARE(shares[0], 0.75, 0.015);
    STRATEGY_VERIFY_SHARE(shares[1], 0.25, 0.015);
}

void TestRandomPolicy::firstChoiceShareFollowsWeightsThreeTargets()
{
    constexpr int ROUNDS = 100000;
    RandomPolicy policy;
    XoshiroRng rng {42};
    const auto targets = targetsWithWeights({1, 2, 7});
    const BackendSnapshot snapshot = snapshotOf(3);
    const std::vector<int> candidates = allCandidates(3);
    const RankInput input {targets, candidates, snapshot, RequestSummary {}, -1, 3};
    Ranking out;
    std::vector<int> firstCounts(3, 0);
    // Given target 2 (weight 7) is first, the others keep their 1:2 ratio for second place.
    int secondAfterTwo = 0;
    int secondIsOneAfterTwo = 0;
    for (int i = 0; i < ROUNDS; ++i) {
        policy.rank(input, rng, out);
        ++firstCounts[static_cast<std::size_t>(out.order[0])];
        if (out.order[0] == 2) {
            ++secondAfterTwo;
            secondIsOneAfterTwo += out.order[1] == 1 ? 1 : 0;
        }
    }
    const double expected[] = {0.1, 0.2, 0.7};
    for (std::size_t i = 0; i < 3; ++i) {
        STRATEGY_VERIFY_SHARE(static_cast<double>(firstCounts[i]) / ROUNDS, expected[i], 0.015);
    }
    STRATEGY_VERIFY_SHARE(static_cast<double>(secondIsOneAfterTwo) / secondAfterTwo, 2.0 / 3.0, 0.015);
}

void TestRandomPolicy::firstChoiceShareFollowsWeights64Targets()
{
    std::vector<double> weights;
    for (int i = 1; i <= 64; ++i) {
        weights.push_back(i);
    }
    const double total = 64.0 * 65.0 / 2.0;
    RandomPolicy policy;
    const auto shares = firstChoiceShares(policy, targetsWithWeights(weights), allCandidates(64), snapshotOf(64),
                                          RequestSummary {}, 100000, 3);
    for (std::size_t i = 0; i < 64; ++i) {
        // p <= 0.031: one standard deviation over 100k picks is at most 0.00055.
        STRATEGY_VERIFY_SHARE(shares[i], weights[i] / total, 0.003);
    }
}

void TestRandomPolicy::furtherChoicesFollowWeightsAmongTheRest()
{
    // Weights 90, 6, 3, 1: given target 0 first, the second choice is 1, 2 or 3 with
    // 6/10, 3/10, 1/10; given 1 first, 0 follows with 90/94. Mostly resolved by the exact
    // scan after redraws (target 0 holds 90% of the weight), so both paths are covered.
    constexpr int ROUNDS = 100000;
    RandomPolicy policy;
    XoshiroRng rng {77};
    const auto targets = targetsWithWeights({90, 6, 3, 1});
    const BackendSnapshot snapshot = snapshotOf(4);
    const std::vector<int> candidates = allCandidates(4);
    const RankInput input {targets, candidates, snapshot, RequestSummary {}, -1, 4};
    Ranking out;
    std::vector<int> secondAfterZero(4, 0);
    int afterZero = 0;
    int afterOne = 0;
    int zeroAfterOne = 0;
    for (int i = 0; i < ROUNDS; ++i) {
        policy.rank(input, rng, out);
        if (out.order[0] == 0) {
            ++afterZero;
            ++secondAfterZero[static_cast<std::size_t>(out.order[1])];
        } else if (out.order[0] == 1) {
            ++afterOne;
            zeroAfterOne += out.order[1] == 0 ? 1 : 0;
        }
    }
    STRATEGY_VERIFY_SHARE(static_cast<double>(afterZero) / ROUNDS, 0.9, 0.015);
    const double expected[] = {0.0, 0.6, 0.3, 0.1};
    for (std::size_t i = 0; i < 4; ++i) {
        STRATEGY_VERIFY_SHARE(static_cast<double>(secondAfterZero[i]) / afterZero, expected[i], 0.015);
    }
    // About 6,000 samples: 0.015 is still over 4 standard deviations.
    STRATEGY_VERIFY_SHARE(static_cast<double>(zeroAfterOne) / afterOne, 90.0 / 94.0, 0.015);
}

void TestRandomPolicy::keepsTheRankingContract()
{
    checkRankingContract([](const std::vector<PolicyTarget> &) { return std::make_unique<RandomPolicy>(); }, true);
}

QTEST_APPLESS_MAIN(TestRandomPolicy)
#include "testrandompolicy.moc"
