#include "routing/weightedpolicy.h"

#include <QTest>

#include <algorithm>
#include <cmath>
#include <vector>

using Gateway::Routing::BackendSnapshot;
using Gateway::Routing::BackendState;
using Gateway::Routing::PolicyTarget;
using Gateway::Routing::RequestSummary;
using Gateway::Routing::Rng;
using Gateway::Routing::WeightedPolicy;
using Gateway::Routing::XoshiroRng;

namespace {

// Returns a fixed sequence of uniform draws, in order; fails the test if it runs out.
class ScriptedRng final : public Rng {
public:
    explicit ScriptedRng(std::vector<double> uniforms)
        : m_uniforms {std::move(uniforms)}
    {
    }

    std::uint64_t next() override
    {
        if (m_next >= m_uniforms.size()) {
            qFatal("ScriptedRng: script exhausted after %zu draws", m_uniforms.size());
        }
        // uniform() takes the top 53 bits: invert that exactly.
        const double u = m_uniforms[m_next++];
        return static_cast<std::uint64_t>(u * 9007199254740992.0) << 11;
    }

    std::size_t draws() const { return m_next; }

private:
    std::vector<double> m_uniforms;
    std::size_t m_next = 0;
};

std::vector<PolicyTarget> targetsWithWeights(const std::vector<double> &weights)
{
    std::vector<PolicyTarget> targets;
    for (std::size_t i = 0; i < weights.size(); ++i) {
        targets.push_back({static_cast<int>(i), weights[i]});
    }
    return targets;
}

BackendSnapshot snapshotOf(std::size_t count)
{
    BackendSnapshot snapshot;
    snapshot.backends.resize(count);
    return snapshot;
}

std::vector<int> rankWith(const std::vector<double> &weights, const std::vector<double> &draws,
                          const BackendSnapshot &snapshot)
{
    WeightedPolicy policy;
    ScriptedRng rng {draws};
    std::vector<int> order;
    policy.rank(targetsWithWeights(weights), snapshot, RequestSummary {}, rng, order);
    return order;
}

} // namespace

class TestWeightedPolicy final : public QObject {
    Q_OBJECT

private slots:
    void scriptedRngInvertsUniform();
    void exactOrderForGivenDraws();
    void weightsShiftTheOrder();
    void singleTargetNeedsNoDraw();
    void everyIndexAppearsExactlyOnce();
    void unavailableBackendsRankLast();
    void backendIdsOutsideTheSnapshotCountAsAvailable();
    void orderIsClearedFirst();
    void firstChoiceShareFollowsWeightsTwoTargets();
    void firstChoiceShareFollowsWeightsThreeTargets();
};

void TestWeightedPolicy::scriptedRngInvertsUniform()
{
    ScriptedRng rng {{0.0, 0.25, 0.5, 0.999}};
    QCOMPARE(rng.uniform(), 0.0);
    QCOMPARE(rng.uniform(), 0.25);
    QCOMPARE(rng.uniform(), 0.5);
    QCOMPARE(rng.uniform(), 0.999);
}

void TestWeightedPolicy::exactOrderForGivenDraws()
{
    // Equal weights: descending draw order.
    QCOMPARE(rankWith({1, 1, 1}, {0.2, 0.9, 0.5}, snapshotOf(3)), (std::vector<int> {1, 2, 0}));
    QCOMPARE(rankWith({1, 1, 1}, {0.9, 0.5, 0.2}, snapshotOf(3)), (std::vector<int> {0, 1, 2}));
    QCOMPARE(rankWith({1, 1, 1, 1}, {0.1, 0.3, 0.2, 0.4}, snapshotOf(4)), (std::vector<int> {3, 1, 2, 0}));
    // A zero draw is clamped and still ranks (last).
    QCOMPARE(rankWith({1, 1}, {0.0, 0.5}, snapshotOf(2)), (std::vector<int> {1, 0}));
}

void TestWeightedPolicy::weightsShiftTheOrder()
{
    // key = u^(1/w): 0.5^(1/3) = 0.794 beats 0.7 but loses to 0.8.
    QCOMPARE(rankWith({3, 1}, {0.5, 0.7}, snapshotOf(2)), (std::vector<int> {0, 1}));
    QCOMPARE(rankWith({3, 1}, {0.5, 0.8}, snapshotOf(2)), (std::vector<int> {1, 0}));
    // 0.1^(1/10) = 0.794, 0.9^(1/1) = 0.9, 0.6^(1/2) = 0.775.
    QCOMPARE(rankWith({10, 1, 2}, {0.1, 0.9, 0.6}, snapshotOf(3)), (std::vector<int> {1, 0, 2}));
}

void TestWeightedPolicy::singleTargetNeedsNoDraw()
{
    WeightedPolicy policy;
    ScriptedRng rng {{}};
    std::vector<int> order {7, 8};
    BackendSnapshot snapshot = snapshotOf(1);
    policy.rank(targetsWithWeights({5}), snapshot, RequestSummary {}, rng, order);
    QCOMPARE(order, std::vector<int> {0});
    QCOMPARE(rng.draws(), std::size_t {0});

    // Even when its backend is down: the only target is still worth a try.
    snapshot.backends[0].available = false;
    policy.rank(targetsWithWeights({5}), snapshot, RequestSummary {}, rng, order);
    QCOMPARE(order, std::vector<int> {0});
}

