#pragma once

#include "kvblockcache.h"
#include "serverconfig.h"
#include "simtime.h"

#include <QByteArray>
#include <QByteArrayView>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <queue>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace Gateway::Sim::Fleet {

// What a simulated server receives: the rendered prompt (syntheticprompt.h: 4 characters
// per token) and the answer it will produce. The answer's text only matters for caching:
// a later turn of the same conversation sends prompt + answer back, and the server's
// decode blocks are reusable exactly when their text matches.
struct EngineRequest {
    std::uint64_t id = 0;
    QByteArray promptText;
    QByteArray completionText; // empty: the generated blocks get no hash (never reused)
    int maxTokens = 1;         // tokens it generates (the benchmarks ignore EOS)
    // Disaggregated serving (vLLM do_remote_prefill): the prompt was prefilled on another
    // server. The blocks this server lacks are pulled first (ServerConfig::kvTransferTime,
    // before it queues), then imported at admission as computed: only the last prompt
    // token runs here, and the imported blocks join the prefix cache.
    bool remotePrefill = false;
};

// Inter-token gaps of the tokens one step produced; equal gaps are merged (in a busy
// step almost every running request sees the same gap: the step's length).
struct TokenGap {
    SimTime gap = 0;
    int count = 0;
};

struct FinishedRequest {
    std::uint64_t id = 0;
    int generatedTokens = 0;
};

// What happened at one step boundary, for the driver.
struct StepReport {
    SimTime time = 0;
    std::vector<std::uint64_t> firstTokens; // prefill done: first token produced at `time`
    std::vector<FinishedRequest> finished;  // last token produced at `time`
    std::vector<std::uint64_t> rejected;    // can never fit in the KV cache (prompt + output)
    std::vector<TokenGap> gaps;             // gaps before every non-first token produced at `time`

    void clear();
};

// The state an inference engine exports (the subset routers scrape, vLLM V1 meanings),
// plus simulator-only totals used for the benchmark's metrics.
struct ServerStatus {
    int running = 0;                     // vllm:num_requests_running
    int waiting = 0;                     // vllm:num_requests_waiting (incl. input processing)
    double kvCacheUsage = 0.0;           // vllm:kv_cache_usage_perc: 1 - free blocks / blocks
    // Prefix-cache lookups of the whole run, in tokens; vllm:prefix_cache_{queries,hits}_total
    // are the same since the engine's last restart (ServerModel::restart), below.
    std::int64_t prefixCacheQueries = 0;
    std::int64_t prefixCacheHits = 0;
    std::int64_t processPrefixCacheQueries = 0;
    std::int64_t processPrefixCacheHits = 0;
    int blockSize = 0;                   // vllm:cache_config_info{block_size}
    int numGpuBlocks = 0;                // vllm:cache_config_info{num_gpu_blocks}

    std::int64_t prefillTokensComputed = 0; // uncached prompt (and recomputed) tokens
    std::int64_t importedTokens = 0;        // prompt tokens whose KV came from a prefill server
    std::int64_t decodeTokens = 0;
    std::int64_t preemptions = 0;
    std::int64_t steps = 0;
    std::uint64_t evictions = 0;
    SimTime busyTime = 0;
    double runningIntegral = 0.0; // sum over steps of (running requests x step length), request-us
    int peakWaiting = 0;
};

// One simulated inference server: vLLM-V1-style continuous batching over a paged,
// prefix-cached KV cache (KvBlockCache), timed by the linear step model of
// StepCoefficients. Pure: no clock, no I/O; the driver calls advance() at the times
// nextEventTime() asks for.
//
// Scheduling, once per step (vLLM V1 `Scheduler.schedule`, simplified):
// 1. Running requests in admission order: a decoding request gets 1 token, a request in
//    prefill its next chunk, all out of a budget of maxNumBatchedTokens. If its KV needs
//    a block and none is free, the most recently admitted running request is preempted
//    (its blocks freed, to be recomputed later: preemption by recompute).
// 2. If nothing was preempted: waiting requests in FCFS order while budget and
//    maxNumSeqs allow. Each first looks up its longest published prefix (its cache hit,
//    always leaving at least one token to compute), then needs free blocks for its first
//    chunk; the head of the queue that does not fit blocks the rest.
// The step lasts StepCoefficients::stepTime(prefill tokens, decode tokens); at its end
// computed blocks are published, prefills that completed produce their first token and
// decoding requests one token each.
class ServerModel final {
public:
    ServerModel(const ServerConfig &config, QByteArrayView modelName);
    ServerModel(const ServerModel &) = delete;
    ServerModel &operator=(const ServerModel &) = delete;

