#include "routing/prefixawarepolicy.h"
#include "routing/prefixindex.h"
#include "routing/scoredpolicy.h"

#include "gpuroutingtestsupport.h"

#include <QTest>

#include <algorithm>
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
    params.backlogWeight = 0.0; // the plain predicted TTFT; backlogMakesMissesDearer() covers it
    params.kvMissBoost = 0.0;   // kvPressureMakesLongMissesDearer() covers it
    params.kvMissStart = 0.5;
    params.kvMissMinMatch = 0.5;
    params.idleMissWeight = 1.0; // idleFleetKeepsAHeldPromptOnItsServer() covers it
    params.engineQueueFadeMs = 0.0; // anEngineQueueFadesWithItsAge() covers it
    params.widelyHeldShare = 0.0;   // aServerLackingAWidelyHeldHeadIsNotPassedOver() covers it
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
    void aHotPrefixSpreadsAndReplicates_data();
    void aHotPrefixSpreadsAndReplicates();
    void prefixOnlyHotSpots();
    void fallsBackToRouterCountersWhenMetricsAreStale();
    void aFreshEngineQueueAddsOtherReplicasWork();
    void anEngineQueueCostsAlikeOnEveryServer();
    void anEngineQueueFadesWithItsAge();
    void aSinglePromptCountsOnlyWhatIsLeftOfIt();
    void decodeLoadCountsUnderPressureOnly();
    void kvPressureDiscountsMatches();
    void backlogMakesMissesDearer();
    void kvPressureMakesLongMissesDearer();
    void idleFleetKeepsAHeldPromptOnItsServer();
    void replicasPlaceANewPrefixAlike();
    void aServerLackingAWidelyHeldHeadIsNotPassedOver();
    void costIsDividedByWeight();
    void withoutBlocksItIsLeastLoaded();
    void idleTiesAreRandom();
    void idleTiesGoToTheLeastDecodeWork();
    void keepsTheRankingContract();
};

void TestPrefixAwarePolicy::defaults()
{
    const PrefixAwarePolicy policy {{}, nullptr};
    QCOMPARE(policy.name(), std::string_view {"prefix_aware"});
    QCOMPARE(policy.params().boundedLoadFactor, 1.25);
    QCOMPARE(policy.params().backlogWeight, 4.0);
    QCOMPARE(policy.params().kvMissBoost, 15.0);
    QCOMPARE(policy.params().kvMissStart, 0.5);
    QCOMPARE(policy.params().kvMissMinMatch, 0.5);
    QCOMPARE(policy.params().idleMissWeight, 5.0);
    QCOMPARE(policy.params().engineQueueFadeMs, 125.0);
    QCOMPARE(policy.params().prefillProgressWeight, 1.0);
    QCOMPARE(policy.params().widelyHeldShare, 0.5);
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
    // Decode weight 0 isolates the guard: every server has more than this 1,024-token
    // prompt queued, backend 0 would cost least (full match), but it has far more
    // requests in flight than the mean.
    ScriptedPrefixSource source {{{0, 64}}};
    PrefixAwareParams params = testParams();
    params.decodeWeight = 0.0;
    const PrefixAwarePolicy policy {params, &source};
    BackendSnapshot snapshot = snapshotOf(4);
    for (auto &state : snapshot.backends) {
        state.inFlightPrefillTokens = 1500;
    }
    snapshot.backends[0].inFlightRequests = 20;
    snapshot.backends[1].inFlightRequests = 4;
    snapshot.backends[2].inFlightRequests = 4;
    snapshot.backends[3].inFlightRequests = 4;
    const Ranking out = rankWith(policy, snapshot, promptRequest(1, 64));
    QVERIFY(out.order.front() != 0);
    QCOMPARE(out.order.back(), 0); // still offered, as the last fallback
    // With at most one prompt's prefill queued a server is not overloaded, however many
    // requests it runs (they are decoding): the guard leaves it alone and the cache wins.
    snapshot.backends[0].inFlightPrefillTokens = 1024;
    QCOMPARE(rankWith(policy, snapshot, promptRequest(1, 64)).order.front(), 0);
    snapshot.backends[0].inFlightPrefillTokens = 1500;
    // Within the bound (1.25 x mean 5.5 = 6.9, plus this request): the cache wins.
    snapshot.backends[0].inFlightRequests = 7;
    snapshot.backends[1].inFlightRequests = 5;
    snapshot.backends[2].inFlightRequests = 5;
    snapshot.backends[3].inFlightRequests = 5;
    QCOMPARE(rankWith(policy, snapshot, promptRequest(1, 64)).order.front(), 0);
    // In-flight tokens alone do not trip it: a server full of cache hits is not overloaded.
    snapshot.backends[0].inFlightRequests = 5;
    snapshot.backends[0].inFlightTokens = 100000;
    QCOMPARE(rankWith(policy, snapshot, promptRequest(1, 64)).order.front(), 0);
}

