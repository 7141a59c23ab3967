#include "routingloader.h"

#include "gpuoptionsloader.h"

#include <limits>

namespace Gateway::Config {

namespace {

constexpr int MAX_DURATION_MS = 24 * 3600 * 1000;
constexpr int MAX_ATTEMPTS = 10;

int durationMs(const DocumentReader &reader, const YAML::Node &node, const QString &field, int min)
{
    return static_cast<int>(reader.integer(node, field, min, MAX_DURATION_MS));
}

HealthPolicy parseHealth(const DocumentReader &reader, const YAML::Node &node, const QString &field)
{
    HealthPolicy health;
    reader.requireMap(node, field);
    reader.checkKeys(node, field,
                     {"window_ms", "min_requests", "degraded_error_rate", "failed_error_rate", "consecutive_failures",
                      "open_ms", "max_open_ms", "half_open_probes", "half_open_successes", "slow_start_ms",
                      "latency_outlier_factor"});
    const auto sub = [&field](const char *key) { return DocumentReader::join(field, QString::fromLatin1(key)); };
    if (node["window_ms"]) {
        health.windowMs = durationMs(reader, node["window_ms"], sub("window_ms"), 100);
    }
    if (node["min_requests"]) {
        health.minRequests = static_cast<int>(reader.integer(node["min_requests"], sub("min_requests"), 1, 1000000));
    }
    if (node["degraded_error_rate"]) {
        health.degradedErrorRate = reader.number(node["degraded_error_rate"], sub("degraded_error_rate"), 0.0, 1.0);
    }
    if (node["failed_error_rate"]) {
        health.failedErrorRate = reader.number(node["failed_error_rate"], sub("failed_error_rate"), 0.0, 1.0);
    }
    if (health.failedErrorRate < health.degradedErrorRate) {
        reader.fail(node, sub("failed_error_rate"), QStringLiteral("must not be below degraded_error_rate"));
    }
    if (node["consecutive_failures"]) {
        health.consecutiveFailures =
            static_cast<int>(reader.integer(node["consecutive_failures"], sub("consecutive_failures"), 1, 1000000));
    }
    if (node["open_ms"]) {
        health.openMs = durationMs(reader, node["open_ms"], sub("open_ms"), 1);
    }
    if (node["max_open_ms"]) {
        health.maxOpenMs = durationMs(reader, node["max_open_ms"], sub("max_open_ms"), 1);
    }
    if (health.maxOpenMs < health.openMs) {
        reader.fail(node, sub("max_open_ms"), QStringLiteral("must not be below open_ms"));
    }
    if (node["half_open_probes"]) {
        health.halfOpenProbes = static_cast<int>(reader.integer(node["half_open_probes"], sub("half_open_probes"), 1, 1000));
    }
    if (node["half_open_successes"]) {
        health.halfOpenSuccesses =
            static_cast<int>(reader.integer(node["half_open_successes"], sub("half_open_successes"), 1, 1000));
    }
    if (node["slow_start_ms"]) {
        health.slowStartMs = durationMs(reader, node["slow_start_ms"], sub("slow_start_ms"), 0);
    }
    if (node["latency_outlier_factor"]) {
        health.latencyOutlierFactor = reader.number(node["latency_outlier_factor"], sub("latency_outlier_factor"), 1.0, 1000.0);
    }
    return health;
}

void parseStrategyOptions(const DocumentReader &reader, const YAML::Node &node, const QString &field, Route &route)
{
    reader.requireMap(node, field);
    const QString &strategy = route.strategy;
    if (strategy == u"prefix_aware") {
        route.options.gpu = parseGpuOptions(reader, node, field);
        return;
    }
    // Only the options of the chosen strategy are accepted, so an option that would be
    // silently ignored is reported instead.
    if (strategy == u"least_request" || strategy == u"p2c") {
        reader.checkKeys(node, field, {"load_metric"});
    } else if (strategy == u"session_hash") {
        reader.checkKeys(node, field, {"load_factor"});
    } else if (strategy == u"cost") {
        reader.checkKeys(node, field, {"max_latency_ms"});
    } else if (strategy == u"adaptive") {
        reader.checkKeys(node, field, {"interval_ms", "exploration"});
    } else {
        reader.checkKeys(node, field, {});
    }
    StrategyOptions &options = route.options;
    const auto sub = [&field](const char *key) { return DocumentReader::join(field, QString::fromLatin1(key)); };
    if (node["load_metric"]) {
        options.loadMetric = reader.string(node["load_metric"], sub("load_metric"));
        if (options.loadMetric != u"tokens" && options.loadMetric != u"requests") {
            reader.fail(node["load_metric"], sub("load_metric"),
                        QStringLiteral("unknown load metric '%1' (allowed: tokens, requests)").arg(options.loadMetric));
        }
    }
    if (node["load_factor"]) {
        options.loadFactor = reader.number(node["load_factor"], sub("load_factor"), 1.0, 100.0);
    }
    if (node["max_latency_ms"]) {
        options.maxLatencyMs = durationMs(reader, node["max_latency_ms"], sub("max_latency_ms"), 0);
    }
    if (node["interval_ms"]) {
        options.intervalMs = durationMs(reader, node["interval_ms"], sub("interval_ms"), 100);
    }
    if (node["exploration"]) {
        options.exploration = reader.number(node["exploration"], sub("exploration"), 0.0, 1.0);
    }
}

RetryPolicy parseRetry(const DocumentReader &reader, const YAML::Node &node, const QString &field)
{
    RetryPolicy retry;
    reader.requireMap(node, field);
    reader.checkKeys(node, field, {"attempts", "on", "fallbacks"});
    if (node["attempts"]) {
        retry.attempts = static_cast<int>(reader.integer(node["attempts"], field + QStringLiteral(".attempts"), 1, MAX_ATTEMPTS));
    }
    if (node["on"]) {
        const QString onField = field + QStringLiteral(".on");
        retry.on = reader.stringList(node["on"], onField);
        for (qsizetype i = 0; i < retry.on.size(); ++i) {
            if (!retryClassNames().contains(retry.on[i])) {
                reader.fail(node["on"][static_cast<std::size_t>(i)], DocumentReader::indexed(onField, static_cast<std::size_t>(i)),
                            QStringLiteral("unknown failure class '%1' (allowed: %2)")
                                .arg(retry.on[i], retryClassNames().join(QStringLiteral(", "))));
            }
        }
        retry.on.removeDuplicates();
    }
    if (node["fallbacks"]) {
        const QString fallbacksField = field + QStringLiteral(".fallbacks");
        const YAML::Node fallbacks = node["fallbacks"];
        reader.requireMap(fallbacks, fallbacksField);
        for (const auto &entry : fallbacks) {
            const QString name = QString::fromStdString(entry.first.as<std::string>());
            const QString entryField = DocumentReader::join(fallbacksField, name);
            if (!retryClassNames().contains(name)) {
                reader.fail(entry.first, entryField,
                            QStringLiteral("unknown failure class '%1' (allowed: %2)")
                                .arg(name, retryClassNames().join(QStringLiteral(", "))));
            }
            retry.fallbacks.emplace_back(name, reader.stringList(entry.second, entryField));
        }
    }
    return retry;
}

HedgePolicy parseHedge(const DocumentReader &reader, const YAML::Node &node, const QString &field)
{
    HedgePolicy hedge;
    reader.requireMap(node, field);
    reader.checkKeys(node, field, {"enabled", "percentile", "min_delay_ms", "budget"});
    const auto sub = [&field](const char *key) { return DocumentReader::join(field, QString::fromLatin1(key)); };
    if (node["enabled"]) {
        hedge.enabled = reader.boolean(node["enabled"], sub("enabled"));
    }
    if (node["percentile"]) {
        hedge.percentile = reader.number(node["percentile"], sub("percentile"), 0.5, 0.999);
    }
    if (node["min_delay_ms"]) {
        hedge.minDelayMs = durationMs(reader, node["min_delay_ms"], sub("min_delay_ms"), 1);
    }
    if (node["budget"]) {
        hedge.budget = reader.number(node["budget"], sub("budget"), 0.0, 1.0);
    }
    return hedge;
}

} // namespace

RoutingSettings parseRoutingSettings(const DocumentReader &reader, const YAML::Node &node)
{
    const QString field = QStringLiteral("routing");
    RoutingSettings settings;
    reader.requireMap(node, field);
    reader.checkKeys(node, field, {"retry_budget", "retry_min_concurrency", "session_key_sources", "health",
                                         "metrics_interval_ms"});
    if (node["metrics_interval_ms"]) {
        settings.metricsIntervalMs = static_cast<int>(
            reader.integer(node["metrics_interval_ms"], QStringLiteral("routing.metrics_interval_ms"), 50, 600000));
    }
    if (node["retry_budget"]) {
        settings.retryBudget = reader.number(node["retry_budget"], QStringLiteral("routing.retry_budget"), 0.0, 1.0);
    }
    if (node["retry_min_concurrency"]) {
        settings.retryMinConcurrency = static_cast<int>(
            reader.integer(node["retry_min_concurrency"], QStringLiteral("routing.retry_min_concurrency"), 0, 100000));
    }
    if (node["session_key_sources"]) {
        const QString sourcesField = QStringLiteral("routing.session_key_sources");
        settings.sessionKeySources = reader.stringList(node["session_key_sources"], sourcesField);
        for (qsizetype i = 0; i < settings.sessionKeySources.size(); ++i) {
            const QString &source = settings.sessionKeySources[i];
            const bool bodyField = source == u"user" || source == u"metadata.user_id";
            const bool headerName = !source.isEmpty() && !source.contains(u' ') && !source.contains(u':') && source == source.toLower();
            if (!bodyField && !headerName) {
                reader.fail(node["session_key_sources"][static_cast<std::size_t>(i)],
                            DocumentReader::indexed(sourcesField, static_cast<std::size_t>(i)),
                            QStringLiteral("expected a lower-case header name, 'user' or 'metadata.user_id'"));
            }
        }
    }
    if (node["health"]) {
        settings.health = parseHealth(reader, node["health"], QStringLiteral("routing.health"));
    }
    return settings;
}

void parseRouteStrategy(const DocumentReader &reader, const YAML::Node &routeNode, const QString &field, Route &route)
{
    if (routeNode["strategy"]) {
        const QString strategyField = field + QStringLiteral(".strategy");
        route.strategy = reader.string(routeNode["strategy"], strategyField);
        if (!strategyNames().contains(route.strategy)) {
            reader.fail(routeNode["strategy"], strategyField,
                        QStringLiteral("unknown strategy '%1' (allowed: %2)")
                            .arg(route.strategy, strategyNames().join(QStringLiteral(", "))));
        }
    }
    if (routeNode["strategy_options"]) {
        parseStrategyOptions(reader, routeNode["strategy_options"], field + QStringLiteral(".strategy_options"), route);
    }
    if (routeNode["retry"]) {
        route.retry = parseRetry(reader, routeNode["retry"], field + QStringLiteral(".retry"));
    }
    if (routeNode["hedge"]) {
        route.hedge = parseHedge(reader, routeNode["hedge"], field + QStringLiteral(".hedge"));
    }
    if (routeNode["stream_resumption"]) {
        route.streamResumption = reader.boolean(routeNode["stream_resumption"], field + QStringLiteral(".stream_resumption"));
    }
}

void parseTargetPricing(const DocumentReader &reader, const YAML::Node &targetNode, const QString &field, Target &target)
{
    constexpr double MAX_PRICE = 1e9;
    if (targetNode["input_cost_per_mtok"]) {
        target.inputCostPerMTok =
            reader.number(targetNode["input_cost_per_mtok"], field + QStringLiteral(".input_cost_per_mtok"), 0.0, MAX_PRICE);
    }
    if (targetNode["output_cost_per_mtok"]) {
        target.outputCostPerMTok =
            reader.number(targetNode["output_cost_per_mtok"], field + QStringLiteral(".output_cost_per_mtok"), 0.0, MAX_PRICE);
    }
    if (targetNode["context_window"]) {
        target.contextWindow = reader.integer(targetNode["context_window"], field + QStringLiteral(".context_window"), 0,
                                              std::numeric_limits<qint32>::max());
    }
}

} // namespace Gateway::Config
