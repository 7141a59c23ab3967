#pragma once

#include "documentreader.h"
#include "policy.h"

namespace Gateway::Config {

// The governance parts of a policy document: `governance:`, `prices:`, `teams:` and a
// virtual key's `team`, `limits` and `budgets`. Errors name the field, e.g.
// teams[0].budgets.soft_limit_fraction or virtual_keys[2].team.

GovernanceSettings parseGovernanceSettings(const DocumentReader &reader, const YAML::Node &node);
std::vector<ModelPrice> parsePrices(const DocumentReader &reader, const YAML::Node &node, const QString &field);
Team parseTeam(const DocumentReader &reader, const YAML::Node &node, const QString &field);
void parseKeyGovernance(const DocumentReader &reader, const YAML::Node &keyNode, const QString &field, VirtualKey &key);

// Once everything is parsed: team names unique, teams' routes exist, keys name teams.
void validateGovernanceReferences(const DocumentReader &reader, const YAML::Node &root, const Policy &policy);

} // namespace Gateway::Config
