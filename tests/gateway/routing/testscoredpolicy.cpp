#include "routing/scoredpolicy.h"

#include "gpuroutingtestsupport.h"

#include <QTest>

using namespace GpuRoutingTest;

namespace {

ScoredProfile profileOf(std::vector<WeightedScorer> scorers, GpuPicker picker = GpuPicker::MaxScore)
{
    ScoredProfile profile;
    profile.name = "test";
    profile.scorers = std::move(scorers);
    profile.picker = picker;
    return profile;
}

ScoredProfile eppDefault()
{
    return profileOf({{GpuScorerKind::Queue, 2.0}, {GpuScorerKind::KvCache, 2.0}, {GpuScorerKind::Prefix, 3.0}});
}

// Backend 0 holds the whole 10-block prompt but has the longer queue and fuller cache;
// backend 1 holds nothing and is idle.
BackendSnapshot cachedButBusy()
{
    BackendSnapshot snapshot = snapshotOf(2);
    setEngine(snapshot.backends[0], 8, 10, 0.6);
    setEngine(snapshot.backends[1], 0, 10, 0.2);
    return snapshot;
}

} // namespace

class TestScoredPolicy final : public QObject {
    Q_OBJECT

private slots:
    void totalsAreWeightedSums();
    void weightsChangeThePick();
    void maxScoreBreaksTiesAtRandom();
    void weightedRandomDrawsInProportion();
    void affinityFilterKeepsCachedCandidates();
    void recordsTheChoiceAndReportsCachedTokens();
    void matchesAtMostMaxPrefixBlocks();
    void withoutPrefixScorersTheSourceIsNotUsed();
    void keepsTheRankingContract();
};

void TestScoredPolicy::totalsAreWeightedSums()
{
    ScriptedPrefixSource source {{{0, 10}}};
    const ScoredPolicy policy {eppDefault(), &source};
    QCOMPARE(policy.name(), std::string_view {"test"});
    XoshiroRng rng {1};
    const Ranking out = rankOnce(policy, equalTargets(2), allCandidates(2), cachedButBusy(), promptRequest(1, 10), rng, 2);
    // Backend 0: queue 0, kv 0.4, prefix 1 -> 2*0 + 2*0.4 + 3*1 = 3.8.
    // Backend 1: queue 1, kv 0.8, prefix 0 -> 2*1 + 2*0.8 + 0 = 3.6.
    QVERIFY(std::abs(out.scores[0] - 3.8) < 1e-9);
    QVERIFY(std::abs(out.scores[1] - 3.6) < 1e-9);
    QCOMPARE(out.order, (std::vector<int> {0, 1}));
}

void TestScoredPolicy::weightsChangeThePick()
{
    ScriptedPrefixSource source {{{0, 10}}};
    XoshiroRng rng {2};
    const BackendSnapshot snapshot = cachedButBusy();
    const ScoredPolicy cacheHeavy {profileOf({{GpuScorerKind::Prefix, 3.0}, {GpuScorerKind::Queue, 2.0}}), &source};
    QCOMPARE(rankOnce(cacheHeavy, equalTargets(2), allCandidates(2), snapshot, promptRequest(1, 10), rng, 1).order,
             std::vector<int> {0});
    const ScoredPolicy queueHeavy {profileOf({{GpuScorerKind::Prefix, 1.0}, {GpuScorerKind::Queue, 2.0}}), &source};
    QCOMPARE(rankOnce(queueHeavy, equalTargets(2), allCandidates(2), snapshot, promptRequest(1, 10), rng, 1).order,
             std::vector<int> {1});
    // A zero weight leaves the scorer out entirely.
    const ScoredPolicy prefixOff {profileOf({{GpuScorerKind::Prefix, 0.0}, {GpuScorerKind::Queue, 1.0}}), &source};
    QCOMPARE(rankOnce(prefixOff, equalTargets(2), allCandidates(2), snapshot, promptRequest(1, 10), rng, 1).order,
             std::vector<int> {1});
}

void TestScoredPolicy::maxScoreBreaksTiesAtRandom()
{
    ScriptedPrefixSource source;
    const ScoredPolicy policy {eppDefault(), &source};
    const auto shares = firstChoiceShares(policy, equalTargets(4), allCandidates(4), snapshotOf(4), promptRequest(1, 4),
                                          40000, 9);
    for (const double share : shares) {
        STRATEGY_VERIFY_SHARE(share, 0.25, 0.015);
    }
}

void TestScoredPolicy::weightedRandomDrawsInProportion()
{
    // Prefix scores 0.25 and 0.75: drawn 1:3.
    ScriptedPrefixSource source {{{0, 1}, {1, 3}}};
    const ScoredPolicy policy {profileOf({{GpuScorerKind::Prefix, 1.0}}, GpuPicker::WeightedRandom), &source};
    const auto shares = firstChoiceShares(policy, equalTargets(2), allCandidates(2), snapshotOf(2), promptRequest(1, 4),
                                          40000, 10);
    STRATEGY_VERIFY_SHARE(shares[0], 0.25, 0.015);
    STRATEGY_VERIFY_SHARE(shares[1], 0.75, 0.015);
    // All totals 0: uniform.
    ScriptedPrefixSource none;
    const ScoredPolicy zero {profileOf({{GpuScorerKind::Prefix, 1.0}}, GpuPicker::WeightedRandom), &none};
    const auto uniform = firstChoiceShares(zero, equalTargets(2), allCandidates(2), snapshotOf(2), promptRequest(1, 4),
                                           40000, 11);
    STRATEGY_VERIFY_SHARE(uniform[0], 0.5, 0.015);
}

