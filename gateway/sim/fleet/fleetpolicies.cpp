#include "fleetpolicies.h"

#include "syntheticprompt.h"

#include "routing/gpupresets.h"
#include "routing/leastrequestpolicy.h"
#include "routing/p2cpolicy.h"
#include "routing/prefixindex.h"
#include "routing/randompolicy.h"
#include "routing/roundrobinpolicy.h"

namespace Gateway::Sim::Fleet {

namespace {

constexpr std::string_view ORACLE_SUFFIX = "_oracle";

const QStringList &basicStrategies()
{
    static const QStringList names {QStringLiteral("round_robin"), QStringLiteral("random"),
                                    QStringLiteral("least_request"), QStringLiteral("p2c")};
    return names;
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
    const bool oracle = preset.ends_with(ORACLE_SUFFIX);
    if (oracle) {
        preset.remove_suffix(ORACLE_SUFFIX.size());
    }
    Routing::GpuPolicyParams params;
    params.preset = QString::fromUtf8(preset.data(), static_cast<qsizetype>(preset.size()));
    if (validateGpuPolicyParams(params)) {
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
            index->setCapacityBlocks(backend, environment.kvBlocksPerServer);
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
