#include "routing/smoothweightedpolicy.h"

#include "strategytestsupport.h"

#include <QTest>

#include <thread>

using namespace StrategyTest;

namespace {

// Runs `picks` first choices over all targets.
std::vector<int> pickSequence(const SmoothWeightedPolicy &policy, const std::vector<PolicyTarget> &targets,
                              const BackendSnapshot &snapshot, int picks, int maxChoices = 1)
{
    XoshiroRng rng {1};
    const std::vector<int> candidates = allCandidates(targets.size());
    const RankInput input {targets, candidates, snapshot, RequestSummary {}, -1, maxChoices};
    Ranking out;
    std::vector<int> sequence;
    for (int i = 0; i < picks; ++i) {
        policy.rank(input, rng, out);
        sequence.push_back(out.order.front());
    }
    return sequence;
}

// Every window of `cycle` consecutive picks holds exactly counts[i] picks of target i.
bool everyWindowMatches(const std::vector<int> &sequence, std::size_t cycle, const std::vector<int> &counts)
{
    std::vector<int> window(counts.size(), 0);
    for (std::size_t i = 0; i < sequence.size(); ++i) {
        ++window[static_cast<std::size_t>(sequence[i])];
        if (i >= cycle) {
            --window[static_cast<std::size_t>(sequence[i - cycle])];
        }
        if (i + 1 >= cycle && window != counts) {
            return false;
        }
    }
    return true;
}

// Largest |picks of i in a window - window length * share of i| over all windows.
double maxDiscrepancy(const std::vector<int> &sequence, const std::vector<double> &weights)
{
    double total = 0.0;
    for (const double w : weights) {
        total += w;
    }
    double worst = 0.0;
    for (std::size_t start = 0; start < sequence.size(); ++start) {
        std::vector<int> counts(weights.size(), 0);
        for (std::size_t end = start; end < sequence.size(); ++end) {
            ++counts[static_cast<std::size_t>(sequence[end])];
            const double length = static_cast<double>(end - start + 1);
            for (std::size_t i = 0; i < weights.size(); ++i) {
                worst = std::max(worst, std::abs(counts[i] - length * weights[i] / total));
            }
        }
    }
    return worst;
}

std::vector<double> randomIntegerWeights(std::size_t count, std::uint64_t seed, int maxWeight)
{
    XoshiroRng rng {seed};
    std::vector<double> weights;
    for (std::size_t i = 0; i < count; ++i) {
        weights.push_back(static_cast<double>(1 + rng.next() % static_cast<std::uint64_t>(maxWeight)));
    }
    return weights;
}

// The algorithm as nginx writes it, in plain doubles, for comparison.
class ReferenceSmoothWrr {
public:
    explicit ReferenceSmoothWrr(std::size_t count)
        : m_current(count, 0.0)
    {
    }

    int pick(const std::vector<double> &effectiveWeights, const std::vector<int> &candidates)
    {
        double total = 0.0;
        int best = -1;
        for (const int index : candidates) {
            const auto i = static_cast<std::size_t>(index);
            m_current[i] += effectiveWeights[i];
            total += effectiveWeights[i];
            if (best < 0 || m_current[i] > m_current[static_cast<std::size_t>(best)]) {
                best = index;
            }
        }
        m_current[static_cast<std::size_t>(best)] -= total;
        return best;
    }

private:
    std::vector<double> m_current;
};

} // namespace

class TestSmoothWeightedPolicy final : public QObject {
    Q_OBJECT

private slots:
    void nginxSequence();
    void exactPerCycle_data();
    void exactPerCycle();
    void exactPerCycle64Targets();
    void smoothNotBursty();
    void healthRampScalesTheWeight();
    void skippedTargetsKeepTheirState();
    void matchesReferenceWithChangingCandidates();
    void furtherChoicesByCurrentValue();
    void furtherChoicesChangeNoState();
    void scoresAreCurrentValues();
    void drawsNoRandomness();
    void concurrentPicksKeepTheCycleExact();
    void keepsTheRankingContract();
};

