#pragma once

#include "runtime/routetable.h"

#include "routing/requestfacts.h"
#include "routing/rng.h"

#include <QByteArray>
#include <QByteArrayView>

#include <vector>

namespace Gateway::Proxy {

// Conditional routing for one request: the requested route's rules (first match wins),
// then, when none matched, its traffic split. The outcome is the route the request
// goes to, the targets it may use there and its split arm.
//
// A redirect is one hop: the destination route's own rules and split are not evaluated
// (they apply to requests that name it directly), so redirects can never loop.
class RouteDecider final {
public:
    struct Decision {
        const Runtime::RouteRuntime *route = nullptr; // the final route
        std::vector<int> allowedTargets;              // indices into route->targets; empty = all
        Metrics::ArmStats *arm = nullptr;
        QByteArray reason; // "rule=vision -> route chat-vision"; built only when explaining
    };

    // The keys a split may be sticky on; empty = absent.
    struct StickyKeys {
        QByteArrayView session;
        QByteArrayView user;
    };

    static Decision decide(const Runtime::RouteTable &table, const Runtime::RouteRuntime &requested,
                           const Routing::RequestFacts &facts, const StickyKeys &sticky, Routing::Rng &rng,
                           bool explain);

private:
    static QByteArray describe(const Runtime::RouteTable &table, const Runtime::RouteRuntime &route,
                               const QByteArray &what, int redirect, const std::vector<int> &targets);
};

} // namespace Gateway::Proxy
