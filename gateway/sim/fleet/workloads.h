#pragma once

#include "simtime.h"
#include "workload.h"

#include <QString>

#include <cstdint>
#include <optional>
#include <string_view>

namespace Gateway::Sim::Fleet {

// The benchmark workloads of gpu-routers.md section 8.4. Token counts are the published
// generators' defaults; where the source gives none, the value is ours and marked so.
enum class WorkloadKind : std::uint8_t {
    // W1 "gsp": SGLang bench_serving generated-shared-prefix defaults. 64 groups x 16
    // prompts, system prompt 2048 tokens, question 128, output 256; the 1,024 prompts
    // shuffled (as bench_serving does), repeated in fresh shuffled rounds with new
    // questions for as long as the run lasts. Burst mode: one round, all at t = 0.
    SharedPrefix,
    // W2 "b2b": llm-d kvcache-wins / GIE short-questions many-system-prompts. 150 groups x 5,
    // system 6000, question 1200, output 1000, shuffled rounds; Poisson rate ramping
    // linearly (3 -> 60 QPS in the source: end rate 20x the start) around the mean rate.
    // The KV cache is sized so the groups' contexts and concurrent questions fill 73% of
    // the fleet's cache.
    ManySystemPrompts,
    // W3 "chat": production-stack multi-round-qa (shared system 1000, user history 2000,
    // answer 100). Each active user sends a turn on average every 10 s (ours), so the
    // fleet sees rate x 10 s concurrent users; a turn's prompt is system + history + all
    // earlier questions and answers + a new question (100 tokens, ours); after 10 rounds a
    // user is replaced by a new one. Users start at a random round so the mix is steady.
    MultiTurnChat,
    // W4 "low-share": GIE long-questions many-system-prompts. 150 x 5, system 1000,
    // question 6200, output 1000, constant Poisson: little to gain from prefixes.
    LongQuestions,
    // W5 "hot": GIE short-questions few-system-prompts multi-chat. 6 groups x 1000 users,
    // system 1000, question ~N(30, 9), output 100 (ours); each user's turns accumulate
    // (multi-turn). Groups equally popular.
    HotPrefixes,
    // W5 with Zipf(alpha = 1) group popularity (our addition): the first group takes 41%.
    HotPrefixesZipf,
    // W6 "mixed fleet" (BLIS P/D study), run on heterogeneous servers (FleetConfig::
    // stepScale) with or without a prefill pool. Two traffic shapes, multi-turn sessions
    // whose context is their own (no cross-session sharing):
    // W6chat, interactive chat: 5,000-token context, ~50 new tokens per turn, answer 100
    // (ours), 10 turns per session.
    MixedFleetChat,
    // W6code, code assistant: 30,000-token context, ~1,500 new tokens per turn, answer 300
    // (ours), 10 turns per session.
    MixedFleetCode,
};

struct WorkloadSpec {
    WorkloadKind kind = WorkloadKind::SharedPrefix;
    std::uint64_t seed = 1;
    double rate = 10.0;  // mean arrivals per second
    bool burst = false;  // W1: one shuffled round of the dataset, all at t = 0 (rate ignored)
    bool constantRate = false; // W2: plain Poisson at `rate` instead of the ramp
    // W1, W2, W4: the dataset in group order (all prompts of group 0, then group 1...)
    // instead of shuffled. Not the published generators; a diagnostic of how much
    // arrival order alone moves round robin's hit rate under a burst.
    bool groupOrder = false;
    SimTime horizon = 60 * MICROS_PER_SECOND; // arrivals fall in [0, horizon)
    int servers = 8;     // fleet size (W2 sizes the KV cache from it)
};

Workload generateWorkload(const WorkloadSpec &spec);

// "W1".."W5", "W5z", "W6chat", "W6code" (also "gsp", "b2b", "chat", "low-share", "hot", "hot-zipf").
std::optional<WorkloadKind> workloadKindFromName(std::string_view name);
QString workloadName(WorkloadKind kind);

// W2's sizing rule, llm-d's: KV blocks per server such that every group's context plus
// its five concurrent questions fill 73% of the fleet's KV capacity (about 6x one
// server's); 8 servers get 19,264 blocks, the 307,328 tokens of that run's pods.
int manySystemPromptsKvBlocks(int servers, int blockSize = 16);

} // namespace Gateway::Sim::Fleet
