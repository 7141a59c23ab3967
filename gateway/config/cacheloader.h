#pragma once

#include "documentreader.h"
#include "policy.h"

namespace Gateway::Config {

// `routes[].cache`: {exact: {ttl_ms, max_entries, max_bytes}, semantic: {embeddings_route,
// threshold, ttl_ms, max_entries}, scope}. A kind is on when its map is present.
void parseRouteCache(const DocumentReader &reader, const YAML::Node &routeNode, const QString &field, Route &route);

// Rules that need the whole document: `semantic.embeddings_route` names another route.
void validateCacheReferences(const DocumentReader &reader, const YAML::Node &root, const Policy &policy);

} // namespace Gateway::Config
