#pragma once

#include "documentreader.h"
#include "policy.h"

namespace Gateway::Config {

// `routes[].targets[].pool`: prefill | decode (absent = both steps).
void parseTargetPool(const DocumentReader &reader, const YAML::Node &targetNode, const QString &field, Target &target);

// `routes[].pd`: {uncached_tokens_threshold, enabled}.
void parsePrefillDecode(const DocumentReader &reader, const YAML::Node &routeNode, const QString &field, Route &route);

// Rules that need the whole document (provider types): pools only on vLLM-style
// providers (the two-step flow is vLLM's KV-connector protocol), a route with a prefill
// pool also has a target to decode on, and `pd` only on routes with a prefill pool.
void validatePrefillDecode(const DocumentReader &reader, const YAML::Node &root, const Policy &policy);

} // namespace Gateway::Config