void TestPrefixAwarePolicy::aHotPrefixSpreadsAndReplicates_data()
{
    QTest::addColumn<double>("backlogWeight");
    QTest::newRow("greedy TTFT") << 0.0;
    QTest::newRow("default backlog weight") << PrefixAwareParams::DEFAULT_BACKLOG_WEIGHT;
}

void TestPrefixAwarePolicy::aHotPrefixSpreadsAndReplicates()
{
    // 40 requests sharing one hot system prompt arrive at an idle 4-server fleet and stay
    // in flight. prefix_only piles them all onto one server; ours keeps every server
    // within the bound and serves most of them from a cache.
    QFETCH(double, backlogWeight);
    constexpr int REQUESTS = 40;
    PrefixIndex index;
    PrefixAwareParams params = testParams();
    params.backlogWeight = backlogWeight;
    const PrefixAwarePolicy policy {params, &index};
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
            mean += state.inFlightRequests / 4.0;
        }
        QVERIFY(snapshot.backends[static_cast<std::size_t>(chosen)].inFlightRequests <= 1.25 * mean + 1.0);
        hits += out.cachedPromptTokens[static_cast<std::size_t>(chosen)] > 0 ? 1 : 0;
        holders.insert(chosen);
        dispatch(snapshot, request, out);
    }
    // Spread to several servers (greedy TTFT: all four; with the backlog weight a miss is
    // dearer, so fewer), each then holding the prefix: only the first visit to each missed.
    QVERIFY2(holders.size() >= (backlogWeight > 0.0 ? 3U : 4U), qPrintable(QString::number(holders.size())));
    QCOMPARE(hits, REQUESTS - static_cast<int>(holders.size()));
    const std::vector<int> ids {holders.begin(), holders.end()};
    std::vector<int> matched(ids.size());
    index.match(hotRequest(0).promptBlocks, ids, matched);
    for (const int blocks : matched) {
        QVERIFY(blocks >= 64);
    }
    int most = 0;
    for (const auto &state : snapshot.backends) {
        most = std::max(most, state.inFlightRequests);
    }
    // The bound admits a server at up to 1.25 x the mean + one request, then adds this one:
    // at most 1.25 x 10 + 2 of 40 requests.
    QVERIFY2(most <= 14, qPrintable(QStringLiteral("busiest server holds %1 of 40").arg(most)));
}

