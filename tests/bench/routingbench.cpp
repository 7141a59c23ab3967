// The cost of one routing decision: each strategy ranking 64 targets (first choice plus
// two fallbacks, as a route with retry.attempts 3 asks for), over a snapshot with varied
// load, latency and prices. See docs/BENCHMARKS.md.

#include "routing/adaptivepolicy.h"
#include "routing/costpolicy.h"
#include "routing/latencypolicy.h"
#include "routing/leastrequestpolicy.h"
#include "routing/p2cpolicy.h"
#include "routing/randompolicy.h"
#include "routing/roundrobinpolicy.h"
#include "routing/sessionhashpolicy.h"
#include "routing/smoothweightedpolicy.h"

#include <benchmark/benchmark.h>

#include <memory>
#include <numeric>
#include <vector>

using namespace Gateway::Routing;

namespace {

constexpr int TARGETS = 64;
constexpr int CHOICES = 3;

struct Fixture {
    std::vector<PolicyTarget> targets;
    std::vector<int> candidates;
    BackendSnapshot snapshot;
    std::vector<RequestSummary> requests;

    Fixture()
    {
        XoshiroRng rng {42};
        for (int i = 0; i < TARGETS; ++i) {
            targets.push_back({i, 1.0 + (i % 4)});
            BackendState state;
            state.inFlightRequests = static_cast<int>(rng.next() % 32);
            state.inFlightTokens = static_cast<std::int64_t>(rng.next() % 100000);
            state.ttftMs = 50.0 + static_cast<double>(rng.next() % 400);
            state.latencyPerTokenMs = 5.0 + static_cast<double>(rng.next() % 40);
            state.inputCostPerMTok = 0.1 + static_cast<double>(rng.next() % 300) / 100.0;
            state.outputCostPerMTok = 0.4 + static_cast<double>(rng.next() % 1200) / 100.0;
            snapshot.backends.push_back(state);
        }
        candidates.resize(TARGETS);
        std::iota(candidates.begin(), candidates.end(), 0);
        RouteState route;
        for (int i = 0; i < TARGETS; ++i) {
            TargetFactors factors;
            factors.weight = 0.05 + static_cast<double>(rng.next() % 100) / 100.0;
            route.targets.push_back(factors);
        }
        snapshot.routes.push_back(route);
        // Distinct session keys, so the session-hash ring is walked from many places.
        for (int i = 0; i < 1024; ++i) {
            RequestSummary request;
            request.estimatedPromptTokens = 200 + i;
            request.maxTokens = 256;
            request.sessionKey = QByteArrayLiteral("session-").append(QByteArray::number(i));
            requests.push_back(request);
        }
    }
};

const Fixture &fixture()
{
    static const Fixture instance;
    return instance;
}

void runPolicy(benchmark::State &state, const RoutePolicy &policy)
{
    const Fixture &f = fixture();
    XoshiroRng rng {7};
    Ranking ranking;
    std::size_t next = 0;
    for (auto _ : state) {
        const RankInput input {f.targets, f.candidates, f.snapshot, f.requests[next++ & 1023], 0, CHOICES};
        policy.rank(input, rng, ranking);
        benchmark::DoNotOptimize(ranking.order.data());
    }
}

void BM_weighted(benchmark::State &state)
{
    const SmoothWeightedPolicy policy {fixture().targets};
    runPolicy(state, policy);
}
void BM_round_robin(benchmark::State &state)
{
    const RoundRobinPolicy policy;
    runPolicy(state, policy);
}
void BM_random(benchmark::State &state)
{
    const RandomPolicy policy;
    runPolicy(state, policy);
}
void BM_least_request(benchmark::State &state)
{
    const LeastRequestPolicy policy;
    runPolicy(state, policy);
}
void BM_p2c(benchmark::State &state)
{
    const P2cPolicy policy;
    runPolicy(state, policy);
}
void BM_latency(benchmark::State &state)
{
    const LatencyPolicy policy;
    runPolicy(state, policy);
}
void BM_cost(benchmark::State &state)
{
    CostParams params;
    params.maxLatencyMs = 2000;
    const CostPolicy policy {params};
    runPolicy(state, policy);
}
void BM_session_hash(benchmark::State &state)
{
    const SessionHashPolicy policy {fixture().targets};
    runPolicy(state, policy);
}
void BM_adaptive(benchmark::State &state)
{
    const AdaptivePolicy policy;
    runPolicy(state, policy);
}

} // namespace

BENCHMARK(BM_weighted);
BENCHMARK(BM_round_robin);
BENCHMARK(BM_random);
BENCHMARK(BM_least_request);
BENCHMARK(BM_p2c);
BENCHMARK(BM_latency);
BENCHMARK(BM_cost);
BENCHMARK(BM_session_hash);
BENCHMARK(BM_adaptive);

BENCHMARK_MAIN();
