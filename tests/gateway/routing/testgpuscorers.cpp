#include "routing/gpuscorers.h"

#include "gpuroutingtestsupport.h"

#include <QTest>

using namespace GpuRoutingTest;

namespace {

// Candidate i is backend i with states[i]; matched[i] blocks.
std::vector<GpuCandidate> candidatesOf(const std::vector<BackendState> &states, const std::vector<int> &matched = {})
{
    std::vector<GpuCandidate> candidates;
    for (std::size_t i = 0; i < states.size(); ++i) {
        candidates.push_back({static_cast<int>(i), static_cast<int>(i), &states[i], 1.0,
                              i < matched.size() ? matched[i] : 0});
    }
    return candidates;
}

std::vector<double> score(GpuScorerKind kind, const std::vector<GpuCandidate> &candidates,
                          const RequestSummary &request = {}, std::size_t totalBlocks = 0, GpuScorerOptions options = {})
{
    std::vector<double> scores(candidates.size(), -1.0);
    const GpuScoringInput input {candidates, totalBlocks, request, options};
    scoreCandidates(kind, input, scores);
    return scores;
}

std::vector<BackendState> freshStates(const std::vector<double> &waiting, const std::vector<double> &running,
                                      const std::vector<double> &kv)
{
    std::vector<BackendState> states(waiting.size());
    for (std::size_t i = 0; i < states.size(); ++i) {
        setEngine(states[i], waiting[i], running[i], kv[i]);
    }
    return states;
}

#define COMPARE_SCORES(actual, expected)                                                                           \
    do {                                                                                                           \
        const std::vector<double> a_ = (actual);                                                                   \
        const std::vector<double> e_ = (expected);                                                                 \
        QCOMPARE(a_.size(), e_.size());                                                                            \
        for (std::size_t i_ = 0; i_ < a_.size(); ++i_) {                                                           \
            QVERIFY2(std::abs(a_[i_] - e_[i_]) < 1e-9,                                                             \
                     qPrintable(QStringLiteral("score %1: %2, expected %3").arg(i_).arg(a_[i_]).arg(e_[i_])));     \
        }                                                                                                          \
    } while (false)

} // namespace

class TestGpuScorers final : public QObject {
    Q_OBJECT

private slots:
    void namesRoundTrip();
    void prefixIsMatchedOverTotal();
    void queueIsMinMaxNormalised();
    void queueFallsBackToInFlightUnlessAllFresh();
    void kvCacheIsOneMinusUsage();
    void kvCacheFallsBackToInFlightTokens();
    void runningIsMinMaxNormalised();
    void tokenLoadSaturatesAtTheThreshold();
    void sessionPicksOneStickyBackend();
    void sessionSpreadsKeysEvenly();
    void loadAwareFollowsLlmD();
};

void TestGpuScorers::namesRoundTrip()
{
    for (std::size_t i = 0; i < GPU_SCORER_KINDS; ++i) {
        const auto kind = static_cast<GpuScorerKind>(i);
        QCOMPARE(gpuScorerFromName(gpuScorerName(kind)), std::optional<GpuScorerKind> {kind});
    }
    QCOMPARE(gpuScorerName(GpuScorerKind::KvCache), std::string_view {"kv_cache"});
    QVERIFY(!gpuScorerFromName("kv-cache"));
}

void TestGpuScorers::prefixIsMatchedOverTotal()
{
    const std::vector<BackendState> states(3);
    COMPARE_SCORES(score(GpuScorerKind::Prefix, candidatesOf(states, {0, 5, 10}), {}, 10), (std::vector<double> {0, 0.5, 1}));
    // No prompt blocks: nothing to match, every score 0.
    COMPARE_SCORES(score(GpuScorerKind::Prefix, candidatesOf(states), {}, 0), (std::vector<double> {0, 0, 0}));
}

void TestGpuScorers::queueIsMinMaxNormalised()
{
    // EPP queue-scorer: (max - q) / (max - min).
    const auto states = freshStates({0, 5, 10, 2.5}, {0, 0, 0, 0}, {0, 0, 0, 0});
    COMPARE_SCORES(score(GpuScorerKind::Queue, candidatesOf(states)), (std::vector<double> {1, 0.5, 0, 0.75}));
    // All equal: every candidate scores 1.
    const auto equal = freshStates({3, 3}, {0, 0}, {0, 0});
    COMPARE_SCORES(score(GpuScorerKind::Queue, candidatesOf(equal)), (std::vector<double> {1, 1}));
}

void TestGpuScorers::queueFallsBackToInFlightUnlessAllFresh()
{
    auto states = freshStates({0, 9}, {0, 0}, {0, 0});
    states[0].inFlightRequests = 8;
    states[1].inFlightRequests = 2;
    // Both fresh: the engine queue decides.
    COMPARE_SCORES(score(GpuScorerKind::Queue, candidatesOf(states)), (std::vector<double> {1, 0}));
    // One stale: the gateway's in-flight requests, for both (never mixed).
    states[1].engine.fresh = false;
    COMPARE_SCORES(score(GpuScorerKind::Queue, candidatesOf(states)), (std::vector<double> {0, 1}));
}

