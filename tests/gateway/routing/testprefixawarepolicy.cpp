#include "routing/prefixawarepolicy.h"
#include "routing/prefixindex.h"
#include "routing/scoredpolicy.h"

#include "gpuroutingtestsupport.h"

#include <QTest>

#include <numeric>
#include <set>

using namespace GpuRoutingTest;

namespace {

// The defaults spelled out, so these tests keep their arithmetic if defaults are retuned.
PrefixAwareParams testParams()
{
    PrefixAwareParams params;
    params.decodeWeight = 0.5;
    params.boundedLoadFactor = 1.25;
    params.kvPressureStart = 0.9;
    params.kvPressureMatchKeep = 0.5;
    params.engineQueueWeight = 1.0;
    return params;
}

Ranking rankWith(const RoutePolicy &policy, const BackendSnapshot &snapshot, const RequestSummary &request,
                 std::uint64_t seed = 1, std::vector<PolicyTarget> targets = {})
{
    XoshiroRng rng {seed};
    if (targets.empty()) {
        targets = equalTargets(snapshot.backends.size());
    }
    return rankOnce(policy, targets, allCandidates(snapshot.backends.size()), snapshot, request, rng,
                    static_cast<int>(snapshot.backends.size()));
}

// What the runtime does after a decision: the request is in flight on its target, and
// only its uncached prompt counts as prefill work there.
void dispatch(BackendSnapshot &snapshot, const RequestSummary &request, const Ranking &out)
{
    const auto chosen = static_cast<std::size_t>(out.order.front());
    BackendState &state = snapshot.backends[chosen];
    state.inFlightRequests += 1;
    state.inFlightTokens += request.expectedTokens();
    state.inFlightPrefillTokens += request.estimatedPromptTokens - out.cachedPromptTokens[chosen];
    state.inFlightDecodeTokens += request.expectedOutputTokens();
}

// A hot system prompt (64 blocks, ~1K tokens) plus a private 4-block question.
RequestSummary hotRequest(int i)
{
    RequestSummary request = promptRequest(7, 64);
    const std::vector<std::uint64_t> tail = blocksOf(1000 + static_cast<std::uint64_t>(i), 4);
    request.promptBlocks.insert(request.promptBlocks.end(), tail.begin(), tail.end());
    request.estimatedPromptTokens = 68 * 16;
    return request;
}

} // namespace

class TestPrefixAwarePolicy final : public QObject {
    Q_OBJECT

private slots:
    void defaults();
    void prefersTheCachedServer();
    void queuedPrefillOutweighsASmallMatch();
    void boundedLoadGuardPassesOverTheOverloaded();
    void aHotPrefixSpreadsAndReplicates();
    void fallsBackToRouterCountersWhenMetricsAreStale();
    void aFreshEngineQueueAddsOtherReplicasWork();
    void kvPressureDiscountsMatches();
    void costIsDividedByWeight();
    void withoutBlocksItIsLeastLoaded();
    void idleTiesAreRandom();
    void keepsTheRankingContract();
};

void TestPrefixAwarePolicy::defaults()
{
    const PrefixAwarePolicy policy {{}, nullptr};
    QCOMPARE(policy.name(), std::string_view {"prefix_aware"});
    QCOMPARE(policy.params().boundedLoadFactor, 1.25);
    QCOMPARE(policy.params().tokensPerBlock, 0);
    QCOMPARE(tokensPerBlockOf(nullptr), 16);
}

