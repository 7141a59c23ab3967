#include "routedecider.h"

namespace Gateway::Proxy {

RouteDecider::Decision RouteDecider::decide(const Runtime::RouteTable &table, const Runtime::RouteRuntime &requested,
                                            const Routing::RequestFacts &facts, const StickyKeys &sticky,
                                            Routing::Rng &rng, bool explain)
{
    Decision decision;
    decision.route = &requested;
    const auto &routes = table.routes();
    const auto redirectTo = [&](int route) {
        if (route >= 0 && static_cast<std::size_t>(route) < routes.size()) {
            decision.route = routes[static_cast<std::size_t>(route)].get();
        }
    };
    if (!requested.rules.empty()) {
        if (const auto match = requested.rules.match(facts)) {
            requested.ruleMatches[static_cast<std::size_t>(match.index)]->fetch_add(1, std::memory_order_relaxed);
            const auto &action = match.rule->action;
            if (action.route >= 0) {
                redirectTo(action.route);
            } else {
                decision.allowedTargets = action.targets;
            }
            if (explain) {
                decision.reason =
                    describe(table, requested, "rule=" + match.rule->name, action.route, action.targets);
            }
            return decision;
        }
    }
    if (!requested.split) {
        return decision;
    }
    QByteArray virtualKey; // converted only for a split sticky on it
    QByteArrayView key;
    switch (requested.split->sticky()) {
    case Routing::TrafficSplit::Sticky::Session: key = sticky.session; break;
    case Routing::TrafficSplit::Sticky::User: key = sticky.user; break;
    case Routing::TrafficSplit::Sticky::VirtualKey:
        virtualKey = facts.virtualKey.toUtf8();
        key = virtualKey;
        break;
    case Routing::TrafficSplit::Sticky::None: break;
    }
    const int index = requested.split->pick(key, rng);
    if (index < 0 || static_cast<std::size_t>(index) >= requested.arms.size()) {
        return decision;
    }
    const Runtime::SplitArmRuntime &arm = requested.arms[static_cast<std::size_t>(index)];
    decision.arm = arm.stats;
    if (arm.route >= 0) {
        redirectTo(arm.route);
    } else {
        decision.allowedTargets = arm.targets;
    }
    if (explain) {
        decision.reason = describe(table, requested, "split=" + arm.name, arm.route, arm.targets);
    }
    return decision;
}

QByteArray RouteDecider::describe(const Runtime::RouteTable &table, const Runtime::RouteRuntime &route,
                                  const QByteArray &what, int redirect, const std::vector<int> &targets)
{
    QByteArray reason = what;
    if (redirect >= 0 && static_cast<std::size_t>(redirect) < table.routes().size()) {
        return reason + " -> route " + table.routes()[static_cast<std::size_t>(redirect)]->model;
    }
    reason += " -> targets ";
    for (std::size_t i = 0; i < targets.size(); ++i) {
        const auto target = static_cast<std::size_t>(targets[i]);
        if (target < route.targets.size()) {
            reason += (i == 0 ? "" : ",") +
                      table.backends()[static_cast<std::size_t>(route.targets[target].backendId)].label;
        }
    }
    return reason;
}

} // namespace Gateway::Proxy
