#pragma once

#include "documentreader.h"
#include "policy.h"

namespace Gateway::Config {

// The top-level `tracing:` section: {otlp_endpoint, service_name, sample_ratio,
// export_interval_ms, max_queue_spans, headers}. Errors name the field, e.g.
// tracing.sample_ratio.
TracingSettings parseTracing(const DocumentReader &reader, const YAML::Node &node);

} // namespace Gateway::Config
