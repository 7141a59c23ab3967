#include "routing/sessionhashpolicy.h"

#include "strategytestsupport.h"

#include <QTest>

#include <algorithm>
#include <cmath>
#include <vector>

using Gateway::Routing::BackendSnapshot;
using Gateway::Routing::PolicyTarget;
using Gateway::Routing::RankInput;
using Gateway::Routing::Ranking;
using Gateway::Routing::RequestSummary;
using Gateway::Routing::Rng;
using Gateway::Routing::SessionHashPolicy;
using Gateway::Routing::XoshiroRng;

using StrategyTest::ScriptedRng;
using StrategyTest::allCandidates;
using StrategyTest::targetsWithWeights;

namespace {

constexpr int SESSIONS = 100000;

QByteArray sessionKey(int i)
{
    return QByteArrayLiteral("session-") + QByteArray::number(i);
}

BackendSnapshot snapshotOf(std::size_t backends)
{
    BackendSnapshot snapshot;
    snapshot.backends.resize(backends);
    return snapshot;
}

// Ranks one request and returns the order.
std::vector<int> rankOnce(const SessionHashPolicy &policy, const std::vector<PolicyTarget> &targets,
                          const std::vector<int> &candidates, const BackendSnapshot &snapshot,
                          const QByteArray &key, Rng &rng, int maxChoices = 1, Ranking *explained = nullptr)
{
    RequestSummary request;
    request.sessionKey = key;
    const RankInput input {targets, candidates, snapshot, request, -1, maxChoices};
    Ranking local;
    Ranking &out = explained ? *explained : local;
    policy.rank(input, rng, out);
    return out.order;
}

// First choice (as a backend id) for SESSIONS keys.
std::vector<int> assignBackends(const SessionHashPolicy &policy, const std::vector<PolicyTarget> &targets,
                                const std::vector<int> &candidates, const BackendSnapshot &snapshot)
{
    XoshiroRng rng {1};
    RequestSummary request;
    const RankInput input {targets, candidates, snapshot, request, -1, 1};
    Ranking out;
    std::vector<int> backends;
    backends.reserve(SESSIONS);
    for (int i = 0; i < SESSIONS; ++i) {
        request.sessionKey = sessionKey(i);
        policy.rank(input, rng, out);
        backends.push_back(targets[static_cast<std::size_t>(out.order.front())].backendId);
    }
    return backends;
}

std::int64_t boundFor(const BackendSnapshot &snapshot, double loadFactor)
{
    std::int64_t total = 0;
    for (const auto &backend : snapshot.backends) {
        total += backend.inFlightRequests;
    }
    return static_cast<std::int64_t>(
        std::ceil(loadFactor * static_cast<double>(total + 1) / static_cast<double>(snapshot.backends.size())));
}

// Session popularity following Zipf(s): cumulative weights for sampling by binary search.
std::vector<double> zipfCumulative(int sessions, double s)
{
    std::vector<double> cumulative;
    double total = 0.0;
    for (int rank = 1; rank <= sessions; ++rank) {
        total += 1.0 / std::pow(rank, s);
        cumulative.push_back(total);
    }
    for (auto &value : cumulative) {
        value /= total;
    }
    return cumulative;
}

struct LoadRun {
    std::int64_t worstExcess = 0; // max over picks of (max in-flight - bound); <= 0 means never exceeded
    int chosenOverBound = 0;      // picks whose target went over the bound they were made under
    int movedFromOwner = 0;
};

// Assigns `picks` requests from Zipf-skewed sessions; each pick adds one in-flight request
// to its target, and with `completions` a random earlier request finishes half the time.
LoadRun simulateLoad(double loadFactor, bool completions)
{
    constexpr int TARGETS = 8;
    constexpr int DISTINCT_SESSIONS = 2000;
    constexpr int PICKS = 20000;
    const auto targets = targetsWithWeights(std::vector<double>(TARGETS, 1.0));
    const auto candidates = allCandidates(TARGETS);
    SessionHashPolicy policy {targets, SessionHashPolicy::Parameters {SessionHashPolicy::DEFAULT_RING_SIZE, loadFactor}};
    BackendSnapshot snapshot = snapshotOf(TARGETS);
    const auto cumulative = zipfCumulative(DISTINCT_SESSIONS, 1.1);
    XoshiroRng rng {99};
    RequestSummary request;
    const RankInput input {targets, candidates, snapshot, request, -1, 1};
    Ranking out;
    LoadRun run;
    for (int pick = 0; pick < PICKS; ++pick) {
        const double u = rng.uniform();
        const auto session = std::lower_bound(cumulative.begin(), cumulative.end(), u) - cumulative.begin();
        request.sessionKey = sessionKey(static_cast<int>(session));
        // The bound is the paper's 1.25-bounded one, whatever factor the policy runs with.
        const std::int64_t bound = boundFor(snapshot, SessionHashPolicy::DEFAULT_LOAD_FACTOR);
        policy.rank(input, rng, out);
        const int chosen = out.order.front();
        auto &state = snapshot.backends[static_cast<std::size_t>(chosen)];
        ++state.inFlightRequests;
        if (state.inFlightRequests > bound) {
            ++run.chosenOverBound;
        }
        if (chosen != policy.owner(request.sessionKey, candidates)) {
            ++run.movedFromOwner;
        }
        if (!completions) {
            int highest = 0;
            for (const auto &backend : snapshot.backends) {
                highest = std::max(highest, backend.inFlightRequests);
            }
            run.worstExcess = std::max(run.worstExcess, highest - boundFor(snapshot, SessionHashPolicy::DEFAULT_LOAD_FACTOR));
        } else if (rng.uniform() < 0.5) {
            // Finish a request on a target picked in proportion to its in-flight count.
            std::int64_t total = 0;
            for (const auto &backend : snapshot.backends) {
                total += backend.inFlightRequests;
            }
            auto slot = static_cast<std::int64_t>(rng.uniform() * static_cast<double>(total));
            for (auto &backend : snapshot.backends) {
                if (slot < backend.inFlightRequests) {
                    --backend.inFlightRequests;
                    break;
                }
                slot -= backend.inFlightRequests;
            }
        }
    }
    return run;
}

} // namespace

