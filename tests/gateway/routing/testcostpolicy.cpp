#include "routing/costpolicy.h"

#include "strategytestsupport.h"

#include <QTest>

using namespace StrategyTest;

namespace {

RequestSummary requestOf(int promptTokens, int maxTokens)
{
    RequestSummary request;
    request.estimatedPromptTokens = promptTokens;
    request.maxTokens = maxTokens;
    return request;
}

void setPrice(BackendState &state, double inputPerMTok, double outputPerMTok)
{
    state.inputCostPerMTok = inputPerMTok;
    state.outputCostPerMTok = outputPerMTok;
}

std::vector<int> rankAll(const CostPolicy &policy, const BackendSnapshot &snapshot, const RequestSummary &request,
                         std::uint64_t seed = 1)
{
    XoshiroRng rng {seed};
    return rankOnce(policy, targetsWithWeights(std::vector<double>(snapshot.backends.size(), 1.0)),
                    allCandidates(snapshot.backends.size()), snapshot, request, rng, 64)
        .order;
}

} // namespace

class TestCostPolicy final : public QObject {
    Q_OBJECT

private slots:
    void defaults();
    void requestCostFormula();
    void cheapestFirst();
    void promptAndOutputPricesBothCount();
    void maxLatencyDemotesSlowTargets();
    void unknownLatencyMeetsTheLimit();
    void tiesGoToFewerInFlightTokensThenRandom();
    void scoresAreTheCost();
    void keepsTheRankingContract();
};

void TestCostPolicy::defaults()
{
    QCOMPARE(CostPolicy {}.params().maxLatencyMs, 0.0);
    QCOMPARE(CostPolicy {}.name(), std::string_view {"cost"});
}

void TestCostPolicy::requestCostFormula()
{
    BackendState state;
    setPrice(state, 3.0, 15.0);
    // (1000 * 3 + 500 * 15) / 1e6
    QCOMPARE(CostPolicy::requestCost(state, requestOf(1000, 500)), 0.0105);
    // No max_tokens: the default expected output.
    QCOMPARE(CostPolicy::requestCost(state, requestOf(0, -1)),
             RequestSummary::DEFAULT_EXPECTED_OUTPUT_TOKENS * 15.0 / 1e6);
}

void TestCostPolicy::cheapestFirst()
{
    BackendSnapshot snapshot = snapshotOf(3);
    setPrice(snapshot.backends[0], 3.0, 15.0);  // 0.0105
    setPrice(snapshot.backends[1], 0.5, 1.5);   // 0.00125
    setPrice(snapshot.backends[2], 10.0, 30.0); // 0.025
    // Load does not outweigh price.
    snapshot.backends[1].inFlightTokens = 100000;
    QCOMPARE(rankAll(CostPolicy {}, snapshot, requestOf(1000, 500)), (std::vector<int> {1, 0, 2}));
}

void TestCostPolicy::promptAndOutputPricesBothCount()
{
    // Backend 0: cheap input, dear output; backend 1 the reverse.
    BackendSnapshot snapshot = snapshotOf(2);
    setPrice(snapshot.backends[0], 1.0, 10.0);
    setPrice(snapshot.backends[1], 5.0, 2.0);
    // Long prompt, short answer: 0.011 vs 0.0502.
    QCOMPARE(rankAll(CostPolicy {}, snapshot, requestOf(10000, 100)), (std::vector<int> {0, 1}));
    // Short prompt, long answer: 0.0401 vs 0.0085.
    QCOMPARE(rankAll(CostPolicy {}, snapshot, requestOf(100, 4000)), (std::vector<int> {1, 0}));
}

