#pragma once

#include "config/policy.h"
#include "routing/routepolicy.h"

#include <memory>
#include <vector>

namespace Gateway::Runtime {

// The strategy object a route's `strategy:` and `strategy_options` name, built over the
// route's compiled targets.
std::unique_ptr<Routing::RoutePolicy> makePolicy(const Config::Route &route, const std::vector<Routing::PolicyTarget> &targets);

} // namespace Gateway::Runtime
