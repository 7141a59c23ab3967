#include "pdloader.h"

namespace Gateway::Config {

void parseTargetPool(const DocumentReader &reader, const YAML::Node &targetNode, const QString &field, Target &target)
{
    if (!targetNode["pool"]) {
        return;
    }
    const QString poolField = field + QStringLiteral(".pool");
    const QString name = reader.string(targetNode["pool"], poolField);
    const auto pool = Routing::parseTargetPool(name);
    if (!pool) {
        reader.fail(targetNode["pool"], poolField,
                    QStringLiteral("unknown pool '%1' (allowed: %2; leave it out for a target that serves both steps)")
                        .arg(name, Routing::targetPoolNames().join(QStringLiteral(", "))));
    }
    target.pool = *pool;
}

void parsePrefillDecode(const DocumentReader &reader, const YAML::Node &routeNode, const QString &field, Route &route)
{
    const YAML::Node node = routeNode["pd"];
    if (!node) {
        return;
    }
    const QString pdField = field + QStringLiteral(".pd");
    reader.requireMap(node, pdField);
    reader.checkKeys(node, pdField, {"uncached_tokens_threshold", "enabled", "max_prefill_work_ratio"});
    if (node["uncached_tokens_threshold"]) {
        route.pd.uncachedTokensThreshold =
            static_cast<int>(reader.integer(node["uncached_tokens_threshold"], pdField + QStringLiteral(".uncached_tokens_threshold"),
                                            0, Routing::MAX_UNCACHED_TOKENS_THRESHOLD));
    }
    if (node["enabled"]) {
        route.pd.enabled = reader.boolean(node["enabled"], pdField + QStringLiteral(".enabled"));
    }
    if (node["max_prefill_work_ratio"]) {
        route.pd.maxPrefillWorkRatio = reader.number(node["max_prefill_work_ratio"], pdField + QStringLiteral(".max_prefill_work_ratio"),
                                                     0.0, Routing::MAX_PREFILL_WORK_RATIO);
    }
}

void validatePrefillDecode(const DocumentReader &reader, const YAML::Node &root, const Policy &policy)
{
    for (std::size_t r = 0; r < policy.routes.size(); ++r) {
        const Route &route = policy.routes[r];
        const YAML::Node routeNode = root["routes"][r];
        const QString routeField = DocumentReader::indexed(QStringLiteral("routes"), r);
        const QString targetsField = routeField + QStringLiteral(".targets");
        bool hasPrefill = false;
        bool hasDecode = false;
        for (std::size_t t = 0; t < route.targets.size(); ++t) {
            const Target &target = route.targets[t];
            if (target.pool == Routing::TargetPool::Prefill) {
                hasPrefill = true;
            } else {
                hasDecode = true;
            }
            if (target.pool == Routing::TargetPool::Both) {
                continue;
            }
            if (target.pool == Routing::TargetPool::Prefill && target.maxConcurrency > 0) {
                reader.fail(routeNode["targets"][t]["max_concurrency"],
                            DocumentReader::indexed(targetsField, t) + QStringLiteral(".max_concurrency"),
                            QStringLiteral("a prefill-pool target takes no cap: the route's queue caps its decode "
                                           "targets, and a request holds its slot for both steps"));
            }
            const Provider *provider = policy.findProvider(target.provider);
            const bool vllmStyle = provider && (provider->type == ProviderType::Vllm || provider->type == ProviderType::OpenAiCompatible);
            if (!vllmStyle) {
                reader.fail(routeNode["targets"][t]["pool"], DocumentReader::indexed(targetsField, t) + QStringLiteral(".pool"),
                            QStringLiteral("provider '%1' is of type %2: pools need a vllm or openai_compatible provider "
                                           "(the prefill/decode flow is vLLM's KV-transfer protocol)")
                                .arg(target.provider, provider ? providerTypeName(provider->type) : QStringLiteral("unknown")));
            }
        }
        if (hasPrefill && !hasDecode) {
            reader.fail(routeNode["targets"], targetsField,
                        QStringLiteral("every target is in the prefill pool: a route needs at least one target with "
                                       "pool: decode (or no pool) to generate the answer"));
        }
        if (routeNode["pd"] && !hasPrefill) {
            reader.fail(routeNode["pd"], routeField + QStringLiteral(".pd"),
                        QStringLiteral("the route has no target with pool: prefill, so there is nothing to disaggregate"));
        }
    }
}

} // namespace Gateway::Config
