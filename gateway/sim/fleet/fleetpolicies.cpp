#include "fleetpolicies.h"

#include "syntheticprompt.h"

#include "routing/gpupresets.h"
#include "routing/leastrequestpolicy.h"
#include "routing/p2cpolicy.h"
#include "routing/prefixindex.h"
#include "routing/randompolicy.h"
#include "routing/roundrobinpolicy.h"

#include <algorithm>
#include <cmath>

namespace Gateway::Sim::Fleet {

namespace {

constexpr std::string_view ORACLE_SUFFIX = "_oracle";

const QStringList &basicStrategies()
{
    static const QStringList names {QStringLiteral("round_robin"), QStringLiteral("random"),
                                    QStringLiteral("least_request"), QStringLiteral("p2c")};
    return names;
}

// Sizing the approximate index unlike the servers' caches (an experiment key, not a
// policy parameter): "index_capacity_ratio" = index blocks per server / the server's KV
// blocks. The endpoint picker's fixed default (lruCapacityPerServer 31,250 blocks) was
// 1.63x the pods' caches in llm-d's W2 run (307,328 tokens = 19,208 blocks each), so
// its index believed in prefixes the servers had evicted.
constexpr std::string_view INDEX_CAPACITY_RATIO = "index_capacity_ratio";

// Experiments: "<preset>@<key>=<value>+<key>=<value>" overrides numeric parameters of
// the preset by their config key (policy names are comma-separated on the command line),
// and the index's capacity ratio.
bool applyOverrides(std::string_view overrides, Routing::GpuPolicyParams &params, double &indexCapacityRatio)
{
    using Field = std::optional<double> Routing::GpuPolicyParams::*;
    static const std::pair<std::string_view, Field> FIELDS[] = {
        {"cache_threshold", &Routing::GpuPolicyParams::cacheThreshold},
        {"balance_abs_threshold", &Routing::GpuPolicyParams::balanceAbsThreshold},
        {"balance_rel_threshold", &Routing::GpuPolicyParams::balanceRelThreshold},
        {"decode_weight", &Routing::GpuPolicyParams::decodeWeight},
        {"bounded_load_factor", &Routing::GpuPolicyParams::boundedLoadFactor},
        {"kv_pressure_start", &Routing::GpuPolicyParams::kvPressureStart},
        {"kv_pressure_match_keep", &Routing::GpuPolicyParams::kvPressureMatchKeep},
        {"engine_queue_weight", &Routing::GpuPolicyParams::engineQueueWeight},
        {"backlog_weight", &Routing::GpuPolicyParams::backlogWeight},
        {"kv_miss_boost", &Routing::GpuPolicyParams::kvMissBoost},
        {"kv_miss_start", &Routing::GpuPolicyParams::kvMissStart},
        {"kv_miss_min_match", &Routing::GpuPolicyParams::kvMissMinMatch},
        {"idle_miss_weight", &Routing::GpuPolicyParams::idleMissWeight},
        {"engine_queue_fade_ms", &Routing::GpuPolicyParams::engineQueueFadeMs},
        {"prefill_progress_weight", &Routing::GpuPolicyParams::prefillProgressWeight},
        {"widely_held_share", &Routing::GpuPolicyParams::widelyHeldShare},
        {"replica_placement_slack", &Routing::GpuPolicyParams::replicaPlacementSlack},
        {"overlap_score_weight", &Routing::GpuPolicyParams::overlapScoreWeight},
    };
    while (!overrides.empty()) {
        const std::size_t end = std::min(overrides.find('+'), overrides.size());
        const std::string_view item = overrides.substr(0, end);
        overrides.remove_prefix(std::min(overrides.size(), end + 1));
        const std::size_t equals = item.find('=');
        if (equals == std::string_view::npos) {
            return false;
        }
        const std::string_view key = item.substr(0, equals);
        bool ok = false;
        const double value = QByteArray(item.substr(equals + 1).data(), static_cast<qsizetype>(item.size() - equals - 1)).toDouble(&ok);
        if (ok && key == INDEX_CAPACITY_RATIO && value > 0.0) {
            indexCapacityRatio = value;
            continue;
        }
        const auto field = std::find_if(std::begin(FIELDS), std::end(FIELDS), [&](const auto &f) { return f.first == key; });
        if (!ok || field == std::end(FIELDS)) {
            return false;
        }
        params.*(field->second) = value;
    }
    return true;
}

std::unique_ptr<Routing::RoutePolicy> makeBasic(std::string_view name)
{
    if (name == "round_robin") {
        return std::make_unique<Routing::RoundRobinPolicy>();
    }
    if (name == "random") {
        return std::make_unique<Routing::RandomPolicy>();
    }
    if (name == "least_request") {
        return std::make_unique<Routing::LeastRequestPolicy>();
    }
    if (name == "p2c") {
        return std::make_unique<Routing::P2cPolicy>();
    }
    return nullptr;
}

} // namespace

std::optional<FleetPolicy> makeFleetPolicy(std::string_view name, const PolicyEnvironment &environment)
{
    FleetPolicy fleetPolicy;
    fleetPolicy.name = QString::fromUtf8(name.data(), static_cast<qsizetype>(name.size()));
    if (auto basic = makeBasic(name)) {
        fleetPolicy.policy = std::move(basic);
        return fleetPolicy;
    }

    std::string_view preset = name;
    std::string_view overrides;
    if (const std::size_t at = preset.find('@'); at != std::string_view::npos) {
        overrides = preset.substr(at + 1);
        preset = preset.substr(0, at);
    }
    const bool oracle = preset.ends_with(ORACLE_SUFFIX);
    if (oracle) {
        preset.remove_suffix(ORACLE_SUFFIX.size());
    }
    Routing::GpuPolicyParams params;
    params.preset = QString::fromUtf8(preset.data(), static_cast<qsizetype>(preset.size()));
    double indexCapacityRatio = 1.0;
    if (!applyOverrides(overrides, params, indexCapacityRatio) || validateGpuPolicyParams(params)) {
        return std::nullopt;
    }
    Routing::PrefixMatchSource *source = nullptr;
    if (oracle) {
        if (environment.oracle == nullptr) {
            return std::nullopt;
        }
        source = environment.oracle;
    } else {
        const int blockChars = environment.blockSize * TOKEN_CHARS;
        auto index = std::make_unique<Routing::PrefixIndex>(blockChars);
        for (int backend = 0; backend < environment.servers; ++backend) {
            index->setCapacityBlocks(backend, std::llround(indexCapacityRatio * environment.kvBlocksPerServer));
        }
        source = index.get();
        fleetPolicy.index = std::move(index);
    }
    fleetPolicy.policy = Routing::makeGpuPolicy(params, source);
    if (!fleetPolicy.policy) {
        return std::nullopt;
    }
    fleetPolicy.usesPromptBlocks = true;
    fleetPolicy.oracle = oracle;
    return fleetPolicy;
}

QStringList fleetPolicyNames()
{
    QStringList names = basicStrategies();
    const QStringList presets = Routing::gpuPresetNames();
    names += presets;
    for (const QString &preset : presets) {
        names.append(preset + QLatin1StringView(ORACLE_SUFFIX.data(), static_cast<qsizetype>(ORACLE_SUFFIX.size())));
    }
    return names;
}

} // namespace Gateway::Sim::Fleet
