#include "routing/cacheawarepolicy.h"
#include "routing/dynamocostpolicy.h"
#include "routing/gpupresets.h"
#include "routing/prefixawarepolicy.h"
#include "routing/prefixindex.h"
#include "routing/scoredpolicy.h"

#include "gpuroutingtestsupport.h"

#include <QTest>

#include <functional>

using namespace GpuRoutingTest;

namespace {

GpuPolicyParams preset(const char *name)
{
    GpuPolicyParams params;
    params.preset = QString::fromLatin1(name);
    return params;
}

} // namespace

class TestGpuPresets final : public QObject {
    Q_OBJECT

private slots:
    void namesStartWithOurDefault();
    void everyPresetBuildsAndRanks();
    void sglangDefaultsAreThePublishedOnes();
    void eppProfilesAreThePublishedOnes();
    void dynamoAndPrefixAwareDefaults();
    void overridesReachThePolicy();
    void validationNamesTheBadField_data();
    void validationNamesTheBadField();
    void invalidParamsBuildNothing();
};

void TestGpuPresets::namesStartWithOurDefault()
{
    const QStringList names = gpuPresetNames();
    QCOMPARE(names.front(), QStringLiteral("prefix_aware"));
    QCOMPARE(GpuPolicyParams {}.preset, QStringLiteral("prefix_aware"));
    for (const char *name : {"sglang_cache_aware", "sglang_cache_aware_v1", "epp_default", "epp_load", "llmd_precise",
                             "prefix_only", "dynamo_cost"}) {
        QVERIFY2(names.contains(QString::fromLatin1(name)), name);
    }
}

void TestGpuPresets::everyPresetBuildsAndRanks()
{
    // Through a real index and without any source: each preset names itself, ranks every
    // candidate and (with a source) learns from its decision.
    for (const QString &name : gpuPresetNames()) {
        GpuPolicyParams params;
        params.preset = name;
        QVERIFY2(!validateGpuPolicyParams(params), qPrintable(name));
        PrefixIndex index;
        const std::unique_ptr<RoutePolicy> policy = makeGpuPolicy(params, &index);
        QVERIFY2(policy, qPrintable(name));
        QCOMPARE(QString::fromLatin1(policy->name().data(), static_cast<qsizetype>(policy->name().size())), name);
        XoshiroRng rng {1};
        const RequestSummary request = promptRequest(1, 20);
        const Ranking out = rankOnce(*policy, equalTargets(3), allCandidates(3), snapshotOf(3), request, rng, 3);
        QCOMPARE(out.order.size(), std::size_t {3});
        QCOMPARE(out.cachedPromptTokens.size(), name == QStringLiteral("epp_load") ? std::size_t {0} : std::size_t {3});
        std::vector<int> matched(1);
        index.match(request.promptBlocks, std::vector<int> {out.order.front()}, matched);
        QCOMPARE(matched.front(), name == QStringLiteral("epp_load") ? 0 : 20);

        const std::unique_ptr<RoutePolicy> sourceless = makeGpuPolicy(params, nullptr);
        QVERIFY(sourceless);
        QCOMPARE(rankOnce(*sourceless, equalTargets(3), allCandidates(3), snapshotOf(3), request, rng, 2).order.size(),
                 std::size_t {2});
    }
}

void TestGpuPresets::sglangDefaultsAreThePublishedOnes()
{
    const GpuPolicyParams gateway = withPresetDefaults(preset("sglang_cache_aware"));
    QCOMPARE(gateway.cacheThreshold, std::optional<double> {0.3});
    QCOMPARE(gateway.balanceAbsThreshold, std::optional<double> {64.0});
    QCOMPARE(gateway.balanceRelThreshold, std::optional<double> {1.5});
    QVERIFY(!gateway.scorers && !gateway.decodeWeight && !gateway.overlapScoreWeight);
    const GpuPolicyParams v1 = withPresetDefaults(preset("sglang_cache_aware_v1"));
    QCOMPARE(v1.cacheThreshold, std::optional<double> {0.5});
    QCOMPARE(v1.balanceAbsThreshold, std::optional<double> {32.0});
    QCOMPARE(v1.balanceRelThreshold, std::optional<double> {1.1});
}

