#pragma once

#include "documentreader.h"
#include "policy.h"

namespace Gateway::Config {

// At most this many distinct region names in one policy: the data plane keeps a
// request's allowed regions as one 64-bit mask (Runtime::RegionSet).
inline constexpr int MAX_REGIONS = 64;

// `routes[].targets[].region`: a region name (letters, digits, '-', '_', '.').
void parseTargetRegion(const DocumentReader &reader, const YAML::Node &targetNode, const QString &field, Target &target);

// `regions:` of a route, a virtual key or a team, when present: region names, no
// duplicates; an empty list means unrestricted (the same as leaving it out).
void parseRegionList(const DocumentReader &reader, const YAML::Node &ownerNode, const QString &field, QStringList &out);

// Rules that need the whole document: every target naming the same provider/model
// states the same region (a server is in one place), and the policy names at most
// MAX_REGIONS regions.
void validateResidency(const DocumentReader &reader, const YAML::Node &root, const Policy &policy);

} // namespace Gateway::Config