void TestCostPolicy::maxLatencyDemotesSlowTargets()
{
    BackendSnapshot snapshot = snapshotOf(4);
    // 0: cheapest but slow (200 + 10 * 500 = 5200 ms); 1: mid price, 1200 ms;
    // 2: dearest, 2200 ms; 3: second cheapest, also slow (8200 ms).
    setPrice(snapshot.backends[0], 0.1, 0.1);
    snapshot.backends[0].ttftMs = 200.0;
    snapshot.backends[0].latencyPerTokenMs = 10.0;
    setPrice(snapshot.backends[1], 1.0, 1.0);
    snapshot.backends[1].ttftMs = 200.0;
    snapshot.backends[1].latencyPerTokenMs = 2.0;
    setPrice(snapshot.backends[2], 2.0, 2.0);
    snapshot.backends[2].ttftMs = 200.0;
    snapshot.backends[2].latencyPerTokenMs = 4.0;
    setPrice(snapshot.backends[3], 0.2, 0.2);
    snapshot.backends[3].ttftMs = 200.0;
    snapshot.backends[3].latencyPerTokenMs = 16.0;
    const RequestSummary request = requestOf(100, 500);
    // Without a limit, price alone.
    QCOMPARE(rankAll(CostPolicy {}, snapshot, request), (std::vector<int> {0, 3, 1, 2}));
    // 3 s: the slow ones go after every target that meets it, still cheapest first.
    QCOMPARE(rankAll(CostPolicy {{3000.0}}, snapshot, request), (std::vector<int> {1, 2, 0, 3}));
    // The bound is on this request's expected latency. 1.5 s with 500 output tokens: only 1
    // meets it. With 100 output tokens 0 (1200 ms) meets it too, 3 (1800 ms) still not.
    QCOMPARE(rankAll(CostPolicy {{1500.0}}, snapshot, request), (std::vector<int> {1, 0, 3, 2}));
    QCOMPARE(rankAll(CostPolicy {{1500.0}}, snapshot, requestOf(100, 100)), (std::vector<int> {0, 1, 2, 3}));
    // Exactly at the limit meets it.
    QCOMPARE(rankAll(CostPolicy {{5200.0}}, snapshot, request), (std::vector<int> {0, 1, 2, 3}));
}

void TestCostPolicy::unknownLatencyMeetsTheLimit()
{
    BackendSnapshot snapshot = snapshotOf(2);
    setPrice(snapshot.backends[0], 1.0, 1.0);
    snapshot.backends[0].ttftMs = 9000.0;
    setPrice(snapshot.backends[1], 5.0, 5.0); // never measured
    QCOMPARE(rankAll(CostPolicy {{1000.0}}, snapshot, requestOf(100, 100)), (std::vector<int> {1, 0}));
}

void TestCostPolicy::tiesGoToFewerInFlightTokensThenRandom()
{
    // No prices known: every cost is 0. Backend 0 carries more tokens; 1 and 2 tie exactly.
    BackendSnapshot snapshot = snapshotOf(3);
    snapshot.backends[0].inFlightTokens = 500;
    snapshot.backends[1].inFlightTokens = 100;
    snapshot.backends[2].inFlightTokens = 100;
    const auto shares = firstChoiceShares(CostPolicy {}, targetsWithWeights({1, 1, 1}), allCandidates(3), snapshot,
                                          requestOf(100, 100), 100000, 14);
    QCOMPARE(shares[0], 0.0);
    STRATEGY_VERIFY_SHARE(shares[1], 0.5, 0.015);
    STRATEGY_VERIFY_SHARE(shares[2], 0.5, 0.015);
    // Equal prices behave the same way.
    for (auto &backend : snapshot.backends) {
        setPrice(backend, 2.0, 4.0);
    }
    snapshot.backends[2].inFlightTokens = 50;
    QCOMPARE(rankAll(CostPolicy {}, snapshot, requestOf(100, 100)), (std::vector<int> {2, 1, 0}));
}

void TestCostPolicy::scoresAreTheCost()
{
    BackendSnapshot snapshot = snapshotOf(3);
    setPrice(snapshot.backends[0], 3.0, 15.0);
    setPrice(snapshot.backends[2], 1.0, 2.0);
    XoshiroRng rng {1};
    const Ranking out = rankOnce(CostPolicy {}, targetsWithWeights({1, 1, 1}), {0, 2}, snapshot, requestOf(1000, 500),
                                 rng, 1);
    QCOMPARE(out.scores[0], 0.0105);
    QCOMPARE(out.scores[2], 0.002);
    QVERIFY(std::isnan(out.scores[1]));
    QCOMPARE(out.order, std::vector<int> {2});
}

void TestCostPolicy::keepsTheRankingContract()
{
    checkRankingContract([](const std::vector<PolicyTarget> &) { return std::make_unique<CostPolicy>(); }, true);
    checkRankingContract(
        [](const std::vector<PolicyTarget> &) { return std::make_unique<CostPolicy>(CostParams {1500.0}); }, true);
}

QTEST_APPLESS_MAIN(TestCostPolicy)
#include "testcostpolicy.moc"
