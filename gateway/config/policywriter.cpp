#include "policywriter.h"

#include "redaction.h"
#include "safetyloader.h"
#include "util/jsonwriter.h"

#include <QLocale>
#include <QRegularExpression>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace Gateway::Config {

namespace {

// Both renderings walk one ordered tree, so YAML and JSON cannot drift apart in keys or
// order. Scalars keep their textual form; numbers are already formatted.
struct Field;

struct Node {
    enum class Kind { String, Number, List, Map };

    Kind kind = Kind::String;
    QByteArray text;
    std::vector<Node> items;                        // List
    std::vector<Field> fields; // Map, in document order
    bool compact = false;                           // flow style in YAML, one line in JSON

    // Defined below Field: a map's fields hold Nodes, so building one needs both types
    // complete.
    static Node string(const QByteArray &value);
    static Node string(const QString &value);
    static Node integer(qint64 value);
    // Booleans print bare in YAML and JSON alike, as numbers do.
    static Node boolean(bool value);
    static Node list(bool compact);
    static Node map(bool compact);

    Node &add(const char *key, Node value);
    Node &add(const QByteArray &key, Node value);
};

struct Field {
    QByteArray key;
    Node value;
};

Node Node::string(const QByteArray &value) { return Node {Kind::String, value, {}, {}, false}; }
Node Node::string(const QString &value) { return string(value.toUtf8()); }
Node Node::integer(qint64 value) { return Node {Kind::Number, QByteArray::number(value), {}, {}, false}; }
Node Node::boolean(bool value) { return Node {Kind::Number, value ? "true" : "false", {}, {}, false}; }
Node Node::list(bool compact) { return Node {Kind::List, {}, {}, {}, compact}; }
Node Node::map(bool compact) { return Node {Kind::Map, {}, {}, {}, compact}; }

Node &Node::add(const char *key, Node value)
{
    return add(QByteArray {key}, std::move(value));
}

Node &Node::add(const QByteArray &key, Node value)
{
    fields.push_back(Field {key, std::move(value)});
    return *this;
}

Node number(double value)
{
    // Shortest text that reads back as the same double: 1 -> "1", 0.1 -> "0.1".
    return Node {Node::Kind::Number, QString::number(value, 'g', QLocale::FloatingPointShortest).toLatin1(), {}, {}, false};
}

Node secret(const QByteArray &value, SecretRendering secrets)
{
    // An empty value hides nothing and must read back empty, so it stays empty.
    if (secrets == SecretRendering::Redacted && !value.isEmpty()) {
        return Node::string(QByteArray {REDACTED_SECRET});
    }
    return Node::string(value);
}

Node stringList(const QStringList &values)
{
    Node list = Node::list(true);
    for (const auto &value : values) {
        list.items.push_back(Node::string(value));
    }
    return list;
}

Node gatewayNode(const GatewaySettings &settings, SecretRendering secrets)
{
    const QString host = settings.listenHost.contains(u':') ? u'[' + settings.listenHost + u']' : settings.listenHost;
    Node node = Node::map(false);
    node.add("listen", Node::string(host + u':' + QString::number(settings.listenPort)))
        .add("threads", Node::integer(settings.threads))
        .add("admin_token", secret(settings.adminToken, secrets))
        .add("max_body_bytes", Node::integer(settings.maxBodyBytes))
        .add("header_timeout_ms", Node::integer(settings.headerTimeoutMs))
        .add("body_timeout_ms", Node::integer(settings.bodyTimeoutMs))
        .add("idle_timeout_ms", Node::integer(settings.idleTimeoutMs))
        .add("max_connections", Node::integer(settings.maxConnections))
        .add("drain_timeout_ms", Node::integer(settings.drainTimeoutMs))
        .add("admin_allow_remote", Node::boolean(settings.adminAllowRemote))
        .add("tls_cert_file", Node::string(settings.tlsCertFile))
        .add("tls_key_file", Node::string(settings.tlsKeyFile));
    return node;
}

Node providerNode(const Provider &provider, SecretRendering secrets)
{
    Node keys = Node::list(false);
    for (const auto &key : provider.keys) {
        Node entry = Node::map(true);
        entry.add("name", Node::string(key.name))
            .add("secret", secret(key.secret, secrets))
            .add("rpm", Node::integer(key.rpm))
            .add("tpm", Node::integer(key.tpm));
        keys.items.push_back(std::move(entry));
    }
    Node headers = Node::map(false);
    for (const auto &[name, value] : provider.headers) {
        headers.add(name, Node::string(value));
    }
    Node timeouts = Node::map(true);
    timeouts.add("connect_ms", Node::integer(provider.timeouts.connectMs))
        .add("first_token_ms", Node::integer(provider.timeouts.firstTokenMs))
        .add("idle_ms", Node::integer(provider.timeouts.idleMs));

    Node node = Node::map(false);
    node.add("name", Node::string(provider.name))
        .add("type", Node::string(providerTypeName(provider.type)))
        .add("base_url", Node::string(provider.baseUrl))
        .add("metrics_url", Node::string(provider.metricsUrl))
        .add("api_version", Node::string(provider.apiVersion));
    if (!provider.translate) {
        node.add("translate", Node::boolean(false)); // the default (true) is left out
    }
    if (provider.http2PriorKnowledge) {
        node.add("http2_prior_knowledge", Node::boolean(true)); // the default (false) is left out
    }
    node.add("keys", std::move(keys))
        .add("headers", std::move(headers))
        .add("timeouts", std::move(timeouts));
    if (const auto &discovery = provider.discovery) {
        Node entry = Node::map(true);
        entry.add("type", Node::string(QByteArray(discovery->type == Discovery::Type::Srv ? "srv" : "a")));
        if (discovery->type == Discovery::Type::Srv) {
            entry.add("name", Node::string(discovery->name));
        }
        entry.add("interval_ms", Node::integer(discovery->intervalMs))
            .add("slow_start_ms", Node::integer(discovery->slowStartMs))
            .add("drain_ms", Node::integer(discovery->drainMs));
        if (!discovery->nameserver.isEmpty()) {
            entry.add("nameserver", Node::string(discovery->nameserver));
        }
        node.add("discovery", std::move(entry));
    }
    return node;
}

// Only the keys the document set (unset ones mean "the preset's default"), so a
// document read back renders exactly what was written.
Node gpuOptionsNode(const Routing::GpuPolicyParams &params)
{
    Node node = Node::map(false);
    node.add("preset", Node::string(params.preset));
    const auto optional = [&node](const char *key, const std::optional<double> &value) {
        if (value) {
            node.add(key, number(*value));
        }
    };
    optional("cache_threshold", params.cacheThreshold);
    optional("balance_abs_threshold", params.balanceAbsThreshold);
    optional("balance_rel_threshold", params.balanceRelThreshold);
    if (params.scorers) {
        const Routing::GpuScorerWeights &w = *params.scorers;
        Node scorers = Node::map(true);
        scorers.add("prefix", number(w.prefix))
            .add("queue", number(w.queue))
            .add("kv_cache", number(w.kvCache))
            .add("running", number(w.running))
            .add("token_load", number(w.tokenLoad))
            .add("session", number(w.session))
            .add("load_aware", number(w.loadAware));
        node.add("scorers", std::move(scorers));
    }
    if (params.picker) {
        node.add("picker", Node::string(QByteArray(*params.picker == Routing::GpuPicker::MaxScore ? "max_score"
                                                                                                  : "weighted_random")));
    }
    optional("prefix_affinity_threshold", params.prefixAffinityThreshold);
    optional("exploration_probability", params.explorationProbability);
    optional("token_load_threshold", params.tokenLoadThreshold);
    optional("load_aware_threshold", params.loadAwareThreshold);
    if (params.maxPrefixBlocks) {
        node.add("max_prefix_blocks", Node::integer(*params.maxPrefixBlocks));
    }
    optional("overlap_score_weight", params.overlapScoreWeight);
    optional("router_temperature", params.routerTemperature);
    optional("decode_weight", params.decodeWeight);
    optional("bounded_load_factor", params.boundedLoadFactor);
    optional("kv_pressure_start", params.kvPressureStart);
    optional("kv_pressure_match_keep", params.kvPressureMatchKeep);
    optional("engine_queue_weight", params.engineQueueWeight);
    optional("backlog_weight", params.backlogWeight);
    optional("kv_miss_boost", params.kvMissBoost);
    optional("kv_miss_start", params.kvMissStart);
    optional("kv_miss_min_match", params.kvMissMinMatch);
    optional("idle_miss_weight", params.idleMissWeight);
    optional("engine_queue_fade_ms", params.engineQueueFadeMs);
    optional("prefill_progress_weight", params.prefillProgressWeight);
    optional("widely_held_share", params.widelyHeldShare);
    optional("replica_placement_slack", params.replicaPlacementSlack);
    return node;
}

Node strategyOptionsNode(const Route &route)
{
    if (route.strategy == u"prefix_aware") {
        return gpuOptionsNode(route.options.gpu);
    }
    // Only the options the route's strategy reads, as the loader accepts only those.
    const StrategyOptions &options = route.options;
    Node node = Node::map(true);
    if (route.strategy == u"least_request" || route.strategy == u"p2c") {
        node.add("load_metric", Node::string(options.loadMetric));
    } else if (route.strategy == u"session_hash") {
        node.add("load_factor", number(options.loadFactor));
    } else if (route.strategy == u"cost") {
        node.add("max_latency_ms", Node::integer(options.maxLatencyMs));
    } else if (route.strategy == u"adaptive") {
        node.add("interval_ms", Node::integer(options.intervalMs)).add("exploration", number(options.exploration));
    }
    return node;
}

// routes[].cache, spelled out in full once configured (the limits in effect are visible).
Node cacheNode(const Cache::RouteCacheSettings &cache)
{
    Node node = Node::map(false);
    if (cache.exact.enabled) {
        Node exact = Node::map(true);
        exact.add("ttl_ms", Node::integer(cache.exact.ttlMs))
            .add("max_entries", Node::integer(cache.exact.maxEntries))
            .add("max_bytes", Node::integer(cache.exact.maxBytes));
        node.add("exact", std::move(exact));
    }
    if (cache.semantic.enabled) {
        Node semantic = Node::map(true);
        semantic.add("embeddings_route", Node::string(cache.semantic.embeddingsRoute))
            .add("threshold", number(cache.semantic.threshold))
            .add("ttl_ms", Node::integer(cache.semantic.ttlMs))
            .add("max_entries", Node::integer(cache.semantic.maxEntries));
        node.add("semantic", std::move(semantic));
    }
    const QLatin1String scope = Cache::cacheScopeName(cache.scope);
    node.add("scope", Node::string(QByteArray(scope.data(), scope.size())));
    return node;
}

Node actionInto(Node node, const RouteAction &action)
{
    if (!action.route.isEmpty()) {
        node.add("route", Node::string(action.route));
    } else {
        node.add("targets", stringList(action.targets));
    }
    return node;
}

Node conditionsNode(const RuleConditions &when)
{
    // Only the conditions that are set: an absent key is "no condition", which is not the
    // same as any value it could be written with.
    Node node = Node::map(true);
    if (!when.virtualKeys.isEmpty()) {
        node.add("virtual_key", stringList(when.virtualKeys));
    }
    if (!when.headers.empty()) {
        Node headers = Node::map(true);
        for (const auto &[name, value] : when.headers) {
            headers.add(name, Node::string(value));
        }
        node.add("header", std::move(headers));
    }
    if (when.minPromptTokens >= 0) {
        node.add("min_prompt_tokens", Node::integer(when.minPromptTokens));
    }
    if (when.maxPromptTokens >= 0) {
        node.add("max_prompt_tokens", Node::integer(when.maxPromptTokens));
    }
    if (when.hasImages) {
        node.add("has_images", Node::boolean(*when.hasImages));
    }
    if (when.hasTools) {
        node.add("has_tools", Node::boolean(*when.hasTools));
    }
    if (!when.lastUserMessageMatches.isEmpty()) {
        node.add("last_user_message_matches", Node::string(when.lastUserMessageMatches));
    }
    if (!when.lastUserMessageContains.isEmpty()) {
        node.add("last_user_message_contains", stringList(when.lastUserMessageContains));
    }
    if (when.minMaxTokens >= 0) {
        node.add("min_max_tokens", Node::integer(when.minMaxTokens));
    }
    if (when.maxMaxTokens >= 0) {
        node.add("max_max_tokens", Node::integer(when.maxMaxTokens));
    }
    return node;
}

Node rulesNode(const std::vector<RouteRule> &rules)
{
    Node list = Node::list(false);
    for (const auto &rule : rules) {
        Node entry = Node::map(false);
        if (!rule.name.isEmpty()) {
            entry.add("name", Node::string(rule.name));
        }
        entry.add("when", conditionsNode(rule.when));
        list.items.push_back(actionInto(std::move(entry), rule.action));
    }
    return list;
}

Node splitNode(const SplitPolicy &split)
{
    Node arms = Node::list(false);
    for (const auto &arm : split.arms) {
        Node entry = Node::map(true);
        entry.add("name", Node::string(arm.name)).add("share", number(arm.share));
        arms.items.push_back(actionInto(std::move(entry), arm.action));
    }
    Node node = Node::map(false);
    node.add("sticky", Node::string(split.sticky)).add("arms", std::move(arms));
    return node;
}

Node routeNode(const Route &route)
{
    Node targets = Node::list(false);
    for (const auto &target : route.targets) {
        Node entry = Node::map(true);
        entry.add("provider", Node::string(target.provider))
            .add("model", Node::string(target.model))
            .add("weight", number(target.weight));
        // Price fields appear once set, so plain weighted routes stay one short line.
        if (target.inputCostPerMTok > 0 || target.outputCostPerMTok > 0) {
            entry.add("input_cost_per_mtok", number(target.inputCostPerMTok))
                .add("output_cost_per_mtok", number(target.outputCostPerMTok));
        }
        if (target.contextWindow > 0) {
            entry.add("context_window", Node::integer(target.contextWindow));
        }
        // Like the prices: absent (uncapped) until set.
        if (target.maxConcurrency > 0) {
            entry.add("max_concurrency", Node::integer(target.maxConcurrency));
        }
        if (target.pool != Routing::TargetPool::Both) {
            entry.add("pool", Node::string(Routing::targetPoolName(target.pool)));
        }
        if (!target.region.isEmpty()) {
            entry.add("region", Node::string(target.region));
        }
        targets.items.push_back(std::move(entry));
    }
    Node retry = Node::map(true);
    retry.add("attempts", Node::integer(route.retry.attempts)).add("on", stringList(route.retry.on));
    if (!route.retry.fallbacks.empty()) {
        Node byClass = Node::map(true);
        for (const auto &[failureClass, routes] : route.retry.fallbacks) {
            byClass.add(failureClass.toUtf8(), stringList(routes));
        }
        retry.add("fallbacks", std::move(byClass));
    }
    Node node = Node::map(false);
    node.add("model", Node::string(route.model)).add("strategy", Node::string(route.strategy));
    Node options = strategyOptionsNode(route);
    if (!options.fields.empty()) {
        node.add("strategy_options", std::move(options));
    }
    Node hedge = Node::map(true);
    hedge.add("enabled", Node::boolean(route.hedge.enabled))
        .add("percentile", number(route.hedge.percentile))
        .add("min_delay_ms", Node::integer(route.hedge.minDelayMs))
        .add("budget", number(route.hedge.budget));
    node.add("retry", std::move(retry))
        .add("hedge", std::move(hedge))
        .add("stream_resumption", Node::boolean(route.streamResumption));
    // Conditional routing appears once configured, so plain routes stay as they were.
    if (!route.rules.empty()) {
        node.add("rules", rulesNode(route.rules));
    }
    if (!route.split.arms.empty()) {
        node.add("split", splitNode(route.split));
    }
    // Spelled out on routes with a prefill pool (the only ones that accept it), so the
    // threshold in effect is visible in every exported document.
    const bool hasPrefillPool = std::any_of(route.targets.begin(), route.targets.end(),
                                            [](const Target &target) { return target.pool == Routing::TargetPool::Prefill; });
    if (hasPrefillPool) {
        Node pd = Node::map(true);
        pd.add("uncached_tokens_threshold", Node::integer(route.pd.uncachedTokensThreshold))
            .add("enabled", Node::boolean(route.pd.enabled))
            .add("max_prefill_work_ratio", number(route.pd.maxPrefillWorkRatio));
        node.add("pd", std::move(pd));
    }
    if (route.firewall.isEnabled()) {
        Node rules = Node::list(false);
        for (const NamedPattern &rule : route.firewall.rules) {
            if (rule.regex.isEmpty()) {
                rules.items.push_back(Node::string(rule.name));
            } else {
                Node entry = Node::map(true);
                entry.add("name", Node::string(rule.name)).add("regex", Node::string(rule.regex));
                rules.items.push_back(std::move(entry));
            }
        }
        Node firewall = Node::map(false);
        firewall.add("action", Node::string(QString(firewallActionName(route.firewall.action))))
            .add("rules", std::move(rules));
        node.add("firewall", std::move(firewall));
    }
    if (route.cache.isEnabled()) {
        node.add("cache", cacheNode(route.cache));
    }
    // Residency appears once restricted, so unrestricted routes stay as they were.
    if (!route.regions.isEmpty()) {
        node.add("regions", stringList(route.regions));
    }
    node.add("targets", std::move(targets))
        .add("fallbacks", stringList(route.fallbacks));
    return node;
}

Node routingNode(const RoutingSettings &settings)
{
    const HealthPolicy &h = settings.health;
    Node health = Node::map(false);
    health.add("window_ms", Node::integer(h.windowMs))
        .add("min_requests", Node::integer(h.minRequests))
        .add("degraded_error_rate", number(h.degradedErrorRate))
        .add("failed_error_rate", number(h.failedErrorRate))
        .add("consecutive_failures", Node::integer(h.consecutiveFailures))
        .add("open_ms", Node::integer(h.openMs))
        .add("max_open_ms", Node::integer(h.maxOpenMs))
        .add("half_open_probes", Node::integer(h.halfOpenProbes))
        .add("half_open_successes", Node::integer(h.halfOpenSuccesses))
        .add("slow_start_ms", Node::integer(h.slowStartMs))
        .add("latency_outlier_factor", number(h.latencyOutlierFactor));
    Node node = Node::map(false);
    node.add("retry_budget", number(settings.retryBudget))
        .add("retry_min_concurrency", Node::integer(settings.retryMinConcurrency))
        .add("session_key_sources", stringList(settings.sessionKeySources))
        .add("metrics_interval_ms", Node::integer(settings.metricsIntervalMs))
        .add("health", std::move(health));
    return node;
}

QByteArray classNameBytes(Admission::PriorityClass priority)
{
    const QLatin1String name = Admission::priorityClassName(priority);
    return QByteArray(name.data(), name.size());
}

Node limitsNode(const Governance::RateLimits &limits)
{
    Node node = Node::map(true);
    node.add("rpm", Node::integer(limits.rpm))
        .add("tpm", Node::integer(limits.tpm))
        .add("max_concurrent_requests", Node::integer(limits.maxConcurrent));
    return node;
}

Node budgetsNode(const Governance::Budgets &budgets)
{
    Node node = Node::map(true);
    node.add("usd_per_day", number(budgets.usdPerDay))
        .add("usd_per_month", number(budgets.usdPerMonth))
        .add("tokens_per_day", Node::integer(budgets.tokensPerDay))
        .add("tokens_per_month", Node::integer(budgets.tokensPerMonth))
        .add("soft_limit_fraction", number(budgets.softFraction));
    return node;
}

// Governance keys are written once they are set, so documents without governance stay
// as they were; the loader reads absent ones back as the defaults.
void addGovernance(Node &node, const Governance::RateLimits &limits, const Governance::Budgets &budgets)
{
    if (limits != Governance::RateLimits {}) {
        node.add("limits", limitsNode(limits));
    }
    if (budgets != Governance::Budgets {}) {
        node.add("budgets", budgetsNode(budgets));
    }
}

// A key's or team's MCP access, once it restricts anything (absent = every server and
// tool, which is how the loader reads it back).
void addMcpAccess(Node &node, const McpAccess &access)
{
    if (!access.servers.isEmpty()) {
        node.add("mcp_servers", stringList(access.servers));
    }
    if (!access.tools.empty()) {
        Node tools = Node::map(true);
        for (const auto &[server, names] : access.tools) {
            tools.add(server.toUtf8(), stringList(names));
        }
        node.add("mcp_tools", std::move(tools));
    }
}

Node mcpServerNode(const McpServer &server, SecretRendering secrets)
{
    Node urls = Node::list(true);
    for (const QByteArray &url : server.urls) {
        urls.items.push_back(Node::string(url));
    }
    // Header values are the MCP server's credentials.
    Node headers = Node::map(false);
    for (const auto &[name, value] : server.headers) {
        headers.add(name, secret(value, secrets));
    }
    Node node = Node::map(false);
    node.add("name", Node::string(server.name))
        .add("urls", std::move(urls))
        .add("headers", std::move(headers))
        .add("allowed_tools", stringList(server.allowedTools))
        .add("timeout_ms", Node::integer(server.timeoutMs))
        .add("session_ttl_ms", Node::integer(server.sessionTtlMs));
    return node;
}

Node teamNode(const Team &team)
{
    Node node = Node::map(false);
    node.add("name", Node::string(team.name)).add("routes", stringList(team.routes));
    addGovernance(node, team.limits, team.budgets);
    if (team.priority) {
        node.add("priority", Node::string(classNameBytes(*team.priority)));
    }
    if (!team.regions.isEmpty()) {
        node.add("regions", stringList(team.regions));
    }
    addMcpAccess(node, team.mcp);
    return node;
}

Node pricesNode(const std::vector<ModelPrice> &prices)
{
    Node list = Node::list(false);
    for (const ModelPrice &price : prices) {
        Node entry = Node::map(true);
        entry.add("model", Node::string(price.model))
            .add("input_per_mtok", number(price.inputPerMTok))
            .add("output_per_mtok", number(price.outputPerMTok));
        if (price.cachedInputPerMTok >= 0) {
            entry.add("cached_input_per_mtok", number(price.cachedInputPerMTok));
        }
        list.items.push_back(std::move(entry));
    }
    return list;
}

Node virtualKeyNode(const VirtualKey &key, SecretRendering secrets)
{
    Node node = Node::map(true);
    node.add("name", Node::string(key.name));
    if (secrets == SecretRendering::Redacted) {
        node.add("key", Node::string(QByteArray {REDACTED_SECRET}));
    } else if (!key.key.isEmpty()) {
        node.add("key", Node::string(key.key));
    } else {
        node.add("key_sha256", Node::string(key.keySha256));
    }
    node.add("routes", stringList(key.routes));
    // Written once it is not the default, so documents without admission control stay
    // as they were; the loader reads an absent priority back as the default.
    if (key.priority != Admission::DEFAULT_PRIORITY_CLASS) {
        node.add("priority", Node::string(classNameBytes(key.priority)));
    }
    if (!key.team.isEmpty()) {
        node.add("team", Node::string(key.team));
    }
    addGovernance(node, key.limits, key.budgets);
    if (!key.regions.isEmpty()) {
        node.add("regions", stringList(key.regions));
    }
    addMcpAccess(node, key.mcp);
    return node;
}

// The whole section, every class and key, once anything in it differs from the defaults
// (absent otherwise, for the same reason as a key's priority).
std::optional<Node> admissionNode(const AdmissionPolicy &admission)
{
    if (admission == AdmissionPolicy {}) {
        return std::nullopt;
    }
    Node classes = Node::map(false);
    for (const Admission::PriorityClass priority : Admission::PRIORITY_CLASSES) {
        const AdmissionClass &settings = admission.classes[Admission::classIndex(priority)];
        Node entry = Node::map(true);
        entry.add("ttft_objective_ms", Node::integer(settings.ttftObjectiveMs))
            .add("max_queue_wait_ms", Node::integer(settings.maxQueueWaitMs))
            .add("weight", number(settings.weight));
        classes.add(classNameBytes(priority), std::move(entry));
    }
    Node node = Node::map(false);
    node.add("max_queued", Node::integer(admission.maxQueued)).add("classes", std::move(classes));
    return node;
}

Node tracingNode(const TracingSettings &tracing, SecretRendering secrets)
{
    // Collector headers carry credentials (an API key, a bearer token): every value is a
    // secret, redacted like provider keys.
    Node headers = Node::map(false);
    for (const auto &[name, value] : tracing.headers) {
        headers.add(name, secret(value, secrets));
    }
    Node node = Node::map(false);
    node.add("otlp_endpoint", Node::string(tracing.otlpEndpoint))
        .add("service_name", Node::string(tracing.serviceName))
        .add("sample_ratio", number(tracing.sampleRatio))
        .add("export_interval_ms", Node::integer(tracing.exportIntervalMs))
        .add("max_queue_spans", Node::integer(tracing.maxQueueSpans))
        .add("headers", std::move(headers));
    return node;
}

Node documentNode(const Policy &policy, SecretRendering secrets)
{
    Node providers = Node::list(false);
    for (const auto &provider : policy.providers) {
        providers.items.push_back(providerNode(provider, secrets));
    }
    Node routes = Node::list(false);
    for (const auto &route : policy.routes) {
        routes.items.push_back(routeNode(route));
    }
    Node virtualKeys = Node::list(false);
    for (const auto &key : policy.virtualKeys) {
        virtualKeys.items.push_back(virtualKeyNode(key, secrets));
    }
    Node root = Node::map(false);
    Node requestLog = Node::map(false);
    requestLog.add("enabled", Node::boolean(policy.requestLog.enabled))
        .add("retention_days", Node::integer(policy.requestLog.retentionDays))
        .add("max_rows", Node::integer(policy.requestLog.maxRows));
    root.add("gateway", gatewayNode(policy.gateway, secrets))
        .add("request_log", std::move(requestLog))
        .add("routing", routingNode(policy.routing));
    if (std::optional<Node> admission = admissionNode(policy.admission)) {
        root.add("admission", std::move(*admission));
    }
    if (policy.governance != GovernanceSettings {}) {
        Node governance = Node::map(false);
        governance.add("journal_flush_ms", Node::integer(policy.governance.journalFlushMs))
            .add("default_output_tokens", Node::integer(policy.governance.defaultOutputTokens));
        root.add("governance", std::move(governance));
    }
    // Absent while it is the default (every built-in pattern, nothing custom).
    if (policy.redaction != RedactionSettings {}) {
        Node custom = Node::list(false);
        for (const NamedPattern &pattern : policy.redaction.custom) {
            Node entry = Node::map(true);
            entry.add("name", Node::string(pattern.name)).add("regex", Node::string(pattern.regex));
            custom.items.push_back(std::move(entry));
        }
        Node redaction = Node::map(false);
        redaction.add("patterns", stringList(policy.redaction.builtins)).add("custom", std::move(custom));
        root.add("redaction", std::move(redaction));
    }
    if (policy.tracing) {
        root.add("tracing", tracingNode(*policy.tracing, secrets));
    }
    if (!policy.prices.empty()) {
        root.add("prices", pricesNode(policy.prices));
    }
    root.add("providers", std::move(providers)).add("routes", std::move(routes));
    // Absent while there are none, so documents without MCP stay as they were.
    if (!policy.mcpServers.empty()) {
        Node servers = Node::list(false);
        for (const McpServer &server : policy.mcpServers) {
            servers.items.push_back(mcpServerNode(server, secrets));
        }
        root.add("mcp_servers", std::move(servers));
    }
    if (!policy.teams.empty()) {
        Node teams = Node::list(false);
        for (const auto &team : policy.teams) {
            teams.items.push_back(teamNode(team));
        }
        root.add("teams", std::move(teams));
    }
    root.add("virtual_keys", std::move(virtualKeys));
    return root;
}

// yaml-cpp quotes what would not read back as the same string ("", "null", "a: b",
// "#x", "***"); strings that other YAML readers would take as booleans, numbers or dates
// are quoted as well, so every consumer sees a string.
bool looksTyped(const QByteArray &text)
{
    static const QRegularExpression typed {
        QStringLiteral(R"(^(?:true|false|yes|no|on|off|y|n|null|~|[-+]?\.?[0-9].*|[-+]?\.inf|\.nan)$)"),
        QRegularExpression::CaseInsensitiveOption};
    return typed.match(QString::fromUtf8(text)).hasMatch();
}

void emitYaml(YAML::Emitter &out, const Node &node)
{
    switch (node.kind) {
    case Node::Kind::String:
        if (looksTyped(node.text)) {
            out << YAML::DoubleQuoted;
        }
        out << node.text.toStdString();
        break;
    case Node::Kind::Number:
        out << node.text.toStdString();
        break;
    case Node::Kind::List:
        // An empty block list would need its own line; "[]" reads better.
        if (node.compact || node.items.empty()) {
            out << YAML::Flow;
        }
        out << YAML::BeginSeq;
        for (const auto &item : node.items) {
            emitYaml(out, item);
        }
        out << YAML::EndSeq;
        break;
    case Node::Kind::Map:
        if (node.compact || node.fields.empty()) {
            out << YAML::Flow;
        }
        out << YAML::BeginMap;
        for (const auto &[key, value] : node.fields) {
            out << YAML::Key << key.toStdString() << YAML::Value;
            emitYaml(out, value);
        }
        out << YAML::EndMap;
        break;
    }
}

void appendIndent(QByteArray &out, int depth)
{
    out.append('\n');
    out.append(QByteArray(depth * 2, ' '));
}

void appendJson(QByteArray &out, const Node &node, int depth)
{
    switch (node.kind) {
    case Node::Kind::String:
        Json::appendString(out, node.text);
        return;
    case Node::Kind::Number:
        out.append(node.text);
        return;
    case Node::Kind::List:
    case Node::Kind::Map:
        break;
    }
    const bool isMap = node.kind == Node::Kind::Map;
    const std::size_t count = isMap ? node.fields.size() : node.items.size();
    out.append(isMap ? '{' : '[');
    for (std::size_t i = 0; i < count; ++i) {
        if (i > 0) {
            out.append(node.compact ? ", " : ",");
        }
        if (!node.compact) {
            appendIndent(out, depth + 1);
        }
        if (isMap) {
            Json::appendString(out, node.fields[i].key);
            out.append(": ");
            appendJson(out, node.fields[i].value, depth + 1);
        } else {
            appendJson(out, node.items[i], depth + 1);
        }
    }
    if (!node.compact && count > 0) {
        appendIndent(out, depth);
    }
    out.append(isMap ? '}' : ']');
}

} // namespace

QByteArray toYaml(const Policy &policy, SecretRendering secrets)
{
    YAML::Emitter out;
    out.SetIndent(2);
    emitYaml(out, documentNode(policy, secrets));
    QByteArray yaml {out.c_str(), static_cast<qsizetype>(out.size())};
    yaml.append('\n');
    return yaml;
}

QByteArray toJson(const Policy &policy, SecretRendering secrets)
{
    QByteArray json;
    appendJson(json, documentNode(policy, secrets), 0);
    json.append('\n');
    return json;
}

} // namespace Gateway::Config