void TestPrefixAwarePolicy::prefersTheCachedServer()
{
    ScriptedPrefixSource source {{{2, 400}, {1, 10}}};
    const PrefixAwarePolicy policy {testParams(), &source};
    BackendSnapshot snapshot = snapshotOf(4);
    for (auto &state : snapshot.backends) {
        state.inFlightPrefillTokens = 2000;
        state.inFlightDecodeTokens = 1000;
        state.inFlightTokens = 3000;
    }
    const RequestSummary request = promptRequest(1, 512); // 8K tokens
    const Ranking out = rankWith(policy, snapshot, request);
    QCOMPARE(out.order.front(), 2);
    QCOMPARE(out.order[1], 1);
    QCOMPARE(out.cachedPromptTokens, (std::vector<int> {0, 160, 6400, 0}));
    // Cost = queued + uncached + 0.5 x decode: 2000 + 1792 + 500 for the cached server.
    QCOMPARE(out.scores[2], 4292.0);
    QCOMPARE(out.scores[0], 2000.0 + 8192.0 + 500.0);
    QCOMPARE(source.recorded().front(), (std::pair<int, std::size_t> {2, 512}));
}

void TestPrefixAwarePolicy::queuedPrefillOutweighsASmallMatch()
{
    // Backend 0 holds 4 blocks (64 tokens) but has 10K tokens of prefill queued.
    ScriptedPrefixSource source {{{0, 4}}};
    const PrefixAwarePolicy policy {testParams(), &source};
    BackendSnapshot snapshot = snapshotOf(2);
    snapshot.backends[0].inFlightPrefillTokens = 10000;
    snapshot.backends[0].inFlightTokens = 10000;
    QCOMPARE(rankWith(policy, snapshot, promptRequest(1, 100)).order.front(), 1);
    // Even a match of the whole 8K prompt does not beat a 10K queue (10,000 > 8,192); with
    // 7K queued the cache wins.
    source.setMatch(0, 512);
    QCOMPARE(rankWith(policy, snapshot, promptRequest(1, 512)).order.front(), 1);
    snapshot.backends[0].inFlightPrefillTokens = 7000;
    snapshot.backends[0].inFlightTokens = 7000;
    QCOMPARE(rankWith(policy, snapshot, promptRequest(1, 512)).order.front(), 0);
}

void TestPrefixAwarePolicy::boundedLoadGuardPassesOverTheOverloaded()
{
    // Decode weight 0 isolates the guard: backend 0 would cost nothing (full match, no
    // queue), but its in-flight tokens are far above the mean.
    ScriptedPrefixSource source {{{0, 64}}};
    PrefixAwareParams params = testParams();
    params.decodeWeight = 0.0;
    const PrefixAwarePolicy policy {params, &source};
    BackendSnapshot snapshot = snapshotOf(4);
    snapshot.backends[0].inFlightTokens = 100000;
    snapshot.backends[0].inFlightDecodeTokens = 100000;
    snapshot.backends[1].inFlightTokens = 10000;
    snapshot.backends[2].inFlightTokens = 10000;
    snapshot.backends[3].inFlightTokens = 10000;
    const Ranking out = rankWith(policy, snapshot, promptRequest(1, 64));
    QVERIFY(out.order.front() != 0);
    QCOMPARE(out.order.back(), 0); // still offered, as the last fallback
    // Within the bound (1.25 x mean 11,250 = 14,062, plus the request's 1,124): the cache wins.
    snapshot.backends[0].inFlightTokens = 15000;
    snapshot.backends[0].inFlightDecodeTokens = 15000;
    QCOMPARE(rankWith(policy, snapshot, promptRequest(1, 64)).order.front(), 0);
}