void TestScoredPolicy::affinityFilterKeepsCachedCandidates()
{
    // Backend 0 matches 9/10 but is the busiest; queue-only scoring would never pick it.
    ScriptedPrefixSource source {{{0, 9}, {1, 5}}};
    BackendSnapshot snapshot = snapshotOf(3);
    setEngine(snapshot.backends[0], 20, 0, 0.1);
    setEngine(snapshot.backends[1], 0, 0, 0.1);
    setEngine(snapshot.backends[2], 0, 0, 0.1);
    ScoredProfile profile = profileOf({{GpuScorerKind::Queue, 1.0}});
    profile.affinityThreshold = 0.8;
    const ScoredPolicy filtered {profile, &source};
    XoshiroRng rng {3};
    const Ranking out = rankOnce(filtered, equalTargets(3), allCandidates(3), snapshot, promptRequest(1, 10), rng, 3);
    QCOMPARE(out.order.front(), 0);
    // When nobody passes the threshold, everyone is kept.
    source.setMatch(0, 2);
    const Ranking open = rankOnce(filtered, equalTargets(3), allCandidates(3), snapshot, promptRequest(1, 10), rng, 1);
    QVERIFY(open.order.front() != 0);
    // Exploration: with probability 1 the filter never applies.
    source.setMatch(0, 9);
    profile.explorationProbability = 1.0;
    const ScoredPolicy exploring {profile, &source};
    for (int i = 0; i < 50; ++i) {
        QVERIFY(rankOnce(exploring, equalTargets(3), allCandidates(3), snapshot, promptRequest(1, 10), rng, 1).order.front() != 0);
    }
}

void TestScoredPolicy::recordsTheChoiceAndReportsCachedTokens()
{
    ScriptedPrefixSource source {{{1, 6}, {2, 3}}};
    const ScoredPolicy policy {profileOf({{GpuScorerKind::Prefix, 1.0}}), &source};
    XoshiroRng rng {4};
    const Ranking out = rankOnce(policy, equalTargets(3), allCandidates(3), snapshotOf(3), promptRequest(1, 8), rng, 1);
    QCOMPARE(out.order, std::vector<int> {1});
    QCOMPARE(source.recorded().size(), std::size_t {1});
    QCOMPARE(source.recorded().front(), (std::pair<int, std::size_t> {1, 8}));
    QCOMPARE(out.cachedPromptTokens, (std::vector<int> {0, 96, 48}));
}

void TestScoredPolicy::matchesAtMostMaxPrefixBlocks()
{
    // 300-block prompt; the profile looks at 256 (the EPP default): a backend holding 256
    // scores a full 1.0 and only 256 blocks are recorded.
    ScriptedPrefixSource source {{{0, 300}, {1, 128}}};
    ScoredProfile profile = profileOf({{GpuScorerKind::Prefix, 1.0}});
    QCOMPARE(profile.maxPrefixBlocks, 256);
    const ScoredPolicy policy {profile, &source};
    XoshiroRng rng {5};
    const Ranking out = rankOnce(policy, equalTargets(2), allCandidates(2), snapshotOf(2), promptRequest(1, 300), rng, 2);
    QCOMPARE(out.scores[0], 1.0);
    QCOMPARE(out.scores[1], 0.5);
    QCOMPARE(source.recorded().front(), (std::pair<int, std::size_t> {0, 256}));
    QCOMPARE(out.cachedPromptTokens, (std::vector<int> {4096, 2048}));
}

void TestScoredPolicy::withoutPrefixScorersTheSourceIsNotUsed()
{
    ScriptedPrefixSource source {{{0, 10}}};
    const ScoredPolicy policy {profileOf({{GpuScorerKind::Queue, 2.0}, {GpuScorerKind::KvCache, 2.0}}), &source};
    XoshiroRng rng {6};
    const Ranking out = rankOnce(policy, equalTargets(2), allCandidates(2), cachedButBusy(), promptRequest(1, 10), rng, 1);
    QCOMPARE(out.order, std::vector<int> {1});
    QVERIFY(source.recorded().empty());
    QVERIFY(out.cachedPromptTokens.empty());
    // No source at all: prefix scores 0, nothing breaks.
    const ScoredPolicy sourceless {eppDefault(), nullptr};
    QCOMPARE(rankOnce(sourceless, equalTargets(2), allCandidates(2), cachedButBusy(), promptRequest(1, 10), rng, 1).order,
             std::vector<int> {1});
}

void TestScoredPolicy::keepsTheRankingContract()
{
    static ScriptedPrefixSource source {{{0, 2}, {3, 5}}};
    checkRankingContract([](const std::vector<PolicyTarget> &) { return std::make_unique<ScoredPolicy>(eppDefault(), &source); },
                         true);
    checkRankingContract(
        [](const std::vector<PolicyTarget> &) {
            ScoredProfile profile = profileOf({{GpuScorerKind::Prefix, 1.0}, {GpuScorerKind::TokenLoad, 1.0}},
                                              GpuPicker::WeightedRandom);
            profile.affinityThreshold = 0.5;
            return std::make_unique<ScoredPolicy>(profile, &source);
        },
        true);
}

QTEST_APPLESS_MAIN(TestScoredPolicy)
#include "testscoredpolicy.moc"