void TestSmoothWeightedPolicy::nginxSequence()
{
    const auto targets = targetsWithWeights({5, 1, 1});
    SmoothWeightedPolicy policy {targets};
    // nginx's documented order for 5, 1, 1: a a b a c a a, repeating.
    QCOMPARE(pickSequence(policy, targets, snapshotOf(3), 14),
             (std::vector<int> {0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0}));
}

void TestSmoothWeightedPolicy::exactPerCycle_data()
{
    QTest::addColumn<std::vector<double>>("weights");
    QTest::newRow("5,1,1") << std::vector<double> {5, 1, 1};
    QTest::newRow("1,1,1") << std::vector<double> {1, 1, 1};
    QTest::newRow("3,2") << std::vector<double> {3, 2};
    QTest::newRow("10,5,1") << std::vector<double> {10, 5, 1};
    QTest::newRow("7,3,2,1") << std::vector<double> {7, 3, 2, 1};
    QTest::newRow("1..8") << std::vector<double> {1, 2, 3, 4, 5, 6, 7, 8};
    QTest::newRow("100,1") << std::vector<double> {100, 1};
}

void TestSmoothWeightedPolicy::exactPerCycle()
{
    QFETCH(std::vector<double>, weights);
    const auto targets = targetsWithWeights(weights);
    SmoothWeightedPolicy policy {targets};
    std::vector<int> counts;
    int cycle = 0;
    for (const double w : weights) {
        counts.push_back(static_cast<int>(w));
        cycle += static_cast<int>(w);
    }
    const auto sequence = pickSequence(policy, targets, snapshotOf(weights.size()), 5 * cycle);
    QVERIFY(everyWindowMatches(sequence, static_cast<std::size_t>(cycle), counts));
}

void TestSmoothWeightedPolicy::exactPerCycle64Targets()
{
    const std::vector<double> weights = randomIntegerWeights(64, 11, 20);
    const auto targets = targetsWithWeights(weights);
    SmoothWeightedPolicy policy {targets};
    std::vector<int> counts;
    int cycle = 0;
    for (const double w : weights) {
        counts.push_back(static_cast<int>(w));
        cycle += static_cast<int>(w);
    }
    const auto sequence = pickSequence(policy, targets, snapshotOf(64), 3 * cycle);
    QVERIFY(everyWindowMatches(sequence, static_cast<std::size_t>(cycle), counts));
}

void TestSmoothWeightedPolicy::smoothNotBursty()
{
    // 5, 1, 1: never five of target 0 in a row (a plain weighted rotation gives a a a a a b c).
    {
        const auto targets = targetsWithWeights({5, 1, 1});
        SmoothWeightedPolicy policy {targets};
        const auto sequence = pickSequence(policy, targets, snapshotOf(3), 70);
        int run = 0;
        int longest = 0;
        for (const int index : sequence) {
            run = index == 0 ? run + 1 : 0;
            longest = std::max(longest, run);
        }
        QVERIFY2(longest <= 4, qPrintable(QStringLiteral("run of %1").arg(longest)));
        // Any stretch of picks is close to its weighted share (the bursty order reaches 1.43).
        QVERIFY(maxDiscrepancy(sequence, {5, 1, 1}) < 1.2);
    }
    // 64 targets: no window drifts more than two picks from its share (bursty: dozens).
    {
        const std::vector<double> weights = randomIntegerWeights(64, 11, 20);
        const auto targets = targetsWithWeights(weights);
        SmoothWeightedPolicy policy {targets};
        const auto sequence = pickSequence(policy, targets, snapshotOf(64), 700);
        const double discrepancy = maxDiscrepancy(sequence, weights);
        QVERIFY2(discrepancy <= 2.0, qPrintable(QStringLiteral("discrepancy %1").arg(discrepancy)));
    }
}

