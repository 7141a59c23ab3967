#include "routing/gpupresets.h"
#include "routing/prefilldecode.h"

#include "gpuroutingtestsupport.h"

#include <QTest>

using namespace GpuRoutingTest;

class TestPrefillDecode final : public QObject {
    Q_OBJECT

private slots:
    void disaggregatesOnlyAboveTheThreshold_data()
    {
        QTest::addColumn<int>("threshold");
        QTest::addColumn<int>("prompt");
        QTest::addColumn<int>("cached");
        QTest::addColumn<bool>("disaggregated");
        QTest::addColumn<int>("uncached");
        // llm-d's rule is strict: exactly the threshold stays aggregated.
        QTest::newRow("uncached == threshold") << 16 << 1040 << 1024 << false << 16;
        QTest::newRow("uncached == threshold + 1") << 16 << 1041 << 1024 << true << 17;
        QTest::newRow("cold long prompt") << 16 << 4000 << 0 << true << 4000;
        QTest::newRow("chat turn, prefix cached") << 256 << 5050 << 5000 << false << 50;
        QTest::newRow("code edit, large suffix") << 256 << 31500 << 30000 << true << 1500;
        QTest::newRow("threshold 0, one uncached token") << 0 << 100 << 99 << true << 1;
        QTest::newRow("threshold 0, fully cached") << 0 << 100 << 100 << false << 0;
        // A cache estimate above the prompt (stale or rounded) never goes negative.
        QTest::newRow("overestimated cache") << 0 << 100 << 500 << false << 0;
        QTest::newRow("negative cache estimate") << 16 << 40 << -3 << true << 40;
        QTest::newRow("empty prompt") << 0 << 0 << 0 << false << 0;
    }

    void disaggregatesOnlyAboveTheThreshold()
    {
        QFETCH(int, threshold);
        QFETCH(int, prompt);
        QFETCH(int, cached);
        QFETCH(bool, disaggregated);
        QFETCH(int, uncached);
        PrefillDecodeSettings settings;
        settings.uncachedTokensThreshold = threshold;
        const PdVerdict verdict = decidePrefillDecode(settings, prompt, cached);
        QCOMPARE(verdict.decision == PdDecision::Disaggregated, disaggregated);
        QCOMPARE(verdict.uncachedTokens, uncached);
    }

    void disabledNeverDisaggregates()
    {
        PrefillDecodeSettings settings;
        settings.enabled = false;
        settings.uncachedTokensThreshold = 0;
        const PdVerdict verdict = decidePrefillDecode(settings, 100000, 0);
        QCOMPARE(verdict.decision, PdDecision::Aggregated);
        QCOMPARE(verdict.uncachedTokens, 100000); // still reported, for the route reason
    }

