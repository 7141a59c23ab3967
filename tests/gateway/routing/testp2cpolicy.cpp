#include "routing/p2cpolicy.h"

#include "strategytestsupport.h"

#include <QTest>

using namespace StrategyTest;

namespace {

constexpr int ROUNDS = 100000;

BackendSnapshot requestLoads(const std::vector<int> &inFlight)
{
    BackendSnapshot snapshot = snapshotOf(inFlight.size());
    for (std::size_t i = 0; i < inFlight.size(); ++i) {
        snapshot.backends[i].inFlightRequests = inFlight[i];
        snapshot.backends[i].inFlightTokens = std::int64_t {inFlight[i]} * 1000;
    }
    return snapshot;
}

std::vector<int> scriptedRank(const P2cPolicy &policy, const BackendSnapshot &snapshot, const std::vector<double> &draws,
                              int maxChoices, std::size_t expectedDraws)
{
    ScriptedRng rng {draws};
    const Ranking out = rankOnce(policy, targetsWithWeights(std::vector<double>(snapshot.backends.size(), 1.0)),
                                 allCandidates(snapshot.backends.size()), snapshot, RequestSummary {}, rng, maxChoices);
    if (rng.draws() != expectedDraws) {
        qWarning("used %zu draws, expected %zu", rng.draws(), expectedDraws);
        return {};
    }
    return out.order;
}

} // namespace

class TestP2cPolicy final : public QObject {
    Q_OBJECT

private slots:
    void defaultsToTokens();
    void theLessLoadedOfTheTwoWins();
    void drawsTwoDistinctCandidates();
    void fullTieGoesToTheFirstDrawn();
    void furtherChoicesByLoad();
    void fewCandidatesNeedFewDraws();
    void idleTargetWinsHalfOfFourExactly_data();
    void idleTargetWinsHalfOfFourExactly();
    void sharesFollowTheLoadOrder();
    void loadIsDividedByWeight();
    void onlyCandidatesAreRanked();
    void keepsTheRankingContract();
};

void TestP2cPolicy::defaultsToTokens()
{
    QCOMPARE(P2cPolicy {}.params().loadMetric, LoadMetric::Tokens);
    QCOMPARE(P2cPolicy {}.name(), std::string_view {"p2c"});
}

void TestP2cPolicy::theLessLoadedOfTheTwoWins()
{
    // Draws 0.6 -> position 2 of 4; 0.1 -> position 0 of the other 3: the pair is {2, 0}.
    P2cPolicy policy;
    QCOMPARE(scriptedRank(policy, requestLoads({10, 0, 0, 0}), {0.6, 0.1}, 2, 2), (std::vector<int> {2, 0}));
    QCOMPARE(scriptedRank(policy, requestLoads({0, 5, 10, 5}), {0.6, 0.1}, 2, 2), (std::vector<int> {0, 2}));
    // Targets 1 and 3 are idle but were not drawn: the pair decides.
    QCOMPARE(scriptedRank(policy, requestLoads({4, 0, 9, 0}), {0.6, 0.1}, 1, 2), (std::vector<int> {0}));
}

void TestP2cPolicy::drawsTwoDistinctCandidates()
{
    // 0.3 -> position 1; 0.5 -> position 1 of the other 3, which skips the first: 2.
    P2cPolicy policy;
    QCOMPARE(scriptedRank(policy, requestLoads({0, 3, 1, 0}), {0.3, 0.5}, 2, 2), (std::vector<int> {2, 1}));
    // The last position stays reachable: 0.99 -> 3; 0.99 -> position 2 of {0, 1, 2}.
    QCOMPARE(scriptedRank(policy, requestLoads({0, 0, 7, 1}), {0.99, 0.99}, 2, 2), (std::vector<int> {3, 2}));
}

void TestP2cPolicy::fullTieGoesToTheFirstDrawn()
{
    P2cPolicy policy;
    QCOMPARE(scriptedRank(policy, requestLoads({2, 2, 2}), {0.9, 0.1}, 2, 2), (std::vector<int> {2, 0}));
    QCOMPARE(scriptedRank(policy, requestLoads({2, 2, 2}), {0.1, 0.9}, 2, 2), (std::vector<int> {0, 2}));
}

void TestP2cPolicy::furtherChoicesByLoad()
{
    // Pair {0, 1}; the rest (2: load 5, 3: load 1, 4: load 3) by load; one extra draw seeds
    // the tie-breaker.
    P2cPolicy policy;
    QCOMPARE(scriptedRank(policy, requestLoads({9, 8, 5, 1, 3}), {0.1, 0.1, 0.5}, 5, 3),
             (std::vector<int> {1, 0, 3, 4, 2}));
    QCOMPARE(scriptedRank(policy, requestLoads({9, 8, 5, 1, 3}), {0.1, 0.1, 0.5}, 3, 3), (std::vector<int> {1, 0, 3}));
}