void TestSmoothWeightedPolicy::healthRampScalesTheWeight()
{
    // Equal configured weights, target 1 ramping at half weight: 2:1 per 3 picks, smooth.
    const auto targets = targetsWithWeights({1, 1});
    BackendSnapshot snapshot = snapshotOf(2);
    snapshot.backends[1].healthWeight = 0.5;
    SmoothWeightedPolicy policy {targets};
    const auto sequence = pickSequence(policy, targets, snapshot, 12);
    QCOMPARE(sequence, (std::vector<int> {0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0}));
}

void TestSmoothWeightedPolicy::skippedTargetsKeepTheirState()
{
    const auto targets = targetsWithWeights({1, 1, 1});
    const BackendSnapshot snapshot = snapshotOf(3);
    SmoothWeightedPolicy policy {targets};
    XoshiroRng rng {1};
    const auto pick = [&](const std::vector<int> &candidates) {
        const Ranking out = rankOnce(policy, targets, candidates, snapshot, RequestSummary {}, rng, 1);
        return out.order.front();
    };
    // Currents: (1,1,1) -> pick 0 -> (-2,1,1).
    QCOMPARE(pick({0, 1, 2}), 0);
    // Target 1 filtered out: (-1, 1, 2) -> pick 2 -> (-1, 1, 0); target 1 untouched.
    QCOMPARE(pick({0, 2}), 2);
    // Back: (0, 2, 1) -> pick 1 (it kept its lead) -> (0, -1, 1).
    QCOMPARE(pick({0, 1, 2}), 1);
    // (1, 0, 2) -> 2.
    QCOMPARE(pick({0, 1, 2}), 2);
}

void TestSmoothWeightedPolicy::matchesReferenceWithChangingCandidates()
{
    // Fractions that are exact in fixed point, so the reference in doubles sees the same ties.
    const double ramps[] = {1.0, 0.5, 0.25, 0.75};
    const std::vector<double> weights = randomIntegerWeights(9, 5, 6);
    const auto targets = targetsWithWeights(weights);
    SmoothWeightedPolicy policy {targets};
    ReferenceSmoothWrr reference {targets.size()};
    BackendSnapshot snapshot = snapshotOf(targets.size());
    XoshiroRng setup {8};
    XoshiroRng rng {1};
    for (int step = 0; step < 5000; ++step) {
        if (step % 50 == 0) {
            for (auto &backend : snapshot.backends) {
                backend.healthWeight = ramps[setup.next() % 4];
            }
        }
        std::vector<int> candidates;
        for (std::size_t i = 0; i < targets.size(); ++i) {
            if (setup.next() % 3 != 0) {
                candidates.push_back(static_cast<int>(i));
            }
        }
        if (candidates.empty()) {
            candidates.push_back(0);
        }
        std::vector<double> effective;
        for (const auto &target : targets) {
            effective.push_back(effectiveWeight(target, snapshot));
        }
        const Ranking out = rankOnce(policy, targets, candidates, snapshot, RequestSummary {}, rng, 1);
        QCOMPARE(out.order.front(), reference.pick(effective, candidates));
    }
}

void TestSmoothWeightedPolicy::furtherChoicesByCurrentValue()
{
    const auto targets = targetsWithWeights({5, 1, 1});
    SmoothWeightedPolicy policy {targets};
    XoshiroRng rng {1};
    const auto rankAll = [&] {
        return rankOnce(policy, targets, allCandidates(3), snapshotOf(3), RequestSummary {}, rng, 3).order;
    };
    // (5,1,1) -> 0; rest tie at 1: lower index first.
    QCOMPARE(rankAll(), (std::vector<int> {0, 1, 2}));
    // (3,2,2) -> 0.
    QCOMPARE(rankAll(), (std::vector<int> {0, 1, 2}));
    // (1,3,3) -> 1 -> (1,-4,3): then 2 (3), then 0 (1).
    QCOMPARE(rankAll(), (std::vector<int> {1, 2, 0}));
}