class TestSessionHashPolicy final : public QObject {
    Q_OBJECT

private slots:
    void hashIsStableAcrossBuilds();
    void ringSizeFollowsParameters();
    void sameKeyAlwaysSameTarget();
    void renumberedBackendsKeepSessionsWithTargetKeys();
    void sessionsSpreadByWeight_data();
    void sessionsSpreadByWeight();
    void removingATargetMovesOnlyItsSessions_data();
    void removingATargetMovesOnlyItsSessions();
    void overloadedOwnerSpillsToNextClockwise();
    void fallbacksAreDistinctCandidates();
    void boundedLoadNeverExceeded();
    void withoutBoundSkewWouldOverload();
    void noSessionKeyPicksLeastLoaded();
    void noSessionKeyTiesAreRandom();
};

void TestSessionHashPolicy::hashIsStableAcrossBuilds()
{
    // Golden values: if these change, every deployed session remaps on upgrade.
    QCOMPARE(SessionHashPolicy::hashKey(QByteArrayView {}), Q_UINT64_C(0x0335b1da0f3639d7));
    QCOMPARE(SessionHashPolicy::hashKey(QByteArrayLiteral("session-1")), Q_UINT64_C(0x47c2b7f7ff4555af));
    QCOMPARE(SessionHashPolicy::hashKey(QByteArrayLiteral("0"), 7), Q_UINT64_C(0xc05191a52d1e4c30));
    // Length, trailing zero bytes and seed all matter.
    QVERIFY(SessionHashPolicy::hashKey(QByteArrayLiteral("a")) != SessionHashPolicy::hashKey(QByteArray("a\0", 2)));
    QVERIFY(SessionHashPolicy::hashKey(QByteArrayLiteral("a"), 1) != SessionHashPolicy::hashKey(QByteArrayLiteral("a"), 2));
    QVERIFY(SessionHashPolicy::hashKey(QByteArrayLiteral("0123456789abcdef"))
            != SessionHashPolicy::hashKey(QByteArrayLiteral("0123456789abcdeg")));
}

