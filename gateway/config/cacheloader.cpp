#include "cacheloader.h"

namespace Gateway::Config {

namespace {

void parseExact(const DocumentReader &reader, const YAML::Node &node, const QString &field, Cache::ExactCacheSettings &exact)
{
    reader.requireMap(node, field);
    reader.checkKeys(node, field, {"ttl_ms", "max_entries", "max_bytes"});
    exact.enabled = true;
    if (node["ttl_ms"]) {
        exact.ttlMs = reader.integer(node["ttl_ms"], field + QStringLiteral(".ttl_ms"), 1, Cache::MAX_CACHE_TTL_MS);
    }
    if (node["max_entries"]) {
        exact.maxEntries = reader.integer(node["max_entries"], field + QStringLiteral(".max_entries"), 1, Cache::MAX_CACHE_ENTRIES);
    }
    if (node["max_bytes"]) {
        exact.maxBytes = reader.integer(node["max_bytes"], field + QStringLiteral(".max_bytes"), 1024, Cache::MAX_CACHE_BYTES);
    }
}

void parseSemantic(const DocumentReader &reader, const YAML::Node &node, const QString &field,
                   Cache::SemanticCacheSettings &semantic)
{
    reader.requireMap(node, field);
    reader.checkKeys(node, field, {"embeddings_route", "threshold", "ttl_ms", "max_entries"});
    semantic.enabled = true;
    semantic.embeddingsRoute = reader.requiredString(node, "embeddings_route", field).toUtf8();
    if (node["threshold"]) {
        semantic.threshold = reader.number(node["threshold"], field + QStringLiteral(".threshold"), 0.0, 1.0);
        if (semantic.threshold <= 0.0) {
            reader.fail(node["threshold"], field + QStringLiteral(".threshold"),
                        QStringLiteral("must be greater than 0 (a cosine similarity; 0.9-0.98 is typical)"));
        }
    }
    if (node["ttl_ms"]) {
        semantic.ttlMs = reader.integer(node["ttl_ms"], field + QStringLiteral(".ttl_ms"), 1, Cache::MAX_CACHE_TTL_MS);
    }
    if (node["max_entries"]) {
        semantic.maxEntries =
            reader.integer(node["max_entries"], field + QStringLiteral(".max_entries"), 1, Cache::MAX_CACHE_ENTRIES);
    }
}

} // namespace

void parseRouteCache(const DocumentReader &reader, const YAML::Node &routeNode, const QString &field, Route &route)
{
    const YAML::Node node = routeNode["cache"];
    if (!node) {
        return;
    }
    const QString cacheField = field + QStringLiteral(".cache");
    reader.requireMap(node, cacheField);
    reader.checkKeys(node, cacheField, {"exact", "semantic", "scope"});
    if (!node["exact"] && !node["semantic"]) {
        reader.fail(node, cacheField, QStringLiteral("give exact: {...}, semantic: {...} or both (leave cache out to cache nothing)"));
    }
    if (node["exact"]) {
        parseExact(reader, node["exact"], cacheField + QStringLiteral(".exact"), route.cache.exact);
    }
    if (node["semantic"]) {
        parseSemantic(reader, node["semantic"], cacheField + QStringLiteral(".semantic"), route.cache.semantic);
    }
    if (node["scope"]) {
        const QString scopeField = cacheField + QStringLiteral(".scope");
        const QString name = reader.string(node["scope"], scopeField);
        const auto scope = Cache::parseCacheScope(name);
        if (!scope) {
            reader.fail(node["scope"], scopeField, QStringLiteral("unknown scope '%1' (allowed: key, team, global)").arg(name));
        }
        route.cache.scope = *scope;
    }
}

void validateCacheReferences(const DocumentReader &reader, const YAML::Node &root, const Policy &policy)
{
    for (std::size_t r = 0; r < policy.routes.size(); ++r) {
        const Route &route = policy.routes[r];
        if (!route.cache.semantic.enabled) {
            continue;
        }
        const YAML::Node node = root["routes"][r]["cache"]["semantic"]["embeddings_route"];
        const QString field = DocumentReader::indexed(QStringLiteral("routes"), r) + QStringLiteral(".cache.semantic.embeddings_route");
        const QByteArray &name = route.cache.semantic.embeddingsRoute;
        if (name == route.model) {
            reader.fail(node, field, QStringLiteral("must name another route, one that serves /v1/embeddings"));
        }
        const bool exists = std::any_of(policy.routes.begin(), policy.routes.end(),
                                        [&name](const Route &candidate) { return candidate.model == name; });
        if (!exists) {
            reader.fail(node, field, QStringLiteral("no route named '%1'").arg(QString::fromUtf8(name)));
        }
    }
}

} // namespace Gateway::Config
