#include "routing/cacheawarepolicy.h"

#include "gpuroutingtestsupport.h"

#include <QTest>

using namespace GpuRoutingTest;

namespace {

CacheAwareParams gatewayDefaults()
{
    return {};
}

CacheAwareParams v1Defaults()
{
    return {CacheAwareParams::V1_CACHE_THRESHOLD, CacheAwareParams::V1_BALANCE_ABS_THRESHOLD,
            CacheAwareParams::V1_BALANCE_REL_THRESHOLD};
}

BackendSnapshot withLoads(const std::vector<int> &inFlight)
{
    BackendSnapshot snapshot = snapshotOf(inFlight.size());
    for (std::size_t i = 0; i < inFlight.size(); ++i) {
        snapshot.backends[i].inFlightRequests = inFlight[i];
    }
    return snapshot;
}

int firstChoice(const CacheAwarePolicy &policy, const BackendSnapshot &snapshot, std::size_t promptBlocks = 10)
{
    XoshiroRng rng {17};
    return rankOnce(policy, equalTargets(snapshot.backends.size()), allCandidates(snapshot.backends.size()), snapshot,
                    promptRequest(1, promptBlocks), rng, 1)
        .order.front();
}

} // namespace

class TestCacheAwarePolicy final : public QObject {
    Q_OBJECT

private slots:
    void defaultsAreThePublishedOnes();
    void balancedFleetFollowsTheBestMatch();
    void aWeakMatchGoesToTheLeastLoaded();
    void imbalanceSwitchesToTheLeastLoaded();
    void relativeThresholdMatters();
    void recordsInEveryBranch();
    void tiesAreRandom();
    void keepsTheRankingContract();
};

void TestCacheAwarePolicy::defaultsAreThePublishedOnes()
{
    QCOMPARE(gatewayDefaults().cacheThreshold, 0.3);
    QCOMPARE(gatewayDefaults().balanceAbsThreshold, 64.0);
    QCOMPARE(gatewayDefaults().balanceRelThreshold, 1.5);
    QCOMPARE(v1Defaults().cacheThreshold, 0.5);
    QCOMPARE(v1Defaults().balanceAbsThreshold, 32.0);
    QCOMPARE(v1Defaults().balanceRelThreshold, 1.1);
}

void TestCacheAwarePolicy::balancedFleetFollowsTheBestMatch()
{
    // Match rates 0.4 / 0.1 / 0: 0.4 > 0.3 wins although backend 0 is busier.
    ScriptedPrefixSource source {{{0, 4}, {1, 1}}};
    const CacheAwarePolicy policy {gatewayDefaults(), &source};
    QCOMPARE(firstChoice(policy, withLoads({20, 5, 0})), 0);
    // The v1 threshold (0.5) is not met by 0.4: least loaded instead.
    const CacheAwarePolicy v1 {v1Defaults(), &source, "sglang_cache_aware_v1"};
    QCOMPARE(v1.name(), std::string_view {"sglang_cache_aware_v1"});
    QCOMPARE(firstChoice(v1, withLoads({20, 5, 0})), 2);
}

void TestCacheAwarePolicy::aWeakMatchGoesToTheLeastLoaded()
{
    // Exactly at the threshold is not above it (SGLang: match_rate > cache_threshold).
    ScriptedPrefixSource source {{{0, 3}}};
    const CacheAwarePolicy policy {gatewayDefaults(), &source};
    QCOMPARE(firstChoice(policy, withLoads({1, 3, 2})), 0); // 0 is also least loaded
    QCOMPARE(firstChoice(policy, withLoads({4, 3, 2})), 2);
}

void TestCacheAwarePolicy::imbalanceSwitchesToTheLeastLoaded()
{
    ScriptedPrefixSource source {{{0, 10}}}; // backend 0 holds everything
    const CacheAwarePolicy policy {gatewayDefaults(), &source};
    // max - min = 60 <= 64: balanced, the full match wins.
    QCOMPARE(firstChoice(policy, withLoads({70, 10})), 0);
    // 90 > 64 and 100 > 1.5 x 10: imbalanced, the least loaded wins despite the match.
    QCOMPARE(firstChoice(policy, withLoads({100, 10})), 1);
    // v1: 60 > 32 and 70 > 1.1 x 10: already imbalanced.
    const CacheAwarePolicy v1 {v1Defaults(), &source};
    QCOMPARE(firstChoice(v1, withLoads({70, 10})), 1);
}

void TestCacheAwarePolicy::relativeThresholdMatters()
{
    ScriptedPrefixSource source {{{0, 10}}};
    // 300 vs 250: difference 50 > 32, and 300 > 1.1 x 250 = 275: v1 is imbalanced.
    const CacheAwarePolicy v1 {v1Defaults(), &source};
    QCOMPARE(firstChoice(v1, withLoads({300, 250})), 1);
    // 300 vs 280: difference 20 <= 32: balanced.
    QCOMPARE(firstChoice(v1, withLoads({300, 280})), 0);
    // Gateway defaults: 200 vs 130: 70 > 64 and 200 > 1.5 x 130 = 195: imbalanced.
    const CacheAwarePolicy policy {gatewayDefaults(), &source};
    QCOMPARE(firstChoice(policy, withLoads({200, 130})), 1);
    // 200 vs 140: 60 <= 64: balanced. 300 vs 210: 90 > 64 but 300 <= 315: balanced.
    QCOMPARE(firstChoice(policy, withLoads({200, 140})), 0);
    QCOMPARE(firstChoice(policy, withLoads({300, 210})), 0);
}

void TestCacheAwarePolicy::recordsInEveryBranch()
{
    ScriptedPrefixSource source {{{0, 10}}};
    const CacheAwarePolicy policy {gatewayDefaults(), &source};
    QCOMPARE(firstChoice(policy, withLoads({0, 0})), 0);          // cache branch
    QCOMPARE(firstChoice(policy, withLoads({100, 10})), 1);       // imbalance branch
    firstChoice(policy, withLoads({0, 0}), 0);                    // no blocks: nothing recorded
    QCOMPARE(source.recorded().size(), std::size_t {2});
    QCOMPARE(source.recorded()[0], (std::pair<int, std::size_t> {0, 10}));
    QCOMPARE(source.recorded()[1], (std::pair<int, std::size_t> {1, 10}));
}

void TestCacheAwarePolicy::tiesAreRandom()
{
    ScriptedPrefixSource source {{{0, 10}, {1, 10}, {2, 10}}};
    const CacheAwarePolicy policy {gatewayDefaults(), &source};
    const auto shares = firstChoiceShares(policy, equalTargets(3), allCandidates(3), withLoads({1, 1, 1}),
                                          promptRequest(1, 10), 30000, 8);
    for (const double share : shares) {
        STRATEGY_VERIFY_SHARE(share, 1.0 / 3.0, 0.015);
    }
}

void TestCacheAwarePolicy::keepsTheRankingContract()
{
    static ScriptedPrefixSource source {{{1, 3}, {4, 8}}};
    checkRankingContract([](const std::vector<PolicyTarget> &) { return std::make_unique<CacheAwarePolicy>(CacheAwareParams {}, &source); },
                         true);
}

QTEST_APPLESS_MAIN(TestCacheAwarePolicy)
#include "testcacheawarepolicy.moc"
