#include "gpuoptionsloader.h"

namespace Gateway::Config {

namespace {

Routing::GpuScorerWeights parseScorers(const DocumentReader &reader, const YAML::Node &node, const QString &field)
{
    reader.requireMap(node, field);
    reader.checkKeys(node, field, {"prefix", "queue", "kv_cache", "running", "token_load", "session", "load_aware"});
    Routing::GpuScorerWeights weights;
    const auto weight = [&](const char *key, double &out) {
        if (node[key]) {
            out = reader.number(node[key], DocumentReader::join(field, QString::fromLatin1(key)), 0.0, 1000.0);
        }
    };
    weight("prefix", weights.prefix);
    weight("queue", weights.queue);
    weight("kv_cache", weights.kvCache);
    weight("running", weights.running);
    weight("token_load", weights.tokenLoad);
    weight("session", weights.session);
    weight("load_aware", weights.loadAware);
    return weights;
}

} // namespace

Routing::GpuPolicyParams parseGpuOptions(const DocumentReader &reader, const YAML::Node &node, const QString &field)
{
    reader.requireMap(node, field);
    reader.checkKeys(node, field,
                     {"preset", "cache_threshold", "balance_abs_threshold", "balance_rel_threshold", "scorers", "picker",
                      "prefix_affinity_threshold", "exploration_probability", "token_load_threshold",
                      "load_aware_threshold", "max_prefix_blocks", "overlap_score_weight", "router_temperature",
                      "decode_weight", "bounded_load_factor", "kv_pressure_start", "kv_pressure_match_keep",
                      "engine_queue_weight", "backlog_weight", "kv_miss_boost", "kv_miss_start", "kv_miss_min_match",
                      "idle_miss_weight", "engine_queue_fade_ms", "prefill_progress_weight", "widely_held_share",
                      "replica_placement_slack"});
    Routing::GpuPolicyParams params;
    const auto sub = [&field](const char *key) { return DocumentReader::join(field, QString::fromLatin1(key)); };
    // Ranges are checked once, by the routing library's own validation below, so the
    // document, the admin API and the fleet simulator accept exactly the same values.
    const auto number = [&](const char *key, std::optional<double> &out) {
        if (node[key]) {
            out = reader.number(node[key], sub(key));
        }
    };
    if (node["preset"]) {
        params.preset = reader.string(node["preset"], sub("preset"));
    }
    number("cache_threshold", params.cacheThreshold);
    number("balance_abs_threshold", params.balanceAbsThreshold);
    number("balance_rel_threshold", params.balanceRelThreshold);
    if (node["scorers"]) {
        params.scorers = parseScorers(reader, node["scorers"], sub("scorers"));
    }
    if (node["picker"]) {
        const QString picker = reader.string(node["picker"], sub("picker"));
        if (picker == u"max_score") {
            params.picker = Routing::GpuPicker::MaxScore;
        } else if (picker == u"weighted_random") {
            params.picker = Routing::GpuPicker::WeightedRandom;
        } else {
            reader.fail(node["picker"], sub("picker"),
                        QStringLiteral("unknown picker '%1' (allowed: max_score, weighted_random)").arg(picker));
        }
    }
    number("prefix_affinity_threshold", params.prefixAffinityThreshold);
    number("exploration_probability", params.explorationProbability);
    number("token_load_threshold", params.tokenLoadThreshold);
    number("load_aware_threshold", params.loadAwareThreshold);
    if (node["max_prefix_blocks"]) {
        params.maxPrefixBlocks = static_cast<int>(reader.integer(node["max_prefix_blocks"], sub("max_prefix_blocks"), 1, 1 << 20));
    }
    number("overlap_score_weight", params.overlapScoreWeight);
    number("router_temperature", params.routerTemperature);
    number("decode_weight", params.decodeWeight);
    number("bounded_load_factor", params.boundedLoadFactor);
    number("kv_pressure_start", params.kvPressureStart);
    number("kv_pressure_match_keep", params.kvPressureMatchKeep);
    number("engine_queue_weight", params.engineQueueWeight);
    number("backlog_weight", params.backlogWeight);
    number("kv_miss_boost", params.kvMissBoost);
    number("kv_miss_start", params.kvMissStart);
    number("kv_miss_min_match", params.kvMissMinMatch);
    number("idle_miss_weight", params.idleMissWeight);
    number("engine_queue_fade_ms", params.engineQueueFadeMs);
    number("prefill_progress_weight", params.prefillProgressWeight);
    number("widely_held_share", params.widelyHeldShare);
    number("replica_placement_slack", params.replicaPlacementSlack);

    if (const auto error = Routing::validateGpuPolicyParams(params)) {
        // Point at the offending key when the document has it, else at the options.
        const QByteArray head = error->field.section(u'.', 0, 0).toUtf8();
        const YAML::Node at = node[head.constData()] ? node[head.constData()] : node;
        reader.fail(at, DocumentReader::join(field, error->field), error->message);
    }
    return params;
}

} // namespace Gateway::Config
