#include "routing/dynamocostpolicy.h"

#include "gpuroutingtestsupport.h"

#include <QTest>

#include <cmath>

using namespace GpuRoutingTest;

namespace {

// The example of ai-dynamo/dynamo docs/router/kv_cache_routing.md, 16-token blocks:
// a 10-block prompt; W1 holds 2 blocks (8 to prefill) with 10 active blocks, W2 holds 5
// (5 to prefill) with 5 active, W3 holds 8 (2 to prefill) with 9 active.
struct DocExample {
    ScriptedPrefixSource source {{{0, 2}, {1, 5}, {2, 8}}};
    BackendSnapshot snapshot = snapshotOf(3);
    RequestSummary request = promptRequest(1, 10);

    DocExample()
    {
        snapshot.backends[0].inFlightTokens = 10 * 16;
        snapshot.backends[1].inFlightTokens = 5 * 16;
        snapshot.backends[2].inFlightTokens = 9 * 16;
    }

    Ranking rank(const DynamoCostPolicy &policy, std::uint64_t seed = 1)
    {
        XoshiroRng rng {seed};
        return rankOnce(policy, equalTargets(3), allCandidates(3), snapshot, request, rng, 3);
    }
};

} // namespace

class TestDynamoCostPolicy final : public QObject {
    Q_OBJECT

private slots:
    void documentExample();
    void zeroOverlapWeightIsLoadBalancing();
    void higherOverlapWeightFavoursTheCache();
    void temperatureSamplesASoftmax();
    void recordsAndReportsCachedTokens();
    void keepsTheRankingContract();
};

void TestDynamoCostPolicy::documentExample()
{
    DocExample example;
    const DynamoCostPolicy policy {{}, &example.source};
    QCOMPARE(policy.name(), std::string_view {"dynamo_cost"});
    const Ranking out = example.rank(policy);
    // W1 8 + 10 = 18, W2 5 + 5 = 10 (chosen), W3 2 + 9 = 11.
    QCOMPARE(out.order, (std::vector<int> {1, 2, 0}));
    QCOMPARE(out.scores, (std::vector<double> {18.0, 10.0, 11.0}));
}

void TestDynamoCostPolicy::zeroOverlapWeightIsLoadBalancing()
{
    DocExample example;
    const DynamoCostPolicy policy {{0.0, 0.0}, &example.source};
    QCOMPARE(example.rank(policy).scores, (std::vector<double> {10.0, 5.0, 9.0}));
}

void TestDynamoCostPolicy::higherOverlapWeightFavoursTheCache()
{
    DocExample example;
    const DynamoCostPolicy policy {{2.0, 0.0}, &example.source};
    // 26, 15, 13: W3 now wins.
    const Ranking out = example.rank(policy);
    QCOMPARE(out.order.front(), 2);
    QCOMPARE(out.scores, (std::vector<double> {26.0, 15.0, 13.0}));
}

void TestDynamoCostPolicy::temperatureSamplesASoftmax()
{
    // Costs 18 / 10 / 11 normalise to 1 / 0 / 0.125; at temperature 1 the draw follows
    // exp(-x): 0.368 / 1 / 0.882 of 2.250.
    DocExample example;
    const DynamoCostPolicy policy {{1.0, 1.0}, &example.source};
    const auto shares = firstChoiceShares(policy, equalTargets(3), allCandidates(3), example.snapshot, example.request,
                                          60000, 12);
    const double sum = std::exp(-1.0) + 1.0 + std::exp(-0.125);
    STRATEGY_VERIFY_SHARE(shares[0], std::exp(-1.0) / sum, 0.01);
    STRATEGY_VERIFY_SHARE(shares[1], 1.0 / sum, 0.01);
    STRATEGY_VERIFY_SHARE(shares[2], std::exp(-0.125) / sum, 0.01);
}

void TestDynamoCostPolicy::recordsAndReportsCachedTokens()
{
    DocExample example;
    const DynamoCostPolicy policy {{}, &example.source};
    const Ranking out = example.rank(policy);
    QCOMPARE(out.cachedPromptTokens, (std::vector<int> {32, 80, 128}));
    QCOMPARE(example.source.recorded().size(), std::size_t {1});
    QCOMPARE(example.source.recorded().front(), (std::pair<int, std::size_t> {1, 10}));
}

void TestDynamoCostPolicy::keepsTheRankingContract()
{
    static ScriptedPrefixSource source {{{0, 1}}};
    checkRankingContract([](const std::vector<PolicyTarget> &) { return std::make_unique<DynamoCostPolicy>(DynamoCostParams {}, &source); },
                         true);
    checkRankingContract(
        [](const std::vector<PolicyTarget> &) { return std::make_unique<DynamoCostPolicy>(DynamoCostParams {1.0, 0.5}, &source); },
        true);
}

QTEST_APPLESS_MAIN(TestDynamoCostPolicy)
#include "testdynamocostpolicy.moc"