void TestSmoothWeightedPolicy::furtherChoicesChangeNoState()
{
    const std::vector<double> weights = randomIntegerWeights(12, 3, 9);
    const auto targets = targetsWithWeights(weights);
    SmoothWeightedPolicy single {targets};
    SmoothWeightedPolicy several {targets};
    QCOMPARE(pickSequence(several, targets, snapshotOf(12), 500, 5), pickSequence(single, targets, snapshotOf(12), 500, 1));
}

void TestSmoothWeightedPolicy::scoresAreCurrentValues()
{
    const auto targets = targetsWithWeights({5, 1, 1, 2});
    SmoothWeightedPolicy policy {targets};
    BackendSnapshot snapshot = snapshotOf(4);
    snapshot.backends[1].healthWeight = 0.5;
    XoshiroRng rng {1};
    Ranking out = rankOnce(policy, targets, {0, 1, 2}, snapshot, RequestSummary {}, rng, 1);
    QCOMPARE(out.scores[0], 5.0);
    QCOMPARE(out.scores[1], 0.5);
    QCOMPARE(out.scores[2], 1.0);
    QVERIFY(std::isnan(out.scores[3]));
    // Target 0 lost the total (6.5): 5 - 6.5 + 5.
    out = rankOnce(policy, targets, {0, 1, 2}, snapshot, RequestSummary {}, rng, 1);
    QCOMPARE(out.scores[0], 3.5);
    QCOMPARE(out.scores[1], 1.0);
}

void TestSmoothWeightedPolicy::drawsNoRandomness()
{
    const auto targets = targetsWithWeights({2, 1});
    SmoothWeightedPolicy policy {targets};
    ScriptedRng rng {{}};
    const Ranking out = rankOnce(policy, targets, allCandidates(2), snapshotOf(2), RequestSummary {}, rng, 2);
    QCOMPARE(out.order, (std::vector<int> {0, 1}));
    QCOMPARE(rng.draws(), std::size_t {0});
}

void TestSmoothWeightedPolicy::concurrentPicksKeepTheCycleExact()
{
    constexpr int THREADS = 4;
    constexpr int CYCLES_PER_THREAD = 2000;
    const auto targets = targetsWithWeights({5, 1, 1});
    const BackendSnapshot snapshot = snapshotOf(3);
    const std::vector<int> candidates = allCandidates(3);
    SmoothWeightedPolicy policy {targets};
    std::vector<std::vector<int>> counts(THREADS, std::vector<int>(3, 0));
    std::vector<std::thread> workers;
    for (int t = 0; t < THREADS; ++t) {
        workers.emplace_back([&, t] {
            XoshiroRng rng {static_cast<std::uint64_t>(t)};
            const RankInput input {targets, candidates, snapshot, RequestSummary {}, -1, 2};
            Ranking out;
            for (int i = 0; i < 7 * CYCLES_PER_THREAD; ++i) {
                policy.rank(input, rng, out);
                ++counts[static_cast<std::size_t>(t)][static_cast<std::size_t>(out.order.front())];
            }
        });
    }
    for (auto &worker : workers) {
        worker.join();
    }
    std::vector<int> total(3, 0);
    for (const auto &perThread : counts) {
        for (std::size_t i = 0; i < 3; ++i) {
            total[i] += perThread[i];
        }
    }
    // A whole number of cycles overall, so the split is exact despite the interleaving.
    QCOMPARE(total, (std::vector<int> {5 * THREADS * CYCLES_PER_THREAD, THREADS * CYCLES_PER_THREAD,
                                       THREADS * CYCLES_PER_THREAD}));
}

void TestSmoothWeightedPolicy::keepsTheRankingContract()
{
    checkRankingContract(
        [](const std::vector<PolicyTarget> &targets) { return std::make_unique<SmoothWeightedPolicy>(targets); },
        true);
}

QTEST_APPLESS_MAIN(TestSmoothWeightedPolicy)
#include "testsmoothweightedpolicy.moc"
