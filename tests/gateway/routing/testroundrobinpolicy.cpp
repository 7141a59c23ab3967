#include "routing/roundrobinpolicy.h"

#include "strategytestsupport.h"

#include <QTest>

#include <thread>

using namespace StrategyTest;

class TestRoundRobinPolicy final : public QObject {
    Q_OBJECT

private slots:
    void rotatesExactly();
    void furtherChoicesFollowTheCursor();
    void ignoresWeights();
    void rotatesOverTheCandidatesOnly();
    void scoresAreDistanceFromTheStart();
    void drawsNoRandomness();
    void concurrentPicksShareExactly();
    void keepsTheRankingContract();
};

void TestRoundRobinPolicy::rotatesExactly()
{
    RoundRobinPolicy policy;
    const auto targets = targetsWithWeights({1, 1, 1, 1});
    XoshiroRng rng {1};
    std::vector<int> firsts;
    for (int i = 0; i < 10; ++i) {
        firsts.push_back(rankOnce(policy, targets, allCandidates(4), snapshotOf(4), RequestSummary {}, rng, 1).order[0]);
    }
    QCOMPARE(firsts, (std::vector<int> {0, 1, 2, 3, 0, 1, 2, 3, 0, 1}));
}

void TestRoundRobinPolicy::furtherChoicesFollowTheCursor()
{
    RoundRobinPolicy policy;
    const auto targets = targetsWithWeights({1, 1, 1, 1});
    XoshiroRng rng {1};
    const auto rank3 = [&] {
        return rankOnce(policy, targets, allCandidates(4), snapshotOf(4), RequestSummary {}, rng, 3).order;
    };
    QCOMPARE(rank3(), (std::vector<int> {0, 1, 2}));
    QCOMPARE(rank3(), (std::vector<int> {1, 2, 3}));
    QCOMPARE(rank3(), (std::vector<int> {2, 3, 0}));
    QCOMPARE(rank3(), (std::vector<int> {3, 0, 1}));
}

void TestRoundRobinPolicy::ignoresWeights()
{
    RoundRobinPolicy policy;
    const auto targets = targetsWithWeights({100, 1, 3});
    BackendSnapshot snapshot = snapshotOf(3);
    snapshot.backends[2].healthWeight = 0.1;
    const auto shares = firstChoiceShares(policy, targets, allCandidates(3), snapshot, RequestSummary {}, 300, 1);
    QCOMPARE(shares, (std::vector<double> {1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0}));
}

void TestRoundRobinPolicy::rotatesOverTheCandidatesOnly()
{
    RoundRobinPolicy policy;
    const auto targets = targetsWithWeights({1, 1, 1, 1, 1, 1});
    XoshiroRng rng {1};
    std::vector<int> firsts;
    for (int i = 0; i < 6; ++i) {
        firsts.push_back(rankOnce(policy, targets, {1, 3, 5}, snapshotOf(6), RequestSummary {}, rng, 1).order[0]);
    }
    QCOMPARE(firsts, (std::vector<int> {1, 3, 5, 1, 3, 5}));
    // Further choices wrap within the candidates too.
    QCOMPARE(rankOnce(policy, targets, {1, 3, 5}, snapshotOf(6), RequestSummary {}, rng, 6).order,
             (std::vector<int> {1, 3, 5}));
    QCOMPARE(rankOnce(policy, targets, {1, 3, 5}, snapshotOf(6), RequestSummary {}, rng, 6).order,
             (std::vector<int> {3, 5, 1}));
}

void TestRoundRobinPolicy::scoresAreDistanceFromTheStart()
{
    RoundRobinPolicy policy;
    const auto targets = targetsWithWeights({1, 1, 1, 1});
    XoshiroRng rng {1};
    rankOnce(policy, targets, {0, 1, 3}, snapshotOf(4), RequestSummary {}, rng, 1); // cursor to 1
    const Ranking out = rankOnce(policy, targets, {0, 1, 3}, snapshotOf(4), RequestSummary {}, rng, 1);
    QCOMPARE(out.order, std::vector<int> {1});
    QCOMPARE(out.scores[1], 0.0);
    QCOMPARE(out.scores[3], 1.0);
    QCOMPARE(out.scores[0], 2.0);
    QVERIFY(std::isnan(out.scores[2]));
}

void TestRoundRobinPolicy::drawsNoRandomness()
{
    RoundRobinPolicy policy;
    ScriptedRng rng {{}};
    rankOnce(policy, targetsWithWeights({1, 1, 1}), allCandidates(3), snapshotOf(3), RequestSummary {}, rng, 3);
    QCOMPARE(rng.draws(), std::size_t {0});
}

void TestRoundRobinPolicy::concurrentPicksShareExactly()
{
    constexpr int THREADS = 4;
    constexpr int PICKS_PER_THREAD = 30000; // a multiple of the 3 candidates
    const auto targets = targetsWithWeights({1, 1, 1});
    const BackendSnapshot snapshot = snapshotOf(3);
    const std::vector<int> candidates = allCandidates(3);
    RoundRobinPolicy policy;
    std::vector<std::vector<int>> counts(THREADS, std::vector<int>(3, 0));
    std::vector<std::thread> workers;
    for (int t = 0; t < THREADS; ++t) {
        workers.emplace_back([&, t] {
            XoshiroRng rng {static_cast<std::uint64_t>(t)};
            const RankInput input {targets, candidates, snapshot, RequestSummary {}, -1, 1};
            Ranking out;
            for (int i = 0; i < PICKS_PER_THREAD; ++i) {
                policy.rank(input, rng, out);
                ++counts[static_cast<std::size_t>(t)][static_cast<std::size_t>(out.order.front())];
            }
        });
    }
    for (auto &worker : workers) {
        worker.join();
    }
    std::vector<int> total(3, 0);
    for (const auto &perThread : counts) {
        for (std::size_t i = 0; i < 3; ++i) {
            total[i] += perThread[i];
        }
    }
    const int share = THREADS * PICKS_PER_THREAD / 3;
    QCOMPARE(total, (std::vector<int> {share, share, share}));
}

void TestRoundRobinPolicy::keepsTheRankingContract()
{
    checkRankingContract([](const std::vector<PolicyTarget> &) { return std::make_unique<RoundRobinPolicy>(); }, true);
}

QTEST_APPLESS_MAIN(TestRoundRobinPolicy)
#include "testroundrobinpolicy.moc"