void TestSessionHashPolicy::ringSizeFollowsParameters()
{
    const auto targets = targetsWithWeights({1, 3});
    const SessionHashPolicy byDefault {targets};
    // ring_size points for a target of mean weight (2 here): 512 + 1536.
    QCOMPARE(byDefault.ringPoints(), std::size_t {2 * SessionHashPolicy::DEFAULT_RING_SIZE});
    QCOMPARE(byDefault.parameters().loadFactor, SessionHashPolicy::DEFAULT_LOAD_FACTOR);

    const SessionHashPolicy small {targets, SessionHashPolicy::Parameters {100, 2.0}};
    QCOMPARE(small.ringPoints(), std::size_t {200}); // 50 + 150

    // Out of range values are clamped: a tiny ring, a factor that could exclude everyone.
    const SessionHashPolicy clamped {targets, SessionHashPolicy::Parameters {1, 0.5}};
    QCOMPARE(clamped.ringPoints(), std::size_t {2 * SessionHashPolicy::MIN_RING_SIZE});
    QCOMPARE(clamped.parameters().loadFactor, SessionHashPolicy::MIN_LOAD_FACTOR);

    // A negligible weight still gets one point, so it stays reachable.
    const SessionHashPolicy tiny {targetsWithWeights({1e-9, 1}), SessionHashPolicy::Parameters {100, 1.25}};
    QCOMPARE(tiny.ringPoints(), std::size_t {201});
}

void TestSessionHashPolicy::sameKeyAlwaysSameTarget()
{
    const auto targets = targetsWithWeights({1, 2, 3, 1, 5, 1, 1, 2});
    const auto candidates = allCandidates(targets.size());
    const BackendSnapshot snapshot = snapshotOf(targets.size());
    // A second instance stands in for another worker or a restarted process.
    const SessionHashPolicy first {targets};
    const SessionHashPolicy second {targets};
    XoshiroRng rngA {1};
    XoshiroRng rngB {2};
    for (int i = 0; i < SESSIONS; ++i) {
        const QByteArray key = sessionKey(i);
        const int target = rankOnce(first, targets, candidates, snapshot, key, rngA).front();
        QCOMPARE(rankOnce(first, targets, candidates, snapshot, key, rngB).front(), target);
        QCOMPARE(rankOnce(second, targets, candidates, snapshot, key, rngA).front(), target);
        QCOMPARE(first.owner(key, candidates), target);
    }
}

void TestSessionHashPolicy::renumberedBackendsKeepSessionsWithTargetKeys()
{
    const std::vector<QByteArray> keys {QByteArrayLiteral("openai/gpt-4o"), QByteArrayLiteral("azure/gpt-4o"),
                                        QByteArrayLiteral("vllm/llama"), QByteArrayLiteral("groq/llama")};
    const std::vector<PolicyTarget> before {{0, 1}, {1, 1}, {2, 1}, {3, 1}};
    const std::vector<PolicyTarget> after {{10, 1}, {11, 1}, {12, 1}, {13, 1}};
    const SessionHashPolicy::Parameters parameters;
    const SessionHashPolicy keyedBefore {before, parameters, keys};
    const SessionHashPolicy keyedAfter {after, parameters, keys};
    const SessionHashPolicy unkeyedAfter {after, parameters};
    const auto candidates = allCandidates(4);
    int differsWithoutKeys = 0;
    for (int i = 0; i < 1000; ++i) {
        const QByteArray key = sessionKey(i);
        QCOMPARE(keyedAfter.owner(key, candidates), keyedBefore.owner(key, candidates));
        differsWithoutKeys += unkeyedAfter.owner(key, candidates) != keyedBefore.owner(key, candidates) ? 1 : 0;
    }
    // Without stable keys the ring depends on the ids (here most sessions would move).
    QVERIFY(differsWithoutKeys > 500);
}