void TestGpuScorers::kvCacheIsOneMinusUsage()
{
    const auto states = freshStates({0, 0, 0}, {0, 0, 0}, {0.2, 0.9, 1.3});
    COMPARE_SCORES(score(GpuScorerKind::KvCache, candidatesOf(states)), (std::vector<double> {0.8, 0.1, 0.0}));
}

void TestGpuScorers::kvCacheFallsBackToInFlightTokens()
{
    auto states = freshStates({0, 0, 0}, {0, 0, 0}, {0.2, -1.0, 0.5}); // one engine reports no usage
    states[0].inFlightTokens = 4000;
    states[1].inFlightTokens = 0;
    states[2].inFlightTokens = 1000;
    COMPARE_SCORES(score(GpuScorerKind::KvCache, candidatesOf(states)), (std::vector<double> {0, 1, 0.75}));
}

void TestGpuScorers::runningIsMinMaxNormalised()
{
    auto states = freshStates({0, 0, 0}, {10, 30, 20}, {0, 0, 0});
    COMPARE_SCORES(score(GpuScorerKind::Running, candidatesOf(states)), (std::vector<double> {1, 0, 0.5}));
    for (auto &state : states) {
        state.engine.fresh = false;
    }
    states[0].inFlightRequests = 4;
    COMPARE_SCORES(score(GpuScorerKind::Running, candidatesOf(states)), (std::vector<double> {0, 1, 1}));
}

void TestGpuScorers::tokenLoadSaturatesAtTheThreshold()
{
    std::vector<BackendState> states(3);
    states[1].inFlightTokens = 250;
    states[2].inFlightTokens = 2000;
    GpuScorerOptions options;
    options.tokenLoadThreshold = 1000;
    COMPARE_SCORES(score(GpuScorerKind::TokenLoad, candidatesOf(states), {}, 0, options), (std::vector<double> {1, 0.75, 0}));
    // The published default threshold (4,194,304 tokens): barely moves at these loads.
    QCOMPARE(GpuScorerOptions {}.tokenLoadThreshold, 4194304.0);
}

void TestGpuScorers::sessionPicksOneStickyBackend()
{
    const std::vector<BackendState> states(4);
    const std::vector<GpuCandidate> all = candidatesOf(states);
    // No session key: neutral.
    COMPARE_SCORES(score(GpuScorerKind::Session, all), (std::vector<double> {0, 0, 0, 0}));
    RequestSummary request;
    request.sessionKey = "user-42";
    const std::vector<double> scores = score(GpuScorerKind::Session, all, request);
    QCOMPARE(std::count(scores.begin(), scores.end(), 1.0), 1);
    QCOMPARE(std::count(scores.begin(), scores.end(), 0.0), 3);
    const auto owner = static_cast<std::size_t>(std::max_element(scores.begin(), scores.end()) - scores.begin());
    // Stable under candidate order and under removing another candidate (rendezvous hashing).
    std::vector<GpuCandidate> reordered {all.rbegin(), all.rend()};
    const std::vector<double> again = score(GpuScorerKind::Session, reordered, request);
    QCOMPARE(again[3 - owner], 1.0);
    std::vector<GpuCandidate> subset;
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (i != (owner + 1) % 4) {
            subset.push_back(all[i]);
        }
    }
    const std::vector<double> fewer = score(GpuScorerKind::Session, subset, request);
    for (std::size_t i = 0; i < subset.size(); ++i) {
        QCOMPARE(fewer[i], subset[i].backendId == static_cast<int>(owner) ? 1.0 : 0.0);
    }
}

void TestGpuScorers::sessionSpreadsKeysEvenly()
{
    const std::vector<BackendState> states(4);
    const std::vector<GpuCandidate> all = candidatesOf(states);
    std::vector<int> owners(4, 0);
    constexpr int KEYS = 20000;
    for (int key = 0; key < KEYS; ++key) {
        RequestSummary request;
        request.sessionKey = QByteArrayLiteral("session-").append(QByteArray::number(key));
        const std::vector<double> scores = score(GpuScorerKind::Session, all, request);
        ++owners[static_cast<std::size_t>(std::max_element(scores.begin(), scores.end()) - scores.begin())];
    }
    for (const int count : owners) {
        STRATEGY_VERIFY_SHARE(static_cast<double>(count) / KEYS, 0.25, 0.02);
    }
}

void TestGpuScorers::loadAwareFollowsLlmD()
{
    // Empty queue 0.5; falls linearly to 0 at the threshold (128); beyond it 0.
    auto states = freshStates({0, 64, 128, 500}, {0, 0, 0, 0}, {0, 0, 0, 0});
    COMPARE_SCORES(score(GpuScorerKind::LoadAware, candidatesOf(states)), (std::vector<double> {0.5, 0.25, 0, 0}));
    // Not fresh: the gateway's in-flight requests stand in for the queue.
    states[0].engine.fresh = false;
    states[0].inFlightRequests = 32;
    COMPARE_SCORES(score(GpuScorerKind::LoadAware, candidatesOf(states)), (std::vector<double> {0.375, 0.25, 0, 0}));
}

QTEST_APPLESS_MAIN(TestGpuScorers)
#include "testgpuscorers.moc"
