#pragma once

#include <QByteArray>
#include <QLatin1String>
#include <QString>

#include <optional>

namespace Gateway::Cache {

// Whose answers a cached entry may be served to: the same virtual key, any key of the
// same team, or every client of the route.
enum class CacheScope { Key, Team, Global };

QLatin1String cacheScopeName(CacheScope scope);
std::optional<CacheScope> parseCacheScope(const QString &name);

inline constexpr qint64 MAX_CACHE_TTL_MS = 30LL * 24 * 3600 * 1000; // 30 days
inline constexpr qint64 MAX_CACHE_ENTRIES = 10'000'000;
inline constexpr qint64 MAX_CACHE_BYTES = 64LL * 1024 * 1024 * 1024;

// routes[].cache.exact: answers keyed by the normalised request (docs/CACHE.md).
struct ExactCacheSettings {
    bool enabled = false;
    qint64 ttlMs = 300000;
    qint64 maxEntries = 10000;
    qint64 maxBytes = 64LL * 1024 * 1024;

    bool operator==(const ExactCacheSettings &) const = default;
};

// routes[].cache.semantic: answers found by the cosine similarity of the last user
// message's embedding, computed on `embeddingsRoute`.
struct SemanticCacheSettings {
    bool enabled = false;
    QByteArray embeddingsRoute;
    double threshold = 0.95;
    qint64 ttlMs = 3600000;
    qint64 maxEntries = 5000;

    bool operator==(const SemanticCacheSettings &) const = default;
};

// routes[].cache: absent = the route caches nothing.
struct RouteCacheSettings {
    ExactCacheSettings exact {};
    SemanticCacheSettings semantic {};
    CacheScope scope = CacheScope::Key;

    bool isEnabled() const { return exact.enabled || semantic.enabled; }
    bool operator==(const RouteCacheSettings &) const = default;
};

} // namespace Gateway::Cache