    // The request arrives at `now`; it joins the waiting queue after the per-request
    // overhead (ServerConfig::admissionDelay).
    void submit(const EngineRequest &request, SimTime now);
    // The client gave up: the request leaves the server (its blocks are freed at the end
    // of the step it is part of). False if the server does not know it.
    bool abort(std::uint64_t id);

    // When the driver must call advance() next: the end of the step in flight, or when
    // idle the moment the next submitted request becomes ready; nullopt = nothing to do.
    std::optional<SimTime> nextEventTime() const;
    // Completes the step ending at `now` (if any) into `report`, then starts the next.
    void advance(SimTime now, StepReport &report);

    // The engine restarts at a step boundary, modelled as a drain and reload in no time:
    // nothing computed before is found by a lookup again (KvBlockCache::dropCached; the
    // requests in flight keep their own KV and finish) and the /metrics prefix-cache
    // counters start again at zero, which is how a router sees a restart. The run's
    // totals (tokens computed, steps) keep counting.
    void restart();

    ServerStatus status() const;
    const KvBlockCache &cache() const { return m_cache; }
    // How many leading blocks of `chain` this server has announced as stored: published
    // blocks plus those the step in flight is computing. vLLM V1 emits its BlockStored KV
    // event when it schedules a full block (KVCacheManager caches blocks at allocation),
    // so this is what an index fed by KV events knows with zero delivery delay. Requests
    // still waiting for admission have announced nothing.
    int announcedPrefix(std::span<const std::uint64_t> chain) const;
    const ServerConfig &config() const { return m_config; }

private:
    enum class Phase : std::uint8_t { Pending, Waiting, Running };

    struct Sequence {
        std::uint64_t id = 0;
        int promptTokens = 0;
        int maxTokens = 0;
        std::vector<std::uint64_t> hashes; // chained block hashes of prompt + completion text
        std::vector<KvBlockCache::BlockId> blocks;
        int computed = 0;  // tokens whose KV is computed
        int generated = 0; // tokens sampled
        int published = 0; // leading blocks already offered to the cache
        SimTime readyAt = 0;
        SimTime lastTokenAt = 0;
        std::uint64_t order = 0; // submission order: tie-break among equal readyAt
        Phase phase = Phase::Pending;
        bool aborted = false;
        bool remotePrefill = false; // its prompt's KV is imported at admission (until preempted)
    };

    struct Planned {
        Sequence *seq;
        int tokens;
    };

    struct LaterReady {
        bool operator()(const Sequence *a, const Sequence *b) const
        {
            return a->readyAt != b->readyAt ? a->readyAt > b->readyAt : a->order > b->order;
        }
    };

    void finishStep(StepReport &report);
    void startStep(SimTime now, StepReport &report);
    bool planStep(); // false when a preemption happened (admission skipped)
    void planRunning(bool &preempted);
    void planWaiting();
    void preempt(Sequence *seq);
    void publishComputed(Sequence &seq);
    void announce(const Sequence &seq, int tokens);
    void forget(Sequence *seq);
    int blocksFor(int tokens) const { return (tokens + m_config.blockSize - 1) / m_config.blockSize; }
    bool isPrefill(const Sequence &seq) const
    {
        return seq.generated == 0 || seq.computed < seq.promptTokens + seq.generated - 1;
    }

    ServerConfig m_config;
    QByteArray m_model;
    KvBlockCache m_cache;
    std::unordered_map<std::uint64_t, std::unique_ptr<Sequence>> m_sequences;
    std::priority_queue<Sequence *, std::vector<Sequence *>, LaterReady> m_pending;
    std::deque<Sequence *> m_waiting;
    std::vector<Sequence *> m_running;
    std::vector<Planned> m_plan;
    std::vector<KvBlockCache::BlockId> m_hits; // scratch: the admitted request's cached blocks
    std::unordered_set<std::uint64_t> m_announced; // full blocks the step in flight computes
    std::optional<SimTime> m_stepEnd;
    SimTime m_stepStart = 0;
    std::int64_t m_stepPrefill = 0;
    std::int64_t m_stepDecode = 0;
    int m_budgetLeft = 0; // token budget the running requests left for admission
    int m_pendingLive = 0;
    int m_waitingLive = 0;
    std::uint64_t m_submitted = 0;
    ServerStatus m_totals;
    // The prefix-cache counters at the last restart(): /metrics reports the totals since.
    std::int64_t m_queriesAtRestart = 0;
    std::int64_t m_hitsAtRestart = 0;
};

} // namespace Gateway::Sim::Fleet
