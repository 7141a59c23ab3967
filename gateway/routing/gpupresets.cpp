#include "gpupresets.h"

#include "cacheawarepolicy.h"
#include "dynamocostpolicy.h"
#include "prefixawarepolicy.h"
#include "promptblocks.h"
#include "scoredpolicy.h"

#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <utility>

namespace Gateway::Routing {

namespace {

// Which policy class a preset builds, and so which keys apply to it.
enum class Family : std::uint8_t { PrefixAware, CacheAware, Scored, Dynamo };

struct Preset {
    const char *name;
    Family family;
};

// Our default first (gpuPresetNames() keeps this order).
constexpr std::array<Preset, 8> PRESETS {{
    {"prefix_aware", Family::PrefixAware},
    {"sglang_cache_aware", Family::CacheAware},    // gateway CLI defaults 0.3 / 64 / 1.5
    {"sglang_cache_aware_v1", Family::CacheAware}, // Rust config defaults 0.5 / 32 / 1.1
    {"epp_default", Family::Scored},               // queue 2, kv_cache 2, prefix 3, max-score
    {"epp_load", Family::Scored},                  // llm-d "load scheduling": queue 2, kv_cache 2
    {"llmd_precise", Family::Scored},              // llm-d precise profile: prefix 2, kv_cache 1, queue 1
    {"prefix_only", Family::Scored},               // hot-spot control: prefix 1
    {"dynamo_cost", Family::Dynamo},
}};

const Preset *findPreset(const QString &name)
{
    for (const Preset &preset : PRESETS) {
        if (name == QLatin1StringView(preset.name)) {
            return &preset;
        }
    }
    return nullptr;
}

// A config key: its name, the family it belongs to, and whether the params set it.
struct Key {
    const char *name;
    Family family;
    std::function<bool(const GpuPolicyParams &)> isSet;
};

const std::vector<Key> &keys()
{
    static const std::vector<Key> all {
        {"cache_threshold", Family::CacheAware, [](const auto &p) { return p.cacheThreshold.has_value(); }},
        {"balance_abs_threshold", Family::CacheAware, [](const auto &p) { return p.balanceAbsThreshold.has_value(); }},
        {"balance_rel_threshold", Family::CacheAware, [](const auto &p) { return p.balanceRelThreshold.has_value(); }},
        {"scorers", Family::Scored, [](const auto &p) { return p.scorers.has_value(); }},
        {"picker", Family::Scored, [](const auto &p) { return p.picker.has_value(); }},
        {"prefix_affinity_threshold", Family::Scored, [](const auto &p) { return p.prefixAffinityThreshold.has_value(); }},
        {"exploration_probability", Family::Scored, [](const auto &p) { return p.explorationProbability.has_value(); }},
        {"token_load_threshold", Family::Scored, [](const auto &p) { return p.tokenLoadThreshold.has_value(); }},
        {"load_aware_threshold", Family::Scored, [](const auto &p) { return p.loadAwareThreshold.has_value(); }},
        {"max_prefix_blocks", Family::Scored, [](const auto &p) { return p.maxPrefixBlocks.has_value(); }},
        {"overlap_score_weight", Family::Dynamo, [](const auto &p) { return p.overlapScoreWeight.has_value(); }},
        {"router_temperature", Family::Dynamo, [](const auto &p) { return p.routerTemperature.has_value(); }},
        {"decode_weight", Family::PrefixAware, [](const auto &p) { return p.decodeWeight.has_value(); }},
        {"bounded_load_factor", Family::PrefixAware, [](const auto &p) { return p.boundedLoadFactor.has_value(); }},
        {"kv_pressure_start", Family::PrefixAware, [](const auto &p) { return p.kvPressureStart.has_value(); }},
        {"kv_pressure_match_keep", Family::PrefixAware, [](const auto &p) { return p.kvPressureMatchKeep.has_value(); }},
        {"engine_queue_weight", Family::PrefixAware, [](const auto &p) { return p.engineQueueWeight.has_value(); }},
        {"backlog_weight", Family::PrefixAware, [](const auto &p) { return p.backlogWeight.has_value(); }},
        {"kv_miss_boost", Family::PrefixAware, [](const auto &p) { return p.kvMissBoost.has_value(); }},
        {"kv_miss_start", Family::PrefixAware, [](const auto &p) { return p.kvMissStart.has_value(); }},
        {"kv_miss_min_match", Family::PrefixAware, [](const auto &p) { return p.kvMissMinMatch.has_value(); }},
        {"idle_miss_weight", Family::PrefixAware, [](const auto &p) { return p.idleMissWeight.has_value(); }},
        {"engine_queue_fade_ms", Family::PrefixAware, [](const auto &p) { return p.engineQueueFadeMs.has_value(); }},
        {"prefill_progress_weight", Family::PrefixAware, [](const auto &p) { return p.prefillProgressWeight.has_value(); }},
        {"widely_held_share", Family::PrefixAware, [](const auto &p) { return p.widelyHeldShare.has_value(); }},
        {"replica_placement_slack", Family::PrefixAware, [](const auto &p) { return p.replicaPlacementSlack.has_value(); }},
    };
    return all;
}

GpuPolicyError error(const char *field, const QString &message)
{
    return GpuPolicyError {QString::fromLatin1(field), message};
}

// value in [low, high] (high may be infinity); `lowOpen`: value must exceed low.
std::optional<GpuPolicyError> checkRange(const std::optional<double> &value, const char *field, double low,
                                         double high, bool lowOpen = false)
{
    if (!value) {
        return std::nullopt;
    }
    const double v = *value;
    const bool ok = std::isfinite(v) && (lowOpen ? v > low : v >= low) && v <= high;
    if (ok) {
        return std::nullopt;
    }
    const QString lowText = QString::number(low);
    QString expected = std::isinf(high) ? QStringLiteral("%1 %2").arg(lowOpen ? QStringLiteral(">") : QStringLiteral(">="), lowText)
                                        : QStringLiteral("between %1 and %2").arg(lowText, QString::number(high));
    return error(field, QStringLiteral("must be %1, got %2").arg(expected, QString::number(v)));
}

std::optional<GpuPolicyError> checkScorers(const GpuScorerWeights &weights)
{
    const std::array<std::pair<const char *, double>, GPU_SCORER_KINDS> named {{
        {"scorers.prefix", weights.prefix},
        {"scorers.queue", weights.queue},
        {"scorers.kv_cache", weights.kvCache},
        {"scorers.running", weights.running},
        {"scorers.token_load", weights.tokenLoad},
        {"scorers.session", weights.session},
        {"scorers.load_aware", weights.loadAware},
    }};
    bool any = false;
    for (const auto &[field, weight] : named) {
        if (auto problem = checkRange(weight, field, 0.0, std::numeric_limits<double>::infinity())) {
            return problem;
        }
        any = any || weight > 0.0;
    }
    if (!any) {
        return error("scorers", QStringLiteral("needs at least one scorer with a weight above 0"));
    }
    return std::nullopt;
}

std::vector<WeightedScorer> scorerList(const GpuScorerWeights &weights)
{
    const std::array<std::pair<GpuScorerKind, double>, GPU_SCORER_KINDS> all {{
        {GpuScorerKind::Prefix, weights.prefix},
        {GpuScorerKind::Queue, weights.queue},
        {GpuScorerKind::KvCache, weights.kvCache},
        {GpuScorerKind::Running, weights.running},
        {GpuScorerKind::TokenLoad, weights.tokenLoad},
        {GpuScorerKind::Session, weights.session},
        {GpuScorerKind::LoadAware, weights.loadAware},
    }};
    std::vector<WeightedScorer> list;
    for (const auto &[kind, weight] : all) {
        if (weight > 0.0) {
            list.push_back({kind, weight});
        }
    }
    return list;
}

GpuScorerWeights presetScorers(const QString &preset)
{
    GpuScorerWeights weights;
    if (preset == QLatin1StringView("epp_default")) {
        weights.queue = 2.0;
        weights.kvCache = 2.0;
        weights.prefix = 3.0;
    } else if (preset == QLatin1StringView("epp_load")) {
        weights.queue = 2.0;
        weights.kvCache = 2.0;
    } else if (preset == QLatin1StringView("llmd_precise")) {
        weights.prefix = 2.0;
        weights.kvCache = 1.0;
        weights.queue = 1.0;
    } else { // prefix_only
        weights.prefix = 1.0;
    }
    return weights;
}

} // namespace

QStringList gpuPresetNames()
{
    QStringList names;
    for (const Preset &preset : PRESETS) {
        names.append(QString::fromLatin1(preset.name));
    }
    return names;
}

std::optional<GpuPolicyError> validateGpuPolicyParams(const GpuPolicyParams &params)
{
    const Preset *preset = findPreset(params.preset);
    if (preset == nullptr) {
        return error("preset", QStringLiteral("unknown preset \"%1\"; expected one of: %2")
                                   .arg(params.preset, gpuPresetNames().join(QStringLiteral(", "))));
    }
    for (const Key &key : keys()) {
        if (key.family != preset->family && key.isSet(params)) {
            return error(key.name, QStringLiteral("does not apply to preset %1").arg(params.preset));
        }
    }
    constexpr double INF = std::numeric_limits<double>::infinity();
    const std::optional<GpuPolicyError> checks[] = {
        checkRange(params.cacheThreshold, "cache_threshold", 0.0, 1.0),
        checkRange(params.balanceAbsThreshold, "balance_abs_threshold", 0.0, INF),
        checkRange(params.balanceRelThreshold, "balance_rel_threshold", 1.0, INF),
        checkRange(params.prefixAffinityThreshold, "prefix_affinity_threshold", 0.0, 1.0),
        checkRange(params.explorationProbability, "exploration_probability", 0.0, 1.0),
        checkRange(params.tokenLoadThreshold, "token_load_threshold", 0.0, INF, true),
        checkRange(params.loadAwareThreshold, "load_aware_threshold", 0.0, INF, true),
        checkRange(params.maxPrefixBlocks ? std::optional<double> {*params.maxPrefixBlocks} : std::nullopt,
                   "max_prefix_blocks", 1.0, PromptBlockHasher::DEFAULT_MAX_BLOCKS),
        checkRange(params.overlapScoreWeight, "overlap_score_weight", 0.0, INF),
        checkRange(params.routerTemperature, "router_temperature", 0.0, INF),
        checkRange(params.decodeWeight, "decode_weight", 0.0, INF),
        checkRange(params.boundedLoadFactor, "bounded_load_factor", 1.0, INF),
        checkRange(params.kvPressureStart, "kv_pressure_start", 0.0, 1.0),
        checkRange(params.kvPressureMatchKeep, "kv_pressure_match_keep", 0.0, 1.0),
        checkRange(params.engineQueueWeight, "engine_queue_weight", 0.0, 1.0),
        checkRange(params.backlogWeight, "backlog_weight", 0.0, INF),
        checkRange(params.kvMissBoost, "kv_miss_boost", 0.0, INF),
        checkRange(params.kvMissStart, "kv_miss_start", 0.0, 0.99),
        checkRange(params.kvMissMinMatch, "kv_miss_min_match", 0.0, 1.0),
        checkRange(params.idleMissWeight, "idle_miss_weight", 1.0, INF),
        checkRange(params.engineQueueFadeMs, "engine_queue_fade_ms", 0.0, 600000.0),
        checkRange(params.prefillProgressWeight, "prefill_progress_weight", 0.0, 1.0),
        checkRange(params.widelyHeldShare, "widely_held_share", 0.0, 1.0),
        checkRange(params.replicaPlacementSlack, "replica_placement_slack", 0.0, 10.0),
    };
    for (const auto &check : checks) {
        if (check) {
            return check;
        }
    }
    if (params.scorers) {
        return checkScorers(*params.scorers);
    }
    return std::nullopt;
}

GpuPolicyParams withPresetDefaults(const GpuPolicyParams &params)
{
    GpuPolicyParams resolved = params;
    const Preset *preset = findPreset(params.preset);
    if (preset == nullptr) {
        return resolved;
    }
    switch (preset->family) {
    case Family::PrefixAware:
        resolved.decodeWeight = params.decodeWeight.value_or(PrefixAwareParams::DEFAULT_DECODE_WEIGHT);
        resolved.boundedLoadFactor = params.boundedLoadFactor.value_or(PrefixAwareParams::DEFAULT_BOUNDED_LOAD_FACTOR);
        resolved.kvPressureStart = params.kvPressureStart.value_or(PrefixAwareParams::DEFAULT_KV_PRESSURE_START);
        resolved.kvPressureMatchKeep =
            params.kvPressureMatchKeep.value_or(PrefixAwareParams::DEFAULT_KV_PRESSURE_MATCH_KEEP);
        resolved.engineQueueWeight = params.engineQueueWeight.value_or(PrefixAwareParams::DEFAULT_ENGINE_QUEUE_WEIGHT);
        resolved.backlogWeight = params.backlogWeight.value_or(PrefixAwareParams::DEFAULT_BACKLOG_WEIGHT);
        resolved.kvMissBoost = params.kvMissBoost.value_or(PrefixAwareParams::DEFAULT_KV_MISS_BOOST);
        resolved.kvMissStart = params.kvMissStart.value_or(PrefixAwareParams::DEFAULT_KV_MISS_START);
        resolved.kvMissMinMatch = params.kvMissMinMatch.value_or(PrefixAwareParams::DEFAULT_KV_MISS_MIN_MATCH);
        resolved.idleMissWeight = params.idleMissWeight.value_or(PrefixAwareParams::DEFAULT_IDLE_MISS_WEIGHT);
        resolved.engineQueueFadeMs = params.engineQueueFadeMs.value_or(PrefixAwareParams::DEFAULT_ENGINE_QUEUE_FADE_MS);
        resolved.prefillProgressWeight =
            params.prefillProgressWeight.value_or(PrefixAwareParams::DEFAULT_PREFILL_PROGRESS_WEIGHT);
        resolved.widelyHeldShare = params.widelyHeldShare.value_or(PrefixAwareParams::DEFAULT_WIDELY_HELD_SHARE);
        resolved.replicaPlacementSlack = params.replicaPlacementSlack.value_or(0.0);
        break;
    case Family::CacheAware: {
        const bool v1 = params.preset == QLatin1StringView("sglang_cache_aware_v1");
        resolved.cacheThreshold = params.cacheThreshold.value_or(
            v1 ? CacheAwareParams::V1_CACHE_THRESHOLD : CacheAwareParams::GATEWAY_CACHE_THRESHOLD);
        resolved.balanceAbsThreshold = params.balanceAbsThreshold.value_or(
            v1 ? CacheAwareParams::V1_BALANCE_ABS_THRESHOLD : CacheAwareParams::GATEWAY_BALANCE_ABS_THRESHOLD);
        resolved.balanceRelThreshold = params.balanceRelThreshold.value_or(
            v1 ? CacheAwareParams::V1_BALANCE_REL_THRESHOLD : CacheAwareParams::GATEWAY_BALANCE_REL_THRESHOLD);
        break;
    }
    case Family::Scored: {
        const bool precise = params.preset == QLatin1StringView("llmd_precise");
        resolved.scorers = params.scorers.value_or(presetScorers(params.preset));
        resolved.picker = params.picker.value_or(GpuPicker::MaxScore);
        resolved.prefixAffinityThreshold = params.prefixAffinityThreshold.value_or(0.0);
        // The EPP affinity filter's explorationProbability (used only with the filter on).
        resolved.explorationProbability = params.explorationProbability.value_or(0.01);
        resolved.tokenLoadThreshold = params.tokenLoadThreshold.value_or(GpuScorerOptions::DEFAULT_TOKEN_LOAD_THRESHOLD);
        resolved.loadAwareThreshold = params.loadAwareThreshold.value_or(GpuScorerOptions::DEFAULT_LOAD_AWARE_THRESHOLD);
        // The precise scorer reads the engines' own KV events, so nothing caps its match;
        // the approximate scorer matches at most maxPrefixBlocksToMatch (256).
        resolved.maxPrefixBlocks = params.maxPrefixBlocks.value_or(
            precise ? PromptBlockHasher::DEFAULT_MAX_BLOCKS : ScoredProfile::DEFAULT_MAX_PREFIX_BLOCKS);
        break;
    }
    case Family::Dynamo:
        resolved.overlapScoreWeight = params.overlapScoreWeight.value_or(1.0);
        resolved.routerTemperature = params.routerTemperature.value_or(0.0);
        break;
    }
    return resolved;
}

std::unique_ptr<RoutePolicy> makeGpuPolicy(const GpuPolicyParams &params, PrefixMatchSource *source)
{
    if (validateGpuPolicyParams(params)) {
        return nullptr;
    }
    const GpuPolicyParams p = withPresetDefaults(params);
    switch (findPreset(p.preset)->family) {
    case Family::PrefixAware: {
        PrefixAwareParams prefixAware;
        prefixAware.decodeWeight = *p.decodeWeight;
        prefixAware.boundedLoadFactor = *p.boundedLoadFactor;
        prefixAware.kvPressureStart = *p.kvPressureStart;
        prefixAware.kvPressureMatchKeep = *p.kvPressureMatchKeep;
        prefixAware.engineQueueWeight = *p.engineQueueWeight;
        prefixAware.backlogWeight = *p.backlogWeight;
        prefixAware.kvMissBoost = *p.kvMissBoost;
        prefixAware.kvMissStart = *p.kvMissStart;
        prefixAware.kvMissMinMatch = *p.kvMissMinMatch;
        prefixAware.idleMissWeight = *p.idleMissWeight;
        prefixAware.engineQueueFadeMs = *p.engineQueueFadeMs;
        prefixAware.prefillProgressWeight = *p.prefillProgressWeight;
        prefixAware.widelyHeldShare = *p.widelyHeldShare;
        prefixAware.replicaPlacementSlack = *p.replicaPlacementSlack;
        return std::make_unique<PrefixAwarePolicy>(prefixAware, source);
    }
    case Family::CacheAware:
        return std::make_unique<CacheAwarePolicy>(
            CacheAwareParams {*p.cacheThreshold, *p.balanceAbsThreshold, *p.balanceRelThreshold}, source,
            p.preset.toStdString());
    case Family::Scored: {
        ScoredProfile profile;
        profile.name = p.preset.toStdString();
        profile.scorers = scorerList(*p.scorers);
        profile.picker = *p.picker;
        profile.affinityThreshold = *p.prefixAffinityThreshold;
        profile.explorationProbability = *p.explorationProbability;
        profile.maxPrefixBlocks = *p.maxPrefixBlocks;
        profile.options = GpuScorerOptions {*p.tokenLoadThreshold, *p.loadAwareThreshold};
        return std::make_unique<ScoredPolicy>(std::move(profile), source);
    }
    case Family::Dynamo:
        return std::make_unique<DynamoCostPolicy>(DynamoCostParams {*p.overlapScoreWeight, *p.routerTemperature},
                                                  source);
    }
    return nullptr;
}

} // namespace Gateway::Routing