void TestPrefixAwarePolicy::aHotPrefixSpreadsAndReplicates()
{
    // 40 requests sharing one hot system prompt arrive at an idle 4-server fleet and stay
    // in flight. prefix_only piles them all onto one server; ours keeps every server
    // within the bound and serves most of them from a cache.
    constexpr int REQUESTS = 40;
    PrefixIndex index;
    const PrefixAwarePolicy policy {testParams(), &index};
    BackendSnapshot snapshot = snapshotOf(4);
    std::set<int> holders;
    int hits = 0;
    for (int i = 0; i < REQUESTS; ++i) {
        const RequestSummary request = hotRequest(i);
        const Ranking out = rankWith(policy, snapshot, request, static_cast<std::uint64_t>(i) + 1);
        const int chosen = out.order.front();
        // The guard's promise: the chosen server was within 1.25 x mean + this request.
        double mean = 0.0;
        for (const auto &state : snapshot.backends) {
            mean += static_cast<double>(state.inFlightTokens) / 4.0;
        }
        QVERIFY(static_cast<double>(snapshot.backends[static_cast<std::size_t>(chosen)].inFlightTokens)
                <= 1.25 * mean + static_cast<double>(request.expectedTokens()));
        hits += out.cachedPromptTokens[static_cast<std::size_t>(chosen)] > 0 ? 1 : 0;
        holders.insert(chosen);
        dispatch(snapshot, request, out);
    }
    // Spread to every server, each holding the prefix; only the first visit to each missed.
    QCOMPARE(holders.size(), std::size_t {4});
    QCOMPARE(hits, REQUESTS - 4);
    std::vector<int> matched(4);
    index.match(hotRequest(0).promptBlocks, std::vector<int> {0, 1, 2, 3}, matched);
    for (const int blocks : matched) {
        QVERIFY(blocks >= 64);
    }
    int most = 0;
    for (const auto &state : snapshot.backends) {
        most = std::max(most, state.inFlightRequests);
    }
    QVERIFY2(most <= 13, qPrintable(QStringLiteral("busiest server holds %1 of 40").arg(most)));

    // The hot-spot control: prefix_only sends everything to the first holder.
    PrefixIndex controlIndex;
    ScoredProfile prefixOnly;
    prefixOnly.scorers = {{GpuScorerKind::Prefix, 1.0}};
    const ScoredPolicy control {prefixOnly, &controlIndex};
    BackendSnapshot controlSnapshot = snapshotOf(4);
    std::set<int> controlHolders;
    for (int i = 0; i < REQUESTS; ++i) {
        const RequestSummary request = hotRequest(i);
        const Ranking out = rankWith(control, controlSnapshot, request, static_cast<std::uint64_t>(i) + 1);
        controlHolders.insert(out.order.front());
        dispatch(controlSnapshot, request, out);
    }
    QCOMPARE(controlHolders.size(), std::size_t {1});
}

void TestPrefixAwarePolicy::fallsBackToRouterCountersWhenMetricsAreStale()
{
    ScriptedPrefixSource source;
    const PrefixAwarePolicy policy {testParams(), &source};
    BackendSnapshot snapshot = snapshotOf(2);
    // Stale engine numbers claim backend 1 is swamped and backend 0 idle; the gateway's
    // own counters say the opposite. Stale numbers are ignored.
    setEngine(snapshot.backends[0], 0, 0, 0.1);
    setEngine(snapshot.backends[1], 50, 0, 0.99);
    snapshot.backends[0].engine.fresh = false;
    snapshot.backends[1].engine.fresh = false;
    snapshot.backends[0].inFlightPrefillTokens = 5000;
    snapshot.backends[0].inFlightTokens = 5000;
    QCOMPARE(rankWith(policy, snapshot, promptRequest(1, 32)).order.front(), 1);
    // Fresh: backend 1's 50 waiting requests outweigh backend 0's 5K tokens.
    snapshot.backends[1].engine.fresh = true;
    QCOMPARE(rankWith(policy, snapshot, promptRequest(1, 32)).order.front(), 0);
}

void TestPrefixAwarePolicy::aFreshEngineQueueAddsOtherReplicasWork()
{
    ScriptedPrefixSource source;
    const PrefixAwarePolicy policy {testParams(), &source};
    BackendSnapshot snapshot = snapshotOf(2);
    setEngine(snapshot.backends[0], 10, 4, 0.3); // 10 waiting x 1,600 uncached tokens = 16,000
    setEngine(snapshot.backends[1], 0, 4, 0.3);
    snapshot.backends[1].inFlightPrefillTokens = 12000; // this gateway's own: less than 16,000
    snapshot.backends[1].inFlightTokens = 12000;
    const Ranking out = rankWith(policy, snapshot, promptRequest(1, 100));
    QCOMPARE(out.order.front(), 1);
    QCOMPARE(out.scores[0], 16000.0 + 1600.0);
    // engine_queue_weight 0: router counters only, and backend 0 looks idle.
    PrefixAwareParams params = testParams();
    params.engineQueueWeight = 0.0;
    const PrefixAwarePolicy routerOnly {params, &source};
    QCOMPARE(rankWith(routerOnly, snapshot, promptRequest(1, 100)).order.front(), 0);
}

