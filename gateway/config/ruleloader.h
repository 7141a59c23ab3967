#pragma once

#include "documentreader.h"
#include "policy.h"

namespace Gateway::Config {

// A route's conditional routing: `rules` and `split`. Call after the route's targets
// were read, as rule and arm actions may name them.
void parseRouteRules(const DocumentReader &reader, const YAML::Node &routeNode, const QString &field, Route &route);

// Once every route is known: a rule or arm that redirects names an existing route.
void validateRuleReferences(const DocumentReader &reader, const YAML::Node &root, const Policy &policy);

} // namespace Gateway::Config
