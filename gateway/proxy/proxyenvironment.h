#pragma once

#include "admin/adminservice.h"
#include "governance/limitstore.h"
#include "governance/spendjournal.h"
#include "governance/spendmetrics.h"
#include "metrics/metricsregistry.h"
#include "runtime/configsource.h"
#include "runtime/requestlog.h"
#include "runtime/tokencountersource.h"

#include <QByteArray>

#include <functional>

namespace Gateway::Cache {
class CacheRegistry;
}

namespace Gateway::Tracing {
class SpanExporter;
}

namespace Gateway::Mcp {
class McpServices;
}

namespace Gateway::Proxy {

// What every worker's proxy shares: the published configuration and the metrics.
// Owned by the gateway runtime and outlives the worker threads.
struct ProxyEnvironment {
    const Runtime::ConfigSource &config;
    Metrics::MetricsRegistry &metrics;
    // Appends process-level series (connections, active requests) to /metrics output.
    std::function<void(QByteArray &)> appendServerMetrics;
    // Finished requests go here (never blocks); null = no request log.
    RequestLogSink *requestLog = nullptr;
    // Behind /admin/v1/...; null = no store in this process (admin answers 503).
    Admin::AdminService *adminService = nullptr;
    // SHA-256 of the admin token used when the policy sets none (generated at first
    // start and kept in the data directory); empty = none.
    QByteArray fallbackAdminTokenDigest;
    // Renders /admin/v1/state; thread-safe.
    std::function<QByteArray()> stateJson;
    // Governance: where limits are enforced (null = nothing is), where spend is
    // journaled (null = not persisted) and counted for /metrics.
    Governance::LimitStore *limits = nullptr;
    Governance::SpendJournal *journal = nullptr;
    Governance::SpendMetrics *spendMetrics = nullptr;
    // Unix epoch ms for budget windows and reset times; the system clock when empty.
    std::function<qint64()> wallClockMs;
    // Exact token counts for settlements the provider reported no usage for; null = the
    // estimates are used.
    const Runtime::TokenCounterSource *tokenCounter = nullptr;
    // Response caches of the routes that have one (docs/CACHE.md); null = none.
    const Cache::CacheRegistry *cache = nullptr;
    // Where traced requests' spans go (docs/TRACING.md); null = nowhere. Whether a
    // request is traced is the policy's `tracing:` section's business.
    Tracing::SpanExporter *spans = nullptr;
    // The MCP gateway's session table and metrics (/mcp/<server>); null = no MCP.
    Mcp::McpServices *mcp = nullptr;
};

} // namespace Gateway::Proxy
