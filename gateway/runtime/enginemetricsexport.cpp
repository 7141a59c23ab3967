#include "enginemetricsexport.h"

#include "metrics/exposition.h"

#include "backendmonitor.h"
#include "gpu/metricsscraper.h"
#include "routetable.h"
#include "routing/prefixindex.h"
#include "routingregistry.h"

namespace Gateway::Runtime {

namespace {

QByteArray escapedLabel(const BackendRuntime &backend)
{
    return Metrics::escapeLabelValue(backend.label);
}

QByteArray labelOf(const BackendRuntime &backend)
{
    return "{backend=\"" + escapedLabel(backend) + "\"}";
}

QByteArray number(double value)
{
    return QByteArray::number(value, 'g', 10);
}

void appendEngineGauges(QByteArray &out, const RouteTable &table, const Gpu::MetricsScraper &engines, qint64 nowMs)
{
    struct Gauge {
        const char *name;
        const char *help;
        double (*read)(const Routing::EngineSignals &);
    };
    static const Gauge GAUGES[] = {
        {"switchyard_engine_fresh", "1 while the server's metrics_url answered within the staleness bound, else 0.",
         [](const Routing::EngineSignals &s) { return s.fresh ? 1.0 : 0.0; }},
        {"switchyard_engine_metrics_age_seconds", "Seconds since the last good scrape of the server (-1 = never).",
         [](const Routing::EngineSignals &s) { return s.ageMs < 0 ? -1.0 : static_cast<double>(s.ageMs) / 1000.0; }},
        {"switchyard_engine_waiting_requests", "Requests waiting in the engine's queue, as last scraped.",
         [](const Routing::EngineSignals &s) { return s.waitingRequests; }},
        {"switchyard_engine_running_requests", "Requests in the engine's running batch, as last scraped.",
         [](const Routing::EngineSignals &s) { return s.runningRequests; }},
        {"switchyard_engine_kv_cache_usage", "Fraction of the engine's KV-cache memory in use (-1 = not reported).",
         [](const Routing::EngineSignals &s) { return s.kvCacheUsage; }},
        {"switchyard_engine_prefix_cache_hit_rate",
         "Engine prefix-cache hits / queries (tokens) over the last scrape interval (-1 = unknown).",
         [](const Routing::EngineSignals &s) { return s.prefixCacheHitRate; }},
    };
    for (const Gauge &gauge : GAUGES) {
        Metrics::appendMetricHeader(out, gauge.name, "gauge", gauge.help);
        for (const auto &backend : table.backends()) {
            if (backend.engineId >= 0) {
                out += gauge.name + labelOf(backend) + ' ' + number(gauge.read(engines.signalsFor(backend.engineId, nowMs))) + '\n';
            }
        }
    }
    Metrics::appendMetricHeader(out, "switchyard_engine_scrapes_total", "counter", "Scrapes of each server's metrics_url, by result (ok, failed).");
    for (const auto &backend : table.backends()) {
        if (backend.engineId < 0) {
            continue;
        }
        const auto counters = engines.countersFor(backend.engineId);
        const QByteArray escaped = escapedLabel(backend);
        out += "switchyard_engine_scrapes_total{backend=\"" + escaped + "\",result=\"ok\"} " +
               QByteArray::number(counters ? counters->scrapesOk : 0) + '\n';
        out += "switchyard_engine_scrapes_total{backend=\"" + escaped + "\",result=\"failed\"} " +
               QByteArray::number(counters ? counters->scrapesFailed : 0) + '\n';
    }
    Metrics::appendMetricHeader(out, "switchyard_engine_restarts_total", "counter",
           "Restarts of the server seen in its metrics (a cumulative counter went backwards); each empties its prefix-index entries.");
    for (const auto &backend : table.backends()) {
        if (backend.engineId >= 0) {
            out += "switchyard_engine_restarts_total" + labelOf(backend) + ' ' +
                   QByteArray::number(engines.signalsFor(backend.engineId, nowMs).restarts) + '\n';
        }
    }
    Metrics::appendMetricHeader(out, "switchyard_engine_parse_errors_total", "counter", "Malformed lines in the servers' metrics expositions.");
    for (const auto &backend : table.backends()) {
        if (backend.engineId >= 0) {
            const auto counters = engines.countersFor(backend.engineId);
            out += "switchyard_engine_parse_errors_total" + labelOf(backend) + ' ' +
                   QByteArray::number(counters ? counters->parseErrors : 0) + '\n';
        }
    }
}

} // namespace

void appendEngineMetrics(QByteArray &out, const RouteTable &table, qint64 nowMs)
{
    Metrics::appendMetricHeader(out, "switchyard_backend_inflight_prefill_tokens", "gauge",
           "Uncached prompt tokens of requests in flight that have not had their first token yet.");
    for (const auto &backend : table.backends()) {
        out += "switchyard_backend_inflight_prefill_tokens" + labelOf(backend) + ' ' +
               QByteArray::number(backend.monitor->inFlightPrefillTokens()) + '\n';
    }
    Metrics::appendMetricHeader(out, "switchyard_backend_inflight_decode_tokens", "gauge", "Expected output tokens of requests in flight.");
    for (const auto &backend : table.backends()) {
        out += "switchyard_backend_inflight_decode_tokens" + labelOf(backend) + ' ' +
               QByteArray::number(backend.monitor->inFlightDecodeTokens()) + '\n';
    }
    Metrics::appendMetricHeader(out, "switchyard_backend_prefill_us_per_token", "gauge",
           "Learned prefill speed: microseconds to first token per uncached prompt token, from prompts sent to an otherwise idle backend (0 = not learned yet).");
    for (const auto &backend : table.backends()) {
        out += "switchyard_backend_prefill_us_per_token" + labelOf(backend) + ' ' +
               QByteArray::number(backend.monitor->prefillUsPerToken(), 'g', 6) + '\n';
    }
    if (table.engines()) {
        appendEngineGauges(out, table, *table.engines(), nowMs);
    }
    if (table.prefixSource()) {
        const Routing::PrefixIndex &index = table.routing().prefixIndex();
        Metrics::appendMetricHeader(out, "switchyard_prefix_index_blocks", "gauge",
               "Prompt blocks the prefix index assumes each server holds in its KV cache.");
        for (const auto &backend : table.backends()) {
            out += "switchyard_prefix_index_blocks" + labelOf(backend) + ' ' +
                   QByteArray::number(index.heldBlocks(backend.stableId)) + '\n';
        }
        Metrics::appendMetricHeader(out, "switchyard_prefix_index_capacity_blocks", "gauge",
               "Blocks the prefix index keeps per server (from vllm:cache_config_info when reported).");
        for (const auto &backend : table.backends()) {
            out += "switchyard_prefix_index_capacity_blocks" + labelOf(backend) + ' ' +
                   QByteArray::number(index.capacityBlocks(backend.stableId)) + '\n';
        }
    }
}

} // namespace Gateway::Runtime
