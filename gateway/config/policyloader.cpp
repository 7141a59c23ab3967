#include "policyloader.h"

#include "admissionloader.h"
#include "cacheloader.h"
#include "documentreader.h"
#include "pdloader.h"
#include "residencyloader.h"
#include "safetyloader.h"
#include "governanceloader.h"
#include "tracingloader.h"
#include "mcploader.h"
#include "routingloader.h"
#include "ruleloader.h"

#include "discovery/discoveryloader.h"

#include "redaction.h"

#include <QCryptographicHash>
#include <QFile>
#include <QHostAddress>
#include <QRegularExpression>
#include <QSet>
#include <QUrl>

#include "yamlerror.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <functional>
#include <initializer_list>

namespace Gateway::Config {

namespace {

bool isHttpUrl(const QString &text)
{
    const QUrl url {text, QUrl::StrictMode};
    return url.isValid() && (url.scheme() == u"http" || url.scheme() == u"https") && !url.host().isEmpty();
}

QByteArray withoutTrailingSlash(const QString &url)
{
    QByteArray bytes = url.toUtf8();
    while (bytes.endsWith('/')) {
        bytes.chop(1);
    }
    return bytes;
}

void parseListen(const DocumentReader &reader, const YAML::Node &node, const QString &field, GatewaySettings &settings)
{
    const QString text = reader.string(node, field);
    const qsizetype colon = text.lastIndexOf(u':');
    if (colon <= 0) {
        reader.fail(node, field, QStringLiteral("expected HOST:PORT, e.g. 127.0.0.1:8420"));
    }
    QString host = text.left(colon);
    if (host.startsWith(u'[') && host.endsWith(u']')) {
        host = host.mid(1, host.size() - 2);
    }
    bool ok = false;
    const uint port = text.mid(colon + 1).toUInt(&ok);
    if (!ok || port > 65535) {
        reader.fail(node, field, QStringLiteral("port must be a number between 0 and 65535"));
    }
    if (host != u"localhost" && QHostAddress(host).isNull()) {
        reader.fail(node, field, QStringLiteral("host must be an IP address or localhost"));
    }
    settings.listenHost = host;
    settings.listenPort = static_cast<quint16>(port);
}

GatewaySettings parseGateway(const DocumentReader &reader, const YAML::Node &node)
{
    const QString field = QStringLiteral("gateway");
    GatewaySettings settings;
    reader.requireMap(node, field);
    reader.checkKeys(node, field,
                     {"listen", "threads", "admin_token", "max_body_bytes", "header_timeout_ms", "body_timeout_ms",
                      "idle_timeout_ms", "max_connections", "drain_timeout_ms", "admin_allow_remote", "tls_cert_file",
                      "tls_key_file"});
    if (node["listen"]) {
        parseListen(reader, node["listen"], QStringLiteral("gateway.listen"), settings);
    }
    if (node["threads"]) {
        settings.threads = static_cast<int>(reader.integer(node["threads"], QStringLiteral("gateway.threads"), 0, 256));
    }
    if (node["admin_token"]) {
        settings.adminToken = reader.string(node["admin_token"], QStringLiteral("gateway.admin_token")).toUtf8();
    }
    if (node["max_body_bytes"]) {
        settings.maxBodyBytes = reader.integer(node["max_body_bytes"], QStringLiteral("gateway.max_body_bytes"), 1024,
                                               1024LL * 1024 * 1024);
    }
    const auto timeout = [&](const char *key, int &out) {
        if (node[key]) {
            out = static_cast<int>(reader.integer(node[key], QStringLiteral("gateway.") + QLatin1String(key), 1, 3600000));
        }
    };
    timeout("header_timeout_ms", settings.headerTimeoutMs);
    timeout("body_timeout_ms", settings.bodyTimeoutMs);
    timeout("idle_timeout_ms", settings.idleTimeoutMs);
    timeout("drain_timeout_ms", settings.drainTimeoutMs);
    if (node["max_connections"]) {
        settings.maxConnections =
            static_cast<int>(reader.integer(node["max_connections"], QStringLiteral("gateway.max_connections"), 1, 1000000));
    }
    if (node["admin_allow_remote"]) {
        settings.adminAllowRemote = reader.boolean(node["admin_allow_remote"], QStringLiteral("gateway.admin_allow_remote"));
    }
    if (node["tls_cert_file"]) {
        settings.tlsCertFile = reader.string(node["tls_cert_file"], QStringLiteral("gateway.tls_cert_file"));
    }
    if (node["tls_key_file"]) {
        settings.tlsKeyFile = reader.string(node["tls_key_file"], QStringLiteral("gateway.tls_key_file"));
    }
    // Half a TLS configuration would silently serve plaintext: refuse it.
    if (settings.tlsCertFile.isEmpty() != settings.tlsKeyFile.isEmpty()) {
        reader.fail(node, settings.tlsCertFile.isEmpty() ? QStringLiteral("gateway.tls_cert_file") : QStringLiteral("gateway.tls_key_file"),
                    QStringLiteral("tls_cert_file and tls_key_file must be set together"));
    }
    return settings;
}

Timeouts parseTimeouts(const DocumentReader &reader, const YAML::Node &node, const QString &field)
{
    Timeouts timeouts;
    reader.requireMap(node, field);
    reader.checkKeys(node, field, {"connect_ms", "first_token_ms", "idle_ms"});
    const auto read = [&](const char *key, int &out) {
        if (node[key]) {
            out = static_cast<int>(reader.integer(node[key], DocumentReader::join(field, QLatin1String(key)), 1, 3600000));
        }
    };
    read("connect_ms", timeouts.connectMs);
    read("first_token_ms", timeouts.firstTokenMs);
    read("idle_ms", timeouts.idleMs);
    return timeouts;
}

Provider parseProvider(const DocumentReader &reader, const YAML::Node &node, const QString &field)
{
    Provider provider;
    reader.requireMap(node, field);
    reader.checkKeys(node, field,
                     {"name", "type", "base_url", "metrics_url", "api_version", "translate", "http2_prior_knowledge", "keys",
                      "headers", "timeouts", "discovery"});
    provider.name = reader.requiredString(node, "name", field);
    const QString typeName = reader.requiredString(node, "type", field);
    if (!parseProviderType(typeName, provider.type)) {
        reader.fail(node["type"], field + QStringLiteral(".type"),
                    QStringLiteral("unknown provider type '%1' (allowed: openai, anthropic, azure-openai, "
                                   "openai-compatible, vllm, sglang, tgi, llamacpp)")
                        .arg(typeName));
    }
    const QString baseUrl = reader.requiredString(node, "base_url", field);
    if (!isHttpUrl(baseUrl)) {
        reader.fail(node["base_url"], field + QStringLiteral(".base_url"),
                    QStringLiteral("'%1' is not an http:// or https:// URL").arg(baseUrl));
    }
    provider.baseUrl = withoutTrailingSlash(baseUrl);
    if (node["metrics_url"]) {
        const QString metricsUrl = reader.string(node["metrics_url"], field + QStringLiteral(".metrics_url"));
        if (!metricsUrl.isEmpty() && !isHttpUrl(metricsUrl)) {
            reader.fail(node["metrics_url"], field + QStringLiteral(".metrics_url"),
                        QStringLiteral("'%1' is not an http:// or https:// URL").arg(metricsUrl));
        }
        provider.metricsUrl = metricsUrl.toUtf8();
    }
    if (node["api_version"]) {
        provider.apiVersion = reader.string(node["api_version"], field + QStringLiteral(".api_version")).toUtf8();
    } else if (provider.type == ProviderType::AzureOpenAi) {
        provider.apiVersion = "2024-10-21";
    }
    if (node["translate"]) {
        provider.translate = reader.boolean(node["translate"], field + QStringLiteral(".translate"));
    }
    if (node["http2_prior_knowledge"]) {
        const QString h2Field = field + QStringLiteral(".http2_prior_knowledge");
        provider.http2PriorKnowledge = reader.boolean(node["http2_prior_knowledge"], h2Field);
        // Over TLS, HTTP/2 is negotiated (ALPN) already; accepting the key there would
        // suggest it changes something.
        if (provider.http2PriorKnowledge && !baseUrl.startsWith(QLatin1String("http://"), Qt::CaseInsensitive)) {
            reader.fail(node["http2_prior_knowledge"], h2Field,
                        QStringLiteral("applies to http:// base URLs only (https:// negotiates HTTP/2 through TLS)"));
        }
    }
    if (node["keys"]) {
        const YAML::Node keys = node["keys"];
        const QString keysField = field + QStringLiteral(".keys");
        reader.requireSequence(keys, keysField);
        QSet<QString> names;
        for (std::size_t i = 0; i < keys.size(); ++i) {
            const QString keyField = DocumentReader::indexed(keysField, i);
            const YAML::Node keyNode = keys[i];
            reader.requireMap(keyNode, keyField);
            reader.checkKeys(keyNode, keyField, {"name", "secret", "rpm", "tpm"});
            ProviderKey key;
            key.name = keyNode["name"] ? reader.string(keyNode["name"], keyField + QStringLiteral(".name"))
                                       : QStringLiteral("key-%1").arg(i + 1);
            if (names.contains(key.name)) {
                reader.fail(keyNode, keyField + QStringLiteral(".name"),
                            QStringLiteral("duplicate key name '%1'").arg(key.name));
            }
            names.insert(key.name);
            if (!keyNode["secret"]) {
                reader.fail(keyNode, keyField + QStringLiteral(".secret"), QStringLiteral("required field is missing"));
            }
            key.secret = reader.string(keyNode["secret"], keyField + QStringLiteral(".secret")).toUtf8();
            if (keyNode["rpm"]) {
                key.rpm = static_cast<int>(reader.integer(keyNode["rpm"], keyField + QStringLiteral(".rpm"), 0, 100000000));
            }
            if (keyNode["tpm"]) {
                key.tpm = static_cast<int>(reader.integer(keyNode["tpm"], keyField + QStringLiteral(".tpm"), 0, 2000000000));
            }
            provider.keys.push_back(std::move(key));
        }
    }
    if (node["headers"]) {
        provider.headers = reader.headerMap(node["headers"], field + QStringLiteral(".headers"));
    }
    if (node["timeouts"]) {
        provider.timeouts = parseTimeouts(reader, node["timeouts"], field + QStringLiteral(".timeouts"));
    }
    if (node["discovery"]) {
        provider.discovery =
            ::Gateway::Discovery::parseDiscovery(reader, node["discovery"], field + QStringLiteral(".discovery"), baseUrl);
        if (provider.name.contains(u'@')) {
            reader.fail(node["name"], field + QStringLiteral(".name"),
                        QStringLiteral("a provider with discovery may not have '@' in its name (its servers are named "
                                       "'%1@ADDRESS:PORT')")
                            .arg(provider.name.section(u'@', 0, 0)));
        }
    }
    return provider;
}

Route parseRoute(const DocumentReader &reader, const YAML::Node &node, const QString &field)
{
    Route route;
    reader.requireMap(node, field);
    reader.checkKeys(node, field,
                     {"model", "strategy", "strategy_options", "retry", "hedge", "stream_resumption", "rules", "split",
                      "targets", "fallbacks", "pd", "regions", "firewall", "cache"});
    route.model = reader.requiredString(node, "model", field).toUtf8();
    parseRouteStrategy(reader, node, field, route);
    const QString targetsField = field + QStringLiteral(".targets");
    if (!node["targets"]) {
        reader.fail(node, targetsField, QStringLiteral("required field is missing"));
    }
    const YAML::Node targets = node["targets"];
    reader.requireSequence(targets, targetsField);
    if (targets.size() == 0) {
        reader.fail(targets, targetsField, QStringLiteral("a route needs at least one target"));
    }
    for (std::size_t i = 0; i < targets.size(); ++i) {
        const QString targetField = DocumentReader::indexed(targetsField, i);
        const YAML::Node targetNode = targets[i];
        reader.requireMap(targetNode, targetField);
        reader.checkKeys(targetNode, targetField,
                         {"provider", "model", "weight", "input_cost_per_mtok", "output_cost_per_mtok", "context_window",
                          "max_concurrency", "pool", "region"});
        Target target;
        target.provider = reader.requiredString(targetNode, "provider", targetField);
        target.model = reader.requiredString(targetNode, "model", targetField).toUtf8();
        if (targetNode["weight"]) {
            target.weight = reader.number(targetNode["weight"], targetField + QStringLiteral(".weight"));
            if (target.weight <= 0) {
                reader.fail(targetNode["weight"], targetField + QStringLiteral(".weight"),
                            QStringLiteral("must be greater than 0"));
            }
        }
        parseTargetPricing(reader, targetNode, targetField, target);
        parseTargetConcurrency(reader, targetNode, targetField, target);
        parseTargetPool(reader, targetNode, targetField, target);
        parseTargetRegion(reader, targetNode, targetField, target);
        route.targets.push_back(std::move(target));
    }
    if (node["fallbacks"]) {
        route.fallbacks = reader.stringList(node["fallbacks"], field + QStringLiteral(".fallbacks"));
    }
    parseRouteRules(reader, node, field, route);
    parsePrefillDecode(reader, node, field, route);
    parseRegionList(reader, node, field, route.regions);
    parseFirewall(reader, node, field, route);
    parseRouteCache(reader, node, field, route);
    return route;
}

VirtualKey parseVirtualKey(const DocumentReader &reader, const YAML::Node &node, const QString &field)
{
    VirtualKey key;
    reader.requireMap(node, field);
    reader.checkKeys(node, field,
                     {"name", "key", "key_sha256", "routes", "priority", "team", "limits", "budgets", "regions",
                      "mcp_servers", "mcp_tools"});
    key.name = reader.requiredString(node, "name", field);
    // A stored key is known only by its digest, so an exported document carries
    // key_sha256 instead of key; exactly one of them identifies the key.
    if (node["key_sha256"]) {
        const QString digestField = field + QStringLiteral(".key_sha256");
        if (node["key"]) {
            reader.fail(node["key_sha256"], digestField, QStringLiteral("give either key or key_sha256, not both"));
        }
        static const QRegularExpression hex {QStringLiteral("^[0-9A-Fa-f]{64}$")};
        const QString digest = reader.string(node["key_sha256"], digestField);
        if (!hex.match(digest).hasMatch()) {
            reader.fail(node["key_sha256"], digestField,
                        QStringLiteral("must be 64 hexadecimal characters (a SHA-256 digest)"));
        }
        key.keySha256 = digest.toLower().toLatin1();
    } else {
        key.key = reader.requiredString(node, "key", field).toUtf8();
        // "***" is the placeholder of a redacted document, resolved against the stored key.
        if (key.key.size() < 8 && key.key != REDACTED_SECRET) {
            reader.fail(node["key"], field + QStringLiteral(".key"), QStringLiteral("must be at least 8 characters"));
        }
    }
    if (node["routes"]) {
        key.routes = reader.stringList(node["routes"], field + QStringLiteral(".routes"));
    }
    parseKeyPriority(reader, node, field, key);
    parseKeyGovernance(reader, node, field, key);
    parseRegionList(reader, node, field, key.regions);
    parseMcpAccess(reader, node, field, key.mcp);
    return key;
}

// Cross-references: names unique, targets name known providers, fallbacks name known
// routes and form no cycle.
void validateReferences(const DocumentReader &reader, const YAML::Node &root, const Policy &policy)
{
    QSet<QString> providerNames;
    for (std::size_t i = 0; i < policy.providers.size(); ++i) {
        const auto &provider = policy.providers[i];
        if (providerNames.contains(provider.name)) {
            reader.fail(root["providers"][i]["name"], DocumentReader::indexed(QStringLiteral("providers"), i) + QStringLiteral(".name"),
                        QStringLiteral("duplicate provider name '%1'").arg(provider.name));
        }
        providerNames.insert(provider.name);
    }
    QSet<QByteArray> routeNames;
    for (std::size_t r = 0; r < policy.routes.size(); ++r) {
        const auto &route = policy.routes[r];
        const YAML::Node routeNode = root["routes"][r];
        const QString routeField = DocumentReader::indexed(QStringLiteral("routes"), r);
        if (routeNames.contains(route.model)) {
            reader.fail(routeNode["model"], routeField + QStringLiteral(".model"),
                        QStringLiteral("duplicate route '%1'").arg(QString::fromUtf8(route.model)));
        }
        routeNames.insert(route.model);
        for (std::size_t t = 0; t < route.targets.size(); ++t) {
            if (!providerNames.contains(route.targets[t].provider)) {
                reader.fail(routeNode["targets"][t]["provider"],
                            DocumentReader::indexed(routeField + QStringLiteral(".targets"), t) + QStringLiteral(".provider"),
                            QStringLiteral("unknown provider '%1'").arg(route.targets[t].provider));
            }
        }
    }
    for (std::size_t r = 0; r < policy.routes.size(); ++r) {
        const auto &route = policy.routes[r];
        for (const auto &[failureClass, routes] : route.retry.fallbacks) {
            const YAML::Node listNode = root["routes"][r]["retry"]["fallbacks"][failureClass.toStdString()];
            for (qsizetype f = 0; f < routes.size(); ++f) {
                const QString field = DocumentReader::indexed(DocumentReader::indexed(QStringLiteral("routes"), r) +
                                                                  QStringLiteral(".retry.fallbacks.") + failureClass,
                                                              static_cast<std::size_t>(f));
                if (!routeNames.contains(routes[f].toUtf8())) {
                    reader.fail(listNode[static_cast<std::size_t>(f)], field, QStringLiteral("unknown route '%1'").arg(routes[f]));
                }
                if (routes[f].toUtf8() == route.model) {
                    reader.fail(listNode[static_cast<std::size_t>(f)], field, QStringLiteral("a route cannot fall back to itself"));
                }
            }
        }
        for (qsizetype f = 0; f < route.fallbacks.size(); ++f) {
            const QString &fallback = route.fallbacks[f];
            const YAML::Node fallbackNode = root["routes"][r]["fallbacks"][f];
            const QString field =
                DocumentReader::indexed(DocumentReader::indexed(QStringLiteral("routes"), r) + QStringLiteral(".fallbacks"),
                                        static_cast<std::size_t>(f));
            if (!routeNames.contains(fallback.toUtf8())) {
                reader.fail(fallbackNode, field, QStringLiteral("unknown route '%1'").arg(fallback));
            }
            if (fallback.toUtf8() == route.model) {
                reader.fail(fallbackNode, field, QStringLiteral("a route cannot fall back to itself"));
            }
        }
    }
    // Cycle check: depth-first over the fallback graph.
    std::function<bool(const QByteArray &, QSet<QByteArray> &)> reaches;
    reaches = [&](const QByteArray &from, QSet<QByteArray> &path) -> bool {
        if (path.contains(from)) {
            return true;
        }
        path.insert(from);
        const Route *route = policy.findRoute(from);
        for (const auto &next : route->fallbacks) {
            if (reaches(next.toUtf8(), path)) {
                return true;
            }
        }
        path.remove(from);
        return false;
    };
    for (std::size_t r = 0; r < policy.routes.size(); ++r) {
        QSet<QByteArray> path;
        if (reaches(policy.routes[r].model, path)) {
            reader.fail(root["routes"][r]["fallbacks"],
                        DocumentReader::indexed(QStringLiteral("routes"), r) + QStringLiteral(".fallbacks"),
                        QStringLiteral("fallbacks form a cycle through route '%1'")
                            .arg(QString::fromUtf8(policy.routes[r].model)));
        }
    }
    QSet<QString> keyNames;
    QSet<QByteArray> keyDigests; // compared as digests: plaintext and key_sha256 entries may mix
    for (std::size_t k = 0; k < policy.virtualKeys.size(); ++k) {
        const auto &key = policy.virtualKeys[k];
        const YAML::Node keyNode = root["virtual_keys"][k];
        const QString keyField = DocumentReader::indexed(QStringLiteral("virtual_keys"), k);
        if (keyNames.contains(key.name)) {
            reader.fail(keyNode["name"], keyField + QStringLiteral(".name"),
                        QStringLiteral("duplicate virtual key name '%1'").arg(key.name));
        }
        keyNames.insert(key.name);
        if (key.key != REDACTED_SECRET) {
            const bool plaintext = !key.key.isEmpty();
            const QByteArray digest =
                plaintext ? QCryptographicHash::hash(key.key, QCryptographicHash::Sha256).toHex() : key.keySha256;
            if (keyDigests.contains(digest)) {
                const char *valueKey = plaintext ? "key" : "key_sha256";
                reader.fail(keyNode[valueKey], keyField + u'.' + QLatin1String(valueKey),
                            QStringLiteral("the same key value is used twice"));
            }
            keyDigests.insert(digest);
        }
        for (qsizetype i = 0; i < key.routes.size(); ++i) {
            if (!routeNames.contains(key.routes[i].toUtf8())) {
                reader.fail(keyNode["routes"][i],
                            DocumentReader::indexed(keyField + QStringLiteral(".routes"), static_cast<std::size_t>(i)),
                            QStringLiteral("unknown route '%1'").arg(key.routes[i]));
            }
        }
    }
}

Policy parseDocument(const DocumentReader &reader, const YAML::Node &root)
{
    Policy policy;
    if (!root || root.IsNull()) {
        return policy;
    }
    reader.requireMap(root, QString());
    reader.checkKeys(root, QString(),
                     {"gateway", "request_log", "routing", "admission", "governance", "redaction", "prices", "providers",
                      "routes", "teams", "virtual_keys", "tracing", "mcp_servers"});
    if (root["gateway"]) {
        policy.gateway = parseGateway(reader, root["gateway"]);
    }
    if (root["request_log"]) {
        const YAML::Node node = root["request_log"];
        const QString field = QStringLiteral("request_log");
        reader.requireMap(node, field);
        reader.checkKeys(node, field, {"enabled", "retention_days", "max_rows"});
        if (node["enabled"]) {
            policy.requestLog.enabled = reader.boolean(node["enabled"], QStringLiteral("request_log.enabled"));
        }
        if (node["retention_days"]) {
            policy.requestLog.retentionDays =
                static_cast<int>(reader.integer(node["retention_days"], QStringLiteral("request_log.retention_days"), 0, 36500));
        }
        if (node["max_rows"]) {
            policy.requestLog.maxRows =
                reader.integer(node["max_rows"], QStringLiteral("request_log.max_rows"), 0, 1000000000000LL);
        }
    }
    if (root["routing"]) {
        policy.routing = parseRoutingSettings(reader, root["routing"]);
    }
    if (root["admission"]) {
        policy.admission = parseAdmission(reader, root["admission"]);
    }
    if (root["governance"]) {
        policy.governance = parseGovernanceSettings(reader, root["governance"]);
    }
    if (root["redaction"]) {
        policy.redaction = parseRedaction(reader, root["redaction"]);
    }
    if (root["tracing"]) {
        policy.tracing = parseTracing(reader, root["tracing"]);
    }
    if (root["prices"]) {
        policy.prices = parsePrices(reader, root["prices"], QStringLiteral("prices"));
    }
    if (root["providers"]) {
        reader.requireSequence(root["providers"], QStringLiteral("providers"));
        for (std::size_t i = 0; i < root["providers"].size(); ++i) {
            policy.providers.push_back(
                parseProvider(reader, root["providers"][i], DocumentReader::indexed(QStringLiteral("providers"), i)));
        }
    }
    if (root["routes"]) {
        reader.requireSequence(root["routes"], QStringLiteral("routes"));
        for (std::size_t i = 0; i < root["routes"].size(); ++i) {
            policy.routes.push_back(parseRoute(reader, root["routes"][i], DocumentReader::indexed(QStringLiteral("routes"), i)));
        }
    }
    if (root["teams"]) {
        reader.requireSequence(root["teams"], QStringLiteral("teams"));
        for (std::size_t i = 0; i < root["teams"].size(); ++i) {
            policy.teams.push_back(parseTeam(reader, root["teams"][i], DocumentReader::indexed(QStringLiteral("teams"), i)));
        }
    }
    if (root["virtual_keys"]) {
        reader.requireSequence(root["virtual_keys"], QStringLiteral("virtual_keys"));
        for (std::size_t i = 0; i < root["virtual_keys"].size(); ++i) {
            policy.virtualKeys.push_back(
                parseVirtualKey(reader, root["virtual_keys"][i], DocumentReader::indexed(QStringLiteral("virtual_keys"), i)));
        }
    }
    if (root["mcp_servers"]) {
        policy.mcpServers = parseMcpServers(reader, root["mcp_servers"]);
    }
    validateReferences(reader, root, policy);
    validateMcpReferences(reader, root, policy);
    validateRuleReferences(reader, root, policy);
    validateConcurrencyCaps(reader, root, policy);
    validatePrefillDecode(reader, root, policy);
    validateGovernanceReferences(reader, root, policy);
    validateResidency(reader, root, policy);
    validateFirewallReferences(reader, root, policy);
    validateCacheReferences(reader, root, policy);
    return policy;
}

} // namespace

EnvLookup processEnvironment()
{
    return [](const QString &name) -> std::optional<QByteArray> {
        const QByteArray key = name.toLocal8Bit();
        if (!qEnvironmentVariableIsSet(key.constData())) {
            return std::nullopt;
        }
        return qgetenv(key.constData());
    };
}

Expected<Policy, ConfigError> parsePolicy(const QByteArray &yaml, const QString &sourceName, const EnvLookup &env)
{
    const DocumentReader reader {sourceName, env};
    try {
        const YAML::Node root = YAML::Load(yaml.toStdString());
        return parseDocument(reader, root);
    } catch (const ParseFailure &failure) {
        return Unexpected {failure.error};
    } catch (const YAML::Exception &exception) {
        ConfigError error;
        error.source = sourceName;
        if (exception.mark.line >= 0) {
            error.line = exception.mark.line + 1;
            error.column = exception.mark.column + 1;
        }
        error.message = QString::fromStdString(exception.msg);
        return Unexpected {error};
    }
}

Expected<Policy, ConfigError> loadPolicyFile(const QString &path, const EnvLookup &env)
{
    QFile file {path};
    if (!file.open(QIODevice::ReadOnly)) {
        ConfigError error;
        error.source = path;
        error.message = QStringLiteral("cannot read file: %1").arg(file.errorString());
        return Unexpected {error};
    }
    return parsePolicy(file.readAll(), path, env);
}

} // namespace Gateway::Config
