#pragma once

#include "config/documentreader.h"
#include "config/policy.h"

namespace Gateway::Discovery {

// providers[].discovery of a policy document. `baseUrl` is the provider's validated
// base_url: `a` resolves its host, so it must name one (not an IP literal) and carry the
// port the servers listen on. Errors name the field, e.g. providers[0].discovery.name.
Config::Discovery parseDiscovery(const Config::DocumentReader &reader, const YAML::Node &node, const QString &field,
                                 const QString &baseUrl);

} // namespace Gateway::Discovery
