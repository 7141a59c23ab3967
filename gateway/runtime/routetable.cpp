#include "routetable.h"

#include "admissionregistry.h"
#include "backendmonitor.h"
#include "policyfactory.h"
#include "routingregistry.h"

#include "config/defaultprices.h"
#include "discovery/policyexpansion.h"
#include "config/safetyloader.h"
#include "governance/limitstore.h"

#include <algorithm>
#include <optional>
#include <QCryptographicHash>
#include <QUrl>

namespace Gateway::Runtime {

namespace {

QByteArray keyDigest(QByteArrayView key)
{
    return QCryptographicHash::hash(key, QCryptographicHash::Sha256);
}

ProviderRuntime compileProvider(const Config::Provider &provider)
{
    ProviderRuntime runtime;
    runtime.config = provider;
    runtime.format = Config::wireFormatOf(provider.type);
    for (const auto &key : provider.keys) {
        if (key.secret.isEmpty()) {
            continue;
        }
        switch (provider.type) {
        case Config::ProviderType::Anthropic:
            runtime.authHeaderLines.push_back("x-api-key: " + key.secret);
            break;
        case Config::ProviderType::AzureOpenAi:
            runtime.authHeaderLines.push_back("api-key: " + key.secret);
            break;
        default:
            runtime.authHeaderLines.push_back("Authorization: Bearer " + key.secret);
            break;
        }
    }
    for (const auto &[name, value] : provider.headers) {
        runtime.extraHeaderLines.push_back(name + ": " + value);
    }
    // Runtime copies drop the secrets: the header lines above are all that is needed.
    for (auto &key : runtime.config.keys) {
        key.secret.clear();
    }
    return runtime;
}

} // namespace

bool ProviderRuntime::supports(Endpoint endpoint) const
{
    if (format == Config::WireFormat::Anthropic) {
        return endpoint == Endpoint::Messages;
    }
    return endpoint != Endpoint::Messages;
}

bool ProviderRuntime::servesByTranslation(Endpoint endpoint) const
{
    if (!config.translate) {
        return false;
    }
    if (format == Config::WireFormat::Anthropic) {
        return endpoint == Endpoint::ChatCompletions;
    }
    return endpoint == Endpoint::Messages;
}

Endpoint ProviderRuntime::upstreamEndpoint(Endpoint endpoint) const
{
    if (!servesByTranslation(endpoint)) {
        return endpoint;
    }
    return format == Config::WireFormat::Anthropic ? Endpoint::Messages : Endpoint::ChatCompletions;
}

QByteArray ProviderRuntime::urlFor(Endpoint endpoint, const QByteArray &upstreamModel) const
{
    const QByteArray &base = config.baseUrl;
    if (config.type == Config::ProviderType::AzureOpenAi) {
        // Azure addresses a deployment by path and versions the API by query.
        QByteArray operation;
        switch (endpoint) {
        case Endpoint::ChatCompletions: operation = "/chat/completions"; break;
        case Endpoint::Completions: operation = "/completions"; break;
        case Endpoint::Embeddings: operation = "/embeddings"; break;
        case Endpoint::Messages: return {};
        }
        return base + "/openai/deployments/" + QUrl::toPercentEncoding(QString::fromUtf8(upstreamModel)) + operation +
               "?api-version=" + config.apiVersion;
    }
    switch (endpoint) {
    case Endpoint::ChatCompletions: return base + "/chat/completions";
    case Endpoint::Completions: return base + "/completions";
    case Endpoint::Embeddings: return base + "/embeddings";
    case Endpoint::Messages: return base + "/messages";
    }
    return {};
}

namespace {

unsigned retryBits(const QStringList &classes)
{
    unsigned bits = 0;
    for (const QString &name : classes) {
        if (name == u"connect_error") {
            bits |= RETRY_CONNECT_ERROR;
        } else if (name == u"timeout") {
            bits |= RETRY_TIMEOUT;
        } else if (name == u"rate_limited") {
            bits |= RETRY_RATE_LIMITED;
        } else if (name == u"server_error") {
            bits |= RETRY_SERVER_ERROR;
        } else if (name == u"context_length") {
            bits |= RETRY_CONTEXT_LENGTH;
        } else if (name == u"content_filter") {
            bits |= RETRY_CONTENT_FILTER;
        }
    }
    return bits;
}

Routing::TrafficSplit::Sticky stickyOf(const QString &name)
{
    if (name == u"user") {
        return Routing::TrafficSplit::Sticky::User;
    }
    if (name == u"virtual_key") {
        return Routing::TrafficSplit::Sticky::VirtualKey;
    }
    if (name == u"none") {
        return Routing::TrafficSplit::Sticky::None;
    }
    return Routing::TrafficSplit::Sticky::Session;
}

// Indices of the route's targets carrying these "provider/model" labels (every target
// with a label, should a route list one twice).
std::vector<int> targetIndices(const Config::Route &route, const QStringList &labels)
{
    std::vector<int> indices;
    for (std::size_t i = 0; i < route.targets.size(); ++i) {
        const auto &target = route.targets[i];
        if (labels.contains(target.provider + u'/' + QString::fromUtf8(target.model))) {
            indices.push_back(static_cast<int>(i));
        }
    }
    return indices;
}

Routing::RuleSet::Conditions conditionsOf(const Config::RuleConditions &when)
{
    Routing::RuleSet::Conditions conditions;
    conditions.virtualKeys = when.virtualKeys;
    conditions.headers = when.headers;
    conditions.minPromptTokens = when.minPromptTokens;
    conditions.maxPromptTokens = when.maxPromptTokens;
    conditions.hasImages = when.hasImages;
    conditions.hasTools = when.hasTools;
    conditions.messagePattern = when.lastUserMessageMatches;
    conditions.messageKeywords = when.lastUserMessageContains;
    conditions.minMaxTokens = when.minMaxTokens;
    conditions.maxMaxTokens = when.maxMaxTokens;
    return conditions;
}

// The distinct servers of a route and their summed caps, when it caps every target
// (the loader guarantees all or none); nothing when it caps none.
// The key of a discovered server's group is its provider's ("vllm/m", not
// "vllm@10.0.0.5:8000/m"): the queue, its waiters and what it learned survive servers
// coming and going, and only its slot count follows them.
std::optional<std::pair<std::vector<QByteArray>, int>> cappedGroup(const Config::Policy &policy, const Config::Route &route)
{
    std::vector<QByteArray> labels;
    std::vector<QByteArray> keyLabels;
    int slotCount = 0;
    for (const auto &target : route.targets) {
        if (target.pool == Routing::TargetPool::Prefill) {
            continue; // only decode-capable targets are capped; a request's slot covers both steps
        }
        if (target.maxConcurrency <= 0) {
            return std::nullopt;
        }
        const QByteArray label = target.provider.toUtf8() + '/' + target.model;
        // A route naming a server twice still has its slots once.
        if (std::find(labels.begin(), labels.end(), label) == labels.end()) {
            labels.push_back(label);
            slotCount += target.maxConcurrency;
            const Config::Provider *provider = policy.findProvider(target.provider);
            keyLabels.push_back(provider && provider->discovery
                                    ? Discovery::discoveredProviderOf(target.provider).toUtf8() + '/' + target.model
                                    : label);
        }
    }
    if (labels.empty()) {
        return std::nullopt;
    }
    return std::pair {std::move(keyLabels), slotCount};
}

} // namespace

void RouteTable::compileConditionalRouting(const Config::Route &route, RouteRuntime &runtime,
                                           Metrics::MetricsRegistry &metrics)
{
    for (const auto &rule : route.rules) {
        Routing::RuleSet::Rule compiled;
        compiled.name = rule.name.toUtf8();
        compiled.when = conditionsOf(rule.when);
        if (!rule.action.route.isEmpty()) {
            compiled.action.route = m_routeIndex.value(rule.action.route, -1);
        } else {
            compiled.action.targets = targetIndices(route, rule.action.targets);
        }
        // The loader validated the rule, so this only fails for a policy built by hand.
        if (const auto error = runtime.rules.add(std::move(compiled))) {
            qWarning("route %s: %s; rule ignored", route.model.constData(), qPrintable(*error));
            continue;
        }
        runtime.ruleMatches.push_back(&metrics.ruleMatches(route.model, runtime.rules.rule(runtime.rules.size() - 1).name));
    }
    m_readsLastUserMessage = m_readsLastUserMessage || runtime.rules.readsLastUserMessage();
    if (route.split.arms.empty()) {
        return;
    }
    std::vector<double> shares;
    for (const auto &arm : route.split.arms) {
        SplitArmRuntime compiled;
        compiled.name = arm.name.toUtf8();
        if (!arm.action.route.isEmpty()) {
            compiled.route = m_routeIndex.value(arm.action.route, -1);
        } else {
            compiled.targets = targetIndices(route, arm.action.targets);
        }
        compiled.stats = &metrics.arm(route.model, compiled.name);
        runtime.arms.push_back(std::move(compiled));
        shares.push_back(arm.share);
    }
    runtime.split = std::make_unique<Routing::TrafficSplit>(shares, stickyOf(route.split.sticky), route.model);
}

std::shared_ptr<const RouteTable> RouteTable::build(const Config::Policy &policy, Metrics::MetricsRegistry &metrics,
                                                    RoutingRegistry &routing, const Gpu::MetricsScraper *engines,
                                                    Governance::LimitStore *limits, const QSet<QString> &awaitingServers)
{
    const Governance::PriceTable prices = Config::priceTableFor(policy);
    std::shared_ptr<RouteTable> table {new RouteTable};
    table->m_routing = &routing;
    table->m_engines = engines;
    for (const QString &source : policy.routing.sessionKeySources) {
        table->m_sessionKeySources.push_back(source.toLatin1());
    }
    table->m_retryBudget = &routing.retryBudget(policy.routing);
    table->m_policy = policy;
    table->m_redactor = std::make_shared<const Safety::Redactor>(Config::resolveRedaction(policy.redaction));
    for (auto &provider : table->m_policy.providers) {
        for (auto &key : provider.keys) {
            key.secret.clear();
        }
    }
    for (auto &key : table->m_policy.virtualKeys) {
        key.key.clear();
    }
    if (!policy.gateway.adminToken.isEmpty()) {
        table->m_adminTokenDigest = keyDigest(policy.gateway.adminToken);
    }
    table->m_policy.gateway.adminToken.clear();
    QHash<QString, int> providerIndex;
    for (const auto &provider : policy.providers) {
        providerIndex.insert(provider.name, static_cast<int>(table->m_providers.size()));
        table->m_providers.push_back(compileProvider(provider));
        table->m_providers.back().awaitingServers = awaitingServers.contains(provider.name);
        if (!table->m_providers.back().authHeaderLines.empty()) {
            table->m_providers.back().keys = &routing.keyPool(provider, policy.routing.health);
        }
    }
    QHash<QByteArray, int> backendIndex;
    std::vector<QByteArray> admissionGroups;
    const qint64 admissionNowMs = monotonicNowMs();
    if (std::any_of(policy.routes.begin(), policy.routes.end(),
                    [](const Config::Route &route) { return route.strategy == u"prefix_aware"; })) {
        table->m_prefixSource = std::make_unique<TablePrefixSource>(routing.prefixIndex());
    }
    for (const auto &route : policy.routes) {
        auto runtime = std::make_unique<RouteRuntime>();
        runtime->index = static_cast<int>(table->m_routes.size());
        runtime->model = route.model;
        runtime->strategy = route.strategy;
        runtime->maxAttempts = route.retry.attempts;
        runtime->retryOn = retryBits(route.retry.on);
        runtime->stats = &metrics.route(route.model);
        for (const auto &target : route.targets) {
            const QByteArray label = target.provider.toUtf8() + '/' + target.model;
            auto it = backendIndex.find(label);
            if (it == backendIndex.end()) {
                BackendRuntime backend;
                backend.id = static_cast<int>(table->m_backends.size());
                backend.providerIndex = providerIndex.value(target.provider);
                backend.upstreamModel = target.model;
                backend.label = label;
                backend.stats = &metrics.backend(label);
                const Config::Provider &provider = policy.providers[static_cast<std::size_t>(backend.providerIndex)];
                Config::HealthPolicy health = policy.routing.health;
                if (provider.discovery) {
                    // A discovered server's ramp, on joining and on recovering alike.
                    health.slowStartMs = static_cast<int>(provider.discovery->slowStartMs);
                }
                backend.monitor = &routing.backend(label, health);
                backend.stableId = routing.stableId(label);
                if (!policy.providers[static_cast<std::size_t>(backend.providerIndex)].metricsUrl.isEmpty()) {
                    backend.engineId = backend.stableId;
                }
                it = backendIndex.insert(label, backend.id);
                table->m_backends.push_back(std::move(backend));
                if (table->m_prefixSource) {
                    table->m_prefixSource->addBackend(table->m_backends.back().stableId);
                }
            }
            BackendRuntime &backend = table->m_backends[static_cast<std::size_t>(*it)];
            if (backend.inputCostPerMTok == 0 && backend.outputCostPerMTok == 0) {
                backend.inputCostPerMTok = target.inputCostPerMTok;
                backend.outputCostPerMTok = target.outputCostPerMTok;
                if (target.inputCostPerMTok > 0 || target.outputCostPerMTok > 0) {
                    backend.price = {target.inputCostPerMTok, target.outputCostPerMTok, -1};
                } else if (const auto listed = prices.find(backend.upstreamModel)) {
                    backend.price = *listed;
                }
            }
            if (backend.contextWindow == 0) {
                backend.contextWindow = target.contextWindow;
            }
            // Validation made every target of one server state the same region.
            backend.regionBit = table->m_regions.bitOf(target.region);
            runtime->targets.push_back({*it, target.weight});
            runtime->pools.push_back(target.pool);
            if (target.pool == Routing::TargetPool::Prefill) {
                runtime->pdStats = &metrics.prefillDecode(route.model);
                runtime->prefillFailures.emplace_back(backend.id, &metrics.prefillFailures(route.model, backend.label));
            }
        }
        runtime->pd = route.pd;
        runtime->regions = table->m_regions.setOf(route.regions);
        if (route.firewall.isEnabled()) {
            auto firewall = std::make_unique<RouteFirewall>();
            firewall->action = route.firewall.action;
            firewall->patterns = std::make_unique<const Safety::Redactor>(Config::resolveFirewall(policy, route.firewall));
            const QByteArray action = route.firewall.action == Config::FirewallAction::Block ? QByteArrayLiteral("blocked")
                                                                                              : QByteArrayLiteral("redacted");
            for (int rule = 0; rule < firewall->patterns->ruleCount(); ++rule) {
                firewall->counters.push_back(&metrics.firewallActions(route.model, firewall->patterns->ruleName(rule), action));
            }
            runtime->firewall = std::move(firewall);
        }
        runtime->policy = makePolicy(route, runtime->targets, table->m_prefixSource.get());
        for (const auto &target : runtime->targets) {
            const Governance::Price &price = table->m_backends[static_cast<std::size_t>(target.backendId)].price;
            runtime->estimatePrice.inputPerMTok = std::max(runtime->estimatePrice.inputPerMTok, price.inputPerMTok);
            runtime->estimatePrice.outputPerMTok = std::max(runtime->estimatePrice.outputPerMTok, price.outputPerMTok);
        }
        runtime->outputTokens = std::make_unique<Governance::LearnedAverage>(policy.governance.defaultOutputTokens);
        if (auto group = cappedGroup(policy, route)) {
            runtime->admissionGroup = AdmissionRegistry::groupKey(std::move(group->first));
            runtime->admission = &routing.admission().queue(
                runtime->admissionGroup, AdmissionRegistry::settingsFor(policy.admission, group->second), admissionNowMs);
            admissionGroups.push_back(runtime->admissionGroup);
        }
        table->m_routeIndex.insert(route.model, runtime->index);
        table->m_routes.push_back(std::move(runtime));
    }
    for (std::size_t r = 0; r < policy.routes.size(); ++r) {
        for (const auto &fallback : policy.routes[r].fallbacks) {
            table->m_routes[r]->fallbackRoutes.push_back(table->m_routeIndex.value(fallback.toUtf8()));
        }
        for (const auto &[failureClass, routes] : policy.routes[r].retry.fallbacks) {
            std::vector<int> indices;
            for (const auto &name : routes) {
                indices.push_back(table->m_routeIndex.value(name.toUtf8()));
            }
            table->m_routes[r]->classFallbacks.emplace_back(retryBits({failureClass}), std::move(indices));
        }
        // After every route has its index: rules and arms may redirect to later routes.
        table->compileConditionalRouting(policy.routes[r], *table->m_routes[r], metrics);
    }
    routing.admission().retainGroups(admissionGroups, admissionNowMs);
    for (const auto &key : policy.virtualKeys) {
        VirtualKeyRuntime runtime;
        runtime.name = key.name;
        runtime.priority = key.priority;
        // A key may use the routes it lists that its team also allows.
        const Config::Team *team = key.team.isEmpty() ? nullptr : policy.findTeam(key.team);
        const QStringList teamRoutes = team ? team->routes : QStringList {};
        runtime.allRoutes = key.routes.isEmpty() && teamRoutes.isEmpty();
        for (const auto &route : key.routes) {
            if (teamRoutes.isEmpty() || teamRoutes.contains(route)) {
                runtime.routes.insert(route.toUtf8());
            }
        }
        if (key.routes.isEmpty()) {
            for (const auto &route : teamRoutes) {
                runtime.routes.insert(route.toUtf8());
            }
        }
        // The team's class applies to keys that keep the default one.
        if (team && team->priority && key.priority == Admission::DEFAULT_PRIORITY_CLASS) {
            runtime.priority = *team->priority;
        }
        runtime.subject.key = key.name;
        runtime.subject.keyLimits = {key.limits, key.budgets};
        if (team) {
            runtime.subject.team = team->name;
            runtime.subject.teamLimits = {team->limits, team->budgets};
        }
        if (limits) {
            limits->bind(runtime.subject);
        }
        runtime.regions = table->m_regions.setOf(key.regions);
        if (team) {
            runtime.regions = runtime.regions.intersected(table->m_regions.setOf(team->regions));
        }
        const QByteArray digest = key.key.isEmpty() ? QByteArray::fromHex(key.keySha256) : keyDigest(key.key);
        table->m_virtualKeys.insert(digest, runtime);
    }
    table->m_snapshots = std::make_unique<SnapshotSource>(*table);
    return table;
}

const RouteRuntime *RouteTable::findRoute(const QByteArray &model) const
{
    const auto it = m_routeIndex.constFind(model);
    return it == m_routeIndex.cend() ? nullptr : m_routes[static_cast<std::size_t>(*it)].get();
}

const VirtualKeyRuntime *RouteTable::findVirtualKey(QByteArrayView presentedKey) const
{
    const auto it = m_virtualKeys.constFind(keyDigest(presentedKey));
    return it == m_virtualKeys.cend() ? nullptr : &*it;
}

const VirtualKeyRuntime *RouteTable::findVirtualKeyByName(const QString &name) const
{
    for (const auto &key : m_virtualKeys) {
        if (key.name == name) {
            return &key;
        }
    }
    return nullptr;
}

void RouteTable::recordPrefixPlacement(int backendId, std::span<const std::uint64_t> blocks) const
{
    if (m_prefixSource && !blocks.empty()) {
        m_prefixSource->record(backendId, blocks);
    }
}

} // namespace Gateway::Runtime
