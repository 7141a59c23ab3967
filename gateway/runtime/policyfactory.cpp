#include "policyfactory.h"

#include "routing/adaptivepolicy.h"
#include "routing/costpolicy.h"
#include "routing/gpupresets.h"
#include "routing/latencypolicy.h"
#include "routing/leastrequestpolicy.h"
#include "routing/p2cpolicy.h"
#include "routing/randompolicy.h"
#include "routing/roundrobinpolicy.h"
#include "routing/sessionhashpolicy.h"
#include "routing/smoothweightedpolicy.h"

namespace Gateway::Runtime {

std::unique_ptr<Routing::RoutePolicy> makePolicy(const Config::Route &route, const std::vector<Routing::PolicyTarget> &targets,
                                                 Routing::PrefixMatchSource *prefixSource)
{
    const Config::StrategyOptions &options = route.options;
    const QString &strategy = route.strategy;
    const auto loadMetric = options.loadMetric == u"requests" ? Routing::LoadMetric::Requests : Routing::LoadMetric::Tokens;
    if (strategy == u"round_robin") {
        return std::make_unique<Routing::RoundRobinPolicy>();
    }
    if (strategy == u"random") {
        return std::make_unique<Routing::RandomPolicy>();
    }
    if (strategy == u"least_request") {
        return std::make_unique<Routing::LeastRequestPolicy>(Routing::LeastRequestParams {loadMetric});
    }
    if (strategy == u"p2c") {
        return std::make_unique<Routing::P2cPolicy>(Routing::P2cParams {loadMetric});
    }
    if (strategy == u"latency") {
        return std::make_unique<Routing::LatencyPolicy>();
    }
    if (strategy == u"cost") {
        Routing::CostParams params;
        params.maxLatencyMs = options.maxLatencyMs;
        return std::make_unique<Routing::CostPolicy>(params);
    }
    if (strategy == u"session_hash") {
        Routing::SessionHashPolicy::Parameters params;
        params.loadFactor = options.loadFactor;
        // Stable names place ring points, so sessions keep their targets across
        // configuration changes that renumber backends.
        std::vector<QByteArray> keys;
        keys.reserve(route.targets.size());
        for (const auto &target : route.targets) {
            keys.push_back(target.provider.toUtf8() + '/' + target.model);
        }
        return std::make_unique<Routing::SessionHashPolicy>(targets, params, keys);
    }
    if (strategy == u"adaptive") {
        Routing::AdaptivePolicy::Parameters params;
        params.exploration = options.exploration;
        return std::make_unique<Routing::AdaptivePolicy>(params);
    }
    if (strategy == u"prefix_aware") {
        // Validated when the document was read, so a policy always comes back.
        if (auto policy = Routing::makeGpuPolicy(options.gpu, prefixSource)) {
            return policy;
        }
    }
    // "weighted", the default: smooth weighted round robin.
    return std::make_unique<Routing::SmoothWeightedPolicy>(targets);
}

} // namespace Gateway::Runtime
