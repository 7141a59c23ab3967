#pragma once

#include "metrics/metricsregistry.h"
#include "runtime/configsource.h"

#include <QByteArray>

#include <functional>

namespace Gateway::Proxy {

// What every worker's proxy shares: the published configuration and the metrics.
// Owned by the gateway runtime and outlives the worker threads.
struct ProxyEnvironment {
    const Runtime::ConfigSource &config;
    Metrics::MetricsRegistry &metrics;
    // Appends process-level series (connections, active requests) to /metrics output.
    std::function<void(QByteArray &)> appendServerMetrics;
};

} // namespace Gateway::Proxy
