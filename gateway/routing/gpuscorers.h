#pragma once

#include "gpucandidates.h"
#include "requestsummary.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace Gateway::Routing {

// The scorers of the Gateway API Inference Extension's endpoint picker (EPP) and of
// llm-d (kubernetes-sigs/gateway-api-inference-extension pkg/epp/.../plugins/scorer,
// llm-d/llm-d-inference-scheduler pkg/epp/framework/plugins/scheduling/scorer). Each
// gives every candidate a score in [0, 1], higher = better; a profile sums
// weight x score (ScoredPolicy).
//
// Engine signals are used only when fresh. Scorers that compare candidates with each
// other (min-max normalised) use the engine's numbers only if every candidate's are
// fresh, else the gateway's own counters for all of them: mixing an engine queue with
// a router count would compare different quantities.
enum class GpuScorerKind : std::uint8_t {
    // `prefix`: matched / total prompt blocks (prefix-cache-scorer); 0 without blocks.
    Prefix,
    // `queue`: (max - q) / (max - min) of the waiting queue (queue-scorer; all equal:
    // 1). Fallback q: the gateway's in-flight requests.
    Queue,
    // `kv_cache`: 1 - KV-cache usage (kv-cache-utilization-scorer). Fallback: min-max
    // normalised in-flight tokens (the gateway's estimate of what occupies the cache).
    KvCache,
    // `running`: min-max normalised running requests (running-requests-size-scorer).
    // Fallback: in-flight requests.
    Running,
    // `token_load`: 1 - min(1, in-flight tokens / threshold) (token-load-scorer; the
    // gateway's in-flight tokens, always fresh).
    TokenLoad,
    // `session`: 1 for the session's sticky backend, 0 for the others and for requests
    // without a session key (session-affinity-scorer). Stateless: the sticky backend is
    // the rendezvous-hash winner of the session key among the candidates, so the same
    // session keeps its backend while that backend stays a candidate, across restarts and
    // gateway replicas, without remembering sessions.
    Session,
    // `load_aware`: llm-d load-aware-scorer: empty waiting queue 0.5, falling linearly to
    // 0 at the threshold. Fallback queue: in-flight requests.
    LoadAware,
};

inline constexpr std::size_t GPU_SCORER_KINDS = 7;

// Config spelling ("prefix", "queue", "kv_cache", "running", "token_load", "session",
// "load_aware").
std::string_view gpuScorerName(GpuScorerKind kind);
std::optional<GpuScorerKind> gpuScorerFromName(std::string_view name);

struct WeightedScorer {
    GpuScorerKind kind;
    double weight;
};

// Config key `picker`.
enum class GpuPicker : std::uint8_t {
    MaxScore,       // `max_score`: the highest total score, random among exact ties
    WeightedRandom, // `weighted_random`: drawn in proportion to the total score
};

struct GpuScorerOptions {
    // token-load-scorer queueThresholdTokens.
    static constexpr double DEFAULT_TOKEN_LOAD_THRESHOLD = 4194304.0;
    // load-aware-scorer threshold (waiting requests).
    static constexpr double DEFAULT_LOAD_AWARE_THRESHOLD = 128.0;

    double tokenLoadThreshold = DEFAULT_TOKEN_LOAD_THRESHOLD;
    double loadAwareThreshold = DEFAULT_LOAD_AWARE_THRESHOLD;
};

struct GpuScoringInput {
    std::span<const GpuCandidate> candidates;
    std::size_t totalBlocks = 0; // prompt blocks the matches were taken over
    const RequestSummary &request;
    GpuScorerOptions options;
};

// Writes one score in [0, 1] per candidate into `scores` (same length as candidates).
void scoreCandidates(GpuScorerKind kind, const GpuScoringInput &input, std::span<double> scores);

} // namespace Gateway::Routing