void TestGpuPresets::eppProfilesAreThePublishedOnes()
{
    const GpuPolicyParams epp = withPresetDefaults(preset("epp_default"));
    GpuScorerWeights expected;
    expected.prefix = 3.0;
    expected.queue = 2.0;
    expected.kvCache = 2.0;
    QCOMPARE(epp.scorers, std::optional<GpuScorerWeights> {expected});
    QCOMPARE(epp.picker, std::optional<GpuPicker> {GpuPicker::MaxScore});
    QCOMPARE(epp.maxPrefixBlocks, std::optional<int> {256});
    QCOMPARE(epp.prefixAffinityThreshold, std::optional<double> {0.0});
    QCOMPARE(epp.tokenLoadThreshold, std::optional<double> {4194304.0});
    QCOMPARE(epp.loadAwareThreshold, std::optional<double> {128.0});

    GpuScorerWeights precise;
    precise.prefix = 2.0;
    precise.kvCache = 1.0;
    precise.queue = 1.0;
    QCOMPARE(withPresetDefaults(preset("llmd_precise")).scorers, std::optional<GpuScorerWeights> {precise});
    GpuScorerWeights load;
    load.queue = 2.0;
    load.kvCache = 2.0;
    QCOMPARE(withPresetDefaults(preset("epp_load")).scorers, std::optional<GpuScorerWeights> {load});
    GpuScorerWeights prefixOnly;
    prefixOnly.prefix = 1.0;
    QCOMPARE(withPresetDefaults(preset("prefix_only")).scorers, std::optional<GpuScorerWeights> {prefixOnly});

    const auto policy = makeGpuPolicy(preset("epp_default"), nullptr);
    const auto *scored = dynamic_cast<const ScoredPolicy *>(policy.get());
    QVERIFY(scored);
    QCOMPARE(scored->profile().scorers.size(), std::size_t {3});
    QCOMPARE(scored->profile().maxPrefixBlocks, 256);
}

void TestGpuPresets::dynamoAndPrefixAwareDefaults()
{
    const GpuPolicyParams dynamo = withPresetDefaults(preset("dynamo_cost"));
    QCOMPARE(dynamo.overlapScoreWeight, std::optional<double> {1.0});
    QCOMPARE(dynamo.routerTemperature, std::optional<double> {0.0});
    const GpuPolicyParams ours = withPresetDefaults(GpuPolicyParams {});
    QCOMPARE(ours.decodeWeight, std::optional<double> {PrefixAwareParams::DEFAULT_DECODE_WEIGHT});
    QCOMPARE(ours.boundedLoadFactor, std::optional<double> {PrefixAwareParams::DEFAULT_BOUNDED_LOAD_FACTOR});
    QCOMPARE(ours.kvPressureStart, std::optional<double> {PrefixAwareParams::DEFAULT_KV_PRESSURE_START});
    QCOMPARE(ours.kvPressureMatchKeep, std::optional<double> {PrefixAwareParams::DEFAULT_KV_PRESSURE_MATCH_KEEP});
    QCOMPARE(ours.engineQueueWeight, std::optional<double> {PrefixAwareParams::DEFAULT_ENGINE_QUEUE_WEIGHT});
    QCOMPARE(ours.backlogWeight, std::optional<double> {PrefixAwareParams::DEFAULT_BACKLOG_WEIGHT});
    QCOMPARE(ours.kvMissBoost, std::optional<double> {PrefixAwareParams::DEFAULT_KV_MISS_BOOST});
    QCOMPARE(ours.kvMissStart, std::optional<double> {PrefixAwareParams::DEFAULT_KV_MISS_START});
    QCOMPARE(ours.kvMissMinMatch, std::optional<double> {PrefixAwareParams::DEFAULT_KV_MISS_MIN_MATCH});
    QCOMPARE(ours.idleMissWeight, std::optional<double> {PrefixAwareParams::DEFAULT_IDLE_MISS_WEIGHT});
    QCOMPARE(ours.engineQueueFadeMs, std::optional<double> {PrefixAwareParams::DEFAULT_ENGINE_QUEUE_FADE_MS});
    QCOMPARE(ours.prefillProgressWeight, std::optional<double> {PrefixAwareParams::DEFAULT_PREFILL_PROGRESS_WEIGHT});
    QCOMPARE(ours.widelyHeldShare, std::optional<double> {PrefixAwareParams::DEFAULT_WIDELY_HELD_SHARE});
    QCOMPARE(ours.replicaPlacementSlack, std::optional<double> {0.0});
    QVERIFY(!ours.cacheThreshold && !ours.scorers);
}