void TestP2cPolicy::fewCandidatesNeedFewDraws()
{
    P2cPolicy policy;
    // One candidate: nothing to draw.
    QCOMPARE(scriptedRank(policy, requestLoads({3}), {}, 3, 0), std::vector<int> {0});
    // Two: one draw orders the pair (it matters only on a tie).
    QCOMPARE(scriptedRank(policy, requestLoads({3, 1}), {0.2}, 3, 1), (std::vector<int> {1, 0}));
    QCOMPARE(scriptedRank(policy, requestLoads({1, 1}), {0.7}, 3, 1), (std::vector<int> {1, 0}));
    // Three, all ranked: the single remaining one needs no tie-breaker.
    QCOMPARE(scriptedRank(policy, requestLoads({3, 2, 1}), {0.1, 0.1}, 3, 2), (std::vector<int> {1, 0, 2}));
}

void TestP2cPolicy::idleTargetWinsHalfOfFourExactly_data()
{
    QTest::addColumn<int>("metric");
    QTest::newRow("requests") << static_cast<int>(LoadMetric::Requests);
    QTest::newRow("tokens") << static_cast<int>(LoadMetric::Tokens);
}

void TestP2cPolicy::idleTargetWinsHalfOfFourExactly()
{
    // Loads 0/10/10/10. The idle target wins whenever it is in the pair: 3 of the C(4,2) = 6
    // equally likely pairs, so exactly 1/2 (least_request would give it every pick). Each
    // busy target wins only the pairs of two busy ones, half of the time: 2 * 1/2 of 6 = 1/6.
    QFETCH(int, metric);
    P2cPolicy policy {{static_cast<LoadMetric>(metric)}};
    const auto shares = firstChoiceShares(policy, targetsWithWeights({1, 1, 1, 1}), allCandidates(4),
                                          requestLoads({0, 10, 10, 10}), RequestSummary {}, ROUNDS, 21);
    STRATEGY_VERIFY_SHARE(shares[0], 0.5, 0.015);
    for (std::size_t i = 1; i < 4; ++i) {
        STRATEGY_VERIFY_SHARE(shares[i], 1.0 / 6.0, 0.015);
    }
}

void TestP2cPolicy::sharesFollowTheLoadOrder()
{
    // Loads 0/5/10/20: target k wins the pairs with a busier one: 3, 2, 1, 0 of 6. The most
    // loaded is never first, and is second exactly when drawn: 1/2.
    P2cPolicy policy;
    const auto targets = targetsWithWeights({1, 1, 1, 1});
    const std::vector<int> candidates = allCandidates(4);
    const BackendSnapshot snapshot = requestLoads({0, 5, 10, 20});
    XoshiroRng rng {33};
    const RankInput input {targets, candidates, snapshot, RequestSummary {}, -1, 2};
    Ranking out;
    std::vector<int> firsts(4, 0);
    int busiestSecond = 0;
    for (int i = 0; i < ROUNDS; ++i) {
        policy.rank(input, rng, out);
        ++firsts[static_cast<std::size_t>(out.order[0])];
        busiestSecond += out.order[1] == 3 ? 1 : 0;
    }
    const double expected[] = {3.0 / 6.0, 2.0 / 6.0, 1.0 / 6.0};
    for (std::size_t i = 0; i < 3; ++i) {
        STRATEGY_VERIFY_SHARE(static_cast<double>(firsts[i]) / ROUNDS, expected[i], 0.015);
    }
    QCOMPARE(firsts[3], 0);
    STRATEGY_VERIFY_SHARE(static_cast<double>(busiestSecond) / ROUNDS, 0.5, 0.015);
}

void TestP2cPolicy::loadIsDividedByWeight()
{
    // Equal in-flight tokens, weights 3 and 1: the heavier target is always less loaded.
    BackendSnapshot snapshot = requestLoads({2, 2});
    P2cPolicy policy;
    const auto shares = firstChoiceShares(policy, targetsWithWeights({3, 1}), allCandidates(2), snapshot,
                                          RequestSummary {}, 1000, 4);
    QCOMPARE(shares[0], 1.0);
}

void TestP2cPolicy::onlyCandidatesAreRanked()
{
    P2cPolicy policy;
    XoshiroRng rng {5};
    const BackendSnapshot snapshot = requestLoads({0, 9, 0, 8, 7});
    for (int i = 0; i < 1000; ++i) {
        const Ranking out = rankOnce(policy, targetsWithWeights({1, 1, 1, 1, 1}), {1, 3, 4}, snapshot, RequestSummary {},
                                     rng, 1);
        // The idle targets 0 and 2 are filtered out; 1 (the busiest candidate) never wins.
        QVERIFY(out.order[0] == 3 || out.order[0] == 4);
    }
}

void TestP2cPolicy::keepsTheRankingContract()
{
    checkRankingContract([](const std::vector<PolicyTarget> &) { return std::make_unique<P2cPolicy>(); }, true);
    checkRankingContract(
        [](const std::vector<PolicyTarget> &) { return std::make_unique<P2cPolicy>(P2cParams {LoadMetric::Requests}); },
        true);
}

QTEST_APPLESS_MAIN(TestP2cPolicy)
#include "testp2cpolicy.moc"