    void prefillWorkMustNotExceedTheDecodeSide_data()
    {
        QTest::addColumn<double>("ratio");
        QTest::addColumn<int>("prompt");
        QTest::addColumn<int>("cachedOnDecode");
        QTest::addColumn<qint64>("decodeBacklog");
        QTest::addColumn<int>("cachedOnPrefill");
        QTest::addColumn<qint64>("prefillBacklog");
        QTest::addColumn<qint64>("prefillWork");
        QTest::addColumn<qint64>("decodeWork");
        QTest::addColumn<bool>("split");
        // A session start: both sides cold and idle, equal work: split.
        QTest::newRow("cold on both, idle") << 1.0 << 5000 << 0 << qint64(0) << 0 << qint64(0) << qint64(5000) << qint64(5000) << true;
        // A chat turn whose context the decode server holds and the prefill server does
        // not (it never sees the answers): the prefill server would redo the whole
        // context to save the decode server 50 tokens.
        QTest::newRow("context only on decode") << 1.0 << 5050 << 5000 << qint64(0) << 0 << qint64(0) << qint64(5050) << qint64(50) << false;
        // Cold on both, but the prefill server already has three prompts queued.
        QTest::newRow("prefill server backed up") << 1.0 << 4000 << 0 << qint64(0) << 0 << qint64(12000) << qint64(16000) << qint64(4000) << false;
        // The decode server is the busier one: splitting takes work off it.
        QTest::newRow("decode server backed up") << 1.0 << 4000 << 0 << qint64(9000) << 0 << qint64(4000) << qint64(8000) << qint64(13000) << true;
        // The prefill server holds the prefix too: only the suffix is its work.
        QTest::newRow("prefix cached on prefill") << 1.0 << 4000 << 0 << qint64(0) << 3000 << qint64(2000) << qint64(3000) << qint64(4000) << true;
        // Exactly at the ratio still splits; a looser ratio tolerates a busier prefill side.
        QTest::newRow("at the ratio") << 2.0 << 4000 << 0 << qint64(0) << 0 << qint64(4000) << qint64(8000) << qint64(4000) << true;
        QTest::newRow("over the ratio") << 2.0 << 4000 << 0 << qint64(0) << 0 << qint64(4001) << qint64(8001) << qint64(4000) << false;
        // 0: the check is off (llm-d's rule alone), whatever the work.
        QTest::newRow("ratio 0") << 0.0 << 5050 << 5000 << qint64(0) << 0 << qint64(100000) << qint64(105050) << qint64(50) << true;
        // Estimates beyond the prompt and negative backlogs are clamped.
        QTest::newRow("overestimated caches") << 1.0 << 100 << 500 << qint64(-5) << 900 << qint64(0) << qint64(0) << qint64(0) << true;
    }

    void prefillWorkMustNotExceedTheDecodeSide()
    {
        QFETCH(double, ratio);
        QFETCH(int, prompt);
        QFETCH(int, cachedOnDecode);
        QFETCH(qint64, decodeBacklog);
        QFETCH(int, cachedOnPrefill);
        QFETCH(qint64, prefillBacklog);
        QFETCH(qint64, prefillWork);
        QFETCH(qint64, decodeWork);
        QFETCH(bool, split);
        PrefillDecodeSettings settings;
        settings.maxPrefillWorkRatio = ratio;
        const PdWorkComparison comparison =
            comparePrefillWork(settings, PdWork {prompt, cachedOnDecode, decodeBacklog, cachedOnPrefill, prefillBacklog});
        QCOMPARE(comparison.prefillWork, prefillWork);
        QCOMPARE(comparison.decodeWork, decodeWork);
        QCOMPARE(comparison.allowsSplit, split);
    }

    void workIsReadFromTheRoutersCounters()
    {
        BackendSnapshot snapshot = snapshotOf(3);
        snapshot.backends[0].inFlightPrefillTokens = 900;
        snapshot.backends[2].inFlightPrefillTokens = 4000;
        const PdWork work = pdWorkFrom(snapshot, 5000, 0, 100, 2, 300);
        QCOMPARE(work.promptTokens, 5000);
        QCOMPARE(work.decodeBacklogTokens, std::int64_t {900});
        QCOMPARE(work.cachedOnDecode, 100);
        QCOMPARE(work.prefillBacklogTokens, std::int64_t {4000});
        QCOMPARE(work.cachedOnPrefill, 300);
        // A backend the snapshot does not list has nothing in flight.
        QCOMPARE(pdWorkFrom(snapshot, 5000, 7, 0, -1, 0).decodeBacklogTokens, std::int64_t {0});
        QCOMPARE(pdWorkFrom(snapshot, 5000, 7, 0, -1, 0).prefillBacklogTokens, std::int64_t {0});
    }