void TestGpuPresets::overridesReachThePolicy()
{
    GpuPolicyParams sglang = preset("sglang_cache_aware");
    sglang.cacheThreshold = 0.7;
    const auto cacheAware = makeGpuPolicy(sglang, nullptr);
    const auto *typed = dynamic_cast<const CacheAwarePolicy *>(cacheAware.get());
    QVERIFY(typed);
    QCOMPARE(typed->params().cacheThreshold, 0.7);
    QCOMPARE(typed->params().balanceAbsThreshold, 64.0); // unset keys keep the preset's default

    GpuPolicyParams dynamo = preset("dynamo_cost");
    dynamo.overlapScoreWeight = 2.5;
    const auto cost = makeGpuPolicy(dynamo, nullptr);
    QCOMPARE(dynamic_cast<const DynamoCostPolicy *>(cost.get())->params().overlapScoreWeight, 2.5);

    GpuPolicyParams ours;
    ours.boundedLoadFactor = 1.5;
    ours.decodeWeight = 0.0;
    ours.backlogWeight = 2.0;
    ours.kvMissBoost = 3.0;
    ours.kvMissStart = 0.7;
    ours.kvMissMinMatch = 0.25;
    ours.idleMissWeight = 2.0;
    ours.engineQueueFadeMs = 300.0;
    ours.prefillProgressWeight = 0.25;
    ours.widelyHeldShare = 0.75;
    const auto prefixAware = makeGpuPolicy(ours, nullptr);
    const auto *ourTyped = dynamic_cast<const PrefixAwarePolicy *>(prefixAware.get());
    QCOMPARE(ourTyped->params().boundedLoadFactor, 1.5);
    QCOMPARE(ourTyped->params().decodeWeight, 0.0);
    QCOMPARE(ourTyped->params().backlogWeight, 2.0);
    QCOMPARE(ourTyped->params().kvMissBoost, 3.0);
    QCOMPARE(ourTyped->params().kvMissStart, 0.7);
    QCOMPARE(ourTyped->params().kvMissMinMatch, 0.25);
    QCOMPARE(ourTyped->params().idleMissWeight, 2.0);
    QCOMPARE(ourTyped->params().engineQueueFadeMs, 300.0);
    QCOMPARE(ourTyped->params().prefillProgressWeight, 0.25);
    QCOMPARE(ourTyped->params().widelyHeldShare, 0.75);

    GpuPolicyParams custom = preset("epp_default");
    GpuScorerWeights weights;
    weights.session = 1.0;
    weights.loadAware = 2.0;
    custom.scorers = weights;
    custom.picker = GpuPicker::WeightedRandom;
    custom.prefixAffinityThreshold = 0.8;
    const auto scored = makeGpuPolicy(custom, nullptr);
    const auto &profile = dynamic_cast<const ScoredPolicy *>(scored.get())->profile();
    QCOMPARE(profile.scorers.size(), std::size_t {2});
    QCOMPARE(profile.picker, GpuPicker::WeightedRandom);
    QCOMPARE(profile.affinityThreshold, 0.8);
    QCOMPARE(profile.explorationProbability, 0.01);
}

