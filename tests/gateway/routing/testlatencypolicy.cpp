#include "routing/latencypolicy.h"
#include "routing/peakewma.h"

#include "strategytestsupport.h"

#include <QTest>

using namespace StrategyTest;

namespace {

RequestSummary requestWithMaxTokens(int maxTokens)
{
    RequestSummary request;
    request.estimatedPromptTokens = 500;
    request.maxTokens = maxTokens;
    return request;
}

void setLatency(BackendState &state, double ttftMs, double perTokenMs)
{
    state.ttftMs = ttftMs;
    state.latencyPerTokenMs = perTokenMs;
}

std::vector<int> rankAll(const BackendSnapshot &snapshot, const RequestSummary &request, std::uint64_t seed = 1)
{
    XoshiroRng rng {seed};
    return rankOnce(LatencyPolicy {}, targetsWithWeights(std::vector<double>(snapshot.backends.size(), 1.0)),
                    allCandidates(snapshot.backends.size()), snapshot, request, rng, 64)
        .order;
}

} // namespace

class TestLatencyPolicy final : public QObject {
    Q_OBJECT

private slots:
    void expectedLatencyOfThisRequest();
    void longAnswersAreNotPenalised();
    void expectedOutputDecidesBetweenFastStartAndFastStream();
    void inFlightRequestsScaleTheScore();
    void unmeasuredTargetsRankFirst();
    void unmeasuredTargetsShareEvenly();
    void weightsAreIgnored();
    void scoresAreExpectedLatencyTimesQueue();
    void keepsTheRankingContract();
};

void TestLatencyPolicy::expectedLatencyOfThisRequest()
{
    BackendState state;
    QVERIFY(!LatencyPolicy::hasLatencySample(state));
    QCOMPARE(LatencyPolicy::expectedLatencyMs(state, requestWithMaxTokens(100)), 0.0);
    setLatency(state, 300.0, 20.0);
    QVERIFY(LatencyPolicy::hasLatencySample(state));
    QCOMPARE(LatencyPolicy::expectedLatencyMs(state, requestWithMaxTokens(100)), 300.0 + 2000.0);
    // No max_tokens: the default expected output.
    QCOMPARE(LatencyPolicy::expectedLatencyMs(state, requestWithMaxTokens(-1)),
             300.0 + 20.0 * RequestSummary::DEFAULT_EXPECTED_OUTPUT_TOKENS);
    // Either measurement alone counts as a sample.
    setLatency(state, 0.0, 5.0);
    QVERIFY(LatencyPolicy::hasLatencySample(state));
}

void TestLatencyPolicy::longAnswersAreNotPenalised()
{
    // Both backends start in 300 ms and stream at 20 ms per token. Backend 0 happened to
    // serve 2000-token answers (40 s each), backend 1 50-token ones (1.3 s). The per-token
    // EWMAs fed by the proxy are equal, so both score the same for the next request and
    // share it evenly; a policy comparing whole-response latency would starve backend 0.
    constexpr qint64 SAMPLE_INTERVAL_MS = 500;
    PeakEwma ttft[2];
    PeakEwma perToken[2];
    const int answerTokens[2] = {2000, 50};
    for (int i = 0; i < 40; ++i) {
        const qint64 now = i * SAMPLE_INTERVAL_MS;
        for (std::size_t b = 0; b < 2; ++b) {
            const double totalMs = 300.0 + 20.0 * answerTokens[b];
            ttft[b].observe(300.0, now);
            perToken[b].observe((totalMs - 300.0) / answerTokens[b], now);
        }
    }
    const qint64 now = 40 * SAMPLE_INTERVAL_MS;
    BackendSnapshot snapshot = snapshotOf(3);
    for (std::size_t b = 0; b < 2; ++b) {
        setLatency(snapshot.backends[b], ttft[b].value(now), perToken[b].value(now));
    }
    // A third backend, 25% slower per token, must lose to both.
    setLatency(snapshot.backends[2], ttft[0].value(now), perToken[0].value(now) * 1.25);

    const RequestSummary request = requestWithMaxTokens(400);
    XoshiroRng rng {1};
    const Ranking out = rankOnce(LatencyPolicy {}, targetsWithWeights({1, 1, 1}), allCandidates(3), snapshot, request,
                                 rng, 3);
    QCOMPARE(out.scores[0], out.scores[1]);
    QCOMPARE(out.order[2], 2);
    const auto shares = firstChoiceShares(LatencyPolicy {}, targetsWithWeights({1, 1, 1}), allCandidates(3), snapshot,
                                          request, 100000, 9);
    STRATEGY_VERIFY_SHARE(shares[0], 0.5, 0.015);
    STRATEGY_VERIFY_SHARE(shares[1], 0.5, 0.015);
    QCOMPARE(shares[2], 0.0);
}