void TestPrefixAwarePolicy::kvPressureDiscountsMatches()
{
    ScriptedPrefixSource source {{{0, 100}, {1, 100}, {2, 100}}};
    const PrefixAwarePolicy policy {testParams(), &source};
    BackendSnapshot snapshot = snapshotOf(3);
    setEngine(snapshot.backends[0], 0, 0, 0.5);  // no pressure: the whole match
    setEngine(snapshot.backends[1], 0, 0, 0.95); // half-way from 0.9 to 1: keep 75%
    setEngine(snapshot.backends[2], 0, 0, 1.0);  // full: keep 50%
    const Ranking out = rankWith(policy, snapshot, promptRequest(1, 100));
    QCOMPARE(out.cachedPromptTokens, (std::vector<int> {1600, 1200, 800}));
    QCOMPARE(out.order, (std::vector<int> {0, 1, 2}));
}

void TestPrefixAwarePolicy::costIsDividedByWeight()
{
    // Backend 1 is twice as fast (weight 2) and has twice the queue: equal predicted time,
    // so both win about half of the picks; with a slightly shorter queue it always wins.
    ScriptedPrefixSource source;
    const PrefixAwarePolicy policy {testParams(), &source};
    BackendSnapshot snapshot = snapshotOf(2);
    snapshot.backends[0].inFlightPrefillTokens = 1000;
    snapshot.backends[1].inFlightPrefillTokens = 2000 + 1600; // + one more request's worth
    const auto targets = targetsWithWeights({1.0, 2.0});
    const Ranking out = rankWith(policy, snapshot, promptRequest(1, 100), 1, targets);
    QCOMPARE(out.scores[0], 2600.0);
    QCOMPARE(out.scores[1], 2600.0);
    snapshot.backends[1].inFlightPrefillTokens = 3000;
    QCOMPARE(rankWith(policy, snapshot, promptRequest(1, 100), 1, targets).order.front(), 1);
}

void TestPrefixAwarePolicy::withoutBlocksItIsLeastLoaded()
{
    ScriptedPrefixSource source {{{0, 100}}};
    const PrefixAwarePolicy policy {testParams(), &source};
    BackendSnapshot snapshot = snapshotOf(3);
    snapshot.backends[0].inFlightPrefillTokens = 300;
    snapshot.backends[1].inFlightDecodeTokens = 400; // x 0.5 = 200
    snapshot.backends[2].inFlightPrefillTokens = 250;
    RequestSummary request;
    request.estimatedPromptTokens = 500;
    const Ranking out = rankWith(policy, snapshot, request);
    QCOMPARE(out.order, (std::vector<int> {1, 2, 0}));
    QVERIFY(source.recorded().empty());
    QCOMPARE(out.cachedPromptTokens, (std::vector<int> {0, 0, 0}));
}

void TestPrefixAwarePolicy::idleTiesAreRandom()
{
    ScriptedPrefixSource source;
    const PrefixAwarePolicy policy {testParams(), &source};
    const auto shares = firstChoiceShares(policy, equalTargets(4), allCandidates(4), snapshotOf(4), promptRequest(1, 8),
                                          40000, 13);
    for (const double share : shares) {
        STRATEGY_VERIFY_SHARE(share, 0.25, 0.015);
    }
}

void TestPrefixAwarePolicy::keepsTheRankingContract()
{
    static ScriptedPrefixSource source {{{2, 3}}};
    checkRankingContract([](const std::vector<PolicyTarget> &) { return std::make_unique<PrefixAwarePolicy>(PrefixAwareParams {}, &source); },
                         true);
}

QTEST_APPLESS_MAIN(TestPrefixAwarePolicy)
#include "testprefixawarepolicy.moc"