void TestPrefixAwarePolicy::prefixOnlyHotSpots()
{
    // The hot-spot control for the test above: prefix_only sends everything to the first
    // holder.
    constexpr int REQUESTS = 40;
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

void TestPrefixAwarePolicy::anEngineQueueCostsAlikeOnEveryServer()
{
    // Backend 0 holds 2,048 of the 2,176-token prompt but shows 200 waiting requests;
    // backend 1 holds nothing and shows 20. A waiting request is charged this prompt's
    // cheapest prefill (128 tokens) on both: the queue at a server does not grow because
    // this request would miss there. Charging each server's own miss instead (20 x 2,176
    // on backend 1) would pin the prefix to the server with ten times the queue.
    ScriptedPrefixSource source {{{0, 128}}};
    const PrefixAwarePolicy policy {testParams(), &source};
    BackendSnapshot snapshot = snapshotOf(2);
    setEngine(snapshot.backends[0], 200, 8, 0.3);
    setEngine(snapshot.backends[1], 20, 8, 0.3);
    const Ranking out = rankWith(policy, snapshot, promptRequest(1, 136));
    QCOMPARE(out.order.front(), 1);
    QCOMPARE(out.scores[0], 200.0 * 128 + 128);
    QCOMPARE(out.scores[1], 20.0 * 128 + 2176);
    // With equal queues the holder keeps it.
    setEngine(snapshot.backends[1], 200, 8, 0.3);
    QCOMPARE(rankWith(policy, snapshot, promptRequest(1, 136)).order.front(), 0);
}

void TestPrefixAwarePolicy::anEngineQueueFadesWithItsAge()
{
    // Backend 0's engine showed 10 waiting requests (10 x 1,600 = 16,000 tokens) at its
    // scrape; backend 1 has 12,000 tokens of this gateway's own prefill in flight. Just
    // scraped, the engine queue counts in full; at 100 ms, with a 125 ms fade, a fifth of
    // it does, as the queue has likely drained since; from 125 ms, none.
    ScriptedPrefixSource source;
    PrefixAwareParams params = testParams();
    params.engineQueueFadeMs = 125.0;
    const PrefixAwarePolicy policy {params, &source};
    BackendSnapshot snapshot = snapshotOf(2);
    setEngine(snapshot.backends[0], 10, 4, 0.3);
    setEngine(snapshot.backends[1], 0, 4, 0.3);
    snapshot.backends[1].inFlightPrefillTokens = 12000;
    snapshot.backends[1].inFlightTokens = 12000;
    const RequestSummary request = promptRequest(1, 100);

    snapshot.backends[0].engine.ageMs = 0;
    Ranking out = rankWith(policy, snapshot, request);
    QCOMPARE(out.order.front(), 1);
    QCOMPARE(out.scores[0], 16000.0 + 1600.0);

    snapshot.backends[0].engine.ageMs = 100;
    out = rankWith(policy, snapshot, request);
    QCOMPARE(out.order.front(), 0);
    QCOMPARE(out.scores[0], 3200.0 + 1600.0);

    snapshot.backends[0].engine.ageMs = 125;
    QCOMPARE(rankWith(policy, snapshot, request).scores[0], 1600.0);
    snapshot.backends[0].engine.ageMs = 5000; // still fresh if the staleness bound allows
    QCOMPARE(rankWith(policy, snapshot, request).scores[0], 1600.0);

    // The gateway's own counters never fade: backend 1's 12,000 tokens count at any age.
    snapshot.backends[1].engine.ageMs = 5000;
    QCOMPARE(rankWith(policy, snapshot, request).scores[1], 12000.0 + 1600.0);

    // A snapshot taken when the scrape was new, read 100 ms later, as the gateway's
    // workers do between snapshot rebuilds: the age at the decision counts.
    QCOMPARE(engineAgeAt(0, 1000, 1100), std::int64_t {100});
    QCOMPARE(engineAgeAt(-1, 1000, 1100), std::int64_t {-1}); // never scraped
    QCOMPARE(engineAgeAt(30, 1000, 990), std::int64_t {30});  // no negative elapsed time
    snapshot.backends[0].engine.ageMs = engineAgeAt(0, 1000, 1100);
    QCOMPARE(rankWith(policy, snapshot, request).scores[0], 3200.0 + 1600.0);

    // engine_queue_fade_ms 0: the queue counts in full while the scrape is fresh.
    params.engineQueueFadeMs = 0.0;
    const PrefixAwarePolicy noFade {params, &source};
    snapshot.backends[0].engine.ageMs = 100;
    out = rankWith(noFade, snapshot, request);
    QCOMPARE(out.order.front(), 1);
    QCOMPARE(out.scores[0], 16000.0 + 1600.0);
}

namespace {

void setPrefill(BackendState &state, std::int64_t tokens, int prompts, std::int64_t elapsedUs, double usPerToken)
{
    state.inFlightPrefillTokens = tokens;
    state.prefillsInFlight = prompts;
    state.prefillElapsedUs = elapsedUs;
    state.prefillUsPerToken = usPerToken;
}

} // namespace

void TestPrefixAwarePolicy::aSinglePromptCountsOnlyWhatIsLeftOfIt()
{
    // Every server is prefilling a prompt of ours; the servers prefill 20 µs per token.
    // Server 0: one 4,000-token prompt sent 50 ms ago, so 2,500 done and 1,500 left.
    // Server 1: one 2,000-token prompt sent just now.
    // Server 2: two prompts, 3,000 tokens, the newer sent 100 ms ago: which of them the
    // engine runs first, and in which chunks, is not known, so all of it counts.
    PrefixAwareParams params = testParams();
    const PrefixAwarePolicy policy {params, nullptr};
    BackendSnapshot snapshot = snapshotOf(3);
    setPrefill(snapshot.backends[0], 4000, 1, 50000, 20.0);
    setPrefill(snapshot.backends[1], 2000, 1, 0, 20.0);
    setPrefill(snapshot.backends[2], 3000, 2, 100000, 20.0);
    const RequestSummary request = promptRequest(1, 64); // the same miss everywhere
    Ranking out = rankWith(policy, snapshot, request);
    QCOMPARE(out.order, (std::vector<int> {0, 1, 2}));
    QCOMPARE(out.scores[1] - out.scores[0], 500.0);
    QCOMPARE(out.scores[2] - out.scores[0], 1500.0);

    // Past its estimated end a prompt counts nothing, never less.
    snapshot.backends[0].prefillElapsedUs = 200000;
    out = rankWith(policy, snapshot, request);
    QCOMPARE(out.scores[1] - out.scores[0], 2000.0);

    // A speed not learned yet: the whole prompt counts, server 1 is cheapest.
    setPrefill(snapshot.backends[0], 4000, 1, 50000, 0.0);
    out = rankWith(policy, snapshot, request);
    QCOMPARE(out.order.front(), 1);
    QCOMPARE(out.scores[0] - out.scores[1], 2000.0);
    snapshot.backends[0].prefillUsPerToken = 20.0;

    // A server with nothing in prefill: the estimate is off, an idle server is known to
    // be best and the others compare by what the gateway sent them.
    setPrefill(snapshot.backends[2], 0, 0, -1, 20.0);
    out = rankWith(policy, snapshot, request);
    QCOMPARE(out.order, (std::vector<int> {2, 1, 0}));
    QCOMPARE(out.scores[0] - out.scores[1], 2000.0);
    setPrefill(snapshot.backends[2], 3000, 2, 100000, 20.0);

    // Half the weight trusts half the progress: 1,250 done, 2,750 left.
    params.prefillProgressWeight = 0.5;
    const PrefixAwarePolicy half {params, nullptr};
    out = rankWith(half, snapshot, request);
    QCOMPARE(out.order, (std::vector<int> {1, 0, 2}));
    QCOMPARE(out.scores[0] - out.scores[1], 750.0);

    // prefill_progress_weight 0: every prompt counts in full until its first token.
    params.prefillProgressWeight = 0.0;
    const PrefixAwarePolicy off {params, nullptr};
    out = rankWith(off, snapshot, request);
    QCOMPARE(out.order, (std::vector<int> {1, 2, 0}));
    QCOMPARE(out.scores[0] - out.scores[1], 2000.0);
}

void TestPrefixAwarePolicy::decodeLoadCountsUnderPressureOnly()
{
    // A cold 1,600-token prompt. Backend 0 runs 4,000 expected output tokens, backend 1
    // has 1,000 prompt tokens queued. Running decodes delay a newcomer only when the
    // servers are short of batch slots or KV memory (engines queueing, KV usage high);
    // otherwise each adds a few microseconds per step.
    ScriptedPrefixSource source;
    const PrefixAwarePolicy policy {testParams(), &source};
    BackendSnapshot snapshot = snapshotOf(2);
    snapshot.backends[0].inFlightDecodeTokens = 4000;
    snapshot.backends[1].inFlightPrefillTokens = 1000;
    const RequestSummary request = promptRequest(1, 100);
    // No metrics: decode load counts in full (0.5 x 4,000), backend 1 is cheaper.
    Ranking out = rankWith(policy, snapshot, request);
    QCOMPARE(out.order.front(), 1);
    QCOMPARE(out.scores[0], 1600.0 + 2000.0);
    // Fresh metrics, nothing waiting, KV 30% used: it does not count.
    setEngines(snapshot, 0, 8, 0.3);
    out = rankWith(policy, snapshot, request);
    QCOMPARE(out.order.front(), 0);
    QCOMPARE(out.scores[0], 1600.0);
    // KV 80% used: from kv_miss_start (0.5) to kv_pressure_start (0.9) it grows to full, 3/4 here.
    setEngines(snapshot, 0, 8, 0.8);
    out = rankWith(policy, snapshot, request);
    QCOMPARE(out.order.front(), 1);
    QCOMPARE(out.scores[0], 1600.0 + 0.75 * 2000.0);
    // Engines queueing (a request waiting on each on average): in full.
    setEngines(snapshot, 1, 8, 0.3);
    QCOMPARE(rankWith(policy, snapshot, request).order.front(), 1);
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

void TestPrefixAwarePolicy::backlogMakesMissesDearer()
{
    // Backend 0 holds the whole 1,600-token prompt but has 4,000 tokens more queued.
    // Without a backlog weight the idle server wins (4,000 > 1,600); with weight 4 and a
    // backlog of (4,000 + 0) / 2 / 1,600 = 1.25 prompts per server, a miss costs
    // (1 + 4 x 1.25) x 1,600 = 9,600 tokens, and the cache wins.
    ScriptedPrefixSource source {{{0, 100}}};
    BackendSnapshot snapshot = snapshotOf(2);
    snapshot.backends[0].inFlightPrefillTokens = 4000;
    snapshot.backends[0].inFlightTokens = 4000;
    snapshot.backends[1].inFlightTokens = 3000; // keeps backend 0 within the load bound
    const PrefixAwarePolicy greedy {testParams(), &source};
    QCOMPARE(rankWith(greedy, snapshot, promptRequest(1, 100)).order.front(), 1);
    PrefixAwareParams params = testParams();
    params.backlogWeight = 4.0;
    const PrefixAwarePolicy policy {params, &source};
    const Ranking out = rankWith(policy, snapshot, promptRequest(1, 100));
    QCOMPARE(out.order.front(), 0);
    QCOMPARE(out.scores[0], 4000.0);
    QCOMPARE(out.scores[1], 9600.0);
    // No backlog (an idle fleet): plain predicted TTFT whatever the weight.
    snapshot.backends[0].inFlightPrefillTokens = 0;
    const Ranking idle = rankWith(policy, snapshot, promptRequest(1, 100));
    QCOMPARE(idle.scores[1], 1600.0);
}

void TestPrefixAwarePolicy::kvPressureMakesLongMissesDearer()
{
    // Backend 0 holds the whole 1,600-token prompt behind 8,000 queued tokens; backend 1
    // is idle. Backlog (8,000 + 0) / 2 / 1,600 = 2.5 prompts per server; with
    // backlog_weight 1 a miss costs (1 + 2.5) x 1,600 = 5,600 < 8,000: the idle server.
    ScriptedPrefixSource source {{{0, 100}}};
    BackendSnapshot snapshot = snapshotOf(2);
    snapshot.backends[0].inFlightPrefillTokens = 8000;
    PrefixAwareParams params = testParams();
    params.backlogWeight = 1.0;
    params.kvMissBoost = 2.0;
    const PrefixAwarePolicy policy {params, &source};
    const auto rankAtKvUsage = [&](double usage, const RequestSummary &request) {
        setEngines(snapshot, 0, 0, usage);
        return rankWith(policy, snapshot, request);
    };
    const Ranking roomy = rankAtKvUsage(0.4, promptRequest(1, 100)); // below kv_miss_start
    QCOMPARE(roomy.order.front(), 1);
    QCOMPARE(roomy.scores[1], 5600.0);
    // KV 75% used: pressure (0.75 - 0.5) / 0.5 = 0.5, the backlog term x (1 + 2 x 0.5):
    // a miss costs (1 + 2.5 x 2) x 1,600 = 9,600 > 8,000, and the copy is not made.
    const Ranking scarce = rankAtKvUsage(0.75, promptRequest(1, 100));
    QCOMPARE(scarce.order.front(), 0);
    QCOMPARE(scarce.scores[0], 8000.0);
    QCOMPARE(scarce.scores[1], 9600.0);
    // A server holding 40 of 100 blocks (under kv_miss_min_match 0.5): copying that short
    // head evicts little, so no boost: 8,000 + 3.5 x 960 on backend 0 against 5,600.
    ScriptedPrefixSource shortHead {{{0, 40}}};
    const PrefixAwarePolicy shortPolicy {params, &shortHead};
    const Ranking small = rankWith(shortPolicy, snapshot, promptRequest(1, 100));
    QCOMPARE(small.order.front(), 1);
    QCOMPARE(small.scores[0], 8000.0 + 3.5 * 960.0);
    QCOMPARE(small.scores[1], 5600.0);
}

void TestPrefixAwarePolicy::idleFleetKeepsAHeldPromptOnItsServer()
{
    // Backend 0 holds the whole 1,600-token prompt with 3,000 tokens in prefill; backend 1
    // is idle. Plain predicted TTFT sends the request to backend 1 (1,600 < 3,000); while
    // the engines do not queue, idle_miss_weight 5 makes the recompute cost 8,000.
    ScriptedPrefixSource source {{{0, 100}}};
    BackendSnapshot snapshot = snapshotOf(2);
    snapshot.backends[0].inFlightPrefillTokens = 3000;
    PrefixAwareParams params = testParams();
    params.idleMissWeight = 5.0;
    const PrefixAwarePolicy policy {params, &source};
    const auto rankWithEngines = [&](double waiting, double kvUsage) {
        setEngines(snapshot, waiting, 8, kvUsage);
        return rankWith(policy, snapshot, promptRequest(1, 100));
    };
    const Ranking idle = rankWithEngines(0, 0.3);
    QCOMPARE(idle.order.front(), 0);
    QCOMPARE(idle.scores[1], 5.0 * 1600);
    // A mean of 1.5 waiting: half-way to 2, where the floor is gone: 1 + 4 x 0.5 = 3 (plus
    // the queue itself, 1.5 requests of this prompt's cheapest prefill: one block).
    const Ranking queueing = rankWithEngines(1.5, 0.3);
    QCOMPARE(queueing.order.front(), 0);
    QCOMPARE(queueing.scores[1], 1.5 * 16 + 3.0 * 1600);
    // Two waiting on average, or KV usage at kv_pressure_start (0.9): no floor.
    QCOMPARE(rankWithEngines(2, 0.3).scores[1], 2.0 * 16 + 1600.0);
    QCOMPARE(rankWithEngines(0, 0.9).scores[1], 1600.0);
    QCOMPARE(rankWithEngines(0, 0.9).order.front(), 1);
    // KV usage 0.7, half-way from kv_miss_start (0.5): 1 + 4 x 0.5 = 3.
    QCOMPARE(rankWithEngines(0, 0.7).scores[1], 3.0 * 1600);
    // Without fresh metrics the engines may be queueing: no floor.
    snapshot.backends[0].engine = {};
    snapshot.backends[1].engine = {};
    QCOMPARE(rankWith(policy, snapshot, promptRequest(1, 100)).order.front(), 1);
    // A server holding 40 of 100 blocks (under kv_miss_min_match 0.5): no floor either.
    ScriptedPrefixSource shortHead {{{0, 40}}};
    const PrefixAwarePolicy shortPolicy {params, &shortHead};
    setEngines(snapshot, 0, 8, 0.3);
    const Ranking small = rankWith(shortPolicy, snapshot, promptRequest(1, 100));
    QCOMPARE(small.scores[0], 3000.0 + 960.0);
    QCOMPARE(small.scores[1], 1600.0);
}

void TestPrefixAwarePolicy::replicasPlaceANewPrefixAlike()
{
    // Two gateway replicas: separate indexes, separate random streams, the same idle fleet.
    const auto firstChoices = [](double slack) {
        PrefixAwareParams params = testParams();
        params.replicaPlacementSlack = slack;
        PrefixIndex indexA;
        PrefixIndex indexB;
        const PrefixAwarePolicy replicaA {params, &indexA};
        const PrefixAwarePolicy replicaB {params, &indexB};
        const BackendSnapshot snapshot = snapshotOf(8);
        std::vector<std::pair<int, int>> choices;
        for (std::uint64_t family = 1; family <= 24; ++family) {
            const RequestSummary request = promptRequest(family, 64);
            choices.emplace_back(rankWith(replicaA, snapshot, request, family).order.front(),
                                 rankWith(replicaB, snapshot, request, family + 1000).order.front());
        }
        return choices;
    };
    const auto shared = firstChoices(0.5);
    std::set<int> used;
    for (const auto &[a, b] : shared) {
        QCOMPARE(a, b);
        used.insert(a);
    }
    QVERIFY2(used.size() >= 4, "rendezvous hashing spreads new prefixes over the fleet");
    const auto independent = firstChoices(0.0); // off: idle ties are broken at random
    QVERIFY(std::any_of(independent.begin(), independent.end(), [](const auto &pair) { return pair.first != pair.second; }));

    // The shared choice yields to load: beyond the slack (half a prompt here) the
    // cheapest server wins.
    PrefixAwareParams params = testParams();
    params.replicaPlacementSlack = 0.5;
    PrefixIndex index;
    const PrefixAwarePolicy indexed {params, &index};
    BackendSnapshot snapshot = snapshotOf(8);
    const RequestSummary request = promptRequest(77, 64);
    const int preferred = rankWith(indexed, snapshot, request).order.front();
    PrefixIndex fresh;
    const PrefixAwarePolicy again {params, &fresh};
    snapshot.backends[static_cast<std::size_t>(preferred)].inFlightPrefillTokens = 64 * 16 / 4; // within the slack
    QCOMPARE(rankWith(again, snapshot, request).order.front(), preferred);
    PrefixIndex fresher;
    const PrefixAwarePolicy busy {params, &fresher};
    snapshot.backends[static_cast<std::size_t>(preferred)].inFlightPrefillTokens = 64 * 16; // a whole prompt queued
    QVERIFY(rankWith(busy, snapshot, request).order.front() != preferred);
}

void TestPrefixAwarePolicy::aServerLackingAWidelyHeldHeadIsNotPassedOver()
{
    // Seven of eight servers hold a 64-block (1,024-token) head and each has 500 tokens of
    // prefill queued; server 7 (restarted, or new) holds nothing and is idle.
    std::map<int, int> held;
    for (int backend = 0; backend < 7; ++backend) {
        held[backend] = 64;
    }
    ScriptedPrefixSource source {held};
    BackendSnapshot snapshot = snapshotOf(8);
    for (int backend = 0; backend < 7; ++backend) {
        snapshot.backends[static_cast<std::size_t>(backend)].inFlightPrefillTokens = 500;
    }
    const RequestSummary request = hotRequest(1); // the head + 4 private blocks

    // Off, server 7 pays the whole head: 1,088 against 500 + 64 elsewhere.
    PrefixAwareParams params = testParams();
    const PrefixAwarePolicy off {params, &source};
    Ranking out = rankWith(off, snapshot, request);
    QCOMPARE(out.scores[7], 1088.0);
    QCOMPARE(out.scores[0], 564.0);
    QVERIFY(out.order.front() != 7);

    // On, the head most servers hold costs server 7 nothing to lack: it wins on its empty
    // queue, while what the gateway counts as its prefill stays the truth (nothing cached).
    params.widelyHeldShare = 0.5;
    const PrefixAwarePolicy on {params, &source};
    out = rankWith(on, snapshot, request);
    QCOMPARE(out.scores[7], 64.0);
    QCOMPARE(out.scores[0], 564.0);
    QCOMPARE(out.order.front(), 7);
    QCOMPARE(out.cachedPromptTokens[7], 0);
    QCOMPARE(out.cachedPromptTokens[0], 1024);

    // Held by 3 of 8 (below half): a group's home, not a shared head. Server 7 pays again.
    ScriptedPrefixSource few {{{0, 64}, {1, 64}, {2, 64}}};
    const PrefixAwarePolicy onFew {params, &few};
    out = rankWith(onFew, snapshot, request);
    QCOMPARE(out.scores[7], 1088.0);
    QVERIFY(out.order.front() <= 2);

    // Two servers, one holding the head: "most" needs at least two holders, so the one
    // that lacks it still pays (a share of 0.5 must not turn prefix routing off).
    ScriptedPrefixSource one {{{0, 64}}};
    BackendSnapshot pair = snapshotOf(2);
    pair.backends[0].inFlightPrefillTokens = 500;
    const PrefixAwarePolicy onPair {params, &one};
    out = rankWith(onPair, pair, request);
    QCOMPARE(out.scores[1], 1088.0);
    QCOMPARE(out.order.front(), 0);
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

void TestPrefixAwarePolicy::idleTiesGoToTheLeastDecodeWork()
{
    // Nothing queued, no prefix held, engines idle: the decode term is off and every cost
    // is the prompt's 1,600 tokens. The tie goes to the fewest decode tokens in flight per
    // weight, so a new prefix lands where the fewest sequences share the steps.
    ScriptedPrefixSource source;
    const PrefixAwarePolicy policy {testParams(), &source};
    BackendSnapshot snapshot = snapshotOf(3);
    snapshot.backends[0].inFlightDecodeTokens = 300;
    snapshot.backends[1].inFlightDecodeTokens = 100;
    snapshot.backends[2].inFlightDecodeTokens = 200;
    setEngines(snapshot, 0, 8, 0.3);
    const Ranking out = rankWith(policy, snapshot, promptRequest(1, 100));
    QCOMPARE(out.scores[0], 1600.0);
    QCOMPARE(out.scores[1], 1600.0);
    QCOMPARE(out.order, (std::vector<int> {1, 2, 0}));
    // With equal decode work the tie stays random (idleTiesAreRandom).
}

void TestPrefixAwarePolicy::keepsTheRankingContract()
{
    static ScriptedPrefixSource source {{{2, 3}}};
    checkRankingContract([](const std::vector<PolicyTarget> &) { return std::make_unique<PrefixAwarePolicy>(PrefixAwareParams {}, &source); },
                         true);
}

QTEST_APPLESS_MAIN(TestPrefixAwarePolicy)
#include "testprefixawarepolicy.moc"
