#pragma once

#include "config/policy.h"
#include "routing/prefixmatch.h"
#include "routing/routepolicy.h"

#include <memory>
#include <vector>

namespace Gateway::Runtime {

// The strategy object a route's `strategy:` and `strategy_options` name, built over the
// route's compiled targets.
// `prefixSource` (may be null) is what prefix_aware routes match prompts against.
std::unique_ptr<Routing::RoutePolicy> makePolicy(const Config::Route &route, const std::vector<Routing::PolicyTarget> &targets,
                                                 Routing::PrefixMatchSource *prefixSource);

} // namespace Gateway::Runtime
