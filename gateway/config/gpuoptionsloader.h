#pragma once

#include "documentreader.h"

#include "routing/gpupresets.h"

namespace Gateway::Config {

// `strategy_options` of a `prefix_aware` route: the preset and whichever of its
// parameters the document sets (unset keys keep the preset's published defaults, and a
// document read back renders only the keys it set, so GET → PUT round-trips unchanged).
// Errors name the field, e.g. routes[0].strategy_options.scorers.queue.
Routing::GpuPolicyParams parseGpuOptions(const DocumentReader &reader, const YAML::Node &node, const QString &field);

} // namespace Gateway::Config
