#pragma once

#include "documentreader.h"
#include "policy.h"

namespace Gateway::Config {

// The routing-engine parts of a policy document: the top-level `routing:` section, and
// a route's `strategy`, `strategy_options` and `retry`, and a target's price fields.

RoutingSettings parseRoutingSettings(const DocumentReader &reader, const YAML::Node &node);
void parseRouteStrategy(const DocumentReader &reader, const YAML::Node &routeNode, const QString &field, Route &route);
void parseTargetPricing(const DocumentReader &reader, const YAML::Node &targetNode, const QString &field, Target &target);

} // namespace Gateway::Config