    void defaultsFollowTheBlisStudy()
    {
        const PrefillDecodeSettings settings;
        QCOMPARE(settings.uncachedTokensThreshold, 16);
        QVERIFY(settings.enabled);
        QCOMPARE(settings.maxPrefillWorkRatio, 1.0);
        QCOMPARE(QByteArray(pdDecisionName(PdDecision::Disaggregated)), QByteArray("disaggregated"));
        QCOMPARE(QByteArray(pdDecisionName(PdDecision::Aggregated)), QByteArray("aggregated"));
    }

    void poolNamesRoundTrip()
    {
        for (const QString &name : targetPoolNames()) {
            const auto pool = parseTargetPool(name);
            QVERIFY(pool.has_value());
            QCOMPARE(targetPoolName(*pool), name);
        }
        QVERIFY(!parseTargetPool(QStringLiteral("both")).has_value());
        QVERIFY(!parseTargetPool(QStringLiteral("Prefill")).has_value());
        QCOMPARE(targetPoolName(TargetPool::Both), QString());
    }

    // The decision reads the chosen decode server's cached tokens from the route
    // policy's own ranking: the same request stays aggregated on a server that holds its
    // prefix and is disaggregated on one that does not.
    void decidesOnTheRankingsCachedTokens()
    {
        ScriptedPrefixSource source {{{0, 60}, {1, 0}}}; // backend 0 holds 60 of 64 blocks
        GpuPolicyParams params;
        const auto policy = makeGpuPolicy(params, &source);
        QVERIFY(policy);
        const RequestSummary request = promptRequest(3, 64); // 1024 tokens
        const BackendSnapshot snapshot = snapshotOf(2);
        XoshiroRng rng {1};
        const Ranking ranking = rankOnce(*policy, equalTargets(2), allCandidates(2), snapshot, request, rng, 2);
        QCOMPARE(ranking.order.front(), 0); // the warm server wins
        QCOMPARE(ranking.cachedPromptTokens.size(), std::size_t {2});
        PrefillDecodeSettings settings;
        settings.uncachedTokensThreshold = 100;
        const auto onWarm = decidePrefillDecode(settings, request.estimatedPromptTokens, ranking.cachedPromptTokens[0]);
        const auto onCold = decidePrefillDecode(settings, request.estimatedPromptTokens, ranking.cachedPromptTokens[1]);
        QCOMPARE(onWarm.decision, PdDecision::Aggregated);
        QCOMPARE(onWarm.uncachedTokens, 64);
        QCOMPARE(onCold.decision, PdDecision::Disaggregated);
        QCOMPARE(onCold.uncachedTokens, 1024);
    }

    // The prefill pool is ranked before the decider has committed to a split: that
    // look-ahead must not tell any preset's index that the prompt went there.
    void aLookAheadRankingRecordsNothing()
    {
        for (const QString &preset : gpuPresetNames()) {
            ScriptedPrefixSource source {{{0, 10}}};
            GpuPolicyParams params;
            params.preset = preset;
            const auto policy = makeGpuPolicy(params, &source);
            QVERIFY2(policy, qPrintable(preset));
            const RequestSummary request = promptRequest(5, 64);
            const BackendSnapshot snapshot = snapshotOf(2);
            const std::vector<PolicyTarget> targets = equalTargets(2);
            const std::vector<int> candidates = allCandidates(2);
            XoshiroRng rng {1};
            Ranking out;
            RankInput lookAhead {targets, candidates, snapshot, request, -1, 1};
            lookAhead.recordChoice = false;
            policy->rank(lookAhead, rng, out);
            QVERIFY(!out.order.empty());
            QVERIFY2(source.recorded().empty(), qPrintable(preset));
            // Committed, every preset with a prefix scorer records its first choice
            // (epp_load has none).
            const RankInput committed {targets, candidates, snapshot, request, -1, 1};
            policy->rank(committed, rng, out);
            QCOMPARE(source.recorded().size(), preset == u"epp_load" ? std::size_t {0} : std::size_t {1});
        }
    }
};

QTEST_APPLESS_MAIN(TestPrefillDecode)
#include "testprefilldecode.moc"
