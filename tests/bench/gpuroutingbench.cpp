// The cost of one GPU-fleet routing decision: 8 backends, 8K-token prompts (512 blocks
// of 16 tokens), through the same path the gateway takes: PrefixIndex::match, the
// policy's scoring, and PrefixIndex::record of the chosen backend. Prompts come from 64
// shared-prefix groups (2K-token system prompt + 6K-token private question), and each
// backend's index capacity (16,000 blocks) is far below what the stream writes, so the
// measurements are in the steady state: every record inserts and evicts.
//
// Besides Google Benchmark's mean, each case reports p50/p99 in microseconds from
// per-iteration timings (counters p50_us, p99_us). Targets:
// p99 < 20 us for match + record, < 50 us for the whole decision.

#include "routing/gpupresets.h"
#include "routing/prefixindex.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <numeric>
#include <vector>

using namespace Gateway::Routing;

namespace {

constexpr int BACKENDS = 8;
constexpr int PROMPT_BLOCKS = 512;   // 8192 tokens of 16-token blocks
constexpr int SYSTEM_BLOCKS = 128;   // 2048 tokens shared within a group
constexpr int GROUPS = 64;
constexpr int REQUESTS = 4096;       // distinct prompts, replayed round-robin
constexpr std::int64_t CAPACITY_BLOCKS = 16000;
constexpr int WARMUP_DECISIONS = 2000;

std::uint64_t mix(std::uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

struct Fixture {
    std::vector<PolicyTarget> targets;
    std::vector<int> candidates;
    BackendSnapshot snapshot;
    std::vector<RequestSummary> requests;

    Fixture()
    {
        XoshiroRng rng {42};
        for (int i = 0; i < BACKENDS; ++i) {
            targets.push_back({i, 1.0});
            BackendState state;
            state.inFlightRequests = static_cast<int>(rng.next() % 32);
            state.inFlightPrefillTokens = static_cast<std::int64_t>(rng.next() % 40000);
            state.inFlightDecodeTokens = static_cast<std::int64_t>(rng.next() % 20000);
            state.inFlightTokens = state.inFlightPrefillTokens + state.inFlightDecodeTokens;
            state.engine.fresh = i % 2 == 0;
            state.engine.waitingRequests = static_cast<double>(rng.next() % 8);
            state.engine.runningRequests = static_cast<double>(rng.next() % 64);
            state.engine.kvCacheUsage = static_cast<double>(rng.next() % 100) / 100.0;
            snapshot.backends.push_back(state);
        }
        candidates.resize(BACKENDS);
        std::iota(candidates.begin(), candidates.end(), 0);
        for (int r = 0; r < REQUESTS; ++r) {
            RequestSummary request;
            request.estimatedPromptTokens = PROMPT_BLOCKS * 16;
            request.maxTokens = 256;
            request.sessionKey = QByteArrayLiteral("session-").append(QByteArray::number(r % 512));
            const std::uint64_t group = static_cast<std::uint64_t>(r % GROUPS);
            std::uint64_t chain = mix(group + 1);
            for (int b = 0; b < PROMPT_BLOCKS; ++b) {
                // Chained like PromptBlockHasher: the private part diverges after the
                // system prompt and never meets again.
                const std::uint64_t content = b < SYSTEM_BLOCKS ? static_cast<std::uint64_t>(b)
                                                                : (static_cast<std::uint64_t>(r) << 20) + b;
                chain = mix(chain ^ content);
                request.promptBlocks.push_back(chain);
            }
            requests.push_back(std::move(request));
        }
    }
};

const Fixture &fixture()
{
    static const Fixture instance;
    return instance;
}

// An index already holding WARMUP_DECISIONS prompts spread over the backends.
std::unique_ptr<PrefixIndex> warmIndex()
{
    const Fixture &f = fixture();
    auto index = std::make_unique<PrefixIndex>();
    for (int i = 0; i < BACKENDS; ++i) {
        index->setCapacityBlocks(i, CAPACITY_BLOCKS);
    }
    XoshiroRng rng {3};
    std::vector<int> matched(BACKENDS);
    for (int i = 0; i < WARMUP_DECISIONS; ++i) {
        const RequestSummary &request = f.requests[static_cast<std::size_t>(i) % REQUESTS];
        index->match(request.promptBlocks, f.candidates, matched);
        index->record(static_cast<int>(rng.next() % BACKENDS), request.promptBlocks);
    }
    return index;
}

void reportPercentiles(benchmark::State &state, std::vector<double> &samples)
{
    if (samples.empty()) {
        return;
    }
    std::sort(samples.begin(), samples.end());
    const auto at = [&](double q) {
        return samples[std::min(samples.size() - 1, static_cast<std::size_t>(q * static_cast<double>(samples.size())))];
    };
    state.counters["p50_us"] = at(0.50);
    state.counters["p99_us"] = at(0.99);
}

// match + record alone: the index's share of a decision.
void BM_prefix_index_match_record(benchmark::State &state)
{
    const Fixture &f = fixture();
    const std::unique_ptr<PrefixIndex> index = warmIndex();
    std::vector<int> matched(BACKENDS);
    std::vector<double> samples;
    samples.reserve(1 << 20);
    std::size_t next = WARMUP_DECISIONS;
    for (auto _ : state) {
        const RequestSummary &request = f.requests[next % REQUESTS];
        const auto start = std::chrono::steady_clock::now();
        index->match(request.promptBlocks, f.candidates, matched);
        index->record(static_cast<int>(next % BACKENDS), request.promptBlocks);
        const auto stop = std::chrono::steady_clock::now();
        benchmark::DoNotOptimize(matched.data());
        if (samples.size() < samples.capacity()) {
            samples.push_back(std::chrono::duration<double, std::micro>(stop - start).count());
        }
        ++next;
    }
    reportPercentiles(state, samples);
}

// A whole decision through makeGpuPolicy: match, score, rank, record.
void BM_gpu_policy(benchmark::State &state, const char *preset)
{
    const Fixture &f = fixture();
    GpuPolicyParams params;
    params.preset = QString::fromLatin1(preset);
    const std::unique_ptr<PrefixIndex> index = warmIndex();
    const std::unique_ptr<RoutePolicy> policy = makeGpuPolicy(params, index.get());
    if (!policy) {
        state.SkipWithError("invalid preset");
        return;
    }
    XoshiroRng rng {7};
    Ranking ranking;
    std::vector<double> samples;
    samples.reserve(1 << 20);
    std::size_t next = WARMUP_DECISIONS;
    for (auto _ : state) {
        const RankInput input {f.targets, f.candidates, f.snapshot, f.requests[next % REQUESTS], -1, 3};
        const auto start = std::chrono::steady_clock::now();
        policy->rank(input, rng, ranking);
        const auto stop = std::chrono::steady_clock::now();
        benchmark::DoNotOptimize(ranking.order.data());
        if (samples.size() < samples.capacity()) {
            samples.push_back(std::chrono::duration<double, std::micro>(stop - start).count());
        }
        ++next;
    }
    reportPercentiles(state, samples);
}

} // namespace

BENCHMARK(BM_prefix_index_match_record);
BENCHMARK_CAPTURE(BM_gpu_policy, prefix_aware, "prefix_aware");
BENCHMARK_CAPTURE(BM_gpu_policy, sglang_cache_aware, "sglang_cache_aware");
BENCHMARK_CAPTURE(BM_gpu_policy, epp_default, "epp_default");
BENCHMARK_CAPTURE(BM_gpu_policy, llmd_precise, "llmd_precise");
BENCHMARK_CAPTURE(BM_gpu_policy, dynamo_cost, "dynamo_cost");
BENCHMARK_CAPTURE(BM_gpu_policy, prefix_only, "prefix_only");

BENCHMARK_MAIN();