void TestSessionHashPolicy::sessionsSpreadByWeight_data()
{
    QTest::addColumn<std::vector<double>>("weights");
    QTest::addColumn<int>("ringSize");
    constexpr int DEFAULT = SessionHashPolicy::DEFAULT_RING_SIZE;
    QTest::newRow("1:2:3:4") << std::vector<double> {1, 2, 3, 4} << DEFAULT;
    QTest::newRow("8 equal") << std::vector<double>(8, 1.0) << DEFAULT;
    QTest::newRow("1:9") << std::vector<double> {1, 9} << DEFAULT;
    QTest::newRow("1:2:3:4 dense ring") << std::vector<double> {1, 2, 3, 4} << 16384;
    QTest::newRow("8 equal dense ring") << std::vector<double>(8, 1.0) << 16384;
}

void TestSessionHashPolicy::sessionsSpreadByWeight()
{
    QFETCH(std::vector<double>, weights);
    QFETCH(int, ringSize);
    const auto targets = targetsWithWeights(weights);
    const SessionHashPolicy policy {targets, SessionHashPolicy::Parameters {ringSize, 1.25}};
    const auto backends = assignBackends(policy, targets, allCandidates(targets.size()), snapshotOf(targets.size()));
    double totalWeight = 0.0;
    for (const double weight : weights) {
        totalWeight += weight;
    }
    const double meanWeight = totalWeight / static_cast<double>(weights.size());
    for (std::size_t i = 0; i < weights.size(); ++i) {
        const double share =
            static_cast<double>(std::count(backends.begin(), backends.end(), static_cast<int>(i))) / SESSIONS;
        const double expected = weights[i] / totalWeight;
        // A target's arc length deviates by ~1/sqrt(its points) relative, and counting
        // sessions adds ~1/sqrt(its sessions): allow four standard deviations of both
        // (8% for an average target at the default ring size, 4% on the dense ring).
        const double points = ringSize * weights[i] / meanWeight;
        const double tolerance = 4.0 * std::sqrt(1.0 / points + 1.0 / (expected * SESSIONS));
        QVERIFY2(std::abs(share - expected) <= tolerance * expected,
                 qPrintable(QStringLiteral("target %1 share %2 expected %3 (tolerance %4%)")
                                .arg(i)
                                .arg(share)
                                .arg(expected)
                                .arg(tolerance * 100)));
    }
}

void TestSessionHashPolicy::removingATargetMovesOnlyItsSessions_data()
{
    QTest::addColumn<int>("count");
    QTest::addColumn<bool>("rebuild");
    for (const int count : {3, 8, 64}) {
        QTest::addRow("N=%d rebuilt without it", count) << count << true;
        QTest::addRow("N=%d left out of candidates", count) << count << false;
    }
}

void TestSessionHashPolicy::removingATargetMovesOnlyItsSessions()
{
    QFETCH(int, count);
    QFETCH(bool, rebuild);
    const auto n = static_cast<std::size_t>(count);
    const auto targets = targetsWithWeights(std::vector<double>(n, 1.0));
    const BackendSnapshot snapshot = snapshotOf(n);
    const SessionHashPolicy policy {targets};
    const auto before = assignBackends(policy, targets, allCandidates(n), snapshot);

    const int removed = count / 2;
    std::vector<int> after;
    if (rebuild) {
        std::vector<PolicyTarget> remaining = targets;
        remaining.erase(remaining.begin() + removed);
        const SessionHashPolicy rebuilt {remaining};
        after = assignBackends(rebuilt, remaining, allCandidates(remaining.size()), snapshot);
    } else {
        std::vector<int> candidates = allCandidates(n);
        candidates.erase(candidates.begin() + removed);
        after = assignBackends(policy, targets, candidates, snapshot);
    }

    int moved = 0;
    int elsewhere = 0;
    int stayed = 0;
    for (int i = 0; i < SESSIONS; ++i) {
        const auto s = static_cast<std::size_t>(i);
        QVERIFY(after[s] != removed);
        moved += before[s] != after[s] ? 1 : 0;
        if (before[s] != removed) {
            ++elsewhere;
            stayed += before[s] == after[s] ? 1 : 0;
        }
    }
    const double movedShare = static_cast<double>(moved) / SESSIONS;
    const double ideal = 1.0 / count;
    QVERIFY2(movedShare >= 0.8 * ideal && movedShare <= 1.25 * ideal,
             qPrintable(QStringLiteral("moved %1, ideal %2").arg(movedShare).arg(ideal)));
    const double stayedShare = static_cast<double>(stayed) / elsewhere;
    QVERIFY2(stayedShare >= 0.95, qPrintable(QStringLiteral("stayed %1").arg(stayedShare)));
}

