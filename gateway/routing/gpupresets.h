#pragma once

#include "gpuscorers.h"
#include "routepolicy.h"

#include <QString>
#include <QStringList>

#include <cstdint>
#include <memory>
#include <optional>

namespace Gateway::Routing {

class PrefixMatchSource;

// Weights of the EPP-style scorers (config key `scorers`, e.g.
// `scorers: {prefix: 3, queue: 2, kv_cache: 2, running: 0, token_load: 0, session: 0}`).
// A weight of 0 leaves that scorer out. See gpuscorers.h for what each one measures.
struct GpuScorerWeights {
    double prefix = 0.0;    // `prefix`: matched / total prompt blocks
    double queue = 0.0;     // `queue`: min-max normalised waiting queue
    double kvCache = 0.0;   // `kv_cache`: 1 - KV-cache usage
    double running = 0.0;   // `running`: min-max normalised running requests
    double tokenLoad = 0.0; // `token_load`: 1 - min(1, in-flight tokens / token_load_threshold)
    double session = 0.0;   // `session`: 1 for the session's sticky backend
    double loadAware = 0.0; // `load_aware`: llm-d load-aware scorer (0.5 when idle, 0 at load_aware_threshold)

    bool operator==(const GpuScorerWeights &) const = default;
};

// Everything a policy document may set for a GPU-fleet route. Each preset has its own
// published defaults, so every tunable is optional: unset means "the preset's default"
// (withPresetDefaults() shows the resolved values). Setting a key that the preset does
// not use is a validation error rather than silently ignored.
struct GpuPolicyParams {
    // `preset`: one of gpuPresetNames(). Default: our prefix_aware policy.
    QString preset = QStringLiteral("prefix_aware");

    // sglang_cache_aware, sglang_cache_aware_v1
    std::optional<double> cacheThreshold;      // `cache_threshold`: match rate above which the best match wins (0..1)
    std::optional<double> balanceAbsThreshold; // `balance_abs_threshold`: in-flight requests, max - min (>= 0)
    std::optional<double> balanceRelThreshold; // `balance_rel_threshold`: max > min x this (>= 1)

    // epp_default, epp_load, llmd_precise, prefix_only (the scored profiles)
    std::optional<GpuScorerWeights> scorers;       // `scorers`
    std::optional<GpuPicker> picker;               // `picker`
    std::optional<double> prefixAffinityThreshold; // `prefix_affinity_threshold`: filter; 0 = no filter (0..1)
    std::optional<double> explorationProbability;  // `exploration_probability`: skip the filter (0..1)
    std::optional<double> tokenLoadThreshold;      // `token_load_threshold`: tokens (> 0)
    std::optional<double> loadAwareThreshold;      // `load_aware_threshold`: waiting requests (> 0)
    std::optional<int> maxPrefixBlocks;            // `max_prefix_blocks`: blocks matched and recorded (>= 1)

    // dynamo_cost
    std::optional<double> overlapScoreWeight; // `overlap_score_weight`: prefill blocks weight (>= 0)
    std::optional<double> routerTemperature;  // `router_temperature`: 0 = argmin, > 0 = softmax sampling

    // prefix_aware (our default; see prefixawarepolicy.h)
    std::optional<double> decodeWeight;          // `decode_weight`: decode tokens per prefill-token equivalent (>= 0)
    std::optional<double> boundedLoadFactor;     // `bounded_load_factor`: load guard, x mean (>= 1)
    std::optional<double> kvPressureStart;       // `kv_pressure_start`: KV usage where matches start to fade (0..1)
    std::optional<double> kvPressureMatchKeep;   // `kv_pressure_match_keep`: share of a match kept at usage 1 (0..1)
    std::optional<double> engineQueueWeight;     // `engine_queue_weight`: trust in the scraped waiting queue (0..1)
    std::optional<double> backlogWeight;         // `backlog_weight`: extra cost of a miss per unit of backlog (>= 0)
    std::optional<double> kvMissBoost;           // `kv_miss_boost`: backlog term x (1 + this) when KV memory is full (>= 0)
    std::optional<double> kvMissStart;           // `kv_miss_start`: mean KV usage where the boost starts (0..1, < 1)
    std::optional<double> kvMissMinMatch;        // `kv_miss_min_match`: share of the prompt a server must hold (0..1)
    std::optional<double> idleMissWeight;        // `idle_miss_weight`: least miss weight of a held prompt, idle fleet (>= 1)
    std::optional<double> engineQueueFadeMs;     // `engine_queue_fade_ms`: age at which a scraped queue stops counting (0 = never fades)
    std::optional<double> prefillProgressWeight; // `prefill_progress_weight`: trust in a server's estimated prefill progress (0 = none)
    std::optional<double> widelyHeldShare;       // `widely_held_share`: share of servers that makes a prompt head free to join (0 = off)
    std::optional<double> replicaPlacementSlack; // `replica_placement_slack`: prompts of extra cost for a shared placement (0..10)

    bool operator==(const GpuPolicyParams &) const = default;
};

// A validation failure: `field` is the config key (dotted for nested keys, e.g.
// "scorers.queue"), `message` says what is wrong with it.
struct GpuPolicyError {
    QString field;
    QString message;
};

// The preset names a config document may use, our default first.
QStringList gpuPresetNames();

// Checks the preset name, every set value's range, and that every set key applies to
// the preset. nullopt = valid.
std::optional<GpuPolicyError> validateGpuPolicyParams(const GpuPolicyParams &params);

// The same parameters with every key the preset uses filled in with its default (keys
// the preset ignores stay unset). `params` must be valid.
GpuPolicyParams withPresetDefaults(const GpuPolicyParams &params);

// Builds the preset's policy. `source` (not owned, may be null = no prefix knowledge:
// the prefix terms see no match) must outlive the policy; policies read it in rank()
// and record the chosen backend's blocks into it. Returns null if the params are
// invalid (call validateGpuPolicyParams() first for the reason).
std::unique_ptr<RoutePolicy> makeGpuPolicy(const GpuPolicyParams &params, PrefixMatchSource *source);

} // namespace Gateway::Routing
