#include "routing/leastrequestpolicy.h"

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

std::vector<int> rankAll(const LeastRequestPolicy &policy, const std::vector<PolicyTarget> &targets,
                         const BackendSnapshot &snapshot, const RequestSummary &request, int maxChoices = 64)
{
    XoshiroRng rng {1};
    return rankOnce(policy, targets, allCandidates(targets.size()), snapshot, request, rng, maxChoices).order;
}

} // namespace

class TestLeastRequestPolicy final : public QObject {
    Q_OBJECT

private slots:
    void defaultsToTokens();
    void parsesLoadMetricNames();
    void picksTheLeastLoaded();
    void countsTokensNotRequests();
    void countsThisRequestAndDividesByWeight();
    void healthRampRaisesTheLoad();
    void tiesBrokenByTheOtherMetric();
    void exactTiesShareEvenly();
    void ranksOnlyMaxChoicesOfMany();
    void onlyCandidatesAreRanked();
    void scoresAreLoads();
    void singleCandidateNeedsNoDraw();
    void keepsTheRankingContract();
};

void TestLeastRequestPolicy::defaultsToTokens()
{
    QCOMPARE(LeastRequestPolicy {}.params().loadMetric, LoadMetric::Tokens);
    QCOMPARE(LeastRequestPolicy {}.name(), std::string_view {"least_request"});
}

void TestLeastRequestPolicy::parsesLoadMetricNames()
{
    QCOMPARE(loadMetricFromName("tokens"), std::optional {LoadMetric::Tokens});
    QCOMPARE(loadMetricFromName("requests"), std::optional {LoadMetric::Requests});
    QVERIFY(!loadMetricFromName("Tokens").has_value());
    QVERIFY(!loadMetricFromName("").has_value());
    QCOMPARE(loadMetricName(LoadMetric::Requests), std::string_view {"requests"});
    QCOMPARE(loadMetricName(LoadMetric::Tokens), std::string_view {"tokens"});
}

void TestLeastRequestPolicy::picksTheLeastLoaded()
{
    BackendSnapshot snapshot = snapshotOf(3);
    snapshot.backends[0].inFlightTokens = 5000;
    snapshot.backends[1].inFlightTokens = 1000;
    snapshot.backends[2].inFlightTokens = 3000;
    LeastRequestPolicy policy;
    QCOMPARE(rankAll(policy, targetsWithWeights({1, 1, 1}), snapshot, requestOf(100, 100)), (std::vector<int> {1, 2, 0}));
}

void TestLeastRequestPolicy::countsTokensNotRequests()
{
    // Target 0: one huge request in flight; target 1: four small ones.
    BackendSnapshot snapshot = snapshotOf(2);
    snapshot.backends[0].inFlightRequests = 1;
    snapshot.backends[0].inFlightTokens = 8000;
    snapshot.backends[1].inFlightRequests = 4;
    snapshot.backends[1].inFlightTokens = 2000;
    const auto targets = targetsWithWeights({1, 1});
    QCOMPARE(rankAll(LeastRequestPolicy {}, targets, snapshot, requestOf(100, 100)), (std::vector<int> {1, 0}));
    QCOMPARE(rankAll(LeastRequestPolicy {{LoadMetric::Requests}}, targets, snapshot, requestOf(100, 100)),
             (std::vector<int> {0, 1}));
}

void TestLeastRequestPolicy::countsThisRequestAndDividesByWeight()
{
    // This request adds 744 + 256 = 1000 tokens. Target 0 (weight 1) idle: 1000.
    // Target 1 (weight 4) with 2000 in flight: 3000 / 4 = 750, so it wins.
    BackendSnapshot snapshot = snapshotOf(2);
    snapshot.backends[1].inFlightTokens = 2000;
    const RequestSummary request = requestOf(744, -1);
    QCOMPARE(request.expectedTokens(), std::int64_t {1000});
    QCOMPARE(rankAll(LeastRequestPolicy {}, targetsWithWeights({1, 4}), snapshot, request), (std::vector<int> {1, 0}));
    // Weight 2: 3000 / 2 = 1500 > 1000.
    QCOMPARE(rankAll(LeastRequestPolicy {}, targetsWithWeights({1, 2}), snapshot, request), (std::vector<int> {0, 1}));
    // A tiny request: 0 + 10 vs (2000 + 10) / 4: the idle one wins again.
    QCOMPARE(rankAll(LeastRequestPolicy {}, targetsWithWeights({1, 4}), snapshot, requestOf(0, 10)),
             (std::vector<int> {0, 1}));
}