void TestGpuPresets::validationNamesTheBadField_data()
{
    using Mutation = std::function<void(GpuPolicyParams &)>;
    QTest::addColumn<Mutation>("mutate");
    QTest::addColumn<QString>("field");
    QTest::newRow("unknown preset") << Mutation([](auto &p) { p.preset = QStringLiteral("cache_aware"); })
                                    << QStringLiteral("preset");
    QTest::newRow("key of another preset") << Mutation([](auto &p) { p.cacheThreshold = 0.5; })
                                           << QStringLiteral("cache_threshold");
    QTest::newRow("scorers on sglang") << Mutation([](auto &p) {
        p.preset = QStringLiteral("sglang_cache_aware");
        p.scorers = GpuScorerWeights {};
    }) << QStringLiteral("scorers");
    QTest::newRow("threshold above 1") << Mutation([](auto &p) {
        p.preset = QStringLiteral("sglang_cache_aware");
        p.cacheThreshold = 1.5;
    }) << QStringLiteral("cache_threshold");
    QTest::newRow("relative below 1") << Mutation([](auto &p) {
        p.preset = QStringLiteral("sglang_cache_aware_v1");
        p.balanceRelThreshold = 0.9;
    }) << QStringLiteral("balance_rel_threshold");
    QTest::newRow("negative abs") << Mutation([](auto &p) {
        p.preset = QStringLiteral("sglang_cache_aware_v1");
        p.balanceAbsThreshold = -1.0;
    }) << QStringLiteral("balance_abs_threshold");
    QTest::newRow("negative weight") << Mutation([](auto &p) {
        p.preset = QStringLiteral("epp_default");
        GpuScorerWeights weights;
        weights.prefix = 1.0;
        weights.queue = -2.0;
        p.scorers = weights;
    }) << QStringLiteral("scorers.queue");
    QTest::newRow("no scorer") << Mutation([](auto &p) {
        p.preset = QStringLiteral("epp_default");
        p.scorers = GpuScorerWeights {};
    }) << QStringLiteral("scorers");
    QTest::newRow("zero token threshold") << Mutation([](auto &p) {
        p.preset = QStringLiteral("epp_default");
        p.tokenLoadThreshold = 0.0;
    }) << QStringLiteral("token_load_threshold");
    QTest::newRow("max blocks 0") << Mutation([](auto &p) {
        p.preset = QStringLiteral("prefix_only");
        p.maxPrefixBlocks = 0;
    }) << QStringLiteral("max_prefix_blocks");
    QTest::newRow("exploration above 1") << Mutation([](auto &p) {
        p.preset = QStringLiteral("epp_default");
        p.explorationProbability = 2.0;
    }) << QStringLiteral("exploration_probability");
    QTest::newRow("negative overlap") << Mutation([](auto &p) {
        p.preset = QStringLiteral("dynamo_cost");
        p.overlapScoreWeight = -1.0;
    }) << QStringLiteral("overlap_score_weight");
    QTest::newRow("nan temperature") << Mutation([](auto &p) {
        p.preset = QStringLiteral("dynamo_cost");
        p.routerTemperature = std::numeric_limits<double>::quiet_NaN();
    }) << QStringLiteral("router_temperature");
    QTest::newRow("load factor below 1") << Mutation([](auto &p) { p.boundedLoadFactor = 0.8; })
                                         << QStringLiteral("bounded_load_factor");
    QTest::newRow("negative decode weight") << Mutation([](auto &p) { p.decodeWeight = -0.1; })
                                            << QStringLiteral("decode_weight");
    QTest::newRow("kv keep above 1") << Mutation([](auto &p) { p.kvPressureMatchKeep = 1.5; })
                                     << QStringLiteral("kv_pressure_match_keep");
    QTest::newRow("negative backlog weight") << Mutation([](auto &p) { p.backlogWeight = -1.0; })
                                             << QStringLiteral("backlog_weight");
    QTest::newRow("backlog weight on epp") << Mutation([](auto &p) {
        p.preset = QStringLiteral("epp_default");
        p.backlogWeight = 1.0;
    }) << QStringLiteral("backlog_weight");
    QTest::newRow("negative kv miss boost") << Mutation([](auto &p) { p.kvMissBoost = -1.0; })
                                           << QStringLiteral("kv_miss_boost");
    QTest::newRow("kv miss start at 1") << Mutation([](auto &p) { p.kvMissStart = 1.0; })
                                        << QStringLiteral("kv_miss_start");
    QTest::newRow("kv miss min match above 1") << Mutation([](auto &p) { p.kvMissMinMatch = 1.5; })
                                               << QStringLiteral("kv_miss_min_match");
    QTest::newRow("idle miss weight below 1") << Mutation([](auto &p) { p.idleMissWeight = 0.5; })
                                              << QStringLiteral("idle_miss_weight");
    QTest::newRow("negative engine queue fade") << Mutation([](auto &p) { p.engineQueueFadeMs = -1.0; })
                                                << QStringLiteral("engine_queue_fade_ms");
    QTest::newRow("prefill progress weight above 1") << Mutation([](auto &p) { p.prefillProgressWeight = 1.5; })
                                                     << QStringLiteral("prefill_progress_weight");
    QTest::newRow("widely held share above 1") << Mutation([](auto &p) { p.widelyHeldShare = 1.01; })
                                               << QStringLiteral("widely_held_share");
    QTest::newRow("replica placement slack above 10") << Mutation([](auto &p) { p.replicaPlacementSlack = 11.0; })
                                                      << QStringLiteral("replica_placement_slack");
    QTest::newRow("kv miss boost on sglang") << Mutation([](auto &p) {
        p.preset = QStringLiteral("sglang_cache_aware");
        p.kvMissBoost = 1.0;
    }) << QStringLiteral("kv_miss_boost");
    QTest::newRow("dynamo key on ours") << Mutation([](auto &p) { p.overlapScoreWeight = 1.0; })
                                        << QStringLiteral("overlap_score_weight");
}

void TestGpuPresets::validationNamesTheBadField()
{
    using Mutation = std::function<void(GpuPolicyParams &)>;
    QFETCH(Mutation, mutate);
    QFETCH(QString, field);
    GpuPolicyParams params;
    mutate(params);
    const std::optional<GpuPolicyError> problem = validateGpuPolicyParams(params);
    QVERIFY(problem);
    QCOMPARE(problem->field, field);
    QVERIFY(!problem->message.isEmpty());
}

void TestGpuPresets::invalidParamsBuildNothing()
{
    GpuPolicyParams params;
    params.preset = QStringLiteral("round_robin");
    QVERIFY(!makeGpuPolicy(params, nullptr));
    const auto problem = validateGpuPolicyParams(params);
    QVERIFY(problem->message.contains(QStringLiteral("prefix_aware")));
}

QTEST_APPLESS_MAIN(TestGpuPresets)
#include "testgpupresets.moc"