void TestLatencyPolicy::expectedOutputDecidesBetweenFastStartAndFastStream()
{
    // Backend 0: slow start, fast stream. Backend 1: fast start, slow stream.
    BackendSnapshot snapshot = snapshotOf(2);
    setLatency(snapshot.backends[0], 2000.0, 5.0);
    setLatency(snapshot.backends[1], 200.0, 20.0);
    // 100 tokens: 2500 vs 2200 ms.
    QCOMPARE(rankAll(snapshot, requestWithMaxTokens(100)), (std::vector<int> {1, 0}));
    // 1000 tokens: 7000 vs 20200 ms.
    QCOMPARE(rankAll(snapshot, requestWithMaxTokens(1000)), (std::vector<int> {0, 1}));
}

void TestLatencyPolicy::inFlightRequestsScaleTheScore()
{
    // Backend 0 expects 1000 ms but has 2 requests queued: 3000. Backend 1: 2000 idle.
    BackendSnapshot snapshot = snapshotOf(2);
    setLatency(snapshot.backends[0], 1000.0, 0.0);
    snapshot.backends[0].inFlightRequests = 2;
    setLatency(snapshot.backends[1], 2000.0, 0.0);
    QCOMPARE(rankAll(snapshot, requestWithMaxTokens(100)), (std::vector<int> {1, 0}));
    snapshot.backends[0].inFlightRequests = 0;
    QCOMPARE(rankAll(snapshot, requestWithMaxTokens(100)), (std::vector<int> {0, 1}));
}

void TestLatencyPolicy::unmeasuredTargetsRankFirst()
{
    // Backend 2 has no sample yet: it ranks before the very fast ones, even when busy.
    BackendSnapshot snapshot = snapshotOf(4);
    setLatency(snapshot.backends[0], 50.0, 1.0);
    setLatency(snapshot.backends[1], 10.0, 0.5);
    snapshot.backends[2].inFlightRequests = 5;
    setLatency(snapshot.backends[3], 100.0, 1.0);
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
        QCOMPARE(rankAll(snapshot, requestWithMaxTokens(100), seed), (std::vector<int> {2, 1, 0, 3}));
    }
}

void TestLatencyPolicy::unmeasuredTargetsShareEvenly()
{
    BackendSnapshot snapshot = snapshotOf(3);
    setLatency(snapshot.backends[1], 10.0, 0.5);
    const auto shares = firstChoiceShares(LatencyPolicy {}, targetsWithWeights({1, 1, 1}), allCandidates(3), snapshot,
                                          requestWithMaxTokens(100), 100000, 12);
    STRATEGY_VERIFY_SHARE(shares[0], 0.5, 0.015);
    STRATEGY_VERIFY_SHARE(shares[2], 0.5, 0.015);
    QCOMPARE(shares[1], 0.0);
}

void TestLatencyPolicy::weightsAreIgnored()
{
    BackendSnapshot snapshot = snapshotOf(2);
    setLatency(snapshot.backends[0], 500.0, 1.0);
    setLatency(snapshot.backends[1], 400.0, 1.0);
    snapshot.backends[1].healthWeight = 0.1;
    XoshiroRng rng {1};
    QCOMPARE(rankOnce(LatencyPolicy {}, targetsWithWeights({100, 1}), allCandidates(2), snapshot,
                      requestWithMaxTokens(10), rng, 2)
                 .order,
             (std::vector<int> {1, 0}));
}

void TestLatencyPolicy::scoresAreExpectedLatencyTimesQueue()
{
    BackendSnapshot snapshot = snapshotOf(3);
    setLatency(snapshot.backends[0], 300.0, 10.0);
    snapshot.backends[0].inFlightRequests = 2;
    XoshiroRng rng {1};
    const Ranking out = rankOnce(LatencyPolicy {}, targetsWithWeights({1, 1, 1}), {0, 1}, snapshot,
                                 requestWithMaxTokens(50), rng, 1);
    QCOMPARE(out.scores[0], (300.0 + 500.0) * 3.0);
    QCOMPARE(out.scores[1], 0.0);
    QVERIFY(std::isnan(out.scores[2]));
    QCOMPARE(out.order, std::vector<int> {1});
}

void TestLatencyPolicy::keepsTheRankingContract()
{
    checkRankingContract([](const std::vector<PolicyTarget> &) { return std::make_unique<LatencyPolicy>(); }, true);
}

QTEST_APPLESS_MAIN(TestLatencyPolicy)
#include "testlatencypolicy.moc"