void TestLeastRequestPolicy::healthRampRaisesTheLoad()
{
    // Target 0 idle but ramping at 0.25: 1000 / 0.25 = 4000 > 2000 + 1000.
    BackendSnapshot snapshot = snapshotOf(2);
    snapshot.backends[0].healthWeight = 0.25;
    snapshot.backends[1].inFlightTokens = 2000;
    QCOMPARE(rankAll(LeastRequestPolicy {}, targetsWithWeights({1, 1}), snapshot, requestOf(744, -1)),
             (std::vector<int> {1, 0}));
}

void TestLeastRequestPolicy::tiesBrokenByTheOtherMetric()
{
    // Same tokens, fewer requests wins.
    BackendSnapshot snapshot = snapshotOf(3);
    snapshot.backends[0].inFlightTokens = 1000;
    snapshot.backends[0].inFlightRequests = 3;
    snapshot.backends[1].inFlightTokens = 1000;
    snapshot.backends[1].inFlightRequests = 1;
    snapshot.backends[2].inFlightTokens = 1000;
    snapshot.backends[2].inFlightRequests = 2;
    const auto targets = targetsWithWeights({1, 1, 1});
    for (std::uint64_t seed = 0; seed < 50; ++seed) {
        XoshiroRng rng {seed};
        QCOMPARE(rankOnce(LeastRequestPolicy {}, targets, allCandidates(3), snapshot, requestOf(10, 10), rng, 3).order,
                 (std::vector<int> {1, 2, 0}));
    }
    // Same requests, fewer tokens wins.
    snapshot.backends[0].inFlightRequests = 2;
    snapshot.backends[1].inFlightRequests = 2;
    snapshot.backends[0].inFlightTokens = 500;
    snapshot.backends[2].inFlightTokens = 9000;
    for (std::uint64_t seed = 0; seed < 50; ++seed) {
        XoshiroRng rng {seed};
        QCOMPARE(rankOnce(LeastRequestPolicy {{LoadMetric::Requests}}, targets, allCandidates(3), snapshot,
                          requestOf(10, 10), rng, 3)
                     .order,
                 (std::vector<int> {0, 1, 2}));
    }
}

void TestLeastRequestPolicy::exactTiesShareEvenly()
{
    constexpr int ROUNDS = 100000;
    // Four identical targets (and a busier fifth): first choices 1/4 each, and every
    // ordered pair (first, second) among the four 1/12.
    BackendSnapshot snapshot = snapshotOf(5);
    for (auto &backend : snapshot.backends) {
        backend.inFlightTokens = 700;
        backend.inFlightRequests = 2;
    }
    snapshot.backends[4].inFlightTokens = 701;
    const auto targets = targetsWithWeights({1, 1, 1, 1, 1});
    const std::vector<int> candidates = allCandidates(5);
    const RequestSummary request = requestOf(100, 100);
    LeastRequestPolicy policy;
    XoshiroRng rng {17};
    const RankInput input {targets, candidates, snapshot, request, -1, 2};
    Ranking out;
    std::vector<int> firsts(5, 0);
    std::vector<int> pairs(25, 0);
    for (int i = 0; i < ROUNDS; ++i) {
        policy.rank(input, rng, out);
        ++firsts[static_cast<std::size_t>(out.order[0])];
        ++pairs[static_cast<std::size_t>(out.order[0] * 5 + out.order[1])];
    }
    QCOMPARE(firsts[4], 0);
    for (std::size_t i = 0; i < 4; ++i) {
        STRATEGY_VERIFY_SHARE(static_cast<double>(firsts[i]) / ROUNDS, 0.25, 0.015);
        for (std::size_t j = 0; j < 4; ++j) {
            if (i != j) {
                STRATEGY_VERIFY_SHARE(static_cast<double>(pairs[i * 5 + j]) / ROUNDS, 1.0 / 12.0, 0.01);
            }
        }
    }
}

