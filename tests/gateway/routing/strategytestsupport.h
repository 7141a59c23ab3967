#pragma once

// Shared by the tests of the basic routing strategies: a scripted Rng, snapshot builders
// and the ranking contract every RoutePolicy must keep.

#include "routing/routepolicy.h"

#include <QString>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace StrategyTest {

using namespace Gateway::Routing;

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

// Target i maps to backend i.
inline std::vector<PolicyTarget> targetsWithWeights(const std::vector<double> &weights)
{
    std::vector<PolicyTarget> targets;
    for (std::size_t i = 0; i < weights.size(); ++i) {
        targets.push_back({static_cast<int>(i), weights[i]});
    }
    return targets;
}

inline BackendSnapshot snapshotOf(std::size_t count)
{
    BackendSnapshot snapshot;
    snapshot.backends.resize(count);
    return snapshot;
}

inline std::vector<int> allCandidates(std::size_t count)
{
    std::vector<int> candidates(count);
    for (std::size_t i = 0; i < count; ++i) {
        candidates[i] = static_cast<int>(i);
    }
    return candidates;
}

// One rank() call with explain on.
inline Ranking rankOnce(const RoutePolicy &policy, const std::vector<PolicyTarget> &targets,
                        const std::vector<int> &candidates, const BackendSnapshot &snapshot,
                        const RequestSummary &request, Rng &rng, int maxChoices)
{
    Ranking out;
    out.explain = true;
    const RankInput input {targets, candidates, snapshot, request, -1, maxChoices};
    policy.rank(input, rng, out);
    return out;
}

// Share of `rounds` picks in which each target came first.
inline std::vector<double> firstChoiceShares(const RoutePolicy &policy, const std::vector<PolicyTarget> &targets,
                                             const std::vector<int> &candidates, const BackendSnapshot &snapshot,
                                             const RequestSummary &request, int rounds, std::uint64_t seed)
{
    XoshiroRng rng {seed};
    Ranking out;
    const RankInput input {targets, candidates, snapshot, request, -1, 1};
    std::vector<int> counts(targets.size(), 0);
    for (int i = 0; i < rounds; ++i) {
        policy.rank(input, rng, out);
        ++counts[static_cast<std::size_t>(out.order.front())];
    }
    std::vector<double> shares;
    for (const int count : counts) {
        shares.push_back(static_cast<double>(count) / rounds);
    }
    return shares;
}

#define STRATEGY_VERIFY_SHARE(actual, expected, tolerance)                                                          \
    QVERIFY2(std::abs((actual) - (expected)) <= (tolerance),                                                      \
             qPrintable(QStringLiteral("share %1, expected %2 +- %3").arg(actual).arg(expected).arg(tolerance)))

using PolicyFactory = std::function<std::unique_ptr<RoutePolicy>(const std::vector<PolicyTarget> &)>;

// The contract of RoutePolicy::rank, on many random routes: exactly
// min(maxChoices, candidates) entries, each a candidate, each once; with explain, a score
// for every ranked target (every candidate when scoresEveryCandidate) and none for
// non-candidates; without explain, no scores at all.
inline void checkRankingContract(const PolicyFactory &factory, bool scoresEveryCandidate)
{
    constexpr int ROUTES = 300;
    constexpr int PICKS_PER_ROUTE = 10;
    XoshiroRng setup {2024};
    XoshiroRng rng {99};
    for (int route = 0; route < ROUTES; ++route) {
        const std::size_t targetCount = route % 10 == 0 ? 64 : 1 + setup.next() % 12;
        std::vector<double> weights;
        BackendSnapshot snapshot = snapshotOf(targetCount);
        for (std::size_t i = 0; i < targetCount; ++i) {
            weights.push_back(0.5 + static_cast<double>(setup.next() % 8));
            BackendState &state = snapshot.backends[i];
            state.healthWeight = 0.1 + 0.9 * setup.uniform();
            state.inFlightRequests = static_cast<int>(setup.next() % 4);
            state.inFlightTokens = static_cast<std::int64_t>(setup.next() % 3) * 1000;
            state.ttftMs = setup.next() % 3 == 0 ? 0.0 : 100.0 * static_cast<double>(setup.next() % 3);
            state.latencyPerTokenMs = state.ttftMs > 0.0 ? 5.0 + static_cast<double>(setup.next() % 3) : 0.0;
            state.inputCostPerMTok = static_cast<double>(setup.next() % 3);
            state.outputCostPerMTok = static_cast<double>(setup.next() % 3) * 2.0;
        }
        const std::vector<PolicyTarget> targets = targetsWithWeights(weights);
        std::vector<int> candidates;
        for (std::size_t i = 0; i < targetCount; ++i) {
            if (setup.next() % 4 != 0) {
                candidates.push_back(static_cast<int>(i));
            }
        }
        if (candidates.empty()) {
            candidates.push_back(static_cast<int>(setup.next() % targetCount));
        }
        RequestSummary request;
        request.estimatedPromptTokens = static_cast<int>(setup.next() % 2000);
        request.maxTokens = setup.next() % 2 == 0 ? -1 : 1 + static_cast<int>(setup.next() % 1000);

        const std::unique_ptr<RoutePolicy> policy = factory(targets);
        for (int pick = 0; pick < PICKS_PER_ROUTE; ++pick) {
            const int maxChoices = 1 + static_cast<int>(setup.next() % (targetCount + 2));
            const bool explain = pick % 2 == 0;
            Ranking out;
            out.explain = explain;
            out.order = {99, 98}; // stale content must be cleared
            const RankInput input {targets, candidates, snapshot, request, -1, maxChoices};
            policy->rank(input, rng, out);

            const std::size_t expectedSize = std::min(candidates.size(), static_cast<std::size_t>(maxChoices));
            QCOMPARE(out.order.size(), expectedSize);
            std::vector<int> sorted = out.order;
            std::sort(sorted.begin(), sorted.end());
            QVERIFY2(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end(), "an index appears twice");
            for (const int index : out.order) {
                QVERIFY2(std::binary_search(candidates.begin(), candidates.end(), index), "ranked a non-candidate");
            }
            if (!explain) {
                QVERIFY(out.scores.empty());
                continue;
            }
            QCOMPARE(out.scores.size(), targetCount);
            for (std::size_t i = 0; i < targetCount; ++i) {
                const int index = static_cast<int>(i);
                const bool isCandidate = std::binary_search(candidates.begin(), candidates.end(), index);
                const bool isRanked = std::find(out.order.begin(), out.order.end(), index) != out.order.end();
                const bool scored = !std::isnan(out.scores[i]);
                if (!isCandidate) {
                    QVERIFY2(!scored, "scored a non-candidate");
                } else if (isRanked || scoresEveryCandidate) {
                    QVERIFY2(scored, qPrintable(QStringLiteral("candidate %1 has no score").arg(index)));
                }
            }
        }
    }
}

} // namespace StrategyTest