void TestWeightedPolicy::everyIndexAppearsExactlyOnce()
{
    WeightedPolicy policy;
    XoshiroRng rng {7};
    const auto targets = targetsWithWeights({1, 2, 3, 4, 5, 0.5, 100});
    BackendSnapshot snapshot = snapshotOf(targets.size());
    snapshot.backends[2].available = false;
    std::vector<int> order;
    for (int round = 0; round < 1000; ++round) {
        policy.rank(targets, snapshot, RequestSummary {}, rng, order);
        QCOMPARE(order.size(), targets.size());
        std::vector<int> sorted = order;
        std::sort(sorted.begin(), sorted.end());
        QCOMPARE(sorted, (std::vector<int> {0, 1, 2, 3, 4, 5, 6}));
        QCOMPARE(order.back(), 2);
    }
}

void TestWeightedPolicy::unavailableBackendsRankLast()
{
    BackendSnapshot snapshot = snapshotOf(4);
    snapshot.backends[1].available = false;
    // Target 1 has the best draw and the largest weight, yet goes last.
    QCOMPARE(rankWith({1, 100, 1, 1}, {0.3, 0.99, 0.2, 0.1}, snapshot), (std::vector<int> {0, 2, 3, 1}));

    // Several down: all available ones first, in draw order.
    snapshot.backends[0].available = false;
    const std::vector<int> order = rankWith({1, 1, 1, 1}, {0.9, 0.8, 0.1, 0.2}, snapshot);
    QCOMPARE(order.size(), std::size_t {4});
    QCOMPARE(order[0], 3);
    QCOMPARE(order[1], 2);
    QCOMPARE((std::vector<int> {std::min(order[2], order[3]), std::max(order[2], order[3])}), (std::vector<int> {0, 1}));

    // Targets map to backends through backendId, not position.
    std::vector<PolicyTarget> targets {{3, 1.0}, {0, 1.0}};
    BackendSnapshot byId = snapshotOf(4);
    byId.backends[3].available = false;
    WeightedPolicy policy;
    ScriptedRng rng {{0.9, 0.1}};
    std::vector<int> mapped;
    policy.rank(targets, byId, RequestSummary {}, rng, mapped);
    QCOMPARE(mapped, (std::vector<int> {1, 0}));
}

void TestWeightedPolicy::backendIdsOutsideTheSnapshotCountAsAvailable()
{
    // An empty snapshot (no state yet) must not make every target unavailable.
    QCOMPARE(rankWith({1, 1}, {0.2, 0.6}, BackendSnapshot {}), (std::vector<int> {1, 0}));
}

void TestWeightedPolicy::orderIsClearedFirst()
{
    WeightedPolicy policy;
    ScriptedRng rng {{0.4, 0.6}};
    std::vector<int> order {9, 9, 9};
    policy.rank(targetsWithWeights({1, 1}), snapshotOf(2), RequestSummary {}, rng, order);
    QCOMPARE(order, (std::vector<int> {1, 0}));
}

void TestWeightedPolicy::firstChoiceShareFollowsWeightsTwoTargets()
{
    constexpr int ROUNDS = 100000;
    constexpr double TOLERANCE = 0.01; // about 7 standard deviations at p = 0.75
    WeightedPolicy policy;
    XoshiroRng rng {42};
    const auto targets = targetsWithWeights({3, 1});
    const BackendSnapshot snapshot = snapshotOf(2);
    std::vector<int> order;
    int first = 0;
    for (int i = 0; i < ROUNDS; ++i) {
        policy.rank(targets, snapshot, RequestSummary {}, rng, order);
        first += order[0] == 0 ? 1 : 0;
    }
    const double share = static_cast<double>(first) / ROUNDS;
    QVERIFY2(std::abs(share - 0.75) <= TOLERANCE, qPrintable(QStringLiteral("share %1").arg(share)));
}

void TestWeightedPolicy::firstChoiceShareFollowsWeightsThreeTargets()
{
    constexpr int ROUNDS = 100000;
    constexpr double TOLERANCE = 0.01;
    WeightedPolicy policy;
    XoshiroRng rng {42};
    const auto targets = targetsWithWeights({1, 2, 7});
    const BackendSnapshot snapshot = snapshotOf(3);
    std::vector<int> order;
    std::vector<int> firstCounts(3, 0);
    // Given target 2 (weight 7) is not first, the rest keep their 1:2 ratio for second place.
    int secondAfterTwo = 0;
    int secondIsOneAfterTwo = 0;
    for (int i = 0; i < ROUNDS; ++i) {
        policy.rank(targets, snapshot, RequestSummary {}, rng, order);
        ++firstCounts[static_cast<std::size_t>(order[0])];
        if (order[0] == 2) {
            ++secondAfterTwo;
            secondIsOneAfterTwo += order[1] == 1 ? 1 : 0;
        }
    }
    const double expected[] = {0.1, 0.2, 0.7};
    for (std::size_t i = 0; i < 3; ++i) {
        const double share = static_cast<double>(firstCounts[i]) / ROUNDS;
        QVERIFY2(std::abs(share - expected[i]) <= TOLERANCE,
                 qPrintable(QStringLiteral("target %1 share %2").arg(i).arg(share)));
    }
    const double secondShare = static_cast<double>(secondIsOneAfterTwo) / secondAfterTwo;
    QVERIFY2(std::abs(secondShare - 2.0 / 3.0) <= 0.02, qPrintable(QStringLiteral("second share %1").arg(secondShare)));
}

QTEST_APPLESS_MAIN(TestWeightedPolicy)
#include "testweightedpolicy.moc"