void TestLeastRequestPolicy::ranksOnlyMaxChoicesOfMany()
{
    // 64 targets with distinct loads, shuffled by index: the 5 lightest, in order.
    BackendSnapshot snapshot = snapshotOf(64);
    for (std::size_t i = 0; i < 64; ++i) {
        snapshot.backends[i].inFlightTokens = static_cast<std::int64_t>((i * 37) % 64) * 100;
    }
    std::vector<int> expected;
    for (int load = 0; load < 5; ++load) {
        for (int i = 0; i < 64; ++i) {
            if ((i * 37) % 64 == load) {
                expected.push_back(i);
            }
        }
    }
    QCOMPARE(rankAll(LeastRequestPolicy {}, targetsWithWeights(std::vector<double>(64, 1.0)), snapshot,
                     requestOf(10, 10), 5),
             expected);
}

void TestLeastRequestPolicy::onlyCandidatesAreRanked()
{
    BackendSnapshot snapshot = snapshotOf(4);
    snapshot.backends[1].inFlightTokens = 100;
    snapshot.backends[3].inFlightTokens = 50;
    XoshiroRng rng {1};
    // Targets 0 and 2 are idle but filtered out.
    QCOMPARE(rankOnce(LeastRequestPolicy {}, targetsWithWeights({1, 1, 1, 1}), {1, 3}, snapshot, requestOf(10, 10),
                      rng, 4)
                 .order,
             (std::vector<int> {3, 1}));
}

void TestLeastRequestPolicy::scoresAreLoads()
{
    BackendSnapshot snapshot = snapshotOf(3);
    snapshot.backends[0].inFlightTokens = 1000;
    snapshot.backends[0].inFlightRequests = 3;
    snapshot.backends[1].healthWeight = 0.5;
    XoshiroRng rng {1};
    const auto targets = targetsWithWeights({2, 1, 1});
    Ranking out = rankOnce(LeastRequestPolicy {}, targets, {0, 1}, snapshot, requestOf(200, 100), rng, 1);
    QCOMPARE(out.scores[0], 1300.0 / 2.0);
    QCOMPARE(out.scores[1], 300.0 / 0.5);
    QVERIFY(std::isnan(out.scores[2]));
    out = rankOnce(LeastRequestPolicy {{LoadMetric::Requests}}, targets, {0, 1}, snapshot, requestOf(200, 100), rng, 1);
    QCOMPARE(out.scores[0], 4.0 / 2.0);
    QCOMPARE(out.scores[1], 1.0 / 0.5);
}

void TestLeastRequestPolicy::singleCandidateNeedsNoDraw()
{
    ScriptedRng rng {{}};
    const Ranking out = rankOnce(LeastRequestPolicy {}, targetsWithWeights({1, 1}), {1}, snapshotOf(2),
                                 requestOf(10, 10), rng, 2);
    QCOMPARE(out.order, std::vector<int> {1});
    QCOMPARE(rng.draws(), std::size_t {0});
}

void TestLeastRequestPolicy::keepsTheRankingContract()
{
    checkRankingContract([](const std::vector<PolicyTarget> &) { return std::make_unique<LeastRequestPolicy>(); }, true);
    checkRankingContract(
        [](const std::vector<PolicyTarget> &) {
            return std::make_unique<LeastRequestPolicy>(LeastRequestParams {LoadMetric::Requests});
        },
        true);
}

QTEST_APPLESS_MAIN(TestLeastRequestPolicy)
#include "testleastrequestpolicy.moc"