void TestSessionHashPolicy::overloadedOwnerSpillsToNextClockwise()
{
    const auto targets = targetsWithWeights({1, 1, 1, 1});
    const auto candidates = allCandidates(4);
    const SessionHashPolicy policy {targets};
    XoshiroRng rng {3};
    for (int i = 0; i < 200; ++i) {
        const QByteArray key = sessionKey(i);
        const int owner = policy.owner(key, candidates);
        std::vector<int> others;
        for (const int c : candidates) {
            if (c != owner) {
                others.push_back(c);
            }
        }
        const int successor = policy.owner(key, others);

        // 3 in flight: bound = ceil(1.25 * (3 + 1) / 4) = 2, so the owner at 2 is not
        // eligible (2 + 1 > 2) and its successor at 1 is.
        BackendSnapshot snapshot = snapshotOf(4);
        snapshot.backends[static_cast<std::size_t>(owner)].inFlightRequests = 2;
        snapshot.backends[static_cast<std::size_t>(successor)].inFlightRequests = 1;
        QCOMPARE(boundFor(snapshot, 1.25), std::int64_t {2});
        Ranking explained;
        explained.explain = true;
        const auto order = rankOnce(policy, targets, candidates, snapshot, key, rng, 4, &explained);
        QCOMPARE(order.size(), std::size_t {4});
        QCOMPARE(order.front(), successor); // eligible: 1 + 1 <= 2
        QCOMPARE(order.back(), owner);      // overloaded, yet still offered as the last resort
        QCOMPARE(explained.scores[static_cast<std::size_t>(owner)], 1.0);
        QVERIFY(explained.scores[static_cast<std::size_t>(successor)] >= 1.0);
        QCOMPARE(policy.owner(key, candidates), owner); // owner() ignores load

        // One below the bound (4 in flight: bound = ceil(1.25 * 5 / 4) = 2): the owner keeps
        // its session.
        for (auto &backend : snapshot.backends) {
            backend.inFlightRequests = 1;
        }
        QCOMPARE(boundFor(snapshot, 1.25), std::int64_t {2});
        QCOMPARE(rankOnce(policy, targets, candidates, snapshot, key, rng).front(), owner);
    }
}

void TestSessionHashPolicy::fallbacksAreDistinctCandidates()
{
    const auto targets = targetsWithWeights({1, 2, 1, 3, 1, 1});
    const std::vector<int> candidates {0, 2, 3, 5};
    const BackendSnapshot snapshot = snapshotOf(targets.size());
    const SessionHashPolicy policy {targets};
    XoshiroRng rng {5};
    for (int i = 0; i < 2000; ++i) {
        const QByteArray key = sessionKey(i);
        auto order = rankOnce(policy, targets, candidates, snapshot, key, rng, 3);
        QCOMPARE(order.size(), std::size_t {3});
        QCOMPARE(order.front(), policy.owner(key, candidates));
        for (const int index : order) {
            QVERIFY(std::binary_search(candidates.begin(), candidates.end(), index));
        }
        std::sort(order.begin(), order.end());
        QVERIFY(std::adjacent_find(order.begin(), order.end()) == order.end());

        // More choices than candidates: every candidate exactly once.
        auto all = rankOnce(policy, targets, candidates, snapshot, key, rng, 10);
        std::sort(all.begin(), all.end());
        QCOMPARE(all, candidates);
    }
}

