#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace Gateway::Routing {

// Health of a backend or of one provider key. Transitions are decided by HealthTracker;
// policies only read the state.
enum class HealthState : std::uint8_t {
    Healthy,    // full weight
    Degraded,   // still routed to, at a reduced weight
    Failed,     // circuit open: no traffic until the open interval ends
    Recovering, // half-open probes, then a slow-start ramp back to full weight
};

// What the inference engine itself reports on its Prometheus /metrics (GPU targets with
// a `metrics_url`), normalised across vLLM, SGLang, TGI and llama.cpp. Scraped off the
// data-plane threads; policies must treat `fresh == false` as "unknown" and fall back to
// the gateway's own counters (in-flight requests and tokens), never fail on it.
struct EngineSignals {
    bool fresh = false;             // a scrape succeeded within the staleness bound
    double waitingRequests = 0.0;   // engine queue depth
    double runningRequests = 0.0;   // requests in the running batch
    double kvCacheUsage = -1.0;     // fraction 0..1 of KV-cache memory in use; < 0 = not reported
    double prefixCacheHitRate = -1.0; // hits / queries (tokens) since the previous scrape; < 0 = unknown
    std::int64_t cacheBlockSize = 0;  // tokens per KV block (vllm:cache_config_info); 0 = unknown
    std::int64_t cacheBlocks = 0;     // KV blocks on the GPU; 0 = unknown
    std::int64_t ageMs = -1;          // time since the last successful scrape; -1 = never
    // Engine restarts seen since the first scrape: a cumulative counter that went backwards.
    // A restarted engine's KV cache is empty, so whatever an index believes it holds is wrong.
    std::int64_t restarts = 0;
};

// Observed state of one backend (provider + upstream model) at snapshot time. Policies
// only ever read it. Slow-moving fields (health, EWMAs, error rate) come from the
// periodically published snapshot; in-flight counts are refreshed per request.
struct BackendState {
    bool available = true;           // false: circuit open or every key cooling down
    HealthState health = HealthState::Healthy;
    double healthWeight = 1.0;       // (0, 1]: slow-start ramp or degraded share
    // Monotonic ms of the last health transition (before any: when the backend was first
    // seen; healthTransitioned = false).
    std::int64_t healthSinceMs = 0;
    bool healthTransitioned = false;
    int inFlightRequests = 0;
    std::int64_t inFlightTokens = 0; // estimated prompt + expected output of requests in flight
    // The same load split by phase: prompt tokens of in-flight requests still waiting for
    // their first token (prefill work), and expected output tokens of in-flight requests
    // (decode work).
    std::int64_t inFlightPrefillTokens = 0;
    std::int64_t inFlightDecodeTokens = 0;
    // Progress of that prefill work: how many in-flight requests still wait for their
    // first token, the time since a prompt was last sent there (-1 while none waits; if
    // that prompt ended without a first token, an older one's progress is underestimated,
    // never over), and the server's learned prefill speed (PrefillSpeed; 0 = not learned
    // yet). Refreshed per request like the counts above.
    int prefillsInFlight = 0;
    std::int64_t prefillElapsedUs = -1;
    double prefillUsPerToken = 0.0;
    EngineSignals engine;            // from the engine's /metrics; fresh = false without metrics_url
    double latencyPerTokenMs = 0.0;  // peak-EWMA of (latency - ttft) / output tokens; 0 = no sample yet
    double ttftMs = 0.0;             // peak-EWMA of time to first token; 0 = no sample yet
    double errorRate = 0.0;          // share of failed attempts over the health window
    // From configuration (target or provider price table).
    double inputCostPerMTok = 0.0;   // currency units per million prompt tokens; 0 = unknown
    double outputCostPerMTok = 0.0;
    std::int64_t contextWindow = 0;  // tokens; 0 = unknown (never filtered on)
};

// Per-target factors of the adaptive strategy, recomputed every interval. Kept in the
// snapshot so the console and the explain header show exactly what the policy used.
struct TargetFactors {
    double errorPenalty = 1.0;  // (0, 1]: 1 = no recent errors
    double latencyScore = 1.0;  // (0, 1]: 1 = as fast (per token, and TTFT) as the best peer
    double utilisation = 1.0;   // (0, 1]: 1 = at or below its fair share of in-flight tokens
    double momentum = 1.0;      // (0, 1]: ramps a recovering target back up over time
    double weight = 1.0;        // the resulting weight the policy draws with (> 0)
};

struct RouteState {
    std::vector<TargetFactors> targets; // aligned with the route's targets; empty = not computed yet
};

// Immutable view of every backend, indexed by backend id, and of every route's adaptive
// factors, indexed by route index.
struct BackendSnapshot {
    std::vector<BackendState> backends;
    std::vector<RouteState> routes;
    // Monotonic ms when the slow-moving fields were sampled: the engines' ageMs are as of
    // then, and a reader ages them to its own time (a policy may weigh a scrape by its age).
    std::int64_t takenAtMs = 0;
};

// An engine's scrape age at `nowMs`, from its age in a snapshot taken at `takenAtMs`: the
// snapshot is rebuilt only every so often, while a policy weighs a scrape by its age at
// the decision. A never-scraped engine (-1) stays so.
inline std::int64_t engineAgeAt(std::int64_t ageInSnapshotMs, std::int64_t takenAtMs, std::int64_t nowMs)
{
    return ageInSnapshotMs < 0 ? ageInSnapshotMs : ageInSnapshotMs + std::max<std::int64_t>(0, nowMs - takenAtMs);
}

} // namespace Gateway::Routing
