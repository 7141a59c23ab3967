#pragma once

#include "documentreader.h"
#include "policy.h"
#include "safety/builtinpatterns.h"

namespace Gateway::Config {

// The top-level `redaction:` section: {patterns: [built-in names], custom: [{name, regex}]}.
RedactionSettings parseRedaction(const DocumentReader &reader, const YAML::Node &node);

// `routes[].firewall`: {action: block | redact, rules: [a pattern name | {name, regex}]}.
void parseFirewall(const DocumentReader &reader, const YAML::Node &routeNode, const QString &field, Route &route);

// Firewall rules given by name name a built-in pattern or a `redaction.custom` entry.
void validateFirewallReferences(const DocumentReader &reader, const YAML::Node &root, const Policy &policy);

// The patterns a route's firewall compiles (names resolved against the built-ins and
// `redaction.custom`), and the patterns redaction applies; for the route table.
std::vector<Safety::PatternSource> resolveFirewall(const Policy &policy, const FirewallPolicy &firewall);
std::vector<Safety::PatternSource> resolveRedaction(const RedactionSettings &redaction);

QLatin1String firewallActionName(FirewallAction action);

} // namespace Gateway::Config