void TestSessionHashPolicy::boundedLoadNeverExceeded()
{
    const LoadRun growing = simulateLoad(SessionHashPolicy::DEFAULT_LOAD_FACTOR, false);
    QCOMPARE(growing.chosenOverBound, 0);
    QVERIFY2(growing.worstExcess <= 0, qPrintable(QStringLiteral("excess %1").arg(growing.worstExcess)));
    // The skew really pushed sessions off their owners (else the test proves nothing).
    QVERIFY(growing.movedFromOwner > 1000);

    const LoadRun churning = simulateLoad(SessionHashPolicy::DEFAULT_LOAD_FACTOR, true);
    QCOMPARE(churning.chosenOverBound, 0);
    QVERIFY(churning.movedFromOwner > 100);
}

void TestSessionHashPolicy::withoutBoundSkewWouldOverload()
{
    // Same simulation with an effectively unbounded factor: plain consistent hashing lets
    // the target holding the hottest sessions run far past 1.25x the mean.
    const LoadRun unbounded = simulateLoad(1000.0, false);
    QVERIFY(unbounded.chosenOverBound > 1000);
    QCOMPARE(unbounded.movedFromOwner, 0);
}

void TestSessionHashPolicy::noSessionKeyPicksLeastLoaded()
{
    const auto targets = targetsWithWeights({1, 1, 1, 1, 1});
    const auto candidates = allCandidates(5);
    BackendSnapshot snapshot = snapshotOf(5);
    const int loads[] = {5, 2, 7, 2, 9};
    for (std::size_t i = 0; i < 5; ++i) {
        snapshot.backends[i].inFlightRequests = loads[i];
    }
    const SessionHashPolicy policy {targets};

    // Tie between 1 and 3: one draw picks the floor(u * 2)-th of them in candidate order.
    ScriptedRng secondWins {{0.7}};
    Ranking explained;
    explained.explain = true;
    auto order = rankOnce(policy, targets, candidates, snapshot, QByteArray {}, secondWins, 5, &explained);
    QCOMPARE(order, (std::vector<int> {3, 1, 0, 2, 4}));
    QCOMPARE(secondWins.draws(), std::size_t {1});
    QCOMPARE(explained.scores, (std::vector<double> {5, 2, 7, 2, 9}));

    ScriptedRng firstStays {{0.2}};
    order = rankOnce(policy, targets, candidates, snapshot, QByteArray {}, firstStays, 2);
    QCOMPARE(order, (std::vector<int> {1, 3}));

    // Only candidates count, even when a filtered-out target is idle.
    snapshot.backends[2].inFlightRequests = 0;
    ScriptedRng noTie {{}};
    order = rankOnce(policy, targets, {0, 1, 4}, snapshot, QByteArray {}, noTie, 1);
    QCOMPARE(order, std::vector<int> {1});
}

void TestSessionHashPolicy::noSessionKeyTiesAreRandom()
{
    constexpr int ROUNDS = 30000;
    constexpr double TOLERANCE = 0.02; // about 7 standard deviations at p = 1/3
    const auto targets = targetsWithWeights({1, 1, 1, 1});
    const auto candidates = allCandidates(4);
    BackendSnapshot snapshot = snapshotOf(4);
    snapshot.backends[0].inFlightRequests = 3;
    snapshot.backends[1].inFlightRequests = 1;
    snapshot.backends[2].inFlightRequests = 1;
    snapshot.backends[3].inFlightRequests = 1;
    const SessionHashPolicy policy {targets};
    XoshiroRng rng {11};
    int counts[4] = {};
    for (int i = 0; i < ROUNDS; ++i) {
        ++counts[rankOnce(policy, targets, candidates, snapshot, QByteArray {}, rng).front()];
    }
    QCOMPARE(counts[0], 0);
    for (int i = 1; i < 4; ++i) {
        const double share = static_cast<double>(counts[i]) / ROUNDS;
        QVERIFY2(std::abs(share - 1.0 / 3.0) <= TOLERANCE, qPrintable(QStringLiteral("target %1 share %2").arg(i).arg(share)));
    }
}

QTEST_APPLESS_MAIN(TestSessionHashPolicy)
#include "testsessionhashpolicy.moc"
